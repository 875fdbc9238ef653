#include "harness/wire/core.h"

#include <stdlib.h>
#include <string.h>

#include "harness/lib/timeq.h"

/* A frame on the wire: the core's own copy, so corruption and CE marks
 * never touch the reader's buffer. Standard-size frames are recycled. */
#define WIRE_SLOT_BYTES 1514
#define WIRE_FREE_SLOTS 4096

struct held_frame {
    struct held_frame *next_free;
    uint32_t len, cap;
    uint8_t bytes[];
};

struct wire_core {
    struct link_model dir[2];
    struct wire_dir_stats stats[2];
    struct fault_spec *specs[256];
    size_t nspecs;
    struct tb_timeq held;             /* (arrival, offer order); arg = direction */
    struct held_frame *free_slots;
    size_t free_count;
    uint64_t faults_fired;
    FILE *fault_csv[2];
    FILE *record_faults;
};

static const char *const proto_word[] = {"any", "tcp", "arp", "icmp"};

/* As the simulator's fault log: one CSV line per event; a fault also as the
 * spec that reproduces it. */
static void note(void *ctx, const struct link_model *l, tb_time_ns now, const char *event, const struct frame_class *fc,
                 size_t len, const char *spec) {
    struct wire_core *c = ctx;
    if (spec != NULL) c->faults_fired++;
    if (spec != NULL && c->record_faults != NULL) fprintf(c->record_faults, "%s\n", spec);
    for (int i = 0; i < 2; i++) {
        FILE *f = c->fault_csv[i];
        if (f == NULL) continue;
        fprintf(f, "%lld,%s,%s,%s,%s,%s,", (long long)now, l->faults.from, l->faults.to, event, proto_word[fc->proto],
                fault_kind_name(fc->primary));
        if (fc->has_seq) fprintf(f, "%u", fc->rel_seq);
        fprintf(f, ",%zu,%s\n", len, spec != NULL ? spec : "");
    }
}

static bool names_end(const char *name) { return strcmp(name, "A") == 0 || strcmp(name, "B") == 0; }

struct wire_core *wire_core_new(const struct wire_core_params *p, char *err, size_t err_len) {
    if (p->nspecs > sizeof(((struct wire_core *)0)->specs) / sizeof(struct fault_spec *)) {
        snprintf(err, err_len, "more than %zu faults", sizeof(((struct wire_core *)0)->specs) / sizeof(struct fault_spec *));
        return NULL;
    }
    for (size_t i = 0; i < p->nspecs; i++) {
        const struct fault_spec *f = p->specs[i];
        if (!names_end(f->from) || !names_end(f->to) || strcmp(f->from, f->to) == 0) {
            snprintf(err, err_len, "fault names %s>%s, but the wire's ends are A (--a) and B (--b): expected A>B, B>A or A<>B",
                     f->from, f->to);
            return NULL;
        }
    }
    struct wire_core *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    /* The simulator's first link, A to B: index 0 and 1, the same streams. */
    link_model_init(&c->dir[0], "A", "B", p->seed, 0);
    link_model_init(&c->dir[1], "B", "A", p->seed, 1);
    link_model_set_params(&c->dir[0], &p->link[0]);
    link_model_set_params(&c->dir[1], &p->link[1]);
    for (size_t i = 0; i < p->nspecs; i++) c->specs[i] = p->specs[i];
    c->nspecs = p->nspecs;
    c->fault_csv[0] = p->fault_csv[0];
    c->fault_csv[1] = p->fault_csv[1];
    c->record_faults = p->record_faults;
    /* Each offer holds at most two entries (a duplicate). */
    tb_timeq_init(&c->held, 4 * WIRE_MAX_HELD + 16);
    for (int i = 0; i < 2; i++)
        if (c->fault_csv[i] != NULL) fprintf(c->fault_csv[i], "time_ns,from,to,event,proto,kind,rel_seq,len,spec\n");
    return c;
}

