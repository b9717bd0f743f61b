#!/usr/bin/env python3
"""The throughput harness's trust in its figures (bench/throughput/run.py):
runs rejected when the forwarding CPU was disturbed (disturbance.py, on
made-up /proc files), and the null scenario's instructions per packet
(callgrind.py: the parser on recorded callgrind output, and a small real
run of bh-l2fwd, DPDK's l2fwd and testpmd io under valgrind).

Usage: test_throughput_harness.py BUILD_DIR [unittest options, such as a class name]

BUILD_DIR is the meson build tree the real run takes its programs from (it
builds DPDK's l2fwd example there too, once); the other cases do not use it.
The real run needs root and valgrind (devtools/setup.sh installs it).

Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, os.pardir, 'common'))
import gtest_xml  # noqa: E402

HARNESS = os.path.join(HERE, os.pardir, os.pardir, 'bench', 'throughput')
sys.path.insert(0, HARNESS)
import run  # noqa: E402
import callgrind  # noqa: E402
import disturbance  # noqa: E402

DATA = os.path.join(HERE, 'data')
BUILD = None  # from the command line
SUITE = 'throughput_harness'
HZ = 100  # USER_HZ of the made-up /proc/stat
FWD_PID = 4242


def proc_tree(root, stat, threads):
    """Writes a /proc under @root: /proc/stat with CPU 1's columns @stat
    (user nice system idle iowait irq softirq steal), and process FWD_PID's
    @threads, each (allowed CPUs, run ns, wait ns)."""
    other = '500 0 200 9000 10 0 5 0 0 0'
    with open(os.path.join(root, 'stat'), 'w') as f:
        f.write(f'cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 {other}\ncpu1 {" ".join(map(str, stat))} 0 0\nintr 1 2 3\n')
    for tid, (cpus, run_ns, wait_ns) in enumerate(threads, FWD_PID):
        task = os.path.join(root, str(FWD_PID), 'task', str(tid))
        os.makedirs(task, exist_ok=True)
        with open(os.path.join(task, 'status'), 'w') as f:
            f.write(f'Name:\tlcore-worker-1\nCpus_allowed:\t2\nCpus_allowed_list:\t{cpus}\n')
        with open(os.path.join(task, 'schedstat'), 'w') as f:
            f.write(f'{run_ns} {wait_ns} 17\n')


class Disturbance(unittest.TestCase):
    """A window of 2 s on CPU 1, between two snapshots of a made-up /proc."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix='bhproc-')
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)

    def window(self, stat0, stat1, threads0, threads1, seconds=2.0):
        proc_tree(self.root, stat0, threads0)
        s0 = disturbance.snapshot(FWD_PID, 1, 100.0, self.root)
        shutil.rmtree(os.path.join(self.root, str(FWD_PID)))
        proc_tree(self.root, stat1, threads1)
        s1 = disturbance.snapshot(FWD_PID, 1, 100.0 + seconds, self.root)
        return disturbance.shares(s0, s1, user_hz=HZ)

    def spinning(self, steal=0, wait_ms=0, run_share=1.0, other_busy=0):
        """A forwarder whose lcore ran @run_share of the window, waited
        @wait_ms, with @steal and @other_busy ticks of CPU 1 beside it."""
        busy = round(run_share * 2 * HZ) + other_busy
        return self.window([1000, 0, 100, 5000, 0, 0, 10, 7], [1000 + busy, 0, 100, 5000, 0, 0, 10, 7 + steal],
                           [('1', 10**9, 10**6), ('0-1', 5 * 10**9, 0), ('0', 3 * 10**9, 0)],
                           [('1', 10**9 + int(run_share * 2e9), 10**6 + wait_ms * 10**6),
                            ('0-1', 9 * 10**9, 10**9), ('0', 4 * 10**9, 10**9)])

    def test_snapshot_counts_only_the_threads_pinned_to_the_cpu(self):
        proc_tree(self.root, [1, 2, 3, 4, 5, 6, 7, 8], [('1', 10, 1), ('1', 20, 2), ('0-1', 400, 40), ('0', 800, 80)])
        s = disturbance.snapshot(FWD_PID, 1, 5.0, self.root)
        self.assertEqual((s['run_ns'], s['wait_ns'], s['t']), (30, 3, 5.0))
        self.assertEqual(s['cpu'], dict(zip(disturbance.STAT_COLUMNS, [1, 2, 3, 4, 5, 6, 7, 8])))

    def test_snapshot_of_a_process_gone_counts_nothing(self):
        proc_tree(self.root, [1, 2, 3, 4, 5, 6, 7, 8], [])
        self.assertEqual(disturbance.snapshot(99999, 1, 0.0, self.root)['run_ns'], 0)

    def test_a_quiet_window_is_kept(self):
        shares = self.spinning()
        self.assertAlmostEqual(shares['run'], 1.0)
        self.assertEqual(disturbance.verdict(shares), [])

    def test_steal_above_its_limit_rejects_the_window(self):
        # 1 tick of 200 passes (0.5%), 4 ticks (2%) do not.
        self.assertEqual(disturbance.verdict(self.spinning(steal=1)), [])
        reasons = disturbance.verdict(self.spinning(steal=4))
        self.assertEqual(len(reasons), 1)
        self.assertRegex(reasons[0], r'^steal 2\.0% > 1%')

    def test_run_queue_wait_above_its_limit_rejects_the_window(self):
        self.assertEqual(disturbance.verdict(self.spinning(wait_ms=10)), [])  # 0.5%
        reasons = disturbance.verdict(self.spinning(wait_ms=100, run_share=0.95, other_busy=10))  # 5%
        self.assertTrue(any(r.startswith('wait 5.0%') for r in reasons), reasons)

    def test_other_busy_time_on_the_cpu_rejects_the_window_net_of_the_forwarders_own(self):
        # A forwarder that slept half the window while others ran 10% of it.
        shares = self.spinning(run_share=0.5, other_busy=20)
        self.assertAlmostEqual(shares['others'], 0.10)
        self.assertEqual(disturbance.verdict(shares), ['others 10.0% > 2%'])
        # The same busy ticks all its own: nothing else ran.
        self.assertAlmostEqual(self.spinning(run_share=0.6)['others'], 0.0)

    def test_shares_refuse_snapshots_out_of_order(self):
        proc_tree(self.root, [0] * 8, [('1', 0, 0)])
        s = disturbance.snapshot(FWD_PID, 1, 3.0, self.root)
        with self.assertRaises(ValueError):
            disturbance.shares(s, s, user_hz=HZ)

    def test_a_disturbed_run_is_repeated_until_one_is_not(self):
        outcomes = iter([{'wait': 0.3}, {'steal': 0.02}, {}])
        calls = []

        def attempt():
            d = {'steal': 0.0, 'wait': 0.0, 'others': 0.0, **next(outcomes)}
            calls.append(d)
            return {'mpps': len(calls), 'disturbance': {**d, 'reasons': disturbance.verdict(d)}}
        logged = []
        res = disturbance.until_undisturbed(attempt, 3, logged.append)
        self.assertEqual((res['mpps'], res['rejected'], len(calls)), (3, 2, 3))
        self.assertNotIn('kept_disturbed', res)
        self.assertEqual(len(logged), 2)
        self.assertIn('wait 30.0% > 1%', logged[0])

    def test_repeats_are_bounded_and_keep_the_least_disturbed(self):
        waits = iter([0.5, 0.05, 0.2])

        def attempt():
            d = {'steal': 0.0, 'wait': next(waits), 'others': 0.0}
            return {'mpps': d['wait'], 'disturbance': {**d, 'reasons': disturbance.verdict(d)}}
        res = disturbance.until_undisturbed(attempt, 2)
        self.assertEqual((res['mpps'], res['rejected'], res['kept_disturbed']), (0.05, 2, True))
        self.assertRaises(StopIteration, next, waits)


