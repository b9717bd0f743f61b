/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <dlfcn.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "bh_context.h"
#include "bh_percpu.h"
#include "bh_workqueue.h"
#include "intrusive_inbox.h"
#include "kthread_private.h"
#include "log_private.h"
#include "percpu_private.h"
#include "spinlock_private.h"
#include "telemetry_private.h"
#include "time_private.h"
#include "wait_private.h"
#include "workqueue_private.h"
#include "workqueue_trace.h"

namespace bh {

namespace detail {

/*
 * A work item's state word: three bits and a queue generation.
 *   PENDING  queued or armed, not yet started: queue_work sets it, the
 *            worker that starts the item or a cancel clears it.
 *   QUEUED   physically on a pool's inbox or list, so its links are in
 *            use: set with PENDING by the queuer, cleared by whoever takes
 *            it off (a worker, or a cancel that steals it).
 *   RUNNING  its function runs; set and cleared by the worker.
 *   CANCELING  cancel_work_sync is in progress: queueing fails, so that an
 *            item that re-queues itself cannot outrun the cancel.
 * The generation counts successful queueings; started_ holds the generation
 * of the run that took RUNNING, done_ that of the last finished run: what
 * flush_work waits for, with RUNNING cleared, which is the worker's last
 * touch of the item (after it, the item may be freed).
 */
constexpr uint32_t pending_bit = 1, queued_bit = 2, running_bit = 4, canceling_bit = 8;
constexpr uint32_t gen_shift = 8, gen_inc = 1u << gen_shift, gen_mask = 0xffffffu;

struct work_access {
	static work *&next(work &w) { return w.next_; }
	static work *&prev(work &w) { return w.prev_; }
	static std::atomic<pool *> &pool_of(work &w) { return w.pool_; }
	static std::atomic<uint32_t> &state(work &w) { return w.state_; }
	static std::atomic<uint32_t> &done(work &w) { return w.done_; }
	static std::atomic<uint32_t> &started(work &w) { return w.started_; }
	static uint64_t &queued_tsc(work &w) { return w.queued_tsc_; }
	static void call(work &w) { w.func_(w.data_); }
	static work_func func(work &w) { return w.func_; }
	static timer &timer_of(delayed_work &d) { return d.timer_; }
	static std::atomic<workqueue *> &wq_of(delayed_work &d) { return d.wq_; }
	static pool *&pool_of(delayed_work &d) { return d.pool_; }
	static delayed_work *&armed_next(delayed_work &d) { return d.armed_next_; }
	static delayed_work *&armed_prev(delayed_work &d) { return d.armed_prev_; }
	static std::atomic<bool> &armed(delayed_work &d) { return d.armed_; }
};

/*
 * One worker thread. Field access: [I] set at creation; [W] its own thread
 * only; [A] any thread, atomically.
 */
struct worker {
	pool *p = nullptr;             /* [I] */
	unsigned index = 0;            /* [I] */
	std::thread thread;            /* [I] joined by stop_pool */
	std::atomic<uint64_t> busy{0}; /* [W] writes, [A] reads: odd while it holds an item (flush barriers wait on it) */
	work *current = nullptr;       /* [W] the item it runs, for the self-wait checks */
};

/*
 * One pool of workers. Field access:
 *   [I] set at creation
 *   [A] any thread, lock-free (producers on lcores)
 *   [M] under m, which only workers and cancel take: never an lcore's
 *       queueing path
 */
struct pool {
	workqueue *wq = nullptr; /* [I] */
	unsigned lcore = 0;      /* [I] no_lcore for an unbound pool */
	intrusive_inbox<work, &work_access::next> inbox; /* [A] push; consumer side [M] */
	std::mutex m;
	work *head = nullptr, *tail = nullptr; /* [M] FIFO of items taken from the inbox */
	std::vector<std::unique_ptr<worker>> workers; /* [I] */

	alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint32_t> wake{0}; /* futex word */
	std::atomic<int> sleepers{0};          /* [A] */
	std::atomic<bool> wake_posted{false};  /* [A] one futex wake per sleep */
	std::atomic<bool> stopping{false};     /* [A] */
	std::atomic<uint64_t> wakeups{0};      /* [A] */
	std::atomic<uint64_t> sleeps{0};       /* [A] workers */
};

} // namespace detail

using detail::pool;
using detail::worker;
using access = detail::work_access;
using detail::pending_bit;
using detail::queued_bit;
using detail::running_bit;
using detail::canceling_bit;

/*
 * A queue. Field access: [I] set at creation (pools of lcores that attach
 * later: added once, kept until destroy); [A] atomic, any thread; [L] of
 * each lcore; [Q] under armed_lock, which queue_delayed_work, a firing, a
 * cancel and destroy hold for a list update only.
 */
struct workqueue {
	std::string name;                 /* [I] */
	workqueue_attrs attrs;            /* [I] */
	std::atomic<pool *> pools[max_lcores]{}; /* [I] bound: one per lcore */
	pool *unbound = nullptr;          /* [I] */
	std::atomic<bool> draining{false}; /* [A] set by drain and destroy: only its own workers may queue */
	std::atomic<bool> armed_lock{false};
	delayed_work *armed = nullptr;    /* [Q] delayed work whose timer would queue it here */
	bool dying = false;               /* [Q] destroy has begun: no more arming */
	std::atomic<unsigned> arming{0};  /* [A] queue_delayed_work calls between linking and arming */
	std::atomic<unsigned> firing{0};  /* [A] firings between leaving the armed list and their push */
	per_lcore<lcore_counter> queued_lcore; /* [L] of each lcore */
	std::atomic<uint64_t> queued_other{0}, started{0}, run{0}, canceled{0}, max_latency{0}; /* [A] */
};

namespace {

/* Never destroyed: telemetry may walk the registry while the process exits. */
std::mutex &registry_m = *new std::mutex;
std::vector<workqueue *> &registry = *new std::vector<workqueue *>; /* under registry_m */
std::atomic<workqueue *> events_wq{nullptr}; /* set by bh::start(), cleared by bh::stop() */

thread_local worker *tl_worker = nullptr;

/* flush_workqueue's barrier items: queued like work, not counted as work. */
void barrier_run(void *self);
bool is_barrier(work &w)
{
	return access::func(w) == &barrier_run;
}

/* ---- pool lists, under pool::m ---- */

void fifo_append(pool &p, work &w)
{
	access::next(w) = nullptr;
	access::prev(w) = p.tail;
	if (p.tail)
		access::next(*p.tail) = &w;
	else
		p.head = &w;
	p.tail = &w;
}

void fifo_unlink(pool &p, work &w)
{
	work *prev = access::prev(w), *next = access::next(w);
	(prev ? access::next(*prev) : p.head) = next;
	(next ? access::prev(*next) : p.tail) = prev;
	access::prev(w) = access::next(w) = nullptr;
}

bool fifo_contains(const pool &p, work &w)
{
	return p.head == &w || access::prev(w) != nullptr;
}

void splice_inbox(pool &p)
{
	p.inbox.drain([&](work &w) { fifo_append(p, w); });
}

/* ---- queueing: any context, lock-free ---- */

void count_queued(workqueue &wq)
{
	const unsigned id = lcore_id();
	if (id < max_lcores && detail::current_role() == detail::thread_role::lcore)
		wq.queued_lcore[id].add();
	else
		wq.queued_other.fetch_add(1, std::memory_order_relaxed);
}

void wake_one(pool &p)
{
	p.wakeups.fetch_add(1, std::memory_order_relaxed);
	p.wake.fetch_add(1, std::memory_order_release);
	p.wake.notify_one();
}

/* Puts an item whose QUEUED bit the caller has just set on @p p. */
void push(pool &p, work &w)
{
	access::queued_tsc(w) = rte_rdtsc();
	access::pool_of(w).store(&p, std::memory_order_release);
	bh_trace_workqueue_queue_work(p.wq->name.c_str(), &w, access::func(w), p.lcore);
	p.inbox.push(w);
	if (!is_barrier(w))
		count_queued(*p.wq);
	/* seq_cst pairs with a worker's sleepers increment before it re-checks the inbox. */
	if (p.sleepers.load(std::memory_order_seq_cst) > 0 && !p.wake_posted.exchange(true))
		wake_one(p);
}

pool *pick_pool(workqueue &wq, unsigned lcore)
{
	if (wq.unbound)
		return wq.unbound;
	if (lcore == no_lcore) {
		if (tl_worker && tl_worker->p->wq == &wq)
			return tl_worker->p;
		lcore = lcore_id();
	}
	if (lcore < max_lcores)
		if (pool *p = wq.pools[lcore].load(std::memory_order_acquire))
			return p;
	return wq.pools[rte_get_main_lcore()].load(std::memory_order_acquire);
}

bool refuse_while_draining(workqueue &wq)
{
	if (!wq.draining.load(std::memory_order_acquire) || (tl_worker && tl_worker->p->wq == &wq))
		return false;
	BH_LOG(WARNING, log::workqueue, "queue_work: %s is being drained, refused", wq.name.c_str());
	return true;
}

bool queue_on(pool *p, workqueue &wq, work &w)
{
	if (!p) {
		BH_LOG(ERR, log::workqueue, "queue_work: %s has no pool for that lcore", wq.name.c_str());
		return false;
	}
	if (refuse_while_draining(wq))
		return false;
	std::atomic<uint32_t> &state = access::state(w);
	uint32_t s = state.load(std::memory_order_relaxed);
	uint32_t ns;
	do {
		if (s & (pending_bit | canceling_bit))
			return false;
		ns = (s | pending_bit | queued_bit) + detail::gen_inc;
	} while (!state.compare_exchange_weak(s, ns, std::memory_order_acq_rel, std::memory_order_relaxed));
	/* Still linked after a cancel lost a race: it runs where it is. */
	if (!(s & queued_bit))
		push(*p, w);
	return true;
}

/* ---- taking items off a pool: workers and cancel ---- */

void clear_queued(work &w)
{
	access::pool_of(w).store(nullptr, std::memory_order_relaxed);
	access::state(w).fetch_and(~queued_bit, std::memory_order_release);
}

/*
 * Removes @p w from the pool it is linked on. Waits out a queuer that has
 * set QUEUED but not pushed yet, and a worker that has taken it but not
 * cleared QUEUED yet. Returns true if this call took it off.
 */
bool steal(work &w)
{
	for (;;) {
		if (!(access::state(w).load(std::memory_order_acquire) & queued_bit))
			return false;
		pool *p = access::pool_of(w).load(std::memory_order_acquire);
		if (p) {
			std::lock_guard lock(p->m);
			splice_inbox(*p);
			if (access::pool_of(w).load(std::memory_order_relaxed) == p && fifo_contains(*p, w)) {
				fifo_unlink(*p, w);
				clear_queued(w);
				p->wq->canceled.fetch_add(1, std::memory_order_relaxed);
				return true;
			}
		}
		std::this_thread::yield();
	}
}

/* Next item for a worker, sleeping while there is none; nullptr when stopping. */
work *take(pool &p)
{
	for (;;) {
		{
			std::lock_guard lock(p.m);
			if (!p.head)
				splice_inbox(p);
			if (work *w = p.head) {
				fifo_unlink(p, *w);
				clear_queued(*w);
				/* More left and someone asleep: let it help (max_active > 1). */
				if (p.head && p.sleepers.load(std::memory_order_seq_cst) > 0)
					wake_one(p);
				return w;
			}
		}
		if (p.stopping.load(std::memory_order_acquire))
			return nullptr;
		/*
		 * Announce the sleep (a queuer may wake us from now on, once:
		 * wake_posted), then look once more before really sleeping.
		 */
		p.wake_posted.store(false, std::memory_order_relaxed);
		const uint32_t seen = p.wake.load(std::memory_order_acquire);
		p.sleeps.fetch_add(1, std::memory_order_relaxed);
		p.sleepers.fetch_add(1, std::memory_order_seq_cst);
		if (p.inbox.empty() && !p.stopping.load(std::memory_order_seq_cst))
			p.wake.wait(seen, std::memory_order_acquire);
		p.sleepers.fetch_sub(1, std::memory_order_relaxed);
	}
}

void note_latency(workqueue &wq, uint64_t cycles)
{
	uint64_t cur = wq.max_latency.load(std::memory_order_relaxed);
	while (cycles > cur && !wq.max_latency.compare_exchange_weak(cur, cycles, std::memory_order_relaxed))
		;
}

/* Runs @p w unless it was canceled; waits first if it runs elsewhere. */
void process(pool &p, work &w)
{
	std::atomic<uint32_t> &state = access::state(w);
	uint32_t s = state.load(std::memory_order_acquire);
	uint64_t queued_at;
	for (;;) {
		if (!(s & pending_bit)) {
			p.wq->canceled.fetch_add(1, std::memory_order_relaxed);
			return;
		}
		if (s & running_bit) {
			/*
			 * Never concurrently with itself: wait for the other run. By
			 * polling, not on the state word: the worker that clears RUNNING
			 * must not touch the item afterwards (a futex wake would).
			 */
			detail::wait_for([&] { return !(state.load(std::memory_order_acquire) & running_bit); });
			s = state.load(std::memory_order_acquire);
			continue;
		}
		/* Read while PENDING still keeps queuers (who write it) away. */
		queued_at = access::queued_tsc(w);
		access::started(w).store((s >> detail::gen_shift) & detail::gen_mask, std::memory_order_relaxed);
		if (state.compare_exchange_weak(s, (s & ~pending_bit) | running_bit, std::memory_order_acq_rel,
						std::memory_order_acquire))
			break;
	}
	const bool counted = !is_barrier(w);
	if (counted) {
		p.wq->started.fetch_add(1, std::memory_order_relaxed);
		note_latency(*p.wq, rte_rdtsc() - queued_at);
	}
	bh_trace_workqueue_execute_start(&w, access::func(w));
	tl_worker->current = &w;
	access::call(w);
	tl_worker->current = nullptr;
	bh_trace_workqueue_execute_end(&w, access::func(w));
	if (counted)
		p.wq->run.fetch_add(1, std::memory_order_relaxed);
	access::done(w).store((s >> detail::gen_shift) & detail::gen_mask, std::memory_order_release);
	/* The last touch of the item. */
	state.fetch_and(~running_bit, std::memory_order_release);
}

void worker_main(worker *self)
{
	tl_worker = self;
	pool &p = *self->p;
	while (work *w = take(p)) {
		self->busy.fetch_add(1, std::memory_order_release);
		process(p, *w);
		self->busy.fetch_add(1, std::memory_order_release);
	}
}

void stop_pool(pool &p)
{
	p.stopping.store(true, std::memory_order_seq_cst);
	p.wake.fetch_add(1, std::memory_order_release);
	p.wake.notify_all();
	for (auto &w : p.workers)
		if (w->thread.joinable())
			w->thread.join();
}

/*
 * Where a pool's workers run: on any online CPU but those of the lcore
 * the pool serves, which busy-polls (a worker there would take the lcore's
 * time whenever it has work); on any online CPU for an unbound pool or when
 * the lcore has them all. Set explicitly, because a thread inherits its
 * creator's affinity, and the creator is often a pinned lcore.
 */
rte_cpuset_t worker_cpus(unsigned lcore)
{
	rte_cpuset_t set;
	CPU_ZERO(&set);
	const long online = sysconf(_SC_NPROCESSORS_ONLN);
	for (long c = 0; c < online && c < CPU_SETSIZE; c++)
		CPU_SET(int(c), &set);
	const unsigned all = unsigned(CPU_COUNT(&set));
	if (lcore != no_lcore) {
		const rte_cpuset_t lcore_cpus = detail::lcore_cpus(lcore);
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &lcore_cpus))
				CPU_CLR(c, &set);
	}
	if (CPU_COUNT(&set) == 0)
		for (unsigned c = 0; c < all; c++)
			CPU_SET(int(c), &set);
	return set;
}

