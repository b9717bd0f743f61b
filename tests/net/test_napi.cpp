/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAPI's mode machines (SPEC section 8, issue 17): the decisions of
 * napi_complete_done() driven with made-up times, and the NAPI top half
 * carrying them out on a running lcore with a source whose interrupt is an
 * eventfd.
 */
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstring>
#include <random>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "bh_lcore.h"
#include "bh_napi.h"
#include "bh_netdev.h"
#include "napi_private.h"
#include "net_test.h"
#include "time_private.h"

namespace bh {
namespace {

using namespace std::chrono_literals;
using net::napi_next;
using net::napi_state;
using net::rx_mode;

int poll_nothing(net::napi &, int)
{
	return 0;
}

uint64_t us(uint64_t v)
{
	return detail::ns_to_cycles(v * 1000);
}

/* One context's machine alone: napi_decide() at times the test makes up. */
class napi_machine : public test::core_test {
protected:
	void set(rx_mode mode, net::napi_switch sw = {}, int fd = 7)
	{
		c_.n = &n_;
		c_.lcore = 0;
		c_.configure(mode, sw);
		c_.irq.fd = fd;
	}
	/* The decision after a poll that found @p work packets @p t microseconds into the test. */
	net::napi_verdict at(uint64_t t, int work) { return net::detail::napi_decide(c_, work, t0_ + us(t)); }
	/* The same, for a poll an interrupt scheduled. */
	net::napi_verdict woken_at(uint64_t t, int work)
	{
		c_.woke = true;
		return at(t, work);
	}
	/* @p v is a back-off until @p t microseconds into the test. */
	void expect_back_off(const net::napi_verdict &v, uint64_t t)
	{
		EXPECT_EQ(v.next, napi_next::back_off);
		EXPECT_EQ(v.until, t0_ + us(t));
		EXPECT_EQ(c_.state.load(), napi_state::backing_off);
	}
	/* Empty polls from @p t microseconds on, one a microsecond, that keep polling before one arms. */
	unsigned empty_polls_kept(uint64_t t)
	{
		unsigned kept = 0;
		while (kept < 100 && at(t + kept, 0).next == napi_next::keep_polling)
			kept++;
		return kept;
	}
	net::softnet_stat counters() const { return net::softnet_get(0); }

	const uint64_t t0_ = uint64_t(1) << 40;
	net::napi n_{poll_nothing, nullptr};
	net::detail::napi_ctl c_;
};

TEST_F(napi_machine, test_napi_poll_mode_keeps_polling_whatever_it_finds)
{
	set(rx_mode::poll);
	for (int work : {0, 5, 0, 63})
		EXPECT_EQ(at(uint64_t(work), work).next, napi_next::keep_polling);
	EXPECT_EQ(c_.state.load(), napi_state::polling);
}

TEST_F(napi_machine, test_napi_interrupt_mode_rearms_after_each_poll_with_work)
{
	set(rx_mode::interrupt);
	for (uint64_t t : {0, 10, 20}) {
		EXPECT_EQ(woken_at(t, 3).next, napi_next::rearm);
		EXPECT_EQ(c_.state.load(), napi_state::armed);
	}
}

/* net_tap's case: the fd is readable before its receive returns anything. */
TEST_F(napi_machine, test_napi_an_interrupt_that_brings_nothing_is_retried_before_it_is_rearmed)
{
	set(rx_mode::interrupt);
	const uint64_t spurious0 = counters().spurious;
	expect_back_off(woken_at(0, 0), 10);
	expect_back_off(at(10, 0), 30);
	expect_back_off(at(30, 0), 70);
	expect_back_off(at(70, 0), 150);
	EXPECT_EQ(at(150, 0).next, napi_next::rearm) << "retried for ever";
	EXPECT_EQ(counters().spurious - spurious0, 4u);
	/* A retry that finds the work ends the run: the next empty wake starts again at 10 us. */
	expect_back_off(woken_at(1000, 0), 1010);
	EXPECT_EQ(at(1010, 2).next, napi_next::rearm);
	expect_back_off(woken_at(2000, 0), 2010);
}

TEST_F(napi_machine, test_napi_defer_rule_polls_dense_work_again_after_its_window_then_arms)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::defer;
	sw.defer_ns = 50000;
	sw.defer_polls = 2;
	set(rx_mode::adaptive, sw);
	const uint64_t armed0 = counters().to_interrupt;
	EXPECT_EQ(woken_at(0, 1).next, napi_next::rearm) << "a first packet is not dense traffic";
	/* 30 us after the last work, under twice the window: poll again in 50 us instead of arming. */
	expect_back_off(woken_at(30, 1), 80);
	expect_back_off(at(80, 4), 130);
	expect_back_off(at(130, 0), 180);
	expect_back_off(at(180, 0), 230);
	EXPECT_EQ(at(230, 0).next, napi_next::rearm) << "defer_polls empty polls, then the interrupt";
	EXPECT_EQ(c_.state.load(), napi_state::armed);
	EXPECT_EQ(counters().to_interrupt - armed0, 2u);
}

TEST_F(napi_machine, test_napi_defer_rule_keeps_polling_while_polls_bring_half_a_weight)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::defer;
	set(rx_mode::adaptive, sw);
	EXPECT_EQ(woken_at(0, 32).next, napi_next::keep_polling) << "32 of a weight of 64: near full load";
	EXPECT_EQ(c_.state.load(), napi_state::polling);
	EXPECT_EQ(at(1, 40).next, napi_next::keep_polling);
	expect_back_off(at(2, 31), 52);
}

