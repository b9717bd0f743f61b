#!/usr/bin/env python3
"""The throughput harness's load scenario (bench/throughput/run.py
--scenarios load, bench/throughput/cpuload.py) in a tiny configuration: tap
ports, bh-l2fwd in interrupt mode, no traffic and 1 kpps, one round of
short windows, two latency probes.

Usage: test_load_scenario.py BUILD_DIR [unittest options]

BUILD_DIR is the meson build tree the harness takes its programs from (it
builds DPDK's l2fwd example there too, once). Needs root, iproute2,
iperf3, ping and gnuplot (devtools/setup.sh installs them).

Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

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
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, os.pardir, 'common'))
import gtest_xml  # noqa: E402

RUN = os.path.join(HERE, os.pardir, os.pardir, 'bench', 'throughput', 'run.py')
BUILD = None  # from the command line
SUITE = 'load_scenario'
FORWARDER = 'bh-l2fwd interrupt'
TINY = ['--scenarios', 'load', '--load-ports', 'tap', '--load-forwarders', FORWARDER, '--rounds', '1']
RUN_TIMEOUT = 600  # the first run builds DPDK's l2fwd example


def netns_names():
    return subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout


def link_names():
    return subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True, check=True).stdout


class LoadScenario(unittest.TestCase):

    def setUp(self):
        self.assertEqual(os.geteuid(), 0, 'the load scenario makes namespaces and taps: run as root')
        for tool in ('ip', 'iperf3', 'ping', 'gnuplot', 'ethtool', 'taskset'):
            self.assertTrue(shutil.which(tool), f'{tool} is missing: run devtools/setup.sh')
        self.out = tempfile.mkdtemp(prefix='bhload-')
        self.addCleanup(shutil.rmtree, self.out, ignore_errors=True)

    def harness(self, *args):
        proc = subprocess.Popen([sys.executable, RUN, '--build', BUILD, '--out', self.out, *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc

    def cpuload(self):
        """The harness's load module, imported for a test of its parts."""
        sys.path.insert(0, os.path.dirname(RUN))
        self.addCleanup(sys.path.remove, os.path.dirname(RUN))
        import cpuload
        return cpuload

    def assert_nothing_left(self, pid):
        """No namespace, interface or DPDK runtime directory named after harness process @pid."""
        tag = f'bhl{pid}'
        self.assertNotIn(tag, netns_names(), 'namespaces left behind')
        self.assertNotIn(tag, link_names(), 'interfaces left behind')
        if os.path.isdir('/var/run/dpdk'):
            self.assertEqual([d for d in os.listdir('/var/run/dpdk') if d.startswith(f'bhtp-{pid}-')], [])

    def test_load_scenario_reports_rate_loss_cpu_wakeups_and_latency(self):
        proc = self.harness(*TINY, '--load-rates', '0,1', '--seconds', '1.5', '--warmup', '0.5',
                            '--load-probes', '2')
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        self.assertEqual(proc.returncode, 0, f'harness failed\n{err[-3000:]}')
        with open(os.path.join(self.out, 'results.json')) as f:
            load = json.load(f)['load']
        tap = load['ports']['tap']
        self.assertEqual(tap['driver'], 'net_tap')
        fwd = tap['forwarders'][FORWARDER]
        points = {p['rate_kpps']: p for p in fwd['points']}
        self.assertEqual(sorted(points), [0, 1])

        idle, one = points[0], points[1]
        self.assertEqual(idle['received_kpps']['median'], 0)
        # /proc/stat counts in 10 ms units, read at other instants than the window's ends: a
        # CPU busy throughout may show a unit or two over 100% of the 1.5 s.
        for key, most in (('cpu', 100), ('lcore_cpu', 100), ('kernel_cpu', 200), ('fwd_cpu_busy', 102)):
            for rate, p in points.items():
                with self.subTest(rate=rate, key=key):
                    self.assertGreaterEqual(p[key]['median'], 0)
                    self.assertLessEqual(p[key]['median'], most)
        # Forwarding 1000 frames a second costs something, and interrupt mode must wake for them.
        self.assertGreater(one['cpu']['median'], 0)
        self.assertGreaterEqual(one['cpu']['median'], one['lcore_cpu']['median'])
        self.assertGreater(one['wakeups_per_s']['median'], 0)
        offered, received = one['offered_kpps']['median'], one['received_kpps']['median']
        self.assertAlmostEqual(offered, 1.0, delta=0.2, msg='iperf3 did not offer 1 kpps')
        self.assertAlmostEqual(received, offered, delta=0.2 * offered, msg='1 kpps not received')
        self.assertGreaterEqual(one['loss']['median'], 0)
        self.assertLess(one['loss']['median'], 20)

        lat = fwd['latency']
        self.assertEqual((lat['probes'], lat['lost']), (2, 0), lat)
        self.assertGreater(lat['p50_us'], 0)
        self.assertGreaterEqual(lat['p99_us'], lat['p50_us'])

        with open(os.path.join(self.out, 'README.md')) as f:
            readme = f.read()
        self.assertIn('## CPU versus offered load', readme)
        self.assertRegex(readme, rf'\| {re.escape(FORWARDER)} \| 1 \| ')
        with open(os.path.join(self.out, 'cpu-load-tap.png'), 'rb') as f:
            self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
        self.assert_nothing_left(proc.pid)

    def test_load_scenario_cleans_up_when_interrupted(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name):
                proc = self.harness(*TINY, '--load-rates', '1', '--seconds', '30')
                tap_in_ns = ['ip', '-n', f'bhl{proc.pid}a', 'link', 'show', f'bhl{proc.pid}t0']
                deadline = time.monotonic() + RUN_TIMEOUT
                while subprocess.run(tap_in_ns, capture_output=True).returncode != 0:
                    if proc.poll() is not None:
                        self.fail(f'harness exited early ({proc.returncode})\n{proc.stderr.read()[-3000:]}')
                    self.assertLess(time.monotonic(), deadline, 'the tap never reached its namespace')
                    time.sleep(0.1)
                proc.send_signal(sig)
                _, err = proc.communicate(timeout=60)
                self.assertNotEqual(proc.returncode, 0, err[-3000:])
                self.assert_nothing_left(proc.pid)

    def test_load_scenario_measures_a_point_again_when_iperf3_hangs(self):
        cpuload = self.cpuload()
        self.addCleanup(setattr, cpuload, 'IPERF_TIMEOUT', cpuload.IPERF_TIMEOUT)
        cpuload.IPERF_TIMEOUT = 0.1
        calls = []

        def hang():
            """What an iperf3 that never ends does to a measurement (one at the unpaced rate once did)."""
            calls.append(1)
            proc = subprocess.Popen(['sleep', '30'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(lambda: (proc.kill(), proc.wait(), proc.stdout.close(), proc.stderr.close()))
            cpuload.iperf_json(proc, 'iperf3 client', os.devnull)

        def hang_once():
            if not calls:
                hang()
            return {'cpu': 1.0}
        self.assertEqual(cpuload.measured_again_if_hung(hang_once, 'test', os.devnull), {'cpu': 1.0})
        self.assertEqual(len(calls), 1)
        calls.clear()
        self.assertIsNone(cpuload.measured_again_if_hung(hang, 'test', os.devnull))
        self.assertEqual(len(calls), cpuload.POINT_ATTEMPTS)

    def test_load_scenario_reports_a_point_that_hung_and_goes_on(self):
        """A point whose iperf3 hung every time is reported, not fatal; a
        forwarder that passes no ping after it is not measured further."""
        cpuload = self.cpuload()
        point, go_on = cpuload.failed_point(cpuload.MAX, True)
        self.assertTrue(go_on)
        self.assertIn('hung', point['failed'])
        point, go_on = cpuload.failed_point(cpuload.MAX, False)
        self.assertFalse(go_on)
        self.assertIn('stopped forwarding', point['failed'])
        good = {'offered_kpps': 20.0, 'received_kpps': 20.0, 'loss': 0.0, 'socket_drops': 0, 'link_drops': 0,
                'cpu': 18.0, 'kernel_cpu': 1.0, 'traffic_cpu': 30.0, 'fwd_cpu_busy': 19.0}
        load = {'date': 'now', 'command': 'run.py', 'ports': {'af_xdp': {'driver': 'net_af_xdp', 'forwarders': {
                    'bh-l2fwd interrupt': {'args': [], 'latency': None, 'points': [
                        cpuload.summarise_point(20.0, [good, good]),
                        cpuload.summarise_point(cpuload.MAX, [good, point])]}}}},
                'settings': {'rates_kpps': [20.0, cpuload.MAX], 'rounds': 2, 'seconds': 2.0, 'warmup': 0.5,
                             'probes': 0, 'pacing_us': 100, 'payload': 64, 'bh_args': []}}
        text = '\n'.join(cpuload.report(load))
        self.assertIn('bh-l2fwd interrupt at limit kpps, 1 of 2 rounds: iperf3 hung', text)
        self.assertEqual(load['ports']['af_xdp']['forwarders']['bh-l2fwd interrupt']['points'][1]['cpu']['runs'],
                         [18.0], 'the failed round counted in the median')
        cpuload.plot(load, self.out)
        self.assertTrue(os.path.exists(os.path.join(self.out, 'cpu-load-af_xdp.png')))

    def test_load_scenario_refuses_bad_options_in_one_line(self):
        for args, named in ((['--load-ports', 'tap,vhost'], 'vhost'), (['--load-rates', '1,fast'], 'fast'),
                            (['--load-forwarders', 'bh-l2fwd turbo'], 'turbo'), (['--load-rates', '-5'], '-5')):
            with self.subTest(args=args):
                proc = self.harness('--scenarios', 'load', *args)
                out, err = proc.communicate(timeout=60)
                self.assertNotEqual(proc.returncode, 0)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(named, err)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} BUILD_DIR [unittest options]')
    BUILD = os.path.abspath(sys.argv[1])
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[2:]])
