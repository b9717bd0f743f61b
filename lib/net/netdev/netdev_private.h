/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The net layer's per-lcore state, shared by its three parts: rxq.cpp (Rx
 * queues on NAPI contexts and the frame checks), tx.cpp (Tx buffers, the
 * backlog, NET_TX and the drain timer) and netdev.cpp (the registry of
 * lcores, set-up and tear-down, the counters). Not installed.
 *
 * Who may touch each field (the tags of softirq_private.h):
 *   [I] net_add_rxq()/net_add_txq() on the main thread, before the lcore's
 *       loop runs; read-only after
 *   [X] the lcore's softirq executor: NET_RX (the poll functions, the
 *       handlers and their Tx), NET_TX, and the drain timer's callback,
 *       which runs on the lcore thread only while it owns the softirqs
 *   [M] under lcores_m (netdev.cpp)
 *   Counters are lcore_counters written by [X] only, read by any thread.
 */

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bh_netdev.h"
#include "bh_percpu.h"
#include "bh_timer.h"

namespace bh::net::detail {

inline constexpr unsigned tx_burst_size = 32;
inline constexpr unsigned ndrop = unsigned(drop_reason::count);

struct net_lcore;

/*
 * One Rx queue on its lcore: a NAPI context and what its poll needs. Kept
 * after bh::stop() (its NAPI machine is gone) for its counters, until the
 * next net_init(). Aligned, as net_lcore, so that no cache line holds the
 * state of two lcores.
 */
struct alignas(RTE_CACHE_LINE_SIZE) rxq {
	napi n;                  /* its machine is NAPI's */
	net_lcore *owner;        /* [I] */
	uint16_t port, queue;    /* [I] */
	packet_handler *handler; /* [I] */
	bool handler_checks;     /* [I] handler->checks_frames(), asked once */
	lcore_counter rx;        /* packets received */
	lcore_counter dropped;   /* of those, freed before a Tx port took them: frame checks, the handler's drops */

	rxq(net_lcore *o, const rxq_conf &c, napi::poll_fn poll)
		: n(poll, this, c.weight), owner(o), port(c.port), queue(c.queue), handler(c.handler),
		  handler_checks(c.handler->checks_frames())
	{
	}
};

/*
 * One lcore's Tx state for one port: valid, queue [I] (written under
 * lcores_m, for the counter readers), kept after bh::stop() for the
 * counters; the rest [X].
 */
struct txq {
	bool valid = false;
	uint16_t queue = 0;
	uint16_t n = 0;
	rte_mbuf *buf[tx_burst_size];
	std::vector<rte_mbuf *> backlog; /* a ring of net_conf::tx_backlog slots; allocated [I] */
	unsigned head = 0, count = 0;
};

/*
 * The net state of one lcore. What it received and dropped before Tx is
 * counted per Rx queue (rxq); what it sent and dropped on Tx, per Tx port:
 * one lcore per Tx queue makes these the Tx queue's counters too.
 */
struct alignas(RTE_CACHE_LINE_SIZE) net_lcore {
	unsigned lcore;                         /* [I] */
	std::vector<std::unique_ptr<rxq>> rxqs; /* [I], under lcores_m for the counter readers */
	rxq *polling = nullptr;                 /* [X] the queue whose burst the handler has: its drops */
	txq tx[RTE_MAX_ETHPORTS];
	uint16_t tx_ports[RTE_MAX_ETHPORTS]; /* [I] the ports with a valid txq, so that flushes skip the rest */
	unsigned ntx_ports = 0;             /* [I] */
	unsigned buffering = 0;             /* [X] the Tx buffers that hold packets */
	timer drain;                        /* armed by [X] while a backlog waits */

	lcore_counter dropped[ndrop], sent, backlogged;
	lcore_counter port_tx[RTE_MAX_ETHPORTS], port_tx_drop[RTE_MAX_ETHPORTS];

	explicit net_lcore(unsigned l);
};

/* The configuration of the run: [I], from net_init(). */
extern net_conf conf;

/*
 * [M] The slots are set by net_add_* and freed by the next net_init, under
 * lcores_m, which the counter readers (any thread: telemetry, the stats
 * printer) take too. The data path reads them without it: an lcore's loop
 * starts after its slot is set, and net_init runs with the loops stopped.
 */
extern net_lcore *lcores[max_lcores];
extern std::mutex &lcores_m;

/* A packet of the burst being handled freed before it was given to a Tx port: charged to its Rx queue. [X] */
inline void count_rx_drop(net_lcore &l, drop_reason why)
{
	l.dropped[unsigned(why)].add();
	l.polling->dropped.add();
}

/* A packet given to a Tx port that could not take it: charged to that port. [X] */
inline void count_tx_drop(net_lcore &l, uint16_t tx_port, drop_reason why, uint64_t n = 1)
{
	l.dropped[unsigned(why)].add(n);
	l.port_tx_drop[tx_port].add(n);
}

/* Flushes every Tx buffer of @p l, leaving a backlog to NET_TX and the drain timer. [X] */
void tx_flush_lcore(net_lcore &l) noexcept;

/*
 * What a poll's handler buffered leaves with the poll. A poll whose
 * handler sent whole bursts buffered nothing, and a backlog already has
 * NET_TX or the drain timer on it (every path that leaves one arranges
 * the retry), so most polls at full load flush nothing. [X]
 */
inline void tx_flush_polled(net_lcore &l) noexcept
{
	if (l.buffering)
		tx_flush_lcore(l);
}

/* NET_TX's handler. [X] */
void net_tx_action(const softirq_action &) noexcept;

/* At bh::stop(): flushes @p l, frees the backlogs (counted as tx_full), stops the drain timer. */
void tx_close(net_lcore &l) noexcept;

/*
 * The checks of net_add_rxq()/net_add_txq(): 0, or the error they return
 * (logged under @p fn's name).
 */
int check_binding(const char *fn, uint16_t port, unsigned lcore) noexcept;

/*
 * The queue checks of net_add_rxq() (@p rx) and net_add_txq(): the port
 * has that queue configured, and no other lcore has it (no Rx queue is
 * bound twice). 0, or the error they return (logged under @p fn's name).
 */
int check_queue(const char *fn, uint16_t port, uint16_t queue, unsigned lcore, bool rx) noexcept;

/* The net state of @p lcore, made on first use. [I] */
net_lcore &lcore_state(unsigned lcore);

} // namespace bh::net::detail
