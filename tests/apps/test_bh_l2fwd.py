#!/usr/bin/env python3
"""bh-l2fwd's behaviour, tested from outside the process.

Usage: test_bh_l2fwd.py BH_L2FWD_BINARY [unittest options, e.g. -k portmap]

Frames go in and out through net_pcap files (byte-exact checks, drop
reasons, the config file), net_null ports (full load), and real kernel
traffic between two network namespaces this test makes, joined only through
bh-l2fwd (net_af_packet on veth pairs, net_tap). Bad input must give a
one-line error and a non-zero exit, never a crash or a hang.

The project's summary script counts GoogleTest XML cases, so the results are
also written as gtest XML to the path in GTEST_OUTPUT ("xml:PATH").
"""

import collections
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'common'))
import gtest_xml  # noqa: E402
import pcaptool  # noqa: E402
from pcaptool import ether_frame, mac  # noqa: E402

BIN = None  # the bh-l2fwd executable, from the command line

RUN_SECONDS = 2      # --duration of the runs that stop by themselves
RUN_TIMEOUT = 20     # for such a run: EAL start-up + duration + drain and exit
REFUSE_TIMEOUT = 10  # bad input must be refused within this
STOP_TIMEOUT = 10    # SIGTERM to exit
READY_TIMEOUT = 15   # start-up until traffic passes

SUITE = 'bh_l2fwd'
NAME_BASE = f'bhl2{os.getpid()}'  # unique per process: other test runs may be in parallel
# Ports 0 and 1 as Rx ports of one lcore: as l2fwd, bh-l2fwd gives each
# lcore in turn -q ports, so lcore 0 (the main lcore) takes both and lcore 1
# of the default -l 0-1 has none and sleeps.
TWO_PORTS = ['-p', '0x3', '-q', '2']
FWD_LCORE = '0'  # in the JSON summary
ADDR1, ADDR2 = '198.18.0.1', '198.18.0.2'  # benchmarking range: never the host's own

_run_ids = itertools.count()


def tail(path, lines=15):
    """The last @lines lines of a text file, for failure messages."""
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError as e:
        return f'({e})'


