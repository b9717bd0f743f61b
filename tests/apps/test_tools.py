#!/usr/bin/python3
"""The tools DPDK users already run, on bh-l2fwd, from outside the process.

Usage: test_tools.py BH_L2FWD_BINARY EXPORTER_SCRIPT [unittest options]

dpdk-dumpcap: capture needs a DPDK secondary process, so shared config and
hugepages: these tests reserve 2 MB hugepages (mounting hugetlbfs if none
is mounted) and give them back, with the hugepage files DPDK leaves, even on
failure; every other test keeps --no-huge.
bh-telemetry-exporter: scraped while bh-l2fwd runs on net_null ports,
parsed with the Prometheus client library's own parsers.
net_af_xdp: ping and iperf3 through bh-l2fwd on af_xdp ports on veths
between two namespaces this test makes, and the worker's CPU when idle.

Runs under Debian's python3, whose python3-prometheus-client it uses.
Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

import http.client
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path += [os.path.join(HERE, os.pardir, 'common'), os.path.join(HERE, os.pardir, os.pardir, 'bench', 'throughput')]
import gtest_xml  # noqa: E402
import pcaptool  # noqa: E402
import run as throughput  # noqa: E402  (its hugepages() reserves and gives back 2 MB pages)
import test_bh_l2fwd as l2fwd  # noqa: E402  (its App runs one bh-l2fwd process)
from pcaptool import INBOUND, OUTBOUND, ether_frame, mac  # noqa: E402
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus  # noqa: E402

EXPORTER = None  # bh-telemetry-exporter, from the command line

SUITE = 'tools'
NAME_BASE = f'bhtool{os.getpid()}'
CAPTURE_MEMORY_MB = 64     # bh-l2fwd's --socket-mem
HUGEPAGES_MB = 256         # reserved for it and for dumpcap's own pool
CAPTURE_PACKETS = 200      # dumpcap -c
CAPTURE_TIMEOUT = 30
# Where bh-l2fwd maps its memory, for dumpcap to map it at the same address.
# The EAL's default (4 GiB) lies in AddressSanitizer's shadow, so an ASan
# build maps it wherever mmap puts it, next to shared libraries, and dumpcap
# may find that address taken by its own (CI saw EAL: "Cannot get a virtual
# area at requested address" and a crash). 32 TiB is free in both processes.
CAPTURE_BASE_VIRTADDR = '0x200000000000'
CAPTURE_EAL = ['-l', '1', '--socket-mem', str(CAPTURE_MEMORY_MB), '--base-virtaddr', CAPTURE_BASE_VIRTADDR]
EXPORTER_TIMEOUT = 10
FORWARDER = 0              # bh-l2fwd's default -l 0-1 with -q 2 gives both ports to the main lcore, as l2fwd does
IDLE_SECONDS = 3

_names = itertools.count()


def runtime_dir(prefix):
    base = os.environ.get('RUNTIME_DIRECTORY') or '/var/run'
    return os.path.join(base, 'dpdk', prefix)


def remove_hugepage_files(prefix):
    """DPDK leaves its hugepage files (<prefix>map_<n>) behind: they would keep the pages."""
    for mount in throughput.hugetlbfs_mounts():
        for name in os.listdir(mount):
            if name.startswith(f'{prefix}map_'):
                os.unlink(os.path.join(mount, name))


def process_cpu_seconds(pid):
    """User + system CPU time of every thread of @pid so far."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


# ---------------------------------------------------------------- dumpcap

def cyclic_run(got, frames):
    """True if @got is a stretch of @frames repeated end to end (as
    net_pcap's infinite_rx replays them), starting anywhere."""
    if not got or not frames:
        return False
    try:
        start = frames.index(got[0])
    except ValueError:
        return False
    return all(g == frames[(start + i) % len(frames)] for i, g in enumerate(got))