pool *make_pool(workqueue &wq, unsigned lcore)
{
	auto p = std::make_unique<pool>();
	p->wq = &wq;
	p->lcore = lcore;
	for (unsigned i = 0; i < wq.attrs.max_active; i++) {
		auto w = std::make_unique<worker>();
		w->p = p.get();
		w->index = i;
		/* events/3, or events/3.1 with several workers; u for unbound. */
		char name[32];
		if (lcore == no_lcore)
			snprintf(name, sizeof(name), "%s/u%u", wq.name.c_str(), i);
		else if (wq.attrs.max_active > 1)
			snprintf(name, sizeof(name), "%s/%u.%u", wq.name.c_str(), lcore, i);
		else
			snprintf(name, sizeof(name), "%s/%u", wq.name.c_str(), lcore);
		const detail::kthread_attr attr{name, worker_cpus(lcore), wq.attrs.highpri ? -20 : 0, log::workqueue};
		try {
			w->thread = detail::kthread_start(attr, [self = w.get()](auto ready) {
				ready();
				worker_main(self);
			});
		} catch (const std::system_error &e) {
			BH_LOG(ERR, log::workqueue, "%s: cannot create worker %s: %s", wq.name.c_str(), name, e.what());
			p->workers.push_back(std::move(w));
			stop_pool(*p);
			return nullptr;
		}
		p->workers.push_back(std::move(w));
	}
	return p.release();
}

