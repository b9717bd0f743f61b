/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <pthread.h>
#include <sched.h>
#include <mutex>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <thread>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>
#include <rte_telemetry.h>

#include "bh_context.h"
#include "bh_lcore.h"
#include "bh_softirq.h"
#include "lcore_subsys.h"
#include "log_private.h"
#include "percpu_private.h"
#include "softirq_private.h"
#include "subsys_table.h"
#include "telemetry_private.h"
#include "time_private.h"
#include "timer_private.h"

namespace bh {

namespace {

using detail::softirq_lcore;
using detail::softirq_state;

constexpr unsigned max_fns = 32;
constexpr unsigned max_irqs = 32;

/* A wake-up fd of a sleeping lcore and its top half. */
struct irq_reg {
	int fd = -1;
	irq_handler handler = nullptr;
	void *data = nullptr;
};

/*
 * One lcore's loop. Field access:
 *   [C] configured from any thread while the loop is not running
 *       (running == false), read by the loop thread
 *   [L] the lcore's own thread
 *   [A] any thread, atomically
 * Its wake-up (eventfd, sleeping flag) is the softirq layer's, where the
 * raise that must wake it is.
 */
struct lcore_loop {
	pollfn *top[max_fns]{};        /* [C] */
	pollfn *tasks[max_fns]{};      /* [C] */
	unsigned ntop = 0, ntasks = 0; /* [C] */
	std::atomic<bool> running{false};  /* [L] sets, [A] reads */
	std::atomic<bool> attached{false}; /* [L] writes: its thread made the epoll set and took the id */
	bool polled = false;               /* [L] an embedder drives it with lcore_poll_once */
	std::atomic<bool> stop_req{false}; /* [A] */
	std::atomic<idle_mode> idle{idle_mode::poll};   /* [A] */
	std::atomic<unsigned> max_sleep_ms{100};        /* [A] */
	std::atomic<unsigned> bh_share{50};             /* [A] percent */
	uint64_t bh_cycles = 0, app_cycles = 0;         /* [L] decayed: the time each side took lately */
	int epfd = -1;             /* [L] made at its first attach, never closed */
	irq_reg irqs_reg[max_irqs]; /* [L], or [C] to free them */

	alignas(RTE_CACHE_LINE_SIZE) lcore_counter iterations, busy, sleeps, yields, busy_cycles,
		idle_cycles, irqs, bh_held; /* [L] */
};

per_lcore<lcore_loop> loops;
std::atomic<bool> framework_started{false};
uint64_t share_window = UINT64_MAX; /* [I] 1 ms of TSC cycles, from the first start() */

/* The epoll set a sleeping lcore waits in: its wake-up eventfd, and the irq fds it requests later. */
int make_wakeup_set(lcore_loop &l, unsigned id)
{
	if (l.epfd >= 0)
		return 0;
	const int ev = detail::wakeup_fd(id);
	if (ev < 0)
		return ev;
	const int ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_event e{};
	e.events = EPOLLIN;
	e.data.ptr = nullptr; /* the wake-up eventfd; irq fds carry their irq_reg */
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) < 0) {
		const int err = errno;
		BH_LOG(ERR, log::lcore, "lcore %u: cannot create its wake-up epoll set: %s", id, strerror(err));
		if (ep >= 0)
			close(ep);
		return -err;
	}
	l.epfd = ep;
	return 0;
}

template <class F>
void for_each_fn(lcore_loop &l, F &&f)
{
	for (unsigned i = 0; i < l.ntop; i++)
		f(*l.top[i]);
	for (unsigned i = 0; i < l.ntasks; i++)
		f(*l.tasks[i]);
}

/* Top halves (and the timer tick), then the softirqs on irq_exit. */
bool bottom_halves(unsigned id, lcore_loop &l, softirq_lcore &s, uint64_t now)
{
	bool work = false;
	irq_enter();
	detail::timer_tick(id, now);
	for (unsigned i = 0; i < l.ntop; i++)
		work |= l.top[i]->poll();
	/* Softirqs count as this lcore's work unless its ksoftirqd owns them. */
	const uint32_t mine = s.ksoftirqd_active.load(std::memory_order_relaxed) ? detail::lcore_only_mask : ~0u;
	work |= (detail::pending_of(s, detail::thread_role::lcore, std::memory_order_relaxed) & mine) != 0;
	irq_exit();
	return work;
}

