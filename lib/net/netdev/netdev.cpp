/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_percpu.h"
#include "bh_port.h"
#include "bh_softirq.h"
#include "bh_timer.h"
#include "log_private.h"
#include "napi_private.h"
#include "net_telemetry_private.h"
#include "time_private.h"

namespace bh::net {

namespace {

constexpr unsigned burst = 32;
constexpr unsigned ndrop = unsigned(drop_reason::count);
constexpr uint64_t min_backoff_ns = 10000, backoff_limit_ns = 1000000000;

net_conf conf;           /* [I] from net_init */
bool initialised = false;

struct net_lcore;

/*
 * One Rx queue on its lcore. mode, port, queue, fd, handler, handler_checks,
 * idle_polls, max_backoff_ns: [I]. state: written by
 * the irq handler (lcore thread) and the poll function (executor), hence
 * atomic. empty, backoff_ns, next_poll: [X].
 */
struct rxq {
	enum state_t : int { polling, armed, backoff };
	napi n;
	net_lcore *owner;
	uint16_t port, queue;
	rx_mode mode;
	packet_handler *handler;
	bool handler_checks; /* [I] handler->checks_frames(), asked once */
	unsigned idle_polls;
	uint64_t max_backoff_ns;
	int fd = -1;
	std::atomic<int> state{polling};
	unsigned empty = 0;
	uint64_t backoff_ns = 0;
	uint64_t next_poll = 0;

	rxq(net_lcore *o, const rxq_conf &c, int (*poll)(napi &, int))
		: n(poll, this, c.weight), owner(o), port(c.port), queue(c.queue), mode(c.mode), handler(c.handler),
		  handler_checks(c.handler->checks_frames()), idle_polls(c.idle_polls),
		  max_backoff_ns(c.max_backoff_ns)
	{
	}
};

/* One lcore's Tx state for one port: [X]. */
struct txq {
	bool valid = false;
	uint16_t queue = 0;
	uint16_t n = 0;
	rte_mbuf *buf[burst];
	std::vector<rte_mbuf *> backlog; /* ring of conf.tx_backlog */
	unsigned head = 0, count = 0;
};

/*
 * The net state of one lcore, and its top half. Counters are
 * lcore_counters with one writer each: the irq-handler ones (interrupts,
 * to_poll) by the lcore thread, the rest by the executor.
 */
struct net_lcore : public pollfn {
	unsigned lcore;
	std::vector<std::unique_ptr<rxq>> rxqs; /* [I] */
	txq tx[RTE_MAX_ETHPORTS];
	uint16_t tx_ports[RTE_MAX_ETHPORTS]; /* [I] the ports with a valid txq, so that passes skip the rest */
	unsigned ntx_ports = 0;             /* [I] */
	timer drain{&on_drain, this};
	bool set_up = false; /* [L] */

	lcore_counter dropped[ndrop], sent, backlogged, to_interrupt, backoffs; /* [X] */
	lcore_counter interrupts, to_poll;                                      /* [L] */
	lcore_counter port_rx[RTE_MAX_ETHPORTS], port_tx[RTE_MAX_ETHPORTS];
	lcore_counter port_rx_drop[RTE_MAX_ETHPORTS], port_tx_drop[RTE_MAX_ETHPORTS];

	explicit net_lcore(unsigned l) : lcore(l) {}

