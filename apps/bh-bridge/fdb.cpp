/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <net/if.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "bridge_trace.h"
#include "fdb.h"

namespace bridge {

mac_t mac_of(const rte_ether_addr &a)
{
	uint8_t b[8] = {};
	memcpy(b, a.addr_bytes, RTE_ETHER_ADDR_LEN);
	return mac_load(b);
}

rte_ether_addr ether_of(mac_t m)
{
	rte_ether_addr a;
	memcpy(a.addr_bytes, &m, RTE_ETHER_ADDR_LEN);
	return a;
}

bool mac_parse(const char *s, mac_t &out)
{
	unsigned b[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
	    strlen(s) != 17)
		return false;
	rte_ether_addr a;
	for (int i = 0; i < 6; i++)
		a.addr_bytes[i] = uint8_t(b[i]);
	out = mac_of(a);
	return true;
}

namespace {

/*
 * Keys are 8 bytes: one compare instead of the generic memcmp rte_hash
 * picks for that length. It reads rte_hash's key store, which rte_hash
 * publishes to lock-free readers with its own release/acquire, in code
 * ThreadSanitizer does not see: left uninstrumented like the rest of
 * rte_hash, or it would report that ordering as a race.
 */
__attribute__((no_sanitize("thread"))) int key_cmp(const void *a, const void *b, size_t)
{
	uint64_t x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x != y;
}

uint64_t ns_to_seen(uint64_t ns)
{
	return uint64_t(double(ns) * double(rte_get_tsc_hz()) / 1e9) >> seen_shift;
}

uint64_t seen_to_ns(uint64_t seen)
{
	return uint64_t(double(seen << seen_shift) * 1e9 / double(rte_get_tsc_hz()));
}

/* Table names must be unique in the process; tests make several. */
std::atomic<unsigned> instances{0};

constexpr uint64_t min_sweep_ns = 100000000; /* the kernel's HZ/10 floor on its FDB cleanup delay */
constexpr unsigned learn_batch = 8192;       /* requests per owner run before it yields the queue */
constexpr unsigned cache_off_bursts = 63;    /* a thrashing cache is probed again one burst in 64 */
constexpr unsigned cache_judge_min = 16;     /* addresses a lookup needs for its misses to judge the cache */

} // namespace

uint64_t fdb::now() const noexcept
{
	return rte_rdtsc() >> seen_shift;
}

int fdb::init(uint64_t ports, const std::vector<unsigned> &lcores, unsigned statics)
{
	if (conf_.learn_limit == 0 || conf_.learn_ring == 0 || conf_.age_slice == 0) {
		fprintf(stderr, "bh-bridge: FDB: learn limit, learn queue and aging slice must be > 0\n");
		return -EINVAL;
	}
	if (!cache_slots_valid(conf_.cache_slots)) {
		fprintf(stderr, "bh-bridge: FDB: lookup cache of %u slots: not a power of two of 2 or more\n",
			conf_.cache_slots);
		return -EINVAL;
	}
	ports_ = ports;
	for (bool &up : link_up_)
		up = true;
	lcores_ = lcores;
	const unsigned id = instances.fetch_add(1);

	const size_t qsz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	qsbr_ = static_cast<rte_rcu_qsbr *>(rte_zmalloc("bh_bridge_qsbr", qsz, RTE_CACHE_LINE_SIZE));
	if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, RTE_MAX_LCORE) != 0) {
		fprintf(stderr, "bh-bridge: FDB: cannot allocate the RCU QSBR variable\n");
		return -ENOMEM;
	}
	for (unsigned l : lcores)
		rte_rcu_qsbr_thread_register(qsbr_, l);

	/*
	 * Learned entries pending reclamation still hold their slots, so a
	 * little headroom above the limit keeps learning going at the limit.
	 */
	const unsigned capacity = std::max(64u, conf_.learn_limit + statics + 64);
	char name[RTE_HASH_NAMESIZE];
	snprintf(name, sizeof(name), "bh_fdb%u", id);
	rte_hash_parameters hp{};
	hp.name = name;
	hp.entries = capacity;
	hp.key_len = sizeof(mac_t);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = SOCKET_ID_ANY;
	/* EXT_TABLE: an insert fails only when every slot is taken, not when a cuckoo path is. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	hash_ = rte_hash_create(&hp);
	if (!hash_) {
		fprintf(stderr, "bh-bridge: FDB: cannot create a table of %u entries: %s\n", capacity,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rte_hash_set_cmp_func(hash_, key_cmp);
	rte_hash_rcu_config rc{};
	rc.v = qsbr_;
	rc.mode = RTE_HASH_QSBR_MODE_DQ;
	rc.key_data_ptr = this;
	rc.free_key_data_func = reclaimed;
	if (rte_hash_rcu_qsbr_add(hash_, &rc) != 0) {
		fprintf(stderr, "bh-bridge: FDB: cannot attach RCU to the table: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	/*
	 * One entry per key slot, plus the one insert() takes before the
	 * table tells whether a slot is free; index 0 is the list's end.
	 */
	pool_size_ = capacity + 2;
	pool_ = std::make_unique<fdb_entry[]>(pool_size_);
	for (uint32_t i = pool_size_ - 1; i >= 1; i--) {
		pool_[i].next_free = free_head_;
		free_head_ = i;
	}

	if (conf_.cache_slots)
		cache_shift_ = 64 - unsigned(__builtin_ctz(conf_.cache_slots));
	for (unsigned l : lcores) {
		learner &lr = learners_[l];
		lr.queue = std::make_unique<boost::lockfree::spsc_queue<uint64_t>>(conf_.learn_ring);
		if (!conf_.cache_slots)
			continue;
		/* Entry 0 is never live: an empty slot needs no test of its own. */
		lr.cache = std::make_unique<fdb_entry *[]>(conf_.cache_slots);
		std::fill_n(lr.cache.get(), conf_.cache_slots, &pool_[0]);
	}
	wq_ = bh::create_ordered_workqueue("bridge");
	if (!wq_) {
		fprintf(stderr, "bh-bridge: FDB: cannot create its work queue\n");
		return -ENOMEM;
	}
	return 0;
}

