#!/usr/bin/env python3
"""More than one queue per port: 1 against 2 forwarding lcores, bh-l2fwd and testpmd.

Usage: mq_scaling.py BH_L2FWD [--testpmd PATH] [--rounds N] [--seconds S] [--json FILE]

net_null ports make 64-byte frames on every Rx queue and free what is sent
on every Tx queue, so each lcore's queues are fed without a generator
(bench/throughput's bh-pktgen sends on queue 0 of each port only). Three
configurations on the same two ports, with MAC rewriting, run in rounds
that alternate their order:

  1 lcore,  1 queue per port:  bh-l2fwd -l 1   -- -p 0x3 -q 2
  1 lcore,  2 queues per port: bh-l2fwd -l 1   -- -p 0x3 --rx-queues (0,0,1),(0,1,1),(1,0,1),(1,1,1)
  2 lcores, 2 queues per port: bh-l2fwd -l 0-1 -- -p 0x3 --rx-queues (0,0,0),(0,1,1),(1,0,0),(1,1,1)

and, with --testpmd, DPDK's testpmd in mac forwarding mode (it rewrites
both addresses) on the same ports, queues and CPUs (--nb-cores 1 or 2,
--rxq/--txq 1 or 2; its main lcore, which only prints, shares the CPU of
the first forwarding lcore).

The rate of a run is the median of its one-second reports but the first
(the packets both ports sent); printed per configuration: the median over
the rounds, the spread (lowest and highest run), the ratio of medians to
the program's first configuration, and the CPUs the process's threads had
over the measured seconds (schedstat run time over wall time: 1 or 2 when
nothing else ran on their CPUs) with the rate per CPU they had. Beside
each run: the share of CPU time the hypervisor stole and the load average,
from /proc, since on a 2-vCPU machine the second lcore takes the CPU
everything else runs on.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

NULL_PORTS = ['--vdev', 'net_null0', '--vdev', 'net_null1']
BH_CONFIGS = [
    ('1 lcore, 1 queue/port', ['-l', '1'], ['-q', '2']),
    ('1 lcore, 2 queues/port', ['-l', '1'], ['--rx-queues', '(0,0,1),(0,1,1),(1,0,1),(1,1,1)']),
    ('2 lcores, 2 queues/port', ['-l', '0-1'], ['--rx-queues', '(0,0,0),(0,1,1),(1,0,0),(1,1,1)']),
]
# (name, forwarding lcores, queues per port, --lcores): lcore 0 is testpmd's main lcore.
TESTPMD_CONFIGS = [
    ('1 lcore, 1 queue/port', 1, 1, '0@1,1@1'),
    ('1 lcore, 2 queues/port', 1, 2, '0@1,1@1'),
    ('2 lcores, 2 queues/port', 2, 2, '0@0,1@0,2@1'),
]
TESTPMD_PREFIX = f'mqtp{os.getpid()}'
BH_REPORT = re.compile(r'Port statistics =+\n(.*?)Aggregate statistics', re.S)
BH_SENT = re.compile(r'^Packets sent:\s+\d+\s+\(([\d.]+) Mpps\)', re.M)
TESTPMD_TX_PPS = re.compile(r'Tx-pps:\s+(\d+)')


def cpu_times():
    """(total, steal) jiffies of all CPUs, from /proc/stat."""
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields[:8]), fields[7]


def run_ns(pid):
    """Nanoseconds the threads of @pid have run, from their schedstat."""
    total = 0
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/schedstat') as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return total


def bh_rates(text):
    """Mpps of each bh-l2fwd report; the last, printed after the run, averages all of it."""
    return [sum(float(m) for m in BH_SENT.findall(r)) for r in BH_REPORT.findall(text)][:-1]


def testpmd_rates(text):
    """Mpps of each testpmd stats period: its two ports' Tx-pps lines, in pairs."""
    pps = [int(m) for m in TESTPMD_TX_PPS.findall(text)]
    return [(pps[i] + pps[i + 1]) / 1e6 for i in range(0, len(pps) - 1, 2)]


