/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * bh-bridge's forwarding database: MAC address -> port, read without locks
 * by every forwarding lcore, written by one owner in process context.
 *
 * The table is DPDK's rte_hash with lock-free reader/writer concurrency
 * (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF) and its integrated rte_rcu QSBR
 * defer queue: a deleted key's slot and its entry are reused only once every
 * lcore that might still hold them has left its read-side section
 * (reader_enter/reader_exit, one per burst). The value of a key is a
 * pointer to an fdb_entry from a fixed pool, so the fast path reads the
 * port and writes the last-seen time in place.
 *
 * In front of the table each lcore keeps a direct-mapped cache of entry
 * pointers (docs/design.md, "The lookup cache"): a hit costs a multiply
 * and two loads where the table's bulk lookup costs ~30 cycles a key. It
 * is never invalidated: an entry carries its address, and a cached
 * pointer counts only while its entry is live and holds the address
 * looked up. The pool's memory lives as long as the table, so a stale
 * pointer reads an entry of another address, or a free one, and misses.
 *
 * Who touches what (docs/design.md, "The forwarding database"):
 *   [O] the owner: the bridge's ordered work queue, whose items run one at
 *       a time in a worker thread (learning, aging, link flushes, dumps);
 *       before the lcores start, the thread setting the table up;
 *   [R] readers: the forwarding lcores (or their ksoftirqd) in NET_RX;
 *   [L] one lcore's own learn queue: its NET_RX (the producer: the lcore,
 *       or its ksoftirqd while that owns NET_RX, never both at once) and
 *       the owner (the consumer), through a bounded single-producer
 *       single-consumer boost::lockfree::spsc_queue; a full queue refuses
 *       the request and counts it (learn_queue_full), and the next frame
 *       from that address asks again.
 * Entry fields are atomics (relaxed) although rte_hash's release/acquire
 * already orders them: the sanitizers do not see inside DPDK's libraries,
 * and an atomic never shows as a race.
 */

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include <boost/lockfree/spsc_queue.hpp>

#include "bh_percpu.h"
#include "bh_workqueue.h"

namespace bridge {

/* A MAC address as the table keys it: its 6 bytes in the low 48 bits (little-endian load). */
using mac_t = uint64_t;

constexpr mac_t mac_mask = 0xffffffffffffull;

/* The 6 bytes at @p p (which must have 2 more readable bytes after them). */
inline mac_t mac_load(const void *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v & mac_mask;
}

mac_t mac_of(const rte_ether_addr &a);
rte_ether_addr ether_of(mac_t m);
/* The group bit: the first byte's least significant bit. */
inline bool mac_is_group(mac_t m) { return m & 1; }
/* "02:00:00:00:00:01" into @p out; false for anything else. */
bool mac_parse(const char *s, mac_t &out);

/* One FDB entry: a MAC address on a port. */
struct fdb_entry {
	static constexpr uint8_t live = 1;      /* in the table (cleared at delete, before reclamation) */
	static constexpr uint8_t is_static = 2; /* from the configuration: never aged, moved or flushed */
	std::atomic<mac_t> mac{0};       /* [O] */
	std::atomic<uint16_t> port{0};   /* [O] writes (a move), [R] reads */
	std::atomic<uint8_t> flags{0};   /* [O] */
	std::atomic<uint64_t> seen{0};   /* [R] writes: coarse TSC (>> seen_shift) of the last frame from it; [O] reads */
	uint32_t next_free = 0;          /* [O] free-list link */
};

/* The last-seen clock: TSC >> 20, about 0.4 ms at 2.6 GHz, so a busy entry is written rarely. */
constexpr unsigned seen_shift = 20;

struct fdb_config {
	unsigned learn_limit = 262144; /* learned (dynamic) entries at most; static ones come on top */
	uint64_t aging_ns = 300ull * 1000000000; /* 0: never */
	unsigned learn_ring = 16384;   /* learn requests queued per lcore */
	unsigned age_slice = 1024;     /* entries one aging run looks at */
	uint64_t carrier_poll_ns = 100000000; /* how often ports without LSC have their carrier read */
	unsigned cache_slots = 8192;   /* per lcore lookup cache: a power of two, 0 = none (table only) */
};

/* A lookup cache size fdb::init() takes: 0, or a power of two of 2 or more (one slot would make its hash a shift by 64). */
constexpr bool cache_slots_valid(unsigned slots)
{
	return slots != 1 && !(slots & (slots - 1));
}

/* The owner's counters. */
struct fdb_stats {
	uint64_t entries = 0, static_entries = 0;
	uint64_t learned = 0, moved = 0, aged = 0, flushed = 0;
	uint64_t limit_refused = 0; /* new addresses not learned: learn limit reached */
	uint64_t table_full = 0;    /* not learned: no free slot in the table */
	uint64_t learn_requests = 0, learn_queue_full = 0; /* summed over the lcores */
	uint64_t link_downs = 0, link_ups = 0;
	uint64_t age_runs = 0;
	/* Summed over the lcores: addresses looked up in a cache, those it missed, those sent past it. */
	uint64_t cache_lookups = 0, cache_misses = 0, cache_skipped = 0;
};

/* One entry as a dump shows it. */
struct fdb_row {
	mac_t mac;
	uint16_t port;
	bool is_static;
	uint64_t age_ns;
};

class fdb {
public:
	explicit fdb(const fdb_config &c) : conf_(c) {}
	~fdb();
	fdb(const fdb &) = delete;
	fdb &operator=(const fdb &) = delete;