	bool poll() override;
	bool try_enter_interrupt_mode() override;
	uint64_t sleep_limit_ns() override;
	static void on_drain(timer &, void *self);
};

/*
 * [M] The slots are set by net_add_* and freed by the next net_init, under
 * lcores_m, which the counter readers (any thread: telemetry, the stats
 * printer) take too. The data path reads them without it: an lcore's loop
 * starts after its slot is set, and net_init runs with the loops stopped.
 * The mutex is never destroyed: a telemetry query may come during exit.
 */
net_lcore *lcores[max_lcores];
std::mutex &lcores_m = *new std::mutex;

net_lcore &lcore_state(unsigned lcore)
{
	std::lock_guard lock(lcores_m);
	if (!lcores[lcore])
		lcores[lcore] = new net_lcore(lcore);
	return *lcores[lcore];
}

/* A packet freed before it was given to a Tx port: charged to the port it came in on. */
void count_rx_drop(net_lcore &l, uint16_t rx_port, drop_reason why, uint64_t n = 1)
{
	l.dropped[unsigned(why)].add(n);
	l.port_rx_drop[rx_port].add(n);
}

/* A packet given to a Tx port that could not take it: charged to that port. */
void count_tx_drop(net_lcore &l, uint16_t tx_port, drop_reason why, uint64_t n = 1)
{
	l.dropped[unsigned(why)].add(n);
	l.port_tx_drop[tx_port].add(n);
}

/* ---- Tx: [X] ---- */

bool backlog_push(net_lcore &l, uint16_t port, rte_mbuf *m)
{
	txq &t = l.tx[port];
	if (t.count == t.backlog.size()) {
		rte_pktmbuf_free(m);
		count_tx_drop(l, port, drop_reason::tx_full);
		return false;
	}
	t.backlog[(t.head + t.count) % t.backlog.size()] = m;
	t.count++;
	l.backlogged.add();
	return true;
}

/* Sends what the backlog holds, oldest first; returns how many left. */
unsigned backlog_send(net_lcore &l, uint16_t port)
{
	txq &t = l.tx[port];
	while (t.count) {
		const unsigned chunk = std::min<unsigned>({t.count, unsigned(t.backlog.size()) - t.head, burst});
		const uint16_t sent = rte_eth_tx_burst(port, t.queue, &t.backlog[t.head], uint16_t(chunk));
		l.sent.add(sent);
		l.port_tx[port].add(sent);
		t.head = (t.head + sent) % unsigned(t.backlog.size());
		t.count -= sent;
		if (sent < chunk)
			break;
	}
	return t.count;
}

/*
 * Sends @p n packets on @p port, or puts them behind a backlog to keep
 * their order, and queues what the ring refuses; returns true if a backlog
 * is left for NET_TX.
 */
bool tx_send(net_lcore &l, uint16_t port, rte_mbuf **pkts, uint16_t n)
{
	txq &t = l.tx[port];
	uint16_t sent = 0;
	if (!t.count) {
		sent = rte_eth_tx_burst(port, t.queue, pkts, n);
		l.sent.add(sent);
		l.port_tx[port].add(sent);
	}
	for (uint16_t i = sent; i < n; i++)
		backlog_push(l, port, pkts[i]);
	return t.count != 0;
}

/* Flushes the Tx buffer of @p port; returns true if a backlog is left for NET_TX. */
bool tx_flush(net_lcore &l, uint16_t port)
{
	txq &t = l.tx[port];
	if (!t.n)
		return t.count != 0;
	const uint16_t n = t.n;
	t.n = 0;
	return tx_send(l, port, t.buf, n);
}

bool tx_flush_all(net_lcore &l)
{
	bool left = false;
	for (unsigned i = 0; i < l.ntx_ports; i++)
		left |= tx_flush(l, l.tx_ports[i]);
	return left;
}

/*
 * A backlog is retried by NET_TX while the ring takes something, and by
 * the drain timer otherwise. The timer is one-shot and armed only while
 * something waits, so that an idle lcore is not woken by it.
 */
void arm_drain(net_lcore &l)
{
	if (!l.drain.pending())
		timer_mod(l.drain, conf.tx_drain_ns);
}

void retry_later(net_lcore &l)
{
	raise_softirq(NET_TX_SOFTIRQ);
	arm_drain(l);
}

void rx_pass_end(unsigned lcore)
{
	if (lcores[lcore] && tx_flush_all(*lcores[lcore]))
		retry_later(*lcores[lcore]);
}

void net_tx_action(const softirq_action &)
{
	net_lcore *l = lcores[lcore_id()];
	if (!l)
		return;
	bool progress = false, left = false;
	for (unsigned i = 0; i < l->ntx_ports; i++) {
		const uint16_t p = l->tx_ports[i];
		txq &t = l->tx[p];
		if (!t.count)
			continue;
		const unsigned before = t.count;
		left |= backlog_send(*l, p) != 0;
		progress |= t.count < before;
	}
	/* A ring that took nothing is retried by the drain timer, not in a softirq storm. */
	if (left && progress)
		raise_softirq(NET_TX_SOFTIRQ);
	else if (left)
		arm_drain(*l);
}

void net_lcore::on_drain(timer &, void *self)
{
	net_lcore &l = *static_cast<net_lcore *>(self);
	if (tx_flush_all(l))
		retry_later(l);
}

/* ---- Rx ---- */

void disarm(rxq &q)
{
	rte_eth_dev_rx_intr_disable(q.port, q.queue);
	lcore_disable_irq(q.fd);
}

void arm(rxq &q)
{
	rte_eth_dev_rx_intr_enable(q.port, q.queue);
	lcore_enable_irq(q.fd);
	/* A packet that arrived before the enable would be stranded: look once more. */
	if (rte_eth_rx_queue_count(q.port, q.queue) > 0) {
		disarm(q);
		napi_schedule(q.n);
	}
}

/* The queue's Rx interrupt: a top half on the lcore that slept. */
void rx_irq(void *p)
{
	rxq &q = *static_cast<rxq *>(p);
	disarm(q);
	q.owner->interrupts.add();
	if (q.mode == rx_mode::adaptive && q.state.exchange(rxq::polling) != rxq::polling) {
		q.owner->to_poll.add();
		q.n.set_driven(true);
	}
	napi_schedule(q.n);
}

/* What the queue does when its poll found less than its budget. */
void complete(rxq &q, int done)
{
	if (!napi_complete_done(q.n, done))
		return;
	net_lcore &l = *q.owner;
	switch (q.mode) {
	case rx_mode::poll:
		break;
	case rx_mode::interrupt:
		arm(q);
		break;
	case rx_mode::adaptive:
		if (done) {
			q.empty = 0;
			q.backoff_ns = 0;
			q.state.store(rxq::polling, std::memory_order_relaxed);
		} else if (q.state.load(std::memory_order_relaxed) == rxq::backoff || ++q.empty >= q.idle_polls) {
			/* Still idle after a back-off: back off longer at once, not after another idle_polls. */
			q.empty = 0;
			if (q.fd >= 0) {
				q.state.store(rxq::armed, std::memory_order_relaxed);
				q.n.set_driven(false);
				l.to_interrupt.add();
				arm(q);
			} else {
				q.backoff_ns = std::clamp(q.backoff_ns * 2, min_backoff_ns, q.max_backoff_ns);
				q.next_poll = rte_rdtsc() + bh::detail::ns_to_cycles(q.backoff_ns);
				q.state.store(rxq::backoff, std::memory_order_relaxed);
				l.backoffs.add();
			}
		}
		break;
	}
}

/*
 * Folded over the burst without branches, the checks cost a few cycles per
 * frame; the per-frame pass with its drops and compaction runs only for a
 * burst that has a bad frame in it.
 */
bool burst_is_clean(const rx_context &ctx, rte_mbuf *const *pkts, uint16_t nb)
{
	bool bad = false;
	for (uint16_t i = 0; i < nb; i++)
		bad |= ctx.check(pkts[i]) != drop_reason::count;
	return !bad;
}

int rxq_poll(napi &n, int budget)
{
	rxq &q = *static_cast<rxq *>(n.data());
	net_lcore &l = *q.owner;
	rx_context ctx(l.lcore, q.port, q.queue, conf.max_frame);
	int done = 0;
	while (done < budget) {
		rte_mbuf *pkts[burst];
		const uint16_t want = uint16_t(std::min<int>(burst, budget - done));
		const uint16_t nb = rte_eth_rx_burst(q.port, q.queue, pkts, want);
		if (!nb)
			break;
		done += nb;
		l.port_rx[q.port].add(nb);
		uint16_t ok = nb;
		if (!q.handler_checks && unlikely(!burst_is_clean(ctx, pkts, nb))) {
			ok = 0;
			for (uint16_t i = 0; i < nb; i++) {
				const drop_reason why = ctx.check(pkts[i]);
				if (why == drop_reason::count)
					pkts[ok++] = pkts[i];
				else
					ctx.drop(pkts[i], why);
			}
		}
		if (ok)
			q.handler->on_burst(ctx, pkts, ok);
		if (nb < want)
			break;
	}
	if (done < budget)
		complete(q, done);
	return done;
}

/* Per-lcore set-up that must run on the lcore itself: the irq fds. */
void set_up_on_lcore(net_lcore &l)
{
	l.set_up = true;
	for (auto &q : l.rxqs)
		if (q->fd >= 0 && lcore_request_irq(q->fd, rx_irq, q.get()) != 0)
			q->fd = -1;
}

} // namespace

/* ---- the top half ---- */

bool net_lcore::poll()
{
	if (!set_up)
		set_up_on_lcore(*this);
	const uint64_t now = rte_rdtsc();
	for (auto &qp : rxqs) {
		rxq &q = *qp;
		if (q.n.scheduled()) {
			/* Left on the list by NET_RX, which counts on us to raise it again. */
			if (q.n.driven())
				raise_softirq(NET_RX_SOFTIRQ);
			continue;
		}
		const int st = q.state.load(std::memory_order_relaxed);
		const bool due = q.mode == rx_mode::poll || (q.mode == rx_mode::adaptive && st == rxq::polling) ||
				 (st == rxq::backoff && now >= q.next_poll) ||
				 /* An interrupt-mode queue is polled once to start, then lives on its irq. */
				 (q.mode == rx_mode::interrupt && st == rxq::polling);
		if (!due)
			continue;
		if (q.mode == rx_mode::interrupt)
			q.state.store(rxq::armed, std::memory_order_relaxed);
		napi_schedule(q.n);
	}
	return false;
}

bool net_lcore::try_enter_interrupt_mode()
{
	return std::all_of(rxqs.begin(), rxqs.end(), [](const auto &q) {
		return q->mode != rx_mode::poll && q->state.load(std::memory_order_relaxed) != rxq::polling;
	});
}

uint64_t net_lcore::sleep_limit_ns()
{
	uint64_t limit = UINT64_MAX;
	const uint64_t now = rte_rdtsc();
	for (auto &q : rxqs)
		if (q->state.load(std::memory_order_relaxed) == rxq::backoff)
			limit = std::min(limit, q->next_poll > now ? bh::detail::cycles_to_ns(q->next_poll - now) : 0);
	return limit;
}

/* ---- the application's side ---- */

void rx_context::tx(uint16_t port, rte_mbuf *m) noexcept
{
	net_lcore &l = *lcores[lcore_];
	txq &t = l.tx[port];
	if (!t.valid) {
		rte_pktmbuf_free(m);
		count_tx_drop(l, port, drop_reason::no_txq);
		return;
	}
	t.buf[t.n++] = m;
	if (t.n == burst && tx_flush(l, port))
		retry_later(l);
}

void rx_context::tx_burst(uint16_t port, rte_mbuf **pkts, uint16_t n) noexcept
{
	net_lcore &l = *lcores[lcore_];
	txq &t = l.tx[port];
	if (!t.valid) {
		for (uint16_t i = 0; i < n; i++)
			rte_pktmbuf_free(pkts[i]);
		count_tx_drop(l, port, drop_reason::no_txq, n);
		return;
	}
	while (n) {
		/* A whole burst with nothing buffered before it goes out as it is, not through the buffer. */
		if (!t.n && n >= burst) {
			if (tx_send(l, port, pkts, burst))
				retry_later(l);
			pkts += burst;
			n = uint16_t(n - burst);
			continue;
		}
		const uint16_t k = std::min<uint16_t>(n, uint16_t(burst - t.n));
		memcpy(&t.buf[t.n], pkts, k * sizeof(*pkts));
		t.n = uint16_t(t.n + k);
		pkts += k;
		n = uint16_t(n - k);
		if (t.n == burst && tx_flush(l, port))
			retry_later(l);
	}
}

void rx_context::drop(rte_mbuf *m, drop_reason why) noexcept
{
	rte_pktmbuf_free(m);
	count_rx_drop(*lcores[lcore_], port_, why);
}

const char *drop_reason_name(drop_reason r) noexcept
{
	static const char *const names[ndrop] = {"runt", "oversize", "chained", "tx_full", "no_txq", "handler"};
	return unsigned(r) < ndrop ? names[unsigned(r)] : "?";
}

/* ---- set-up ---- */

namespace {

int check_binding(const char *fn, uint16_t port, unsigned lcore)
{
	if (!rte_eth_dev_is_valid_port(port)) {
		BH_LOG(ERR, log::net, "%s: port %u does not exist", fn, port);
		return -ENODEV;
	}
	if (lcore >= max_lcores || !initialised) {
		BH_LOG(ERR, log::net, "%s: %s", fn, initialised ? "bad lcore" : "net_init() has not run");
		return -EINVAL;
	}
	if (lcores[lcore] && lcores[lcore]->set_up) {
		BH_LOG(ERR, log::net, "%s: lcore %u already runs its net loop", fn, lcore);
		return -EBUSY;
	}
	return 0;
}

} // namespace

namespace {

/* bh::start(): the softirqs, once net_init() has run for this start. */
int net_open()
{
	if (!initialised)
		return 0;
	if (const int rc = open_softirq(NET_RX_SOFTIRQ, detail::net_rx_action))
		return rc;
	if (const int rc = open_softirq(NET_TX_SOFTIRQ, net_tx_action)) {
		close_softirq(NET_RX_SOFTIRQ);
		return rc;
	}
	detail::set_rx_pass_end(rx_pass_end);
	detail::net_telemetry_register();
	return 0;
}

/*
 * bh::stop(), once every loop has returned: flushes what is buffered, frees
 * backlogs (counted as tx_full), stops drain timers, releases irq fds and
 * the queues' bindings, and gives the softirqs back. The counters stay
 * readable until the next net_init.
 */
void net_close()
{
	if (!initialised)
		return;
	for (unsigned id = 0; id < max_lcores; id++) {
		net_lcore *l = lcores[id];
		if (!l)
			continue;
		timer_del_sync(l->drain);
		tx_flush_all(*l);
		for (unsigned i = 0; i < l->ntx_ports; i++) {
			const uint16_t p = l->tx_ports[i];
			txq &t = l->tx[p];
			backlog_send(*l, p);
			for (; t.count; t.count--, t.head = (t.head + 1) % unsigned(t.backlog.size())) {
				rte_pktmbuf_free(t.backlog[t.head]);
				count_tx_drop(*l, p, drop_reason::tx_full);
			}
		}
		for (auto &q : l->rxqs)
			if (q->fd >= 0)
				lcore_free_irq(id, q->fd);
		/* Poll-mode contexts stay on the poll list; they are about to be freed. */
		detail::napi_forget_all(id);
		lcore_clear(id);
		l->rxqs.clear();
		l->set_up = false;
		for (txq &t : l->tx)
			t.valid = false;
		l->ntx_ports = 0;
	}
	close_softirq(NET_RX_SOFTIRQ);
	close_softirq(NET_TX_SOFTIRQ);
	initialised = false;
}

const subsystem net_subsystem = {
	.name = "net",
	.open = net_open,
	.close = net_close,
};

} // namespace

int net_init(const net_conf &c) noexcept
{
	if (c.tx_drain_ns == 0 || c.tx_backlog == 0 || c.max_frame < RTE_ETHER_HDR_LEN) {
		BH_LOG(ERR, log::net, "net_init: tx_drain_ns, tx_backlog must be > 0 and max_frame >= 14");
		return -EINVAL;
	}
	if (bh::started()) {
		BH_LOG(ERR, log::net, "net_init: the framework runs: call it before bh::start()");
		return -EBUSY;
	}
	if (const int rc = napi_set_config(c.napi))
		return rc;
	if (const int rc = subsystem_register(net_subsystem))
		return rc;
	conf = c;
	{
		std::lock_guard lock(lcores_m);
		for (net_lcore *&l : lcores) {
			delete l;
			l = nullptr;
		}
	}
	initialised = true;
	return 0;
}

int net_add_rxq(const rxq_conf &c) noexcept
{
	if (const int rc = check_binding("net_add_rxq", c.port, c.lcore))
		return rc;
	if (!c.handler || c.weight <= 0 || (c.mode == rx_mode::adaptive && c.idle_polls == 0)) {
		BH_LOG(ERR, log::net, "net_add_rxq: null handler, weight <= 0 or idle_polls 0");
		return -EINVAL;
	}
	if (c.max_backoff_ns < min_backoff_ns || c.max_backoff_ns > backoff_limit_ns) {
		BH_LOG(ERR, log::net, "net_add_rxq: max_backoff_ns %" PRIu64 " outside %" PRIu64 "..%" PRIu64,
		       c.max_backoff_ns, min_backoff_ns, backoff_limit_ns);
		return -EINVAL;
	}
	const int fd = c.mode == rx_mode::poll ? -1 : port_rx_intr_fd(c.port, c.queue);
	if (c.mode == rx_mode::interrupt && fd < 0) {
		BH_LOG(ERR, log::net,
		       "port %u (%s): Rx queue %u has no Rx interrupt, interrupt mode refused "
		       "(use poll or adaptive, which backs off instead)",
		       c.port, port_driver(c.port), c.queue);
		return -ENOTSUP;
	}
	net_lcore &l = lcore_state(c.lcore);
	auto q = std::make_unique<rxq>(&l, c, rxq_poll);
	q->fd = fd;
	q->n.set_driven(c.mode != rx_mode::interrupt);
	l.rxqs.push_back(std::move(q));
	if (l.rxqs.size() == 1)
		return lcore_add_top_half(c.lcore, l);
	return 0;
}

int net_add_txq(uint16_t port, uint16_t queue, unsigned lcore) noexcept
{
	if (const int rc = check_binding("net_add_txq", port, lcore))
		return rc;
	net_lcore &l = lcore_state(lcore);
	txq &t = l.tx[port];
	if (!t.valid)
		l.tx_ports[l.ntx_ports++] = port;
	t.valid = true;
	t.queue = queue;
	t.backlog.assign(conf.tx_backlog, nullptr);
	return 0;
}

/* ---- counters ---- */

namespace {

bool net_lcore_exists(unsigned lcore)
{
	std::lock_guard lock(lcores_m);
	return lcores[lcore] != nullptr;
}

} // namespace

lcore_net_stats net_lcore_stats(unsigned lcore) noexcept
{
	lcore_net_stats st;
	if (lcore >= max_lcores)
		return st;
	st.softnet = softnet_get(lcore);
	std::lock_guard lock(lcores_m);
	const net_lcore *l = lcores[lcore];
	if (!l)
		return st;
	for (unsigned r = 0; r < ndrop; r++)
		st.dropped[r] = l->dropped[r].read();
	st.tx = l->sent.read();
	st.backlogged = l->backlogged.read();
	st.interrupts = l->interrupts.read();
	st.to_poll = l->to_poll.read();
	st.to_interrupt = l->to_interrupt.read();
	st.backoffs = l->backoffs.read();
	uint64_t rx = 0, done = 0;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		rx += l->port_rx[p].read();
		done += l->port_tx[p].read() + l->port_rx_drop[p].read() + l->port_tx_drop[p].read();
	}
	st.in_flight = rx > done ? rx - done : 0;
	return st;
}