TEST_F(napi_machine, test_napi_defer_rule_arms_at_once_for_sparse_work)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::defer;
	set(rx_mode::adaptive, sw);
	for (uint64_t t : {0, 1000, 2000, 3000})
		EXPECT_EQ(woken_at(t, 1).next, napi_next::rearm) << "work 1 ms apart is cheapest on interrupts";
}

TEST_F(napi_machine, test_napi_rate_rule_polls_while_the_average_burst_is_high)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::rate;
	sw.rate_hi = 8;
	sw.rate_lo = 2;
	set(rx_mode::adaptive, sw);
	EXPECT_EQ(woken_at(0, 3).next, napi_next::rearm) << "3 packets are under rate_hi";
	/* The average moves an eighth of the way per poll: 0.4, then 1.6 packets. */
	EXPECT_EQ(woken_at(100, 10).next, napi_next::rearm) << "one burst of 10 among small ones is no load";
	EXPECT_EQ(woken_at(200, 64).next, napi_next::keep_polling) << "a full weight lifts the average to 9.4";
	EXPECT_EQ(c_.state.load(), napi_state::polling);
	EXPECT_EQ(at(201, 4).next, napi_next::keep_polling) << "8.8 is still above rate_lo";
	/* Empty polls within 10 us of the work leave it (202-210); then each halves it: 4.4, 2.2, under 2 at the third. */
	EXPECT_EQ(empty_polls_kept(202), 11u);
	EXPECT_EQ(c_.state.load(), napi_state::armed);
}

TEST_F(napi_machine, test_napi_rate_rule_keeps_polling_through_the_gaps_between_a_fast_senders_bursts)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::rate;
	set(rx_mode::adaptive, sw);
	EXPECT_EQ(woken_at(0, 64).next, napi_next::keep_polling);
	/* Bursts of 32 every 6 us, the queue found empty five times between two: a sender slower than the lcore. */
	uint64_t t = 1;
	for (; t < 1000; t += 6) {
		EXPECT_EQ(at(t, 32).next, napi_next::keep_polling) << "at " << t << " us";
		for (uint64_t e = 1; e <= 5; e++)
			ASSERT_EQ(at(t + e, 0).next, napi_next::keep_polling) << "empty poll at " << t + e << " us";
	}
	/* When the bursts stop: the rest of the 10 us (4 polls), then an average near 32 halved four times, under 2 at the fifth. */
	EXPECT_EQ(empty_polls_kept(t), 8u);
	EXPECT_EQ(c_.state.load(), napi_state::armed);
}