class App:
    """One bh-l2fwd process. Its output goes to files: a pipe that nobody
    reads while it runs would fill up and block it."""

    def __init__(self, workdir, vdevs, args, eal=(), summary=True):
        run = next(_run_ids)
        self.out_path = os.path.join(workdir, f'run{run}.stdout')
        self.err_path = os.path.join(workdir, f'run{run}.stderr')
        self.json_path = os.path.join(workdir, f'run{run}.json') if summary else None
        self.cmd = [BIN, *eal, *itertools.chain.from_iterable(('--vdev', v) for v in vdevs), '--', *args]
        if summary:
            self.cmd += ['--json', self.json_path]
        with open(self.out_path, 'w') as out, open(self.err_path, 'w') as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        """The exit code; a run still going after @timeout is killed and fails."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f'bh-l2fwd still running after {timeout}s, killed\n{self.report()}') from None

    def stop(self):
        """SIGTERM, then the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(STOP_TIMEOUT)

    def kill(self):
        """Clean-up: ends the process if a failed test left it running, and
        removes the DPDK runtime directory its exit would have removed."""
        if self.running():
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
            shutil.rmtree(f'/var/run/dpdk/bh-{self.proc.pid}', ignore_errors=True)

    def stderr(self):
        with open(self.err_path, errors='replace') as f:
            return f.read()

    def summary(self):
        """The --json summary written at exit."""
        try:
            with open(self.json_path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise AssertionError(f'no JSON summary: {e}\n{self.report()}') from None

    def report(self):
        """What a failure message needs to tell what happened."""
        return (f'command: {" ".join(self.cmd)}\nexit code: {self.proc.returncode}\n'
                f'--- stderr (end) ---\n{tail(self.err_path)}--- stdout (end) ---\n{tail(self.out_path)}')


class L2fwdTest(unittest.TestCase):
    """Runs bh-l2fwd in a temporary directory of its own."""

    def wait_for(self, app, predicate, what):
        deadline = time.monotonic() + READY_TIMEOUT
        while not predicate():
            if not app.running():
                self.fail(f'bh-l2fwd exited while waiting for {what}\n{app.report()}')
            if time.monotonic() > deadline:
                self.fail(f'no {what} within {READY_TIMEOUT}s\n{app.report()}')
            time.sleep(0.1)

    def wait_for_statistics(self, app):
        """Until the first -T report: by then the signal handlers are in place."""
        def printed():
            with open(app.out_path, errors='replace') as f:
                return 'Port statistics' in f.read()
        self.wait_for(app, printed, 'statistics report')

    def setUp(self):
        self.assertTrue(BIN and os.access(BIN, os.X_OK), f'bh-l2fwd binary not executable: {BIN}')
        self.workdir = tempfile.mkdtemp(prefix=f'{NAME_BASE}-')
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def start(self, vdevs, args, eal=(), summary=True):
        app = App(self.workdir, vdevs, args, eal, summary)
        self.addCleanup(app.kill)
        return app

    def run_to_end(self, vdevs, args):
        """Runs until bh-l2fwd stops by itself; it must exit 0."""
        app = self.start(vdevs, args)
        self.assert_exit_ok(app, app.wait(RUN_TIMEOUT))
        return app

    def assert_exit_ok(self, app, rc):
        self.assertEqual(rc, 0, f'bh-l2fwd failed\n{app.report()}')

    def write_config(self, text):
        path = self.path('l2fwd.ini')
        with open(path, 'w') as f:
            f.write(text)
        return path


# ---------------------------------------------------------------- frames

UNICAST = mac('02:aa:00:00:00:01')
DESTINATIONS = (UNICAST, mac('ff:ff:ff:ff:ff:ff'),  # broadcast
                mac('01:00:5e:00:00:fb'), mac('33:33:00:00:00:01'))  # IPv4, IPv6 multicast
SIZES = (60, 64, 65, 100, 127, 128, 255, 256, 511, 512, 777, 1023, 1024, 1280, 1499, 1500, 1513, 1514)
FRAMES_PER_PORT = 200  # several bursts: order must survive burst and Tx buffer boundaries
VLAN_EVERY = 10


def input_src(port):
    """The source MAC of the frames fed to @port: no DPDK port's own."""
    return mac(f'02:bb:00:00:00:{port:02x}')


def traffic(port, count=FRAMES_PER_PORT):
    """Frames to feed @port: every size in SIZES, unicast, broadcast and
    multicast, some VLAN-tagged; each tagged with its port and index."""
    return [ether_frame(DESTINATIONS[i % len(DESTINATIONS)], input_src(port), SIZES[i % len(SIZES)],
                        f'in{port}#{i};'.encode(), vlan=100 + port if i % VLAN_EVERY == 0 else None)
            for i in range(count)]


def rewrite_macs(frame, tx_port, tx_mac):
    """@frame as MAC updating sends it out of @tx_port, whose MAC is @tx_mac."""
    return mac(f'02:00:00:00:00:{tx_port:02x}') + tx_mac + frame[12:]


class PcapTest(L2fwdTest):
    """Ports on pcap files: port i reads in<i>.pcap and writes out<i>.pcap
    (when it is closed at exit)."""

    def forward(self, inputs, args, duration=RUN_SECONDS):
        """Feeds inputs[i] to port i for a run of @duration seconds (None:
        as long as @args say); returns the frames each port sent and the
        JSON summary."""
        vdevs = []
        for port, frames in enumerate(inputs):
            pcaptool.write_pcap(self.path(f'in{port}.pcap'), frames)
            vdevs.append(f'net_pcap{port},rx_pcap={self.path(f"in{port}.pcap")},'
                         f'tx_pcap={self.path(f"out{port}.pcap")}')
        if duration is not None:
            args = [*args, '--duration', str(duration)]
        app = self.run_to_end(vdevs, args)
        return [pcaptool.read_pcap(self.path(f'out{port}.pcap')) for port in range(len(inputs))], app.summary()

    def assert_frames(self, got, expected, where):
        """Frame lists equal, reported as the first difference rather than a
        diff of kilobytes of bytes reprs."""
        for i, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                at = next((k for k, (a, b) in enumerate(zip(g, e)) if a != b), min(len(g), len(e)))
                self.fail(f'{where}: frame {i} differs at byte {at}\n  expected {pcaptool.describe(e)}\n'
                          f'  got      {pcaptool.describe(g)}')
        self.assertEqual(len(got), len(expected), f'{where}: frame count')

    def assert_forwarded_unchanged(self, out, inputs, pairs):
        """Each (rx, tx) in @pairs: what port rx read, port tx sent as is."""
        for rx, tx in pairs:
            self.assert_frames(out[tx], inputs[rx], f'port {rx} -> port {tx}')

    def assert_no_drops(self, summary, but=()):
        drops = {k: v for k, v in summary['drops'].items() if k not in but}
        self.assertEqual(drops, dict.fromkeys(drops, 0), 'unexpected drops')

    def assert_port_counts(self, summary, port, rx, tx):
        stats = summary['ports'][str(port)]
        self.assertEqual((stats['rx'], stats['tx']), (rx, tx), f'port {port} rx/tx in the JSON summary')


class PcapForwarding(PcapTest):

    def test_l2fwd_forwards_byte_exact_without_mac_updating(self):
        inputs = [traffic(0), traffic(1)]
        out, summary = self.forward(inputs, [*TWO_PORTS, '--no-mac-updating'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 1), (1, 0)))
        for port in (0, 1):
            self.assert_port_counts(summary, port, FRAMES_PER_PORT, FRAMES_PER_PORT)
        self.assert_no_drops(summary)

    def test_l2fwd_rewrites_macs_with_mac_updating(self):
        inputs = [traffic(0), traffic(1)]
        out, summary = self.forward(inputs, TWO_PORTS)
        for rx, tx in ((0, 1), (1, 0)):
            self.assertTrue(out[tx], f'port {tx} sent nothing')
            tx_mac = mac(summary['ports'][str(tx)]['mac'])  # as rte_eth_macaddr_get gave it
            self.assertNotEqual(tx_mac, input_src(rx), f'port {tx}: source MAC not rewritten')
            self.assertFalse(tx_mac[0] & 1, f'port {tx}: source MAC {pcaptool.mac_str(tx_mac)} is multicast')
            self.assert_frames(out[tx], [rewrite_macs(f, tx, tx_mac) for f in inputs[rx]],
                               f'port {rx} -> port {tx} (tx MAC {pcaptool.mac_str(tx_mac)})')
        self.assert_no_drops(summary)

    def test_l2fwd_portmap_pairs_four_ports(self):
        inputs = [traffic(port) for port in range(4)]
        # Four Rx ports on lcore 0.
        out, summary = self.forward(inputs, ['-p', '0xf', '-q', '4', '--portmap', '(0,3)(1,2)', '--no-mac-updating'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 3), (3, 0), (1, 2), (2, 1)))
        self.assert_no_drops(summary)

    def test_l2fwd_odd_port_mask_forwards_the_last_port_to_itself(self):
        inputs = [traffic(port) for port in range(3)]
        out, summary = self.forward(inputs, ['-p', '0x7', '-q', '3', '--no-mac-updating'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 1), (1, 0), (2, 2)))
        self.assertEqual(summary['ports']['2']['tx_port'], 2)
        self.assert_no_drops(summary)

    def test_l2fwd_portmap_spellings_of_l2fwd_pair_the_same_ports(self):
        inputs = [traffic(port) for port in range(4)]
        # What l2fwd's parser takes: anything between the pairs, spaces and base prefixes in them.
        for spelling in (['--portmap', '(0,3),(1,2)'], ['--portmap=(0x0, 3) (1,02)'], ['--port', '[(0,3)];(1,2)']):
            with self.subTest(spelling=spelling):
                out, summary = self.forward(inputs, ['-p', '0xf', '-q', '4', *spelling, '--no-mac-updating'])
                self.assert_forwarded_unchanged(out, inputs, ((0, 3), (3, 0), (1, 2), (2, 1)))
                self.assert_no_drops(summary)

    def test_l2fwd_portmap_leaves_the_ports_it_does_not_pair_idle(self):
        # As l2fwd: the mask names four ports, the map pairs two; the others are skipped.
        inputs = [traffic(port) for port in range(4)]
        out, summary = self.forward(inputs, ['-p', '0xf', '-q', '4', '--portmap', '(0,1)', '--no-mac-updating'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 1), (1, 0)))
        self.assertEqual((out[2], out[3]), ([], []), 'an unpaired port forwarded')
        self.assertEqual(sorted(summary['ports']), ['0', '1'])

    def test_l2fwd_abbreviated_no_mac_updating_keeps_l2fwd_meaning(self):
        # "--no" is l2fwd's --no-mac-updating, though it also begins --no-frame-checks here.
        inputs = [traffic(0), traffic(1)]
        out, summary = self.forward(inputs, [*TWO_PORTS, '--no'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 1), (1, 0)))
        self.assert_no_drops(summary)

    def check_runts_and_oversize_dropped(self, mac_updating):
        good = traffic(0, 40)
        # The limits themselves pass: a bare 14-byte header, and 1522 bytes.
        good += [ether_frame(UNICAST, input_src(0), 14, b''), ether_frame(UNICAST, input_src(0), 1522, b'max;')]
        runts = [b'\x02', UNICAST + input_src(0) + b'\x88']  # 1 and 13 bytes
        oversize = [ether_frame(UNICAST, input_src(0), n, b'big;') for n in (1523, 1600, 2000)]
        mixed = good[:10] + runts[:1] + oversize[:1] + good[10:25] + oversize[1:] + runts[1:] + good[25:]
        mode = '--mac-updating' if mac_updating else '--no-mac-updating'
        out, summary = self.forward([mixed, []], [*TWO_PORTS, mode])
        if mac_updating:
            tx_mac = mac(summary['ports']['1']['mac'])
            good = [rewrite_macs(f, 1, tx_mac) for f in good]
        self.assert_frames(out[1], good, 'port 0 -> port 1')
        self.assertEqual(summary['drops']['runt'], len(runts), 'drops.runt')
        self.assertEqual(summary['drops']['oversize'], len(oversize), 'drops.oversize')
        self.assert_no_drops(summary, but=('runt', 'oversize'))

    def test_l2fwd_drops_runt_and_oversize_frames(self):
        self.check_runts_and_oversize_dropped(mac_updating=False)

    def test_l2fwd_drops_runt_and_oversize_frames_with_mac_updating(self):
        # The handler checks the frames itself in its MAC rewriting loop.
        self.check_runts_and_oversize_dropped(mac_updating=True)

    def test_l2fwd_no_frame_checks_forwards_every_frame_as_is(self):
        # Without MAC updating nothing reads the frames, and --no-frame-checks
        # skips the checks: runts and oversize frames go out unchanged.
        good = traffic(0, 20)
        odd = [b'\x02', UNICAST + input_src(0) + b'\x88', ether_frame(UNICAST, input_src(0), 2000, b'big;')]
        mixed = good[:5] + odd[:1] + good[5:12] + odd[1:] + good[12:]
        out, summary = self.forward([mixed, []], [*TWO_PORTS, '--no-mac-updating', '--no-frame-checks'])
        self.assert_frames(out[1], mixed, 'port 0 -> port 1')
        self.assert_no_drops(summary)


