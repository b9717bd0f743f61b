"""Builds one of DPDK's example programs out of tree, as a DPDK user does.

Debian's dpdk-doc package ships the examples' sources in
/usr/share/dpdk/examples; each has a Makefile that builds it against the
installed libdpdk (pkg-config) into its own build/ directory. The
throughput harness (bench/throughput/run.py) and the l2fwd comparison test
(tests/apps/test_l2fwd_compat.py) both run DPDK's l2fwd built this way.
"""

import os
import shutil
import subprocess
import tempfile

EXAMPLES = '/usr/share/dpdk/examples'


def build_example(name, dest):
    """Copies example @name to directory @dest and builds it there with its
    Makefile, unless that was done before; returns the program's path.
    Builds in a scratch directory moved into place at the end, so that two
    builds at once, or one interrupted, never leave a half-built @dest.
    Raises RuntimeError if the sources are not installed."""
    program = os.path.join(dest, 'build', name)
    if os.path.exists(program):
        return program
    src = os.path.join(EXAMPLES, name)
    if not os.path.isdir(src):
        raise RuntimeError(f'{src} is missing: install the dpdk-doc package (devtools/setup.sh does)')
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f'.{name}-', dir=parent)
    try:
        work = os.path.join(scratch, name)
        shutil.copytree(src, work)
        subprocess.run(['make', '-s', '-C', work], check=True, stdout=subprocess.DEVNULL)
        if os.path.isdir(dest) and not os.path.exists(program):
            shutil.rmtree(dest)  # what a failed build left
        try:
            os.rename(work, dest)
        except OSError:
            if not os.path.exists(program):  # not a build that finished first
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return program