TEST_F(napi_machine, test_napi_rate_rule_at_full_load_keeps_polling_through_a_few_empty_polls)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::rate;
	set(rx_mode::adaptive, sw);
	EXPECT_EQ(woken_at(0, 64).next, napi_next::keep_polling) << "one full weight from idle starts polling";
	/* Full weights with an empty poll between each two: a lone empty poll is no idle spell. */
	for (uint64_t t = 1; t < 100; t += 2) {
		EXPECT_EQ(at(t, 0).next, napi_next::keep_polling) << "at " << t << " us";
		EXPECT_EQ(at(t + 1, 64).next, napi_next::keep_polling) << "at " << t + 1 << " us";
	}
	for (uint64_t t = 100; t < 120; t++)
		at(t, 64);
	/*
	 * The lone empty polls came 1 us after work and left the average alone,
	 * so it is the weight, 64: under 2 at the sixth empty poll in a row.
	 */
	EXPECT_EQ(empty_polls_kept(200), 5u);
	EXPECT_EQ(c_.state.load(), napi_state::armed);
}

TEST_F(napi_machine, test_napi_rate_rule_with_rate_hi_at_the_weight_starts_polling_under_full_weights)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::rate;
	sw.rate_hi = 64;
	set(rx_mode::adaptive, sw);
	unsigned polls = 1;
	while (polls < 100 && woken_at(polls, 64).next != napi_next::keep_polling)
		polls++;
	EXPECT_LT(polls, 100u) << "an average that only ever moves an eighth of the way never reaches the weight";
}

/*
 * iperf3's paced load: bursts of up to 20 frames, 200 us apart at 100
 * kpps (two in one when a wake-up comes late). Interrupt mode wakes once
 * or a few times per burst, each poll taking what has come; a late wake-up
 * takes a whole burst, so the polls average up to 20. Polling after one
 * finds the queue empty until it leaves: after a few such false starts
 * adaptive mode must decide as interrupt mode does.
 */
class napi_paced : public napi_machine {
protected:
	/*
	 * @p bursts paced bursts from @p t us, each taken by polls woken 20 us
	 * apart, or 1 us apart while the rule keeps polling; returns the empty
	 * polls the rule made.
	 */
	unsigned paced(uint64_t t, int bursts)
	{
		unsigned empty = 0;
		for (int b = 0; b < bursts; b++, t += 200) {
			int left = std::uniform_int_distribution<int>(1, b % 50 ? 20 : 40)(rng_);
			bool polling = false;
			for (uint64_t now = t; left || polling; now += polling ? 1 : 20) {
				/* Three wake-ups in four come after the whole burst has arrived. */
				const int got = !left ? 0 : rng_() % 4 ? left : std::uniform_int_distribution<int>(1, left)(rng_);
				left -= got;
				const napi_next next = (polling ? at(now, got) : woken_at(now, got)).next;
				empty += polling && !got;
				polling = next == napi_next::keep_polling;
				EXPECT_TRUE(polling || next == napi_next::rearm);
			}
		}
		return empty;
	}
	std::mt19937 rng_{17};
};

TEST_F(napi_paced, test_napi_rate_rule_at_paced_bursts_stops_polling_after_a_few_false_starts)
{
	set(rx_mode::adaptive, net::napi_switch{});
	/* The rule as it was polled 2389 times between these bursts. */
	EXPECT_LT(paced(0, 10000), 20u) << "polls of an empty queue between paced bursts";
	EXPECT_GT(c_.rate_start, 8u) << "a false start doubles the average that starts polling";
}

TEST_F(napi_paced, test_napi_rate_rule_after_false_starts_still_polls_at_full_load)
{
	set(rx_mode::adaptive, net::napi_switch{});
	paced(0, 200);
	ASSERT_GT(c_.rate_start, 8u);
	uint64_t t = 100000;
	unsigned polls = 0;
	while (polls < 100 && woken_at(t++, 64).next != napi_next::keep_polling)
		polls++;
	EXPECT_LT(polls, 100u) << "full weights never started polling";
	EXPECT_EQ(at(t++, 64).next, napi_next::keep_polling);
	while (at(t++, 0).next == napi_next::keep_polling)
		;
	EXPECT_EQ(c_.rate_start, 8u) << "polling that found work sets the start back to rate_hi";
	EXPECT_EQ(woken_at(t + 1000, 64).next, napi_next::keep_polling) << "one full weight from idle starts it again";
}

