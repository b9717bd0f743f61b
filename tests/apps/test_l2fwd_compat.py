#!/usr/bin/env python3
"""bh-l2fwd against DPDK's own l2fwd, command line by command line.

Usage: test_l2fwd_compat.py BH_L2FWD_BINARY L2FWD_BUILD_DIR [unittest options]

DPDK 22.11's l2fwd example is built out of tree into L2FWD_BUILD_DIR (as
the throughput harness builds it, devtools/dpdk_example.py). Each command
line of the table runs through both programs on the same net_null ports;
they must agree on whether it runs or is refused, and on what their
start-up lines say: MAC updating, the odd-port notice, which ports are
initialised or skipped, and for each Rx port its Tx port and its lcore
("Lcore N: RX port P TX port Q"). A run that is accepted is stopped with
SIGINT once it forwards (l2fwd has no duration option) and must exit 0.
The deliberate differences (README, "Differences from DPDK's l2fwd") are
rows of their own, which pin down what each program does.

Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

import collections
import itertools
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
sys.path += [os.path.join(HERE, os.pardir, 'common'), os.path.join(HERE, os.pardir, os.pardir, 'devtools')]
import gtest_xml  # noqa: E402
from dpdk_example import build_example  # noqa: E402

PROGRAMS = {}  # 'bh' and 'l2fwd': their paths, from the command line
SUITE = 'l2fwd_compat'
START_TIMEOUT = 30  # EAL start-up (and l2fwd's link check) until forwarding, or a refusal
STOP_TIMEOUT = 10   # SIGINT to exit

# Each program's line that says it has reached its forwarding loops; until
# then a SIGINT could come before l2fwd's handler is in place. (l2fwd's log
# may follow its unfinished "Checking link status" on the same line.)
READY = {'bh': re.compile(r'^bh-l2fwd: lcore \d+: Rx port', re.M),
         'l2fwd': re.compile(r'L2FWD: (entering main loop|lcore \d+ has nothing to do)')}
PLACED = re.compile(r'^Lcore (\d+): RX port (\d+) TX port (\d+)$', re.M)
MAC_UPDATING = re.compile(r'^MAC updating (enabled|disabled)$', re.M)
INITIALISED = re.compile(r'^Initializing port (\d+)\.\.\.', re.M)
SKIPPED = re.compile(r'^Skipping disabled port (\d+)$', re.M)
ODD = 'Notice: odd number of ports in portmask.'

_prefixes = itertools.count()

# ports: net_null ports; eal: lcore options (both programs get the same);
# args: after "--"; differs: None if both must agree, else (outcome of
# l2fwd, outcome of bh-l2fwd) of a deliberate difference, outcomes being
# 'runs', 'refused' or 'exit 0' (bh-l2fwd's --help).
Case = collections.namedtuple('Case', 'ports eal args differs', defaults=(None,))
TWO_LCORES = ('-l', '0-1')
FOUR_LCORES = ('--lcores', '(0-3)@(0,1)')  # four lcores on the two CPUs there may be

CASES = {
    # Lcore sets: each lcore in id order, the main one included, takes -q Rx ports.
    'one_lcore_one_port_per_lcore': Case(2, ('-l', '1'), ['-p', '0x3']),
    'one_lcore_two_ports_per_lcore': Case(2, ('-l', '1'), ['-p', '0x3', '-q', '2']),
    'one_lcore_one_port': Case(2, ('-l', '1'), ['-p', '0x1']),
    'two_lcores_default_queue_count': Case(2, TWO_LCORES, ['-p', '0x3']),
    'two_lcores_main_lcore_1': Case(2, ('-l', '0-1', '--main-lcore', '1'), ['-p', '0x3']),
    'four_lcores_one_port_each': Case(4, FOUR_LCORES, ['-p', '0xf']),
    'four_lcores_three_ports_each': Case(4, FOUR_LCORES, ['-p', '0xf', '-q', '3']),
    'too_few_lcores': Case(4, TWO_LCORES, ['-p', '0xf']),
    'lcore_list_with_a_gap': Case(3, ('--lcores', '0@0,2@1'), ['-p', '0x7', '-q', '2']),
    # -p
    'portmask_without_0x': Case(2, TWO_LCORES, ['-p', '3']),
    'portmask_upper_case_0X': Case(2, TWO_LCORES, ['-p', '0X3']),
    'portmask_attached': Case(2, TWO_LCORES, ['-p3']),
    'portmask_after_P_in_one_word': Case(2, TWO_LCORES, ['-Pp3']),
    'portmask_with_leading_space_and_plus': Case(2, TWO_LCORES, ['-p', ' +3']),
    'portmask_zero': Case(2, TWO_LCORES, ['-p', '0']),
    'portmask_0x0': Case(2, TWO_LCORES, ['-p', '0x0']),
    'portmask_empty': Case(2, TWO_LCORES, ['-p', '']),
    'portmask_not_hexadecimal': Case(2, TWO_LCORES, ['-p', 'zz']),
    'portmask_trailing_garbage': Case(2, TWO_LCORES, ['-p', '3g']),
    'portmask_negative': Case(2, TWO_LCORES, ['-p', '-1']),
    'portmask_naming_absent_port': Case(2, TWO_LCORES, ['-p', '0x4']),
    'portmask_missing': Case(2, TWO_LCORES, ['-q', '1']),
    'portmask_without_value': Case(2, TWO_LCORES, ['-p']),
    'odd_portmask_last_port_to_itself': Case(3, TWO_LCORES, ['-p', '0x7', '-q', '2']),
    'single_port_to_itself': Case(2, TWO_LCORES, ['-p', '0x2']),
    'odd_portmask_with_gap': Case(4, TWO_LCORES, ['-p', '0xb', '-q', '2']),
    # l2fwd's mask is a uint32_t: it keeps the low 32 bits of a wider one.
    'portmask_wider_than_32_bits': Case(2, TWO_LCORES, ['-p', '0x100000003'], differs=('runs', 'refused')),
    # -q: 1 to 15
    'queues_1': Case(2, TWO_LCORES, ['-p', '0x3', '-q', '1']),
    'queues_15': Case(2, TWO_LCORES, ['-p', '0x3', '-q', '15']),
    'queues_16': Case(2, TWO_LCORES, ['-p', '0x3', '-q', '16']),
    'queues_0': Case(2, TWO_LCORES, ['-p', '0x3', '-q', '0']),
    'queues_negative': Case(2, TWO_LCORES, ['-p', '0x3', '-q', '-1']),
    'queues_not_a_number': Case(2, TWO_LCORES, ['-p', '0x3', '-q', 'two']),
    'queues_trailing_garbage': Case(2, TWO_LCORES, ['-p', '0x3', '-q', '2x']),
    'queues_with_leading_space_and_plus': Case(2, TWO_LCORES, ['-p', '0x3', '-q', ' +2']),
    # -T: 0 to 86399
    'period_0': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '0']),
    'period_86399': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '86399']),
    'period_86400': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '86400']),
    'period_negative': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '-1']),
    'period_minus_zero': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '-0']),
    'period_fraction': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '1.5']),
    'period_hexadecimal': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '0x10']),
    # l2fwd reads it into an int: 2^32 + 1 wraps to 1.
    'period_wrapping_an_int': Case(2, TWO_LCORES, ['-p', '0x3', '-T', '4294967297'], differs=('runs', 'refused')),
    # -P
    'promiscuous': Case(2, TWO_LCORES, ['-p', '0x3', '-P']),
    # --no-mac-updating, in each spelling getopt_long takes for it in l2fwd
    'no_mac_updating': Case(2, TWO_LCORES, ['-p', '0x3', '--no-mac-updating']),
    'no_mac_updating_abbreviated_no_mac': Case(2, TWO_LCORES, ['-p', '0x3', '--no-mac']),
    'no_mac_updating_abbreviated_no': Case(2, TWO_LCORES, ['-p', '0x3', '--no']),
    'no_mac_updating_abbreviated_n': Case(2, TWO_LCORES, ['-p', '0x3', '--n']),
    'no_mac_updating_with_a_value': Case(2, TWO_LCORES, ['-p', '0x3', '--no-mac-updating=yes']),
    'no_mac_updating_abbreviated_with_a_value': Case(2, TWO_LCORES, ['-p', '0x3', '--no=1']),
    # --portmap: l2fwd's parser, what it takes and what it refuses
    'portmap_pairs_adjacent': Case(4, TWO_LCORES, ['-p', '0xf', '-q', '2', '--portmap', '(0,1)(2,3)']),
    'portmap_pairs_comma_separated': Case(4, TWO_LCORES, ['-p', '0xf', '-q', '2', '--portmap', '(0,1),(2,3)']),
    'portmap_pairs_with_spaces': Case(4, TWO_LCORES, ['-p', '0xf', '-q', '2', '--portmap', ' (0, 1) (2 ,3) ']),
    'portmap_crossed_pairs': Case(4, TWO_LCORES, ['-p', '0xf', '-q', '2', '--portmap', '(0,3)(1,2)']),
    'portmap_with_equals': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap=(1,0)']),
    'portmap_abbreviated_port': Case(2, TWO_LCORES, ['-p', '0x3', '--port', '(0,1)']),
    'portmap_abbreviated_p_with_equals': Case(2, TWO_LCORES, ['-p', '0x3', '--p=(0,1)']),
    'portmap_base_prefixes': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0x0,01)']),
    'portmap_octal_stops_at_8': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(08,1)']),
    'portmap_third_field_ignored': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,1,2)']),
    'portmap_minus_zero': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(-0,1)']),
    'portmap_port_to_itself': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,0)']),
    'portmap_leaves_unpaired_ports_out': Case(4, TWO_LCORES, ['-p', '0xf', '--portmap', '(0,1)']),
    'portmap_narrows_mask_before_port_check': Case(2, TWO_LCORES, ['-p', '0x7', '--portmap', '(0,1)']),
    'portmap_last_one_counts': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,0)', '--portmap', '(0,1)']),
    'portmap_empty': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '']),
    'portmap_without_parentheses': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '0,1']),
    'portmap_unterminated': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,1']),
    'portmap_one_field': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0)']),
    'portmap_empty_first_field': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(,1)']),
    'portmap_empty_second_field': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,)']),
    'portmap_not_numbers': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(a,b)']),
    'portmap_nested_parenthesis': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '((0,1)']),
    'portmap_port_id_32': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,32)']),
    'portmap_port_outside_mask': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,5)']),
    'portmap_port_in_mask_but_absent': Case(2, TWO_LCORES, ['-p', '0x21', '--portmap', '(0,5)']),
    'portmap_port_in_two_pairs': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap', '(0,1)(1,0)']),
    'portmap_without_value': Case(2, TWO_LCORES, ['-p', '0x3', '--portmap']),
    # Options neither program has
    'unknown_long_option': Case(2, TWO_LCORES, ['-p', '0x3', '--frobnicate']),
    'unknown_short_option': Case(2, TWO_LCORES, ['-p', '0x3', '-x']),
    # bh-l2fwd's extra options, which l2fwd refuses
    'extra_option_mac_updating': Case(2, TWO_LCORES, ['-p', '0x3', '--mac-updating'], differs=('refused', 'runs')),
    'extra_option_help': Case(2, TWO_LCORES, ['-p', '0x3', '-h'], differs=('refused', 'exit 0')),
    # l2fwd ignores words that are not options; bh-l2fwd refuses them.
    'stray_word': Case(2, TWO_LCORES, ['-p', '0x3', 'extra'], differs=('runs', 'refused')),
    'stray_word_after_double_dash': Case(2, TWO_LCORES, ['-p', '0x3', '--', 'extra'], differs=('runs', 'refused')),
}


def runtime_dir(prefix):
    """The EAL's runtime directory for @prefix (l2fwd leaves it behind)."""
    base = os.environ.get('RUNTIME_DIRECTORY')
    if not base:
        base = '/var/run' if os.getuid() == 0 else os.environ.get('XDG_RUNTIME_DIR', '/tmp')
    return os.path.join(base, 'dpdk', prefix)


