/* Test helpers: drive one stack with frames crafted by wire/ and read its
 * output back with wire/. */
#ifndef TB_TESTS_HELPERS_H
#define TB_TESTS_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcpbed/tcpbed.h"

#define T_IP_US 0x0a000001u    /* 10.0.0.1: the stack under test */
#define T_IP_PEER 0x0a000002u  /* 10.0.0.2: a neighbour we play */
extern const struct tb_mac t_mac_us, t_mac_peer;

void t_config(struct tb_config *cfg);
struct tb_stack *t_stack(const struct tb_config *cfg);
/* Frees the stack after asserting its self-check and that no buffer leaked. */
void t_stack_done(struct tb_stack *st);

/* Feeds raw bytes as one frame at `now`. */
void t_input(struct tb_stack *st, tb_time_ns now, const uint8_t *frame, size_t len);

/* Frame builders; each returns the frame length. */
size_t t_build_arp(uint8_t *out, uint16_t op, const struct tb_mac *eth_dst, const struct tb_mac *sha, uint32_t spa,
                   const struct tb_mac *tha, uint32_t tpa);
size_t t_build_ipv4(uint8_t *out, const struct tb_mac *eth_dst, uint32_t src, uint32_t dst, uint8_t proto,
                    const uint8_t *payload, size_t payload_len);
size_t t_build_echo(uint8_t *out, uint8_t type, uint32_t src, uint32_t dst, uint16_t ident, uint16_t seq,
                    const uint8_t *data, size_t data_len);

/* One drained output frame, copied flat. */
struct t_frame {
    uint8_t bytes[2048];
    size_t len;
};
/* Drains all output; returns the count (at most max). */
size_t t_drain(struct tb_stack *st, struct t_frame *out, size_t max);
/* Teaches the stack the peer's MAC by answering nothing: sends it an ARP
 * request from the peer, then drains (and discards) the reply. */
void t_learn_peer(struct tb_stack *st, tb_time_ns now);

uint64_t t_drops(struct tb_stack *st, enum tb_drop_reason r);

#endif