template <class F>
void for_each_pool(workqueue &wq, F &&f)
{
	if (wq.unbound) {
		f(*wq.unbound);
		return;
	}
	for (unsigned l = 0; l < max_lcores; l++)
		if (pool *p = wq.pools[l].load(std::memory_order_acquire))
			f(*p);
}

bool own_worker(const workqueue &wq)
{
	return tl_worker && tl_worker->p->wq == &wq;
}

/* flush_workqueue's barrier: queued behind everything, then waits for the items other workers hold. */
struct barrier {
	std::atomic<bool> done{false};
	work item{&barrier_run, this};
};

void barrier_run(void *self)
{
	for (auto &other : tl_worker->p->workers) {
		const uint64_t b = other->busy.load(std::memory_order_acquire);
		if (other.get() != tl_worker && (b & 1))
			detail::wait_for([&] { return other->busy.load(std::memory_order_acquire) != b; });
	}
	static_cast<barrier *>(self)->done.store(true, std::memory_order_release);
}

bool pool_idle(pool &p)
{
	std::lock_guard lock(p.m);
	if (p.head || !p.inbox.empty())
		return false;
	return std::all_of(p.workers.begin(), p.workers.end(),
			   [&](const auto &w) { return !(w->busy.load() & 1) || w.get() == tl_worker; });
}

int blocking_check(const char *fn, const workqueue *wq)
{
	if (wq && own_worker(*wq)) {
		BH_LOG(ERR, log::workqueue, "%s: called from a worker of %s, it would wait for itself", fn,
		       wq->name.c_str());
		return -EDEADLK;
	}
	return might_sleep(fn);
}

/*
 * The checks of a call that waits for @p w: not from @p w itself, nor, when
 * @p wait_queued, from the only worker of the pool @p w is queued on (it
 * would run after the caller returns), nor from atomic context.
 */