def result(mpps, rejected=0, disturbed=False, rtt=None):
    d = {'steal': 0.0, 'wait': 0.5 if disturbed else 0.0, 'others': 0.0, 'run': 1.0}
    r = {'mpps': mpps, 'cpu': 1.0, 'disturbance': {**d, 'reasons': disturbance.verdict(d)}, 'rejected': rejected}
    if disturbed:
        r['kept_disturbed'] = True
    if rtt:
        r['rtt_ns'] = rtt
    return r


class Probe(unittest.TestCase):

    def test_a_probe_that_does_not_end_makes_the_run_far_and_leaves_no_runtime_dir(self):
        tmp = tempfile.mkdtemp(prefix='bhprobe-')
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        hang = os.path.join(tmp, 'pktgen')
        with open(hang, 'w') as f:
            f.write('#!/bin/sh\n# what a hung probe leaves: its runtime directory\nmkdir -p /var/run/dpdk/"$4"\nexec sleep 30\n')
        os.chmod(hang, 0o755)
        bench = run.Bench(mock.Mock(out=tmp), {'pktgen': hang})
        self.addCleanup(shutil.rmtree, bench.tmp, ignore_errors=True)
        with mock.patch.object(run, 'RTT_TIMEOUT', 0.5):
            rtt = bench.probe_rtt()
        self.assertEqual(rtt, math.inf)
        self.assertFalse(run.near({'rtt_ns': [90.0, rtt]}), 'a run whose probe hung counted as near')
        prefix = f'bhtp-{os.getpid()}-rtt-{bench.count}'
        self.assertFalse(os.path.exists(f'/var/run/dpdk/{prefix}'), 'runtime directory left behind')


