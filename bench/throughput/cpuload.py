"""The `load` scenario of the throughput harness: CPU versus offered load.

Two network namespaces the harness makes (ns1 198.18.0.1, ns2 198.18.0.2)
are joined only through the forwarder under test, on one of three port
types:

  tap        net_tap ports; the PMD makes the taps in the root namespace
             and the harness moves their kernel side into the namespaces
             once the ports are up;
  af_packet  net_af_packet on the root ends of two veth pairs whose peers
             are in the namespaces;
  af_xdp     net_af_xdp on such veth pairs.

iperf3 in ns1 sends UDP with 64-byte payloads to an iperf3 server in ns2 at
each offered rate (0 is no traffic at all; `max` is iperf3 unpaced), both
pinned to CPU 0; the forwarder's lcore is on CPU 1 (FWD_LCORE). Per point:

  received   kpps and loss from the server's own report (sequence numbers),
             over the measured window (the client's intervals after the
             warm-up give the rate actually offered); socket drops are the
             receiving namespace's UDP RcvbufErrors, loss that is the rig's
             (the server starved on CPU 0), not the forwarder's; link drops
             those of the namespaces' interfaces (a tap whose queue to the
             PMD is full: the forwarder did not read in time; a veth whose
             peer's backlog is full);
  CPU        run time of the forwarder's threads (/proc/<pid>/task/*/
             schedstat) over the window, in % of one CPU: the whole process,
             and the threads pinned to the forwarding CPU alone (its lcore,
             and bh-l2fwd's ksoftirqd for it). This kernel has no
             IRQ_TIME_ACCOUNTING, so a thread's run time includes the
             softirqs that run in its context: what the kernel does with a
             frame the forwarder writes (tap, veth: netif_rx, then the
             receiving namespace's stack, run at local_bh_enable) is counted
             in the forwarder's CPU, as the bridge's is in its softirq time;
  kernel     irq + softirq time of both CPUs from /proc/stat (sampled at
             each tick, read in 10 ms units: +-0.5% of a CPU over 2 s): the
             Linux bridge's CPU (its forwarding runs in NET_RX, in the
             sender's context at local_bh_enable or in ksoftirqd, both
             counted as softirq), and for the other forwarders what the
             kernel spent in interrupt context meanwhile. System time is
             left out: it is the iperf3 processes' own system calls, the
             same for every forwarder, and the bridge does no work in
             process context. Ticks sample: an idle CPU (NO_HZ) has none,
             so the short softirq bursts of a light load are under-counted,
             and the machine's other tenants are counted too;
  iperf3     run time of the iperf3 client and server (schedstat, exact):
             with the bridge it includes the bridge's whole forwarding
             (softirq in the client's context is counted in its run time on
             this kernel), so the bridge row's iperf3 CPU less that of a
             DPDK forwarder on the same veths bounds the bridge's cost from
             above with exact figures (it also holds the receiving stack,
             which a DPDK forwarder pays in its own CPU);
  CPU busy   all that ran on the forwarding CPU (/proc/stat, sampled the
             same way): a poll-mode forwarder below 100% shows that the
             machine's other load took the rest;
  wake-ups   voluntary context switches of all the forwarder's threads
             (/proc/<pid>/task/*/status) over the window: each is a sleep
             that ended, so per frame they show how often traffic wakes it.

The Linux bridge is the anchor: the same namespaces and addresses, joined
by two veth pairs bridged in a third namespace of the harness (so nothing of
the host's sits on its path; br_netfilter is off there, no firewall).

First-packet latency: with no other traffic, ping from ns1 to ns2 once a
second (so every probe meets a forwarder idle for 1 s), p50 and p99 of the
round trips, once per forwarder and port type (round 1). The round trip is
the request after 1 s idle plus the reply right behind it. In a VM it also
holds the host's wake-up of an idle vCPU wherever a thread must be woken
on one (a plain veth pair here: ~50 us after 1 s idle, ~8 us at 100 pps);
net_tap's receive waits for its SIGIO-driven trigger even in poll mode, so
tap rows pay for the signal's delivery too.

iperf3 paces UDP by waking every --pacing-timer microseconds and sending
what it is behind; its default, 1000 us, sends 10-frame bursts at 10 kpps
and ~75-frame bursts at 100 kpps (measured on a plain veth pair). The
harness uses 100 us: frames come one at a time up to 10 kpps (the case where
a wake-up per frame costs most) and in bursts of ~2 at 20 kpps and ~20 at
100 kpps, as an interrupt-moderated NIC would hand them over. A shorter
timer does not help: the wait stretches by the 50 us default timer slack
(10 us still gave 14-frame bursts at 100 kpps) and costs the sender CPU 0.
Socket buffers are 2 MB (iperf3 -w) so that the server, sharing CPU 0 with
the client, loses nothing at the rates it can take.

Each forwarder process runs the rates in ascending order, one after the
other; the forwarders alternate within a round (harness.alternating()).
"""

import collections
import contextlib
import datetime
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import run as harness  # its helpers are used at call time (run.py imports this module first)