class Capture(l2fwd.L2fwdTest):
    """bh-l2fwd on two net_pcap ports that replay their pcap forever
    (infinite_rx, Tx dropped), forwarding port 0 <-> port 1 unchanged."""

    SOURCES = (mac('02:bb:00:00:00:00'), mac('02:bb:00:00:00:01'))

    def inputs(self):
        port0 = [ether_frame(l2fwd.UNICAST, self.SOURCES[i % 2], 60 + 7 * i, f'in0#{i};'.encode()) for i in range(64)]
        port1 = [ether_frame(l2fwd.UNICAST, mac('02:cc:00:00:00:01'), 200 + 5 * i, f'in1#{i};'.encode())
                 for i in range(40)]
        return port0, port1

    def start_l2fwd(self, eal, inputs):
        self.prefix = f'{NAME_BASE}c{next(_names)}'
        self.addCleanup(shutil.rmtree, runtime_dir(self.prefix), ignore_errors=True)
        vdevs = []
        for port, frames in enumerate(inputs):
            pcaptool.write_pcap(self.path(f'in{port}.pcap'), frames)
            vdevs.append(f'net_pcap{port},rx_pcap={self.path(f"in{port}.pcap")},infinite_rx=1')
        app = self.start(vdevs, [*l2fwd.TWO_PORTS, '--no-mac-updating', '-T', '1', '--duration', '60'],
                         eal=['--file-prefix', self.prefix, *eal], summary=False)
        # The first report comes from the main loop, after capture_init() and the lcores' launch.
        self.wait_for_statistics(app)
        return app

    def dumpcap(self, *args):
        out = self.path(f'capture{next(_names)}.pcapng')
        run = subprocess.run(['dpdk-dumpcap', '--file-prefix', self.prefix, *args, '-w', out],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CAPTURE_TIMEOUT)
        return run, out

    def with_hugepages(self):
        reserved = throughput.hugepages(HUGEPAGES_MB)
        reserved.__enter__()
        self.addCleanup(reserved.__exit__, None, None, None)
        # Runs before the pages are given back (clean-ups run last first).
        self.addCleanup(lambda: remove_hugepage_files(self.prefix))

    def test_capture_without_shared_config_is_a_logged_no_op(self):
        app = self.start(l2fwd.null_ports(2), [*l2fwd.TWO_PORTS, '--duration', '1'],
                         eal=['--log-level', 'bh.net:info'], summary=False)
        self.assert_exit_ok(app, app.wait(l2fwd.RUN_TIMEOUT))
        self.assertIn('capture_init: no multi-process channel (--no-shconf', app.stderr(), app.report())

    def test_capture_with_lcore_0_names_the_clash(self):
        # dumpcap runs as lcore 0: an lcore 0 here would share its pool's caches.
        self.with_hugepages()
        app = self.start_l2fwd(['-l', '0', *CAPTURE_EAL[2:]], self.inputs())
        run, _ = self.dumpcap('-i', 'net_pcap1', '-c', '1')
        self.assertNotEqual(run.returncode, 0, f'dumpcap attached to a process using lcore 0\n{run.stderr}')
        self.assertIn('capture_init: lcore 0 is this process\'s', app.stderr(), app.report())
        self.assert_exit_ok(app, app.stop())

    def test_capture_without_hugepages_names_the_missing_option(self):
        app = self.start_l2fwd(['-l', '1'], self.inputs())
        run, _ = self.dumpcap('-i', 'net_pcap1', '-c', '1')
        self.assertNotEqual(run.returncode, 0, f'dumpcap attached to a --no-huge process\n{run.stderr}')
        self.assertIn('capture_init: the EAL runs without hugepages (--no-huge)', app.stderr(), app.report())
        self.assert_exit_ok(app, app.stop())

    def capture(self, *args, until=lambda packets: True):
        """Captures port 1 (Rx: its own input; Tx: port 0's, forwarded)
        with dumpcap, again (three times at most) while @until(packets) is
        false; returns the inputs and (direction, frame) of each packet."""
        self.with_hugepages()
        inputs = self.inputs()
        app = self.start_l2fwd(CAPTURE_EAL, inputs)
        for _ in range(3):
            run, out = self.dumpcap('-i', 'net_pcap1', '-c', str(CAPTURE_PACKETS), *args)
            self.assertEqual(run.returncode, 0, f'dpdk-dumpcap failed\n{run.stderr}\n{app.report()}')
            packets = pcaptool.read_pcapng(out)
            if until(packets):
                break
        self.assert_exit_ok(app, app.stop())
        self.assertGreaterEqual(len(packets), CAPTURE_PACKETS, run.stderr)
        self.assertEqual({iface for iface, _, _ in packets}, {'dpdk:1'}, 'packets of another port')
        return inputs, [(direction, frame) for _, direction, frame in packets]

    def test_dumpcap_captures_rx_and_tx_matching_the_input(self):
        # dumpcap has the process start copying Rx, then Tx: at 16 Mpps its
        # 200 packets (12 us) can all come before the Tx copies start (CI
        # saw 200 Rx, 0 Tx once), so a capture without Tx is taken again.
        (port0, port1), packets = self.capture(until=lambda packets: {d for _, d, _ in packets} >= {INBOUND, OUTBOUND})
        rx = [f for d, f in packets if d == INBOUND]
        tx = [f for d, f in packets if d == OUTBOUND]
        self.assertEqual(len(rx) + len(tx), len(packets), 'packets without a direction')
        # Copies go into dumpcap's ring in order until it is full: the first
        # ones dumpcap writes are each direction's packets without a gap.
        self.assertTrue(cyclic_run(rx, port1), f'Rx of port 1 is not its input: {len(rx)} packets')
        self.assertTrue(cyclic_run(tx, port0), f'Tx of port 1 is not port 0\'s input: {len(tx)} packets')

    def test_dumpcap_filter_keeps_only_matching_frames(self):
        source = self.SOURCES[1]
        (port0, _), packets = self.capture('-f', f'ether src {pcaptool.mac_str(source)}')
        wanted = [f for f in port0 if f[6:12] == source]
        self.assertEqual({d for d, _ in packets}, {OUTBOUND}, 'frames the filter should have dropped')
        self.assertTrue(cyclic_run([f for _, f in packets], wanted), 'the filtered Tx is not the input\'s')