fdb::~fdb()
{
	stop();
	rte_hash_free(hash_);
	rte_free(qsbr_);
}

int fdb::add_static(mac_t mac, uint16_t port)
{
	if (mac_is_group(mac) || mac == 0 || port >= 64 || !(ports_ >> port & 1))
		return -EINVAL;
	if (rte_hash_lookup(hash_, &mac) >= 0)
		return -EEXIST;
	const int rc = insert(mac, port, fdb_entry::is_static, now());
	if (rc == 0)
		statics_.add();
	return rc;
}

void fdb::start(uint64_t carrier_ports)
{
	stopping_.store(false);
	if (conf_.aging_ns)
		bh::queue_delayed_work(wq_, age_work_, std::max(conf_.aging_ns, min_sweep_ns));
	carrier_ports_ = carrier_ports;
	for (unsigned p = 0; p < 64; p++) {
		if (!(carrier_ports >> p & 1))
			continue;
		rte_eth_dev_info info{};
		char name[IF_NAMESIZE] = "";
		if (rte_eth_dev_info_get(uint16_t(p), &info) == 0 && info.if_index && if_indextoname(info.if_index, name))
			ifnames_[p] = name;
	}
	if (carrier_ports)
		bh::queue_delayed_work(wq_, carrier_work_, conf_.carrier_poll_ns);
}

void fdb::stop()
{
	if (!wq_)
		return;
	stopping_.store(true);
	bh::cancel_delayed_work_sync(age_work_);
	bh::cancel_delayed_work_sync(carrier_work_);
	bh::destroy_workqueue(wq_);
	wq_ = nullptr;
}

/* ---- fast path ---- */