/*
 * One iteration: bottom halves, then app tasks. With app tasks, the bottom
 * halves take at most their share of the lcore's recent time: past it, an
 * iteration runs the tasks alone and the packets wait in their rings (Mogul
 * and Ramakrishnan's cap on packet work: no receive livelock, and the
 * application keeps its share under any overload). The time each side took
 * decays by half every millisecond.
 */
bool iterate(unsigned id, lcore_loop &l, softirq_lcore &s, uint64_t now)
{
	bool work = false;
	if (l.ntasks == 0) {
		work = bottom_halves(id, l, s, now);
	} else {
		if (l.bh_cycles * 100 <= uint64_t(l.bh_share.load(std::memory_order_relaxed)) * (l.bh_cycles + l.app_cycles)) {
			work = bottom_halves(id, l, s, now);
			l.bh_cycles += rte_rdtsc() - now;
		} else {
			l.bh_held.add();
		}
		const uint64_t t0 = rte_rdtsc();
		for (unsigned i = 0; i < l.ntasks; i++)
			work |= l.tasks[i]->poll();
		l.app_cycles += rte_rdtsc() - t0;
		if (l.bh_cycles + l.app_cycles > share_window) {
			l.bh_cycles /= 2;
			l.app_cycles /= 2;
		}
	}
	l.iterations.add();
	if (work)
		l.busy.add();
	return work;
}

/*
 * How long the lcore may sleep: its cap, or less if a timer is due sooner
 * or a pollfn (e.g. a back-off without Rx interrupts) wants to poll again.
 */
timespec sleep_timeout(unsigned id, lcore_loop &l)
{
	uint64_t ns = uint64_t(l.max_sleep_ms.load(std::memory_order_relaxed)) * 1000000;
	const uint64_t next = detail::timer_next_expiry[id].tsc;
	if (next != UINT64_MAX) {
		const uint64_t now = rte_rdtsc();
		ns = std::min<uint64_t>(ns, next > now ? detail::cycles_to_ns(next - now) : 0);
	}
	for_each_fn(l, [&](pollfn &fn) { ns = std::min(ns, fn.sleep_limit_ns()); });
	return timespec{time_t(ns / 1000000000), long(ns % 1000000000)};
}

/* Runs the handlers of the fds that woke the lcore, as one top half. */
void dispatch_wakeups(unsigned id, lcore_loop &l, const epoll_event *ev, int n)
{
	irq_enter();
	for (int i = 0; i < n; i++) {
		auto *irq = static_cast<irq_reg *>(ev[i].data.ptr);
		if (!irq) {
			detail::wakeup_consume(id);
			continue;
		}
		l.irqs.add();
		irq->handler(irq->data);
	}
	irq_exit();
}

/*
 * Sleeps until a kick, a remote raise, an enabled irq fd or the timeout, if
 * every pollfn agrees. The handshake with raisers is the softirq layer's
 * (sleep_prepare); a stop request pairs with the same kick.
 */
void sleep_once(unsigned id, lcore_loop &l)
{
	unsigned armed = 0;
	bool ok = true;
	for_each_fn(l, [&](pollfn &fn) {
		if (ok && fn.try_enter_interrupt_mode())
			armed++;
		else
			ok = false;
	});
	if (ok) {
		l.sleeps.add();
		epoll_event ev[max_irqs + 1];
		int n = 0;
		if (detail::sleep_prepare(id) && !l.stop_req.load(std::memory_order_seq_cst)) {
			const timespec timeout = sleep_timeout(id, l);
			n = epoll_pwait2(l.epfd, ev, max_irqs + 1, &timeout, nullptr);
		}
		detail::sleep_finish(id);
		if (n > 0)
			dispatch_wakeups(id, l, ev, n);
	}
	for_each_fn(l, [&](pollfn &fn) {
		if (armed) {
			fn.exit_interrupt_mode();
			armed--;
		}
	});
}

int add_fn(const char *what, unsigned lcore, pollfn &fn, pollfn *(lcore_loop::*arr)[max_fns],
	   unsigned lcore_loop::*count)
{
	if (lcore >= max_lcores) {
		BH_LOG(ERR, log::lcore, "%s: lcore %u out of range", what, lcore);
		return -EINVAL;
	}
	lcore_loop &l = loops[lcore];
	if (l.running.load(std::memory_order_acquire)) {
		BH_LOG(ERR, log::lcore, "%s: lcore %u loop is running", what, lcore);
		return -EBUSY;
	}
	if (l.*count >= max_fns) {
		BH_LOG(ERR, log::lcore, "%s: lcore %u already has %u", what, lcore, max_fns);
		return -ENOSPC;
	}
	(l.*arr)[l.*count] = &fn;
	l.*count += 1;
	return 0;
}

} // namespace

