#!/usr/bin/env python3
"""The framework in DPDK's own channels, seen from outside the process.

Usage: test_observability.py BH_L2FWD_BINARY TRACE_WORKLOAD_BINARY [unittest options]

rte_telemetry: while bh-l2fwd forwards on two net_null ports, its telemetry
socket lists the /bh/ commands, their counters move with the traffic, a bad
parameter gets null, and dpdk-telemetry.py shows them too.
rte_trace: a capture of bh-l2fwd and one of trace_workload (a tasklet that
queues a work item) read back with babeltrace hold the bh.* events, with
fields that match what the programs did.

Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path += [os.path.join(HERE, os.pardir, 'common'), os.path.join(HERE, os.pardir, 'apps')]
import gtest_xml  # noqa: E402
import test_bh_l2fwd as l2fwd  # noqa: E402  (its App runs one bh-l2fwd process)

WORKLOAD = None  # the trace_workload executable, from the command line

SUITE = 'observability'
READY_TIMEOUT = 15   # bh-l2fwd start-up until its commands answer
RUN_TIMEOUT = 30     # a run that stops by itself
FWD_LCORE = 0        # the lcore polling both ports: l2fwd gives -q 2 ports to lcore 0, the main one
IDLE_LCORE = 1       # the other lcore of the default -l 0-1, with no port
NET_RX, TASKLET = 3, 26
NAPI_WEIGHT = 64

CORE_COMMANDS = ['/bh/lcore/list', '/bh/lcore', '/bh/softirq/list', '/bh/softirq', '/bh/ksoftirqd',
                 '/bh/tasklet', '/bh/timer', '/bh/workqueue/list', '/bh/workqueue']
NET_COMMANDS = ['/bh/net/softnet', '/bh/net/lcore', '/bh/net/port/list', '/bh/net/port', '/bh/net/port/rxq',
                '/bh/net/port/txq']
TRACE_POINTS = ['bh.softirq.raise', 'bh.softirq.entry', 'bh.softirq.exit', 'bh.tasklet.entry',
                'bh.tasklet.exit', 'bh.workqueue.queue_work', 'bh.workqueue.execute_start',
                'bh.workqueue.execute_end', 'bh.napi.poll']


def runtime_dir(prefix):
    """DPDK's runtime directory for a file prefix, found as the EAL (and
    dpdk-telemetry.py) find it."""
    base = os.environ.get('RUNTIME_DIRECTORY')
    if not base:
        base = '/var/run' if os.getuid() == 0 else os.environ.get('XDG_RUNTIME_DIR', '/tmp')
    return os.path.join(base, 'dpdk', prefix)


class TelemetryClient:
    """One connection to a telemetry socket: SOCK_SEQPACKET, a JSON greeting,
    then one JSON reply per command."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(5)
        try:
            self.sock.connect(path)
            self.greeting = json.loads(self.sock.recv(1024))
        except (OSError, ValueError):
            self.sock.close()
            raise

    def query(self, cmd):
        """The reply's value: a dict or list, or None when the command refused."""
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(self.greeting['max_output_len']))
        return reply[cmd.split(',', 1)[0]]

    def close(self):
        self.sock.close()


def connect(app, prefix):
    """A client of bh-l2fwd @app (its EAL file prefix @prefix) once the socket
    answers and every /bh command is registered (they come with bh::start
    and net_init, after the socket)."""
    path = os.path.join(runtime_dir(prefix), 'dpdk_telemetry.v2')
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and app.running():
        try:
            client = TelemetryClient(path)
        except (OSError, ValueError):
            time.sleep(0.1)
            continue
        try:
            if set(CORE_COMMANDS + NET_COMMANDS) <= set(client.query('/')):
                return client
        except (OSError, ValueError):
            pass  # the process went away: the loop condition says so
        client.close()
        time.sleep(0.1)
    raise AssertionError(f'no telemetry socket with the /bh commands at {path}\n{app.report()}')