int item_wait_check(const char *fn, work &w, bool wait_queued)
{
	if (tl_worker && tl_worker->current == &w) {
		BH_LOG(ERR, log::workqueue, "%s: called from the work item itself, it would wait for itself", fn);
		return -EDEADLK;
	}
	if (wait_queued && tl_worker && tl_worker->p->workers.size() == 1 &&
	    (access::state(w).load(std::memory_order_acquire) & queued_bit) &&
	    access::pool_of(w).load(std::memory_order_acquire) == tl_worker->p) {
		BH_LOG(ERR, log::workqueue,
		       "%s: the item is queued behind the caller on %s's only worker, it would wait for itself", fn,
		       tl_worker->p->wq->name.c_str());
		return -EDEADLK;
	}
	return might_sleep(fn);
}

/* ---- the armed delayed work of a queue: [Q] ---- */

void armed_link(workqueue &wq, delayed_work &dw)
{
	access::armed_prev(dw) = nullptr;
	access::armed_next(dw) = wq.armed;
	if (wq.armed)
		access::armed_prev(*wq.armed) = &dw;
	wq.armed = &dw;
	access::armed(dw).store(true, std::memory_order_release);
}

void armed_unlink(workqueue &wq, delayed_work &dw)
{
	if (!access::armed(dw).load(std::memory_order_relaxed))
		return;
	delayed_work *prev = access::armed_prev(dw), *next = access::armed_next(dw);
	(prev ? access::armed_next(*prev) : wq.armed) = next;
	if (next)
		access::armed_prev(*next) = prev;
	access::armed_next(dw) = access::armed_prev(dw) = nullptr;
	access::armed(dw).store(false, std::memory_order_release);
}

void armed_remove(delayed_work &dw)
{
	if (!access::armed(dw).load(std::memory_order_acquire))
		return;
	workqueue &wq = *access::wq_of(dw).load(std::memory_order_acquire);
	detail::spin_lock(wq.armed_lock);
	armed_unlink(wq, dw);
	detail::spin_unlock(wq.armed_lock);
}

/* The item's function, by name where the dynamic symbol table has it, for logs. */
std::string describe(work &w)
{
	char buf[160];
	Dl_info info{};
	const auto fn = reinterpret_cast<void *>(access::func(w));
	if (dladdr(fn, &info) && info.dli_sname)
		snprintf(buf, sizeof(buf), "%p (%s)", static_cast<void *>(&w), info.dli_sname);
	else
		snprintf(buf, sizeof(buf), "%p (function %p)", static_cast<void *>(&w), fn);
	return buf;
}

} // namespace

/* ---- work and delayed_work ---- */

bool work::pending() const noexcept
{
	return state_.load(std::memory_order_acquire) & pending_bit;
}

bool work::running() const noexcept
{
	return state_.load(std::memory_order_acquire) & running_bit;
}

delayed_work::delayed_work(work_func fn, void *data) noexcept : work(fn, data), timer_(&fire, this) {}

delayed_work::~delayed_work()
{
	armed_remove(*this);
}

namespace {

/*
 * Its timer fired (or flush_delayed_work stands in for it): queue it where
 * it was queued for. Counted in firing from before it leaves the armed list
 * until its push is over, so that destroy_workqueue, which no longer finds
 * it on the list, still waits before it frees the pool.
 */
void queue_fired(delayed_work &dw)
{
	workqueue &wq = *access::wq_of(dw).load(std::memory_order_acquire);
	detail::spin_lock(wq.armed_lock);
	wq.firing.fetch_add(1, std::memory_order_relaxed);
	armed_unlink(wq, dw);
	detail::spin_unlock(wq.armed_lock);
	std::atomic<uint32_t> &state = access::state(dw);
	uint32_t s = state.load(std::memory_order_relaxed);
	bool queue = false;
	while ((s & pending_bit) && !(s & queued_bit) && !queue)
		queue = state.compare_exchange_weak(s, s | queued_bit, std::memory_order_acq_rel, std::memory_order_relaxed);
	if (queue)
		push(*access::pool_of(dw), dw);
	wq.firing.fetch_sub(1, std::memory_order_release);
}

} // namespace

void delayed_work::fire(timer &, void *self)
{
	queue_fired(*static_cast<delayed_work *>(self));
}

/* ---- queues ---- */