int start() noexcept
{
	if (rte_lcore_count() == 0) {
		BH_LOG(ERR, log::lcore, "bh::start: the EAL is not initialised");
		return -ENODEV;
	}
	if (framework_started.exchange(true)) {
		BH_LOG(ERR, log::lcore, "bh::start: already started");
		return -EALREADY;
	}
	share_window = detail::ns_to_cycles(1000000);
	if (const int rc = detail::subsys_open_all()) {
		framework_started.store(false);
		return rc;
	}
	return 0;
}

int stop() noexcept
{
	const unsigned self = lcore_id();
	if (self < max_lcores && loops[self].running.load(std::memory_order_acquire)) {
		BH_LOG(ERR, log::lcore, "bh::stop: called from lcore %u's own loop", self);
		return -EDEADLK;
	}
	if (!framework_started.load()) {
		BH_LOG(ERR, log::lcore, "bh::stop: not started");
		return -EALREADY;
	}
	for (unsigned l = 0; l < max_lcores; l++)
		if (loops[l].running.load(std::memory_order_acquire))
			lcore_request_stop(l);
	for (unsigned l = 0; l < max_lcores; l++)
		while (loops[l].running.load(std::memory_order_acquire))
			std::this_thread::sleep_for(std::chrono::microseconds(100));
	detail::subsys_close_all();
	framework_started.store(false);
	return 0;
}

bool started() noexcept
{
	return framework_started.load(std::memory_order_acquire);
}

int lcore_attach() noexcept
{
	const unsigned id = rte_lcore_id();
	if (id == LCORE_ID_ANY) {
		BH_LOG(ERR, log::lcore, "lcore_attach: calling thread is not a DPDK lcore "
					"(launch it from the EAL or call rte_thread_register first)");
		return -ENODEV;
	}
	lcore_loop &l = loops[id];
	if (l.attached.load(std::memory_order_relaxed))
		return 0;
	if (const int rc = make_wakeup_set(l, id))
		return rc;
	detail::tl_lcore = id;
	detail::tl_role = detail::thread_role::lcore;
	/* An EAL lcore was the framework's from the start, a registered thread becomes one now. */
	const bool joins = !detail::lcore_valid(id);
	detail::lcore_register(id);
	if (joins && started()) {
		if (const int rc = detail::subsys_lcore_up(id)) {
			detail::lcore_unregister(id);
			detail::tl_lcore = no_lcore;
			detail::tl_role = detail::thread_role::other;
			return rc;
		}
	}
	l.attached.store(true, std::memory_order_release);
	return 0;
}

int lcore_detach() noexcept
{
	const unsigned id = detail::tl_lcore;
	if (id >= max_lcores || !loops[id].attached.load(std::memory_order_relaxed)) {
		BH_LOG(ERR, log::lcore, "lcore_detach: calling thread is not attached");
		return -ENODEV;
	}
	lcore_loop &l = loops[id];
	if (l.running.load(std::memory_order_relaxed)) {
		BH_LOG(ERR, log::lcore, "lcore_detach: lcore %u is inside its loop", id);
		return -EBUSY;
	}
	if (l.polled) {
		l.polled = false;
		detail::subsys_loop_stop(id);
	}
	const bool leaves = !rte_lcore_has_role(id, ROLE_RTE);
	if (leaves && started())
		detail::subsys_lcore_down(id);
	do_softirq();
	if (leaves)
		detail::lcore_unregister(id);
	l.attached.store(false, std::memory_order_release);
	detail::tl_lcore = no_lcore;
	detail::tl_role = detail::thread_role::other;
	return 0;
}

