#!/usr/bin/env python3
"""bh-bridge's behaviour, tested from outside the process.

Usage: test_bh_bridge.py BH_BRIDGE_BINARY [unittest options, e.g. -k aging]

- Byte-exact pcap tests: net_pcap ports on files (flooding, static entries,
  filtering, frames from group sources), and net_pcap ports that read veth
  ends live (rx_iface_in) and write files, fed one frame at a time through
  raw sockets in a namespace this test makes, waiting on telemetry between
  frames: learning, filtering of learned addresses, a move, aging.
- Real kernel traffic: four namespaces on net_af_packet veths (ping between
  every pair, a unicast iperf3 flow that the others do not see, aging, an
  address moving to another port, a link taken down flushing its port), and
  three on net_tap ports in Rx-interrupt mode.
- Telemetry (/bh/bridge/stats, /bh/bridge/fdb), trace points, bad input
  (one line, non-zero exit).

Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

import ctypes
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path += [os.path.join(HERE, os.pardir, 'common'), os.path.join(HERE, os.pardir, 'observability')]
import gtest_xml  # noqa: E402
import pcaptool  # noqa: E402
import test_bh_l2fwd as l2fwd  # noqa: E402  (its App runs one process and keeps its output)
from pcaptool import ether_frame, mac  # noqa: E402
from test_observability import TelemetryClient, read_trace, runtime_dir  # noqa: E402

SUITE = 'bh_bridge'
NAME_BASE = f'bhbr{os.getpid()}'
WAIT = 10          # for a frame to be forwarded, an address learned, aged or flushed
RUN_SECONDS = 2

BCAST = mac('ff:ff:ff:ff:ff:ff')
MCAST4, MCAST6 = mac('01:00:5e:00:00:fb'), mac('33:33:00:00:00:01')
UNKNOWN = mac('02:ee:00:00:00:99')  # never a source: always unknown unicast


def host(port, i=1):
    """The MAC of host @i behind port @port."""
    return mac(f'02:a0:00:00:{port:02x}:{i:02x}')


def frame(dst, src, tag, size=64, vlan=None):
    return ether_frame(dst, src, size, tag.encode(), vlan=vlan)


class BridgeTest(l2fwd.L2fwdTest):
    """Runs bh-bridge (through bh-l2fwd's test harness) in a temporary directory."""

    def telemetry(self, app):
        """A client of @app's telemetry once the /bh/bridge commands answer."""
        prefix = f'bh-{app.proc.pid}'  # bh::eal_init's default file prefix
        self.addCleanup(shutil.rmtree, runtime_dir(prefix), ignore_errors=True)
        path = os.path.join(runtime_dir(prefix), 'dpdk_telemetry.v2')
        deadline = time.monotonic() + l2fwd.READY_TIMEOUT
        while time.monotonic() < deadline and app.running():
            try:
                client = TelemetryClient(path)
            except (OSError, ValueError):
                time.sleep(0.1)
                continue
            if client.query('/bh/bridge/stats') is not None:
                self.addCleanup(client.close)
                return client
            client.close()
            time.sleep(0.1)
        self.fail(f'no /bh/bridge telemetry at {path}\n{app.report()}')

    def wait_until(self, app, predicate, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while not predicate():
            if not app.running():
                self.fail(f'bh-bridge exited while waiting for {what}\n{app.report()}')
            if time.monotonic() > deadline:
                self.fail(f'no {what} within {timeout}s\n{app.report()}')
            time.sleep(0.02)

    def assert_frames(self, got, expected, where):
        l2fwd.PcapTest.assert_frames(self, got, expected, where)


def fdb_of(client):
    """{mac bytes: (port, type)} from /bh/bridge/fdb (every page)."""
    table, offset = {}, 0
    while True:
        reply = client.query(f'/bh/bridge/fdb,{offset}')
        for m, port, kind in zip(reply['mac'], reply['port'], reply['type']):
            table[mac(m)] = (port, kind)
        offset += len(reply['mac'])
        if not reply['mac'] or offset >= reply['entries']:
            return table


# ---------------------------------------------------------------- pcap files

class PcapFiles(BridgeTest):
    """Ports on pcap files: port i reads in<i>.pcap, writes out<i>.pcap. All
    inputs arrive at once, so these tests check what does not depend on when
    an address is learned."""

    def forward(self, inputs, args=(), config=None):
        vdevs = []
        for port, frames in enumerate(inputs):
            pcaptool.write_pcap(self.path(f'in{port}.pcap'), frames)
            vdevs.append(f'net_pcap{port},rx_pcap={self.path(f"in{port}.pcap")},'
                         f'tx_pcap={self.path(f"out{port}.pcap")}')
        args = ['-p', hex((1 << len(inputs)) - 1), '-T', '0', '--duration', str(RUN_SECONDS), *args]
        if config is not None:
            args += ['--config', self.write_config(config)]
        app = self.run_to_end(vdevs, args)
        summary = app.summary()
        pool = summary['mempool']
        self.assertEqual(pool['in_use_end'], pool['in_use_start'], 'mbufs in use at exit: leaked')
        return [pcaptool.read_pcap(self.path(f'out{p}.pcap')) for p in range(len(inputs))], summary

    def test_bridge_floods_broadcast_multicast_and_unknown_unicast_unchanged(self):
        dsts = (BCAST, MCAST4, MCAST6, UNKNOWN)
        inputs = [[frame(dsts[i % 4], host(p), f'p{p}#{i};', 60 + 7 * i, vlan=10 if i % 5 == 0 else None)
                   for i in range(120)] for p in (0, 1)] + [[]]
        out, summary = self.forward(inputs)
        # Port 2 gets both floods; their interleaving depends on polling, each one's order does not.
        self.assert_frames(out[0], inputs[1], 'port 1 -> port 0')
        self.assert_frames(out[1], inputs[0], 'port 0 -> port 1')
        for p in (0, 1):
            self.assert_frames([f for f in out[2] if f[6:12] == host(p)], inputs[p], f'port {p} -> port 2')
        self.assertEqual(len(out[2]), 240)
        b = summary['bridge']
        self.assertEqual((b['broadcast'], b['multicast'], b['unknown_unicast'], b['unicast']), (60, 120, 60, 0))
        self.assertEqual(b['flood_tx'], 480, 'each flood reaches the two other ports')
        self.assertEqual(b['learned'], 2)
        self.assertEqual(summary['ports']['2']['tx'], 240)

    def test_bridge_static_entries_forward_and_filter(self):
        x, y = mac('02:00:00:00:0a:01'), mac('02:00:00:00:0a:02')  # static on ports 1 and 0
        config = '[bridge]\nportmask=0x7\n[static]\n02:00:00:00:0a:01 = 1\n02:00:00:00:0a:02 = 0\n'
        to_x = [frame(x, host(0), f'x{i};') for i in range(20)]
        to_y = [frame(y, host(0), f'y{i};') for i in range(10)]
        bcast = [frame(BCAST, host(0), f'b{i};') for i in range(5)]
        # Frames with a static address as source, on another port: the entry must not move.
        spoof = [frame(BCAST, x, f's{i};') for i in range(5)]
        to_x_from_2 = [frame(x, host(2), f'z{i};') for i in range(5)]
        mixed = [f for group in zip(to_x[:10], to_y, to_x[10:]) for f in group] + bcast
        out, summary = self.forward([mixed, [], spoof + to_x_from_2], config=config)
        self.assert_frames([f for f in out[1] if f[6:12] == host(0)], [f for f in mixed if f[:6] != y],
                           'port 0 -> port 1')
        self.assert_frames([f for f in out[1] if f[6:12] != host(0)], spoof + to_x_from_2, 'port 2 -> port 1')
        self.assert_frames(out[2], bcast, 'port 0 -> port 2')
        self.assert_frames(out[0], spoof, 'port 2 -> port 0 (floods only)')
        b = summary['bridge']
        self.assertEqual(b['dropped_same_port'], 10, 'frames to an address on their own port are filtered')
        self.assertEqual((b['static_entries'], b['moved']), (2, 0))
        self.assertEqual(summary['drops']['handler'], 10)

    def test_bridge_does_not_learn_group_or_zero_sources(self):
        bad_sources = [mac('01:00:5e:00:00:01'), mac('00:00:00:00:00:00')]
        frames = [frame(BCAST, bad_sources[i % 2], f'g{i};') for i in range(10)] + [frame(BCAST, host(0), 'ok;')]
        out, summary = self.forward([frames, []])
        self.assert_frames(out[1], frames, 'port 0 -> port 1')
        b = summary['bridge']
        self.assertEqual((b['src_not_learned'], b['learned'], b['entries']), (10, 1, 1))

    def test_bridge_drops_runts_and_oversize_frames_with_their_reason(self):
        good = [frame(BCAST, host(0), f'g{i};') for i in range(10)]
        runts = [b'\x02', BCAST + host(0) + b'\x88']
        big = [frame(BCAST, host(0), 'big;', 1600)]
        out, summary = self.forward([good[:5] + runts + good[5:] + big, []])
        self.assert_frames(out[1], good, 'port 0 -> port 1')
        self.assertEqual((summary['drops']['runt'], summary['drops']['oversize']), (2, 1))


# ---------------------------------------------------------------- live pcap

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def sh(*cmd, check=True, timeout=10):
    return l2fwd.sh(*cmd, check=check, timeout=timeout)


def raw_socket_in(ns, ifname):
    """An AF_PACKET socket on @ifname inside namespace @ns (made there, used from here)."""
    own = os.open('/proc/self/ns/net', os.O_RDONLY)
    target = os.open(f'/var/run/netns/{ns}', os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f'setns into {ns}')
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: sends, receives nothing
            s.bind((ifname, 0))
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), 'setns back')
    finally:
        os.close(own)
        os.close(target)
    return s