void fdb::table_lookup(const void **keys, unsigned n, fdb_entry **out) const noexcept
{
	uint64_t hits = 0;
	rte_hash_lookup_bulk_data(hash_, keys, n, &hits, reinterpret_cast<void **>(out));
	for (unsigned i = 0; i < n; i++)
		if (!(hits >> i & 1))
			out[i] = nullptr;
}

void fdb::lookup(unsigned lcore, const mac_t *macs, unsigned n, fdb_entry **out) noexcept
{
	learner &l = learners_[lcore];
	const void *keys[64];
	if (!l.cache || l.cache_off) {
		if (l.cache) {
			l.cache_off--;
			l.cache_skipped.add(n);
		}
		for (unsigned i = 0; i < n; i++)
			keys[i] = &macs[i];
		table_lookup(keys, n, out);
		return;
	}
	uint8_t missed[64];
	unsigned misses = 0;
	for (unsigned i = 0; i < n; i++) {
		fdb_entry *e = l.cache[cache_slot(macs[i])];
		/*
		 * live before the address (acquire, paired with insert()'s
		 * release): a reused entry shows its new address once it shows live.
		 */
		if ((e->flags.load(std::memory_order_acquire) & fdb_entry::live) &&
		    e->mac.load(std::memory_order_relaxed) == macs[i]) {
			out[i] = e;
			continue;
		}
		keys[misses] = &macs[i];
		missed[misses++] = uint8_t(i);
	}
	l.cache_lookups.add(n);
	if (!misses)
		return;
	l.cache_misses.add(misses);
	if (n >= cache_judge_min && misses * 8 > n * 7)
		l.cache_off = cache_off_bursts;
	fdb_entry *found[64];
	table_lookup(keys, misses, found);
	for (unsigned j = 0; j < misses; j++) {
		const unsigned i = missed[j];
		out[i] = found[j];
		if (found[j])
			l.cache[cache_slot(macs[i])] = found[j];
	}
}

void fdb::commit(unsigned lcore) noexcept
{
	learner &l = learners_[lcore];
	if (!l.n)
		return;
	const unsigned sent = unsigned(l.queue->push(l.pending, l.n));
	l.requests.add(sent);
	if (sent < l.n)
		l.queue_full.add(l.n - sent);
	l.n = 0;
	if (sent)
		bh::queue_work(wq_, learn_work_);
}

/* ---- the owner ---- */

fdb_entry *fdb::alloc_entry()
{
	if (!free_head_)
		return nullptr;
	fdb_entry *e = &pool_[free_head_];
	free_head_ = e->next_free;
	return e;
}

/* The table's RCU defer queue gives an entry back once no reader can hold it (owner: inside add/del). */
void fdb::reclaimed(void *self, void *entry)
{
	fdb &f = *static_cast<fdb *>(self);
	auto *e = static_cast<fdb_entry *>(entry);
	e->next_free = f.free_head_;
	f.free_head_ = uint32_t(e - f.pool_.get());
}

int fdb::insert(mac_t mac, uint16_t port, uint8_t flags, uint64_t seen)
{
	fdb_entry *e = alloc_entry();
	if (!e) {
		table_full_.add();
		return -ENOSPC;
	}
	e->mac.store(mac, std::memory_order_relaxed);
	e->port.store(port, std::memory_order_relaxed);
	e->seen.store(seen, std::memory_order_relaxed);
	e->flags.store(uint8_t(flags | fdb_entry::live), std::memory_order_release);
	if (const int rc = rte_hash_add_key_data(hash_, &mac, e); rc < 0) {
		e->flags.store(0, std::memory_order_relaxed);
		e->next_free = free_head_;
		free_head_ = uint32_t(e - pool_.get());
		table_full_.add();
		return rc;
	}
	entries_.fetch_add(1, std::memory_order_relaxed);
	return 0;
}

void fdb::remove(fdb_entry &e)
{
	const mac_t mac = e.mac.load(std::memory_order_relaxed);
	e.flags.store(uint8_t(e.flags.load(std::memory_order_relaxed) & ~fdb_entry::live), std::memory_order_relaxed);
	rte_hash_del_key(hash_, &mac);
	entries_.fetch_sub(1, std::memory_order_relaxed);
	dynamic_.fetch_sub(1, std::memory_order_relaxed);
}

