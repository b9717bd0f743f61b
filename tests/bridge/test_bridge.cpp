/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-bridge's FDB and forwarding, driven directly: learning, moves and the
 * learn limit through the owner; aging in bounded slices; a link flush;
 * floods as one mbuf with its reference count raised; and a stress test of
 * two lcores learning the same addresses while aging deletes and RCU
 * reclaims entries, with readers checking that no entry they hold is ever
 * reused under them. Runs in the ThreadSanitizer tree: frames never cross
 * threads (each lcore makes, forwards and frees its own), so the only
 * sharing is the FDB's.
 */
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "bh_workqueue.h"
#include "bridge.h"
#include "net_test.h"

namespace bh {
namespace {

using namespace std::chrono_literals;
using bridge::fdb;
using bridge::fdb_config;
using bridge::mac_t;

constexpr mac_t host(unsigned i)
{
	/* 02:a0:00:00:hi:lo, as mac_load() keys it (first byte lowest). */
	return 0x0000a002ull | uint64_t(i >> 8 & 0xff) << 32 | uint64_t(i & 0xff) << 40;
}

std::vector<unsigned> main_lcore() { return {rte_lcore_id()}; }

class fdb_test : public test::started_test {
protected:
	/*
	 * Runs @p fn as an item of the FDB's owner queue and waits for it:
	 * owner context. The item outlives the queue: flush_work() returns
	 * once the function has run, before the worker lets go of the item.
	 */
	void on_owner(fdb &f, std::function<void()> fn)
	{
		job_ = std::move(fn);
		ASSERT_TRUE(queue_work(f.queue(), job_work_));
		ASSERT_EQ(flush_work(job_work_), 1);
	}
	std::function<void()> job_;
	work job_work_{[](void *self) { static_cast<fdb_test *>(self)->job_(); }, this};