class Namespaces(BridgeTest):
    """Makes namespaces and veth pairs, removed at the end even on failure."""

    def setUp(self):
        super().setUp()
        for tool in ('ip', 'ping', 'iperf3', 'ethtool', 'sysctl', 'ss'):
            self.assertTrue(shutil.which(tool), f'{tool} is not installed (devtools/setup.sh installs it)')

    def namespace(self, tag):
        ns = f'{NAME_BASE}{tag}'
        sh('ip', 'netns', 'add', ns)
        self.addCleanup(sh, 'ip', 'netns', 'del', ns, check=False)
        sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1',
           'net.ipv6.conf.default.disable_ipv6=1')
        return ns

    def veth(self, tag, ns):
        """A veth pair: the root end (returned) for the bridge's port, the
        peer, named @tag's p-name, in @ns. The root end carries frames only."""
        outer, inner = f'{NAME_BASE}v{tag}', f'{NAME_BASE}p{tag}'
        sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner)
        self.addCleanup(sh, 'ip', 'link', 'del', outer, check=False)
        sh('sysctl', '-qw', f'net.ipv4.conf.{outer}.arp_ignore=8', f'net.ipv6.conf.{outer}.disable_ipv6=1')
        sh('ip', 'link', 'set', outer, 'up')
        # TCP through a packet socket needs frames the size the wire has (see bh-l2fwd's tests).
        sh('ethtool', '-K', inner, 'tx', 'off', 'gso', 'off')
        sh('ip', 'link', 'set', inner, 'netns', ns)
        sh('ip', '-n', ns, 'link', 'set', inner, 'up')
        return outer, inner