namespace {

/* The calling thread's loop if it is an attached lcore; logs for @p fn otherwise. */
lcore_loop *own_loop(const char *fn)
{
	const unsigned id = detail::tl_lcore;
	if (id < max_lcores && loops[id].attached.load(std::memory_order_relaxed))
		return &loops[id];
	BH_LOG(ERR, log::lcore, "%s: calling thread is not an attached lcore", fn);
	return nullptr;
}

irq_reg *find_irq(lcore_loop &l, int fd)
{
	for (irq_reg &r : l.irqs_reg)
		if (r.fd == fd)
			return &r;
	return nullptr;
}

int irq_ctl(const char *fn, int fd, uint32_t events)
{
	lcore_loop *l = own_loop(fn);
	if (!l)
		return -ENODEV;
	irq_reg *r = find_irq(*l, fd);
	if (!r) {
		BH_LOG(ERR, log::lcore, "%s: fd %d is not a requested irq", fn, fd);
		return -ENOENT;
	}
	epoll_event e{};
	e.events = events;
	e.data.ptr = r;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &e) == 0 ? 0 : -errno;
}

} // namespace

int lcore_request_irq(int fd, irq_handler handler, void *data) noexcept
{
	lcore_loop *l = own_loop("lcore_request_irq");
	if (!l)
		return -ENODEV;
	if (fd < 0 || !handler) {
		BH_LOG(ERR, log::lcore, "lcore_request_irq: bad fd %d or null handler", fd);
		return -EINVAL;
	}
	if (find_irq(*l, fd))
		return -EEXIST;
	irq_reg *r = find_irq(*l, -1);
	if (!r) {
		BH_LOG(ERR, log::lcore, "lcore_request_irq: lcore already has %u irqs", max_irqs);
		return -ENOSPC;
	}
	epoll_event e{};
	e.data.ptr = r;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		const int err = errno;
		BH_LOG(ERR, log::lcore, "lcore_request_irq: fd %d: %s", fd, strerror(err));
		return -err;
	}
	*r = irq_reg{fd, handler, data};
	return 0;
}

int lcore_enable_irq(int fd) noexcept
{
	return irq_ctl("lcore_enable_irq", fd, EPOLLIN);
}

int lcore_disable_irq(int fd) noexcept
{
	return irq_ctl("lcore_disable_irq", fd, 0);
}

int lcore_free_irq(unsigned lcore, int fd) noexcept
{
	if (lcore >= max_lcores)
		return -EINVAL;
	lcore_loop &l = loops[lcore];
	if (l.running.load(std::memory_order_acquire) && lcore != detail::tl_lcore) {
		BH_LOG(ERR, log::lcore, "lcore_free_irq: lcore %u's loop is running", lcore);
		return -EBUSY;
	}
	irq_reg *r = find_irq(l, fd);
	if (!r)
		return -ENOENT;
	epoll_ctl(l.epfd, EPOLL_CTL_DEL, fd, nullptr);
	*r = irq_reg{};
	return 0;
}

int lcore_add_top_half(unsigned lcore, pollfn &fn) noexcept
{
	return add_fn("lcore_add_top_half", lcore, fn, &lcore_loop::top, &lcore_loop::ntop);
}

int lcore_add_task(unsigned lcore, pollfn &fn) noexcept
{
	return add_fn("lcore_add_task", lcore, fn, &lcore_loop::tasks, &lcore_loop::ntasks);
}

int lcore_clear(unsigned lcore) noexcept
{
	if (lcore >= max_lcores)
		return -EINVAL;
	lcore_loop &l = loops[lcore];
	if (l.running.load(std::memory_order_acquire))
		return -EBUSY;
	l.ntop = l.ntasks = 0;
	return 0;
}

int lcore_set_idle(unsigned lcore, idle_mode mode, unsigned max_sleep_ms) noexcept
{
	if (lcore >= max_lcores || max_sleep_ms == 0) {
		BH_LOG(ERR, log::lcore, "lcore_set_idle: bad lcore %u or zero sleep timeout", lcore);
		return -EINVAL;
	}
	loops[lcore].idle.store(mode, std::memory_order_relaxed);
	loops[lcore].max_sleep_ms.store(max_sleep_ms, std::memory_order_relaxed);
	return 0;
}

int lcore_set_bh_share(unsigned lcore, unsigned percent) noexcept
{
	if (lcore >= max_lcores || percent == 0 || percent > 100) {
		BH_LOG(ERR, log::lcore, "lcore_set_bh_share: bad lcore %u or share %u%% (1..100)", lcore, percent);
		return -EINVAL;
	}
	loops[lcore].bh_share.store(percent, std::memory_order_relaxed);
	return 0;
}