ADDRS = ('198.18.0.1', '198.18.0.2')  # the benchmarking range: never the host's
IPERF_PORT = 5201
PAYLOAD = 64               # UDP payload bytes
PACING_US = 100            # iperf3 --pacing-timer (see above)
SOCKET_BUFFER = '2M'       # iperf3 -w
INTERVAL = 0.5             # iperf3 report interval (s): the window is made of these
TAIL = 0.5                 # the client sends this long after the window
READY_TIMEOUT = 30         # forwarder start until a ping passes
# This scenario's --rounds, --seconds and --warmup unless given: one run of
# every port type, forwarder and rate in about a quarter of an hour.
ROUNDS = 2
SECONDS = 2.0
WARMUP = 0.5
TRAFFIC_CPU = '0'          # iperf3 and ping; the forwarder is on harness.FWD_LCORE

# A forwarder of the scenario: kind 'bh' (bh-l2fwd, args after its "--",
# plus --bh-args), 'bridge' (bh-bridge), 'l2fwd' (DPDK's example) or
# 'kernel' (the Linux bridge). More rows (other Rx rules of adaptive mode)
# go here; --load-forwarders selects by label.
LoadForwarder = collections.namedtuple('LoadForwarder', 'label kind args', defaults=((),))
LOAD_FORWARDERS = [
    LoadForwarder('bh-l2fwd interrupt', 'bh', ('--rx-mode', 'interrupt')),
    LoadForwarder('bh-l2fwd adaptive', 'bh', ('--rx-mode', 'adaptive')),  # the default rule, rate
    LoadForwarder('bh-l2fwd adaptive defer', 'bh', ('--rx-mode', 'adaptive', '--rx-rule', 'defer')),
    LoadForwarder('bh-l2fwd poll', 'bh', ('--rx-mode', 'poll')),
    LoadForwarder('DPDK l2fwd', 'l2fwd'),
    # bh-bridge learns the namespaces' addresses and forwards known unicast: issue 18's row beside the Linux bridge.
    LoadForwarder('bh-bridge adaptive', 'bridge', ('--rx-mode', 'adaptive')),
    LoadForwarder('Linux bridge', 'kernel'),
]
# Frames go to the namespaces' own addresses: every DPDK forwarder leaves the MACs alone.
NO_MAC_UPDATING = ('--no-mac-updating',)

# driver: the PMD; veth: its ports sit on veth pairs (else it makes its own
# interfaces, taps). Interrupt mode runs on all three: net_af_packet and
# net_af_xdp have no Rx interrupt in DPDK 22.11, and bh-l2fwd sleeps on
# their queues' sockets instead (lib/net/port/doorbell.cpp).
PortType = collections.namedtuple('PortType', 'driver veth')
PORT_TYPES = {
    'tap': PortType('net_tap', False),
    'af_packet': PortType('net_af_packet', True),
    'af_xdp': PortType('net_af_xdp', True),
}
DEFAULT_RATES = '0,1,10,20,50,100,max'
MAX = 'max'


def log(*args):
    harness.log(*args)


def die(msg):
    harness.die(msg)


# ------------------------------------------------------------------ options

def add_options(p):
    p.add_argument('--load-ports', default=','.join(PORT_TYPES),
                   help='port types of the load scenario, of: ' + ', '.join(PORT_TYPES))
    p.add_argument('--load-rates', default=DEFAULT_RATES,
                   help='offered loads of the load scenario in kpps (0: no traffic; max: iperf3 unpaced)')
    p.add_argument('--load-forwarders', default=','.join(f.label for f in LOAD_FORWARDERS),
                   help='forwarders of the load scenario, of: ' + ', '.join(f.label for f in LOAD_FORWARDERS))
    p.add_argument('--bh-args', default='', help='more arguments for every bh-l2fwd of the load scenario')
    p.add_argument('--load-probes', type=int, default=10,
                   help='first-packet latency probes (one a second) per forwarder and port type; 0: none')


def check_options(a):
    """Parses and checks the load scenario's options in @a (in place)."""
    a.load_ports = [x.strip() for x in a.load_ports.split(',') if x.strip()]
    for port in a.load_ports:
        if port not in PORT_TYPES:
            die(f'--load-ports: unknown port type {port!r}; known: {", ".join(PORT_TYPES)}')
    rates = []
    for x in (x.strip() for x in a.load_rates.split(',') if x.strip()):
        try:
            rate = x if x == MAX else float(x)
        except ValueError:
            die(f'--load-rates: {x!r} is neither a rate in kpps nor {MAX}')
        if rate != MAX and (rate < 0 or math.isinf(rate) or math.isnan(rate)):
            die(f'--load-rates: {x!r} is not a rate (kpps >= 0)')
        rates.append(rate)
    if not rates or not a.load_ports:
        die('--load-rates and --load-ports must name at least one')
    a.load_rates = rates
    known = {f.label: f for f in LOAD_FORWARDERS}
    a.load_forwarders = [x.strip() for x in a.load_forwarders.split(',') if x.strip()]
    for f in a.load_forwarders:
        if f not in known:
            die(f'--load-forwarders: unknown forwarder {f!r}; known: {", ".join(known)}')
    if not a.load_forwarders:
        die('--load-forwarders must name at least one')
    try:
        a.bh_args = shlex.split(a.bh_args)
    except ValueError as e:
        die(f'--bh-args: {e}')
    if a.load_probes < 0:
        die('--load-probes must be >= 0')
    a.load_rounds = ROUNDS if a.rounds is None else a.rounds
    a.load_seconds = SECONDS if a.seconds is None else a.seconds
    a.load_warmup = WARMUP if a.warmup is None else a.warmup
    if a.load_rounds < 1 or a.load_seconds <= 0 or a.load_warmup < 0:
        die('--rounds must be >= 1, --seconds > 0, --warmup >= 0')