	/*
	 * Creates the table (room for the learn limit plus @p statics), the
	 * QSBR variable, the learn rings of @p lcores and the owner's ordered
	 * work queue "bridge", for the domain of @p ports (< 64). Process context, before the lcores run. 0 or -errno (logged on
	 * stderr with the cause).
	 */
	int init(uint64_t ports, const std::vector<unsigned> &lcores, unsigned statics = 0);
	/* A static entry; process context, before start(). 0, or -EEXIST, -ENOSPC, -EINVAL. */
	int add_static(mac_t mac, uint16_t port);
	/*
	 * After bh::start(): arms aging, and the carrier watch of @p carrier
	 * (ports without LSC whose kernel interface can be read).
	 */
	void start(uint64_t carrier_ports);
	/* After the lcores stopped: cancels aging and destroys the work queue (its queued work runs first). */
	void stop();

	/* ---- fast path: an lcore in NET_RX (or its ksoftirqd) ---- */

	/* A read-side section: entries looked up inside it stay valid until exit. */
	void reader_enter(unsigned lcore) noexcept { rte_rcu_qsbr_thread_online(qsbr_, lcore); }
	void reader_exit(unsigned lcore) noexcept { rte_rcu_qsbr_thread_offline(qsbr_, lcore); }
	/*
	 * Looks up @p n (<= 64) addresses for @p lcore, inside its read-side
	 * section: @p out gets each entry, or nullptr. The lcore's cache
	 * first, then one bulk lookup of the table for the misses, which
	 * fills the cache. A lookup of 16 addresses or more that misses on
	 * more than 7 in 8 turns the cache off for the lcore's next 63
	 * lookups (the table alone): with far more addresses than slots the
	 * probe only adds to the table's cost.
	 */
	void lookup(unsigned lcore, const mac_t *macs, unsigned n, fdb_entry **out) noexcept;
	/* Asks the owner to learn @p mac on @p port (new, or moved). Never blocks; sent by commit(). */
	void request(unsigned lcore, mac_t mac, uint16_t port) noexcept
	{
		learner &l = learners_[lcore];
		if (l.n < max_pending)
			l.pending[l.n++] = mac << 16 | port;
		else
			l.queue_full.add();
	}
	/* Hands this lcore's requests to the owner: one bulk push and one queue_work. */
	void commit(unsigned lcore) noexcept;
	/* The ports of the bridge domain, as a mask: floods go to these. */
	uint64_t ports() const noexcept { return ports_; }

	/* ---- control ---- */