class LiveLearning(Namespaces):
    """Three ports: net_pcap reading a veth's root end live and writing a
    file. Frames go in one at a time from raw sockets on the peers; each
    step waits on telemetry, so the order of learning and forwarding is the
    test's, and the files must hold exactly the frames the steps imply."""

    def start_bridge(self, *args):
        self.ns = self.namespace('l')
        self.socks, vdevs = [], []
        for p in range(3):
            outer, inner = self.veth(f'l{p}', self.ns)
            self.socks.append(raw_socket_in(self.ns, inner))
            self.addCleanup(self.socks[-1].close)
            vdevs.append(f'net_pcap{p},rx_iface_in={outer},tx_pcap={self.path(f"out{p}.pcap")}')
        self.app = self.start(vdevs, ['-p', '0x7', '-T', '0', *args])
        self.tel = self.telemetry(self.app)

    def stats(self):
        return self.tel.query('/bh/bridge/stats')

    def handled(self):
        s = self.stats()
        return s['unicast'] + s['unknown_unicast'] + s['broadcast'] + s['multicast'] + s['dropped_same_port']

    def send(self, port, f, learns=None):
        """Sends @f into @port and waits until it is handled, and until the
        FDB has @learns (a MAC) on @port."""
        before = self.handled()
        self.socks[port].send(f)
        self.wait_until(self.app, lambda: self.handled() > before, f'frame {pcaptool.describe(f)} handled')
        if learns:
            self.wait_until(self.app, lambda: fdb_of(self.tel).get(learns, (None,))[0] == port,
                            f'{pcaptool.mac_str(learns)} learned on port {port}')

    def outputs(self):
        self.assert_exit_ok(self.app, self.app.stop())
        summary = self.app.summary()
        pool = summary['mempool']
        self.assertEqual(pool['in_use_end'], pool['in_use_start'], 'mbufs in use at exit: leaked')
        return [pcaptool.read_pcap(self.path(f'out{p}.pcap')) for p in range(3)], summary

    def test_bridge_learns_filters_and_follows_a_move_byte_exact(self):
        self.start_bridge()
        a, b, c, d = host(0), host(1), host(2), host(0, 2)
        s1 = frame(b, a, 'A to unknown B;')   # flooded to 1 and 2; A learned on 0
        s2 = frame(a, b, 'B to A;')           # known: to 0 only; B learned on 1
        s3 = frame(a, c, 'C to A;', 100)      # to 0 only; C learned on 2
        s4 = frame(b, a, 'A to B;')           # to 1 only now
        s5 = frame(a, d, 'D to A;')           # A is on port 0, as D: filtered
        s6 = frame(BCAST, a, 'A moved;')      # from port 2: flooded to 0 and 1; A moves to 2
        s7 = frame(a, b, 'B to A again;')     # to 2 only
        self.send(0, s1, learns=a)
        self.send(1, s2, learns=b)
        self.send(2, s3, learns=c)
        self.send(0, s4)
        self.send(0, s5, learns=d)
        self.send(2, s6, learns=a)
        self.send(1, s7)
        stats = self.stats()
        out, summary = self.outputs()
        self.assert_frames(out[0], [s2, s3, s6], 'port 0')
        self.assert_frames(out[1], [s1, s4, s6], 'port 1')
        self.assert_frames(out[2], [s1, s7], 'port 2')
        self.assertEqual((stats['learned'], stats['moved'], stats['dropped_same_port']), (4, 1, 1))
        self.assertEqual(summary['bridge']['unicast'], 4)

    def test_bridge_aging_removes_an_entry_and_the_next_frame_floods(self):
        self.start_bridge('--aging', '1')
        a, b = host(0), host(1)
        s1 = frame(BCAST, a, 'A;')
        s2 = frame(a, b, 'B to A, known;')
        s3 = frame(a, b, 'B to A, aged;')
        self.send(0, s1, learns=a)
        self.send(1, s2, learns=b)
        self.wait_until(self.app, lambda: a not in fdb_of(self.tel), 'A aged out', timeout=5)
        self.assertGreaterEqual(self.stats()['aged'], 1)
        self.send(1, s3)
        out, summary = self.outputs()
        self.assert_frames(out[0], [s2, s3], 'port 0')
        self.assert_frames(out[2], [s1, s3], 'port 2: the frame to the aged address is flooded')
        self.assertEqual(summary['bridge']['unknown_unicast'], 1)


