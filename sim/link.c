#include "sim/link.h"

#include <string.h>

#include "tcpbed/prng.h"
#include "tcpbed/wire.h"

void link_model_init(struct link_model *l, const char *from, const char *to, uint64_t run_seed, uint64_t index) {
    memset(l, 0, sizeof(*l));
    fault_stage_init(&l->faults, from, to, run_seed, index);
    sim_rng_seed(&l->rng_jitter, tb_derive_seed(run_seed, "link-jitter", index));
    sim_rng_seed(&l->rng_red, tb_derive_seed(run_seed, "link-red", index));
}

void link_model_set_params(struct link_model *l, const struct sim_link_params *p) {
    l->p = *p;
    l->faults.p = (struct fault_random){.loss = p->loss, .ge = p->ge, .ge_p_gb = p->ge_p_gb, .ge_p_bg = p->ge_p_bg,
                                        .ge_loss_good = p->ge_loss_good, .ge_loss_bad = p->ge_loss_bad,
                                        .reorder = p->reorder, .duplicate = p->duplicate, .corrupt = p->corrupt};
}

/* Reports one event on a frame; a fault is named as the spec that
 * reproduces it. */
static void note(struct link_model *l, const struct link_env *env, tb_time_ns now, const char *event,
                 const struct frame_class *c, size_t len, enum fault_action action, tb_time_ns delay_ns, int64_t bit,
                 bool is_fault) {
    if (env->note == NULL) return;
    char spec[160] = "";
    if (is_fault)
        fault_name_frame(&l->faults.tracker, l->faults.from, l->faults.to, c, action, delay_ns, bit, spec, sizeof(spec));
    env->note(env->note_ctx, l, now, event, c, len, is_fault ? spec : NULL);
}

/* RFC 3168 §5: CE is 11 in the IP header's ECN field; only ECT frames
 * (01 or 10) may be marked. The IP checksum is patched (RFC 1624). */
static bool mark_ce(uint8_t *f, size_t len) {
    struct tb_eth_view eth;
    if (tb_view_eth(f, len, &eth) != TB_WIRE_OK || eth.ethertype != TB_ETHERTYPE_IPV4 ||
        eth.payload_len < TB_IPV4_HDR_LEN)
        return false;
    /* The queue reads the ECN bits where they sit, without judging the rest
     * of the header: a frame damaged earlier on the link is marked like any
     * other, and its receiver finds the damage. */
    uint8_t tos = eth.payload[TB_IPV4_TOS_OFF];
    if ((tos & 3) == 0 || (tos & 3) == 3) return false;
    tb_ipv4_rewrite_tos(f + TB_ETH_HDR_LEN, (uint8_t)(tos | 3));
    return true;
}