# ---------------------------------------------------------------- config file

VALID_CONFIG = """\
; what -p 0x3 -q 2 -T 0 --no-mac-updating --portmap "(0,1)" --rx-mode poll --duration 2 asks
[l2fwd]
portmask=0x3
queues=2
period=0
mac-updating=no
portmap=(0,1)
rx-mode=poll
duration=%d
""" % RUN_SECONDS


class ConfigFile(PcapTest):

    def test_l2fwd_config_file_runs_like_command_line(self):
        inputs = [traffic(0), traffic(1)]
        # No --duration: the file's own must end this run.
        out, summary = self.forward(inputs, ['--config', self.write_config(VALID_CONFIG)], duration=None)
        self.assert_forwarded_unchanged(out, inputs, ((0, 1), (1, 0)))
        self.assert_no_drops(summary)

    def test_l2fwd_command_line_overrides_config_file(self):
        inputs = [traffic(0), traffic(1)]
        args = ['--config', self.write_config(VALID_CONFIG), '--mac-updating']
        out, _ = self.forward(inputs, args, duration=None)
        for tx in (0, 1):
            self.assertTrue(out[tx], f'port {tx} sent nothing')
            self.assertTrue(all(f[:6] == mac(f'02:00:00:00:00:{tx:02x}') for f in out[tx]),
                            f'port {tx}: --mac-updating did not override mac-updating=no')


    def test_l2fwd_config_file_read_in_every_getopt_spelling(self):
        config = self.write_config(VALID_CONFIG.replace(f'duration={RUN_SECONDS}', 'duration=0.5'))
        for spelling in (['--config', config], [f'--config={config}'], ['--conf', config], [f'--c={config}']):
            with self.subTest(spelling=spelling):
                # No --duration and no -p: both come from the file, or the run fails or never ends.
                app = self.start(null_ports(2), spelling, summary=False)
                self.assert_exit_ok(app, app.wait(RUN_TIMEOUT))
                with open(app.out_path) as f:
                    self.assertIn('MAC updating disabled', f.read(), f'mac-updating=no not read\n{app.report()}')


# ---------------------------------------------------------------- bad input

def null_ports(n):
    return [f'net_null{i}' for i in range(n)]


Refusal = collections.namedtuple('Refusal', 'ports args names config eal', defaults=(None, ()))