Run = collections.namedtuple('Run', 'outcome rc output command')


def startup(text):
    """What the start-up lines of a run say."""
    return {
        'MAC updating': MAC_UPDATING.findall(text),
        'odd-port notice': ODD in text,
        'initialised ports': sorted(int(p) for p in INITIALISED.findall(text)),
        'skipped ports': sorted(int(p) for p in SKIPPED.findall(text)),
        # Rx port: (lcore, Tx port)
        'placement': {int(p): (int(lc), int(tx)) for lc, p, tx in PLACED.findall(text)},
    }


class Compat(unittest.TestCase):
    """One generated test per CASES entry."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix=f'bhcmp{os.getpid()}-')
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)

    def run_program(self, kind, case):
        """Runs @kind ('bh' or 'l2fwd') on @case: until it exits, or until it
        forwards and then SIGINT."""
        prefix = f'bhcmp{os.getpid()}-{next(_prefixes)}'
        self.addCleanup(shutil.rmtree, runtime_dir(prefix), ignore_errors=True)
        vdevs = itertools.chain.from_iterable(('--vdev', f'net_null{i}') for i in range(case.ports))
        cmd = [PROGRAMS[kind], *case.eal, '--no-huge', '-m', '512', '--no-pci', '--file-prefix', prefix,
               '--log-level', 'lib.eal:warning', *vdevs, '--', *case.args]
        out_path = os.path.join(self.workdir, f'{kind}.out')
        with open(out_path, 'w') as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

        def output():
            with open(out_path, errors='replace') as f:
                return f.read()
        deadline = time.monotonic() + START_TIMEOUT
        ready = False
        while proc.poll() is None and not ready:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                self.fail(f'{kind}: neither forwarding nor refused after {START_TIMEOUT}s\n'
                          f'command: {" ".join(cmd)}\n{output()}')
            time.sleep(0.05)
            ready = READY[kind].search(output()) is not None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.fail(f'{kind}: still running {STOP_TIMEOUT}s after SIGINT\ncommand: {" ".join(cmd)}\n{output()}')
        rc = proc.returncode
        outcome = 'runs' if ready else 'exit 0' if rc == 0 else 'refused'
        if ready:
            self.assertEqual(rc, 0, f'{kind}: exit code {rc} after SIGINT\ncommand: {" ".join(cmd)}\n{output()}')
        else:
            # Popen gives -SIG for a signal: a crash, not a refusal.
            self.assertGreaterEqual(rc, 0, f'{kind}: killed by signal {-rc}\ncommand: {" ".join(cmd)}\n{output()}')
        return Run(outcome, rc, output(), ' '.join(cmd))

    def check(self, case):
        l2fwd, bh = self.run_program('l2fwd', case), self.run_program('bh', case)
        both = f'--- DPDK l2fwd: {l2fwd.command}\n{l2fwd.output}\n--- bh-l2fwd: {bh.command}\n{bh.output}'
        if case.differs:
            self.assertEqual((l2fwd.outcome, bh.outcome), case.differs,
                             f'the documented difference is not what the programs do\n{both}')
            return
        self.assertEqual(bh.outcome, l2fwd.outcome, f'accepted by one, refused by the other\n{both}')
        if l2fwd.outcome == 'runs':
            self.assertTrue(startup(l2fwd.output)['placement'], f'no "Lcore" line from l2fwd\n{both}')
            self.assertEqual(startup(bh.output), startup(l2fwd.output), f'different start-up\n{both}')


def _case_test(case):
    return lambda self: self.check(case)


for _name, _case in CASES.items():
    setattr(Compat, f'test_l2fwd_compat_{_name}', _case_test(_case))


def main():
    if len(sys.argv) < 3:
        sys.exit(f'usage: {sys.argv[0]} BH_L2FWD_BINARY L2FWD_BUILD_DIR [unittest options]')
    PROGRAMS['bh'] = os.path.abspath(sys.argv[1])
    try:
        PROGRAMS['l2fwd'] = build_example('l2fwd', sys.argv[2])
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        sys.exit(f'{sys.argv[0]}: cannot build DPDK\'s l2fwd: {e}')
    gtest_xml.run(SUITE, [sys.argv[0], *sys.argv[3:]])


if __name__ == '__main__':
    main()
