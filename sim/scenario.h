/* Scenario files: a topology, its flows and faults in one INI file
 * (docs/scenarios.md). Parsed with inih; every error names its line. */
#ifndef TB_SIM_SCENARIO_H
#define TB_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/topology.h"

/* Loads path into t (after topo_init). False with err ("file:line: ...")
 * on the first error. */
bool scenario_load(const char *path, struct topo *t, char *err, size_t err_len);

#endif
