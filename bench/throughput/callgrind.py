"""Instructions per packet on the forwarding lcore: the null scenario's
deterministic column, counted by valgrind's callgrind.

Time on this 2-vCPU VM swings 20% between runs; the instructions a
forwarder executes per packet do not. Each forwarder runs once under
`valgrind --tool=callgrind --fair-sched=yes` (without fair scheduling a
spinning lcore starves the other threads) on two net_null ports, and only
its forwarding lcore's instructions are counted:

  bh-l2fwd    only inside bh::lcore_run() (--collect-atstart=no
              --toggle-collect); it runs `-T 0 --duration S --json FILE` and
              exits by itself: packets are the ports' Rx in the JSON;
  DPDK l2fwd  only inside l2fwd_launch_one_lcore; it prints its totals only
              once a period, so after S seconds the counts are dumped
              (callgrind_control -d) and the process killed; packets are
              the calls of net_null's per-packet function in that same dump
              (below), and its last printed total must not exceed them;
  testpmd     stripped, so --separate-threads=yes and the thread that
              calls net_null's per-packet function (below): the forwarding
              lcore (in a short run the main thread's start-up has more
              instructions); SIGINT stops the forwarding before testpmd
              prints its totals and exits, so its accumulated TX-packets
              match the instructions counted.

Every forwarder here transmits each packet through net_null's Tx, which
frees the mbufs one by one with a function of its own (its most called
one): its calls in the same output file are the packets forwarded while
counting, a check on the program's own figure that cannot drift from the
instructions. Valgrind runs the programs ~50 times slower: S seconds bring
a few million packets, and the seven forwarders take about a minute.
"""

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import time

import run as harness  # its helpers are used at call time (run.py imports this module first)

SECONDS = 3.0  # of forwarding under valgrind, per forwarder
PMD_OBJECT = 'librte_net_null'
STARTUP_TIMEOUT = 120  # valgrind starts DPDK in a few seconds; a loaded machine takes longer
COLLECT = {'bh': ['--collect-atstart=no', '--toggle-collect=bh::lcore_run()'],
           'l2fwd': ['--collect-atstart=no', '--toggle-collect=l2fwd_launch_one_lcore'],
           'testpmd': ['--separate-threads=yes']}
TESTPMD_TOTAL_TX = re.compile(r'Accumulated forward statistics.*\n.*\n\s*TX-packets:\s+(\d+)')
# A mismatch beyond this between the program's count and net_null's calls is reported.
COUNT_TOLERANCE = 0.001


class Skipped(Exception):
    """The column cannot be measured here; the message says why."""


def missing_tools():
    """Why callgrind cannot run here, or None."""
    for tool in ('valgrind', 'callgrind_control'):
        if not shutil.which(tool):
            return f'{tool} is missing (Debian package valgrind; devtools/setup.sh installs it)'
    return None


def parse(path, pmd_object=PMD_OBJECT):
    """(instructions, calls of @pmd_object's most called function) of the
    callgrind output file @path. Names in the format are compressed: the
    first `fn=(id) name` gives the id its name, and a function belongs to
    the object of the `ob=` before it."""
    objects, object_of, calls = {}, {}, collections.Counter()
    ob = callee = instructions = None
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition('=')
            if key in ('ob', 'cob', 'fn', 'cfn'):
                ident, _, name = rest.rstrip('\n').partition(' ')
                if key in ('ob', 'cob') and name:
                    objects[ident] = name
                if key == 'ob':
                    ob = ident
                elif key == 'fn':
                    object_of.setdefault(ident, ob)
                elif key == 'cfn':
                    callee = ident
            elif key == 'calls':
                calls[callee] += int(rest.split()[0])
            elif line.startswith('summary:'):
                instructions = int(line.split()[1])
    if instructions is None:
        raise ValueError(f'{path}: no summary line (not a complete callgrind output)')
    pmd = [n for fn, n in calls.items() if pmd_object in objects.get(object_of.get(fn), '')]
    return instructions, max(pmd, default=0)


def wait_for(what, predicate, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f'{what}: the program exited ({proc.returncode})')
        if time.monotonic() > deadline:
            raise RuntimeError(f'{what}: not after {timeout} s')
        time.sleep(0.2)


def complete(path):
    """Whether callgrind has finished writing @path (its last line is the totals)."""
    try:
        with open(path) as f:
            return 'totals:' in f.read()
    except OSError:
        return False