# ---------------------------------------------------------------- kernel traffic

ADDRS = [f'198.18.0.{i + 1}' for i in range(4)]  # benchmarking range: never the host's own


def iface_counter(ns, ifname, what):
    return int(sh('ip', 'netns', 'exec', ns, 'cat', f'/sys/class/net/{ifname}/statistics/{what}').stdout)


class KernelTraffic(Namespaces):
    """Four namespaces, each on a net_af_packet port through a veth pair."""

    def start_bridge(self, *args, count=4):
        self.nss, self.inner, vdevs = [], [], []
        for i in range(count):
            ns = self.namespace(f'k{i}')
            outer, inner = self.veth(f'k{i}', ns)
            sh('ip', '-n', ns, 'addr', 'add', f'{ADDRS[i]}/24', 'dev', inner)
            self.nss.append(ns)
            self.inner.append(inner)
            vdevs.append(f'net_af_packet{i},iface={outer}')
        self.app = self.start(vdevs, ['-p', hex((1 << count) - 1), '-T', '1', *args])
        self.tel = self.telemetry(self.app)
        self.wait_until(self.app, lambda: self.ping(0, 1, check=False), 'first ping through bh-bridge',
                        timeout=l2fwd.READY_TIMEOUT)

    def ping(self, i, j, count=1, check=True):
        r = sh('ip', 'netns', 'exec', self.nss[i], 'ping', '-c', str(count), '-i', '0.2', '-W', '2', ADDRS[j],
               check=False)
        if check:
            self.assertEqual(r.returncode, 0, f'ping {i} -> {j} failed\n{r.stdout}\n{self.app.report()}')
        return r.returncode == 0

    def mac_of(self, i):
        return mac(json.loads(sh('ip', '-n', self.nss[i], '-j', 'link', 'show', self.inner[i]).stdout)[0]['address'])

    def rx_packets(self, i):
        return iface_counter(self.nss[i], self.inner[i], 'rx_packets')

    def stop_clean(self):
        self.assert_exit_ok(self.app, self.app.stop())
        pool = self.app.summary()['mempool']
        self.assertEqual(pool['in_use_end'], pool['in_use_start'], 'mbufs in use at exit: leaked')

    def test_bridge_af_packet_ping_between_every_pair(self):
        self.start_bridge()
        for i in range(4):
            for j in range(4):
                if i != j:
                    self.ping(i, j, count=2)
        table = fdb_of(self.tel)
        for i in range(4):
            self.assertEqual(table.get(self.mac_of(i)), (i, 'learned'), f'namespace {i} not learned on port {i}')
        self.stop_clean()

    def test_bridge_unicast_flow_is_not_flooded_to_the_other_ports(self):
        self.start_bridge()
        self.ping(0, 1, count=2)
        self.ping(1, 0, count=2)
        before = [self.rx_packets(i) for i in (2, 3)]
        server = subprocess.Popen(('ip', 'netns', 'exec', self.nss[1], 'iperf3', '-s', '-1', '-B', ADDRS[1]),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(l2fwd.kill_process, server)
        self.wait_until(self.app, lambda: sh('ip', 'netns', 'exec', self.nss[1], 'ss', '-Hltn',
                                             'sport = :5201').stdout.strip(), 'iperf3 server listening')
        r = sh('ip', 'netns', 'exec', self.nss[0], 'iperf3', '-c', ADDRS[1], '-t', '2', '-J', check=False, timeout=30)
        result = json.loads(r.stdout)
        self.assertNotIn('error', result, self.app.report())
        sent = result['end']['sum_sent']['bytes']
        others = [self.rx_packets(i) - b for i, b in zip((2, 3), before)]
        flow_frames = self.tel.query('/bh/bridge/stats')['unicast']
        print(f'\n  iperf3 {sent / 2e6 * 8:.0f} Mbit/s, {flow_frames} unicast frames; the other namespaces '
              f'received {others}', file=sys.stderr, end=' ')
        self.assertGreater(flow_frames, 10000)
        for i, n in zip((2, 3), others):
            self.assertLess(n, 20, f'namespace {i} saw {n} frames of a flow between 0 and 1')
        self.stop_clean()

    def test_bridge_aged_entries_flood_the_next_frame(self):
        self.start_bridge('--aging', '2')
        self.ping(0, 1, count=2)
        mac1 = self.mac_of(1)
        self.wait_until(self.app, lambda: mac1 not in fdb_of(self.tel), 'namespace 1 aged out', timeout=8)
        before, unknown = self.rx_packets(2), self.tel.query('/bh/bridge/stats')['unknown_unicast']
        # Namespace 0 still knows 1's MAC (its ARP entry outlives 2 s): the echo request is unicast.
        self.ping(0, 1)
        self.assertGreater(self.tel.query('/bh/bridge/stats')['unknown_unicast'], unknown)
        self.assertGreater(self.rx_packets(2), before, 'the frame to the aged address did not reach port 2')
        self.stop_clean()

    def test_bridge_address_moving_to_another_port_is_learned(self):
        self.start_bridge()
        self.ping(0, 1, count=2)
        moved = self.mac_of(1)
        # Namespace 1's MAC and address go to namespace 3's interface. Namespace 1
        # falls silent but keeps its link: a carrier loss would flush port 1 first,
        # and the address would be learned anew, not moved.
        sh('ip', '-n', self.nss[1], 'addr', 'flush', 'dev', self.inner[1])
        sh('ip', 'netns', 'exec', self.nss[1], 'sysctl', '-qw', f'net.ipv6.conf.{self.inner[1]}.disable_ipv6=1')
        sh('ip', '-n', self.nss[3], 'addr', 'flush', 'dev', self.inner[3])
        sh('ip', '-n', self.nss[3], 'link', 'set', self.inner[3], 'address', pcaptool.mac_str(moved))
        sh('ip', '-n', self.nss[3], 'addr', 'add', f'{ADDRS[1]}/24', 'dev', self.inner[3])
        self.ping(3, 0)  # its first frame from the new port
        self.wait_until(self.app, lambda: fdb_of(self.tel).get(moved, (None,))[0] == 3, 'the move learned')
        self.ping(0, 1, count=2)  # namespace 0's ARP entry is unchanged: the frames follow the FDB
        self.assertGreaterEqual(self.tel.query('/bh/bridge/stats')['moved'], 1)
        self.stop_clean()

    def test_bridge_link_down_flushes_the_port_entries(self):
        self.start_bridge()
        self.ping(0, 2, count=2)
        self.ping(1, 2, count=2)
        mac0 = self.mac_of(0)
        self.assertEqual(fdb_of(self.tel).get(mac0), (0, 'learned'))
        # The peer goes down: the root end loses carrier, which the bridge watches (af_packet has no LSC).
        sh('ip', '-n', self.nss[0], 'link', 'set', self.inner[0], 'down')
        self.wait_until(self.app, lambda: mac0 not in fdb_of(self.tel), 'port 0 flushed')
        stats = self.tel.query('/bh/bridge/stats')
        self.assertEqual((stats['link_downs'], stats['flushed']), (1, 1))
        self.assertIn(self.mac_of(1), fdb_of(self.tel), 'another port flushed')
        sh('ip', '-n', self.nss[0], 'link', 'set', self.inner[0], 'up')
        self.wait_until(self.app, lambda: self.tel.query('/bh/bridge/stats')['link_ups'] == 1, 'link up seen')
        self.wait_until(self.app, lambda: self.ping(0, 2, check=False), 'ping after the link came back')
        self.stop_clean()


class TapInterrupt(Namespaces):

    def test_bridge_tap_interrupt_mode_ping_between_every_pair(self):
        taps = [f'{NAME_BASE}t{i}' for i in range(3)]
        app = self.start([f'net_tap{i},iface={t}' for i, t in enumerate(taps)],
                         ['-p', '0x7', '-T', '1', '--rx-mode', 'interrupt'])
        nss = []
        for i, tap in enumerate(taps):
            ns = self.namespace(f't{i}')
            self.wait_until(app, lambda tap=tap: 'UP' in l2fwd.link_flags(tap), f'{tap} up')
            sh('ip', 'link', 'set', tap, 'netns', ns)
            sh('ip', '-n', ns, 'addr', 'add', f'{ADDRS[i]}/24', 'dev', tap)
            sh('ip', '-n', ns, 'link', 'set', tap, 'up')
            nss.append(ns)
        self.wait_until(app, lambda: sh('ip', 'netns', 'exec', nss[0], 'ping', '-c', '1', '-W', '1', ADDRS[1],
                                        check=False).returncode == 0, 'first ping', timeout=l2fwd.READY_TIMEOUT)
        for i in range(3):
            for j in range(3):
                if i != j:
                    sh('ip', 'netns', 'exec', nss[i], 'ping', '-c', '2', '-i', '0.2', '-W', '2', ADDRS[j])
        self.assert_exit_ok(app, app.stop())
        summary = app.summary()
        self.assertGreater(summary['bridge']['unicast'], 0)
        self.assertEqual(summary['mempool']['in_use_end'], summary['mempool']['in_use_start'])
        self.assertIn('(net_tap, interrupt', open(app.out_path).read())


# ---------------------------------------------------------------- telemetry, trace

class Observability(BridgeTest):

    def test_bridge_telemetry_and_trace_points(self):
        trace_dir = self.path('trace')
        frames = [frame(BCAST, host(0, i % 200), f'{i};') for i in range(400)]
        pcaptool.write_pcap(self.path('in0.pcap'), frames)
        vdevs = [f'net_pcap0,rx_pcap={self.path("in0.pcap")},tx_pcap={self.path("out0.pcap")}',
                 f'net_pcap1,rx_pcap={self.path("in0.pcap")},tx_pcap={self.path("out1.pcap")}']
        app = self.start(vdevs, ['-p', '0x3', '-T', '0', '--duration', '30'],
                         eal=['--trace=bh\\.bridge\\..*', '--trace-dir', trace_dir])
        tel = self.telemetry(app)
        # The same 200 sources on both ports: learned on one, moved to the other (or the reverse).
        self.wait_until(app, lambda: tel.query('/bh/bridge/stats')['learned'] == 200, '200 addresses learned')
        reply = tel.query('/bh/bridge/fdb')
        self.assertEqual((reply['entries'], reply['offset']), (200, 0))
        self.assertEqual({k: len(v) for k, v in reply.items() if isinstance(v, list)},
                         {'mac': 128, 'port': 128, 'age_ms': 128, 'type': 128})
        self.assertEqual(len(tel.query('/bh/bridge/fdb,128')['mac']), 72)
        self.assertEqual(reply['mac'], sorted(reply['mac']))
        self.assertEqual(set(reply['type']), {'learned'})
        self.assertIsNone(tel.query('/bh/bridge/fdb,x'), 'a bad offset must be refused')
        self.assertIsNone(tel.query('/bh/bridge/stats,1'))
        app.proc.send_signal(2)
        self.assert_exit_ok(app, app.wait(l2fwd.STOP_TIMEOUT))
        events = read_trace(trace_dir)
        learns = [f for n, _, f in events if n == 'bh.bridge.learn']
        self.assertEqual(len(learns), 200)
        self.assertEqual({f['mac'] for f in learns}, {int.from_bytes(host(0, i), 'little') for i in range(200)})
        moves = [n for n, _, _ in events if n == 'bh.bridge.move']
        self.assertEqual(len(moves), app.summary()['bridge']['moved'])


# ---------------------------------------------------------------- bad input

REFUSALS = {
    # name after test_bridge_: ports, args, what the last stderr line must name, config text
    'rejects_one_port_mask': (2, ['-p', '0x1'], r'one port|two', None),
    'rejects_negative_aging': (2, ['-p', '0x3', '--aging', '-1'], r'aging', None),
    'rejects_aging_that_is_not_a_number': (2, ['-p', '0x3', '--aging', '5m'], r'aging', None),
    'rejects_zero_learn_limit': (2, ['-p', '0x3', '--learn-limit', '0'], r'learn limit', None),
    'rejects_huge_learn_limit': (2, ['-p', '0x3', '--learn-limit', '99999999999'], r'learn limit', None),
    'rejects_fdb_cache_that_is_not_a_power_of_two': (2, ['-p', '0x3', '--fdb-cache', '1000'], r'lookup cache.*power of two',
                                                     None),
    'rejects_one_slot_fdb_cache': (2, ['-p', '0x3', '--fdb-cache', '1'], r'lookup cache', None),
    'rejects_portmask_naming_absent_ports': (2, ['-p', '0x7'], r'port mask|port 2', None),
    'rejects_unknown_option': (2, ['-p', '0x3', '--frobnicate'], r'frobnicate|option', None),
    'rejects_interrupt_mode_without_rx_interrupts': (2, ['-p', '0x3', '--rx-mode', 'interrupt'], r'interrupt', None),
    'rejects_static_entry_on_absent_port': (2, [], r'port 5|mask',
                                            '[bridge]\nportmask=0x3\n[static]\n02:00:00:00:00:01 = 5\n'),
    'rejects_static_multicast_address': (2, [], r'multicast',
                                         '[bridge]\nportmask=0x3\n[static]\n01:00:5e:00:00:01 = 1\n'),
    'rejects_static_entry_that_is_not_a_mac': (2, [], r'not a MAC',
                                               '[bridge]\nportmask=0x3\n[static]\n02:00:00:00:01 = 1\n'),
    'rejects_config_without_bridge_section': (2, [], r'\[bridge\]', '[static]\n02:00:00:00:00:01 = 1\n'),
    'rejects_config_syntax_error': (2, [], r'config|\.ini', '[bridge\nportmask=0x3\n'),
}


class BadInput(BridgeTest):

    def check_refused(self, ports, args, names, config):
        if config is not None:
            args = [*args, '--config', self.write_config(config)]
        app = self.start(l2fwd.null_ports(ports), [*args, '--duration', '1'], summary=False)
        rc = app.wait(l2fwd.REFUSE_TIMEOUT)
        self.assertTrue(0 < rc < 128, f'exit code {rc}: accepted, or a crash\n{app.report()}')
        lines = [line for line in app.stderr().splitlines() if line.strip()]
        self.assertTrue(lines, f'nothing on stderr\n{app.report()}')
        self.assertRegex(lines[-1], re.compile(names, re.I), f'the last line does not name the problem\n{app.report()}')


for _name, _case in REFUSALS.items():
    setattr(BadInput, f'test_bridge_{_name}', lambda self, c=_case: self.check_refused(*c))


def main():
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} BH_BRIDGE_BINARY [unittest options]')
    l2fwd.BIN = os.path.abspath(sys.argv[1])
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[2:]])


if __name__ == '__main__':
    main()
