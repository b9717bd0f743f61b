#!/usr/bin/env python3
"""Throughput harness: bh-l2fwd against DPDK's own l2fwd and testpmd.

Every forwarder runs on the same lcore (1, pinned to CPU 1) and the same
virtual ports, one after the other, in rounds that alternate the order:

  null      net_null pairs: the ports make and take frames themselves, so
            this is the forwarder's own cost per packet;
  null-huge the same with every forwarder's memory in 2 MB hugepages
            (reserved for the run and given back), where every mbuf pool
            is laid out alike: without them bh-l2fwd's pool packs mbufs
            and DPDK's puts one to a page;
  memif     memif pairs fed by bh-pktgen on the other CPU (as fast as it
            can), which also takes the frames back;
  idle      no traffic (net_ring pairs, and tap ports for Rx interrupts):
            the forwarding lcore's CPU use over at least 5 s;
  overload  bh-l2fwd (poll, with an application task on its lcore) fed by
            bh-pktgen at rates from below its capacity to far past it;
  load      (not in the default set) CPU, wake-ups, loss and first-packet
            latency of bh-l2fwd's Rx modes, DPDK's l2fwd and the Linux
            bridge at offered UDP loads from 0 to the limit, between two
            namespaces on tap or veth ports: see cpuload.py.

The rate of a forwarder is read from its own periodic statistics (each
prints cumulative Tx counts every second): the packets sent between the
first report after the warm-up and the last, over the time between them.
The CPU use over the same span is the run time of the forwarder's threads
pinned to the forwarding CPU (the lcore, and bh-l2fwd's ksoftirqd for it),
from /proc/<pid>/task/<tid>/schedstat; cycles per packet are that time at
the TSC rate over the packets. A run whose forwarding CPU was disturbed over
that span (steal time, other threads running there) is rejected and run
again, at most --retries times: see disturbance.py. The null scenario also
counts each forwarder's instructions per packet under callgrind, once (see
callgrind.py), and every null and memif run prints bh-l2fwd poll's ratios
to DPDK's l2fwd and testpmd io.

Writes results.json, README.md (the tables, with the date, the machine and
this command line), overload.dat and overload.png (gnuplot) to --out, and
for the load scenario cpu-load-<port>.dat and .png.
"""

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.append(os.path.join(ROOT, 'devtools'))
from dpdk_example import build_example  # noqa: E402
import disturbance  # noqa: E402
# cpuload uses this module's helpers as module "run": one copy of it also when it runs as a script.
sys.modules.setdefault('run', sys.modules[__name__])
import callgrind  # noqa: E402
import cpuload  # noqa: E402
FWD_LCORE = 1  # the forwarding lcore (and CPU) of every forwarder
GEN_MEMORY_MB = 256  # bh-pktgen's hugepage memory
HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
# Cache-line round trips above this mean the host placed the two vCPUs far
# apart (no shared cache) for at least part of a run: ~90 ns here when near,
# ~330 ns when far. Runs through memif are classed by it.
NEAR_RTT_NS = 150
RTT_TIMEOUT = 60  # s: the probe takes well under 1 s
SEP = '=' * 60
# Alternating rounds of the null, null-huge and memif scenarios by default: with 9 runs
# the distribution-free 96% confidence interval of the median runs from the
# second smallest to the second largest, so one outlier on either side
# cannot move it; with 5 only the whole range covers 94%. 9 rounds of seven
# forwarders take about 7 min (null) and 9 min (memif).
ROUNDS = 9
OTHER_ROUNDS = 5  # overload (ten points), bridge, bridge-learn: their runs take longer


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def die(msg):
    sys.exit(f'bench/throughput/run.py: {msg}')


# ----------------------------------------------------------------- building

