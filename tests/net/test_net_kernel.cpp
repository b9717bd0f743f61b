/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPEC section 8 with real kernel traffic: two network namespaces this test
 * makes, joined only through an lcore that forwards between two ports
 * (net_tap, or net_af_packet or net_af_xdp on veth pairs). Interrupt mode
 * must sleep when idle and wake on traffic (on net_af_packet and
 * net_af_xdp, on the queue's socket: its Rx doorbell); adaptive mode must
 * switch both ways.
 */
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "net_test.h"

namespace bh {
namespace {

using namespace std::chrono_literals;
using test::forward_to;
using test::test_lcore;
using test::wait_until;

/*
 * The namespaces' addresses: from the benchmarking range, so that they
 * cannot be the host's own (a host address would answer ARP on the veth
 * ends left in the root namespace).
 */
const char *const addr1 = "198.18.0.1";
const char *const addr2 = "198.18.0.2";

int sh(const std::string &cmd)
{
	return system((cmd + " >/dev/null 2>&1").c_str());
}

/* Names unique to this process, so that parallel runs do not collide. */
std::string name(const char *prefix)
{
	return prefix + std::to_string(getpid());
}

class net_kernel_test : public test::net_fixture {
protected:
	void SetUp() override
	{
		if (sh("ip netns list") != 0)
			GTEST_SKIP() << "iproute2 with netns support is needed";
		cleanup_namespaces();
		ASSERT_EQ(sh("ip netns add " + ns1_), 0);
		ASSERT_EQ(sh("ip netns add " + ns2_), 0);
		net_fixture::SetUp();
		ASSERT_EQ(net::net_init(), 0);
	}
	void release_ports() override
	{
		for (const std::string &dev : vdevs_) {
			uint16_t p;
			if (rte_eth_dev_get_port_by_name(dev.c_str(), &p) == 0) {
				rte_eth_dev_stop(p);
				rte_eth_dev_close(p);
			}
			rte_eal_hotplug_remove("vdev", dev.c_str());
		}
		rte_mempool_free(own_pool_);
		cleanup_namespaces();
	}
	void cleanup_namespaces()
	{
		for (const std::string &cmd : {"ip netns del " + ns1_, "ip netns del " + ns2_, "ip link del " + name("bva"),
					       "ip link del " + name("bvb")}) {
			sh(cmd);
			test::cleanup_if_killed(cmd);
		}
	}

	/* A port whose kernel side ends up in @p ns with @p addr; its mbufs from @p pool (default: the test pool). */
	uint16_t add_port(const std::string &devargs, const std::string &dev, const std::string &ifname,
			  const std::string &ns, const char *addr, bool rx_intr, rte_mempool *pool = nullptr)
	{
		EXPECT_EQ(rte_eal_hotplug_add("vdev", dev.c_str(), devargs.c_str()), 0) << dev << "," << devargs;
		vdevs_.push_back(dev);
		uint16_t p = 0;
		EXPECT_EQ(rte_eth_dev_get_port_by_name(dev.c_str(), &p), 0);
		net::port_conf c;
		c.rx_interrupts = rx_intr;
		c.rx_desc = 512;
		c.tx_desc = 512;
		EXPECT_EQ(net::port_configure(p, c, pool ? pool : test::test_pool()), 0);
		EXPECT_EQ(net::port_start(p), 0);
		EXPECT_EQ(sh("ip link set " + ifname + " netns " + ns), 0);
		EXPECT_EQ(sh("ip -n " + ns + " addr add " + addr + "/24 dev " + ifname), 0);
		EXPECT_EQ(sh("ip -n " + ns + " link set " + ifname + " up"), 0);
		return p;
	}

	std::pair<uint16_t, uint16_t> tap_pair(bool rx_intr)
	{
		const std::string ta = name("bta"), tb = name("btb");
		const uint16_t a = add_port("iface=" + ta, "net_tap_" + ta, ta, ns1_, addr1, rx_intr);
		const uint16_t b = add_port("iface=" + tb, "net_tap_" + tb, tb, ns2_, addr2, rx_intr);
		return {a, b};
	}

	/*
	 * Two veth pairs: the root namespace keeps ends a and b for the PMD,
	 * their peers go to the namespaces (see add_port).
	 */
	std::pair<std::string, std::string> veth_pairs(const std::string &pa, const std::string &pb)
	{
		const std::string va = name("bva"), vb = name("bvb");
		EXPECT_EQ(sh("ip link add " + va + " type veth peer name " + pa), 0);
		EXPECT_EQ(sh("ip link add " + vb + " type veth peer name " + pb), 0);
		/* The root namespace's ends only carry frames: its own stack must not answer on them. */
		for (const std::string &v : {va, vb}) {
			EXPECT_EQ(sh("sysctl -w net.ipv4.conf." + v + ".arp_ignore=8 net.ipv6.conf." + v + ".disable_ipv6=1"), 0);
			EXPECT_EQ(sh("ip link set " + v + " up"), 0);
		}
		return {va, vb};
	}

	/* Forwards both ways on the test lcore. */
	void bridge(uint16_t a, uint16_t b, net::rx_mode mode)
	{
		fwd_a_ = std::make_unique<forward_to>(b);
		fwd_b_ = std::make_unique<forward_to>(a);
		ASSERT_EQ(net::net_add_rxq({a, 0, lc_->id(), mode, fwd_a_.get()}), 0);
		ASSERT_EQ(net::net_add_rxq({b, 0, lc_->id(), mode, fwd_b_.get()}), 0);
		ASSERT_EQ(net::net_add_txq(a, 0, lc_->id()), 0);
		ASSERT_EQ(net::net_add_txq(b, 0, lc_->id()), 0);
		ASSERT_EQ(lcore_set_idle(lc_->id(), idle_mode::sleep, 1000), 0);
		ASSERT_EQ(start(), 0);
		lc_->start_loop();
	}

	int ping(const char *extra = "-c 3 -W 2")
	{
		return sh("ip netns exec " + ns1_ + " ping " + extra + " " + addr2);
	}

	struct per_frame {
		double frames, wakeups, irqs; /* frames forwarded; the lcore's wake-ups and Rx interrupts per frame */
	};

	/* 50 pings 20 ms apart (100 frames) through ports @p a and @p b, and what the lcore did for them. */
	per_frame ping_per_frame(uint16_t a, uint16_t b)
	{
		const auto frames = [&] { return net::net_port_stats(a).rx + net::net_port_stats(b).rx; };
		const uint64_t f0 = frames(), s0 = lcore_get_stats(lc_->id()).sleeps;
		const uint64_t i0 = net::net_lcore_stats(lc_->id()).softnet.interrupts;
		EXPECT_EQ(ping("-c 50 -i 0.02 -W 2"), 0);
		const double n = double(frames() - f0);
		return {n, double(lcore_get_stats(lc_->id()).sleeps - s0) / n,
			double(net::net_lcore_stats(lc_->id()).softnet.interrupts - i0) / n};
	}

	std::string ns1_ = name("bhn1_"), ns2_ = name("bhn2_");
	rte_mempool *own_pool_ = nullptr; /* freed after the ports are removed */
	std::vector<std::string> vdevs_;
	std::unique_ptr<forward_to> fwd_a_, fwd_b_;
};

TEST_F(net_kernel_test, test_net_tap_interrupt_mode_sleeps_when_idle_and_wakes_on_ping)
{
	auto [a, b] = tap_pair(true);
	bridge(a, b, net::rx_mode::interrupt);
	ASSERT_EQ(ping(), 0) << "ping through the interrupt-mode lcore failed";
	const uint64_t irqs = net::net_lcore_stats(lc_->id()).softnet.interrupts;
	EXPECT_GT(irqs, 0u) << "the traffic was not taken by Rx interrupts";
	std::this_thread::sleep_for(200ms);
	const uint64_t cpu0 = test::thread_cpu_ns(lc_->tid());
	std::this_thread::sleep_for(1000ms);
	const double idle_pct = double(test::thread_cpu_ns(lc_->tid()) - cpu0) / 1e7;
	printf("net_tap interrupt mode: lcore CPU over an idle second %.2f%%; %" PRIu64 " Rx interrupts for the ping\n",
	       idle_pct, irqs);
	EXPECT_LT(idle_pct, 2.0);
	EXPECT_EQ(ping("-c 2 -W 2"), 0) << "no wake-up after the idle second";
}

/*
 * net_tap's receive reads nothing until its SIGIO-style signal has bumped
 * the PMD's trigger, while the queue fd is readable as soon as the frame is
 * queued: a signal taken late (by another thread) or a re-arm at once after
 * an empty poll turns each frame into hundreds of wake-ups. Expected: about
 * one per frame.
 */
TEST_F(net_kernel_test, test_net_tap_interrupt_mode_wakes_about_once_per_frame)
{
	auto [a, b] = tap_pair(true);
	bridge(a, b, net::rx_mode::interrupt);
	ASSERT_EQ(ping("-c 2 -W 2"), 0);
	std::this_thread::sleep_for(100ms);
	const per_frame f = ping_per_frame(a, b);
	printf("net_tap interrupt mode: %.0f frames, %.2f wake-ups and %.2f Rx interrupts per frame\n", f.frames,
	       f.wakeups, f.irqs);
	ASSERT_GE(f.frames, 100.0);
	EXPECT_LT(f.wakeups, 2.0) << "the lcore spins on a readable tap fd";
	EXPECT_LT(f.irqs, 1.5);
}

TEST_F(net_kernel_test, test_net_tap_adaptive_polls_under_load_and_sleeps_when_idle)
{
	auto [a, b] = tap_pair(true);
	bridge(a, b, net::rx_mode::adaptive);
	ASSERT_EQ(ping("-c 2 -W 2"), 0);
	std::this_thread::sleep_for(300ms);
	const net::lcore_net_stats idle = net::net_lcore_stats(lc_->id());
	EXPECT_GT(idle.softnet.to_interrupt, 0u) << "adaptive never armed the interrupt when idle";
	ASSERT_EQ(ping("-f -c 3000 -W 2"), 0) << "flood ping through the adaptive lcore failed";
	const net::lcore_net_stats busy = net::net_lcore_stats(lc_->id());
	printf("net_tap adaptive: %" PRIu64 " switches to interrupts, %" PRIu64 " back to polling, %" PRIu64
	       " Rx interrupts, %" PRIu64 " NET_RX polls\n",
	       busy.softnet.to_interrupt, busy.softnet.to_poll, busy.softnet.interrupts, busy.softnet.polls);
	EXPECT_GT(busy.softnet.to_poll, idle.softnet.to_poll) << "traffic did not switch it to polling";
	EXPECT_GT(busy.softnet.polls, idle.softnet.polls + 1000) << "no polling under load";
	const uint64_t cpu0 = test::thread_cpu_ns(lc_->tid());
	std::this_thread::sleep_for(1000ms);
	EXPECT_LT(double(test::thread_cpu_ns(lc_->tid()) - cpu0) / 1e7, 2.0) << "idle again, it should sleep";
}

TEST_F(net_kernel_test, test_net_af_packet_on_veth_passes_kernel_traffic)
{
	const std::string pa = name("bpa"), pb = name("bpb");
	const auto [va, vb] = veth_pairs(pa, pb);
	const uint16_t a = add_port("iface=" + va, "net_af_packet_" + va, pa, ns1_, addr1, false);
	const uint16_t b = add_port("iface=" + vb, "net_af_packet_" + vb, pb, ns2_, addr2, false);
	bridge(a, b, net::rx_mode::poll);
	EXPECT_EQ(ping(), 0) << "ping through net_af_packet on veth failed";
	const net::port_stats sa = net::net_port_stats(a), sb = net::net_port_stats(b);
	EXPECT_GT(sa.rx, 0u);
	EXPECT_GT(sb.tx, 0u);
}

/*
 * net_af_packet and net_af_xdp have no Rx interrupt in DPDK 22.11, but each
 * queue is a kernel socket that is readable while the queue holds frames:
 * the port's Rx doorbell (port_rx_intr_fd). Interrupt mode must sleep on it
 * when idle and wake about once per frame, and adaptive mode must arm it
 * instead of backing off. Without the doorbell interrupt mode is refused
 * (-ENOTSUP) and an idle adaptive lcore backs off hundreds of times a second.
 */
class net_doorbell_test : public net_kernel_test {
protected:
	/* Two veth ports of @p driver, in @p mode; af_xdp's keep the mbufs of their fill ring, so a pool of their own. */
	std::pair<uint16_t, uint16_t> veth_ports(const std::string &driver, net::rx_mode mode)
	{
		const std::string pa = name("bpa"), pb = name("bpb");
		const auto [va, vb] = veth_pairs(pa, pb);
		own_pool_ = net::mempool_create(name("db_pool").c_str(), 8191);
		EXPECT_NE(own_pool_, nullptr);
		const uint16_t a = add_port("iface=" + va, driver + "_" + va, pa, ns1_, addr1, true, own_pool_);
		const uint16_t b = add_port("iface=" + vb, driver + "_" + vb, pb, ns2_, addr2, true, own_pool_);
		EXPECT_STREQ(net::port_driver(a), driver.c_str());
		for (const uint16_t p : {a, b}) {
			const int fd = net::port_rx_intr_fd(p, 0);
			EXPECT_GE(fd, 0) << driver << ": no Rx doorbell found for port " << p;
			int domain = -1;
			socklen_t len = sizeof(domain);
			EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len), 0);
			EXPECT_EQ(domain, driver == "net_af_packet" ? AF_PACKET : 44 /* AF_XDP */)
				<< "the doorbell is not the queue's socket";
		}
		EXPECT_NE(net::port_rx_intr_fd(a, 0), net::port_rx_intr_fd(b, 0));
		bridge(a, b, mode);
		return {a, b};
	}

	/* Idle CPU of the lcore over a second, in % of a CPU. */
	double idle_cpu_pct()
	{
		std::this_thread::sleep_for(200ms);
		const uint64_t cpu0 = test::thread_cpu_ns(lc_->tid());
		std::this_thread::sleep_for(1000ms);
		return double(test::thread_cpu_ns(lc_->tid()) - cpu0) / 1e7;
	}

	void sleeps_on_the_doorbell(const std::string &driver)
	{
		auto [a, b] = veth_ports(driver, net::rx_mode::interrupt);
		ASSERT_EQ(ping("-c 2 -W 2"), 0) << "ping through " << driver << " in interrupt mode failed";
		const double idle_pct = idle_cpu_pct();
		const per_frame f = ping_per_frame(a, b);
		printf("%s interrupt mode on the doorbell: idle lcore CPU %.2f%%; %.0f frames, %.2f wake-ups and %.2f "
		       "Rx interrupts per frame\n",
		       driver.c_str(), idle_pct, f.frames, f.wakeups, f.irqs);
		EXPECT_LT(idle_pct, 2.0);
		ASSERT_GE(f.frames, 100.0);
		EXPECT_GT(f.irqs, 0.5) << "the frames were not taken by the doorbell";
		EXPECT_LT(f.wakeups, 2.0) << "the lcore spins on a readable socket";
		EXPECT_LT(f.irqs, 1.5);
	}

	void adaptive_arms_the_doorbell(const std::string &driver)
	{
		veth_ports(driver, net::rx_mode::adaptive);
		ASSERT_EQ(ping("-c 2 -W 2"), 0) << "ping through " << driver << " in adaptive mode failed";
		const uint64_t backoffs = net::net_lcore_stats(lc_->id()).softnet.backoffs;
		const double idle_pct = idle_cpu_pct();
		const net::lcore_net_stats st = net::net_lcore_stats(lc_->id());
		printf("%s adaptive on the doorbell: idle lcore CPU %.2f%%, %" PRIu64 " back-offs in the idle spell, %" PRIu64
		       " switches to the doorbell\n",
		       driver.c_str(), idle_pct, st.softnet.backoffs - backoffs, st.softnet.to_interrupt);
		EXPECT_GT(st.softnet.to_interrupt, 0u) << "adaptive never armed the doorbell";
		EXPECT_LT(st.softnet.backoffs - backoffs, 20u) << "an idle queue with a doorbell must sleep on it, not back off";
		EXPECT_LT(idle_pct, 2.0);
		ASSERT_EQ(ping("-f -c 2000 -W 2"), 0) << "flood ping through the adaptive lcore failed";
		EXPECT_GT(net::net_lcore_stats(lc_->id()).softnet.to_poll, st.softnet.to_poll) << "traffic did not wake it";
	}
};

TEST_F(net_doorbell_test, test_net_af_packet_interrupt_mode_sleeps_on_its_socket_and_wakes_once_per_frame)
{
	sleeps_on_the_doorbell("net_af_packet");
}

TEST_F(net_doorbell_test, test_net_af_packet_adaptive_arms_its_socket_instead_of_backing_off)
{
	adaptive_arms_the_doorbell("net_af_packet");
}

TEST_F(net_doorbell_test, test_net_af_xdp_interrupt_mode_sleeps_on_its_socket_and_wakes_once_per_frame)
{
	sleeps_on_the_doorbell("net_af_xdp");
}

TEST_F(net_doorbell_test, test_net_af_xdp_adaptive_arms_its_socket_instead_of_backing_off)
{
	adaptive_arms_the_doorbell("net_af_xdp");
}

} // namespace
} // namespace bh