workqueue *create_workqueue(const char *name, const workqueue_attrs &attrs) noexcept
{
	if (!name || !*name || attrs.max_active == 0) {
		BH_LOG(ERR, log::workqueue, "create_workqueue: %s", !name || !*name ? "empty name" : "max_active is 0");
		return nullptr;
	}
	auto wq = std::make_unique<workqueue>();
	wq->name = name;
	wq->attrs = attrs;
	if (attrs.ordered) {
		wq->attrs.unbound = true;
		wq->attrs.max_active = 1;
	}
	if (wq->attrs.unbound) {
		wq->unbound = make_pool(*wq, no_lcore);
		if (!wq->unbound)
			return nullptr;
	} else {
		for (unsigned l = 0; l < max_lcores; l++) {
			if (!detail::lcore_valid(l))
				continue;
			pool *p = make_pool(*wq, l);
			if (!p) {
				for_each_pool(*wq, [](pool &q) { stop_pool(q); delete &q; });
				return nullptr;
			}
			wq->pools[l].store(p, std::memory_order_release);
		}
	}
	std::lock_guard lock(registry_m);
	registry.push_back(wq.get());
	return wq.release();
}

workqueue *create_ordered_workqueue(const char *name) noexcept
{
	workqueue_attrs a;
	a.ordered = true;
	return create_workqueue(name, a);
}

namespace {

/*
 * destroy_workqueue's first step: no more arming for @p wq, then each
 * delayed work still armed for it is stopped (a firing running elsewhere
 * is waited for: it may be queueing it, which the drain then runs) and, if
 * its timer had not fired, canceled. Returns how many were.
 */
int cancel_armed(workqueue &wq)
{
	detail::spin_lock(wq.armed_lock);
	wq.dying = true;
	detail::spin_unlock(wq.armed_lock);
	detail::wait_for([&] { return wq.arming.load(std::memory_order_acquire) == 0; });
	int n = 0;
	for (;;) {
		detail::spin_lock(wq.armed_lock);
		delayed_work *dw = wq.armed;
		if (dw)
			armed_unlink(wq, *dw);
		detail::spin_unlock(wq.armed_lock);
		if (!dw)
			break;
		timer_del_sync(access::timer_of(*dw));
		std::atomic<uint32_t> &state = access::state(*dw);
		uint32_t s = state.load(std::memory_order_acquire);
		while ((s & pending_bit) && !(s & queued_bit))
			if (state.compare_exchange_weak(s, s & ~pending_bit, std::memory_order_acq_rel)) {
				n++;
				wq.canceled.fetch_add(1, std::memory_order_relaxed);
				BH_LOG(WARNING, log::workqueue, "destroy_workqueue: %s: canceled delayed work %s, armed and not fired",
				       wq.name.c_str(), describe(*dw).c_str());
				break;
			}
	}
	detail::wait_for([&] { return wq.firing.load(std::memory_order_acquire) == 0; });
	return n;
}

void flush_pools(workqueue &wq);
void drain(workqueue &wq);

} // namespace

int destroy_workqueue(workqueue *wq) noexcept
{
	if (const int rc = blocking_check("destroy_workqueue", wq))
		return rc;
	const int canceled = cancel_armed(*wq);
	drain(*wq);
	{
		std::lock_guard lock(registry_m);
		registry.erase(std::remove(registry.begin(), registry.end(), wq), registry.end());
	}
	for_each_pool(*wq, [](pool &p) {
		stop_pool(p);
		delete &p;
	});
	delete wq;
	return canceled;
}

bool queue_work(workqueue *wq, work &w) noexcept
{
	return queue_on(pick_pool(*wq, no_lcore), *wq, w);
}

bool queue_work_on(unsigned lcore, workqueue *wq, work &w) noexcept
{
	if (!wq->unbound && (lcore >= max_lcores || !wq->pools[lcore].load(std::memory_order_acquire))) {
		BH_LOG(ERR, log::workqueue, "queue_work_on: %s has no pool for lcore %u", wq->name.c_str(), lcore);
		return false;
	}
	return queue_on(pick_pool(*wq, lcore), *wq, w);
}

bool queue_delayed_work(workqueue *wq, delayed_work &dw, uint64_t delay_ns) noexcept
{
	if (delay_ns == 0)
		return queue_work(wq, dw);
	if (refuse_while_draining(*wq))
		return false;
	pool *p = pick_pool(*wq, no_lcore);
	if (!p) {
		BH_LOG(ERR, log::workqueue, "queue_delayed_work: %s has no pool for this lcore", wq->name.c_str());
		return false;
	}
	std::atomic<uint32_t> &state = access::state(dw);
	uint32_t s = state.load(std::memory_order_relaxed);
	do {
		if (s & (pending_bit | canceling_bit))
			return false;
	} while (!state.compare_exchange_weak(s, (s | pending_bit) + detail::gen_inc, std::memory_order_acq_rel,
					      std::memory_order_relaxed));
	/* PENDING was clear, so it is on no queue's armed list: a firing and every cancel take it off. */
	access::pool_of(dw) = p;
	access::wq_of(dw).store(wq, std::memory_order_release);
	detail::spin_lock(wq->armed_lock);
	const bool dying = wq->dying;
	if (!dying) {
		armed_link(*wq, dw);
		wq->arming.fetch_add(1, std::memory_order_acq_rel);
	}
	detail::spin_unlock(wq->armed_lock);
	if (dying) {
		state.fetch_and(~pending_bit, std::memory_order_release);
		BH_LOG(WARNING, log::workqueue, "queue_delayed_work: %s is being destroyed, refused", wq->name.c_str());
		return false;
	}
	const int rc = timer_mod(access::timer_of(dw), delay_ns);
	if (rc < 0) {
		armed_remove(dw);
		state.fetch_and(~pending_bit, std::memory_order_release);
	}
	wq->arming.fetch_sub(1, std::memory_order_acq_rel);
	return rc >= 0;
}