TEST_F(napi_machine, test_napi_without_an_interrupt_idle_back_off_doubles_to_the_ceiling)
{
	net::napi_switch sw;
	sw.max_backoff_ns = 100000;
	set(rx_mode::adaptive, sw, -1);
	expect_back_off(at(0, 0), 10);
	expect_back_off(at(10, 0), 30);
	expect_back_off(at(30, 0), 70);
	expect_back_off(at(70, 0), 150);
	expect_back_off(at(150, 0), 250);
	expect_back_off(at(250, 0), 350);
	/* Work after an idle spell starts it again from 10 us. */
	expect_back_off(at(5000, 1), 5010);
}

TEST_F(napi_machine, test_napi_without_an_interrupt_paced_work_starts_the_back_off_at_a_quarter_of_its_gap)
{
	net::napi_switch sw;
	sw.max_backoff_ns = 5000000;
	set(rx_mode::adaptive, sw, -1);
	expect_back_off(at(0, 1), 10);
	/* Work 1 ms apart: the next frame is about 1 ms away, not 10 us. */
	expect_back_off(at(1000, 1), 1250);
	expect_back_off(at(1250, 0), 1750);
	expect_back_off(at(1750, 0), 2750);
}

TEST_F(napi_machine, test_napi_switch_error_names_the_field_out_of_range)
{
	const auto error = [](auto change, int weight = 64) {
		net::napi_switch s;
		change(s);
		const char *e = net::napi_switch_error(s, weight);
		return std::string(e ? e : "");
	};
	EXPECT_EQ(error([](auto &) {}), "");
	EXPECT_NE(error([](auto &s) { s.defer_ns = 500; }).find("defer_ns"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.defer_ns = 20000000; }).find("defer_ns"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.defer_polls = 1001; }).find("defer_polls"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.rate_hi = 0; }).find("rate_hi"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.rate_hi = 65; }).find("rate_hi"), std::string::npos);
	EXPECT_EQ(error([](auto &s) { s.rate_hi = 65; }, 128), "");
	EXPECT_NE(error([](auto &s) { s.rate_lo = 9; }).find("rate_lo"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.max_backoff_ns = 5000; }).find("max_backoff_ns"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.max_backoff_ns = 2000000000; }).find("max_backoff_ns"), std::string::npos);
	EXPECT_NE(error([](auto &s) { s.rule = net::napi_rule(7); }).find("rule"), std::string::npos);
}

/*
 * A source of made-up packets with an eventfd for its interrupt: post()
 * adds packets and, while the source is armed, signals the fd, as a NIC
 * raises its Rx interrupt only when enabled.
 */
struct fake_source {
	std::atomic<int> pending{0};
	std::atomic<bool> enabled{false};
	std::atomic<uint64_t> taken{0};
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	net::napi n{poll, this};

	~fake_source() { close(fd); }
	void post(int k)
	{
		pending.fetch_add(k);
		if (enabled.load()) {
			const uint64_t one = 1;
			EXPECT_EQ(write(fd, &one, sizeof(one)), ssize_t(sizeof(one)));
		}
	}
	static int poll(net::napi &n, int budget)
	{
		auto &s = *static_cast<fake_source *>(n.data());
		int k = std::min(s.pending.load(), budget);
		s.pending.fetch_sub(k);
		s.taken.fetch_add(uint64_t(k));
		if (k < budget)
			net::napi_complete_done(n, k);
		return k;
	}
	static bool enable(net::napi &n)
	{
		auto &s = *static_cast<fake_source *>(n.data());
		s.enabled = true;
		return s.pending.load() > 0;
	}
	static void disable(net::napi &n)
	{
		auto &s = *static_cast<fake_source *>(n.data());
		s.enabled = false;
		uint64_t v;
		(void)!read(s.fd, &v, sizeof(v));
	}
	net::napi_irq irq() { return {fd, enable, disable}; }
};

