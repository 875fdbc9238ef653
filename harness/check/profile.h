/* harness/check: the profiles, the configurations scripts run against
 * (`tcpbed check --profile`, the packetdrill plug-in's profile= flag). */
#ifndef TB_HARNESS_CHECK_PROFILE_H
#define TB_HARNESS_CHECK_PROFILE_H

#include <stdbool.h>

#include "tcpbed/tcpbed.h"

/* The configuration a script runs against (docs/conformance.md lists every
 * knob). RFC: tcpbed's defaults with the RFCs' recommended values where
 * tcpbed's differ (RTO floor 1 s, RFC 6298 §2.4). LINUX: Linux's defaults
 * where the RFCs allow them, so scripts written for Linux run as written. */
enum tb_check_profile { TB_CHECK_PROFILE_RFC = 0, TB_CHECK_PROFILE_LINUX };

/* "rfc" or "linux" -> profile; false if unknown. */
bool tb_check_profile_parse(const char *name, enum tb_check_profile *out);
const char *tb_check_profile_name(enum tb_check_profile p);
/* tb_config_default with the profile's knobs set over it. */
void tb_check_profile_config(enum tb_check_profile p, struct tb_config *cfg);

#endif