bool cancel_delayed_work(delayed_work &dw) noexcept
{
	/* A firing that is due will not run; one running elsewhere finishes queueing, and steal takes it back. */
	timer_del(access::timer_of(dw));
	armed_remove(dw);
	steal(dw);
	const uint32_t s = access::state(dw).fetch_and(~pending_bit, std::memory_order_acq_rel);
	return s & pending_bit;
}

bool mod_delayed_work(workqueue *wq, delayed_work &dw, uint64_t delay_ns) noexcept
{
	const bool was = cancel_delayed_work(dw);
	queue_delayed_work(wq, dw, delay_ns);
	return was;
}

namespace {

/* The _sync cancels: no queueing meanwhile, remove, wait for the running instance. */
template <class Cancel>
int cancel_sync(work &w, const char *fn, Cancel &&cancel)
{
	if (const int rc = item_wait_check(fn, w, false))
		return rc;
	std::atomic<uint32_t> &state = access::state(w);
	state.fetch_or(canceling_bit, std::memory_order_acq_rel);
	const bool was = cancel();
	detail::wait_for([&] { return !(state.load(std::memory_order_acquire) & (running_bit | queued_bit)); });
	state.fetch_and(~canceling_bit, std::memory_order_release);
	return was ? 1 : 0;
}

} // namespace

int cancel_work_sync(work &w) noexcept
{
	return cancel_sync(w, "cancel_work_sync", [&] {
		steal(w);
		return bool(access::state(w).fetch_and(~pending_bit, std::memory_order_acq_rel) & pending_bit);
	});
}

int cancel_delayed_work_sync(delayed_work &dw) noexcept
{
	return cancel_sync(dw, "cancel_delayed_work_sync", [&] { return cancel_delayed_work(dw); });
}

namespace {

int flush_item(work &w)
{
	std::atomic<uint32_t> &state = access::state(w);
	const uint32_t s = state.load(std::memory_order_acquire);
	if (!(s & (pending_bit | running_bit)))
		return 0;
	const uint32_t target = (s >> detail::gen_shift) & detail::gen_mask;
	detail::wait_for([&] {
		const uint32_t st = state.load(std::memory_order_acquire);
		const uint32_t done = access::done(w).load(std::memory_order_acquire);
		/* That run finished and let go of the item (a later run may hold it). */
		if (((done - target) & detail::gen_mask) < (detail::gen_mask >> 1))
			return !(st & running_bit) || access::started(w).load(std::memory_order_acquire) != target;
		/* Canceled since: nothing left to wait for once it stops running. */
		return !(st & (pending_bit | running_bit));
	});
	return 1;
}

} // namespace

int flush_work(work &w) noexcept
{
	if (const int rc = item_wait_check("flush_work", w, true))
		return rc;
	return flush_item(w);
}

int flush_delayed_work(delayed_work &dw) noexcept
{
	if (const int rc = item_wait_check("flush_delayed_work", dw, true))
		return rc;
	/* Armed and now stopped before firing: queue it as the firing would have. */
	if (timer_del_sync(access::timer_of(dw)) > 0)
		queue_fired(dw);
	/* Queued just now on the caller's only worker? Then waiting would be waiting for itself. */
	if (const int rc = item_wait_check("flush_delayed_work", dw, true))
		return rc;
	return flush_item(dw);
}

int flush_workqueue(workqueue *wq) noexcept
{
	if (const int rc = blocking_check("flush_workqueue", wq))
		return rc;
	flush_pools(*wq);
	return 0;
}

namespace {

void flush_pools(workqueue &wq)
{
	std::vector<std::unique_ptr<barrier>> barriers;
	for_each_pool(wq, [&](pool &p) {
		auto b = std::make_unique<barrier>();
		access::state(b->item).store(pending_bit | queued_bit, std::memory_order_relaxed);
		push(p, b->item);
		barriers.push_back(std::move(b));
	});
	for (auto &b : barriers)
		detail::wait_for([&] { return b->done.load(std::memory_order_acquire) && !b->item.running(); });
}

void drain(workqueue &wq)
{
	wq.draining.store(true, std::memory_order_release);
	for (;;) {
		flush_pools(wq);
		bool idle = true;
		for_each_pool(wq, [&](pool &p) { idle = idle && pool_idle(p); });
		if (idle)
			break;
	}
	wq.draining.store(false, std::memory_order_release);
}

} // namespace

