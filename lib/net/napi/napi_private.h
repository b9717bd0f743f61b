/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * NAPI's internals, shared by napi.cpp (poll lists, NET_RX) and
 * napi_mode.cpp (the mode machines and their top half). Not installed.
 *
 * Who may touch each field (the tags of softirq_private.h):
 *   [I] napi_add(), before the lcore's loop runs
 *   [L] the lcore's own thread: the NAPI top half and the irq handler
 *   [X] the lcore's softirq executor: NET_RX, the poll functions and
 *       napi_complete_done() (the lcore thread or its ksoftirqd)
 * A context's machine is handed between [L] and [X] by its SCHED bit: the
 * executor touches it only while the context is scheduled, the top half and
 * the irq handler only while it is not (the bit's CAS is the release/
 * acquire pair). Fields both sides write are atomics for that hand-off;
 * relaxed order suffices within it.
 */

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "bh_lcore.h"
#include "bh_napi.h"
#include "bh_percpu.h"
#include "bh_softirq.h"

namespace bh::net::detail {

/* One context's mode machine (napi_add). */
struct napi_ctl {
	napi *n;                              /* [I] */
	unsigned lcore;                       /* [I] */
	rx_mode mode;                         /* [I] */
	napi_switch sw;                       /* [I] */
	napi_irq irq;                         /* [I]; fd reset to -1 by [L] if the lcore cannot take it */
	uint64_t defer_cycles, min_backoff_cycles, max_backoff_cycles; /* [I] */
	std::atomic<napi_state> state{napi_state::polling}; /* [L]/[X] by the hand-off */
	std::atomic<uint64_t> until{0};       /* [X] sets with backing_off, [L] reads */
	std::atomic<uint64_t> slack{0};       /* [X] sets with until: how much earlier it may be polled */
	std::atomic<bool> woke{false};        /* [L] sets (an interrupt scheduled it), [X] clears */
	bool irq_on = false;                  /* [L] the fd is enabled in the lcore's wake-up set */
	uint64_t last_work = 0;               /* [X] TSC of the last poll that found work */
	uint64_t last_gap = UINT64_MAX;       /* [X] cycles between the last two polls that found work */
	uint64_t idle_backoff = 0;            /* [X] cycles of the last idle back-off, 0 after work */
	unsigned empty_left = 0;              /* [X] defer: empty polls left before arming */
	unsigned spurious_run = 0;            /* [X] empty polls in a row since an interrupt woke it */
	uint32_t avg16 = 0;                   /* [X] rate: packets per poll x 16, moving average */
	bool rate_polling = false;            /* [X] rate: polling by the rule */
	unsigned rate_start = 0;              /* [X] rate: the average that starts polling, rate_hi .. weight */
	bool spell_found_work = false;        /* [X] rate: a poll kept since polling started found work */

	/* [I] Sets the mode and everything derived from the switch (napi_add, and the tests' machines). */
	void configure(rx_mode m, const napi_switch &s) noexcept;
};

/*
 * The NAPI layer's top half on one lcore: its contexts' machines, carried
 * out between passes. All [L], except ctls ([I]) and set_up.
 */
struct napi_top : public pollfn {
	unsigned lcore;
	std::vector<std::unique_ptr<napi_ctl>> ctls; /* [I] */
	std::atomic<bool> set_up{false};               /* [L] writes once it requested the irq fds; [A] reads */

	explicit napi_top(unsigned l) : lcore(l) {}
	bool poll() override;
	bool try_enter_interrupt_mode() override;
	uint64_t sleep_limit_ns() override;
};

/*
 * Per-lcore counters of the machines: interrupts and to_poll by the irq
 * handler [L], the rest by the decisions [X].
 */
struct napi_counters {
	lcore_counter interrupts, to_poll;                 /* [L] */
	lcore_counter to_interrupt, backoffs, spurious;     /* [X] */
};

extern per_lcore<napi_counters> napi_stats;

/* The NAPI layer's view of a context's private fields. */
struct napi_access {
	static napi *&next(napi &n) { return n.next_; }
	static std::atomic<uint32_t> &state(napi &n) { return n.state_; }
	static napi_ctl *&ctl(napi &n) { return n.ctl_; }
	static const napi_ctl *ctl(const napi &n) { return n.ctl_; }
	static int poll(napi &n, int budget) { return n.poll_(n, budget); }
};

/*
 * The decision for @p c after a poll that found @p work packets at TSC
 * @p now, with its state and counters updated: what napi_complete_done()
 * returns for a context given to napi_add(). Exposed for the tests, which
 * drive it with made-up times. [X]
 */
napi_verdict napi_decide(napi_ctl &c, int work, uint64_t now) noexcept;

/* NET_RX's handler, registered by the net layer's open. */
void net_rx_action(const softirq_action &) noexcept;

/* True once @p lcore's loop has run its NAPI top half (until napi_release_lcore). */
bool napi_lcore_active(unsigned lcore) noexcept;

/* Empties @p lcore's poll list and inbox, clearing each context's SCHED state. */
void napi_forget_lists(unsigned lcore) noexcept;

/*
 * Forgets @p lcore's poll list, takes its NAPI top half off its loop with
 * the rest of its top halves and tasks (lcore_clear), frees its contexts'
 * irq fds and machines, so that the contexts can be freed. Only while the
 * lcore's loop is stopped.
 */
void napi_release_lcore(unsigned lcore) noexcept;

} // namespace bh::net::detail