# Test name after test_l2fwd_: net_null ports (a count) or vdevs (a list),
# app options, what the error line must name (a case-insensitive regex),
# config file text, EAL options.
REFUSALS = {
    'rejects_malformed_portmask': Refusal(2, ['-p', 'xyz'], r'mask'),
    'rejects_zero_portmask': Refusal(2, ['-p', '0'], r'mask'),
    'rejects_portmask_naming_absent_ports': Refusal(2, ['-p', '0xf'], r'mask|port'),
    'rejects_unterminated_portmap': Refusal(2, [*TWO_PORTS, '--portmap', '(0,1'], r'port ?map'),
    'rejects_portmap_naming_absent_port': Refusal(2, [*TWO_PORTS, '--portmap', '(0,5)'], r'port ?map|\b5\b'),
    'rejects_unknown_option': Refusal(2, [*TWO_PORTS, '--frobnicate'], r'frobnicate|option'),
    'rejects_interrupt_mode_without_rx_interrupts': Refusal(2, [*TWO_PORTS, '--rx-mode', 'interrupt'],
                                                            r'interrupt'),
    # Four ports, one Rx port per lcore, and -l 0-1 has two lcores.
    'rejects_too_few_lcores': Refusal(4, ['-p', '0xf', '-q', '1'], r'lcore', eal=('-l', '0-1')),
    # As l2fwd ("Not enough cores"): one lcore takes one port at the default -q 1.
    'rejects_two_ports_on_one_lcore_at_one_port_per_lcore': Refusal(2, ['-p', '0x3'], r'lcore', eal=('-l', '1')),
    'rejects_portmap_port_in_two_pairs': Refusal(2, ['-p', '0x3', '--portmap', '(0,1)(1,0)'], r'port ?map|pair'),
    'rejects_portmap_pair_without_comma': Refusal(2, ['-p', '0x3', '--portmap', '(0)(1)'], r'port ?map'),
    'rejects_queue_count_of_16': Refusal(2, ['-p', '0x3', '-q', '16'], r'queue'),
    'rejects_stats_period_of_a_day': Refusal(2, ['-p', '0x3', '-T', '86400'], r'period'),
    'rejects_missing_config_file_given_with_equals': Refusal(2, ['-p', '0x3', '--config=/nonexistent/l2fwd.ini'],
                                                            r'config'),
    'rejects_missing_config_file_given_abbreviated': Refusal(2, ['-p', '0x3', '--conf', '/nonexistent/l2fwd.ini'],
                                                            r'config'),
    'rejects_value_for_no_mac_updating_abbreviated': Refusal(2, ['-p', '0x3', '--no=1'], r'no-mac-updating'),
    'rejects_no_frame_checks_with_mac_updating': Refusal(2, [*TWO_PORTS, '--no-frame-checks'], r'frame-checks'),
    'rejects_bad_app_task_time': Refusal(2, [*TWO_PORTS, '--app-task', '-5'], r'app task'),
    'rejects_back_off_ceiling_under_10_us': Refusal(2, [*TWO_PORTS, '--max-backoff', '5'], r'back-off'),
    'rejects_unknown_rx_rule': Refusal(2, [*TWO_PORTS, '--rx-rule', 'fastest'], r'rx rule.*fastest'),
    'rejects_defer_window_over_10_ms': Refusal(2, [*TWO_PORTS, '--defer-us', '20000'], r'defer window'),
    'rejects_rate_lo_above_rate_hi': Refusal(2, [*TWO_PORTS, '--rate-hi', '4', '--rate-lo', '8'], r'rate_lo'),
    'rejects_bh_share_of_zero': Refusal(2, [*TWO_PORTS, '--bh-share', '0'], r'share'),
    'rejects_rxq_without_port': Refusal(2, [*TWO_PORTS, '--rxq', 'rx-mode=poll'], r'--rxq'),
    'rejects_rxq_with_unknown_key': Refusal(2, [*TWO_PORTS, '--rxq', '1:speed=9'], r'speed'),
    'rejects_rxq_with_bad_value': Refusal(2, [*TWO_PORTS, '--rxq', '1:defer-polls=-1'], r'defer polls'),
    'rejects_rxq_for_a_port_that_does_not_forward': Refusal(2, [*TWO_PORTS, '--rxq', '5:rx-mode=poll'],
                                                            r'port 5'),
    'rejects_rxq_settings_that_do_not_fit_together': Refusal(2, [*TWO_PORTS, '--rxq', '0:rate-hi=1'],
                                                             r'port 0.*rate_lo'),
    # --rx-queues: l3fwd's --config rules, each its own error.
    'rejects_rx_queues_naming_a_port_not_in_the_mask': Refusal(2, ['-p', '0x1', '--rx-queues', '(1,0,0)'],
                                                               r'--rx-queues: port 1 is not in the port mask'),
    'rejects_rx_queues_naming_a_port_the_portmap_leaves_out': Refusal(
        4, ['-p', '0xf', '-q', '4', '--portmap', '(0,1)', '--rx-queues', '(2,0,0)'], r'port 2 does not forward'),
    'rejects_rx_queues_naming_an_lcore_not_enabled': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,0,0),(1,0,5)'],
                                                             r'lcore 5 is not enabled'),
    'rejects_rx_queues_giving_a_queue_twice': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,0,0),(0,0,1),(1,0,1)'],
                                                      r'port 0 queue 0 is given twice'),
    'rejects_rx_queues_with_a_gap_in_a_ports_queue_ids': Refusal(
        2, ['-p', '0x3', '--rx-queues', '(0,0,0),(0,2,1),(1,0,1)'], r'port 0 queue 2 comes before queue 1'),
    'rejects_rx_queues_not_starting_at_queue_0': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,1,0),(1,0,1)'],
                                                         r'port 0 queue 1 comes before queue 0'),
    'rejects_rx_queues_out_of_order': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,1,1),(0,0,0),(1,0,1)'],
                                              r'port 0 queue 1 comes before queue 0'),
    'rejects_rx_queue_beyond_what_the_port_can_have': Refusal(
        ['net_ring0', 'net_ring1'], ['-p', '0x3', '-q', '2', '--rx-queues', ','.join(f'(0,{q},0)' for q in range(17))],
        r'port 0 \(net_ring\) has at most 16 Rx queues, no queue 16'),
    'rejects_rx_queue_beyond_l3fwds_limit': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,128,0)'],
                                                    r'queue 128: at most 128'),
    'rejects_more_than_16_rx_queues_on_one_lcore': Refusal(
        2, ['-p', '0x3', '-q', '2', '--rx-queues', ','.join(f'(0,{q},0)' for q in range(17))],
        r'lcore 0 has more than 16 Rx queues'),
    'rejects_rx_queues_giving_an_lcore_more_ports_than_q': Refusal(
        2, ['-p', '0x3', '-q', '1', '--rx-queues', '(0,0,0),(1,0,0)'], r'lcore 0 .* 2 ports, more than -q 1'),
    'rejects_a_port_left_to_q_when_no_lcore_has_room': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,0,0),(0,1,1)'],
                                                                r'port 1 is in no --rx-queues tuple.*-q 1'),
    'rejects_more_tx_queues_than_the_port_has': Refusal(
        ['net_null0', 'net_pcap0,tx_pcap=/dev/null'], ['-p', '0x3', '--rx-queues', '(0,0,0),(0,1,1),(1,0,0)'],
        r'port 1 \(net_pcap\) has at most 1 Tx queues, and 2 lcores send on it'),
    'rejects_rx_queues_tuple_of_two_fields': Refusal(2, ['-p', '0x3', '--rx-queues', '(0,0),(1,0)'],
                                                     r'Rx queue list.*\(port,queue,lcore\)'),
    'rejects_rx_queues_without_a_tuple': Refusal(2, ['-p', '0x3', '--rx-queues', '0,0,0'], r'Rx queue list'),
    'rejects_rss_on_ports_that_hash_nothing': Refusal(
        ['net_ring0', 'net_ring1'], ['-p', '0x3', '--rss', 'ip', '--rx-queues', '(0,0,0),(0,1,1),(1,0,0)'],
        r'--rss: port 0 \(net_ring\) hashes none'),
    'rejects_unknown_rss_flow_type': Refusal(2, ['-p', '0x3', '--rss', 'ip,quic'], r'RSS.*ip,quic'),
    'config_rejects_bad_rx_queues': Refusal(2, [], r'Rx queue list',
                                            config='[l2fwd]\nportmask=0x3\nrx-queues=(0,0,0\n'),
    'config_rejects_unknown_section': Refusal(2, [], r'section.*\[ports\]',
                                              config='[l2fwd]\nportmask=0x3\nqueues=2\n[ports]\nrx-mode=poll\n'),
    'config_rejects_non_rx_key_in_port_section': Refusal(2, [], r'\[port 1\].*queues',
                                                         config='[l2fwd]\nportmask=0x3\nqueues=2\n[port 1]\nqueues=1\n'),
    'config_rejects_syntax_error': Refusal(2, [], r'config|\.ini', config='[l2fwd\nportmask=0x3\n'),
    'config_rejects_bad_value': Refusal(2, [], r'rx-mode|fast',
                                        config='[l2fwd]\nportmask=0x3\nqueues=2\nrx-mode=fast\n'),
}


class BadInput(L2fwdTest):
    """One generated test per REFUSALS entry."""

    def check_refused(self, case):
        args = list(case.args)
        if case.config is not None:
            args += ['--config', self.write_config(case.config)]
        # A wrongly accepted input then ends in a second, not at the time-out.
        vdevs = null_ports(case.ports) if isinstance(case.ports, int) else case.ports
        app = self.start(vdevs, [*args, '--duration', '1'], case.eal, summary=False)
        rc = app.wait(REFUSE_TIMEOUT)
        self.assertNotEqual(rc, 0, f'bad input accepted\n{app.report()}')
        # Popen gives -SIG for a signal; 128+ is a shell's way of saying the same.
        self.assertTrue(0 < rc < 128, f'exit code {rc}: a crash, not an error exit\n{app.report()}')
        lines = [line for line in app.stderr().splitlines() if line.strip()]
        self.assertTrue(lines, f'nothing on stderr\n{app.report()}')
        self.assertRegex(lines[-1], re.compile(case.names, re.I),
                         f'the last stderr line does not name the problem\n{app.report()}')


    def test_l2fwd_json_path_is_checked_before_forwarding_starts(self):
        app = self.start(null_ports(2), [*TWO_PORTS, '--duration', '30', '--json', '/nonexistent/dir/x.json'],
                         summary=False)
        rc = app.wait(REFUSE_TIMEOUT)
        self.assertTrue(0 < rc < 128, f'exit code {rc}\n{app.report()}')
        lines = [line for line in app.stderr().splitlines() if line.startswith('bh-l2fwd')]
        self.assertEqual(len(lines), 1, f'not one line\n{app.report()}')
        self.assertRegex(lines[0], r'JSON.*/nonexistent/dir/x\.json')
        with open(app.out_path) as f:
            self.assertNotIn('Initializing port', f.read(), 'ports set up before the JSON path was checked')