class napi_top_test : public test::net_fixture {
protected:
	void SetUp() override
	{
		net_fixture::SetUp();
		ASSERT_EQ(net::net_init(), 0);
	}
	void go()
	{
		ASSERT_EQ(lcore_set_idle(lcore(), idle_mode::sleep, 1000), 0);
		ASSERT_EQ(start(), 0);
		lc_->start_loop();
	}
	fake_source src_;
};

TEST_F(napi_top_test, test_napi_add_refuses_what_its_lcore_cannot_run)
{
	test::log_capture log;
	EXPECT_EQ(net::napi_add(src_.n, lcore(), rx_mode::interrupt), -ENOTSUP) << "interrupt mode without an fd";
	net::napi_switch bad;
	bad.rate_lo = 20;
	EXPECT_EQ(net::napi_add(src_.n, lcore(), rx_mode::adaptive, bad, src_.irq()), -EINVAL);
	EXPECT_TRUE(log.contains("rate_lo")) << log.text();
	EXPECT_EQ(net::napi_add(src_.n, max_lcores, rx_mode::poll), -EINVAL);
	EXPECT_EQ(net::napi_add(src_.n, lcore(), rx_mode::adaptive, {}, src_.irq()), 0);
	EXPECT_EQ(net::napi_add(src_.n, lcore(), rx_mode::adaptive, {}, src_.irq()), -EINVAL) << "given twice";
	go();
	test::wait_until([&] { return net::napi_state_of(src_.n) == napi_state::armed; });
	fake_source late;
	EXPECT_EQ(net::napi_add(late.n, lcore(), rx_mode::poll), -EBUSY) << "added while its lcore runs";
}

TEST_F(napi_top_test, test_napi_interrupt_mode_sleeps_on_its_fd_and_wakes_when_it_fires)
{
	ASSERT_EQ(net::napi_add(src_.n, lcore(), rx_mode::interrupt, {}, src_.irq()), 0);
	go();
	ASSERT_TRUE(test::wait_until([&] { return src_.enabled.load(); })) << "never armed";
	EXPECT_EQ(net::napi_state_of(src_.n), napi_state::armed);
	const uint64_t sleeps0 = lcore_get_stats(lcore()).sleeps;
	const uint64_t interrupts0 = net::softnet_get(lcore()).interrupts;
	std::this_thread::sleep_for(100ms);
	EXPECT_LE(lcore_get_stats(lcore()).sleeps - sleeps0, 1u) << "an armed lcore woke without cause";
	for (int i = 1; i <= 20; i++) {
		src_.post(3);
		ASSERT_TRUE(test::wait_until([&] { return src_.taken.load() == uint64_t(3 * i) && src_.enabled.load(); }))
			<< "packets of interrupt " << i << " not taken, or not re-armed";
	}
	EXPECT_EQ(net::softnet_get(lcore()).interrupts - interrupts0, 20u);
}

/*
 * A NET_RX pass out of budget leaves the contexts it did not reach on the
 * list. The lcore must come back for them when none is driven (each was
 * scheduled by its interrupt) and the one it polled went back to sleep:
 * else they stay scheduled, never polled, and the lcore never sleeps.
 */
class napi_top_two : public napi_top_test {
protected:
	fake_source other; /* a member: the lcore, stopped in TearDown(), may poll it to the end */
};

TEST_F(napi_top_two, test_napi_contexts_a_squeezed_pass_left_on_the_list_are_polled_on_the_next)
{
	ASSERT_EQ(net::napi_set_config({.budget = 1}), 0);
	ASSERT_EQ(net::napi_add(src_.n, lcore(), rx_mode::adaptive, {}, src_.irq()), 0);
	ASSERT_EQ(net::napi_add(other.n, lcore(), rx_mode::adaptive, {}, other.irq()), 0);
	go();
	ASSERT_TRUE(test::wait_until([&] { return src_.enabled.load() && other.enabled.load(); })) << "never armed";
	for (uint64_t i = 1; i <= 20; i++) {
		src_.post(1);
		other.post(1);
		ASSERT_TRUE(test::wait_until([&] { return src_.taken.load() == i && other.taken.load() == i; }))
			<< "interrupt " << i << ": taken " << src_.taken.load() << " and " << other.taken.load();
	}
	EXPECT_GT(net::softnet_get(lcore()).time_squeeze, 0u);
}