static struct held_frame *frame_get(struct wire_core *c, size_t len) {
    if (len <= WIRE_SLOT_BYTES && c->free_slots != NULL) {
        struct held_frame *h = c->free_slots;
        c->free_slots = h->next_free;
        c->free_count--;
        h->len = (uint32_t)len;
        return h;
    }
    size_t cap = len <= WIRE_SLOT_BYTES ? WIRE_SLOT_BYTES : len;
    struct held_frame *h = malloc(sizeof(*h) + cap);
    if (h == NULL) return NULL;
    h->cap = (uint32_t)cap;
    h->len = (uint32_t)len;
    return h;
}

static void frame_put(struct wire_core *c, struct held_frame *h) {
    if (h->cap == WIRE_SLOT_BYTES && c->free_count < WIRE_FREE_SLOTS) {
        h->next_free = c->free_slots;
        c->free_slots = h;
        c->free_count++;
        return;
    }
    free(h);
}

static void hold(struct wire_core *c, int dir, tb_time_ns due, struct held_frame *h) {
    c->stats[dir].held++;
    tb_timeq_push(&c->held, due, NULL, h, (uint64_t)dir);
}

void wire_core_offer(struct wire_core *c, int dir, tb_time_ns now, const uint8_t *frame, size_t len) {
    struct wire_dir_stats *s = &c->stats[dir];
    s->frames_in++;
    s->bytes_in += len;
    struct held_frame *h = frame_get(c, len);
    if (h == NULL) {   /* out of memory: as a full hold */
        s->overflow_drops++;
        return;
    }
    memcpy(h->bytes, frame, len);
    const struct link_env env = {.specs = c->specs, .nspecs = c->nspecs, .names_frames = true, .note = note,
                                 .note_ctx = c};
    struct link_delivery out;
    if (!link_model_offer(&c->dir[dir], &env, now, h->bytes, len, &out)) {
        frame_put(c, h);
        return;
    }
    /* The link has decided; the hold is the wire's own bound, after it. */
    if (s->held + (out.duplicate ? 2 : 1) > WIRE_MAX_HELD) {
        s->overflow_drops++;
        frame_put(c, h);
        return;
    }
    if (out.duplicate) {
        struct held_frame *copy = frame_get(c, len);
        if (copy != NULL) {
            memcpy(copy->bytes, h->bytes, len);
            hold(c, dir, out.arrival_ns, copy);
        } else {
            s->overflow_drops++;
        }
    }
    hold(c, dir, out.arrival_ns, h);
}

tb_time_ns wire_core_next_release(const struct wire_core *c) {
    return tb_timeq_empty(&c->held) ? TB_TIME_NEVER : tb_timeq_top(&c->held)->t;
}

size_t wire_core_release(struct wire_core *c, tb_time_ns now, wire_deliver_fn deliver, void *ctx) {
    size_t n = 0;
    while (!tb_timeq_empty(&c->held) && tb_timeq_top(&c->held)->t <= now) {
        struct tb_timeq_item it = tb_timeq_pop(&c->held);
        struct held_frame *h = it.ctx;
        int dir = (int)it.arg;
        struct wire_dir_stats *s = &c->stats[dir];
        s->held--;
        s->frames_out++;
        s->bytes_out += h->len;
        c->dir[dir].stats.delivered++;
        c->dir[dir].stats.bytes_delivered += h->len;
        deliver(ctx, dir, it.t, h->bytes, h->len);
        frame_put(c, h);
        n++;
    }
    return n;
}

uint64_t wire_core_discard(struct wire_core *c) {
    uint64_t n = 0;
    while (!tb_timeq_empty(&c->held)) {
        struct tb_timeq_item it = tb_timeq_pop(&c->held);
        c->stats[it.arg].held--;
        frame_put(c, it.ctx);
        n++;
    }
    return n;
}

void wire_core_free(struct wire_core *c) {
    if (c == NULL) return;
    wire_core_discard(c);
    tb_timeq_free(&c->held);
    while (c->free_slots != NULL) {
        struct held_frame *h = c->free_slots;
        c->free_slots = h->next_free;
        free(h);
    }
    free(c);
}

void wire_core_stats(const struct wire_core *c, int dir, struct wire_dir_stats *out, struct sim_link_stats *link) {
    if (out != NULL) *out = c->stats[dir];
    if (link != NULL) *link = c->dir[dir].stats;
}

uint64_t wire_core_faults_fired(const struct wire_core *c) { return c->faults_fired; }