int lcore_run() noexcept
{
	if (!started()) {
		BH_LOG(ERR, log::lcore, "lcore_run: bh::start() has not run");
		return -EPERM;
	}
	if (const int rc = lcore_attach())
		return rc;
	const unsigned id = lcore_id();
	lcore_loop &l = loops[id];
	softirq_lcore &s = softirq_state[id];
	if (l.running.exchange(true, std::memory_order_acq_rel)) {
		BH_LOG(ERR, log::lcore, "lcore_run: lcore %u already runs its loop", id);
		return -EALREADY;
	}
	detail::subsys_loop_start(id);
	/* A sleep of 10 us must not last the default 50 us of slack more. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	uint64_t t0 = rte_rdtsc();
	while (!l.stop_req.load(std::memory_order_relaxed)) {
		const bool work = iterate(id, l, s, t0);
		if (!work) {
			if (s.ksoftirqd_active.load(std::memory_order_relaxed)) {
				l.yields.add();
				sched_yield();
			} else if (l.idle.load(std::memory_order_relaxed) == idle_mode::sleep) {
				sleep_once(id, l);
			} else {
				rte_pause();
			}
		}
		const uint64_t t1 = rte_rdtsc();
		(work ? l.busy_cycles : l.idle_cycles).add(t1 - t0);
		t0 = t1;
	}
	do_softirq();
	if (!l.polled)
		detail::subsys_loop_stop(id);
	l.stop_req.store(false, std::memory_order_relaxed);
	l.running.store(false, std::memory_order_release);
	return 0;
}

int lcore_main(void *)
{
	return -lcore_run();
}

bool lcore_poll_once() noexcept
{
	if (detail::tl_role != detail::thread_role::lcore && lcore_attach() != 0)
		return false;
	const unsigned id = lcore_id();
	lcore_loop &l = loops[id];
	if (!l.polled) {
		l.polled = true;
		detail::subsys_loop_start(id);
	}
	return iterate(id, l, softirq_state[id], rte_rdtsc());
}

void lcore_request_stop(unsigned lcore) noexcept
{
	if (lcore >= max_lcores)
		return;
	loops[lcore].stop_req.store(true, std::memory_order_seq_cst);
	lcore_kick(lcore);
}

void lcore_kick(unsigned lcore) noexcept
{
	if (lcore < max_lcores)
		detail::kick(lcore);
}

lcore_stats lcore_get_stats(unsigned lcore) noexcept
{
	lcore_stats st;
	if (lcore >= max_lcores)
		return st;
	const lcore_loop &l = loops[lcore];
	st.iterations = l.iterations.read();
	st.busy = l.busy.read();
	st.sleeps = l.sleeps.read();
	st.wakeups = detail::softirq_state[lcore].wakeups.load(std::memory_order_relaxed);
	st.yields = l.yields.read();
	st.busy_cycles = l.busy_cycles.read();
	st.idle_cycles = l.idle_cycles.read();
	st.irqs = l.irqs.read();
	st.bh_held = l.bh_held.read();
	return st;
}

/* ---- telemetry and the start-up table's entry ---- */

namespace {

int lcore_list(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (unsigned l = 0; l < max_lcores; l++)
		if (detail::lcore_valid(l))
			rte_tel_data_add_array_int(d, int(l));
	return 0;
}

int lcore_reply(unsigned lcore, rte_tel_data *d)
{
	const lcore_stats s = lcore_get_stats(lcore);
	return detail::telemetry_reply(d, {{"iterations", s.iterations},
					   {"busy", s.busy},
					   {"sleeps", s.sleeps},
					   {"wakeups", s.wakeups},
					   {"yields", s.yields},
					   {"busy_cycles", s.busy_cycles},
					   {"idle_cycles", s.idle_cycles},
					   {"irqs", s.irqs},
					   {"bh_held", s.bh_held}});
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/lcore/list", lcore_list, "Returns the lcores the framework can run on (EAL or registered). No parameters"},
	{"/bh/lcore", detail::telemetry_per_lcore<lcore_reply>, "Returns the lcore loop's counters. Parameters: int lcore_id"},
};

} // namespace

const subsystem detail::lcore_subsystem = {
	.name = "lcore",
	.open = [] {
		static std::once_flag once;
		detail::telemetry_register_once(once, commands);
		return 0;
	},
};

} // namespace bh