def _refusal_test(case):
    return lambda self: self.check_refused(case)


for _name, _case in REFUSALS.items():
    setattr(BadInput, f'test_l2fwd_{_name}', _refusal_test(_case))


# ---------------------------------------------------------------- full load

class FullLoad(L2fwdTest):

    def test_l2fwd_sigterm_under_full_load_exits_cleanly(self):
        # net_null ports receive as fast as the worker polls; -T 1 has the
        # main lcore print statistics meanwhile.
        app = self.start(null_ports(2), [*TWO_PORTS, '-T', '1'])
        self.wait_for_statistics(app)
        time.sleep(RUN_SECONDS)
        self.assertTrue(app.running(), f'bh-l2fwd ended before SIGTERM\n{app.report()}')
        self.assert_exit_ok(app, app.stop())
        summary = app.summary()
        self.assertGreater(summary['ports']['0']['rx'], 0, 'no load: port 0 received nothing')
        self.assertGreater(summary['mpps'], 0)
        pool = summary['mempool']
        self.assertEqual(pool['in_use_end'], pool['in_use_start'], 'mbufs in use at exit: leaked')

    def test_l2fwd_app_task_keeps_running_under_full_load(self):
        # NET_RX at full load ends each pass at its budget, so the loop comes
        # back to the application's task: thousands of runs a second, not none.
        app = self.run_to_end(null_ports(2), [*TWO_PORTS, '--app-task', '2000', '--duration', str(RUN_SECONDS)])
        summary = app.summary()
        self.assertGreater(summary['ports']['0']['rx'], 0, 'no load: port 0 received nothing')
        runs = summary['lcores'][FWD_LCORE]['app_task_runs']
        self.assertGreater(runs / summary['seconds'], 1000, f'app task starved: {runs} runs\n{app.report()}')


STATS_BLOCK = re.compile(r'Statistics for port (\d+) -+\n(.*?)(?=\nStatistics for port|\nAggregate)', re.S)


def report_ports(text):
    """{port: {line label: count}} from the first statistics report in @text."""
    report = text.split('Port statistics', 2)[1]
    return {int(port): {label.strip(): int(count) for label, count in re.findall(r'^([A-Za-z ]+):\s+(\d+)', body, re.M)}
            for port, body in STATS_BLOCK.findall(report)}


def dropping_ports(workdir):
    """Ports and options where each side drops on its own port: port 0
    (net_null) forwards to port 1, a memif server no client ever joins,
    which takes nothing (Tx drops of port 1); port 2 (net_null with 10-byte
    frames) receives only runts (Rx drops of port 2); port 3 forwards to
    port 2. Returns (vdevs, options)."""
    return (['net_null0', f'net_memif0,role=server,socket={workdir}/m.sock', 'net_null1,size=10', 'net_null2'],
            ['-p', '0xf', '-q', '4', '--portmap', '(0,1)(2,3)'])


class DropCounters(L2fwdTest):
    """A drop is charged to the Rx port when the frame was refused before
    Tx (the frame checks), to the Tx port when that port could not take it
    (tx_full): the Tx side is l2fwd's "Packets dropped", the Rx side is
    "Packets dropped on Rx" (dropping_ports)."""

    def run_with_drops(self, workdir):
        vdevs, args = dropping_ports(workdir)
        app = self.start(vdevs, [*args, '-T', '1'])
        self.wait_for_statistics(app)
        self.assert_exit_ok(app, app.stop())
        return app

    def test_l2fwd_statistics_show_rx_and_tx_drops_on_their_own_ports(self):
        app = self.run_with_drops(self.workdir)
        with open(app.out_path, errors='replace') as f:
            ports = report_ports(f.read())
        self.assertEqual(sorted(ports), [0, 1, 2, 3], f'no per-port report\n{app.report()}')
        self.assertGreater(ports[0]['Packets received'], 0, 'no load')
        self.assertGreater(ports[1]['Packets dropped'], 0, f'Tx drops not on the Tx port\n{app.report()}')
        self.assertEqual(ports[1]['Packets dropped on Rx'], 0)
        self.assertGreater(ports[2]['Packets dropped on Rx'], 0, f'runts not on the Rx port\n{app.report()}')
        self.assertEqual(ports[2]['Packets dropped'], 0)
        for side in ('Packets dropped', 'Packets dropped on Rx'):
            self.assertEqual(ports[0][side], 0, f'port 0: {side}: counts another port\'s drops')

    def test_l2fwd_json_counts_rx_and_tx_drops_on_their_own_ports(self):
        ports = self.run_with_drops(self.workdir).summary()['ports']
        self.assertGreater(ports['0']['rx'], 0, 'no load')
        # Every frame port 0 took was refused by port 1 (a backlog left at exit is dropped and counted too).
        self.assertEqual(ports['1']['tx_dropped'], ports['0']['rx'])
        self.assertEqual(ports['2']['rx_dropped'], ports['2']['rx'])
        self.assertEqual([ports['0']['rx_dropped'], ports['0']['tx_dropped'], ports['1']['rx_dropped'],
                          ports['2']['tx_dropped']], [0, 0, 0, 0])


class Lcores(L2fwdTest):
    """Any lcore set l2fwd runs on: each lcore, the main one included, takes
    -q Rx ports in lcore order, and the statistics are printed off the
    packet path."""

    def assert_placed(self, app, summary, placement):
        """@placement: {port: (lcore, tx port)}, in the JSON summary and in
        l2fwd's start-up lines."""
        with open(app.out_path) as f:
            lines = re.findall(r'^Lcore (\d+): RX port (\d+) TX port (\d+)$', f.read(), re.M)
        self.assertEqual({int(p): (int(lc), int(tx)) for lc, p, tx in lines}, placement, app.report())
        self.assertEqual({int(p): (v['lcore'], v['tx_port']) for p, v in summary['ports'].items()}, placement)
        for lcore in {lc for lc, _ in placement.values()}:
            self.assertGreater(summary['lcores'][str(lcore)]['processed'], 0, f'lcore {lcore} forwarded nothing')

    def test_l2fwd_one_lcore_forwards_and_prints_statistics(self):
        app = self.start(null_ports(2), ['-p', '0x3', '-q', '2', '-T', '1'], eal=('-l', '1'))
        # Two reports while the only lcore, the main one, polls at full load.
        def two_reports():
            with open(app.out_path, errors='replace') as f:
                return f.read().count('Port statistics') >= 2
        self.wait_for(app, two_reports, 'two statistics reports')
        app.proc.send_signal(signal.SIGINT)
        self.assert_exit_ok(app, app.wait(STOP_TIMEOUT))
        summary = app.summary()
        self.assertEqual(sorted(summary['lcores']), ['1'])
        self.assert_placed(app, summary, {0: (1, 1), 1: (1, 0)})
        self.assertEqual(summary['mempool']['in_use_end'], summary['mempool']['in_use_start'])

    def test_l2fwd_default_queue_count_gives_each_lcore_one_port(self):
        app = self.run_to_end(null_ports(2), ['-p', '0x3', '--duration', '1'])
        self.assert_placed(app, app.summary(), {0: (0, 1), 1: (1, 0)})

    def test_l2fwd_each_lcore_takes_q_ports_in_id_order_whichever_is_main(self):
        # l2fwd walks lcore ids from 0, -q ports each; the main lcore is no exception.
        app = self.run_to_end(null_ports(3), ['-p', '0x7', '-q', '2', '--duration', '1'])
        self.assert_placed(app, app.summary(), {0: (0, 1), 1: (0, 0), 2: (1, 2)})
        app = self.start(null_ports(2), ['-p', '0x3', '--duration', '1'], eal=('-l', '0-1', '--main-lcore', '1'))
        self.assert_exit_ok(app, app.wait(RUN_TIMEOUT))
        self.assert_placed(app, app.summary(), {0: (0, 1), 1: (1, 0)})