int drain_workqueue(workqueue *wq) noexcept
{
	if (const int rc = blocking_check("drain_workqueue", wq))
		return rc;
	drain(*wq);
	return 0;
}

workqueue *system_wq() noexcept
{
	return events_wq.load(std::memory_order_acquire);
}

namespace {

/* The default queue, or nullptr (logged for @p fn) outside bh::start() .. bh::stop(). */
workqueue *events_for(const char *fn)
{
	workqueue *wq = events_wq.load(std::memory_order_acquire);
	if (!wq)
		BH_LOG(ERR, log::workqueue, "%s: the default queue exists only between bh::start() and bh::stop()", fn);
	return wq;
}

} // namespace

bool schedule_work(work &w) noexcept
{
	workqueue *wq = events_for("schedule_work");
	return wq && queue_work(wq, w);
}

bool schedule_delayed_work(delayed_work &dw, uint64_t delay_ns) noexcept
{
	workqueue *wq = events_for("schedule_delayed_work");
	return wq && queue_delayed_work(wq, dw, delay_ns);
}

int flush_scheduled_work() noexcept
{
	workqueue *wq = events_for("flush_scheduled_work");
	return wq ? flush_workqueue(wq) : -EPERM;
}

workqueue_stats workqueue_get_stats(const workqueue *wq) noexcept
{
	workqueue_stats st;
	auto &q = const_cast<workqueue &>(*wq);
	st.queued = q.queued_other.load(std::memory_order_relaxed);
	for (unsigned l = 0; l < max_lcores; l++)
		st.queued += q.queued_lcore[l].read();
	st.run = q.run.load(std::memory_order_relaxed);
	st.canceled = q.canceled.load(std::memory_order_relaxed);
	const uint64_t gone = q.started.load(std::memory_order_relaxed) + st.canceled;
	st.pending = st.queued > gone ? st.queued - gone : 0;
	st.max_latency_ns = detail::cycles_to_ns(q.max_latency.load(std::memory_order_relaxed));
	for_each_pool(q, [&](pool &p) {
		st.pools++;
		st.workers += unsigned(p.workers.size());
		st.wakeups += p.wakeups.load(std::memory_order_relaxed);
		st.sleeps += p.sleeps.load(std::memory_order_relaxed);
	});
	return st;
}

const char *workqueue_name(const workqueue *wq) noexcept
{
	return wq->name.c_str();
}

/* ---- telemetry and the start-up table's entry ---- */

namespace {

int workqueue_list(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	std::lock_guard lock(registry_m);
	for (const workqueue *wq : registry)
		rte_tel_data_add_array_string(d, wq->name.c_str());
	return 0;
}

/* Queue names need not be unique: the oldest queue of that name answers. */
int workqueue_info(const char *, const char *params, rte_tel_data *d)
{
	if (!params || !*params)
		return -EINVAL;
	std::lock_guard lock(registry_m);
	for (const workqueue *wq : registry) {
		if (wq->name != params)
			continue;
		const workqueue_stats s = workqueue_get_stats(wq);
		return detail::telemetry_reply(d, {{"queued", s.queued},
						   {"run", s.run},
						   {"canceled", s.canceled},
						   {"pending", s.pending},
						   {"wakeups", s.wakeups},
						   {"sleeps", s.sleeps},
						   {"max_latency_ns", s.max_latency_ns},
						   {"pools", s.pools},
						   {"workers", s.workers}});
	}
	return -EINVAL;
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/workqueue/list", workqueue_list, "Returns the names of the work queues. No parameters"},
	{"/bh/workqueue", workqueue_info, "Returns a work queue's counters. Parameters: string name"},
};

int open_events()
{
	static std::once_flag once;
	detail::telemetry_register_once(once, commands);
	workqueue *wq = create_workqueue("events");
	events_wq.store(wq, std::memory_order_release);
	return wq ? 0 : -ENOMEM;
}

void close_events()
{
	if (workqueue *wq = events_wq.exchange(nullptr))
		destroy_workqueue(wq);
}

/* Every bound queue gets a pool for the lcore. */
int pools_up(unsigned lcore)
{
	std::lock_guard lock(registry_m);
	for (workqueue *wq : registry) {
		if (wq->unbound || wq->pools[lcore].load(std::memory_order_acquire))
			continue;
		pool *p = make_pool(*wq, lcore);
		if (!p)
			return -ENOMEM;
		wq->pools[lcore].store(p, std::memory_order_release);
	}
	return 0;
}

} // namespace

const subsystem detail::workqueue_subsystem = {
	.name = "workqueue",
	.open = open_events,
	.close = close_events,
	.lcore_up = pools_up,
};

} // namespace bh