def build(build_dir):
    """Builds the project (bh-l2fwd, bh-pktgen) and DPDK's l2fwd example out
    of tree in @build_dir; returns the paths of the programs."""
    if not os.path.exists(os.path.join(build_dir, 'meson-private', 'coredata.dat')):
        subprocess.run(['meson', 'setup', build_dir, ROOT], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(['ninja', '-C', build_dir, '--quiet', 'apps/bh-l2fwd/bh-l2fwd', 'apps/bh-bridge/bh-bridge',
                    'bench/throughput/bh-pktgen'], check=True)
    try:
        l2fwd = build_example('l2fwd', os.path.join(build_dir, 'bench', 'throughput', 'dpdk-l2fwd'))
    except RuntimeError as e:
        die(str(e))
    testpmd = shutil.which('dpdk-testpmd')
    if not testpmd:
        die('dpdk-testpmd is missing: install the dpdk package (devtools/setup.sh does)')
    return {
        'bh': os.path.join(build_dir, 'apps', 'bh-l2fwd', 'bh-l2fwd'),
        'bridge': os.path.join(build_dir, 'apps', 'bh-bridge', 'bh-bridge'),
        'pktgen': os.path.join(build_dir, 'bench', 'throughput', 'bh-pktgen'),
        'l2fwd': l2fwd,
        'testpmd': testpmd,
    }


# -------------------------------------------------------------- forwarders

COMMON_EAL = ['--no-pci', '--log-level', 'lib.eal:warning']
# Memory without hugepages, as every default run has it; in the null-huge
# scenario hugepages instead, unlinked at start so that a run leaves no file
# holding pages.
NO_HUGE = ['--no-huge']
HUGE_MEMORY_MB = 1100  # testpmd's -m 1024 and a margin, one forwarder at a time

# The cumulative counter lines each forwarder prints every second.
L2FWD_SENT = re.compile(r'Total packets sent:\s+(\d+)')
APP_RUNS = re.compile(r'App task on lcore \d+: (\d+) runs')
# A line each prints once its ports are started: a memif server then takes connections.
READY = {'bh': re.compile(r'bh-l2fwd: lcore \d+: Rx port'), 'bridge': re.compile(r'bh-bridge: lcore \d+: Rx port'),
         'l2fwd': re.compile(r'Checking link status'),
         'testpmd': re.compile(r'Checking link statuses')}
TESTPMD_TX = re.compile(r'TX-packets:\s+(\d+)\s+TX-errors')  # a port's block, not the forward totals


class Forwarder:
    """How to start one forwarder and read its counters."""

    def __init__(self, name, kind, extra=()):
        self.name, self.kind, self.extra = name, kind, list(extra)

    def argv(self, progs, prefix, vdevs, nports, period=1, more=(), memory=NO_HUGE):
        """The command line on @vdevs with counter reports every @period
        seconds (bh-l2fwd: 0 for none), the program's options @more and the
        EAL's memory options @memory."""
        mask = hex((1 << nports) - 1)
        vdev_args = [a for v in vdevs for a in ('--vdev', v)]
        if self.kind in ('bh', 'l2fwd'):
            # Both forward on their main lcore too: give them only the forwarding one.
            return [progs[self.kind], '-l', str(FWD_LCORE), '-m', '512', *memory, *COMMON_EAL,
                    '--file-prefix', prefix, *vdev_args, '--', '-p', mask, '-q', str(nports), '-T', str(period), *self.extra, *more]
        if self.kind == 'bridge':
            return [progs['bridge'], '-l', f'0,{FWD_LCORE}', '-m', '512', *memory, *COMMON_EAL, '--file-prefix', prefix,
                    *vdev_args, '--', '-p', mask, '-T', str(period), *self.extra, *more]
        return ['stdbuf', '-oL', progs['testpmd'], '-l', f'0,{FWD_LCORE}', '-m', '1024', *memory, *COMMON_EAL,
                '--file-prefix', prefix, *vdev_args, '--', '--nb-cores=1', '--stats-period', str(period),
                '--total-num-mbufs', '16384', '--no-lsc-interrupt', *self.extra, *more]


FORWARDERS = {
    'bh-l2fwd poll': Forwarder('bh-l2fwd poll', 'bh', ['--rx-mode', 'poll']),
    'bh-l2fwd adaptive': Forwarder('bh-l2fwd adaptive', 'bh', ['--rx-mode', 'adaptive']),
    # The other rule of adaptive mode, beside the default (docs/design.md compares them).
    'bh-l2fwd adaptive defer': Forwarder('bh-l2fwd adaptive defer', 'bh', ['--rx-mode', 'adaptive', '--rx-rule', 'defer']),
    # testpmd's io mode does not touch the frames: this is its like.
    'bh-l2fwd poll no-mac': Forwarder('bh-l2fwd poll no-mac', 'bh', ['--rx-mode', 'poll', '--no-mac-updating']),
    # ... and like it does not read the mbufs either: what the bottom halves themselves cost.
    'bh-l2fwd poll no-mac no-checks': Forwarder('bh-l2fwd poll no-mac no-checks', 'bh',
                                                ['--rx-mode', 'poll', '--no-mac-updating', '--no-frame-checks']),
    'DPDK l2fwd': Forwarder('DPDK l2fwd', 'l2fwd'),
    'testpmd mac': Forwarder('testpmd mac', 'testpmd', ['--forward-mode=mac']),
    'testpmd io': Forwarder('testpmd io', 'testpmd', ['--forward-mode=io']),
    # bh-l2fwd receives a poll's weight (64) in one call, testpmd 32 by default: this is testpmd on equal bursts.
    'testpmd io burst 64': Forwarder('testpmd io burst 64', 'testpmd', ['--forward-mode=io', '--burst=64']),
}
# Asked for by name only, not in the default set.
OPTIONAL_FORWARDERS = ('testpmd io burst 64',)
DEFAULT_FORWARDERS = [f for f in FORWARDERS if f not in OPTIONAL_FORWARDERS]


def task_stats(pid):
    """(/proc status text, run time in ns from schedstat) of each thread of
    @pid; a thread that exits meanwhile is left out."""
    return [(status, run_ns) for status, run_ns, _ in disturbance.threads(pid)]


allowed_cpus = disturbance.allowed_cpus


class Running:
    """A started forwarder: a reader thread records each counter report with
    the time it arrived and a snapshot of the forwarding CPU then
    (disturbance.snapshot: the forwarding threads' run and wait time, from
    /proc/<pid>/task/<tid>/schedstat, exact where the tick-sampled
    utime/stime miss the short wake-ups of a mostly sleeping lcore; the
    CPU's /proc/stat columns)."""

    def __init__(self, fwd, argv, nports, log_path):
        self.fwd, self.nports = fwd, nports
        self.samples = []  # (monotonic s, packets sent, snapshot, app task runs)
        self.log = open(log_path, 'w')
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        pending_tx, app_runs = [], None
        for line in self.proc.stdout:
            self.log.write(line)
            now = time.monotonic()
            if READY[self.fwd.kind].search(line):
                self.ready.set()
            if m := APP_RUNS.search(line):
                app_runs = int(m.group(1))
                if self.samples:
                    self.samples[-1] = (*self.samples[-1][:3], app_runs)
                continue
            if self.fwd.kind == 'testpmd':
                if m := TESTPMD_TX.search(line):
                    pending_tx.append(int(m.group(1)))
                if len(pending_tx) < self.nports:
                    continue
                sent, pending_tx = sum(pending_tx), []
            elif m := L2FWD_SENT.search(line):
                sent = int(m.group(1))
            else:
                continue
            self.samples.append((now, sent, disturbance.snapshot(self.proc.pid, FWD_LCORE, now), app_runs))

    def stop(self, timeout=20):
        """SIGINT, as an operator stops each of them; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.log.close()
        return self.proc.returncode

    def window(self, since):
        """Rate, CPU share, app task rate and what disturbed the forwarding
        CPU (disturbance.shares, with the reasons to reject the window)
        between the first report at or after monotonic time @since and the
        last report."""
        pts = [s for s in self.samples if s[0] >= since]
        if len(pts) < 2:
            return None
        (t0, n0, s0, a0), (t1, n1, s1, a1) = pts[0], pts[-1]
        dt = t1 - t0
        shares = disturbance.shares(s0, s1)
        out = {'seconds': dt, 'mpps': (n1 - n0) / dt / 1e6, 'cpu': shares['run'],
               'disturbance': {**shares, 'reasons': disturbance.verdict(shares)}}
        if a0 is not None and a1 is not None:
            out['app_task_per_s'] = (a1 - a0) / dt
        return out


def remove_runtime_dir(prefix):
    shutil.rmtree(f'/var/run/dpdk/{prefix}', ignore_errors=True)


class Bench:
    def __init__(self, args, progs):
        self.args, self.progs = args, progs
        self.tmp = tempfile.mkdtemp(prefix='bh-throughput-')
        self.logs = os.path.join(args.out, 'logs')
        shutil.rmtree(self.logs, ignore_errors=True)
        os.makedirs(self.logs)
        self.count = 0
        self.tsc_hz = tsc_hz()
        self.memory = NO_HUGE  # the forwarders' EAL memory options

    def prefix(self, what):
        self.count += 1
        return f'bhtp-{os.getpid()}-{what}-{self.count}'

    def log_path(self, what):
        return os.path.join(self.logs, f'{self.count:03d}-{what}.log')

    def run_forwarder(self, fwd, vdevs, nports, seconds, warmup, feed=None):
        """Runs @fwd for @warmup + @seconds on @vdevs (with @feed, a function
        starting and returning the generator, once the forwarder is up)."""
        rtt_before = self.probe_rtt() if feed else None
        prefix = self.prefix('fwd')
        run = Running(fwd, fwd.argv(self.progs, prefix, vdevs, nports, memory=self.memory), nports,
                      self.log_path(fwd.name.replace(' ', '-')))
        gen = None
        try:
            # The forwarder is the memif server: the generator connects once its ports are started.
            if feed:
                if not run.ready.wait(30):
                    die(f'{fwd.name}: ports not started in 30 s; see {run.log.name}')
                gen = feed()
            # The window starts after the first report past the warm-up.
            deadline = time.monotonic() + warmup + seconds + 30
            while not run.samples and time.monotonic() < deadline and run.proc.poll() is None:
                time.sleep(0.1)
            start = time.monotonic() + warmup
            time.sleep(warmup + seconds + 0.5)
            # testpmd's reports come every one to two seconds: wait for a second one.
            late = time.monotonic() + 5
            while run.window(start) is None and time.monotonic() < late and run.proc.poll() is None:
                time.sleep(0.1)
            result = run.window(start)
        finally:
            # The generator first: a zero-copy memif client whose server goes away may crash.
            gen_result = gen.stop() if gen else None
            rc = run.stop()
            remove_runtime_dir(prefix)
        if result is None:
            die(f'{fwd.name}: no statistics (exit {rc}); see {run.log.name}')
        if gen_result:
            result['generator'] = gen_result
        if feed:
            result['rtt_ns'] = [rtt_before, self.probe_rtt()]
        if result['mpps'] > 0:
            result['cycles_per_packet'] = result['cpu'] * self.tsc_hz / (result['mpps'] * 1e6)
        return result

    def undisturbed(self, attempt):
        """@attempt(), a run, until its window was not disturbed, at most
        1 + --retries times (disturbance.until_undisturbed)."""
        return disturbance.until_undisturbed(attempt, self.args.retries, log)

    def generator(self, clients, rate, what, macs=0):
        """bh-pktgen on CPU 0, the memif clients, until stopped. It is a
        zero-copy client (its mbufs are the shared buffers), so it copies
        nothing and the forwarder, which copies in and out, is the one at its
        limit; zero-copy needs its memory in hugepage files."""
        prefix = self.prefix('gen')
        json_path = os.path.join(self.tmp, f'{self.count:03d}-gen.json')
        argv = [self.progs['pktgen'], '-l', '0', '--file-prefix', prefix, '--socket-mem', str(GEN_MEMORY_MB),
                '--single-file-segments', *[a for v in clients for a in ('--vdev', v)],
                '--', '--rate', str(rate), '--warmup', '0', '--duration', '86400', '--json', json_path,
                *(['--macs', str(macs)] if macs else [])]
        return Generator(argv, prefix, json_path, self.log_path(what))

    def probe_rtt(self):
        """The cache-line round trip between the two CPUs now, in ns; inf
        (a far run, left out of the medians) if the probe does not end."""
        prefix = self.prefix('rtt')
        try:
            r = subprocess.run([self.progs['pktgen'], '-l', '0', '--file-prefix', prefix, '--', '--probe-rtt'],
                               capture_output=True, text=True, timeout=RTT_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f'  the CPU round-trip probe did not end within {RTT_TIMEOUT:g} s: the run counts as far')
            return math.inf
        finally:
            remove_runtime_dir(prefix)
        m = re.search(r'"rtt_ns": ([\d.]+)', r.stdout)
        return float(m.group(1)) if m else None

    def memif_pair(self, tag):
        socks = [os.path.join(self.tmp, f'{tag}-{self.count}-{i}.sock') for i in range(2)]
        servers = [f'net_memif{i},role=server,socket={s}' for i, s in enumerate(socks)]
        clients = [f'net_memif{i},role=client,socket={s},zero-copy=yes' for i, s in enumerate(socks)]
        return servers, clients


class Generator:
    def __init__(self, argv, prefix, json_path, log_path):
        self.prefix, self.json_path = prefix, json_path
        self.log = open(log_path, 'w')
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        remove_runtime_dir(self.prefix)
        # DPDK leaves its hugepage files behind: they would keep the pages.
        for mount in hugetlbfs_mounts():
            for name in os.listdir(mount):
                if name.startswith(f'{self.prefix}map_'):
                    os.unlink(os.path.join(mount, name))
        with contextlib.suppress(OSError, ValueError), open(self.json_path) as f:
            return json.load(f)
        return None


def hugetlbfs_mounts():
    with open('/proc/mounts') as f:
        return [line.split()[1] for line in f if line.split()[2] == 'hugetlbfs']


def free_hugepages():
    with open('/proc/meminfo') as f:
        return int(re.search(r'HugePages_Free:\s+(\d+)', f.read()).group(1))


@contextlib.contextmanager
def hugepages(mb):
    """At least @mb of free 2 MB hugepages and a hugetlbfs mount while in
    the block; the page count is put back and what was mounted unmounted
    after, also when the block or the set-up fails."""
    with open(HUGEPAGES) as f:
        before = int(f.read())
    need = max(0, mb // 2 - free_hugepages())
    mounted = False
    try:
        if need:
            with open(HUGEPAGES, 'w') as f:
                f.write(str(before + need))
            if free_hugepages() < mb // 2:
                raise RuntimeError(f'the kernel gave {free_hugepages()} free 2 MB hugepages of the {mb // 2} asked')
        if not hugetlbfs_mounts():
            os.makedirs('/dev/hugepages', exist_ok=True)
            subprocess.run(['mount', '-t', 'hugetlbfs', 'nodev', '/dev/hugepages'], check=True)
            mounted = True
        yield
    finally:
        if mounted:
            subprocess.run(['umount', '/dev/hugepages'], check=False)
        if need:
            with open(HUGEPAGES, 'w') as f:
                f.write(str(before))


def tsc_hz():
    """The TSC rate DPDK uses for cycles, from the kernel's calibration."""
    with contextlib.suppress(OSError):
        out = subprocess.run(['dmesg'], capture_output=True, text=True).stdout
        if m := re.findall(r'tsc: Refined TSC clocksource calibration: ([\d.]+) MHz', out) or \
                re.findall(r'tsc: Detected ([\d.]+) MHz', out):
            return float(m[-1]) * 1e6
    with open('/proc/cpuinfo') as f:
        return float(re.search(r'cpu MHz\s*:\s*([\d.]+)', f.read()).group(1)) * 1e6


# --------------------------------------------------------------- scenarios

def near(run):
    rtt = [x for x in run.get('rtt_ns', []) if x]
    return all(x <= NEAR_RTT_NS for x in rtt)


def placed(run, placement):
    """Whether @run had the two CPUs as @placement says: 'near' (throughout),
    'far' (for part of it at least) or 'any'."""
    return placement == 'any' or near(run) == (placement == 'near')


def common_placement(groups):
    """The placement every one of @groups (lists of runs of forwarders that
    are compared) has a run in: 'near' if each has a near one, else 'far' if
    each has a far one, else 'any'. A forwarder's median in one placement
    against another's in the other would compare the host's placement of
    the vCPUs, which changes a memif run's rate three times over."""
    for placement in ('near', 'far'):
        if all(any(placed(r, placement) for r in runs) for runs in groups):
            return placement
    return 'any'


# What summarise() takes the median and spread of, unless told otherwise.
SUMMARY_KEYS = ('mpps', 'cpu', 'cycles_per_packet', 'app_task_per_s')


def summarise_compared(runs_by_item, keys=SUMMARY_KEYS):
    """summarise() of each item's runs (@runs_by_item: item -> runs) over
    @keys, all in the placement common to them (common_placement()), since
    their figures are set against each other."""
    placement = common_placement(runs_by_item.values())
    return {item: summarise(runs, keys, placement) for item, runs in runs_by_item.items()}


def summarise(runs, keys=SUMMARY_KEYS, placement='near'):
    """Median and spread (min-max) of each measure over the runs in
    @placement (see placed()) not kept disturbed (see Bench.undisturbed);
    failing those, over the runs in @placement, failing those over all. The
    others are counted in placement_out (in the other placement; the
    summary's placement says which) and disturbed_out. Also each round's
    rate where @keys has one (None where left out), the attempts rejected
    before the runs kept, the runs kept disturbed, and each run's
    disturbance."""
    kept = ([r for r in runs if placed(r, placement) and not r.get('kept_disturbed')] or
            [r for r in runs if placed(r, placement)] or runs)
    left_out = [r for r in runs if not any(r is k for k in kept)]
    out = {'placement': placement,
           'rejected': sum(r.get('rejected', 0) for r in runs),
           'kept_disturbed': sum(1 for r in runs if r.get('kept_disturbed')),
           'disturbance': [r['disturbance'] for r in runs if 'disturbance' in r]}
    if 'mpps' in keys:
        out['round_mpps'] = [None if any(r is x for x in left_out) else r.get('mpps') for r in runs]
    if left_out:
        out['placement_out'] = sum(1 for r in left_out if not placed(r, placement))
        out['disturbed_out'] = len(left_out) - out['placement_out']
    runs = kept
    for key in keys:
        vals = [r[key] for r in runs if key in r]
        if vals:
            out[key] = {'median': statistics.median(vals), 'min': min(vals), 'max': max(vals), 'runs': vals}
    return out


def alternating(items, rounds, run_one):
    """@run_one(item, round) for every item, @rounds times, the order
    reversed every other round so that no item always runs first; returns
    each item's results."""
    results = {item: [] for item in items}
    for r in range(rounds):
        for item in (items if r % 2 == 0 else list(reversed(items))):
            results[item].append(run_one(item, r))
    return results


def rtt_text(res):
    rtt = ' '.join(f'{x:.0f}' for x in res.get('rtt_ns', []) if x)
    text = f'  rtt {rtt} ns' if rtt else ''
    if res.get('rejected'):
        text += f'  ({res["rejected"]} rejected before{", kept disturbed" if res.get("kept_disturbed") else ""})'
    return text


def throughput(bench, names, vdevs_for, rounds, seconds, warmup, feed_for=None):
    """Runs the forwarders in alternation and summarises each."""
    def attempt(name):
        vdevs, nports = vdevs_for()
        feed = feed_for(vdevs) if feed_for else None
        return bench.run_forwarder(FORWARDERS[name], vdevs['fwd'], nports, seconds, warmup, feed)

    def run_one(name, r):
        res = bench.undisturbed(lambda: attempt(name))
        log(f'  round {r + 1}: {name:22s} {res["mpps"]:7.2f} Mpps  cpu {res.get("cpu", 0):5.2f}  '
            f'{res.get("cycles_per_packet", 0):6.1f} cycles/pkt' + rtt_text(res))
        return res
    out = summarise_compared(alternating(names, rounds, run_one))
    for line in ratio_lines(out, per_round=True):
        log(f'  {line}')
    return out


# The ratios issue 16 asks of every run: bh-l2fwd poll with its defaults against each reference.
SUBJECT, REFERENCES = 'bh-l2fwd poll', ('DPDK l2fwd', 'testpmd io')


def ratios(results):
    """Of SUBJECT against each of REFERENCES in @results (summaries): the
    ratio of the Mpps medians, each round's own ratio (the two runs of a
    round are close in time; rounds with a far run left out) and, where
    callgrind counted them, the ratio of the instructions per packet."""
    subject, out = results.get(SUBJECT), {}
    for ref in REFERENCES:
        other = results.get(ref)
        if not subject or not other or not other.get('mpps', {}).get('median'):
            continue
        e = {'mpps': subject['mpps']['median'] / other['mpps']['median'],
             'rounds': [x / y for x, y in zip(subject['round_mpps'], other['round_mpps']) if x and y]}
        if 'callgrind' in subject and 'callgrind' in other:
            e['instructions'] = (subject['callgrind']['instructions_per_packet'] /
                                 other['callgrind']['instructions_per_packet'])
        out[ref] = e
    return out


def ratio_lines(results, per_round=False):
    lines = []
    for ref, e in ratios(results).items():
        text = f'{SUBJECT} / {ref}: {e["mpps"]:.2f}x in Mpps (medians)'
        if e['rounds']:
            text += (f', the rounds\' own ratios {statistics.median(e["rounds"]):.2f} '
                     f'({min(e["rounds"]):.2f}-{max(e["rounds"]):.2f})')
            if per_round:
                text += ': ' + ' '.join(f'{x:.2f}' for x in e['rounds'])
        if 'instructions' in e:
            text += f'; {e["instructions"]:.2f}x in instructions per packet'
        lines.append(text)
    return lines


def scenario_null(bench, a):
    log('net_null pairs (64 B frames made and taken by the PMD)')
    vdevs = lambda: ({'fwd': ['net_null0', 'net_null1']}, 2)
    return throughput(bench, a.forwarders, vdevs, a.rounds, a.seconds, a.warmup)


def scenario_null_huge(bench, a):
    """The null scenario with every forwarder's memory in hugepages. Without
    them DPDK's pktmbuf pools put one mbuf to a 4 KB page, every mbuf in the
    same few L1 sets, while bh-l2fwd's pool packs them (docs/design.md): on
    hugepages every pool is packed alike, so only the per-packet work
    differs. Pages reserved by main()."""
    log('net_null pairs, every forwarder on hugepages')
    bench.memory = ['--huge-dir', hugetlbfs_mounts()[0], '--huge-unlink']
    try:
        return scenario_null(bench, a)
    finally:
        bench.memory = NO_HUGE


def instructions_per_packet(bench, a, null):
    """The callgrind column of the null scenario's summaries @null; returns
    what was done, for results.json."""
    if not a.callgrind:
        log('callgrind: skipped (--no-callgrind)')
        return {'skipped': '--no-callgrind'}
    counted = callgrind.measure(bench, list(null), a.callgrind_seconds)
    if 'skipped' in counted:
        return counted
    for name, res in counted.items():
        null[name]['callgrind'] = res
    for line in ratio_lines(null):
        log(f'  {line}')
    return {'seconds': a.callgrind_seconds}


def scenario_memif(bench, a):
    log('memif pairs fed by bh-pktgen on CPU 0 (as fast as it can)')

    def vdevs():
        servers, clients = bench.memif_pair('memif')
        return {'fwd': servers, 'gen': clients}, 2

    def feed_for(v):
        return lambda: bench.generator(v['gen'], 0, 'gen')
    return throughput(bench, a.forwarders, vdevs, a.rounds, a.seconds, a.warmup, feed_for)


def scenario_idle(bench, a):
    log(f'idle ports: CPU use of the forwarding lcore over about {a.idle_seconds - 1:g} s')
    rings = ['net_ring0', 'net_ring1']
    tag = os.getpid() % 100000
    taps = [f'net_tap{i},iface=bhtp{tag}x{i}' for i in range(2)]
    cases = [(f'{n} on net_ring', FORWARDERS[n], rings) for n in a.forwarders]
    cases += [(f'bh-l2fwd {mode} on net_tap', Forwarder(f'bh-l2fwd {mode}', 'bh', ['--rx-mode', mode]), taps)
              for mode in ('interrupt', 'adaptive')]
    # Without Rx interrupts an idle adaptive worker wakes once per back-off ceiling.
    cases += [(f'bh-l2fwd adaptive, --max-backoff {us} on net_ring',
               Forwarder('bh-l2fwd adaptive', 'bh', ['--rx-mode', 'adaptive', '--max-backoff', str(us)]), rings)
              for us in (2000, 5000)]
    out = {}
    for label, fwd, vdevs in cases:
        res = bench.run_forwarder(fwd, vdevs, 2, a.idle_seconds, 1.0)
        log(f'  {label:30s} cpu {100 * res.get("cpu", float("nan")):6.2f}%')
        out[label] = res
    return out


BRIDGE_LEARN_LIMIT = 262144  # room for 2 x 64k hosts


def bridge_forwarder(hosts, cache=True):
    name, extra = f'bh-bridge, {hosts} hosts per port', []
    if not cache:
        name, extra = f'{name}, no lookup cache', ['--fdb-cache', '0']
    return Forwarder(name, 'bridge', ['--learn-limit', str(BRIDGE_LEARN_LIMIT), *extra])


def scenario_bridge(bench, a):
    """bh-bridge on memif pairs fed by bh-pktgen with N hosts per port (all
    known unicast once learned, in the warm-up), beside bh-l2fwd on the
    same ports and traffic (N = 1024), alternating; and bh-bridge without
    its per-lcore lookup cache (table lookups only) at the target's N."""
    log('bridge: memif pairs fed by bh-pktgen with N hosts per port; bh-bridge beside bh-l2fwd')
    items = [(name, FORWARDERS[name], 1024) for name in ('bh-l2fwd poll', 'bh-l2fwd poll no-mac')]
    items += [(bridge_forwarder(n).name, bridge_forwarder(n), n) for n in a.bridge_hosts]
    uncached = 1024 if 1024 in a.bridge_hosts else a.bridge_hosts[0]
    items.append((bridge_forwarder(uncached, False).name, bridge_forwarder(uncached, False), uncached))

    def attempt(fwd, hosts):
        servers, clients = bench.memif_pair('bridge')
        return bench.run_forwarder(fwd, servers, 2, a.seconds, a.warmup,
                                   lambda: bench.generator(clients, 0, 'gen-bridge', hosts))

    def run_one(item, r):
        name, fwd, hosts = item
        res = bench.undisturbed(lambda: attempt(fwd, hosts))
        log(f'  round {r + 1}: {name:34s} {res["mpps"]:7.2f} Mpps  {res.get("cycles_per_packet", 0):6.1f} '
            f'cycles/pkt' + rtt_text(res))
        return res
    return {item[0]: s for item, s in summarise_compared(alternating(items, a.other_rounds, run_one)).items()}


def telemetry_query(prefix, cmds):
    """Replies to @cmds from the telemetry socket of the process with file prefix @prefix."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(5)
        sock.connect(f'/var/run/dpdk/{prefix}/dpdk_telemetry.v2')
        size = json.loads(sock.recv(1024))['max_output_len']
        out = []
        for cmd in cmds:
            sock.send(cmd.encode())
            out.append(json.loads(sock.recv(size))[cmd.split(',', 1)[0]])
        return out


def scenario_bridge_learn(bench, a):
    """bh-bridge, empty, fed at full rate by bh-pktgen with 64k new hosts per
    port: how long learning the 128k addresses takes, the forwarding rate
    meanwhile and after, and what the fast path dropped (nothing, if
    learning is deferred as it should be). Telemetry is read every 10 ms."""
    hosts = a.bridge_hosts[-1]
    log(f'bridge learning: {hosts} new hosts per port at full rate')
    out = []
    for r in range(a.other_rounds):
        servers, clients = bench.memif_pair('learn')
        prefix = bench.prefix('fwd')
        fwd = bridge_forwarder(hosts)
        run = Running(fwd, fwd.argv(bench.progs, prefix, servers, 2), 2, bench.log_path('bridge-learn'))
        gen, samples = None, []
        try:
            if not run.ready.wait(30):
                die(f'bh-bridge: ports not started in 30 s; see {run.log.name}')
            telemetry_query(prefix, ['/bh/bridge/stats'])
            gen = bench.generator(clients, 0, 'gen-learn', hosts)
            end = time.monotonic() + 10
            while time.monotonic() < end:
                stats, p0, p1 = telemetry_query(prefix, ['/bh/bridge/stats', '/bh/net/port,0', '/bh/net/port,1'])
                drops = sum(p[k] for p in (p0, p1) for k in ('rx_dropped', 'tx_dropped'))
                samples.append((time.monotonic(), stats, p0['tx'] + p1['tx'], drops))
                if stats['entries'] >= 2 * hosts:
                    end = min(end, samples[-1][0] + 1)  # one second more, to measure the rate after
                time.sleep(0.01)
        finally:
            if gen:
                gen.stop()
            run.stop()
            remove_runtime_dir(prefix)
        started = next((s for s in samples if s[2] > 0), None)
        learned = next((s for s in samples if s[1]['entries'] >= 2 * hosts), None)
        if not started or not learned:
            die(f'bh-bridge did not learn {2 * hosts} addresses; see {run.log.name}')
        last = samples[-1]
        res = {'learn_ms': (learned[0] - started[0]) * 1e3,
               'mpps_learning': (learned[2] - started[2]) / max(learned[0] - started[0], 1e-3) / 1e6,
               'mpps_after': (last[2] - learned[2]) / max(last[0] - learned[0], 1e-3) / 1e6,
               'fast_path_drops': last[3], 'learned': last[1]['learned'],
               'learn_requests': last[1]['learn_requests'], 'learn_queue_full': last[1]['learn_queue_full'],
               'table_full': last[1]['table_full'], 'limit_refused': last[1]['learn_limit_refused']}
        log(f'  round {r + 1}: {2 * hosts} addresses learned in {res["learn_ms"]:.0f} ms, forwarding '
            f'{res["mpps_learning"]:.2f} Mpps meanwhile, {res["mpps_after"]:.2f} after; fast-path drops '
            f'{res["fast_path_drops"]}, learn requests {res["learn_requests"]} '
            f'({res["learn_queue_full"]} refused: ring full)')
        out.append(res)
    return {'hosts_per_port': hosts, 'runs': out}


def scenario_overload(bench, a, capacity):
    """bh-l2fwd with an application task, unloaded and at offered loads set
    as multiples of @capacity (bh-l2fwd's memif rate), each run @a.other_rounds
    times in alternation; the points as overload_points() makes them."""
    log('overload: bh-l2fwd poll mode with a 1 us app task, offered load past capacity')
    unloaded = 'unloaded'
    rates = [unloaded] + [round(capacity * f, 3) for f in a.load_factors]
    fwd = Forwarder('bh-l2fwd poll + app task', 'bh', ['--rx-mode', 'poll', '--app-task', '1000'])

    def attempt(rate):
        servers, clients = bench.memif_pair('over')
        feed = None if rate == unloaded else (lambda: bench.generator(clients, rate, 'gen-over'))
        return bench.run_forwarder(fwd, servers, 2, a.seconds, a.warmup, feed)

    def run_one(rate, r):
        res = bench.undisturbed(lambda: attempt(rate))
        gen = res.get('generator') or {}
        # What the generator managed: below the set rate when it is itself at its limit.
        res['offered_mpps'] = gen.get('offered_mpps', 0.0 if rate == unloaded else float('nan'))
        res['delivered_mpps'] = gen.get('sent_mpps', 0.0 if rate == unloaded else float('nan'))
        log(f'  round {r + 1}: rate {rate}: offered {res["offered_mpps"]:6.2f}, taken by the Rx rings '
            f'{res["delivered_mpps"]:6.2f}, forwarded {res["mpps"]:6.2f} Mpps, '
            f'app task {res.get("app_task_per_s", 0) / 1e3:6.1f} k runs/s' + rtt_text(res))
        return res
    keys = ('offered_mpps', 'delivered_mpps', 'mpps', 'app_task_per_s')
    return overload_points(alternating(rates, a.other_rounds, run_one), keys)


def overload_points(runs_by_rate, keys):
    """The overload curve from each rate's runs (the unloaded point first):
    the loaded points in one placement of the vCPUs, as they are read
    against each other along the curve (summarise_compared()); the unloaded
    one, whose frames cross no CPU (it has none), over all its runs. Each
    point's app share is its app task rate over the unloaded one's."""
    runs_by_rate = dict(runs_by_rate)
    unloaded = next(iter(runs_by_rate))
    first = summarise(runs_by_rate.pop(unloaded), keys, placement='any')
    points = [{'rate_mpps': rate, **s}
              for rate, s in {unloaded: first, **summarise_compared(runs_by_rate, keys)}.items()]
    idle = first['app_task_per_s']['median']
    for p in points:
        p['app_share'] = p['app_task_per_s']['median'] / idle if idle else float('nan')
    return points


# ----------------------------------------------------------------- reports

def machine():
    with open('/proc/cpuinfo') as f:
        model = re.search(r'model name\s*:\s*(.*)', f.read()).group(1)
    return f'{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}'


def fmt(s, key, scale=1.0, digits=2):
    if key not in s:
        return 'n/a'
    m = s[key]
    return f'{m["median"] * scale:.{digits}f} ({m["min"] * scale:.{digits}f}-{m["max"] * scale:.{digits}f})'


def runs_text(s):
    """How many runs a summary's figures are of, and what was left out or rejected."""
    other = 'near' if s.get('placement') == 'far' else 'far'
    # Results written before placements were chosen per scenario name these far_runs.
    out = s.get('placement_out', s.get('far_runs'))
    notes = [f'+{out} {other}'] if out else []
    if s.get('disturbed_out'):
        notes.append(f'+{s["disturbed_out"]} disturbed')
    if s.get('rejected'):
        notes.append(f'{s["rejected"]} rejected')
    if s.get('kept_disturbed', 0) > s.get('disturbed_out', 0):
        notes.append(f'{s["kept_disturbed"] - s.get("disturbed_out", 0)} disturbed counted')
    return f'{len(s["mpps"]["runs"])}' + (f' ({", ".join(notes)})' if notes else '')


def table(results, ref_names=REFERENCES):
    refs = {r: results[r]['mpps']['median'] for r in ref_names if r in results and 'mpps' in results[r]}
    counted = any('callgrind' in s for s in results.values())
    head = '| forwarder | runs | Mpps per lcore, median (min-max) | cycles/packet | ' + \
        ('instructions/packet (callgrind) | ' if counted else '') + ' | '.join(f'x {r}' for r in refs) + ' |'
    rows = [head, '|' + '---|' * (4 + counted + len(refs))]
    for name, s in results.items():
        ratios = ' | '.join(f'{s["mpps"]["median"] / v:.2f}' if v else 'n/a' for v in refs.values())
        cg = ''
        if counted:
            cg = f'{s["callgrind"]["instructions_per_packet"]:.1f} | ' if 'callgrind' in s else 'n/a | '
        rows.append(f'| {name} | {runs_text(s)} | {fmt(s, "mpps")} | {fmt(s, "cycles_per_packet", digits=0)} | '
                    f'{cg}{ratios} |')
    return '\n'.join(rows)


def plot(points, out):
    dat = os.path.join(out, 'overload.dat')
    with open(dat, 'w') as f:
        f.write('# offered_mpps forwarded_mpps app_task_kruns_per_s (medians), '
                'then forwarded min max, app task min max\n')
        for p in sorted(points, key=lambda p: p['offered_mpps']['median']):
            fwd, app = p['mpps'], p['app_task_per_s']
            f.write(f'{p["offered_mpps"]["median"]:.3f} {fwd["median"]:.3f} {app["median"] / 1e3:.1f} '
                    f'{fwd["min"]:.3f} {fwd["max"]:.3f} {app["min"] / 1e3:.1f} {app["max"] / 1e3:.1f}\n')
    if not shutil.which('gnuplot'):
        log('gnuplot is missing (install gnuplot-nox): overload.png not drawn')
        return
    script = f'''
set terminal pngcairo size 900,540 font ",11"
set output "{os.path.join(out, 'overload.png')}"
set title "bh-l2fwd under overload (memif, one forwarding lcore, 1 us app task per loop)"
set xlabel "offered load (Mpps)"
set ylabel "forwarded (Mpps)"
set y2label "app task runs (thousands/s)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right
set grid
plot "{dat}" using 1:2:4:5 with yerrorlines lw 2 pt 7 title "forwarded (median, min-max)", \\
     "{dat}" using 1:3:6:7 axes x1y2 with yerrorlines lw 2 pt 5 title "app task runs/s", \\
     "{dat}" using 1:1 with lines dt 2 lc rgb "gray" title "offered"
'''
    subprocess.run(['gnuplot'], input=script, text=True, check=True)


def disturbance_text(retries):
    lim = {k: f'{100 * v:g}%' for k, v in disturbance.LIMITS.items()}
    return ('A run is rejected and repeated (at most {r} times; then the least disturbed attempt is kept, '
            'and left out of the medians like a far one unless no run of the forwarder was undisturbed) when '
            'its forwarding CPU was not the forwarder\'s own during the measured '
            'window: steal time of that CPU (/proc/stat) above {steal} of the window, run-queue wait of the '
            'forwarder\'s threads pinned to it (schedstat: another thread ran while they were runnable) above '
            '{wait}, or the CPU busy (/proc/stat) beyond those threads\' run time by more than {others} (others ran '
            'while they slept). The runs column gives the runs in the medians, then "+N far" and "+N disturbed" '
            'left out, the attempts rejected, and "disturbed counted" where no undisturbed run was left to '
            'count (bench/throughput/disturbance.py).').format(r=retries, **lim)


def ratio_text(results):
    lines = ratio_lines(results)
    return ['Ratios, bh-l2fwd poll with its defaults against the references:', '',
            *[f'- {line}' for line in lines], ''] if lines else []


def callgrind_text(cg):
    if 'skipped' in cg:
        return f'Instructions per packet (callgrind): not measured in this run ({cg["skipped"]}).'
    if not cg:
        return ''
    return (f'Instructions per packet: valgrind\'s callgrind (`--fair-sched=yes`), one run per forwarder of '
            f'{cg["seconds"]:g} s, counting only the forwarding lcore (bh-l2fwd: inside `bh::lcore_run()`; DPDK '
            'l2fwd: inside `l2fwd_launch_one_lcore`; testpmd: its forwarding thread), over the packets the run '
            'reports (l2fwd: net_null\'s per-packet Tx free calls in the same dump, since it prints its totals '
            'only once a period). Deterministic: no spread (bench/throughput/callgrind.py).')


def write_report(res, out, started):
    lines = [
        '# Throughput: bh-l2fwd, DPDK l2fwd and testpmd side by side', '',
        f'Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}, by', '', f'    {res["command"]}', '']
    for r in res.get('earlier', []):
        lines += [f'and, kept with `--merge`, the {", ".join(r["scenarios"])} results of an earlier run '
                  f'({r["date"]} UTC on {r["machine"]}):', '', f'    {r["command"]}', '']
    lines += [
        f'(generated by bench/throughput/run.py; TSC {res["tsc_hz"] / 1e6:.0f} MHz). One forwarding lcore '
        f'(lcore {FWD_LCORE}, CPU {FWD_LCORE}) for every forwarder, 64-byte frames, two ports, MAC updating '
        'where the forwarder has it (bh-l2fwd, l2fwd, testpmd mac). Each figure is the median of '
        f'{res["args"]["rounds"]} runs (null, null-huge, memif; {res["args"]["other_rounds"]} for the others) with '
        'min-max beside it, the runs alternating between forwarders, the order reversed every other round.', '',
        disturbance_text(res['args']['retries']), '']
    if 'null' in res:
        lines += ['## net_null pairs: the cost per packet', '', table(res['null']), '',
                  *ratio_text(res['null']), callgrind_text(res.get('callgrind', {})), '']
    if 'null-huge' in res:
        lines += ['## net_null pairs on hugepages: the same mbuf layout for every forwarder', '',
                  'Without hugepages (above) DPDK\'s pktmbuf pools, which l2fwd and testpmd use, put one mbuf '
                  'to a 4 KB page, at the same offset in each, so that every mbuf falls in the same few L1 '
                  'cache sets; bh-l2fwd\'s pool packs them. Here every forwarder\'s memory is in hugepages, '
                  'where every pool packs them: only the work per packet differs.', '',
                  table(res['null-huge']), '', *ratio_text(res['null-huge']), '']
    if 'memif' in res:
        lines += ['## memif pairs fed by bh-pktgen on the other CPU', '',
                  'The forwarders are the memif servers and copy each frame in and out; bh-pktgen is a '
                  'zero-copy client (its memory in hugepages) offering as much as the rings take, so the '
                  'forwarder is the one at its limit. Every frame crosses between the two CPUs, so a run '
                  'counts only if the cache-line round trip between them, probed before and after, stayed '
                  f'under {NEAR_RTT_NS} ns (the host had not moved the vCPUs apart); "far" runs are counted '
                  'but left out of the medians. Where some forwarder had no near run, all are compared '
                  'in their far runs instead ("+N near" left out), so that no forwarder\'s figure is '
                  'of another placement than the others\'.', '', table(res['memif']), '', *ratio_text(res['memif'])]
    if 'bridge' in res:
        lines += ['## bh-bridge beside bh-l2fwd on memif pairs', '',
                  'bh-pktgen gives each port N hosts (`--macs N`): port 0 sends from its host i to host i of '
                  'port 1 and the reverse, so once the bridge has learned both sides (during the warm-up) '
                  'every frame is known unicast. bh-l2fwd gets the same traffic with N = 1024. Ratios are '
                  'of the medians.', '', table(res['bridge'], ref_names=('bh-l2fwd poll', 'bh-l2fwd poll no-mac')),
                  '']
    if 'bridge-learn' in res:
        bl = res['bridge-learn']
        lines += [f'## bh-bridge learning {2 * bl["hosts_per_port"]} new addresses at full rate', '',
                  'The bridge starts empty; bh-pktgen sends as fast as the rings take from '
                  f'{bl["hosts_per_port"]} new hosts per port. Read from telemetry every 10 ms.', '',
                  '| run | time to learn all, ms | Mpps while learning | Mpps after | fast-path drops | '
                  'learn requests | refused (ring full) |', '|---|---|---|---|---|---|---|']
        lines += [f'| {i + 1} | {r["learn_ms"]:.0f} | {r["mpps_learning"]:.2f} | {r["mpps_after"]:.2f} | '
                  f'{r["fast_path_drops"]} | {r["learn_requests"]} | {r["learn_queue_full"]} |'
                  for i, r in enumerate(bl['runs'])]
        lines.append('')
    if 'idle' in res:
        lines += [f'## Idle: CPU use of the forwarding lcore ({res["args"]["idle_seconds"] - 1:g} s or more, schedstat)', '',
                  '| forwarder | CPU |', '|---|---|']
        lines += [f'| {n} | {100 * r.get("cpu", float("nan")):.2f}% |' for n, r in res['idle'].items()]
        lines.append('')
    if 'overload' in res:
        lines += ['## Overload', '', '![overload](overload.png)', '',
                  'The first row has no generator: the app task\'s unloaded rate, of which each row\'s '
                  '"app share" is the fraction left (bh-l2fwd\'s default `--bh-share 50` lets the bottom '
                  'halves take at most half of the lcore\'s recent time while the task waits). The '
                  'loaded rows are all of one placement of the two vCPUs (near if every row has a near '
                  'run, else far), as in the memif table.', '',
                  '| offered Mpps | runs | taken by the Rx rings Mpps | forwarded Mpps, median (min-max) | '
                  'app task runs/s | app share |',
                  '|---|---|---|---|---|---|']
        lines += [f'| {p["offered_mpps"]["median"]:.2f} | {runs_text(p)} | {p["delivered_mpps"]["median"]:.2f} | '
                  f'{fmt(p, "mpps")} | {p["app_task_per_s"]["median"]:.0f} | {100 * p["app_share"]:.0f}% |'
                  for p in res['overload']]
        lines.append('')
    if 'load' in res:
        lines += cpuload.report(res['load'])
    with open(os.path.join(out, 'README.md'), 'w') as f:
        f.write('\n'.join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', default=os.path.join(ROOT, 'build'), help='meson build directory (default build/)')
    p.add_argument('--out', default=None, help='where to write the results (default BUILD/throughput)')
    p.add_argument('--scenarios', default='null,null-huge,memif,idle,overload')
    p.add_argument('--forwarders', default=','.join(DEFAULT_FORWARDERS), help='comma-separated, of: ' + ', '.join(FORWARDERS))
    p.add_argument('--rounds', type=int, default=None,
                   help=f'runs of each forwarder per scenario (default {ROUNDS} for null, null-huge and memif, '
                   f'{OTHER_ROUNDS} for the others; load: {cpuload.ROUNDS})')
    p.add_argument('--retries', type=int, default=3,
                   help='times a run whose forwarding CPU was disturbed is repeated (default 3)')
    p.add_argument('--merge', action='store_true',
                   help="keep the other scenarios' results from --out's results.json (each with its own date and "
                        'command in the README) instead of writing only this run\'s')
    p.add_argument('--no-callgrind', dest='callgrind', action='store_false',
                   help="leave out the null scenario's instructions per packet (callgrind)")
    p.add_argument('--callgrind-seconds', type=float, default=callgrind.SECONDS,
                   help=f'forwarding time under valgrind per forwarder (default {callgrind.SECONDS:g})')
    p.add_argument('--seconds', type=float, default=None,
                   help=f'measured window per run (default 3; load: {cpuload.SECONDS:g}, per offered rate)')
    p.add_argument('--warmup', type=float, default=None,
                   help=f'seconds before the window (default 1; load: {cpuload.WARMUP:g})')
    p.add_argument('--idle-seconds', type=float, default=6,
                   help='idle run length; the window between the first and last report is a second shorter')
    p.add_argument('--bridge-hosts', default='2,1024,65536',
                   help='hosts per port of the bridge scenario (the last one also for bridge-learn)')
    p.add_argument('--load-factors', default='0.25,0.5,0.75,0.9,1.1,1.5,2,4,8',
                   help='offered loads of the overload curve, as multiples of the memif capacity')
    cpuload.add_options(p)
    a = p.parse_args()
    if os.geteuid() != 0:
        die('run as root (DPDK and tap ports need it)')
    a.forwarders = [f.strip() for f in a.forwarders.split(',') if f.strip()]
    for f in a.forwarders:
        if f not in FORWARDERS:
            die(f'unknown forwarder {f!r}; known: {", ".join(FORWARDERS)}')
    scenarios = [s.strip() for s in a.scenarios.split(',') if s.strip()]
    known = ('null', 'null-huge', 'memif', 'idle', 'overload', 'bridge', 'bridge-learn', 'load')
    for s in scenarios:
        if s not in known:
            die(f'unknown scenario {s!r}; known: {", ".join(known)}')
    try:
        a.bridge_hosts = [int(x) for x in a.bridge_hosts.split(',')]
    except ValueError:
        die(f'--bridge-hosts: not a list of numbers: {a.bridge_hosts!r}')
    try:
        a.load_factors = [float(x) for x in a.load_factors.split(',')]
    except ValueError:
        die(f'--load-factors: not a list of numbers: {a.load_factors!r}')
    cpuload.check_options(a)  # takes its own defaults where --rounds, --seconds or --warmup are not given
    a.other_rounds = OTHER_ROUNDS if a.rounds is None else a.rounds
    a.rounds = ROUNDS if a.rounds is None else a.rounds
    a.seconds = 3 if a.seconds is None else a.seconds
    a.warmup = 1 if a.warmup is None else a.warmup
    if a.rounds < 1 or a.seconds <= 0 or a.warmup < 0 or a.retries < 0 or a.callgrind_seconds <= 0:
        die('--rounds must be >= 1, --seconds > 0, --warmup >= 0, --retries >= 0, --callgrind-seconds > 0')
    if not a.load_factors or min(a.load_factors) <= 0:
        die(f'--load-factors: every factor must be > 0 (0 would mean an unlimited rate): {a.load_factors}')
    out = a.out = a.out or os.path.join(a.build, 'throughput')
    os.makedirs(out, exist_ok=True)

    started = datetime.datetime.utcnow()
    bench = Bench(a, build(a.build))
    res = {'date': f'{started:%Y-%m-%d %H:%M}', 'machine': machine(), 'tsc_hz': bench.tsc_hz,
           'command': ' '.join(['python3', 'bench/throughput/run.py', *sys.argv[1:]]),
           'args': {k: v for k, v in vars(a).items()}}
    earlier = read_earlier(out, scenarios) if a.merge else {}
    generator = bool({'memif', 'overload', 'bridge', 'bridge-learn'} & set(scenarios))
    huge_mb = (GEN_MEMORY_MB if generator else 0) + (HUGE_MEMORY_MB if 'null-huge' in scenarios else 0)
    try:
        with hugepages(huge_mb) if huge_mb else contextlib.nullcontext():
            run_scenarios(bench, a, scenarios, res, out)
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    merge(res, earlier)
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    write_report(res, out, started)
    with open(os.path.join(out, 'README.md')) as f:
        print(f.read())
    log(f'results in {out}/ (README.md, results.json{", overload.png" if "overload" in res else ""}'
        f'{", cpu-load-*.png" if "load" in res else ""})')


# The keys of results.json each scenario writes.
SCENARIO_KEYS = {'null': ('null', 'callgrind'), 'null-huge': ('null-huge',), 'memif': ('memif',), 'idle': ('idle',), 'overload': ('overload',),
                 'bridge': ('bridge',), 'bridge-learn': ('bridge-learn',), 'load': ('load',)}


def read_earlier(out, scenarios):
    """With --merge: results.json in @out, less the scenarios this run
    measures again (read before the run, so that a run that fails loses
    nothing); {} where there is none."""
    try:
        with open(os.path.join(out, 'results.json')) as f:
            old = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        die(f'--merge: cannot read {out}/results.json: {e}')
    kept = [s for s in SCENARIO_KEYS if s not in scenarios and SCENARIO_KEYS[s][0] in old]
    # A results.json from before the command was recorded: its default --out, its scenarios.
    command = old.get('command') or (f'python3 bench/throughput/run.py --scenarios {old["args"]["scenarios"]} '
                                     f'--out {old["args"]["out"]}')
    runs = [dict(r, scenarios=[s for s in r['scenarios'] if s in kept]) for r in old.get('earlier', [])]
    own = [s for s in kept if not any(s in r['scenarios'] for r in runs)]
    if own:
        runs.append({'date': old['date'], 'machine': old['machine'], 'command': command, 'scenarios': own})
    return {'runs': [r for r in runs if r['scenarios']],
            'results': {k: old[k] for s in kept for k in SCENARIO_KEYS[s] if k in old}}


def merge(res, earlier):
    """The earlier results kept by --merge, each run's date and command in res['earlier']."""
    if earlier.get('runs'):
        res.update(earlier['results'])
        res['earlier'] = earlier['runs']


def run_scenarios(bench, a, scenarios, res, out):
    if 'null' in scenarios:
        res['null'] = scenario_null(bench, a)
        res['callgrind'] = instructions_per_packet(bench, a, res['null'])
    if 'null-huge' in scenarios:
        res['null-huge'] = scenario_null_huge(bench, a)
    if 'memif' in scenarios:
        res['memif'] = scenario_memif(bench, a)
    if 'idle' in scenarios:
        res['idle'] = scenario_idle(bench, a)
    if 'bridge' in scenarios:
        res['bridge'] = scenario_bridge(bench, a)
    if 'bridge-learn' in scenarios:
        res['bridge-learn'] = scenario_bridge_learn(bench, a)
    if 'overload' in scenarios:
        capacity = res.get('memif', {}).get('bh-l2fwd poll', {}).get('mpps', {}).get('median')
        if not capacity:
            capacity = scenario_memif(bench, argparse.Namespace(
                **{**vars(a), 'forwarders': ['bh-l2fwd poll'], 'rounds': 1}))['bh-l2fwd poll']['mpps']['median']
        res['overload'] = scenario_overload(bench, a, capacity)
        plot(res['overload'], out)
    if 'load' in scenarios:
        res['load'] = cpuload.scenario_load(bench, a)
        cpuload.plot(res['load'], out)


if __name__ == '__main__':
    main()
