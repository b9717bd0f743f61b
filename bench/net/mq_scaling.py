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
  2 lcores, own ports:         bh-l2fwd -l 0-1 -- -p 0xf -q 2 on four ports, one
                               queue each: lcore 0 forwards ports 0 and 1,
                               lcore 1 ports 2 and 3
  2 processes, 1 lcore each:   bh-l2fwd -l 0 ... beside bh-l2fwd -l 1 ..., each
                               with its own two ports and one queue per port

The last is the machine's own ceiling for two forwarding CPUs: the two
processes share no memory, no queue and no counter, so what they lose
against twice one lcore is lost below any program (the host, the second
vCPU, CPU 0's other tenants). The one before it is one process whose two
lcores share the framework, the mempool and the PMD's code but no queue of
a port: against two queues of the same ports it shows what sharing a
port's queues costs (net_null keeps its queues in one array, 40 bytes
each, and adds to their counters with a locked instruction per burst, so
queue 1's fields share a cache line with queue 0's counters).

and, with --testpmd, DPDK's testpmd in mac forwarding mode (it rewrites
both addresses) on the same ports, queues and CPUs (--nb-cores 1 or 2,
--rxq/--txq 1 or 2; its main lcore, which only prints, shares the CPU of
the first forwarding lcore; two processes each have their own runtime
directory).

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
FOUR_NULL_PORTS = [*NULL_PORTS, '--vdev', 'net_null2', '--vdev', 'net_null3']
BH_CONFIGS = [
    ('1 lcore, 1 queue/port', ['-l', '1'], ['-q', '2']),
    ('1 lcore, 2 queues/port', ['-l', '1'], ['--rx-queues', '(0,0,1),(0,1,1),(1,0,1),(1,1,1)']),
    ('2 lcores, 2 queues/port', ['-l', '0-1'], ['--rx-queues', '(0,0,0),(0,1,1),(1,0,0),(1,1,1)']),
]
OWN_PORTS = '2 lcores, own ports'
TWO_PROCESSES = '2 processes, 1 lcore each'
# (name, forwarding lcores, queues per port, --lcores): lcore 0 is testpmd's main lcore.
TESTPMD_CONFIGS = [
    ('1 lcore, 1 queue/port', 1, 1, '0@1,1@1'),
    ('1 lcore, 2 queues/port', 1, 2, '0@1,1@1'),
    ('2 lcores, 2 queues/port', 2, 2, '0@0,1@0,2@1'),
]
TESTPMD_PREFIXES = [f'mqtp{os.getpid()}', f'mqtp{os.getpid()}b']
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


def testpmd_rates(text, ports=2):
    """Mpps of each testpmd stats period: the sum of its @ports ports' Tx-pps lines."""
    pps = [int(m) for m in TESTPMD_TX_PPS.findall(text)]
    return [sum(pps[i:i + ports]) / 1e6 for i in range(0, len(pps) - ports + 1, ports)]


def run(cmds, seconds, rates):
    """One run of @cmds, all at once, each ended by SIGINT: Mpps (the sum of
    each one's median of its reports but the first), the CPUs their threads
    had over the measured seconds, the share the hypervisor stole, the load
    average."""
    outs = [tempfile.TemporaryFile('w+') for _ in cmds]
    procs = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True)
             for cmd, out in zip(cmds, outs)]
    try:
        time.sleep(1.5)  # start-up and the first report
        total0, steal0 = cpu_times()
        ran0, t0 = sum(run_ns(p.pid) for p in procs), time.monotonic()
        time.sleep(seconds)
        ran1, t1 = sum(run_ns(p.pid) for p in procs), time.monotonic()
        total1, steal1 = cpu_times()
        time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        rcs = [p.wait(timeout=60) for p in procs]
    mpps = 0.0
    for cmd, out, rc in zip(cmds, outs, rcs):
        out.seek(0)
        text = out.read()
        out.close()
        reports = rates(text)[1:]
        if rc or not reports:
            sys.exit(f'{" ".join(cmd)}: exit {rc}, {len(reports)} reports\n{text[-3000:]}')
        mpps += statistics.median(reports)
    with open('/proc/loadavg') as f:
        load = float(f.read().split()[0])
    return mpps, (ran1 - ran0) / 1e9 / (t1 - t0), 100.0 * (steal1 - steal0) / max(total1 - total0, 1), load


def configurations(a):
    """(program, configuration, commands run at once, report parser) of every run in a round."""
    def bh(eal, args, ports=NULL_PORTS, mask='0x3'):
        return [os.path.abspath(a.binary), *eal, *ports, '--', '-p', mask, *args, '-T', '1']

    def testpmd(cores, queues, lcores, prefix=TESTPMD_PREFIXES[0], ports=NULL_PORTS):
        return [a.testpmd, '--lcores', lcores, '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix,
                '--log-level', 'lib.eal:warning', *ports, '--', f'--nb-cores={cores}', f'--rxq={queues}',
                f'--txq={queues}', '--forward-mode=mac', '--stats-period', '1', '--total-num-mbufs=16384']

    runs = [('bh-l2fwd', name, [bh(eal, args)], bh_rates) for name, eal, args in BH_CONFIGS]
    runs.append(('bh-l2fwd', OWN_PORTS, [bh(['-l', '0-1'], ['-q', '2'], FOUR_NULL_PORTS, '0xf')], bh_rates))
    runs.append(('bh-l2fwd', TWO_PROCESSES, [bh(['-l', str(cpu)], ['-q', '2']) for cpu in (0, 1)], bh_rates))
    if a.testpmd:
        runs += [('testpmd', name, [testpmd(cores, queues, lcores)], testpmd_rates)
                 for name, cores, queues, lcores in TESTPMD_CONFIGS]
        runs.append(('testpmd', OWN_PORTS, [testpmd(2, 1, '0@0,1@0,2@1', ports=FOUR_NULL_PORTS)],
                     lambda text: testpmd_rates(text, 4)))
        runs.append(('testpmd', TWO_PROCESSES,
                     [testpmd(1, 1, f'0@{cpu},1@{cpu}', prefix) for cpu, prefix in zip((0, 1), TESTPMD_PREFIXES)],
                     testpmd_rates))
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
        for prog, name, cmds, rates in (runs if r % 2 == 0 else runs[::-1]):
            try:
                mpps, cpus, steal, load = run(cmds, a.seconds, rates)
            finally:
                for prefix in TESTPMD_PREFIXES:  # testpmd's runtime directories
                    shutil.rmtree(f'/var/run/dpdk/{prefix}', ignore_errors=True)
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
