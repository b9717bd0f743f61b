#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bh-telemetry-exporter: a bottomhalf process's counters for Prometheus.

Reads the /bh/ telemetry commands of one running process over its DPDK
telemetry socket (<runtime dir>/dpdk_telemetry.v2, as dpdk-telemetry.py
does) at each scrape, and serves them over HTTP in the Prometheus text
format, or OpenMetrics to a scraper that asks for it (the Accept header),
with the packaged client library (Debian's python3-prometheus-client).

The commands are listed with "/" at every scrape, so new ones show up
without a change here. A command's parameter comes from its help text
("Parameters: int lcore_id" and the like): lcore ids from /bh/lcore/list,
port ids from /bh/net/port/list, other names from the command's own /list.
Each numeric field becomes a metric family bh_<command path>_<field>, with
the parameter as a label (lcore, port, queue); column replies add a label
naming the row (softirq for /bh/softirq, queue for /bh/net/port/rxq and
txq), dropped_<reason> fields a reason label. Fields in
ns are exported in seconds. Types and units come from the table below;
a field not in it is exported as type unknown until it is described.
bh_telemetry_up says whether the last scrape reached the process.

Usage: bh-telemetry-exporter -f FILE_PREFIX [-l ADDRESS:PORT]
"""

import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, UnknownMetricFamily

PROG = 'bh-telemetry-exporter'
DEFAULT_LISTEN = '127.0.0.1:9877'  # loopback only: a scraper elsewhere is the user's explicit choice
SOCKET_TIMEOUT = 5

C, G = 'counter', 'gauge'
# (command, field): type, or (type, unit). Fields named ns or *_ns are
# given here by their seconds name, as they are exported.
TYPES = {
    '/bh/lcore': {'iterations': C, 'busy': C, 'sleeps': C, 'wakeups': C, 'yields': C,
                  'busy_cycles': (C, 'cycles'), 'idle_cycles': (C, 'cycles'), 'irqs': C, 'bh_held': C},
    '/bh/softirq': {'raised': C, 'run': C, 'run_ksoftirqd': C, 'cycles': (C, 'cycles'), 'seconds': (C, 'seconds'),
                    'context_leaks': C},
    '/bh/ksoftirqd': {'exists': G, 'active': G, 'wakeups': C, 'batches': C, 'softirqs': C, 'dpdk_lcore_id': G},
    '/bh/tasklet': {'run': C, 'requeued_running': C, 'requeued_disabled': C, 'killed': C, 'remote': C},
    '/bh/timer': {'expired': C, 'softirqs': C, 'deferred': C, 'adopted': C},
    '/bh/workqueue': {'queued': C, 'run': C, 'canceled': C, 'pending': G, 'wakeups': C, 'sleeps': C,
                      'max_latency_seconds': (G, 'seconds'), 'pools': G, 'workers': G},
    '/bh/net/softnet': {'processed': C, 'polls': C, 'time_squeeze': C, 'passes': C, 'interrupts': C, 'to_poll': C,
                        'to_interrupt': C, 'backoffs': C, 'spurious': C},
    '/bh/net/lcore': {'processed': C, 'polls': C, 'time_squeeze': C, 'passes': C, 'tx': C, 'backlogged': C,
                      'in_flight': G, 'interrupts': C, 'to_poll': C, 'to_interrupt': C, 'backoffs': C,
                      'spurious': C, 'dropped': C},
    '/bh/net/port': {'rx': C, 'tx': C, 'rx_dropped': C, 'tx_dropped': C},
    '/bh/net/port/rxq': {'lcore': G, 'rx': C, 'dropped': C},
    '/bh/net/port/txq': {'lcore': G, 'tx': C, 'dropped': C},
}
FAMILY = {C: CounterMetricFamily, G: GaugeMetricFamily}
# A parameter named in a command's help: its label, and the command listing its values.
PARAMETERS = {'lcore_id': ('lcore', '/bh/lcore/list'), 'port_id': ('port', '/bh/net/port/list')}
# Other parameters are named by the command's label here (else by their own name).
LABELS = {'/bh/workqueue': 'queue'}
# Fields <prefix>_<value> that are one counter with a label.
GROUPED = {'dropped': 'reason'}
# Column replies: the column that names each row, and the label it becomes.
ROWS = {'name': 'softirq', 'queue': 'queue'}
PARAMETER = re.compile(r'Parameters:\s*(?:int|string)\s+(\w+)')


def runtime_dir(prefix):
    """DPDK's runtime directory for @prefix, found as the EAL and dpdk-telemetry.py find it."""
    base = os.environ.get('RUNTIME_DIRECTORY')
    if not base:
        base = '/var/run' if os.getuid() == 0 else os.environ.get('XDG_RUNTIME_DIR', '/tmp')
    return os.path.join(base, 'dpdk', prefix)


class Telemetry:
    """One connection to a telemetry socket: a JSON greeting, then one JSON reply per command."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(SOCKET_TIMEOUT)
        try:
            self.sock.connect(path)
            self.max_len = json.loads(self.sock.recv(1024))['max_output_len']
        except (OSError, ValueError, KeyError):
            self.sock.close()
            raise

    def query(self, cmd):
        """The reply's value (None when the command refused its parameter)."""
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(self.max_len)).get(cmd.split(',', 1)[0])

    def close(self):
        self.sock.close()


def metric_name(cmd, field):
    return re.sub(r'\W', '_', f'bh_{cmd[len("/bh/"):].replace("/", "_")}_{field}')