PLACED_QUEUE = re.compile(r'^Lcore (\d+): RX port (\d+)(?: queue (\d+))? TX port (\d+)(?: queue (\d+))?$', re.M)
ALL_QUEUES_ON_TWO_LCORES = '(0,0,0),(0,1,1),(1,0,0),(1,1,1)'


def placed_queues(app):
    """{(port, queue): (lcore, tx port, tx queue)} from the start-up lines:
    l2fwd's for a port -q placed (queue 0 and Tx queue 0 unsaid), with the
    queues for one --rx-queues placed."""
    with open(app.out_path) as f:
        return {(int(p), int(q or 0)): (int(lc), int(tx), int(txq or 0))
                for lc, p, q, tx, txq in PLACED_QUEUE.findall(f.read())}


class RxQueues(PcapTest):
    """--rx-queues: l3fwd's (port,queue,lcore) tuples give each lcore its own
    Rx queues of a port; each lcore sending on a port has a Tx queue of its
    own there, numbered in lcore id order."""

    def assert_queues(self, summary, placement):
        """The JSON summary's queues match @placement (placed_queues' form),
        and every packet is accounted for, per port and per queue."""
        rx, tx = {}, {}
        for port, stats in summary['ports'].items():
            for q in stats['rx_queues']:
                rx[(int(port), q['queue'])] = q['lcore']
            for q in stats['tx_queues']:
                tx[(int(port), q['queue'])] = q['lcore']
            self.assertEqual(sum(q['rx'] for q in stats['rx_queues']), stats['rx'], f'port {port}: Rx queues')
            self.assertEqual(sum(q['dropped'] for q in stats['rx_queues']), stats['rx_dropped'])
            self.assertEqual(sum(q['tx'] for q in stats['tx_queues']), stats['tx'], f'port {port}: Tx queues')
        self.assertEqual(rx, {key: lcore for key, (lcore, _, _) in placement.items()})
        self.assertEqual(tx, {(txp, txq): lcore for lcore, txp, txq in placement.values()})
        ports = summary['ports'].values()
        self.assertEqual(sum(p['rx'] for p in ports), sum(p['tx'] + p['rx_dropped'] + p['tx_dropped'] for p in ports),
                         'packets neither sent nor dropped')
        self.assertEqual(summary['mempool']['in_use_end'], summary['mempool']['in_use_start'], 'mbufs leaked')

    def test_l2fwd_rx_queues_forward_each_queue_through_its_lcores_own_tx_queue(self):
        # Two Rx and two Tx queues per net_pcap port (a file each): what Rx
        # queue q of a port read, lcore q sends on Tx queue q of the other.
        vdevs = []
        inputs = {}
        for port in (0, 1):
            for q in (0, 1):
                inputs[(port, q)] = traffic(port, 100 + 50 * q)
                pcaptool.write_pcap(self.path(f'in{port}q{q}.pcap'), inputs[(port, q)])
            vdevs.append(f'net_pcap{port},' + ','.join(f'rx_pcap={self.path(f"in{port}q{q}.pcap")}' for q in (0, 1)) +
                         ',' + ','.join(f'tx_pcap={self.path(f"out{port}q{q}.pcap")}' for q in (0, 1)))
        app = self.run_to_end(vdevs, ['-p', '0x3', '--no-mac-updating', '--rx-queues', ALL_QUEUES_ON_TWO_LCORES,
                                      '--duration', str(RUN_SECONDS)])
        placement = {(0, 0): (0, 1, 0), (0, 1): (1, 1, 1), (1, 0): (0, 0, 0), (1, 1): (1, 0, 1)}
        self.assertEqual(placed_queues(app), placement, app.report())
        for (port, q), frames in inputs.items():
            self.assert_frames(pcaptool.read_pcap(self.path(f'out{1 - port}q{q}.pcap')), frames,
                               f'port {port} queue {q} -> port {1 - port} queue {q}')
        summary = app.summary()
        self.assert_queues(summary, placement)
        self.assert_no_drops(summary)
        with open(app.out_path) as f:
            self.assertIn('Port 0: 2 Rx queues, 2 Tx queues, no RSS: the sender picks', f.read())

    def test_l2fwd_rx_queues_in_every_spelling_l3fwds_config_takes(self):
        placement = {(0, 0): (0, 1, 0), (0, 1): (1, 1, 1), (1, 0): (0, 0, 0), (1, 1): (1, 0, 1)}
        config = self.write_config(f'[l2fwd]\nportmask=0x3\nrx-queues={ALL_QUEUES_ON_TWO_LCORES}\n')
        for spelling in (['-p', '0x3', '--rx-queues', ALL_QUEUES_ON_TWO_LCORES],
                         ['-p', '0x3', '--rx-queues=(0x0, 0, 0) (0,01,1);[(1,0,0)](1,1,1)'],
                         ['-p', '0x3', '--rx-q', ALL_QUEUES_ON_TWO_LCORES], ['--config', config]):
            with self.subTest(spelling=spelling):
                app = self.run_to_end(null_ports(2), [*spelling, '--duration', '1'])
                self.assertEqual(placed_queues(app), placement, app.report())
                summary = app.summary()
                self.assert_queues(summary, placement)
                for port in ('0', '1'):
                    for q in summary['ports'][port]['rx_queues']:
                        self.assertGreater(q['rx'], 0, f'port {port} queue {q["queue"]} received nothing')

    def test_l2fwd_ports_rx_queues_leaves_out_go_to_q(self):
        # Port 0's two queues on lcore 1; port 1, in no tuple, to the first lcore with room at -q 1.
        app = self.run_to_end(null_ports(2), ['-p', '0x3', '--rx-queues', '(0,0,1),(0,1,1)', '--duration', '1'])
        placement = {(0, 0): (1, 1, 0), (0, 1): (1, 1, 0), (1, 0): (0, 0, 0)}
        self.assertEqual(placed_queues(app), placement, app.report())
        with open(app.out_path) as f:
            self.assertIn('Lcore 0: RX port 1 TX port 0\n', f.read(), 'not l2fwd\'s line for a port -q placed')
        self.assert_queues(app.summary(), placement)
        # One lcore, both ports' queues: -q 2 allows it.
        app = self.run_to_end(null_ports(2), ['-p', '0x3', '-q', '2', '--rx-queues', '(0,0,1),(0,1,1),(1,0,1)',
                                              '--duration', '1'])
        placement = {(0, 0): (1, 1, 0), (0, 1): (1, 1, 0), (1, 0): (1, 0, 0)}
        self.assertEqual(placed_queues(app), placement, app.report())
        self.assert_queues(app.summary(), placement)

    def test_l2fwd_rss_where_the_device_hashes_and_none_where_the_sender_picks(self):
        cases = ((null_ports(2), [], 'RSS on flow types 0x3afbc'),  # ip, tcp, udp
                 (null_ports(2), ['--rss', 'udp'], 'RSS on flow types 0x20820'),
                 (null_ports(2), ['--rss', 'none'], 'no RSS'),
                 (['net_ring0', 'net_ring1'], [], 'no RSS'))
        for vdevs, args, said in cases:
            with self.subTest(vdevs=vdevs, args=args):
                app = self.run_to_end(vdevs, ['-p', '0x3', '--rx-queues', ALL_QUEUES_ON_TWO_LCORES, *args,
                                              '--duration', '0.5'])
                with open(app.out_path) as f:
                    lines = re.findall(r'^Port (\d): 2 Rx queues, 2 Tx queues, (.*)$', f.read(), re.M)
                self.assertEqual([(p, text.split(':')[0]) for p, text in lines], [('0', said), ('1', said)],
                                 app.report())