class Merge(unittest.TestCase):
    """--merge: the scenarios a run leaves out are kept from --out's results.json, each with its run's command."""

    def write(self, d, res):
        with open(os.path.join(d, 'results.json'), 'w') as f:
            json.dump(res, f)

    def test_scenarios_not_run_again_are_kept_with_their_date_and_command(self):
        with tempfile.TemporaryDirectory() as d:
            self.write(d, {'date': 'D1', 'machine': 'M', 'command': 'python3 bench/throughput/run.py --out x',
                           'args': {}, 'null': {'n': 1}, 'callgrind': {'c': 1}, 'load': {'old': 1}})
            res = {'load': {'new': 1}}
            run.merge(res, run.read_earlier(d, ['load']))
        self.assertEqual(res['load'], {'new': 1}, 'a scenario run again must not be overwritten')
        self.assertEqual((res['null'], res['callgrind']), ({'n': 1}, {'c': 1}))
        self.assertEqual(res['earlier'], [{'date': 'D1', 'machine': 'M', 'scenarios': ['null'],
                                           'command': 'python3 bench/throughput/run.py --out x'}])

    def test_a_chain_of_merges_keeps_each_scenarios_own_run(self):
        with tempfile.TemporaryDirectory() as d:
            self.write(d, {'date': 'D2', 'machine': 'M', 'command': 'cmd-load', 'args': {}, 'load': {},
                           'memif': {}, 'null': {},
                           'earlier': [{'date': 'D1', 'machine': 'M', 'command': 'cmd-all',
                                        'scenarios': ['null', 'memif']}]})
            earlier = run.read_earlier(d, ['memif'])
        self.assertEqual(earlier['runs'], [{'date': 'D1', 'machine': 'M', 'command': 'cmd-all', 'scenarios': ['null']},
                                           {'date': 'D2', 'machine': 'M', 'command': 'cmd-load',
                                            'scenarios': ['load']}])

    def test_a_results_file_without_a_command_gets_its_equivalent(self):
        with tempfile.TemporaryDirectory() as d:
            self.write(d, {'date': 'D1', 'machine': 'M', 'args': {'scenarios': 'null,idle', 'out': 'docs/x'},
                           'null': {}, 'idle': {}})
            earlier = run.read_earlier(d, ['load'])
        self.assertEqual(earlier['runs'][0]['command'],
                         'python3 bench/throughput/run.py --scenarios null,idle --out docs/x')
        self.assertEqual(earlier['runs'][0]['scenarios'], ['null', 'idle'])

    def test_nothing_to_merge_changes_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            res = {'null': {}}
            run.merge(res, run.read_earlier(d, ['null']))
        self.assertEqual(res, {'null': {}})


