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
import xml.etree.ElementTree as ET

import pcaptool
from pcaptool import ether_frame, mac

BIN = None  # the bh-l2fwd executable, from the command line

RUN_SECONDS = 2      # --duration of the runs that stop by themselves
RUN_TIMEOUT = 20     # for such a run: EAL start-up + duration + drain and exit
REFUSE_TIMEOUT = 10  # bad input must be refused within this
STOP_TIMEOUT = 10    # SIGTERM to exit
READY_TIMEOUT = 15   # start-up until traffic passes

SUITE = 'bh_l2fwd'
NAME_BASE = f'bhl2{os.getpid()}'  # unique per process: other test runs may be in parallel
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
        """Clean-up: ends the process if a failed test left it running."""
        if self.running():
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

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

    def run_to_end(self, vdevs, args, timeout=RUN_TIMEOUT):
        """Runs until bh-l2fwd stops by itself; it must exit 0."""
        app = self.start(vdevs, args)
        self.assert_exit_ok(app, app.wait(timeout))
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
        out, summary = self.forward(inputs, ['-p', '0x3', '--no-mac-updating'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 1), (1, 0)))
        for port in (0, 1):
            self.assert_port_counts(summary, port, FRAMES_PER_PORT, FRAMES_PER_PORT)
        self.assert_no_drops(summary)

    def test_l2fwd_rewrites_macs_with_mac_updating(self):
        inputs = [traffic(0), traffic(1)]
        out, summary = self.forward(inputs, ['-p', '0x3'])
        for rx, tx in ((0, 1), (1, 0)):
            self.assertTrue(out[tx], f'port {tx} sent nothing')
            # The JSON summary may name the port's MAC; otherwise the first
            # frame's source is taken, and every frame must agree with it.
            port_mac = summary['ports'][str(tx)].get('mac')
            tx_mac = mac(port_mac) if port_mac else out[tx][0][6:12]
            self.assertNotEqual(tx_mac, input_src(rx), f'port {tx}: source MAC not rewritten')
            self.assertFalse(tx_mac[0] & 1, f'port {tx}: source MAC {pcaptool.mac_str(tx_mac)} is multicast')
            self.assert_frames(out[tx], [rewrite_macs(f, tx, tx_mac) for f in inputs[rx]],
                               f'port {rx} -> port {tx} (tx MAC {pcaptool.mac_str(tx_mac)})')
        self.assert_no_drops(summary)

    def test_l2fwd_portmap_pairs_four_ports(self):
        inputs = [traffic(port) for port in range(4)]
        # Four Rx ports on the one worker lcore that -l 0-1 leaves.
        out, summary = self.forward(inputs, ['-p', '0xf', '-q', '4', '--portmap', '(0,3)(1,2)', '--no-mac-updating'])
        self.assert_forwarded_unchanged(out, inputs, ((0, 3), (3, 0), (1, 2), (2, 1)))
        self.assert_no_drops(summary)

    def test_l2fwd_drops_runt_and_oversize_frames(self):
        good = traffic(0, 40)
        # The limits themselves pass: a bare 14-byte header and a 1522-byte
        # frame (VLAN-tagged maximum with FCS room).
        good += [ether_frame(UNICAST, input_src(0), 14, b''), ether_frame(UNICAST, input_src(0), 1522, b'max;')]
        runts = [b'\x02', UNICAST + input_src(0) + b'\x88']  # 1 and 13 bytes
        oversize = [ether_frame(UNICAST, input_src(0), n, b'big;') for n in (1523, 1600, 2000)]
        mixed = good[:10] + runts[:1] + oversize[:1] + good[10:25] + oversize[1:] + runts[1:] + good[25:]
        out, summary = self.forward([mixed, []], ['-p', '0x3', '--no-mac-updating'])
        self.assert_frames(out[1], good, 'port 0 -> port 1')
        self.assertEqual(summary['drops']['runt'], len(runts), 'drops.runt')
        self.assertEqual(summary['drops']['oversize'], len(oversize), 'drops.oversize')
        self.assert_no_drops(summary, but=('runt', 'oversize'))


# ---------------------------------------------------------------- config file

VALID_CONFIG = """\
; what -p 0x3 -q 1 -T 0 --no-mac-updating --portmap "(0,1)" --rx-mode poll --duration 2 asks
[l2fwd]
portmask=0x3
queues=1
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