def in_seconds(field, value):
    """(field, value) with a field in ns renamed to seconds and its value converted."""
    if field == 'ns' or field.endswith('_ns'):
        return field[:-2] + 'seconds', value / 1e9
    return field, value


class Families:
    """The metric families of one scrape, made as their samples come."""

    def __init__(self):
        self.families = {}

    def add(self, cmd, help_text, field, labels, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        field, value = in_seconds(field, value)
        kind = TYPES.get(cmd, {}).get(field)
        kind, unit = kind if isinstance(kind, tuple) else (kind, '')
        name = metric_name(cmd, field)
        family = self.families.get(name)
        if family is None:
            make = FAMILY.get(kind, UnknownMetricFamily)
            family = make(name, f'{field} of {cmd}: {help_text}', labels=list(labels), unit=unit)
            self.families[name] = family
        family.add_metric([str(v) for v in labels.values()], value)

    def add_reply(self, cmd, help_text, labels, reply):
        if not isinstance(reply, dict):
            return
        key = next((k for k in ROWS if isinstance(reply.get(k), list)), None)
        if key is not None:
            # One array per counter, its rows named by the key column (unused rows ""). A
            # plain number beside them belongs to the whole object.
            for field, column in reply.items():
                if field == key:
                    continue
                if not isinstance(column, list):
                    self.add(cmd, help_text, field, labels, column)
                    continue
                for row, value in zip(reply[key], column):
                    if row != '':
                        self.add(cmd, help_text, field, {**labels, ROWS[key]: row}, value)
            return
        for field, value in reply.items():
            prefix, _, rest = field.partition('_')
            if prefix in GROUPED and rest:
                self.add(cmd, help_text, prefix, {**labels, GROUPED[prefix]: rest}, value)
            else:
                self.add(cmd, help_text, field, labels, value)


def parameter_of(cmd, help_text):
    """(label, list command) of the parameter @cmd takes, or None."""
    m = PARAMETER.search(help_text or '')
    if not m:
        return None
    return PARAMETERS.get(m[1], (LABELS.get(cmd, m[1]), f'{cmd}/list'))


def scrape(tel):
    """Every /bh/ counter of the process behind @tel, as metric families."""
    families = Families()
    commands = sorted(c for c in tel.query('/') or [] if c.startswith('/bh/') and not c.endswith('/list'))
    lists = {}
    for cmd in commands:
        help_text = (tel.query(f'/help,{cmd}') or {}).get(cmd, '')
        param = parameter_of(cmd, help_text)
        if param is None:
            families.add_reply(cmd, help_text, {}, tel.query(cmd))
            continue
        label, list_cmd = param
        if list_cmd not in lists:
            lists[list_cmd] = tel.query(list_cmd) or []
        for value in lists[list_cmd]:
            families.add_reply(cmd, help_text, {label: value}, tel.query(f'{cmd},{value}'))
    return families.families.values()


class Collector:
    """Scrapes the process when the registry is collected."""

    def __init__(self, socket_path):
        self.socket_path = socket_path

    def describe(self):
        return []  # nothing is known before a scrape: do not scrape at registration

    def collect(self):
        up = GaugeMetricFamily('bh_telemetry_up', 'Whether the telemetry socket answered the last scrape (1) or not (0)')
        try:
            tel = Telemetry(self.socket_path)
            try:
                found = list(scrape(tel))
            finally:
                tel.close()
        except (OSError, ValueError) as e:
            print(f'{PROG}: {self.socket_path}: {e}', file=sys.stderr, flush=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found


def listen_address(text):
    """'ADDRESS:PORT' (IPv6 in brackets) -> (address, port) for argparse."""
    m = re.fullmatch(r'(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]*)):(\d{1,5})', text)
    if not m or int(m[3]) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not ADDRESS:PORT (e.g. 127.0.0.1:9877, [::1]:9877)")
    return (m[1] if m[1] is not None else m[2]), int(m[3])


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass  # a line per scrape is noise


def serve(address, port, registry):
    server_class = ThreadingWSGIServer
    if ':' in address:
        server_class = type('ThreadingWSGIServer6', (ThreadingWSGIServer,), {'address_family': socket.AF_INET6})
    return make_server(address, port, make_wsgi_app(registry), server_class, handler_class=QuietHandler)


def main():
    parser = argparse.ArgumentParser(prog=PROG, description='Serves the /bh/ telemetry counters of a running '
                                     'bottomhalf process for Prometheus (text format or OpenMetrics).')
    parser.add_argument('-f', '--file-prefix', required=True,
                        help='the DPDK file prefix of the process (bh-<pid> for bottomhalf\'s default)')
    parser.add_argument('-l', '--listen', type=listen_address, default=listen_address(DEFAULT_LISTEN),
                        metavar='ADDRESS:PORT', help=f'where to serve /metrics (default {DEFAULT_LISTEN})')
    args = parser.parse_args()
    socket_path = os.path.join(runtime_dir(args.file_prefix), 'dpdk_telemetry.v2')
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(socket_path))
    address, port = args.listen
    try:
        server = serve(address, port, registry)
    except (OSError, ValueError) as e:
        sys.exit(f'{PROG}: cannot listen on {address}:{port}: {e}')
    if not os.path.exists(socket_path):
        print(f'{PROG}: no telemetry socket at {socket_path} yet: bh_telemetry_up is 0 until there is',
              file=sys.stderr, flush=True)
    host = f'[{address}]' if ':' in address else address
    print(f'{PROG}: serving {socket_path} on http://{host}:{server.server_port}/metrics', flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()
    server.server_close()


if __name__ == '__main__':
    main()