class Report(unittest.TestCase):
    def test_disturbed_runs_are_left_out_of_the_medians_and_counted(self):
        s = run.summarise([result(10.0, 1), result(30.0, 3, disturbed=True), result(12.0), result(11.0, 2)])
        self.assertEqual(s['mpps']['runs'], [10.0, 12.0, 11.0])
        self.assertEqual((s['rejected'], s['kept_disturbed'], s['disturbed_out']), (6, 1, 1))
        self.assertEqual(s['round_mpps'], [10.0, None, 12.0, 11.0])
        self.assertEqual(run.runs_text(s), '3 (+1 disturbed, 6 rejected)')

    def test_when_every_run_was_disturbed_they_count_and_the_table_says_so(self):
        s = run.summarise([result(10.0, 3, disturbed=True), result(12.0, 3, disturbed=True)])
        self.assertEqual(s['mpps']['median'], 11.0)
        self.assertEqual(run.runs_text(s), '2 (6 rejected, 2 disturbed counted)')

    def test_far_and_disturbed_runs_are_told_apart(self):
        s = run.summarise([result(10.0), result(4.0, rtt=[330, 90]), result(30.0, 1, disturbed=True)])
        self.assertEqual(run.runs_text(s), '1 (+1 far, +1 disturbed, 1 rejected)')

    def test_forwarders_are_compared_in_the_placement_all_of_them_had(self):
        near, far = [90, 90], [450, 460]
        one_near = [result(27.0, rtt=near), result(9.0, rtt=far), result(8.0, rtt=far)]
        all_far = [result(10.0, rtt=far), result(9.8, rtt=[90, 450])]
        self.assertEqual(run.common_placement([one_near, all_far]), 'far')
        s = run.summarise(one_near, placement='far')
        self.assertEqual(s['mpps']['runs'], [9.0, 8.0], 'a near run compared with far ones')
        self.assertEqual(s['round_mpps'], [None, 9.0, 8.0])
        self.assertEqual(run.runs_text(s), '2 (+1 near)')
        self.assertEqual(run.common_placement([one_near, [result(11.0, rtt=near)]]), 'near')
        self.assertEqual(run.runs_text(run.summarise(one_near)), '1 (+2 far)')
        self.assertEqual(run.common_placement([[result(11.0, rtt=near)], all_far]), 'any')
        self.assertEqual(run.summarise(all_far, placement='any')['mpps']['runs'], [10.0, 9.8])
        both = run.summarise_compared({'testpmd io': one_near, 'bh-l2fwd poll': all_far})
        self.assertEqual(both['testpmd io']['mpps']['runs'], [9.0, 8.0], 'testpmd io in the far runs bh-l2fwd poll had')
        self.assertEqual(both['bh-l2fwd poll']['mpps']['runs'], [10.0, 9.8])

    def test_the_overload_curve_is_of_one_placement_and_its_unloaded_point_of_any(self):
        near, far = [90, 90], [450, 460]

        def runs(*placed):
            return [{**result(mpps, rtt=rtt), 'app_task_per_s': app} for mpps, app, rtt in placed]
        points = run.overload_points({'unloaded': runs((0.0, 2000.0, None), (0.0, 1800.0, None)),
                                      1.0: runs((1.0, 1500.0, near), (0.5, 500.0, far)),
                                      2.0: runs((0.7, 300.0, far), (0.6, 100.0, far))},
                                     ('mpps', 'app_task_per_s'))
        self.assertEqual([p['rate_mpps'] for p in points], ['unloaded', 1.0, 2.0])
        self.assertEqual(points[1]['mpps']['runs'], [0.5], 'a near point on a far curve')
        self.assertEqual(run.runs_text(points[1]), '1 (+1 near)')
        self.assertEqual(points[2]['mpps']['runs'], [0.7, 0.6])
        self.assertEqual(run.runs_text(points[0]), '2', 'the unloaded point has no placement to leave out')
        self.assertEqual([round(p['app_share'], 3) for p in points], [1.0, round(500 / 1900, 3), round(200 / 1900, 3)])

    def test_a_summary_stored_before_placements_still_counts_its_far_runs(self):
        self.assertEqual(run.runs_text({'mpps': {'runs': [1.0, 2.0]}, 'far_runs': 2}), '2 (+2 far)')

    def test_ratios_of_medians_of_rounds_and_of_instructions(self):
        def summary(rounds, ipp):
            s = run.summarise([result(x) for x in rounds])
            s['callgrind'] = {'instructions_per_packet': ipp}
            return s
        null = {'bh-l2fwd poll': summary([40.0, 50.0, 45.0], 150.0), 'DPDK l2fwd': summary([50.0, 40.0, 45.0], 160.0),
                'testpmd io': summary([50.0, 50.0, 60.0], 125.0)}
        r = run.ratios(null)
        self.assertAlmostEqual(r['DPDK l2fwd']['mpps'], 1.0)
        self.assertEqual([round(x, 3) for x in r['DPDK l2fwd']['rounds']], [0.8, 1.25, 1.0])
        self.assertAlmostEqual(r['DPDK l2fwd']['instructions'], 150 / 160)
        self.assertAlmostEqual(r['testpmd io']['instructions'], 150 / 125)
        lines = run.ratio_lines(null)
        self.assertEqual(lines[0], "bh-l2fwd poll / DPDK l2fwd: 1.00x in Mpps (medians), the rounds' own ratios "
                                   "1.00 (0.80-1.25); 0.94x in instructions per packet")
        table = run.table(null)
        self.assertIn('| instructions/packet (callgrind) |', table)
        self.assertRegex(table, r'\| bh-l2fwd poll \| 3 \| 45\.00 \(40\.00-50\.00\) \| [^|]+ \| 150\.0 \| 1\.00 \| 0\.90 \|')