def run(cmd, seconds, rates):
    """One run of @cmd, ended by SIGINT: Mpps (median of its reports but the
    first), the CPUs its threads had over the measured seconds, the share
    the hypervisor stole, the load average."""
    with tempfile.TemporaryFile('w+') as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)  # start-up and the first report
        total0, steal0 = cpu_times()
        ran0, t0 = run_ns(proc.pid), time.monotonic()
        time.sleep(seconds)
        ran1, t1 = run_ns(proc.pid), time.monotonic()
        total1, steal1 = cpu_times()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=60)
        out.seek(0)
        text = out.read()
    reports = rates(text)[1:]
    if rc or not reports:
        sys.exit(f'{" ".join(cmd)}: exit {rc}, {len(reports)} reports\n{text[-3000:]}')
    with open('/proc/loadavg') as f:
        load = float(f.read().split()[0])
    return (statistics.median(reports), (ran1 - ran0) / 1e9 / (t1 - t0),
            100.0 * (steal1 - steal0) / max(total1 - total0, 1), load)


def configurations(a):
    """(program, configuration, command, report parser) of every run in a round."""
    runs = [('bh-l2fwd', name, [os.path.abspath(a.binary), *eal, *NULL_PORTS, '--', '-p', '0x3', *args, '-T', '1'],
             bh_rates) for name, eal, args in BH_CONFIGS]
    if a.testpmd:
        runs += [('testpmd', name, [a.testpmd, '--lcores', lcores, '--no-huge', '-m', '512', '--no-pci',
                                    '--file-prefix', TESTPMD_PREFIX, '--log-level', 'lib.eal:warning',
                                    *NULL_PORTS, '--', f'--nb-cores={cores}', f'--rxq={queues}', f'--txq={queues}',
                                    '--forward-mode=mac', '--stats-period', '1', '--total-num-mbufs=16384'],
                  testpmd_rates)
                 for name, cores, queues, lcores in TESTPMD_CONFIGS]
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('binary', help='bh-l2fwd')
    parser.add_argument('--testpmd', help='dpdk-testpmd, to run beside bh-l2fwd')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--seconds', type=int, default=5)
    parser.add_argument('--json')
    a = parser.parse_args()
    runs = configurations(a)
    results = {(prog, name): [] for prog, name, _, _ in runs}
    for r in range(a.rounds):
        for prog, name, cmd, rates in (runs if r % 2 == 0 else runs[::-1]):
            try:
                mpps, cpus, steal, load = run(cmd, a.seconds, rates)
            finally:
                shutil.rmtree(f'/var/run/dpdk/{TESTPMD_PREFIX}', ignore_errors=True)  # testpmd's runtime directory
            results[(prog, name)].append({'mpps': mpps, 'cpus': cpus, 'steal_pct': steal, 'loadavg': load})
            print(f'round {r + 1} {prog:8} {name:24} {mpps:7.2f} Mpps  {cpus:.2f} CPUs  steal {steal:4.1f}%  '
                  f'load {load:.2f}', flush=True)
    print(f'\n{"program":8} {"configuration":24} {"median":>7} {"lowest":>7} {"highest":>7} {"ratio":>6} '
          f'{"CPUs":>5} {"Mpps/CPU":>8}')
    for prog, name in results:
        base = statistics.median(x['mpps'] for x in next(v for (p, _), v in results.items() if p == prog))
        got = results[(prog, name)]
        rates = [x['mpps'] for x in got]
        print(f'{prog:8} {name:24} {statistics.median(rates):7.2f} {min(rates):7.2f} {max(rates):7.2f} '
              f'{statistics.median(rates) / base:6.2f} {statistics.median(x["cpus"] for x in got):5.2f} '
              f'{statistics.median(x["mpps"] / x["cpus"] for x in got):8.2f}')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({f'{p}: {n}': v for (p, n), v in results.items()}, f, indent=1)


if __name__ == '__main__':
    main()
