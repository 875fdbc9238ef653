/* tcpbed fuzz-to-pcap: replays one `stack` or `faults` fuzz input (a crash
 * from build/fuzz/findings/, a regression from fuzz/regressions/, a corpus
 * file) through the same decoder the fuzz target uses (harness/fuzzin/fuzz_inputs.c)
 * and writes what crossed the wire as a pcap for Wireshark.
 *
 *   tcpbed fuzz-to-pcap INPUT [--target stack|faults] [--out FILE.pcap]
 *
 * stack:  every frame into and out of the one stack, at its virtual time.
 *         Written with a flush per frame, so the capture survives a broken
 *         assertion that aborts the replay.
 * faults: host A's capture of the bulk transfer (sim_bulk_opts.pcap_path),
 *         and the `tcpbed sim bulk ... --fault '...'` line that reproduces
 *         the run (printed before the run starts).
 * Exit status: 0 when every property held, 1 when one was violated (the
 * pcap is written all the same), 2 for a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "harness/fuzzin/fuzz_inputs.h"
#include "traces/pcap_writer.h"

#define MAX_INPUT (1u << 20)

/* Every frame goes to the pcap at once (libpcap, flushed per record), so
 * the capture survives a broken assertion that aborts the replay. */
struct flushed_pcap {
    struct tb_pcap_writer *w;
    bool failed;
};

static void pcap_frame(void *ctx, tb_time_ns now, bool inbound, const uint8_t *frame, size_t len) {
    (void)inbound;
    struct flushed_pcap *fp = ctx;
    tb_pcap_write(fp->w, now, frame, len);
    if (tb_pcap_flush(fp->w) != 0) fp->failed = true;
}

static const char *guess_target(const char *path) {
    if (strstr(path, "faults") != NULL) return "faults";
    if (strstr(path, "stack") != NULL) return "stack";
    return NULL;
}

int cmd_fuzz_to_pcap(int argc, char **argv) {
    const char *input = NULL, *target = NULL, *out = NULL;
    if (argc >= 1 && argv[0][0] != '-') {
        input = argv[0];
        argc--;
        argv++;
    }
    const struct opt opts[] = {
        {"target", OPT_STRING, &target, "NAME", "stack or faults (default: guessed from the path)", 0, 0},
        {"out", OPT_STRING, &out, "FILE", "the pcap to write (default: INPUT's file name + .pcap, here)", 0, 0},
    };
    static const char summary[] =
        "Replays a `stack` or `faults` fuzz input and writes a pcap: for stack every frame in\n"
        "and out of the stack, for faults host A's capture of the bulk transfer, plus the\n"
        "`tcpbed sim bulk` command line that reproduces it. Exits 1 if a property fails.\n"
        "usage: tcpbed fuzz-to-pcap INPUT [--target stack|faults] [--out FILE.pcap]";
    int rc = opts_parse("tcpbed fuzz-to-pcap", summary, opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (input == NULL) {
        fprintf(stderr, "tcpbed fuzz-to-pcap: expected an INPUT file\nTry 'tcpbed fuzz-to-pcap --help'.\n");
        return 2;
    }
    if (target == NULL) target = guess_target(input);
    if (target == NULL || (strcmp(target, "stack") != 0 && strcmp(target, "faults") != 0)) {
        fprintf(stderr,
                "tcpbed fuzz-to-pcap: --target: expected stack or faults, got '%s'%s\n"
                "Try 'tcpbed fuzz-to-pcap --help'.\n",
                target ? target : "", target ? "" : " (the path names neither)");
        return 2;
    }
    FILE *f = fopen(input, "rb");
    if (f == NULL) {
        fprintf(stderr, "tcpbed fuzz-to-pcap: cannot read '%s'\n", input);
        return 1;
    }
    uint8_t *data = malloc(MAX_INPUT);
    if (data == NULL) {
        fclose(f);
        return 1;
    }
    size_t len = fread(data, 1, MAX_INPUT, f);
    bool too_big = fgetc(f) != EOF;
    fclose(f);
    if (too_big) {
        fprintf(stderr, "tcpbed fuzz-to-pcap: '%s' is larger than %u bytes, the fuzz targets' bound\n", input, MAX_INPUT);
        free(data);
        return 2;
    }
    char out_buf[1024];
    if (out == NULL) {
        const char *base = strrchr(input, '/');
        snprintf(out_buf, sizeof(out_buf), "%s.pcap", base != NULL ? base + 1 : input);
        out = out_buf;
    }
    char why[320] = "";
    bool ok;
    if (strcmp(target, "stack") == 0) {
        char err[256];
        struct flushed_pcap w = {.w = tb_pcap_open(out, err, sizeof(err))};
        if (w.w == NULL) {
            fprintf(stderr, "tcpbed fuzz-to-pcap: %s\n", err);
            free(data);
            return 1;
        }
        struct fz_stack_report rep;
        ok = fz_stack_run(data, len, pcap_frame, &w, &rep, why, sizeof(why));
        uint64_t frames = tb_pcap_frames(w.w);
        if (tb_pcap_close(w.w, err, sizeof(err)) != 0 || w.failed) {
            fprintf(stderr, "tcpbed fuzz-to-pcap: writing '%s' failed\n", out);
            free(data);
            return 1;
        }
        printf("stack input %s: %zu bytes, %llu steps, %llu frames in, %llu out, application sent %llu and read %llu "
               "bytes, %.6f s of virtual time\n",
               input, len, (unsigned long long)rep.steps, (unsigned long long)rep.frames_in,
               (unsigned long long)rep.frames_out, (unsigned long long)rep.bytes_sent,
               (unsigned long long)rep.bytes_received, (double)rep.end_ns / 1e9);
        printf("pcap: %s (%llu frames, both directions)\n", out, (unsigned long long)frames);
    } else {
        struct fz_faults_case *c = malloc(sizeof(*c));
        struct sim_bulk_result *r = malloc(sizeof(*r));
        if (c == NULL || r == NULL) {
            free(c);
            free(r);
            free(data);
            return 1;
        }
        fz_faults_decode(data, len, c);
        char repro[2048];
        fz_faults_repro(c, repro, sizeof(repro));
        printf("faults input %s: %zu bytes, %zu fault(s)\n", input, len, c->spec_count);
        for (size_t i = 0; i < c->spec_count; i++) printf("  --fault '%s'\n", c->specs[i]);
        printf("reproduce with: %s --pcap %s\n", repro, out);
        fflush(stdout);
        c->opts.pcap_path = out;
        int run_rc = sim_bulk_run(&c->opts, r);
        ok = fz_faults_check(c, run_rc, r, why, sizeof(why));
        if (run_rc == 0)
            printf("run: %s; A sent %llu, B read %llu bytes, %llu retransmits, %llu faults fired, %.3f s virtual\n",
                   r->integrity, (unsigned long long)r->sent_bytes, (unsigned long long)r->delivered_bytes,
                   (unsigned long long)r->retransmits, (unsigned long long)r->faults_fired,
                   (double)r->sim_time_ns / 1e9);
        printf("pcap: %s (%llu frames, host A)\n", out, (unsigned long long)r->pcap_frames);
        free(c);
        free(r);
    }
    free(data);
    if (ok) {
        printf("result: every property held\n");
        return 0;
    }
    printf("result: property violated: %s\n", why);
    return 1;
}
