/* tcpbed: the command-line front-end. `tcpbed help` lists the commands;
 * every command answers --help. */
#include <stdio.h>
#include <string.h>

#include "harness/cli/cli.h"

static void usage_sim(FILE *f) {
    fprintf(f,
            "usage: tcpbed sim <scenario> [options]\n\n"
            "Runs a scenario in the simulator: virtual time, virtual NICs, fully reproducible.\n\n"
            "scenarios:\n"
            "  ping     two hosts, ARP then ICMP echo (tcpbed sim ping --help)\n"
            "  bulk     a TCP transfer from A to B, every byte checked (tcpbed sim bulk --help)\n"
            "  dumbbell N senders, two routers and a bottleneck, N receivers (tcpbed sim dumbbell --help)\n"
            "  run      a scenario file: hosts, routers, links, flows, faults (tcpbed sim run --help)\n");
}

static int cmd_sim(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "help") == 0) {
        usage_sim(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "ping") == 0) return cmd_sim_ping(argc - 1, argv + 1);
    if (strcmp(argv[0], "bulk") == 0) return cmd_sim_bulk(argc - 1, argv + 1);
    if (strcmp(argv[0], "dumbbell") == 0) return cmd_sim_dumbbell(argc - 1, argv + 1);
    if (strcmp(argv[0], "run") == 0) return cmd_sim_run(argc - 1, argv + 1);
    fprintf(stderr, "tcpbed sim: unknown scenario '%s' (expected: ping, bulk, dumbbell, run)\nTry 'tcpbed sim --help'.\n",
            argv[0]);
    return 2;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: tcpbed <command> [options]\n\n"
            "tcpbed: a deterministic user-space TCP/IP stack and the testbed around it.\n\n"
            "commands:\n"
            "  sim       run a simulated scenario (tcpbed sim --help)\n"
            "  tap       run the stack on a Linux TAP device with an application (tcpbed tap --help)\n"
            "  check     run packetdrill-language scripts in exact virtual time (tcpbed check --help)\n"
            "  sweep     run a scenario over many seeds in parallel (tcpbed sweep --help)\n"
            "  shrink    reduce a failing run to its few essential faults (tcpbed shrink --help)\n"
            "  plot      draw a run as SVG: time-sequence graph, cwnd, srtt (tcpbed plot --help)\n"
            "  wire      a real-time link between two interfaces with the simulator's faults (tcpbed wire --help)\n"
            "  fuzz-to-pcap  turn a stack or faults fuzz input into a pcap (tcpbed fuzz-to-pcap --help)\n"
            "  replay    feed a run-log to a fresh core and compare every frame (tcpbed replay --help)\n"
            "  version   print the version\n"
            "  help      show this help\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tcpbed %s\n", TCPBED_VERSION);
        return 0;
    }
    if (strcmp(cmd, "sim") == 0) return cmd_sim(argc - 2, argv + 2);
    if (strcmp(cmd, "tap") == 0) return cmd_tap(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "sweep") == 0) return cmd_sweep(argc - 2, argv + 2);
    if (strcmp(cmd, "shrink") == 0) return cmd_shrink(argc - 2, argv + 2);
    if (strcmp(cmd, "plot") == 0) return cmd_plot(argc - 2, argv + 2);
    if (strcmp(cmd, "wire") == 0) return cmd_wire(argc - 2, argv + 2);
    if (strcmp(cmd, "fuzz-to-pcap") == 0) return cmd_fuzz_to_pcap(argc - 2, argv + 2);
    if (strcmp(cmd, "replay") == 0) return cmd_replay(argc - 2, argv + 2);
    fprintf(stderr, "tcpbed: unknown command '%s'\nTry 'tcpbed help'.\n", cmd);
    return 2;
}
