/* Faults on a link direction: random ones (loss, Gilbert-Elliott bursts,
 * reordering, duplication, corruption, each from its own seeded stream)
 * and targeted ones that name packets exactly, written in the grammar of
 * docs/faults.md:
 *
 *   drop A>B tcp data #3            the 3rd data segment from A to B
 *   drop A>B tcp retransmit seq=1449  every retransmission of relative seq 1449
 *   drop B>A tcp ack #10-12          pure ACKs 10 to 12 from B
 *   blackout A<>B 1.2s..1.5s         nothing crosses either way in that window
 *   delay A>B tcp syn 3s             hold A's SYN back 3 s
 *   duplicate A>B tcp data #5        deliver it twice
 *   corrupt A>B tcp data #7 bit=100  flip bit 100 of the frame
 *
 * A fault that fires is recorded as the targeted spec that reproduces it
 * exactly, which is what `tcpbed shrink` minimises. */
#ifndef TB_SIM_FAULTS_H
#define TB_SIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"
#include "tcpbed/time.h"

enum fault_action { FA_DROP, FA_DELAY, FA_DUPLICATE, FA_CORRUPT, FA_BLACKOUT };

/* What a frame is, for counting and matching. */
enum fault_kind {
    FK_ANY = 0,     /* any frame (with proto "any") or any segment (with "tcp") */
    FK_SYN,         /* SYN without ACK */
    FK_SYNACK,
    FK_FIN,
    FK_RST,
    FK_DATA,        /* carries payload */
    FK_ACK,         /* pure ACK: no payload, no SYN/FIN/RST */
    FK_RETRANSMIT,  /* data, SYN or FIN at a sequence number seen before */
    FK__COUNT
};
enum fault_proto { FP_ANY = 0, FP_TCP, FP_ARP, FP_ICMP, FP__COUNT };

struct fault_spec {
    enum fault_action action;
    char from[16], to[16];       /* host names: the link from -> to */
    bool both_ways;              /* X<>Y */
    enum fault_proto proto;
    enum fault_kind kind;
    uint64_t first, last;        /* match numbers, from 1; 0..0 = every match */
    bool has_seq;
    uint32_t seq;                /* relative to the flow's ISN, as Wireshark shows */
    tb_time_ns from_ns, until_ns;   /* blackout window [from, until) */
    tb_time_ns delay_ns;         /* FA_DELAY */
    int64_t bit;                 /* FA_CORRUPT: which bit; -1 = a random one */
    uint64_t matched[2];         /* per direction: frames that matched the selector */
    uint64_t fired;
};

/* Parses one spec; on error returns false with err naming the word at fault
 * and what was expected. */
bool fault_parse(const char *text, struct fault_spec *out, char *err, size_t err_len);
/* Writes the canonical text of a spec (round-trips through fault_parse). */
void fault_format(const struct fault_spec *f, char *buf, size_t len);

/* What the link knows about a frame. */
struct frame_class {
    enum fault_proto proto;
    bool kinds[FK__COUNT];       /* every kind the frame is */
    enum fault_kind primary;     /* the most specific kind, used to name it */
    bool has_seq;
    uint32_t rel_seq;
};

/* Per link direction: per-flow ISNs and highest sequence seen (to tell
 * retransmissions and relative sequence numbers), and counts per kind. */
#define FAULT_MAX_FLOWS 4096
struct fault_flow {
    uint32_t src, dst;
    uint16_t sport, dport;
    bool used, have_isn;
    uint32_t isn, max_end;
};
struct fault_tracker {
    struct fault_flow flows[FAULT_MAX_FLOWS];
    uint64_t kind_count[FP__COUNT][FK__COUNT];
};

void fault_classify(struct fault_tracker *t, const uint8_t *frame, size_t len, struct frame_class *c);
/* Does the spec select this frame? `reverse` says the frame goes to -> from
 * (only possible for X<>Y specs). Counts the match per direction. */
bool fault_match(struct fault_spec *f, bool reverse, const struct frame_class *c, tb_time_ns now);
/* The spec that names exactly this frame, sent from -> to: its primary kind
 * and its number among frames of that kind in that direction. */
void fault_name_frame(const struct fault_tracker *t, const char *from, const char *to, const struct frame_class *c,
                      enum fault_action action, tb_time_ns delay_ns, int64_t bit, char *buf, size_t len);

const char *fault_kind_name(enum fault_kind k);

/* ---- the fault stage: link middleware ---------------------------------------
 * Every fault of one direction of a link, decided frame by frame with no
 * knowledge of the event loop, queues or time beyond `now`: the simulator's
 * links put it in front of their queue, and a real-time link between two
 * interfaces can put it in front of theirs and fire the same faults from
 * the same seeded streams. */

/* The random faults, each a probability per frame in [0, 1]. */
struct fault_random {
    double loss;                  /* Bernoulli */
    bool ge;                      /* Gilbert-Elliott bursts instead of Bernoulli */
    double ge_p_gb, ge_p_bg;      /* P(good -> bad), P(bad -> good) per frame */
    double ge_loss_good, ge_loss_bad;
    double reorder;               /* hold the frame back */
    double duplicate;
    double corrupt;               /* flip one random bit */
};

struct fault_stage {
    const char *from, *to;        /* the direction's ends, as the specs name them */
    struct fault_random p;
    /* One stream per purpose (DESIGN.md §5): adding a fault kind leaves the
     * others' draws unchanged. */
    struct sim_rng rng_loss, rng_burst, rng_reorder, rng_dup, rng_corrupt;
    bool ge_bad;
    struct fault_tracker tracker;
};

/* A frame as the stage saw it: its class and one draw per stream, taken for
 * every frame whatever then happens to it, so one frame's fate never shifts
 * another's draws. */
struct fault_frame {
    struct frame_class c;
    double u_loss, u_burst, u_reorder, u_dup, u_corrupt;
    uint64_t corrupt_bit;
};

enum fault_outcome { FO_PASS, FO_BLACKOUT, FO_DROP, FO_LOSS };

struct fault_verdict {
    enum fault_outcome outcome;   /* DROP: a targeted drop; LOSS: random loss */
    int64_t flip_bit;             /* corrupt this bit; -1: none */
    tb_time_ns extra_delay_ns;    /* targeted delays, summed */
    bool reorder;                 /* hold back by the link's reorder delay */
    bool duplicate;
};

/* `index` names the direction among all the run's streams (link * 2 + dir). */
void fault_stage_init(struct fault_stage *s, const char *from, const char *to, uint64_t run_seed, uint64_t index);
/* Classifies the frame (counting it) and draws every stream once; len > 0.
 * Classification only names frames, for targeted specs and for reporting
 * the faults that fire: a link with neither skips it (classify false) and
 * must then never be given specs nor asked for names, since its counts
 * would have missed frames. */
void fault_stage_observe(struct fault_stage *s, const uint8_t *frame, size_t len, bool classify,
                         struct fault_frame *ff);
/* Decides the frame's faults: the targeted specs that name this direction
 * (in the order given), then the random ones. Matching counts towards each
 * spec's `#N`, so a frame the link refuses before this (too big) is never
 * counted. */
void fault_stage_decide(struct fault_stage *s, struct fault_spec *const *specs, size_t nspecs, tb_time_ns now,
                        const struct fault_frame *ff, size_t len, struct fault_verdict *v);

#endif
