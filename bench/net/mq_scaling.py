#!/usr/bin/env python3
"""bh-l2fwd over more than one queue per port: 1 against 2 forwarding lcores.

Usage: mq_scaling.py BH_L2FWD [--rounds N] [--seconds S] [--json FILE]

net_null ports make 64-byte frames on every Rx queue and free what is sent
on every Tx queue, so each lcore's queues are fed without a generator
(bench/throughput's bh-pktgen sends on queue 0 of each port only). Three
configurations, the same two ports, MAC updating on, run in rounds that
alternate their order:

  1 lcore,  1 queue per port:  -l 1   -- -p 0x3 -q 2
  1 lcore,  2 queues per port: -l 1   -- -p 0x3 --rx-queues (0,0,1),(0,1,1),(1,0,1),(1,1,1)
  2 lcores, 2 queues per port: -l 0-1 -- -p 0x3 --rx-queues (0,0,0),(0,1,1),(1,0,0),(1,1,1)

The rate of a run is the median of its one-second reports but the first
(the packets both ports sent); printed per configuration: the median over
the rounds, the spread (lowest and highest run), and the ratio of medians
to the first configuration. Beside each run: the share of CPU time the
hypervisor stole and the load average, from /proc, since on a 2-vCPU
machine the second lcore takes the CPU everything else runs on.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

CONFIGS = [
    ('1 lcore, 1 queue/port', ['-l', '1'], ['-q', '2']),
    ('1 lcore, 2 queues/port', ['-l', '1'], ['--rx-queues', '(0,0,1),(0,1,1),(1,0,1),(1,1,1)']),
    ('2 lcores, 2 queues/port', ['-l', '0-1'], ['--rx-queues', '(0,0,0),(0,1,1),(1,0,0),(1,1,1)']),
]
REPORT = re.compile(r'Port statistics =+\n(.*?)Aggregate statistics', re.S)
SENT = re.compile(r'^Packets sent:\s+\d+\s+\(([\d.]+) Mpps\)', re.M)


def cpu_times():
    """(total, steal) jiffies of all CPUs, from /proc/stat."""
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields[:8]), fields[7]


def run(binary, eal, args, seconds):
    """Mpps of one run (median of its reports but the first), steal share, load average."""
    cmd = [binary, *eal, '--vdev', 'net_null0', '--vdev', 'net_null1', '--', '-p', '0x3', *args, '-T', '1',
           '--duration', str(seconds + 1)]
    total0, steal0 = cpu_times()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    total1, steal1 = cpu_times()
    if out.returncode:
        sys.exit(f'{" ".join(cmd)}: exit {out.returncode}\n{out.stderr}')
    # The last report is printed after the run, with the averages over all of it.
    reports = [sum(float(m) for m in SENT.findall(r)) for r in REPORT.findall(out.stdout)][1:-1]
    if not reports:
        sys.exit(f'{" ".join(cmd)}: no statistics reports\n{out.stdout}')
    with open('/proc/loadavg') as f:
        load = float(f.read().split()[0])
    return statistics.median(reports), 100.0 * (steal1 - steal0) / max(total1 - total0, 1), load


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('binary')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--seconds', type=int, default=5)
    parser.add_argument('--json')
    a = parser.parse_args()
    results = {name: [] for name, _, _ in CONFIGS}
    for r in range(a.rounds):
        order = CONFIGS if r % 2 == 0 else CONFIGS[::-1]
        for name, eal, args in order:
            mpps, steal, load = run(os.path.abspath(a.binary), eal, args, a.seconds)
            results[name].append({'mpps': mpps, 'steal_pct': steal, 'loadavg': load})
            print(f'round {r + 1} {name:24} {mpps:7.2f} Mpps  steal {steal:4.1f}%  load {load:.2f}', flush=True)
    base = statistics.median(x['mpps'] for x in results[CONFIGS[0][0]])
    print(f'\n{"configuration":24} {"median":>8} {"lowest":>8} {"highest":>8} {"ratio":>6}')
    for name, _, _ in CONFIGS:
        rates = [x['mpps'] for x in results[name]]
        print(f'{name:24} {statistics.median(rates):8.2f} {min(rates):8.2f} {max(rates):8.2f} '
              f'{statistics.median(rates) / base:6.2f}')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