void fdb::learn(mac_t mac, uint16_t port, uint64_t seen)
{
	void *data;
	if (rte_hash_lookup_data(hash_, &mac, &data) >= 0) {
		fdb_entry &e = *static_cast<fdb_entry *>(data);
		const uint16_t from = e.port.load(std::memory_order_relaxed);
		if ((e.flags.load(std::memory_order_relaxed) & fdb_entry::is_static) || from == port)
			return;
		e.port.store(port, std::memory_order_relaxed);
		e.seen.store(seen, std::memory_order_relaxed);
		moved_.add();
		bh_trace_bridge_move(mac, from, port);
		return;
	}
	if (dynamic_.load(std::memory_order_relaxed) >= conf_.learn_limit) {
		limit_refused_.add();
		return;
	}
	if (insert(mac, port, 0, seen) == 0) {
		dynamic_.fetch_add(1, std::memory_order_relaxed);
		learned_.add();
		bh_trace_bridge_learn(mac, port);
	}
}

void fdb::learn_run(void *self)
{
	fdb &f = *static_cast<fdb *>(self);
	const uint64_t t = f.now();
	unsigned budget = learn_batch;
	bool more = false;
	for (unsigned l : f.lcores_) {
		boost::lockfree::spsc_queue<uint64_t> &q = *f.learners_[l].queue;
		uint64_t req[256];
		while (budget) {
			const unsigned n = unsigned(q.pop(req, std::min(256u, budget)));
			if (!n)
				break;
			budget -= n;
			for (unsigned i = 0; i < n; i++)
				f.learn(req[i] >> 16, uint16_t(req[i] & 0xffff), t);
		}
		more |= q.read_available() != 0;
	}
	/* A storm of new addresses is taken in batches, so that aging and link work get their turn. */
	if (more)
		bh::queue_work(f.wq_, f.learn_work_);
}

void fdb::age_run(void *self)
{
	fdb &f = *static_cast<fdb *>(self);
	f.age_runs_.add();
	const uint64_t t = f.now(), aging = ns_to_seen(f.conf_.aging_ns);
	const uint32_t end = uint32_t(std::min<uint64_t>(uint64_t(f.age_cursor_) + f.conf_.age_slice, f.pool_size_));
	for (uint32_t i = f.age_cursor_; i < end; i++) {
		fdb_entry &e = f.pool_[i];
		if ((e.flags.load(std::memory_order_relaxed) & (fdb_entry::live | fdb_entry::is_static)) != fdb_entry::live)
			continue;
		const uint64_t seen = e.seen.load(std::memory_order_relaxed);
		if (t >= seen + aging) {
			bh_trace_bridge_age(e.mac.load(std::memory_order_relaxed), e.port.load(std::memory_order_relaxed),
					    seen_to_ns(t - seen) / 1000000);
			f.remove(e);
			f.aged_.add();
		} else {
			f.age_next_due_ = std::min(f.age_next_due_, seen + aging);
		}
	}
	if (f.stopping_.load())
		return;
	if (end < f.pool_size_) {
		f.age_cursor_ = end;
		bh::queue_delayed_work(f.wq_, f.age_work_, 0);
		return;
	}
	/* A whole sweep done: the next one when the oldest entry left is due, as the kernel's gc_work does. */
	const uint64_t due_ns = f.age_next_due_ == UINT64_MAX ? f.conf_.aging_ns
							     : seen_to_ns(f.age_next_due_ > t ? f.age_next_due_ - t : 0);
	f.age_cursor_ = 1;
	f.age_next_due_ = UINT64_MAX;
	bh::queue_delayed_work(f.wq_, f.age_work_, std::clamp(due_ns, min_sweep_ns, std::max(f.conf_.aging_ns, min_sweep_ns)));
}