class Memory(unittest.TestCase):
    """Forwarders run without hugepages, as by default, except in the
    null-huge scenario, which gives every one the same hugepage memory."""

    PROGS = {'bh': 'bh-l2fwd', 'bridge': 'bh-bridge', 'l2fwd': 'l2fwd', 'testpmd': 'dpdk-testpmd'}
    HUGE = ['--huge-dir', '/mnt/huge', '--huge-unlink']

    def eal(self, argv):
        return argv[:argv.index('--')]

    def test_every_forwarder_runs_without_hugepages_unless_given_memory(self):
        for name, fwd in run.FORWARDERS.items():
            with self.subTest(forwarder=name):
                self.assertIn('--no-huge', self.eal(fwd.argv(self.PROGS, 'p', ['net_null0'], 1)))
                eal = self.eal(fwd.argv(self.PROGS, 'p', ['net_null0'], 1, memory=self.HUGE))
                self.assertNotIn('--no-huge', eal)
                self.assertEqual(eal[eal.index('--huge-dir'):][:3], self.HUGE)

    def test_testpmd_on_bigger_bursts_is_asked_for_by_name_only(self):
        fwd = run.FORWARDERS['testpmd io burst 64']
        self.assertIn('--burst=64', fwd.argv(self.PROGS, 'p', ['net_null0'], 1))
        self.assertNotIn('testpmd io burst 64', run.DEFAULT_FORWARDERS)
        self.assertIn('testpmd io', run.DEFAULT_FORWARDERS)

    def test_null_huge_gives_the_null_runs_hugepages_and_takes_them_back(self):
        bench = mock.Mock(memory=run.NO_HUGE)
        seen = []

        def null(b, a):
            seen.append(list(b.memory))
            raise RuntimeError('a failed run')
        with mock.patch.object(run, 'scenario_null', null), \
                mock.patch.object(run, 'hugetlbfs_mounts', lambda: ['/mnt/huge']):
            with self.assertRaises(RuntimeError):
                run.scenario_null_huge(bench, None)
        self.assertEqual(seen, [self.HUGE])
        self.assertEqual(bench.memory, run.NO_HUGE)


class CallgrindParse(unittest.TestCase):
    """Recorded outputs (2026-11-30, this machine): bh-l2fwd poll with
    --toggle-collect='bh::lcore_run()', 3 s, and testpmd io's forwarding
    thread (--separate-threads=yes), with what each program reported."""

    def test_bh_l2fwd_instructions_and_packets_match_its_json(self):
        instructions, pmd_calls = callgrind.parse(os.path.join(DATA, 'bh-l2fwd.callgrind'))
        with open(os.path.join(DATA, 'bh-l2fwd.callgrind')) as f:
            summary = int(re.search(r'^summary: (\d+)$', f.read(), re.M).group(1))
        with open(os.path.join(DATA, 'bh-l2fwd.json')) as f:
            rx = sum(p['rx'] for p in json.load(f)['ports'].values())
        self.assertEqual(instructions, summary)
        # net_null's Tx free, once per packet; the per-burst functions are called 32x less.
        self.assertEqual(pmd_calls, rx)
        self.assertAlmostEqual(instructions / rx, 150.1, delta=0.1)

    def test_testpmd_lcore_thread_matches_its_accumulated_tx(self):
        instructions, pmd_calls = callgrind.parse(os.path.join(DATA, 'testpmd-io-lcore.callgrind'))
        with open(os.path.join(DATA, 'testpmd-io.log')) as f:
            tx = int(callgrind.TESTPMD_TOTAL_TX.search(f.read()).group(1))
        self.assertEqual(pmd_calls, tx)
        self.assertAlmostEqual(instructions / tx, 124.8, delta=0.1)

    def test_calls_of_other_objects_do_not_count(self):
        # bh-l2fwd calls __tls_get_addr (ld.so) more often than net_null's per-packet function.
        _, in_ld_so = callgrind.parse(os.path.join(DATA, 'bh-l2fwd.callgrind'), 'ld-linux-x86-64')
        _, in_net_null = callgrind.parse(os.path.join(DATA, 'bh-l2fwd.callgrind'))
        self.assertGreater(in_ld_so, in_net_null)

    def test_an_unfinished_output_is_refused(self):
        with open(os.path.join(DATA, 'bh-l2fwd.callgrind')) as f:
            text = f.read()
        with tempfile.NamedTemporaryFile('w', suffix='.callgrind') as f:
            f.write(text[:text.index('summary:')])
            f.flush()
            with self.assertRaisesRegex(ValueError, 'no summary'):
                callgrind.parse(f.name)
            self.assertFalse(callgrind.complete(f.name))

    def test_without_valgrind_the_column_is_skipped_with_the_reason(self):
        with mock.patch('shutil.which', lambda tool: None if tool == 'valgrind' else f'/usr/bin/{tool}'):
            got = callgrind.measure(None, ['bh-l2fwd poll'], 1.0)
        self.assertEqual(set(got), {'skipped'})
        self.assertIn('valgrind is missing', got['skipped'])