	std::unique_ptr<fdb> make(fdb_config c, uint64_t ports = 0x7, unsigned statics = 0)
	{
		auto f = std::make_unique<fdb>(c);
		EXPECT_EQ(f->init(ports, main_lcore(), statics), 0);
		return f;
	}
	void learn(fdb &f, mac_t mac, uint16_t port)
	{
		f.request(rte_lcore_id(), mac, port);
		f.commit(rte_lcore_id());
	}
	std::map<mac_t, uint16_t> table(fdb &f)
	{
		std::map<mac_t, uint16_t> t;
		for (const bridge::fdb_row &r : f.dump())
			t[r.mac] = r.port;
		return t;
	}
};

TEST_F(fdb_test, test_bridge_fdb_learns_moves_and_stops_at_the_limit)
{
	fdb_config c;
	c.learn_limit = 10;
	auto f = make(c);
	for (unsigned i = 0; i < 12; i++)
		learn(*f, host(i), uint16_t(i % 3));
	learn(*f, host(0), 2); /* host 0 moves from port 0 */
	learn(*f, host(1), 1); /* host 1 stays: nothing to do */
	f->sync();
	const auto t = table(*f);
	EXPECT_EQ(t.size(), 10u);
	EXPECT_EQ(t.at(host(0)), 2);
	EXPECT_EQ(t.at(host(9)), 0);
	EXPECT_FALSE(t.count(host(10)));
	const bridge::fdb_stats s = f->stats();
	EXPECT_EQ(s.learned, 10u);
	EXPECT_EQ(s.moved, 1u);
	EXPECT_EQ(s.limit_refused, 2u);
	EXPECT_EQ(s.learn_requests, 14u);
}

TEST_F(fdb_test, test_bridge_fdb_static_entries_are_never_moved)
{
	auto f = make({}, 0x7, 1);
	ASSERT_EQ(f->add_static(host(1), 1), 0);
	EXPECT_EQ(f->add_static(host(1), 2), -EEXIST);
	EXPECT_EQ(f->add_static(0x5e0001ull, 2), -EINVAL) << "a group address";
	EXPECT_EQ(f->add_static(host(2), 5), -EINVAL) << "a port outside the domain";
	learn(*f, host(1), 0);
	f->sync();
	EXPECT_EQ(table(*f).at(host(1)), 1);
	EXPECT_EQ(f->stats().moved, 0u);
}

TEST_F(fdb_test, test_bridge_fdb_ages_in_bounded_slices)
{
	/* Aging's delayed work needs a timer, and a timer an lcore whose loop runs. */
	test::test_lcore lc(1);
	lc.start_loop();
	fdb_config c;
	c.aging_ns = 30000000;
	c.age_slice = 8;
	c.learn_limit = 100;
	auto f = make(c);
	f->start(0);
	for (unsigned i = 0; i < 100; i++)
		learn(*f, host(i), uint16_t(i % 3));
	f->sync();
	ASSERT_EQ(f->stats().entries, 100u);
	ASSERT_TRUE(test::wait_until([&] { return f->stats().entries == 0; }, 3000ms)) << "nothing aged";
	const bridge::fdb_stats s = f->stats();
	EXPECT_EQ(s.aged, 100u);
	/*
	 * A run looks at 8 slots at most, so it ages 8 entries at most: 100
	 * take 13 runs or more (a whole sweep in one run would take 1 or 2).
	 * Not 166 / 8, the pool's size: the entries may sit in 100 adjacent
	 * slots that the sweep reaches once they are old.
	 */
	EXPECT_GE(s.age_runs, (100u + c.age_slice - 1) / c.age_slice) << "aging did not run in slices";
	f->stop();
	lc.stop_loop();
}

TEST_F(fdb_test, test_bridge_fdb_link_down_flushes_that_port_only)
{
	auto f = make({}, 0x7, 1);
	ASSERT_EQ(f->add_static(host(100), 1), 0);
	for (unsigned i = 0; i < 30; i++)
		learn(*f, host(i), uint16_t(i % 3));
	f->sync();
	on_owner(*f, [&] { f->link_changed(1, false); });
	auto t = table(*f);
	EXPECT_EQ(t.size(), 21u);
	EXPECT_EQ(std::count_if(t.begin(), t.end(), [](auto &e) { return e.second == 1; }), 1) << "static entry kept";
	EXPECT_EQ(f->stats().flushed, 10u);
	on_owner(*f, [&] { f->link_changed(1, false); });
	on_owner(*f, [&] { f->link_changed(1, true); });
	EXPECT_EQ(f->stats().link_downs, 1u) << "a repeated down is no change";
	EXPECT_EQ(f->stats().link_ups, 1u);
}

TEST_F(fdb_test, test_bridge_fdb_entry_is_not_reused_while_a_reader_holds_it)
{
	auto f = make({});
	const unsigned me = rte_lcore_id();
	learn(*f, host(1), 1);
	learn(*f, host(2), 2);
	f->sync();
	const mac_t key = host(1);
	bridge::fdb_entry *e[1];
	f->reader_enter(me);
	f->lookup(me, &key, 1, e);
	ASSERT_NE(e[0], nullptr);
	/*
	 * Deleted under the reader, then another deletion (the defer queue
	 * reclaims what is due when the next one comes), then new addresses
	 * learned: none may take its entry.
	 */
	on_owner(*f, [&] { f->link_changed(1, false); });
	on_owner(*f, [&] { f->link_changed(2, false); });
	for (unsigned i = 0; i < 50; i++)
		learn(*f, host(100 + i), 0);
	f->sync();
	EXPECT_EQ(e[0]->mac.load(), host(1)) << "entry reused inside a read-side section";
	EXPECT_EQ(e[0]->port.load(), 1);
	f->reader_exit(me);
	/* Out of the section: the next deletions reclaim it, and a new address takes it in time. */
	on_owner(*f, [&] { f->link_changed(0, false); });
	for (unsigned i = 0; i < 200 && e[0]->mac.load() == host(1); i++) {
		learn(*f, host(200 + i), 2);
		f->sync();
	}
	EXPECT_NE(e[0]->mac.load(), host(1)) << "never reclaimed";
}

/* One lookup of @p mac by the calling lcore, in its own read-side section. */
bridge::fdb_entry *look(fdb &f, mac_t mac)
{
	const unsigned me = rte_lcore_id();
	bridge::fdb_entry *e;
	f.reader_enter(me);
	f.lookup(me, &mac, 1, &e);
	f.reader_exit(me);
	return e;
}

TEST_F(fdb_test, test_bridge_fdb_cache_answers_a_repeated_lookup_without_the_table)
{
	auto f = make({});
	learn(*f, host(1), 1);
	f->sync();
	bridge::fdb_entry *first = look(*f, host(1));
	ASSERT_NE(first, nullptr);
	EXPECT_EQ(f->stats().cache_misses, 1u);
	for (unsigned i = 0; i < 10; i++)
		EXPECT_EQ(look(*f, host(1)), first);
	const bridge::fdb_stats s = f->stats();
	EXPECT_EQ(s.cache_lookups, 11u);
	EXPECT_EQ(s.cache_misses, 1u) << "the cache did not keep the entry the table gave";
}

TEST_F(fdb_test, test_bridge_fdb_cache_never_answers_with_a_deleted_or_reused_entry)
{
	auto f = make({});
	learn(*f, host(1), 1);
	learn(*f, host(2), 2);
	f->sync();
	bridge::fdb_entry *e = look(*f, host(1));
	ASSERT_NE(e, nullptr);
	ASSERT_EQ(look(*f, host(1)), e);
	/* Flushed: the entry is no longer live, although the cache still points at it. */
	on_owner(*f, [&] { f->link_changed(1, false); });
	EXPECT_EQ(look(*f, host(1)), nullptr) << "a deleted entry answered from the cache";
	/*
	 * Reclaimed (the table's defer queue frees what is due at the next
	 * deletion) and given to another address: its address no longer matches.
	 */
	on_owner(*f, [&] { f->link_changed(2, false); });
	for (unsigned i = 0; i < 200 && e->mac.load() == host(1); i++) {
		learn(*f, host(300 + i), 2);
		f->sync();
	}
	ASSERT_NE(e->mac.load(), host(1)) << "never reclaimed";
	EXPECT_EQ(look(*f, host(1)), nullptr) << "a reused entry answered for its old address";
	learn(*f, host(1), 2);
	f->sync();
	bridge::fdb_entry *again = look(*f, host(1));
	ASSERT_NE(again, nullptr);
	EXPECT_EQ(again->port.load(), 2);
}

TEST_F(fdb_test, test_bridge_fdb_cache_collisions_answer_each_address)
{
	fdb_config c;
	c.cache_slots = 2; /* three addresses in two slots: two of them share one */
	auto f = make(c);
	for (unsigned i = 0; i < 3; i++)
		learn(*f, host(i), uint16_t(i));
	f->sync();
	for (unsigned round = 0; round < 4; round++)
		for (unsigned i = 0; i < 3; i++) {
			const bridge::fdb_entry *e = look(*f, host(i));
			ASSERT_NE(e, nullptr);
			EXPECT_EQ(e->mac.load(), host(i));
			EXPECT_EQ(e->port.load(), i);
		}
	EXPECT_GT(f->stats().cache_misses, 3u) << "no two addresses shared a slot";
}

TEST_F(fdb_test, test_bridge_fdb_cache_that_misses_nearly_everything_is_skipped)
{
	auto f = make({});
	for (unsigned i = 0; i < 32; i++)
		learn(*f, host(i), 1);
	f->sync();
	const unsigned me = rte_lcore_id();
	mac_t macs[32];
	bridge::fdb_entry *e[32];
	auto burst = [&](unsigned first) {
		for (unsigned i = 0; i < 32; i++)
			macs[i] = host(first + i);
		f->reader_enter(me);
		f->lookup(me, macs, 32, e);
		f->reader_exit(me);
	};
	burst(0); /* fills the cache: 32 misses of 32, so the next bursts skip it */
	EXPECT_EQ(f->stats().cache_misses, 32u);
	for (unsigned b = 0; b < 63; b++) {
		burst(0);
		for (unsigned i = 0; i < 32; i++)
			ASSERT_TRUE(e[i] && e[i]->mac.load() == host(i)) << "burst " << b << ", address " << i;
	}
	bridge::fdb_stats s = f->stats();
	EXPECT_EQ(s.cache_skipped, 63u * 32) << "a cache missing every address was still probed";
	EXPECT_EQ(s.cache_lookups, 32u);
	burst(0); /* probed again, and now it hits */
	s = f->stats();
	EXPECT_EQ(s.cache_lookups, 64u);
	EXPECT_EQ(s.cache_misses, 32u);
	/* 4 misses in 32 do not turn it off. */
	burst(4);
	burst(0);
	s = f->stats();
	EXPECT_EQ(s.cache_lookups, 128u);
	EXPECT_EQ(s.cache_skipped, 63u * 32);
}

TEST_F(fdb_test, test_bridge_fdb_without_cache_looks_up_the_table)
{
	fdb_config c;
	c.cache_slots = 0;
	auto f = make(c);
	learn(*f, host(1), 1);
	f->sync();
	for (unsigned i = 0; i < 3; i++) {
		const bridge::fdb_entry *e = look(*f, host(1));
		ASSERT_NE(e, nullptr);
		EXPECT_EQ(e->port.load(), 1);
	}
	EXPECT_EQ(look(*f, host(2)), nullptr);
	EXPECT_EQ(f->stats().cache_lookups, 0u);
}

TEST_F(fdb_test, test_bridge_fdb_refuses_a_cache_that_is_not_a_power_of_two)
{
	for (unsigned slots : {1u, 3u, 1000u}) {
		fdb_config c;
		c.cache_slots = slots;
		fdb f(c);
		EXPECT_EQ(f.init(0x3, main_lcore()), -EINVAL) << slots << " slots";
	}
}

/* ---- forwarding through the net layer ---- */

/* A ring port whose Tx queue q writes ring tx[q], so that each lcore drains what it sent itself. */
struct bridge_port {
	rte_ring *rx, *tx[2];
	uint16_t id;
	bridge_port(const std::string &name, unsigned ntx)
	{
		rx = rte_ring_create((name + "_rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		for (unsigned q = 0; q < ntx; q++)
			tx[q] = rte_ring_create((name + "_tx" + std::to_string(q)).c_str(), 8192, 0,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		const int p = rte_eth_from_rings(name.c_str(), &rx, 1, tx, ntx, 0);
		EXPECT_GE(p, 0);
		id = uint16_t(p);
		ntx_ = ntx;
	}
	~bridge_port()
	{
		rte_eth_dev_stop(id);
		rte_eth_dev_close(id);
		rte_mbuf *m;
		while (rte_ring_dequeue(rx, reinterpret_cast<void **>(&m)) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(rx);
		for (unsigned q = 0; q < ntx_; q++) {
			while (rte_ring_dequeue(tx[q], reinterpret_cast<void **>(&m)) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(tx[q]);
		}
	}
	unsigned ntx_;
};

rte_mbuf *frame_of(mac_t dst, mac_t src, uint16_t len = 64)
{
	rte_mbuf *m = rte_pktmbuf_alloc(test::test_pool());
	if (!m)
		return nullptr;
	auto *p = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, len));
	memset(p, 0, len);
	memcpy(p, &dst, 6);
	memcpy(p + 6, &src, 6);
	return m;
}

class forward_test : public test::core_test {
protected:
	void SetUp() override
	{
		in_use_ = rte_mempool_in_use_count(test::test_pool());
		ASSERT_EQ(net::net_init(), 0);
	}
	void TearDown() override
	{
		for (auto &l : lcores_)
			l->stop_loop();
		if (started()) {
			EXPECT_EQ(stop(), 0);
		}
		if (table_)
			table_->stop();
		lcores_.clear();
		ports_.clear();
		table_.reset();
		EXPECT_EQ(rte_mempool_in_use_count(test::test_pool()), in_use_) << "mbufs leaked";
		core_test::TearDown();
	}
	/* @p nports ports; port p is polled by lcore p % nlcores; every lcore sends on every port. */
	void set_up(unsigned nports, unsigned nlcores, fdb_config c)
	{
		for (unsigned l = 0; l < nlcores; l++)
			lcores_.push_back(std::make_unique<test::test_lcore>(int(l % std::thread::hardware_concurrency())));
		std::vector<unsigned> ids;
		for (auto &l : lcores_)
			ids.push_back(l->id());
		uint64_t mask = 0;
		for (unsigned p = 0; p < nports; p++) {
			/* A ring port's vdev outlives its close: every port gets a name of its own. */
			static unsigned made = 0;
			ports_.push_back(std::make_unique<bridge_port>("br" + std::to_string(made++), nlcores));
			net::port_conf pc;
			pc.tx_queues = uint16_t(nlcores);
			ASSERT_EQ(net::port_configure(ports_[p]->id, pc, test::test_pool()), 0);
			ASSERT_EQ(net::port_start(ports_[p]->id), 0);
			mask |= 1ull << ports_[p]->id;
		}
		table_ = std::make_unique<fdb>(c);
		ASSERT_EQ(table_->init(mask, ids), 0);
		fwd_ = std::make_unique<bridge::forwarder>(*table_);
		for (unsigned p = 0; p < nports; p++) {
			ASSERT_EQ(net::net_add_rxq({ports_[p]->id, 0, ids[p % nlcores], net::rx_mode::poll, fwd_.get()}), 0);
			for (unsigned q = 0; q < nlcores; q++)
				ASSERT_EQ(net::net_add_txq(ports_[p]->id, uint16_t(q), ids[q]), 0);
		}
	}
	void go()
	{
		ASSERT_EQ(start(), 0);
		table_->start(0);
		for (auto &l : lcores_)
			l->start_loop();
	}
	std::vector<std::unique_ptr<test::test_lcore>> lcores_;
	std::vector<std::unique_ptr<bridge_port>> ports_;
	std::unique_ptr<fdb> table_;
	std::unique_ptr<bridge::forwarder> fwd_;
	unsigned in_use_ = 0;
};

TEST_F(forward_test, test_bridge_flood_sends_one_mbuf_with_its_reference_count_raised)
{
	set_up(3, 1, {});
	go();
	/* The frame is made, received, sent and freed on the lcore's own thread: no frame crosses threads. */
	const unsigned l = lcores_[0]->id();
	rte_mbuf *m = nullptr, *out[2] = {};
	uint16_t refs = 0;
	unsigned back = 0;
	test::run_in_loop(l, [&] {
		m = frame_of(bridge::mac_mask, host(1));
		rte_ring_enqueue(ports_[0]->rx, m);
	});
	ASSERT_NE(m, nullptr);
	ASSERT_TRUE(test::wait_until([&] {
		bool both = false;
		test::run_in_loop(l, [&] {
			for (unsigned p = 1; p < 3; p++)
				if (!out[p - 1])
					rte_ring_dequeue(ports_[p]->tx[0], reinterpret_cast<void **>(&out[p - 1]));
			both = out[0] && out[1];
			if (both) {
				refs = rte_mbuf_refcnt_read(m);
				back = rte_ring_count(ports_[0]->tx[0]);
				rte_pktmbuf_free(out[0]);
				rte_pktmbuf_free(out[1]);
			}
		});
		return both;
	}));
	/* The same buffer on both ports, one reference each: no copy was made. */
	EXPECT_EQ(out[0], m);
	EXPECT_EQ(out[1], m);
	EXPECT_EQ(refs, 2);
	EXPECT_EQ(back, 0u) << "flooded back to its own port";
	EXPECT_EQ(fwd_->stats().broadcast, 1u);
	EXPECT_EQ(fwd_->stats().flood_tx, 2u);
}

/*
 * Each lcore's application task makes frames for its own ports' Rx rings
 * (random sources and destinations from one set of addresses, so that both
 * lcores learn and move the same ones), frees what its Tx queues sent, and
 * reads the FDB the way NET_RX does, holding each entry for a while and
 * checking that it still carries the address it was found by: an entry
 * reclaimed and reused under a reader would not.
 */
class traffic : public pollfn {
public:
	static constexpr unsigned window = 2500; /* more than the learn limit below */
	traffic(unsigned lcore, unsigned q, std::vector<bridge_port *> rx, std::vector<bridge_port *> all, fdb &f,
		unsigned addresses)
		: lcore_(lcore), q_(q), rx_(std::move(rx)), all_(std::move(all)), fdb_(f), rng_(lcore * 7919 + 1),
		  pick_(0, window - 1), addresses_(addresses)
	{
	}
	bool poll() override
	{
		for (bridge_port *p : all_) {
			rte_mbuf *m[32];
			const unsigned n = rte_ring_dequeue_burst(p->tx[q_], reinterpret_cast<void **>(m), 32, nullptr);
			rte_pktmbuf_free_bulk(m, n);
			sent_out.fetch_add(n, std::memory_order_relaxed);
		}
		for (bridge_port *p : rx_)
			for (unsigned i = 0; i < 16 && rte_ring_count(p->rx) < 256 && made.load(std::memory_order_relaxed) < limit;
			     i++) {
				/* A window of addresses sliding with the traffic: those left behind age out. */
				const uint64_t base = made.load(std::memory_order_relaxed) / 200;
				const unsigned d = pick_(rng_);
				rte_mbuf *m = frame_of(d % 50 == 0 ? bridge::mac_mask : host(unsigned((base + d) % addresses_)),
						       host(unsigned((base + pick_(rng_)) % addresses_)));
				if (!m || rte_ring_enqueue(p->rx, m) != 0) {
					rte_pktmbuf_free(m);
					break;
				}
				made.fetch_add(1, std::memory_order_relaxed);
			}
		check_readers();
		return true;
	}
	void check_readers()
	{
		mac_t keys[8];
		bridge::fdb_entry *e[8];
		for (unsigned i = 0; i < 8; i++)
			keys[i] = host(unsigned((made.load(std::memory_order_relaxed) / 200 + pick_(rng_)) % addresses_));
		fdb_.reader_enter(lcore_);
		fdb_.lookup(lcore_, keys, 8, e);
		test::spin_ns(2000); /* long enough for the owner to delete and try to reclaim meanwhile */
		for (unsigned i = 0; i < 8; i++)
			if (e[i] && e[i]->mac.load(std::memory_order_relaxed) != keys[i])
				reused.fetch_add(1, std::memory_order_relaxed);
			else if (e[i])
				held.fetch_add(1, std::memory_order_relaxed);
		fdb_.reader_exit(lcore_);
	}
	std::atomic<uint64_t> made{0}, sent_out{0}, reused{0}, held{0};
	uint64_t limit = 0;

private:
	unsigned lcore_, q_;
	std::vector<bridge_port *> rx_, all_;
	fdb &fdb_;
	std::minstd_rand rng_;
	std::uniform_int_distribution<unsigned> pick_;
	unsigned addresses_;
};

TEST_F(forward_test, test_bridge_concurrent_learning_and_aging_stress)
{
	constexpr unsigned addresses = 6000, per_lcore = 600000;
	fdb_config c;
	c.aging_ns = 20000000; /* 20 ms: entries age and are learned again all the time */
	c.age_slice = 64;
	c.learn_limit = 2000;  /* below the address count: the limit is hit too */
	c.learn_ring = 256;    /* small: a full ring must be counted, never block */
	set_up(4, 2, c);
	std::vector<std::unique_ptr<traffic>> tasks;
	std::vector<bridge_port *> all;
	for (auto &p : ports_)
		all.push_back(p.get());
	for (unsigned l = 0; l < 2; l++) {
		tasks.push_back(std::make_unique<traffic>(lcores_[l]->id(), l,
							  std::vector<bridge_port *>{all[l], all[l + 2]}, all, *table_,
							  addresses));
		tasks.back()->limit = per_lcore;
		ASSERT_EQ(lcore_add_task(lcores_[l]->id(), *tasks.back()), 0);
	}
	go();
	uint64_t dumps = 0;
	auto handled = [&] {
		const bridge::forward_stats s = fwd_->stats();
		return s.unicast + s.unknown_unicast + s.broadcast + s.multicast + s.same_port;
	};
	const bool done = test::wait_until(
		[&] {
			/* Dumps meanwhile: the owner walks the table while it learns and ages. */
			for (const bridge::fdb_row &r : table_->dump())
				EXPECT_LT(r.port, 4u);
			dumps++;
			return handled() == 2ull * per_lcore;
		},
		120000ms);
	for (auto &l : lcores_)
		l->stop_loop();
	ASSERT_TRUE(done) << "handled " << handled() << " of " << 2 * per_lcore;
	for (unsigned l = 0; l < 2; l++)
		tasks[l]->poll(); /* what is left in its Tx rings; its limit keeps it from making more */
	const bridge::fdb_stats s = table_->stats();
	const bridge::forward_stats fw = fwd_->stats();
	uint64_t reused = 0, held = 0, out = 0;
	for (auto &t : tasks) {
		reused += t->reused.load();
		held += t->held.load();
		out += t->sent_out.load();
	}
	printf("stress: %" PRIu64 " learned, %" PRIu64 " moved, %" PRIu64 " aged, %" PRIu64 " over the limit, %" PRIu64
	       " learn requests (%" PRIu64 " refused: ring full), %" PRIu64 " entries held by readers, %" PRIu64
	       " dumps\n",
	       s.learned, s.moved, s.aged, s.limit_refused, s.learn_requests, s.learn_queue_full, held, dumps);
	EXPECT_EQ(reused, 0u) << "an entry was reused while a reader held it";
	EXPECT_GT(held, 1000u);
	EXPECT_GT(s.learned, 2000u);
	EXPECT_GT(s.moved, 0u);
	EXPECT_GT(s.aged, 0u);
	EXPECT_LE(s.entries, 2000u);
	EXPECT_EQ(out, fw.unicast + fw.flood_tx) << "every transmission reached a Tx ring";
	uint64_t filtered = 0;
	for (auto &l : lcores_) {
		const net::lcore_net_stats st = net::net_lcore_stats(l->id());
		for (unsigned r = 0; r < unsigned(net::drop_reason::count); r++)
			if (r != unsigned(net::drop_reason::handler)) {
				EXPECT_EQ(st.dropped[r], 0u) << net::drop_reason_name(net::drop_reason(r));
			}
		filtered += st.dropped[unsigned(net::drop_reason::handler)];
	}
	EXPECT_EQ(filtered, fw.same_port) << "the handler drops only frames to their own port";
}

} // namespace
} // namespace bh