bool link_model_offer(struct link_model *l, const struct link_env *env, tb_time_ns now, uint8_t *frame, size_t len,
                      struct link_delivery *out) {
    uint64_t index = l->index++;
    l->stats.offered++;
    const struct sim_link_params *p = &l->p;
    struct fault_frame ff;
    fault_stage_observe(&l->faults, frame, len, env->names_frames, &ff);
    const struct frame_class *c = &ff.c;
    double u_jitter = sim_rng_uniform(&l->rng_jitter);

    if (l->drop_hook != NULL && l->drop_hook(l->drop_ctx, index, frame, len)) {
        l->stats.hook_drops++;
        return false;
    }
    uint16_t mtu = p->mtu ? p->mtu : 1500;
    if (len > (size_t)mtu + TB_ETH_HDR_LEN) {
        l->stats.mtu_drops++;
        note(l, env, now, "mtu-drop", c, len, FA_DROP, 0, -1, false);
        return false;
    }
    struct fault_verdict v;
    fault_stage_decide(&l->faults, env->specs, env->nspecs, now, &ff, len, &v);
    switch (v.outcome) {
    case FO_BLACKOUT:
        l->stats.blackout_drops++;
        note(l, env, now, "blackout", c, len, FA_DROP, 0, -1, true);
        return false;
    case FO_DROP:
    case FO_LOSS:
        if (v.outcome == FO_DROP) l->stats.fault_drops++;
        else l->stats.loss_drops++;
        note(l, env, now, v.outcome == FO_DROP ? "drop" : "loss", c, len, FA_DROP, 0, -1, true);
        return false;
    case FO_PASS: break;
    }
    if (v.flip_bit >= 0) {
        frame[v.flip_bit / 8] ^= (uint8_t)(1u << (v.flip_bit % 8));
        l->stats.corrupted++;
        note(l, env, now, "corrupt", c, len, FA_CORRUPT, 0, v.flip_bit, true);
    }
    tb_time_ns start = l->busy_until > now ? l->busy_until : now;
    tb_time_ns serialise_ns = 0;
    if (p->rate_bps > 0) {
        /* Bytes already waiting = backlog time x rate; the queue bounds them. */
        uint64_t backlog_bytes = (uint64_t)(start - now) * p->rate_bps / 8 / (uint64_t)TB_NS_PER_S;
        if (p->queue_bytes > 0 && backlog_bytes + len > p->queue_bytes) {
            l->stats.queue_drops++;
            note(l, env, now, "queue-drop", c, len, FA_DROP, 0, -1, false);
            return false;
        }
        if (p->qdisc == SIM_QDISC_RED && p->red_max_bytes > p->red_min_bytes) {
            /* RED (Floyd & Jacobson 1993): an EWMA of the queue decides
             * early drops (or CE marks for ECT frames). */
            l->red_avg = 0.998 * l->red_avg + 0.002 * (double)backlog_bytes;
            double prob = 0;
            if (l->red_avg >= p->red_max_bytes) prob = 1;
            else if (l->red_avg > p->red_min_bytes)
                prob = p->red_max_p * (l->red_avg - p->red_min_bytes) / (p->red_max_bytes - p->red_min_bytes);
            if (prob > 0 && sim_rng_uniform(&l->rng_red) < prob) {
                if (mark_ce(frame, len)) {
                    l->stats.ecn_marked++;
                    note(l, env, now, "ce-mark", c, len, FA_DROP, 0, -1, false);
                } else {
                    l->stats.red_drops++;
                    note(l, env, now, "red-drop", c, len, FA_DROP, 0, -1, false);
                    return false;
                }
            }
        }
        if (p->ecn_mark_bytes > 0 && backlog_bytes > p->ecn_mark_bytes && mark_ce(frame, len)) {
            l->stats.ecn_marked++;
            note(l, env, now, "ce-mark", c, len, FA_DROP, 0, -1, false);
        }
        serialise_ns = (tb_time_ns)(((uint64_t)len * 8 * (uint64_t)TB_NS_PER_S + p->rate_bps - 1) / p->rate_bps);
    }
    l->busy_until = start + serialise_ns;
    tb_time_ns arrival = l->busy_until + p->delay_ns;
    if (p->jitter_ns > 0) {
        arrival += (tb_time_ns)(u_jitter * (double)p->jitter_ns);
        if (p->jitter_keep_order && arrival < l->last_arrival) arrival = l->last_arrival;
    }
    if (v.extra_delay_ns > 0) {
        l->stats.delayed++;
        note(l, env, now, "delay", c, len, FA_DELAY, v.extra_delay_ns, -1, true);
        arrival += v.extra_delay_ns;
    }
    if (v.reorder) {
        tb_time_ns hold = p->reorder_delay_ns > 0 ? p->reorder_delay_ns : 2 * serialise_ns + TB_NS_PER_MS;
        l->stats.reordered++;
        note(l, env, now, "reorder", c, len, FA_DELAY, hold, -1, true);
        arrival += hold;
    }
    if (arrival > l->last_arrival) l->last_arrival = arrival;
    out->duplicate = v.duplicate;
    if (v.duplicate) {
        l->stats.duplicated++;
        note(l, env, now, "duplicate", c, len, FA_DUPLICATE, 0, -1, true);
    }
    out->arrival_ns = arrival;
    return true;
}