port_stats net_port_stats(uint16_t port) noexcept
{
	port_stats st;
	if (port >= RTE_MAX_ETHPORTS)
		return st;
	std::lock_guard lock(lcores_m);
	for (const net_lcore *l : lcores) {
		if (!l)
			continue;
		st.rx += l->port_rx[port].read();
		st.tx += l->port_tx[port].read();
		st.rx_dropped += l->port_rx_drop[port].read();
		st.tx_dropped += l->port_tx_drop[port].read();
	}
	return st;
}

} // namespace bh::net

namespace bh::net {

void net_dump(FILE *out) noexcept
{
	fprintf(out, "%-6s %12s %10s %12s %10s %10s %12s %10s %6s\n", "lcore", "processed", "dropped", "time_squeeze",
		"ksirqd_wk", "interrupts", "polls", "sleeps", "busy%");
	for (unsigned id = 0; id < max_lcores; id++) {
		if (!net_lcore_exists(id))
			continue;
		const lcore_net_stats st = net_lcore_stats(id);
		const lcore_stats ls = lcore_get_stats(id);
		uint64_t dropped = 0;
		for (uint64_t d : st.dropped)
			dropped += d;
		const double busy = 100.0 * double(ls.busy_cycles) /
				    double(std::max<uint64_t>(ls.busy_cycles + ls.idle_cycles, 1));
		fprintf(out, "%-6u %12" PRIu64 " %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64
			     " %10" PRIu64 " %5.1f%%\n",
			id, st.softnet.processed, dropped, st.softnet.time_squeeze, ksoftirqd_get_stats(id).wakeups,
			st.interrupts, st.softnet.polls, ls.sleeps, busy);
	}
}

} // namespace bh::net
