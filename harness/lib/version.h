/* The tcpbed version, one definition for the CLI and for the files it
 * writes (a run-log's header names the version that recorded it). */
#ifndef TB_LIB_VERSION_H
#define TB_LIB_VERSION_H

#define TCPBED_VERSION "0.1.0"

#endif