/* A context in poll mode whose every poll takes 0.6 ms and brings one packet. */
struct slow_source {
	std::atomic<uint64_t> polls{0};
	net::napi n{poll, this};

	static int poll(net::napi &n, int)
	{
		test::spin_ns(600000);
		static_cast<slow_source *>(n.data())->polls.fetch_add(1);
		net::napi_complete_done(n, 1);
		return 1;
	}
};

class napi_top_slow : public napi_top_test {
protected:
	slow_source slow[4]; /* members: the lcore, stopped in TearDown(), may poll them to the end */
};

/*
 * NET_RX's time limit: four polls of 0.6 ms each do not fit in a pass of
 * 1 ms, far from its budget, so passes end early (a time_squeeze) and
 * leave the rest for the next; every context is still polled.
 */
TEST_F(napi_top_slow, test_napi_a_pass_past_its_time_limit_leaves_the_rest_for_the_next)
{
	ASSERT_EQ(net::napi_set_config({.budget = 300, .time_limit_ns = 1000000}), 0);
	for (slow_source &s : slow)
		ASSERT_EQ(net::napi_add(s.n, lcore(), rx_mode::poll), 0);
	const net::softnet_stat s0 = net::softnet_get(lcore());
	go();
	ASSERT_TRUE(test::wait_until([&] {
		return std::all_of(std::begin(slow), std::end(slow), [](const slow_source &s) { return s.polls.load() >= 20; });
	})) << "a context starved: " << slow[0].polls.load() << " " << slow[1].polls.load() << " "
	    << slow[2].polls.load() << " " << slow[3].polls.load();
	const net::softnet_stat s1 = net::softnet_get(lcore());
	const uint64_t squeezes = s1.time_squeeze - s0.time_squeeze, passes = s1.passes - s0.passes;
	EXPECT_GT(squeezes, passes / 2) << squeezes << " squeezes in " << passes << " passes";
	EXPECT_LE(squeezes, passes);
}

/*
 * With the defer rule, traffic denser than its window is taken by timed
 * polls between sleeps: fewer wake-ups than packets, and no interrupt for
 * most of them.
 */
TEST_F(napi_top_test, test_napi_defer_rule_takes_dense_traffic_in_batches_between_sleeps)
{
	net::napi_switch sw;
	sw.rule = net::napi_rule::defer;
	sw.defer_ns = 200000;
	ASSERT_EQ(net::napi_add(src_.n, lcore(), rx_mode::adaptive, sw, src_.irq()), 0);
	go();
	ASSERT_TRUE(test::wait_until([&] { return src_.enabled.load(); }));
	const net::softnet_stat s0 = net::softnet_get(lcore());
	const uint64_t sleeps0 = lcore_get_stats(lcore()).sleeps;
	const auto end = std::chrono::steady_clock::now() + 300ms;
	uint64_t posted = 0;
	while (std::chrono::steady_clock::now() < end) {
		src_.post(1);
		posted++;
		std::this_thread::sleep_for(50us);
	}
	ASSERT_TRUE(test::wait_until([&] { return src_.taken.load() == posted; }));
	const net::softnet_stat s1 = net::softnet_get(lcore());
	const uint64_t sleeps = lcore_get_stats(lcore()).sleeps - sleeps0;
	printf("defer rule, 200 us window: %" PRIu64 " packets, %" PRIu64 " polls, %" PRIu64 " interrupts, %" PRIu64
	       " back-offs, %" PRIu64 " sleeps\n",
	       posted, s1.polls - s0.polls, s1.interrupts - s0.interrupts, s1.backoffs - s0.backoffs, sleeps);
	EXPECT_LT(s1.polls - s0.polls, posted * 3 / 4) << "no batching";
	EXPECT_LT(s1.interrupts - s0.interrupts, posted / 4) << "dense traffic still taken by interrupts";
	EXPECT_GT(s1.backoffs - s0.backoffs, 0u);
	EXPECT_LT(sleeps, posted) << "the lcore did not sleep between its polls";
}

} // namespace
} // namespace bh
