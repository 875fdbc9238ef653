/* Fuzz target `runlog`: the run-log reader and replay (harness/replay) on
 * arbitrary bytes: a fresh host built from whatever configuration the
 * header holds, driven by whatever passes, frames, ticks and calls follow.
 *
 * Input: the bytes of a run-log (seeds: small recorded sim bulk runs).
 *
 * Properties (abort() on a violation):
 *   - the reader reads only inside [p, p+len) (ASan: an exact-size copy)
 *     and never crashes or hangs, whatever the block lengths say;
 *   - replay ends in one of its outcomes, every outcome but identical with
 *     a message (a divergence also with its field), never a stack
 *     assertion: a core driven only through the host's calls must not
 *     break, whatever the calls;
 *   - a second replay of the same bytes gives the same outcome, counts and
 *     message (no clock, no entropy, no state carried between runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "harness/replay/replay.h"

#define CHECK(cond, ...)                                                                             \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "runlog: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                            \
            fprintf(stderr, "\n");                                                                   \
            abort();                                                                                 \
        }                                                                                            \
    } while (0)

/* Small stacks only: a header may ask for any size, and the fuzzer's
 * budget is memory and time per input, not the stack's own bounds. */
static bool small_config(const struct tb_config *c, char *why, size_t len) {
    if (c->buf_count > 4096 || c->buf_size > 4096 || c->tcp_max_conns > 64 || c->tcp_max_listeners > 16 ||
        c->tx_queue_len > 4096 || c->event_queue_len > 4096 || c->arp_cache_entries > 256 ||
        c->arp_pending_max > 1024 || c->tcp_seg_records > 8192 || c->ip_reass_max_datagrams > 64 ||
        c->tcp_sndbuf_bytes > (1u << 20) || c->tcp_rcvbuf_bytes > (1u << 20) || c->tcp_syn_queue_len > 256 ||
        c->tcp_accept_queue_len > 256) {
        snprintf(why, len, "a configuration beyond the fuzz target's memory bound");
        return false;
    }
    return true;
}

int fuzz_one(const uint8_t *data, size_t len) {
    struct tb_replay_opts o = {.data = data, .len = len, .config_ok = small_config, .max_call_bytes = 1u << 20};
    static struct tb_replay_result a, b;
    tb_replay_run(&o, &a);
    CHECK(a.status <= TB_REPLAY_UNSUPPORTED, "status %d", (int)a.status);
    if (a.status != TB_REPLAY_IDENTICAL) CHECK(a.error[0] != '\0', "%s without a message", tb_replay_status_name(a.status));
    if (a.status == TB_REPLAY_DIVERGED) CHECK(a.divergence.message[0] != '\0', "a divergence without a message");
    CHECK(a.frames == a.frames_in + a.frames_out, "%llu frames, %llu in, %llu out", (unsigned long long)a.frames,
          (unsigned long long)a.frames_in, (unsigned long long)a.frames_out);
    tb_replay_run(&o, &b);
    CHECK(a.status == b.status && a.frames == b.frames && a.passes == b.passes && a.calls == b.calls &&
              a.ticks == b.ticks && strcmp(a.error, b.error) == 0,
          "two replays differ: '%s' then '%s'", a.error, b.error);
    return 0;
}