class LongOptions(L2fwdTest):

    def test_l2fwd_extra_long_options_take_equals_and_abbreviations(self):
        # getopt_long's spellings: --name=value, and any unambiguous prefix.
        json_path = self.path('spelled.json')
        app = self.start(null_ports(2), [*TWO_PORTS, '--rx-m=adaptive', '--dur=1', '--app-t=100',
                                         f'--js={json_path}'], summary=False)
        self.assert_exit_ok(app, app.wait(RUN_TIMEOUT))
        with open(app.out_path) as f:
            self.assertIn('(net_null, adaptive, rule rate)', f.read(), '--rx-m=adaptive not applied')
        with open(json_path) as f:
            summary = json.load(f)
        self.assertLess(summary['seconds'], 5, '--dur=1 not applied')
        self.assertGreater(summary['lcores'][FWD_LCORE]['app_task_runs'], 0, '--app-t=100 not applied')


class RxSettings(L2fwdTest):

    def started_modes(self, app):
        """The mode each Rx port was started in, from the start-up lines."""
        with open(app.out_path) as f:
            return {int(m.group(1)): m.group(2)
                    for m in re.finditer(r'Rx port (\d+) queue 0 -> Tx port \d+ queue \d+ \(\w+, ([^)]*)\)', f.read())}

    def test_l2fwd_rxq_option_sets_one_ports_rx_settings(self):
        app = self.run_to_end(null_ports(2), [*TWO_PORTS, '--rxq', '1:rx-mode=adaptive,rx-rule=defer,defer-us=100',
                                              '--duration', '1'])
        self.assertEqual(self.started_modes(app), {0: 'poll', 1: 'adaptive, rule defer'})

    def test_l2fwd_port_sections_of_the_config_file_override_its_l2fwd_section(self):
        config = self.write_config('[l2fwd]\nportmask=0x3\nqueues=2\nrx-mode=adaptive\nrx-rule=rate\n'
                                   '[port 0]\nrx-rule=defer\ndefer-us=200\n[port 1]\nrx-mode=poll\n')
        app = self.run_to_end(null_ports(2), ['--config', config, '--duration', '1'])
        self.assertEqual(self.started_modes(app), {0: 'adaptive, rule defer', 1: 'poll'})
        # The command line's own settings apply under the ports' sections.
        app = self.run_to_end(null_ports(2), ['--config', config, '--rx-rule', 'defer', '--rx-mode', 'interrupt',
                                              '--rxq', '0:rx-mode=poll', '--duration', '1'])
        self.assertEqual(self.started_modes(app), {0: 'poll', 1: 'poll'})

    def test_l2fwd_bh_share_sets_what_app_tasks_keep_at_full_load(self):
        # net_null never runs dry: the bottom halves would take the whole lcore. A
        # pass of theirs (two 64-frame polls, about 1 us) and a task run alternate,
        # so the task is short beside a pass: else it keeps more than the 90%
        # share would leave it anyway, and the share cannot show.
        runs = {}
        for share in (90, 10):
            app = self.run_to_end(null_ports(2), [*TWO_PORTS, '--app-task', '200', '--bh-share', str(share),
                                                  '--duration', '1'])
            lcore = app.summary()['lcores'][FWD_LCORE]
            runs[share] = lcore['app_task_runs']
        self.assertGreater(runs[10], 2 * runs[90], f'app task runs at a 10% and a 90% share: {runs}')


class IdlePorts(L2fwdTest):

    def idle_sleeps_per_second(self, *args):
        # net_ring ports have no Rx interrupt and, unfed, stay empty.
        app = self.run_to_end(['net_ring0', 'net_ring1'],
                              [*TWO_PORTS, '--rx-mode', 'adaptive', *args, '--duration', '1'])
        summary = app.summary()
        return summary['lcores'][FWD_LCORE]['sleeps'] / summary['seconds']

    def test_l2fwd_max_backoff_sets_how_often_an_idle_worker_wakes(self):
        shorter = self.idle_sleeps_per_second('--max-backoff', '1000')
        default = self.idle_sleeps_per_second()
        longer = self.idle_sleeps_per_second('--max-backoff', '20000')
        # The worker sleeps until its ports' next poll (the two ports' back-offs
        # share its wake-ups): about 1000 times a second at a 1 ms ceiling,
        # 200 at the 5 ms default, 50 at 20 ms.
        rates = f'{shorter:.0f}, {default:.0f} and {longer:.0f} sleeps/s at 1, 5 and 20 ms'
        self.assertGreater(shorter, 400, f'--max-backoff 1000 not applied: {rates}')
        self.assertTrue(100 < default < 350, f'not the 5 ms default ceiling: {rates}')
        self.assertLess(longer, 100, f'--max-backoff 20000 not applied: {rates}')


# ---------------------------------------------------------------- kernel traffic

def sh(*cmd, timeout=10, check=True):
    """Runs @cmd; with @check, a non-zero exit fails the test."""
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}')
    return r


def in_ns(ns, *cmd):
    return ('ip', 'netns', 'exec', ns, *cmd)


def link_flags(ifname):
    """The flags of root-namespace interface @ifname ([] if it is absent)."""
    r = sh('ip', '-j', 'link', 'show', 'dev', ifname, check=False)
    return json.loads(r.stdout)[0]['flags'] if r.returncode == 0 else []