	/*
	 * The link of @p port went down or up: going down flushes the port's
	 * learned entries. The port stays in floods and keeps learning: DPDK
	 * 22.11's tap PMD reports a tap moved into another network namespace
	 * as down for good, and a port that is really down has nothing to
	 * learn from. Owner context only: the handler given to
	 * bh::net::port_watch_link() with queue() (it runs in the owner's
	 * worker), or the carrier watch.
	 */
	void link_changed(uint16_t port, bool up);
	/* Runs until the learn requests queued so far are handled (process context; tests, dumps). */
	void sync();
	/*
	 * The entries, sorted by MAC, via the owner (a consistent snapshot).
	 * Process context; waits for the owner.
	 */
	std::vector<fdb_row> dump();
	fdb_stats stats() const;
	uint64_t aging_ns() const noexcept { return conf_.aging_ns; }
	bh::workqueue *queue() const noexcept { return wq_; }

private:
	static constexpr unsigned max_pending = 64; /* two per frame of a 32-frame burst is the most NET_RX asks */

	/* One lcore's learn state. */
	struct learner {
		std::unique_ptr<boost::lockfree::spsc_queue<uint64_t>> queue; /* [L] */
		uint64_t pending[max_pending]; /* [R] this burst's requests */
		unsigned n = 0;             /* [R] */
		bh::lcore_counter requests, queue_full; /* [R] */
		std::unique_ptr<fdb_entry *[]> cache; /* [R] lookup cache, cache_slots_ pointers; [I] allocation */
		unsigned cache_off = 0;     /* [R] bursts left that skip the cache: it was missing nearly all */
		bh::lcore_counter cache_lookups, cache_misses, cache_skipped; /* [R] */
	};
	/* Where @p m sits in a lookup cache: Fibonacci hashing, the product's top bits. */
	uint32_t cache_slot(mac_t m) const noexcept { return uint32_t((m * 0x9e3779b97f4a7c15ull) >> cache_shift_); }
	void table_lookup(const void **keys, unsigned n, fdb_entry **out) const noexcept;

	/* Owner side: [O]. */
	static void learn_run(void *self);
	static void age_run(void *self);
	static void carrier_run(void *self);
	static void dump_run(void *self);
	static void reclaimed(void *self, void *entry);
	void learn(mac_t mac, uint16_t port, uint64_t now);
	fdb_entry *alloc_entry();
	int insert(mac_t mac, uint16_t port, uint8_t flags, uint64_t now);
	void remove(fdb_entry &e);
	void flush_port(uint16_t port);
	uint64_t now() const noexcept;

	fdb_config conf_;
	rte_hash *hash_ = nullptr;
	rte_rcu_qsbr *qsbr_ = nullptr;
	std::unique_ptr<fdb_entry[]> pool_;
	uint32_t pool_size_ = 0, free_head_ = 0; /* [O] free list, 0 = empty (entry 0 unused) */
	bh::per_lcore<learner> learners_;
	std::vector<unsigned> lcores_;     /* [I] */
	unsigned cache_shift_ = 64;        /* [I] 64 - log2(cache slots) */
	uint64_t ports_ = 0, carrier_ports_ = 0; /* [I] */
	std::string ifnames_[64];          /* [I] kernel interfaces of the carrier-watched ports */
	bool link_up_[64] = {};            /* [O] last link state seen per port */
	std::atomic<bool> stopping_{false}; /* periodic owner work does not re-arm */
	std::mutex dump_m_;                /* one dump at a time (telemetry clients each have a thread) */
	bh::workqueue *wq_ = nullptr;
	bh::work learn_work_{&learn_run, this};
	bh::delayed_work age_work_{&age_run, this};
	bh::delayed_work carrier_work_{&carrier_run, this};
	bh::work dump_work_{&dump_run, this};
	/* Aging: [O]. */
	uint32_t age_cursor_ = 1;
	uint64_t age_next_due_ = UINT64_MAX;
	std::vector<fdb_row> dumped_; /* [O] written by dump_run, read by dump() after its flush */
	std::atomic<uint64_t> entries_{0}, dynamic_{0}; /* [O] writes */
	bh::lcore_counter statics_, learned_, moved_, aged_, flushed_, limit_refused_,
		table_full_, link_downs_, link_ups_, age_runs_;
};

} // namespace bridge