def measure_one(bench, fwd, seconds):
    """Runs @fwd under callgrind on two net_null ports for @seconds of
    forwarding; returns its instructions, packets and instructions per
    packet on the forwarding lcore."""
    prefix = bench.prefix('cg')
    out = os.path.join(bench.tmp, f'{prefix}.callgrind')
    json_path = os.path.join(bench.tmp, f'{prefix}.json')
    extra = ['--duration', f'{seconds:g}', '--json', json_path] if fwd.kind == 'bh' else []
    argv = fwd.argv(bench.progs, prefix, ['net_null0', 'net_null1'], 2, period=0 if fwd.kind == 'bh' else 1,
                    more=extra)
    at = argv.index(bench.progs[fwd.kind])
    argv[at:at] = ['valgrind', '--tool=callgrind', '--fair-sched=yes', f'--callgrind-out-file={out}',
                   *COLLECT[fwd.kind]]
    log_path = bench.log_path(f'callgrind-{fwd.name.replace(" ", "-")}')
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    output = lambda: open(log_path).read()
    try:
        if fwd.kind == 'bh':
            proc.wait(STARTUP_TIMEOUT + 10 * seconds)
            with open(json_path) as f:
                packets = sum(p['rx'] for p in json.load(f)['ports'].values())
            path = out
        else:
            wait_for(f'{fwd.name} under callgrind: ports started', lambda: harness.READY[fwd.kind].search(output()),
                     STARTUP_TIMEOUT, proc)
            time.sleep(seconds)
            if fwd.kind == 'l2fwd':
                subprocess.run(['callgrind_control', '-d', str(proc.pid)], check=True, capture_output=True,
                               timeout=60)
                path = f'{out}.1'
                wait_for(f'{fwd.name}: callgrind dump', lambda: complete(path), 60, proc)
                proc.kill()
            else:
                proc.send_signal(signal.SIGINT)
            proc.wait(60)
            if fwd.kind == 'testpmd':
                threads = [os.path.join(bench.tmp, n) for n in os.listdir(bench.tmp)
                           if n.startswith(f'{prefix}.callgrind-')]
                path = max(threads, key=lambda p: parse(p)[1])
                m = TESTPMD_TOTAL_TX.search(output())
                if not m:
                    raise RuntimeError(f'{fwd.name}: no accumulated forward statistics in {log_path}')
                packets = int(m.group(1))
        instructions, pmd_calls = parse(path)
    except (OSError, ValueError, RuntimeError, subprocess.SubprocessError) as e:
        raise RuntimeError(f'{fwd.name} under callgrind: {e}; see {log_path}') from e
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        harness.remove_runtime_dir(prefix)
    res = {'instructions': instructions, 'pmd_calls': pmd_calls}
    if fwd.kind == 'l2fwd':
        packets = pmd_calls
        sent = [int(x) for x in harness.L2FWD_SENT.findall(output())]
        res['last_reported'] = sent[-1] if sent else 0
        if res['last_reported'] > packets:
            raise RuntimeError(f'{fwd.name}: printed {res["last_reported"]} packets sent, more than the '
                               f'{packets} net_null freed before the dump; see {log_path}')
    if not packets:
        raise RuntimeError(f'{fwd.name} under callgrind forwarded nothing; see {log_path}')
    res['packets'] = packets
    res['instructions_per_packet'] = instructions / packets
    res['count_mismatch'] = abs(pmd_calls - packets) / packets
    return res


def measure(bench, names, seconds):
    """Instructions per packet of each forwarder of @names (those of kinds
    callgrind can count), or {'skipped': why} for all when it cannot run."""
    why = missing_tools()
    if why:
        harness.log(f'callgrind: skipped: {why}')
        return {'skipped': why}
    harness.log(f'callgrind: instructions per packet on the forwarding lcore, {seconds:g} s each under valgrind')
    out = {}
    for name in names:
        fwd = harness.FORWARDERS[name]
        if fwd.kind not in COLLECT:
            continue
        try:
            res = measure_one(bench, fwd, seconds)
        except RuntimeError as e:
            harness.die(str(e))
        note = ''
        if res['count_mismatch'] > COUNT_TOLERANCE:
            note = f'  (net_null freed {res["pmd_calls"]}: {100 * res["count_mismatch"]:.2f}% off the program\'s count)'
        harness.log(f'  {name:32s} {res["instructions_per_packet"]:7.1f} instructions/packet '
                    f'({res["instructions"]} over {res["packets"]} packets){note}')
        out[name] = res
    return out