void fdb::link_changed(uint16_t port, bool up)
{
	if (port >= 64 || !(ports_ >> port & 1))
		return;
	if (up == link_up_[port])
		return;
	link_up_[port] = up;
	(up ? link_ups_ : link_downs_).add();
	if (!up)
		flush_port(port);
}

void fdb::flush_port(uint16_t port)
{
	uint64_t n = 0;
	for (uint32_t i = 1; i < pool_size_; i++) {
		fdb_entry &e = pool_[i];
		if ((e.flags.load(std::memory_order_relaxed) & (fdb_entry::live | fdb_entry::is_static)) == fdb_entry::live &&
		    e.port.load(std::memory_order_relaxed) == port) {
			remove(e);
			n++;
		}
	}
	flushed_.add(n);
	bh_trace_bridge_flush(port, n);
}

void fdb::carrier_run(void *self)
{
	fdb &f = *static_cast<fdb *>(self);
	for (unsigned p = 0; p < 64; p++) {
		if (!(f.carrier_ports_ >> p & 1))
			continue;
		/* Reading carrier fails (EINVAL) while the interface is down: no carrier either. */
		char buf[4] = "";
		const std::string path = "/sys/class/net/" + f.ifnames_[p] + "/carrier";
		FILE *in = f.ifnames_[p].empty() ? nullptr : fopen(path.c_str(), "r");
		const bool up = in && fgets(buf, sizeof(buf), in) && buf[0] == '1';
		if (in)
			fclose(in);
		f.link_changed(uint16_t(p), up);
	}
	if (!f.stopping_.load())
		bh::queue_delayed_work(f.wq_, f.carrier_work_, f.conf_.carrier_poll_ns);
}

void fdb::dump_run(void *self)
{
	fdb &f = *static_cast<fdb *>(self);
	const uint64_t t = f.now();
	f.dumped_.clear();
	for (uint32_t i = 1; i < f.pool_size_; i++) {
		const fdb_entry &e = f.pool_[i];
		const uint8_t flags = e.flags.load(std::memory_order_relaxed);
		if (!(flags & fdb_entry::live))
			continue;
		const uint64_t seen = e.seen.load(std::memory_order_relaxed);
		f.dumped_.push_back({e.mac.load(std::memory_order_relaxed), e.port.load(std::memory_order_relaxed),
				     bool(flags & fdb_entry::is_static), seen_to_ns(t > seen ? t - seen : 0)});
	}
	std::sort(f.dumped_.begin(), f.dumped_.end(), [](const fdb_row &a, const fdb_row &b) {
		return rte_bswap64(a.mac) < rte_bswap64(b.mac); /* byte order: the first byte counts most */
	});
}

std::vector<fdb_row> fdb::dump()
{
	std::lock_guard lock(dump_m_);
	if (!wq_)
		return {};
	bh::queue_work(wq_, dump_work_);
	bh::flush_work(dump_work_);
	return dumped_;
}

void fdb::sync()
{
	if (!wq_)
		return;
	bh::queue_work(wq_, learn_work_);
	bh::flush_work(learn_work_);
}

fdb_stats fdb::stats() const
{
	fdb_stats s;
	s.entries = entries_.load(std::memory_order_relaxed);
	s.static_entries = statics_.read();
	s.learned = learned_.read();
	s.moved = moved_.read();
	s.aged = aged_.read();
	s.flushed = flushed_.read();
	s.limit_refused = limit_refused_.read();
	s.table_full = table_full_.read();
	s.link_downs = link_downs_.read();
	s.link_ups = link_ups_.read();
	s.age_runs = age_runs_.read();
	for (unsigned l : lcores_) {
		s.learn_requests += learners_[l].requests.read();
		s.learn_queue_full += learners_[l].queue_full.read();
		s.cache_lookups += learners_[l].cache_lookups.read();
		s.cache_misses += learners_[l].cache_misses.read();
		s.cache_skipped += learners_[l].cache_skipped.read();
	}
	return s;
}

} // namespace bridge