def rate_label(rate):
    return 'limit' if rate == MAX else f'{rate:g}'


# ---------------------------------------------------------------- the rig

def sh(*cmd, check=True):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        die(f'{" ".join(cmd)}: exit {r.returncode}: {(r.stderr or r.stdout).strip()}')
    return r


def in_ns(ns, *cmd):
    return ('ip', 'netns', 'exec', ns, *cmd)


def link_up(ifname):
    r = sh('ip', '-o', 'link', 'show', 'dev', ifname, check=False)
    return r.returncode == 0 and ',UP' in r.stdout.split('>')[0]


@contextlib.contextmanager
def terminated_as_exit():
    """SIGTERM raises SystemExit while in the block, so that the clean-ups
    run (Ctrl-C raises KeyboardInterrupt already)."""
    def stop(signum, frame):
        raise SystemExit(f'bench/throughput/run.py: signal {signum}')
    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


class Rig:
    """The namespaces, named after this process, and what each run puts in
    them; everything is removed on leaving, also on failure."""

    def __init__(self, stack):
        self.tag = f'bhl{os.getpid()}'
        self.ns = (f'{self.tag}a', f'{self.tag}b')
        self.bridge_ns = f'{self.tag}br'
        self.procs = []  # processes in the namespaces: they would keep them alive
        stack.callback(self.remove)
        for ns in (*self.ns, self.bridge_ns):
            sh('ip', 'netns', 'add', ns)
            # No router solicitations, DAD or MLD: at 0 kpps nothing but the probes may pass.
            sh(*in_ns(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'))

    def remove(self):
        for proc in self.procs:
            stop_process(proc)
        for ns in (*self.ns, self.bridge_ns):
            sh('ip', 'netns', 'del', ns, check=False)

    def spawn(self, argv, **kw):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
        self.procs.append(proc)
        return proc

    def place(self, ifname, i):
        """Gives @ifname, now in namespace i, its address, up."""
        ns = self.ns[i]
        sh('ip', '-n', ns, 'addr', 'add', f'{ADDRS[i]}/24', 'dev', ifname)
        sh('ip', '-n', ns, 'link', 'set', ifname, 'up')

    def pmd_ports(self, port, stack):
        """The vdev arguments of @port's two ports; for a veth type, the
        veth pairs (removed when @stack closes)."""
        pt = PORT_TYPES[port]
        if not pt.veth:
            return [f'{pt.driver}{i},iface={self.tag}t{i}' for i in range(2)]
        vdevs = []
        for i in range(2):
            outer, inner = f'{self.tag}r{i}', f'{self.tag}n{i}'
            sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', self.ns[i])
            stack.callback(sh, 'ip', 'link', 'del', outer, check=False)
            # The root namespace's end only carries frames: its own stack must not answer on it.
            sh('sysctl', '-qw', f'net.ipv4.conf.{outer}.arp_ignore=8', f'net.ipv6.conf.{outer}.disable_ipv6=1')
            sh('ip', 'link', 'set', outer, 'up')
            # A packet socket takes frames as the sender left them: no checksum or segmentation offload.
            sh(*in_ns(self.ns[i], 'ethtool', '-K', inner, 'tx', 'off', 'gso', 'off'))
            self.place(inner, i)
            vdevs.append(f'{pt.driver}{i},iface={outer}')
        return vdevs

    def move_taps(self, run):
        """The PMD makes the taps in the root namespace and sets them up
        when its ports start; from then on it uses only their fds, which
        keep working once the interfaces have moved."""
        deadline = time.monotonic() + READY_TIMEOUT
        for i in range(2):
            tap = f'{self.tag}t{i}'
            while not link_up(tap):
                if run.proc.poll() is not None or time.monotonic() > deadline:
                    die(f'{tap} not up (forwarder exit {run.proc.poll()}); see {run.log.name}')
                time.sleep(0.05)
            sh('ip', 'link', 'set', tap, 'netns', self.ns[i])
            self.place(tap, i)

    def linux_bridge(self, stack):
        """Two veth pairs from the namespaces into a bridge of the bridge namespace."""
        br = self.bridge_ns
        sh(*in_ns(br, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0',
                  'net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-arptables=0'), check=False)
        sh('ip', '-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0')
        stack.callback(sh, 'ip', '-n', br, 'link', 'del', 'br0', check=False)
        for i in range(2):
            port, inner = f'{self.tag}b{i}', f'{self.tag}m{i}'
            sh('ip', '-n', br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', inner, 'netns', self.ns[i])
            stack.callback(sh, 'ip', '-n', br, 'link', 'del', port, check=False)
            sh('ip', '-n', br, 'link', 'set', port, 'master', 'br0', 'up')
            self.place(inner, i)
        sh('ip', '-n', br, 'link', 'set', 'br0', 'up')

    def ping(self, *args, timeout=10):
        return subprocess.run(in_ns(self.ns[0], 'taskset', '-c', TRAFFIC_CPU, 'ping', '-n', *args, ADDRS[1]),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)

    def wait_for_path(self, what):
        deadline = time.monotonic() + READY_TIMEOUT
        while self.ping('-c', '1', '-W', '1').returncode != 0:
            if time.monotonic() > deadline:
                die(f'{what}: no ping from {self.ns[0]} to {self.ns[1]} within {READY_TIMEOUT} s')


def stop_process(proc, timeout=5):
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout)


# ------------------------------------------------------------ measurement

def proc_stat():
    """irq + softirq ticks of all CPUs, and the ticks the forwarding CPU
    was busy (anything but idle, iowait and steal), so far."""
    with open('/proc/stat') as f:
        cpus = {fields[0]: [int(x) for x in fields[1:8]] for fields in map(str.split, f) if fields[0].startswith('cpu')}
    user, nice, system, _, _, irq, softirq = cpus[f'cpu{harness.FWD_LCORE}']
    return cpus['cpu'][5] + cpus['cpu'][6], user + nice + system + irq + softirq


def sample(pid, traffic=()):
    """Counters of forwarder @pid (None: the kernel bridge), of the
    processes @traffic (iperf3) and of the kernel now."""
    s = {'t': time.monotonic(), 'traffic_ns': sum(ns for p in traffic for _, ns in harness.task_stats(p))}
    s['kernel'], s['fwd_cpu_busy'] = proc_stat()
    if pid:
        tasks = harness.task_stats(pid)
        s['process_ns'] = sum(ns for _, ns in tasks)
        s['lcore_ns'] = sum(ns for status, ns in tasks if harness.allowed_cpus(status) == str(harness.FWD_LCORE))
        s['wakeups'] = sum(int(re.search(r'^voluntary_ctxt_switches:\s*(\d+)', status, re.M).group(1))
                           for status, _ in tasks)
    return s


def cpu_over(s0, s1):
    dt = s1['t'] - s0['t']
    hz = os.sysconf('SC_CLK_TCK')
    out = {'seconds': dt, 'kernel_cpu': 100 * (s1['kernel'] - s0['kernel']) / hz / dt,
           'fwd_cpu_busy': 100 * (s1['fwd_cpu_busy'] - s0['fwd_cpu_busy']) / hz / dt,
           'traffic_cpu': 100 * (s1['traffic_ns'] - s0['traffic_ns']) / 1e9 / dt}
    if 'process_ns' in s0:
        out['cpu'] = 100 * (s1['process_ns'] - s0['process_ns']) / 1e9 / dt
        out['lcore_cpu'] = 100 * (s1['lcore_ns'] - s0['lcore_ns']) / 1e9 / dt
        out['wakeups_per_s'] = (s1['wakeups'] - s0['wakeups']) / dt
    else:
        out['cpu'] = out['kernel_cpu']  # the bridge's CPU is the kernel's
    return out


def udp_rcvbuf_errors(pid):
    """UDP RcvbufErrors of the namespace process @pid is in."""
    with open(f'/proc/{pid}/net/snmp') as f:
        udp = [line.split() for line in f if line.startswith('Udp:')]
    return int(udp[1][udp[0].index('RcvbufErrors')])


def link_drops(pid):
    """Frames the interfaces of the namespace process @pid is in have dropped
    (receive and transmit): a tap counts a frame for which its queue to the
    PMD was full as a transmit drop."""
    with open(f'/proc/{pid}/net/dev') as f:
        rows = [line.split(':', 1) for line in f if ':' in line]
    return sum(int(c[3]) + int(c[11]) for name, c in ((n.strip(), v.split()) for n, v in rows) if name != 'lo')


def listening(pid, port):
    with contextlib.suppress(OSError), open(f'/proc/{pid}/net/tcp') as f:
        return any(fields[1].endswith(f':{port:04X}') and fields[3] == '0A' for fields in map(str.split, f))
    return False


class Hung(Exception):
    """An iperf3 that did not end: the point is measured again."""


# iperf3 ends its test by a results exchange on its TCP control connection,
# which goes through the forwarder too; at the unpaced rate the exchange
# was once lost and the client waited for ever.
POINT_ATTEMPTS = 3
IPERF_TIMEOUT = 30  # s, after the end of its test


def iperf_json(proc, what, log_path):
    try:
        out, err = proc.communicate(timeout=IPERF_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Hung(f'{what}: no result after {IPERF_TIMEOUT:g} s') from None
    with open(log_path, 'a') as f:
        f.write(f'--- {what}\n{out}\n{err}\n')
    try:
        res = json.loads(out)
    except ValueError:
        die(f'{what}: exit {proc.returncode}, no JSON; see {log_path}')
    if 'error' in res:
        die(f'{what}: {res["error"]}; see {log_path}')
    return res


def window_sums(res, start, end):
    """Sums of the report intervals of iperf3 result @res within [@start, @end] s."""
    sums = [i['sum'] for i in res['intervals'] if i['sum']['start'] >= start - 0.05 and i['sum']['end'] <= end + 0.05]
    if not sums:
        return None
    return {'seconds': sum(s['seconds'] for s in sums), 'packets': sum(s['packets'] for s in sums),
            'lost': sum(s.get('lost_packets', 0) for s in sums)}


def counted_drops(client, server):
    """The receiving socket's drops, and those of the namespaces' interfaces."""
    return udp_rcvbuf_errors(server.pid), link_drops(client.pid) + link_drops(server.pid)


def measure_point(rig, pid, rate, a, log_path):
    """One offered @rate (kpps, or MAX) through the running forwarder."""
    warmup, seconds = a.load_warmup, a.load_seconds
    if rate == 0:
        time.sleep(warmup)
        s0 = sample(pid)
        time.sleep(seconds)
        return {'offered_kpps': 0.0, 'received_kpps': 0.0, 'socket_drops': 0, 'link_drops': 0,
                **cpu_over(s0, sample(pid))}
    server = rig.spawn(in_ns(rig.ns[1], 'iperf3', '-s', '-1', '-J', '-A', TRAFFIC_CPU, '-B', ADDRS[1],
                             '-p', str(IPERF_PORT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not listening(server.pid, IPERF_PORT):
            if server.poll() is not None or time.monotonic() > deadline:
                die(f'iperf3 server in {rig.ns[1]} not listening (exit {server.poll()})')
            time.sleep(0.02)
        bps = 0 if rate == MAX else round(rate * 1000 * PAYLOAD * 8)
        client = rig.spawn(in_ns(rig.ns[0], 'iperf3', '-c', ADDRS[1], '-p', str(IPERF_PORT), '-u',
                                 '-l', str(PAYLOAD), '-b', str(bps), '--pacing-timer', str(PACING_US),
                                 '-w', SOCKET_BUFFER, '-t', f'{warmup + seconds + TAIL:g}',
                                 '-i', str(INTERVAL), '-A', TRAFFIC_CPU, '-J'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            launched = time.monotonic()
            # The stream starts once the control connection is set up (tens of ms): the window lies within it.
            time.sleep(warmup + 0.1)
            s0, drops0 = sample(pid, (client.pid, server.pid)), counted_drops(client, server)
            time.sleep(max(0.0, launched + warmup + seconds - time.monotonic()))
            s1, drops1 = sample(pid, (client.pid, server.pid)), counted_drops(client, server)
            sent = iperf_json(client, f'iperf3 client, {rate_label(rate)} kpps', log_path)
        finally:
            stop_process(client, 30)
        got = iperf_json(server, f'iperf3 server, {rate_label(rate)} kpps', log_path)
    finally:
        stop_process(server)
    tx, rx = window_sums(sent, warmup, warmup + seconds), window_sums(got, warmup, warmup + seconds)
    if not tx or not rx:
        die(f'iperf3 reported no interval within {warmup:g}-{warmup + seconds:g} s; see {log_path}')
    received = rx['packets'] - rx['lost']
    out = {'offered_kpps': tx['packets'] / tx['seconds'] / 1e3, 'received_kpps': received / rx['seconds'] / 1e3,
           'loss': 100 * rx['lost'] / rx['packets'] if rx['packets'] else 0.0, **cpu_over(s0, s1)}
    out['socket_drops'], out['link_drops'] = (d1 - d0 for d0, d1 in zip(drops0, drops1))
    if 'wakeups_per_s' in out and out['received_kpps'] > 0:
        out['wakeups_per_frame'] = out['wakeups_per_s'] / (out['received_kpps'] * 1e3)
    return out


def measured_again_if_hung(measure, what, log_path):
    """@measure()'s point, called again (at most POINT_ATTEMPTS times in
    all) while an iperf3 of it hangs; None if it hung every time."""
    for attempt in range(1, POINT_ATTEMPTS + 1):
        try:
            return measure()
        except Hung as e:
            log(f'  {what}: {e}' + ('; measured again' if attempt < POINT_ATTEMPTS else
                                    f', {POINT_ATTEMPTS} times; see {log_path}'))
    return None


# A forwarder that passes no ping any more after its point hung would hang
# every later point too: they are recorded as not measured, and the run
# goes on with the next forwarder (net_af_xdp in interrupt mode once
# stopped receiving for good at the unpaced rate: docs/benchmarks.md).
def failed_point(rate, path_alive):
    """The point recorded for @rate after its iperf3 hung every time, and
    whether the forwarder's later rates can still be measured."""
    why = f'iperf3 hung {POINT_ATTEMPTS} times at {rate_label(rate)} kpps'
    if path_alive:
        return {'failed': why}, True
    return {'failed': why + '; the forwarder passed no ping after it (stopped forwarding)'}, False


def percentile(values, p):
    """Nearest-rank percentile @p of @values."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def probe_latency(rig, n, log_path):
    """@n pings one second apart with nothing else passing; round trips in
    us. One more goes first, not counted: it follows the path check's ping
    at once, not after an idle second."""
    r = rig.ping('-i', '1', '-c', str(n + 1), '-W', '2', timeout=n + 30)
    with open(log_path, 'a') as f:
        f.write(f'--- ping\n{r.stdout}\n{r.stderr}\n')
    replies = re.finditer(r'icmp_seq=(\d+) .*time=([\d.]+) ms', r.stdout)
    got = [float(m.group(2)) * 1e3 for m in replies if int(m.group(1)) > 1]
    out = {'probes': n, 'lost': n - len(got), 'rtt_us': got}
    if got:
        out.update(p50_us=percentile(got, 50), p99_us=percentile(got, 99))
    return out


# -------------------------------------------------------------- the runs

def run_forwarder(bench, a, rig, port, row, latency):
    """Starts forwarder @row on @port, probes latency if @latency, runs
    every rate; returns {'points': {rate: point}, 'latency': ...}."""
    what = f'{row.label} on {port}'
    prefix = bench.prefix('load')  # a DPDK forwarder's --file-prefix, and the number of the logs
    name = f'load-{port}-{row.label.replace(" ", "-")}'
    log_path, traffic_log = bench.log_path(name), bench.log_path(f'{name}-traffic')
    with contextlib.ExitStack() as stack:
        pid, run = None, None
        if row.kind == 'kernel':
            rig.linux_bridge(stack)
        else:
            vdevs = rig.pmd_ports(port, stack)
            # bh-bridge never rewrites frames, and takes no --no-mac-updating.
            extra = [*(NO_MAC_UPDATING if row.kind != 'bridge' else ()), *row.args,
                     *(a.bh_args if row.kind == 'bh' else ())]
            fwd = harness.Forwarder(row.label, row.kind, extra)
            run = harness.Running(fwd, fwd.argv(bench.progs, prefix, vdevs, 2), 2, log_path)
            stack.callback(harness.remove_runtime_dir, prefix)
            stack.callback(run.stop)
            # The first statistics report: the ports are started and the lcore is in its loop.
            deadline = time.monotonic() + READY_TIMEOUT
            while not run.samples:
                if run.proc.poll() is not None or time.monotonic() > deadline:
                    die(f'{what}: no statistics (exit {run.proc.poll()}); see {log_path}')
                time.sleep(0.05)
            if not PORT_TYPES[port].veth:
                rig.move_taps(run)
            pid = run.proc.pid
        rig.wait_for_path(what)
        out = {'points': {}}
        if latency:
            out['latency'] = probe_latency(rig, a.load_probes, traffic_log)
        stalled = None
        for rate in a.load_rates:
            if stalled:
                out['points'][rate] = {'failed': f'not measured: {stalled}'}
                continue
            point = measured_again_if_hung(lambda: measure_point(rig, pid, rate, a, traffic_log), what, traffic_log)
            if point is None:
                point, alive = failed_point(rate, rig.ping('-c', '3', '-W', '1').returncode == 0)
                if not alive:
                    stalled = f'the forwarder stopped forwarding at {rate_label(rate)} kpps'
            out['points'][rate] = point
            if run and run.proc.poll() is not None:
                die(f'{what}: the forwarder exited ({run.proc.returncode}) at {rate_label(rate)} kpps; see {log_path}')
    return out


def point_text(p):
    if 'failed' in p:
        return f'FAILED: {p["failed"]}'
    text = f'cpu {p["cpu"]:6.2f}%'
    if 'lcore_cpu' in p:
        text += f' (lcore {p["lcore_cpu"]:6.2f}%, {p["wakeups_per_s"]:8.0f} wake-ups/s)'
    text += (f'  kernel {p["kernel_cpu"]:5.1f}%, iperf3 {p["traffic_cpu"]:5.1f}%, '
             f'CPU {harness.FWD_LCORE} busy {p["fwd_cpu_busy"]:5.1f}%')
    if p['offered_kpps']:
        text += (f'  sent {p["offered_kpps"]:7.1f} got {p["received_kpps"]:7.1f} kpps, loss {p["loss"]:5.2f}%'
                 f' ({p["socket_drops"]} at the socket, {p["link_drops"]} at the links)')
    return text


POINT_KEYS = ('offered_kpps', 'received_kpps', 'loss', 'socket_drops', 'link_drops', 'cpu', 'lcore_cpu', 'kernel_cpu',
              'traffic_cpu', 'fwd_cpu_busy', 'wakeups_per_s', 'wakeups_per_frame')


def summarise_point(rate, runs):
    """Medians and spreads of @rate's measured runs; the failed ones by reason."""
    out = {'rate_kpps': rate, **harness.summarise([r for r in runs if 'failed' not in r], POINT_KEYS)}
    failed = [r['failed'] for r in runs if 'failed' in r]
    if failed:
        out['failed'] = failed
    return out


def load_port(bench, a, rig, port, rows):
    """Every forwarder of @rows on @port, alternating, @a.load_rounds times."""
    res = {'driver': PORT_TYPES[port].driver, 'forwarders': {}}
    latency = {}

    def run_one(row, r):
        got = run_forwarder(bench, a, rig, port, row, a.load_probes and r == 0)
        if 'latency' in got:
            latency[row.label] = lat = got['latency']
            log(f'  {port} {row.label:20s} first packet after 1 s idle: round trip p50 '
                f'{lat.get("p50_us", math.nan):.0f} us, p99 {lat.get("p99_us", math.nan):.0f} us, '
                f'{lat["lost"]} of {lat["probes"]} lost')
        for rate, p in got['points'].items():
            log(f'  round {r + 1}: {port} {row.label:20s} {rate_label(rate):>5s} kpps: {point_text(p)}')
        return got['points']
    for row, runs in harness.alternating(rows, a.load_rounds, run_one).items():
        res['forwarders'][row.label] = {
            'args': list(row.args), 'latency': latency.get(row.label),
            'points': [summarise_point(rate, [r[rate] for r in runs]) for rate in a.load_rates]}
    return res


def scenario_load(bench, a):
    log(f'load: CPU versus offered load (UDP, {PAYLOAD}-byte payloads) on {", ".join(a.load_ports)}')
    for tool in ('ip', 'iperf3', 'ping', 'ethtool', 'taskset'):
        if not shutil.which(tool):
            die(f'{tool} is missing: devtools/setup.sh installs it')
    started = datetime.datetime.utcnow()
    rows = [f for f in LOAD_FORWARDERS if f.label in a.load_forwarders]
    out = {'date': f'{started:%Y-%m-%d %H:%M}',
           'command': ' '.join(['python3', 'bench/throughput/run.py', *map(shlex.quote, sys.argv[1:])]),
           'settings': {'rates_kpps': a.load_rates, 'rounds': a.load_rounds, 'seconds': a.load_seconds,
                        'warmup': a.load_warmup, 'probes': a.load_probes, 'pacing_us': PACING_US,
                        'payload': PAYLOAD, 'bh_args': a.bh_args},
           'ports': {}}
    try:
        with terminated_as_exit(), contextlib.ExitStack() as stack:
            rig = Rig(stack)
            for port in a.load_ports:
                out['ports'][port] = load_port(bench, a, rig, port, rows)
    except KeyboardInterrupt:
        die('load: interrupted; its namespaces and interfaces are removed')
    return out


# ---------------------------------------------------------------- reports

def med(p, key, digits=1, spread=False):
    if key not in p:
        return 'n/a'
    m = p[key]
    text = f'{m["median"]:.{digits}f}'
    return text + (f' ({m["min"]:.{digits}f}-{m["max"]:.{digits}f})' if spread and len(m['runs']) > 1 else '')


def plot(load, out):
    """cpu-load-<port>.dat and .png (gnuplot): the forwarders' CPU against the offered load."""
    for port, res in load['ports'].items():
        fwds = res['forwarders']
        if not fwds:
            continue
        dat = os.path.join(out, f'cpu-load-{port}.dat')
        with open(dat, 'w') as f:
            f.write('# one block per forwarder: position, offered (kpps), CPU % of one CPU median, min, max\n')
            for label, r in fwds.items():
                f.write(f'# {label}\n')
                for i, p in enumerate(r['points']):
                    if 'cpu' not in p:
                        continue
                    c = p['cpu']
                    f.write(f'{i} {rate_label(p["rate_kpps"])} {c["median"]:.3f} {c["min"]:.3f} {c["max"]:.3f}\n')
                f.write('\n\n')
        if not shutil.which('gnuplot'):
            log(f'gnuplot is missing (install gnuplot-nox): cpu-load-{port}.png not drawn')
            continue
        # Categories, not a scale: 0 to the limit spans three decades. The curves are set apart a little.
        tics = ', '.join(f'"{rate_label(r)}" {i}' for i, r in enumerate(load['settings']['rates_kpps']))
        curves = ', \\\n     '.join(
            f'"{dat}" index {i} using ($1+{0.04 * (i - (len(fwds) - 1) / 2):.2f}):3:4:5 with yerrorlines '
            f'lw 2 pt 7 title "{label}"' for i, label in enumerate(fwds))
        script = f"""
set terminal pngcairo size 1000,540 font ",11" noenhanced
set output "{os.path.join(out, f'cpu-load-{port}.png')}"
set title "CPU of the forwarder against offered load ({res['driver']} ports, UDP {PAYLOAD}-byte payloads)"
set xlabel "offered load (kpps; limit: iperf3 unpaced)"
set ylabel "CPU (% of one CPU; median, min-max)"
set xtics ({tics})
set yrange [0:*]
set offsets 0.3, 0.3, 0, 0
set key outside right top
set grid
plot {curves}
"""
        subprocess.run(['gnuplot'], input=script, text=True, check=True)


def report(load):
    """The README section of @load (scenario_load's result)."""
    s = load['settings']
    lines = [
        '## CPU versus offered load: tap and veth ports between two namespaces', '',
        f'Measured {load["date"]} UTC by', '', f'    {load["command"]}', '',
        'iperf3 in namespace 1 sends UDP with 64-byte payloads to an iperf3 server in namespace 2, both on '
        f'CPU 0 (`--pacing-timer {s["pacing_us"]}`: one frame at a time up to 10 kpps, bursts of ~20 at '
        '100 kpps; limit: unpaced). The forwarder (lcore 1 on CPU 1, `--no-mac-updating`) joins the '
        'namespaces, or the Linux bridge does on veth pairs. Per point, over '
        f'{s["seconds"]:g} s after {s["warmup"]:g} s of warm-up; medians of {s["rounds"]} rounds (min-max '
        'where shown), the forwarders alternating, each forwarder process running the rates in ascending '
        'order. bench/throughput/cpuload.py says more.', '',
        '- received, loss: from the iperf3 server\'s report; socket drops: those of the lost that the '
        'server\'s socket dropped (CPU 0 busy), not the forwarder; link drops: dropped by the namespaces\' '
        'interfaces, such as a tap whose queue to the PMD was full (the forwarder did not read in time);',
        '- CPU process, lcore: run time of the whole forwarder process and of its threads on CPU 1 '
        '(schedstat); this kernel has no IRQ_TIME_ACCOUNTING, so it includes the softirqs run in their '
        'context, such as delivering the frames they write;',
        '- kernel irq+softirq: of both CPUs, from /proc/stat: the Linux bridge\'s CPU. Tick-sampled in '
        '10 ms units; an idle CPU has no ticks, so light loads are under-counted, and the machine\'s other '
        'tenants count too;',
        '- iperf3 CPU: client and server (schedstat); with the bridge it includes the bridge\'s forwarding, '
        'which runs in the client\'s softirq;',
        '- CPU 1 busy: all that ran on the forwarding CPU (/proc/stat, tick-sampled): where a poll-mode '
        'forwarder is below 100%, the machine\'s other load took the rest;',
        '- wake-ups: voluntary context switches of the forwarder\'s threads;',
        '- first packet after 1 s idle: ping from namespace 1 to 2 once a second, nothing else passing, '
        f'{s["probes"]} probes (p99 of so few is about their maximum); in this VM it includes the host '
        'waking an idle vCPU.', '']
    for port, res in load['ports'].items():
        fwds = res['forwarders']
        lines += [f'### {res["driver"]}', '']
        if not fwds:
            continue
        lines += [f'![CPU against offered load on {res["driver"]}](cpu-load-{port}.png)', '',
                  'CPU of the forwarder, % of one CPU, median (min-max):', '',
                  '| offered kpps | ' + ' | '.join(fwds) + ' |', '|---|' + '---|' * len(fwds)]
        for i, rate in enumerate(load['settings']['rates_kpps']):
            lines.append(f'| {rate_label(rate)} | ' +
                         ' | '.join(med(r['points'][i], 'cpu', spread=True) for r in fwds.values()) + ' |')
        lines += ['', '| forwarder | offered kpps | sent kpps | received kpps | loss % (min-max) | socket drops | '
                  'link drops | '
                  'CPU % process | CPU % lcore | kernel irq+softirq % | iperf3 CPU % | CPU 1 busy % | wake-ups/s | '
                  'wake-ups/frame |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
        for label, r in fwds.items():
            for p in r['points']:
                lines.append(f'| {label} | {rate_label(p["rate_kpps"])} | {med(p, "offered_kpps")} | '
                             f'{med(p, "received_kpps")} | {med(p, "loss", 2, spread=True)} | '
                             f'{med(p, "socket_drops", 0)} | {med(p, "link_drops", 0)} | {med(p, "cpu")} | '
                             f'{med(p, "lcore_cpu")} | '
                             f'{med(p, "kernel_cpu")} | {med(p, "traffic_cpu")} | {med(p, "fwd_cpu_busy")} | '
                             f'{med(p, "wakeups_per_s", 0)} | '
                             f'{med(p, "wakeups_per_frame", 3)} |')
        failed = [f'- {label} at {rate_label(p["rate_kpps"])} kpps, {len(p["failed"])} of '
                  f'{load["settings"]["rounds"]} rounds: {"; ".join(sorted(set(p["failed"])))}'
                  for label, r in fwds.items() for p in r['points'] if p.get('failed')]
        if failed:
            lines += ['', 'Points not measured (the figures above are of the other rounds, n/a where none):', '',
                      *failed]
        if any(r['latency'] for r in fwds.values()):
            lines += ['', 'First packet after 1 s idle (ping round trip):', '',
                      '| forwarder | p50 us | p99 us | probes | lost |', '|---|---|---|---|---|']
            for label, r in fwds.items():
                lat = r['latency']
                if lat:
                    lines.append(f'| {label} | {lat.get("p50_us", math.nan):.0f} | {lat.get("p99_us", math.nan):.0f} | '
                                 f'{lat["probes"]} | {lat["lost"]} |')
        lines.append('')
    return lines