class CallgrindRun(unittest.TestCase):
    """The harness's null scenario, one short round, with the column."""

    FORWARDERS = ('bh-l2fwd poll', 'DPDK l2fwd', 'testpmd io')

    def setUp(self):
        self.assertEqual(os.geteuid(), 0, 'DPDK programs: run as root')
        self.out = tempfile.mkdtemp(prefix='bhcg-')
        self.addCleanup(shutil.rmtree, self.out, ignore_errors=True)

    def harness(self, *args):
        """Runs the null scenario, one round of short windows, with @args;
        returns its stderr once it has exited 0 and left no DPDK runtime
        directory behind."""
        proc = subprocess.Popen([sys.executable, os.path.join(HARNESS, 'run.py'), '--build', BUILD, '--out', self.out,
                                 '--scenarios', 'null', '--rounds', '1', '--seconds', '1', '--warmup', '0.5',
                                 '--retries', '0', *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        _, err = proc.communicate(timeout=600)
        self.assertEqual(proc.returncode, 0, err[-3000:])
        if os.path.isdir('/var/run/dpdk'):
            self.assertEqual([d for d in os.listdir('/var/run/dpdk') if d.startswith(f'bhtp-{proc.pid}-')], [])
        return err

    def test_every_kind_of_forwarder_gets_instructions_per_packet(self):
        self.assertTrue(shutil.which('valgrind'), 'valgrind is missing: run devtools/setup.sh')
        err = self.harness('--forwarders', ','.join(self.FORWARDERS), '--callgrind-seconds', '1')
        with open(os.path.join(self.out, 'results.json')) as f:
            res = json.load(f)
        self.assertEqual(res['callgrind'], {'seconds': 1.0})
        for name in self.FORWARDERS:
            with self.subTest(forwarder=name):
                cg = res['null'][name]['callgrind']
                self.assertGreater(cg['packets'], 100000)  # a second under valgrind: a million or two
                # Every frame passes net_null's Tx once: the program's count and the PMD's agree.
                self.assertLess(cg['count_mismatch'], callgrind.COUNT_TOLERANCE)
                # net_null's own share is ~120 instructions; no forwarder doubles it.
                self.assertGreater(cg['instructions_per_packet'], 100)
                self.assertLess(cg['instructions_per_packet'], 250)
        self.assertLessEqual(res['null']['DPDK l2fwd']['callgrind']['last_reported'],
                             res['null']['DPDK l2fwd']['callgrind']['packets'])
        with open(os.path.join(self.out, 'README.md')) as f:
            readme = f.read()
        self.assertIn('instructions/packet (callgrind)', readme)
        self.assertRegex(readme, r'bh-l2fwd poll / DPDK l2fwd: [\d.]+x in Mpps .*; [\d.]+x in instructions per packet')
        self.assertRegex(readme, r'bh-l2fwd poll / testpmd io: [\d.]+x in Mpps')
        self.assertIn('bh-l2fwd poll / DPDK l2fwd', err)  # printed by the run too

    def test_no_callgrind_leaves_the_column_out_and_says_why(self):
        self.harness('--forwarders', 'bh-l2fwd poll', '--no-callgrind')
        with open(os.path.join(self.out, 'README.md')) as f:
            readme = f.read()
        self.assertNotIn('instructions/packet', readme)
        self.assertIn('not measured in this run (--no-callgrind)', readme)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} BUILD_DIR [unittest options]')
    BUILD = os.path.abspath(sys.argv[1])
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[2:]])