class Telemetry(unittest.TestCase):
    """One bh-l2fwd at full load on net_null ports for all the queries."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix=f'bhobs{os.getpid()}-')
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.app = l2fwd.App(cls.workdir, l2fwd.null_ports(2), [*l2fwd.TWO_PORTS, '-T', '0', '--duration', '60'],
                            summary=False)
        cls.addClassCleanup(cls.app.kill)
        # bh::eal_init's default file prefix; a killed run leaves its directory.
        cls.prefix = f'bh-{cls.app.proc.pid}'
        cls.addClassCleanup(shutil.rmtree, runtime_dir(cls.prefix), ignore_errors=True)
        cls.client = cls.connect()
        cls.addClassCleanup(cls.client.close)

    @classmethod
    def connect(cls):
        return connect(cls.app, cls.prefix)

    def query(self, cmd):
        return self.client.query(cmd)

    def test_telemetry_greets_from_bh_l2fwd_and_lists_the_bh_commands(self):
        self.assertEqual(self.client.greeting['pid'], self.app.proc.pid, 'connected to another process')
        listed = [c for c in self.query('/') if c.startswith('/bh/')]
        self.assertEqual(sorted(listed), sorted(CORE_COMMANDS + NET_COMMANDS))
        for cmd in listed:
            self.assertTrue(self.query(f'/help,{cmd}')[cmd], f'{cmd} has no help text')

    def test_telemetry_counters_grow_with_the_traffic(self):
        self.assertEqual(self.query('/bh/lcore/list'), [FWD_LCORE, IDLE_LCORE])
        first = {cmd: self.query(f'{cmd},{FWD_LCORE}') for cmd in ('/bh/net/softnet', '/bh/softirq', '/bh/lcore')}
        port0 = self.query('/bh/net/port,0')
        time.sleep(0.5)
        softnet = self.query(f'/bh/net/softnet,{FWD_LCORE}')
        self.assertGreater(first['/bh/net/softnet']['processed'], 0, 'no packets processed: no load')
        self.assertGreater(softnet['processed'], first['/bh/net/softnet']['processed'])
        self.assertGreater(softnet['polls'], first['/bh/net/softnet']['polls'])
        softirq = self.query(f'/bh/softirq,{FWD_LCORE}')
        self.assertEqual(softirq['name'][NET_RX], 'NET_RX')
        self.assertGreater(softirq['run'][NET_RX], first['/bh/softirq']['run'][NET_RX])
        self.assertGreaterEqual(softirq['raised'][NET_RX], softirq['run'][NET_RX])
        self.assertGreater(self.query(f'/bh/lcore,{FWD_LCORE}')['iterations'], first['/bh/lcore']['iterations'])
        self.assertGreater(self.query('/bh/net/port,0')['rx'], port0['rx'])
        # One Rx queue per port, polled by the forwarding lcore, which sends on Tx queue 0 of the other.
        rxq, txq = self.query('/bh/net/port/rxq,0'), self.query('/bh/net/port/txq,1')
        self.assertEqual((rxq['queue'], rxq['lcore'], rxq['dropped']), ([0], [FWD_LCORE], [0]), rxq)
        self.assertEqual((txq['queue'], txq['lcore']), ([0], [FWD_LCORE]), txq)
        self.assertGreater(rxq['rx'][0], port0['rx'], 'the queue\'s count does not move with the port\'s')
        self.assertGreater(txq['tx'][0], 0)
        # Nothing was dropped: what the worker processed it sent.
        lcore = self.query(f'/bh/net/lcore,{FWD_LCORE}')
        self.assertEqual(sum(v for k, v in lcore.items() if k.startswith('dropped_')), 0, lcore)
        self.assertGreaterEqual(lcore['tx'] + lcore['in_flight'], softnet['processed'])

    def test_telemetry_every_family_answers_with_its_counters(self):
        families = {
            '/bh/lcore': {'iterations', 'busy', 'sleeps', 'wakeups', 'yields', 'busy_cycles', 'idle_cycles', 'irqs', 'bh_held'},
            '/bh/softirq': {'name', 'raised', 'run', 'run_ksoftirqd', 'cycles', 'ns', 'context_leaks'},
            '/bh/ksoftirqd': {'exists', 'active', 'wakeups', 'batches', 'softirqs', 'dpdk_lcore_id'},
            '/bh/tasklet': {'run', 'requeued_running', 'requeued_disabled', 'killed', 'remote'},
            '/bh/timer': {'expired', 'softirqs', 'deferred', 'adopted'},
            '/bh/net/softnet': {'processed', 'polls', 'time_squeeze', 'passes', 'interrupts', 'to_poll',
                                'to_interrupt', 'backoffs', 'spurious'},
            '/bh/net/lcore': {'processed', 'polls', 'time_squeeze', 'passes', 'tx', 'backlogged', 'in_flight',
                              'interrupts', 'to_poll', 'to_interrupt', 'backoffs', 'spurious', 'dropped_runt',
                              'dropped_oversize', 'dropped_chained', 'dropped_tx_full', 'dropped_no_txq',
                              'dropped_handler'},
        }
        for cmd, keys in families.items():
            with self.subTest(cmd=cmd):
                self.assertEqual(set(self.query(f'{cmd},{FWD_LCORE}')), keys)
        ksoftirqd = self.query(f'/bh/ksoftirqd,{FWD_LCORE}')
        self.assertEqual(ksoftirqd['exists'], 1)
        # Its own DPDK lcore id, which is not a framework lcore.
        self.assertNotIn(ksoftirqd['dpdk_lcore_id'], [FWD_LCORE, IDLE_LCORE, 0xFFFFFFFF])
        self.assertIsNone(self.query(f"/bh/lcore,{ksoftirqd['dpdk_lcore_id']}"))
        names = self.query('/bh/softirq/list')
        self.assertEqual(len(names), 32)
        self.assertEqual([names[i] for i in (0, 1, 2, NET_RX, TASKLET)], ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'TASKLET'])
        self.assertEqual(self.query('/bh/net/port/list'), [0, 1])
        self.assertEqual(set(self.query('/bh/net/port,1')), {'rx', 'tx', 'rx_dropped', 'tx_dropped'})
        self.assertEqual(set(self.query('/bh/net/port/rxq,1')), {'queue', 'lcore', 'rx', 'dropped'})
        self.assertEqual(set(self.query('/bh/net/port/txq,1')), {'queue', 'lcore', 'tx', 'dropped'})
        self.assertIn('events', self.query('/bh/workqueue/list'))
        events = self.query('/bh/workqueue,events')
        # The default queue is bound: one pool and one worker per lcore.
        self.assertEqual((events['pools'], events['workers']), (2, 2))

    def test_telemetry_bad_parameters_get_null(self):
        bad = ['/bh/softirq', '/bh/softirq,', '/bh/softirq,x', '/bh/softirq,1x', '/bh/softirq,-1', '/bh/softirq, 1',
               '/bh/softirq,99999999999', '/bh/lcore,100', '/bh/ksoftirqd,100', '/bh/net/softnet,100',
               '/bh/net/port,31', '/bh/net/port,0x1', '/bh/workqueue', '/bh/workqueue,no_such_queue',
               '/bh/lcore/list,1', '/bh/softirq/list,1', '/bh/net/port/list,0', '/bh/net/port/rxq',
               '/bh/net/port/rxq,31', '/bh/net/port/txq,x']
        for cmd in bad:
            with self.subTest(cmd=cmd):
                self.assertIsNone(self.query(cmd))
        # The same commands, well asked, answer.
        for cmd in ['/bh/softirq,1', '/bh/lcore,0', '/bh/net/port,1', '/bh/workqueue,events', '/bh/lcore/list']:
            with self.subTest(cmd=cmd):
                self.assertIsNotNone(self.query(cmd))

    def test_dpdk_telemetry_py_shows_the_bh_commands(self):
        script = shutil.which('dpdk-telemetry.py')
        self.assertIsNotNone(script, 'dpdk-telemetry.py not found (Debian package dpdk)')
        run = subprocess.run([script, '-f', self.prefix], input=f'/\n/bh/net/softnet,{FWD_LCORE}\n',
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(run.returncode, 0, run.stderr)
        replies = {}
        for line in run.stdout.splitlines():
            replies.update(json.loads(line))
        self.assertLessEqual(set(CORE_COMMANDS + NET_COMMANDS), set(replies.get('/', [])), run.stdout)
        self.assertGreater(replies['/bh/net/softnet']['processed'], 0, run.stdout)


class TelemetryDrops(unittest.TestCase):
    """/bh/net/port charges each drop to one side of one port, as bh-l2fwd's
    statistics do, on the ports of test_bh_l2fwd.dropping_ports."""

    def test_telemetry_port_counts_rx_and_tx_drops_on_their_own_ports(self):
        workdir = tempfile.mkdtemp(prefix=f'bhobs{os.getpid()}-')
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        vdevs, args = l2fwd.dropping_ports(workdir)
        app = l2fwd.App(workdir, vdevs, [*args, '-T', '0', '--duration', '60'], summary=False)
        self.addCleanup(app.kill)
        prefix = f'bh-{app.proc.pid}'
        self.addCleanup(shutil.rmtree, runtime_dir(prefix), ignore_errors=True)
        client = connect(app, prefix)
        self.addCleanup(client.close)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            ports = {p: client.query(f'/bh/net/port,{p}') for p in range(4)}
            if (ports[1]['tx_dropped'] and ports[2]['rx_dropped']) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertGreater(ports[1]['tx_dropped'], 0, f'Tx drops not on the Tx port: {ports}')
        self.assertGreater(ports[2]['rx_dropped'], 0, f'runts not on the Rx port: {ports}')
        self.assertGreater(ports[0]['rx'], 0, 'no load')
        self.assertEqual([ports[0]['rx_dropped'], ports[0]['tx_dropped'], ports[1]['rx_dropped'],
                          ports[2]['tx_dropped']], [0, 0, 0, 0], ports)


# ---------------------------------------------------------------- trace

EVENT = re.compile(r'^\[[^\]]*\] \([^)]*\) (?P<name>[\w.]+): \{ (?P<context>.*?) \}, \{ (?P<fields>.*) \}$')
FIELD = re.compile(r'(\w+) = ("[^"]*"|[^,]+)')


def parse_fields(text):
    return {k: v[1:-1] if v.startswith('"') else int(v, 0) for k, v in FIELD.findall(text)}


def read_trace(trace_dir):
    """The events of the one capture under @trace_dir, in time order:
    (name, thread name, fields) from babeltrace's text output."""
    babeltrace = shutil.which('babeltrace')
    assert babeltrace, 'babeltrace not found (Debian package babeltrace)'
    captures = os.listdir(trace_dir)
    assert len(captures) == 1, f'expected one capture in {trace_dir}: {captures}'
    run = subprocess.run([babeltrace, os.path.join(trace_dir, captures[0])], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, f'babeltrace failed: {run.stderr[-2000:]}'
    events = []
    for line in run.stdout.splitlines():
        m = EVENT.match(line)
        assert m, f'babeltrace line not understood: {line}'
        events.append((m['name'], parse_fields(m['context'])['name'], parse_fields(m['fields'])))
    return events



class Trace(unittest.TestCase):

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix=f'bhtrace{os.getpid()}-')
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.trace_dir = os.path.join(self.workdir, 'trace')

    def trace_options(self):
        return ['--trace=bh\\..*', '--trace-dir', self.trace_dir]

    def run_workload(self, eal, runs=100):
        run = subprocess.run([WORKLOAD, *eal, '--', str(runs)], capture_output=True, text=True,
                             timeout=RUN_TIMEOUT)
        self.assertEqual(run.returncode, 0, f'trace_workload failed:\n{run.stderr}')
        summary = [line for line in run.stdout.splitlines() if line.startswith('{"tasklet_func"')]
        self.assertEqual(len(summary), 1, f'no summary line from trace_workload:\n{run.stdout}')
        return json.loads(summary[0])

    def assert_softirqs_nest_properly(self, events):
        """On each thread a softirq's entry is followed by its exit before the
        next entry (softirqs never nest), and a tasklet or NAPI poll runs
        inside the softirq that carries it. A capture may start inside a
        handler: events before a thread's first entry are not judged."""
        running = {}  # thread: softirq nr, None between handlers
        carrier = {'bh.tasklet.entry': TASKLET, 'bh.tasklet.exit': TASKLET, 'bh.napi.poll': NET_RX}
        for name, thread, f in events:
            if name == 'bh.softirq.entry':
                self.assertIsNone(running.get(thread), f'{thread}: softirq {f["nr"]} entered inside another')
                running[thread] = f['nr']
            elif name == 'bh.softirq.exit' and thread in running:
                self.assertEqual(running[thread], f['nr'], f'{thread}: exit of a softirq that did not enter')
                running[thread] = None
            elif name in carrier and thread in running:
                self.assertEqual(running[thread], carrier[name], f'{thread}: {name} outside its softirq')
        self.assertTrue(running, 'no softirq entry at all')

    def test_trace_of_bh_l2fwd_has_softirq_and_napi_events(self):
        app = l2fwd.App(self.workdir, l2fwd.null_ports(2), [*l2fwd.TWO_PORTS, '-T', '0', '--duration', '1'],
                        eal=self.trace_options(), summary=False)
        self.addCleanup(app.kill)
        self.assertEqual(app.wait(RUN_TIMEOUT), 0, app.report())
        events = read_trace(self.trace_dir)
        names = {e[0] for e in events}
        self.assertLessEqual({'bh.softirq.raise', 'bh.softirq.entry', 'bh.softirq.exit', 'bh.napi.poll'}, names)
        self.assertLessEqual(names, set(TRACE_POINTS), 'events other than the bh.* ones asked for')
        polls = [f for n, _, f in events if n == 'bh.napi.poll']
        self.assertTrue(all(f['lcore'] == FWD_LCORE and f['budget'] == NAPI_WEIGHT and 0 <= f['work'] <= f['budget']
                            for f in polls), polls[:5])
        self.assertTrue(any(f['work'] > 0 for f in polls), 'no poll found a packet')
        # Two Rx queues: two NAPI contexts.
        self.assertEqual(len({f['napi'] for f in polls}), 2)
        self.assertTrue(any(n == 'bh.softirq.entry' and f == {'lcore': FWD_LCORE, 'nr': NET_RX} for n, _, f in events))
        self.assert_softirqs_nest_properly(events)

    def test_trace_of_tasklets_and_work_items_matches_what_ran(self):
        runs = 100
        result = self.run_workload(self.trace_options(), runs)
        self.assertEqual((result['tasklet_runs'], result['work_runs']), (runs, runs))
        events = read_trace(self.trace_dir)

        def of(name, func):
            return [(t, f) for n, t, f in events if n == name and f['func'] == result[func]]

        for name in ('bh.tasklet.entry', 'bh.tasklet.exit'):
            with self.subTest(event=name):
                got = of(name, 'tasklet_func')
                self.assertEqual(len(got), runs)
                self.assertTrue(all(f['lcore'] == result['lcore'] for _, f in got))
        queued = of('bh.workqueue.queue_work', 'work_func')
        self.assertEqual(len(queued), runs)
        # Queued from the tasklet on the worker lcore: that lcore's pool.
        self.assertTrue(all(f['wq'] == 'bhtrace' and f['lcore'] == result['lcore'] for _, f in queued), queued[:3])
        items = {f['work'] for _, f in queued}
        self.assertEqual(len(items), 1)
        for name in ('bh.workqueue.execute_start', 'bh.workqueue.execute_end'):
            with self.subTest(event=name):
                got = of(name, 'work_func')
                self.assertEqual(len(got), runs)
                self.assertEqual({f['work'] for _, f in got}, items)
                self.assertEqual({t for t, _ in got}, {f'bhtrace/{result["lcore"]}'}, 'not run by the pool\'s worker')
        tasklet_softirqs = [f for n, _, f in events
                            if n == 'bh.softirq.entry' and f == {'lcore': result['lcore'], 'nr': TASKLET}]
        self.assertGreaterEqual(len(tasklet_softirqs), runs)
        self.assert_softirqs_nest_properly(events)

    def test_trace_is_off_unless_asked_for(self):
        os.mkdir(self.trace_dir)
        result = self.run_workload(['--trace-dir', self.trace_dir], runs=10)
        self.assertEqual(result['tasklet_runs'], 10)
        self.assertEqual(os.listdir(self.trace_dir), [], 'a trace was written without --trace')


def main():
    global WORKLOAD
    if len(sys.argv) < 3:
        sys.exit(f'usage: {sys.argv[0]} BH_L2FWD_BINARY TRACE_WORKLOAD_BINARY [unittest options]')
    l2fwd.BIN = os.path.abspath(sys.argv[1])
    WORKLOAD = os.path.abspath(sys.argv[2])
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[3:]])


if __name__ == '__main__':
    main()