def kill_process(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


class KernelTraffic(L2fwdTest):
    """Two namespaces this test makes, joined only through bh-l2fwd; the
    addresses are from the benchmarking range, so no traffic can be the
    host's."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('needs root for namespaces, veth and tap interfaces')
        for tool in ('ip', 'ss', 'ping', 'iperf3', 'ethtool', 'sysctl'):
            if not shutil.which(tool):
                self.skipTest(f'{tool} is not installed')
        # Deleting a namespace deletes what is in it; the clean-ups added
        # later (bh-l2fwd, veths) run first.
        self.ns = (f'{NAME_BASE}a', f'{NAME_BASE}b')
        for ns in self.ns:
            sh('ip', 'netns', 'add', ns)
            self.addCleanup(sh, 'ip', 'netns', 'del', ns, check=False)

    def place(self, ifname, ns, addr):
        """Moves @ifname into @ns with @addr, up."""
        sh('ip', 'link', 'set', ifname, 'netns', ns)
        sh('ip', '-n', ns, 'addr', 'add', f'{addr}/24', 'dev', ifname)
        sh('ip', '-n', ns, 'link', 'set', ifname, 'up')

    def veth_into(self, ns, addr, tag):
        """A veth pair with one end in @ns (with @addr); returns the other,
        left in the root namespace for net_af_packet."""
        outer, inner = f'{NAME_BASE}v{tag}', f'{NAME_BASE}p{tag}'
        sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner)
        self.addCleanup(sh, 'ip', 'link', 'del', outer, check=False)
        # The root namespace's end only carries frames: its own stack must not answer on it.
        sh('sysctl', '-w', f'net.ipv4.conf.{outer}.arp_ignore=8', f'net.ipv6.conf.{outer}.disable_ipv6=1')
        sh('ip', 'link', 'set', outer, 'up')
        # A packet socket takes what the sending stack left: with offloads
        # on, TCP would arrive as unchecksummed 64 KB GSO frames, cut to the
        # PMD's frame size and dropped by the receiver.
        sh('ethtool', '-K', inner, 'tx', 'off', 'gso', 'off')
        self.place(inner, ns, addr)
        return outer

    def pass_traffic_and_stop(self, app, label):
        """Ping both ways and an iperf3 TCP run between the namespaces, then
        SIGTERM: bh-l2fwd must exit 0 having forwarded both ways."""
        ns1, ns2 = self.ns
        self.wait_for(app, lambda: sh(*in_ns(ns1, 'ping', '-c', '1', '-W', '1', ADDR2), check=False).returncode == 0,
                      'first ping through bh-l2fwd')
        sh(*in_ns(ns1, 'ping', '-c', '3', '-i', '0.2', '-W', '2', ADDR2))
        sh(*in_ns(ns2, 'ping', '-c', '3', '-i', '0.2', '-W', '2', ADDR1))

        server = subprocess.Popen(in_ns(ns2, 'iperf3', '-s', '-1', '-B', ADDR2),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(kill_process, server)
        self.wait_for(app, lambda: sh(*in_ns(ns2, 'ss', '-Hltn', 'sport = :5201')).stdout.strip(),
                      'iperf3 server listening')
        r = sh(*in_ns(ns1, 'iperf3', '-c', ADDR2, '-t', '3', '-J'), timeout=30, check=False)
        try:
            result = json.loads(r.stdout)
        except ValueError:
            self.fail(f'iperf3 -c: exit {r.returncode}, no JSON\n{r.stdout}{r.stderr}')
        self.assertNotIn('error', result, f'iperf3 -c failed\n{app.report()}')
        bps = result['end']['sum_received']['bits_per_second']
        self.assertGreater(bps, 0, 'iperf3: no throughput')
        print(f'\n  {label}: iperf3 TCP {bps / 1e6:.0f} Mbit/s', file=sys.stderr, end=' ')

        self.assert_exit_ok(app, app.stop())
        summary = app.summary()
        for port in (0, 1):
            self.assertGreater(summary['ports'][str(port)]['rx'], 0, f'port {port}: nothing received')

    def test_l2fwd_promiscuous_mode_only_with_P(self):
        # As l2fwd: off unless -P; net_af_packet shows it as the interface's PROMISC flag.
        for args, promiscuous in (([], False), (['-P'], True)):
            with self.subTest(args=args):
                veth = self.veth_into(self.ns[0], ADDR1, f'x{len(args)}')
                app = self.start([f'net_af_packet0,iface={veth}'], ['-p', '0x1', '-T', '1', *args])
                self.wait_for_statistics(app)
                self.assertEqual('PROMISC' in link_flags(veth), promiscuous, f'{veth}: {link_flags(veth)}')
                self.assert_exit_ok(app, app.stop())

    def test_l2fwd_af_packet_veth_passes_kernel_traffic(self):
        vdevs = [f'net_af_packet{i},iface={self.veth_into(ns, addr, i)}'
                 for i, (ns, addr) in enumerate(zip(self.ns, (ADDR1, ADDR2)))]
        app = self.start(vdevs, [*TWO_PORTS, '--no-mac-updating'])
        self.pass_traffic_and_stop(app, 'net_af_packet on veth')

    def test_l2fwd_af_packet_interrupt_mode_sleeps_on_the_queue_socket(self):
        # No Rx interrupt in DPDK 22.11's PMD: the lcore sleeps on the queue's socket (its Rx doorbell).
        vdevs = [f'net_af_packet{i},iface={self.veth_into(ns, addr, i)}'
                 for i, (ns, addr) in enumerate(zip(self.ns, (ADDR1, ADDR2)))]
        app = self.start(vdevs, [*TWO_PORTS, '--no-mac-updating', '--rx-mode', 'interrupt'])
        self.pass_traffic_and_stop(app, 'net_af_packet on veth, interrupt mode')
        self.assertIn('(net_af_packet, interrupt)', open(app.out_path).read())
        summary = app.summary()
        self.assertGreater(summary['lcores'][FWD_LCORE]['interrupts'], 0,
                           f'no wake-up came from the queue sockets\n{app.report()}')

    def test_l2fwd_tap_interrupt_mode_passes_kernel_traffic(self):
        taps = [f'{NAME_BASE}t{i}' for i in (0, 1)]
        app = self.start([f'net_tap{i},iface={tap}' for i, tap in enumerate(taps)],
                         [*TWO_PORTS, '--no-mac-updating', '--rx-mode', 'interrupt'])
        # The PMD makes each tap in the root namespace and sets it up when
        # its port starts; from then on it only uses the tap's fd, which
        # keeps working once the interface has moved.
        for tap, ns, addr in zip(taps, self.ns, (ADDR1, ADDR2)):
            self.wait_for(app, lambda tap=tap: 'UP' in link_flags(tap), f'{tap} up')
            self.place(tap, ns, addr)
        self.pass_traffic_and_stop(app, 'net_tap, interrupt mode')


def main():
    global BIN
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} BH_L2FWD_BINARY [unittest options]')
    BIN = os.path.abspath(sys.argv[1])
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[2:]])


if __name__ == '__main__':
    main()