# ---------------------------------------------------------------- exporter

class Exporter:
    """One bh-telemetry-exporter process; stdout and stderr to files."""

    def __init__(self, workdir, args):
        self.out_path = os.path.join(workdir, f'exporter{next(_names)}.out')
        self.err_path = self.out_path[:-4] + '.err'
        with open(self.out_path, 'w') as out, open(self.err_path, 'w') as err:
            self.proc = subprocess.Popen([EXPORTER, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=err)

    def url(self):
        """The /metrics URL the exporter printed once it listens."""
        deadline = time.monotonic() + EXPORTER_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            with open(self.out_path) as f:
                for word in f.read().split():
                    if word.startswith('http://'):
                        return word
            time.sleep(0.1)
        raise AssertionError(f'the exporter did not start listening\n{self.report()}')

    def report(self):
        with open(self.out_path) as out, open(self.err_path) as err:
            return f'exit code {self.proc.poll()}\n--- stdout ---\n{out.read()}--- stderr ---\n{err.read()}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(EXPORTER_TIMEOUT)


def scrape(url, openmetrics=False):
    host = url.split('/')[2]
    conn = http.client.HTTPConnection(host, timeout=EXPORTER_TIMEOUT)
    accept = 'application/openmetrics-text; version=0.0.1' if openmetrics else 'text/plain'
    conn.request('GET', '/metrics', headers={'Accept': accept})
    reply = conn.getresponse()
    body = reply.read().decode()
    conn.close()
    if reply.status != 200:
        raise AssertionError(f'GET {url}: {reply.status}\n{body}')
    return reply.getheader('Content-Type'), body


def samples(families):
    """{(sample name, sorted labels): value} of parsed families."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def listening_addresses(pid):
    """The local addresses of the TCP sockets @pid listens on, from /proc/net/tcp{,6}."""
    inodes = set()
    for fd in os.listdir(f'/proc/{pid}/fd'):
        target = os.readlink(f'/proc/{pid}/fd/{fd}')
        if target.startswith('socket:['):
            inodes.add(target[len('socket:['):-1])
    found = []
    for table, width in (('tcp', 8), ('tcp6', 32)):
        with open(f'/proc/{pid}/net/{table}') as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == '0A' and fields[9] in inodes:  # TCP_LISTEN
                    addr, port = fields[1].split(':')
                    raw = bytes.fromhex(addr)
                    # The kernel prints each 32-bit word in host (little-endian) order.
                    raw = b''.join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                    family = socket.AF_INET if width == 8 else socket.AF_INET6
                    found.append((socket.inet_ntop(family, raw), int(port, 16)))
    return found


class ExporterTest(l2fwd.L2fwdTest):

    def exporter(self, *args):
        e = Exporter(self.workdir, args)
        self.addCleanup(e.stop)
        return e

    def l2fwd_on_null_ports(self):
        app = self.start(l2fwd.null_ports(2), [*l2fwd.TWO_PORTS, '-T', '1', '--duration', '60'], summary=False)
        self.wait_for_statistics(app)
        # bh::eal_init's default file prefix; a killed run leaves its directory.
        prefix = f'bh-{app.proc.pid}'
        self.addCleanup(shutil.rmtree, runtime_dir(prefix), ignore_errors=True)
        return app, prefix

    def test_exporter_counters_move_between_scrapes_and_pass_the_parsers(self):
        _, prefix = self.l2fwd_on_null_ports()
        url = self.exporter('-f', prefix, '-l', '127.0.0.1:0').url()
        content_type, text = scrape(url, openmetrics=True)
        self.assertTrue(content_type.startswith('application/openmetrics-text'), content_type)
        first = list(parse_openmetrics(text))
        time.sleep(0.5)
        _, plain = scrape(url)
        second = list(parse_prometheus(plain))
        kinds = {f.name: (f.type, f.unit) for f in first}
        expected = {
            'bh_telemetry_up': ('gauge', ''),
            'bh_lcore_busy_cycles': ('counter', 'cycles'), 'bh_lcore_idle_cycles': ('counter', 'cycles'),
            'bh_lcore_iterations': ('counter', ''), 'bh_softirq_run': ('counter', ''),
            'bh_softirq_seconds': ('counter', 'seconds'), 'bh_ksoftirqd_wakeups': ('counter', ''),
            'bh_ksoftirqd_active': ('gauge', ''), 'bh_tasklet_run': ('counter', ''),
            'bh_timer_expired': ('counter', ''), 'bh_workqueue_run': ('counter', ''),
            'bh_workqueue_pending': ('gauge', ''), 'bh_workqueue_max_latency_seconds': ('gauge', 'seconds'),
            'bh_net_softnet_processed': ('counter', ''), 'bh_net_lcore_dropped': ('counter', ''),
            'bh_net_lcore_in_flight': ('gauge', ''), 'bh_net_port_rx': ('counter', ''),
            'bh_net_port_rxq_rx': ('counter', ''), 'bh_net_port_rxq_lcore': ('gauge', ''),
            'bh_net_port_txq_tx': ('counter', ''),
        }
        self.assertEqual({k: kinds.get(k) for k in expected}, expected)
        self.assertNotIn('unknown', {t for t, _ in kinds.values()}, 'a field of a known command has no type')
        a, b = samples(first), samples(second)
        worker = (('lcore', str(FORWARDER)),)
        for key in [('bh_net_softnet_processed_total', worker), ('bh_lcore_busy_cycles_total', worker),
                    ('bh_net_port_rx_total', (('port', '0'),)), ('bh_net_port_tx_total', (('port', '1'),)),
                    ('bh_net_port_rxq_rx_total', (('port', '0'), ('queue', '0'))),
                    ('bh_net_port_txq_tx_total', (('port', '1'), ('queue', '0'))),
                    ('bh_softirq_run_total', (('lcore', str(FORWARDER)), ('softirq', 'NET_RX')))]:
            with self.subTest(sample=key):
                self.assertGreater(b[key], a[key], 'no change under full load')
        self.assertEqual(a[('bh_telemetry_up', ())], 1)
        self.assertEqual(b[('bh_net_port_rxq_lcore', (('port', '0'), ('queue', '0')))], FORWARDER)
        reasons = {dict(k[1])['reason'] for k in b if k[0] == 'bh_net_lcore_dropped_total'}
        self.assertEqual(reasons, {'runt', 'oversize', 'chained', 'tx_full', 'no_txq', 'handler'})
        self.assertIn(('bh_workqueue_workers', (('queue', 'events'),)), b)
        # Full load without drops, and the bottom-halves' wait-free counters agree.
        self.assertEqual(sum(v for k, v in b.items() if k[0] == 'bh_net_lcore_dropped_total'), 0)

    def test_exporter_listens_on_loopback_only_by_default(self):
        _, prefix = self.l2fwd_on_null_ports()
        e = self.exporter('-f', prefix)
        url = e.url()
        self.assertEqual(listening_addresses(e.proc.pid), [('127.0.0.1', 9877)])
        self.assertEqual(samples(parse_prometheus(scrape(url)[1]))[('bh_telemetry_up', ())], 1)

    def test_exporter_reports_down_once_the_process_is_gone(self):
        app, prefix = self.l2fwd_on_null_ports()
        url = self.exporter('-f', prefix, '-l', '127.0.0.1:0').url()
        self.assert_exit_ok(app, app.stop())
        found = samples(parse_prometheus(scrape(url)[1]))
        self.assertEqual(found, {('bh_telemetry_up', ()): 0})

    def test_exporter_refuses_a_bad_listen_address(self):
        for listen in ('localhost', '127.0.0.1:99999', '[::1:9877'):
            with self.subTest(listen=listen):
                e = self.exporter('-f', 'bh-0', '-l', listen)
                self.assertEqual(e.proc.wait(EXPORTER_TIMEOUT), 2)
                lines = e.report().split('--- stderr ---\n')[1].strip().splitlines()
                self.assertIn('ADDRESS:PORT', lines[-1])

    def test_exporter_picks_up_new_commands_and_fields(self):
        # A telemetry socket of our own, as DPDK's speaks it, with a command
        # and fields the exporter has no table entry for.
        server = FakeTelemetry(os.path.join(self.workdir, 'dpdk', 'fake', 'dpdk_telemetry.v2'), {
            '/': ['/bh/lcore/list', '/bh/new/thing', '/bh/lcore', '/ethdev/list'],
            '/help,/bh/new/thing': {'/bh/new/thing': 'Returns a new thing. Parameters: int lcore_id'},
            '/help,/bh/lcore': {'/bh/lcore': 'Returns the loop. Parameters: int lcore_id'},
            '/bh/lcore/list': [0, 3],
            '/bh/new/thing,0': {'widgets': 5, 'wait_ns': 2000000000},
            '/bh/new/thing,3': {'widgets': 7, 'wait_ns': 0},
            '/bh/lcore,0': {'iterations': 11, 'brand_new': 1},
            '/bh/lcore,3': {'iterations': 12, 'brand_new': 2},
        })
        self.addCleanup(server.close)
        os.environ['RUNTIME_DIRECTORY'] = self.workdir
        self.addCleanup(os.environ.pop, 'RUNTIME_DIRECTORY')
        url = self.exporter('-f', 'fake', '-l', '127.0.0.1:0').url()
        families = {f.name: f for f in parse_openmetrics(scrape(url, openmetrics=True)[1])}
        self.assertEqual(families['bh_new_thing_widgets'].type, 'unknown')
        self.assertEqual(samples([families['bh_new_thing_wait_seconds']]),
                         {('bh_new_thing_wait_seconds', (('lcore', '0'),)): 2.0,
                          ('bh_new_thing_wait_seconds', (('lcore', '3'),)): 0.0})
        self.assertEqual(families['bh_lcore_brand_new'].type, 'unknown')
        self.assertEqual(families['bh_lcore_iterations'].type, 'counter')
        self.assertFalse([n for n in families if n.startswith('bh_ethdev')], 'a command outside /bh/ exported')


class FakeTelemetry:
    """A SOCK_SEQPACKET server answering fixed replies, as DPDK's telemetry does."""

    def __init__(self, path, replies):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.replies = replies
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(path)
        self.sock.listen()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.send(json.dumps({'version': 'fake', 'pid': os.getpid(), 'max_output_len': 16384}).encode())
                while cmd := conn.recv(1024).decode():
                    conn.send(json.dumps({cmd.split(',', 1)[0]: self.replies.get(cmd)}).encode())

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- AF_XDP

class AfXdp(l2fwd.L2fwdTest):
    """bh-l2fwd between two namespaces this test makes, on net_af_xdp ports
    on the root ends of two veth pairs."""

    # The veth and traffic helpers of bh-l2fwd's kernel-traffic tests, not their tests.
    place = l2fwd.KernelTraffic.place
    veth_into = l2fwd.KernelTraffic.veth_into
    pass_traffic_and_stop = l2fwd.KernelTraffic.pass_traffic_and_stop

    def setUp(self):
        super().setUp()
        self.ns = (f'{NAME_BASE}a', f'{NAME_BASE}b')
        for ns in self.ns:
            l2fwd.sh('ip', 'netns', 'add', ns)
            self.addCleanup(l2fwd.sh, 'ip', 'netns', 'del', ns, check=False)

    def test_l2fwd_af_xdp_adaptive_passes_ping_and_iperf3_and_idles(self):
        vdevs = [f'net_af_xdp{i},iface={self.veth_into(ns, addr, i)}'
                 for i, (ns, addr) in enumerate(zip(self.ns, (l2fwd.ADDR1, l2fwd.ADDR2)))]
        app = self.start(vdevs, [*l2fwd.TWO_PORTS, '--no-mac-updating', '--rx-mode', 'adaptive', '-T', '1'])
        self.wait_for(app, lambda: l2fwd.sh(*l2fwd.in_ns(self.ns[0], 'ping', '-c', '1', '-W', '1', l2fwd.ADDR2),
                                            check=False).returncode == 0, 'first ping through bh-l2fwd')
        time.sleep(0.5)
        cpu = process_cpu_seconds(app.proc.pid)
        time.sleep(IDLE_SECONDS)
        idle = (process_cpu_seconds(app.proc.pid) - cpu) / IDLE_SECONDS * 100
        print(f'\n  net_af_xdp adaptive: bh-l2fwd CPU when idle {idle:.1f}%', file=sys.stderr, end=' ')
        # Poll mode would take a whole CPU.
        self.assertLess(idle, 10, f'idle adaptive worker on af_xdp does not sleep\n{app.report()}')
        self.pass_traffic_and_stop(app, 'net_af_xdp on veth, adaptive')
        self.assertIn('(net_af_xdp, adaptive, rule rate)', open(app.out_path).read())

    def test_l2fwd_af_xdp_interrupt_mode_sleeps_on_the_queue_socket(self):
        # No Rx interrupt in DPDK 22.11's PMD: the lcore sleeps on the queue's XDP socket (its Rx doorbell).
        vdevs = [f'net_af_xdp{i},iface={self.veth_into(ns, addr, i)}'
                 for i, (ns, addr) in enumerate(zip(self.ns, (l2fwd.ADDR1, l2fwd.ADDR2)))]
        app = self.start(vdevs, [*l2fwd.TWO_PORTS, '--no-mac-updating', '--rx-mode', 'interrupt', '-T', '1'])
        self.pass_traffic_and_stop(app, 'net_af_xdp on veth, interrupt mode')
        self.assertIn('(net_af_xdp, interrupt)', open(app.out_path).read())
        self.assertGreater(app.summary()['lcores'][l2fwd.FWD_LCORE]['interrupts'], 0,
                           f'no wake-up came from the queue sockets\n{app.report()}')


def main():
    global EXPORTER
    if len(sys.argv) < 3:
        sys.exit(f'usage: {sys.argv[0]} BH_L2FWD_BINARY EXPORTER_SCRIPT [unittest options]')
    l2fwd.BIN = os.path.abspath(sys.argv[1])
    EXPORTER = os.path.abspath(sys.argv[2])
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[3:]])


if __name__ == '__main__':
    main()
