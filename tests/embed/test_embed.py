#!/usr/bin/env python3
"""Embedding (SPEC section 10), tested as a consumer sees it.

Usage: test_embed.py BUILD_DIR SOURCE_DIR [unittest options]

Installs the development files of BUILD_DIR (libraries, headers, pkg-config
files) into a temporary directory, builds examples/embed out of tree against
them through pkg-config only, and runs it: an application that calls
rte_eal_init itself and keeps its own main loop. Results also go to the
gtest XML file named by GTEST_OUTPUT ("xml:PATH").
"""

import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'common'))
import gtest_xml  # noqa: E402

BUILD_DIR = SOURCE_DIR = None  # from the command line

STEP_TIMEOUT = 120  # seconds for one install, configure, build or compile step
RUN_TIMEOUT = 30    # an example run: EAL start-up, its own --timeout, exit
RAISES = 37         # not the example's default, so its count must come from the command line

OK_LINE = re.compile(
    r"^bh-embed: ok: softirq EMBED \(nr (?P<nr>\d+)\) ran (?P<runs>\d+)/(?P<raises>\d+) times on lcore "
    r"(?P<softirq_lcore>\d+) \(framework count (?P<framework>\d+)\); tasklet ran on lcore (?P<tasklet_lcore>\d+) "
    r"(?P<tasklet_ctx>in|outside) softirq context; work ran on thread '(?P<thread>[^']*)', (?P<lcore>an lcore|"
    r"not an lcore), (?P<sleep>may sleep|may not sleep); own loop iterations (?P<iterations>\d+)$", re.M)


def run(cmd, env=None, timeout=STEP_TIMEOUT):
    """Runs a build step; fails the test with its output if it fails."""
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited {p.returncode}\n{p.stdout[-3000:]}{p.stderr[-3000:]}')
    return p.stdout


def dpdk_runtime_dir(prefix):
    """Where DPDK makes the runtime directory of @prefix; it leaves it behind."""
    base = '/var/run' if os.geteuid() == 0 else os.environ.get('XDG_RUNTIME_DIR', '/tmp')
    return os.path.join(base, 'dpdk', prefix)


def public_headers(source_dir):
    """The headers the project declares public: lib/*/bh_*.h and lib/net/*/bh_*.h."""
    return sorted(os.path.basename(p) for pattern in ('lib/*/bh_*.h', 'lib/net/*/bh_*.h')
                  for p in glob.glob(os.path.join(source_dir, pattern)))


def sanitizer_options(build_dir):
    """The meson options a consumer of a sanitized build of the library
    needs: its objects call into the sanitizer runtimes, which only a link
    with the same -fsanitize flags provides."""
    options = {o['name']: o['value'] for o in json.loads(run(['meson', 'introspect', '--buildoptions', build_dir]))}
    sanitize = options.get('b_sanitize', 'none')
    return [] if sanitize == 'none' else [f'-Db_sanitize={sanitize}', '-Db_lundef=false']


class Embed(unittest.TestCase):
    """One install and one example build, shared by the cases."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=f'bh-embed-{os.getpid()}-')
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        destdir = os.path.join(cls.tmp, 'dest')
        run(['meson', 'install', '-C', BUILD_DIR, '--no-rebuild', '--quiet', '--tags', 'devel', '--destdir', destdir])
        pcs = glob.glob(os.path.join(destdir, '**', 'pkgconfig', 'bottomhalf.pc'), recursive=True)
        if len(pcs) != 1:
            raise AssertionError(f'expected one bottomhalf.pc under {destdir}, found {pcs}')
        cls.pkgconfig_dir = os.path.dirname(pcs[0])
        cls.relocate(destdir)
        cls.env = dict(os.environ, PKG_CONFIG_PATH=cls.pkgconfig_dir)
        cls.include_dir = run(['pkg-config', '--variable=includedir', 'bottomhalf'], cls.env).strip()
        cls.lib_dir = run(['pkg-config', '--variable=libdir', 'bottomhalf'], cls.env).strip()
        example_build = os.path.join(cls.tmp, 'example')
        run(['meson', 'setup', example_build, os.path.join(SOURCE_DIR, 'examples', 'embed'),
             *sanitizer_options(BUILD_DIR)], cls.env)
        run(['ninja', '-C', example_build], cls.env)
        cls.example = os.path.join(example_build, 'bh-embed')

    @classmethod
    def relocate(cls, destdir):
        """Points the installed .pc files at the DESTDIR copy. Neither
        PKG_CONFIG_SYSROOT_DIR nor --define-prefix can: the first would
        move DPDK's paths too, the second misreads a multiarch libdir."""
        for pc in glob.glob(os.path.join(cls.pkgconfig_dir, 'bottomhalf*.pc')):
            with open(pc) as f:
                text = f.read()
            relocated, n = re.subn(r'^prefix=(/.*)$', lambda m: f'prefix={destdir}{m[1]}', text, flags=re.M)
            if n != 1:
                raise AssertionError(f'{pc}: no absolute prefix= line to relocate\n{text}')
            with open(pc, 'w') as f:
                f.write(relocated)

    def example_run(self, *app_args):
        """Runs the example with EAL options of its own; (exit code, stdout, stderr)."""
        prefix = f'bhemb{os.getpid()}-{self._testMethodName}'
        self.addCleanup(shutil.rmtree, dpdk_runtime_dir(prefix), ignore_errors=True)
        eal = ['-l', '0-1', '--no-huge', '-m', '128', '--no-pci', '--no-shconf', '--file-prefix', prefix,
               '--log-level', 'lib.eal:warning']
        p = subprocess.run([self.example, *eal, '--', *app_args], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
        return p.returncode, p.stdout, p.stderr

    def test_installs_public_headers_only(self):
        installed = sorted(os.listdir(os.path.join(self.include_dir, 'bottomhalf')))
        self.assertEqual(installed, public_headers(SOURCE_DIR),
                         'include/bottomhalf/ must hold exactly the bh_*.h headers')
        for lib in ('libbottomhalf', 'libbottomhalf_net'):
            self.assertTrue(glob.glob(os.path.join(self.lib_dir, lib + '.*')), f'{lib} not installed')

    def test_pkg_config_carries_dpdk(self):
        """The libraries are static: a consumer's plain --libs must bring
        DPDK and the core library along with the net layer."""
        libs = run(['pkg-config', '--libs', 'bottomhalf-net'], self.env).split()
        for flag in ('-lbottomhalf_net', '-lbottomhalf', '-lrte_eal', '-lrte_ethdev', '-lrte_timer'):
            self.assertIn(flag, libs)
        self.assertLess(libs.index('-lbottomhalf_net'), libs.index('-lbottomhalf'), 'link order')
        cflags = run(['pkg-config', '--cflags', 'bottomhalf'], self.env).split()
        self.assertIn('-I' + os.path.join(self.include_dir, 'bottomhalf'), cflags)

    def test_installed_headers_compile_alone(self):
        """Each installed header compiles on its own with the pkg-config
        flags, so none needs another included first or a private header."""
        cflags = run(['pkg-config', '--cflags', 'bottomhalf-net'], self.env).split()
        cxx = os.environ.get('CXX', 'c++')
        # -Wno-volatile: DPDK's own headers use ++ on volatile fields.
        flags = ['-std=c++20', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-Wno-volatile', *cflags]

        def compile_one(header):
            source = os.path.join(self.tmp, f'{header}.cpp')
            with open(source, 'w') as f:
                f.write(f'#include <{header}>\n')
            p = subprocess.run([cxx, *flags, source], capture_output=True, text=True, timeout=STEP_TIMEOUT)
            return header, p.returncode, p.stderr

        with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
            failed = {header: err[-2000:] for header, rc, err in pool.map(compile_one, public_headers(SOURCE_DIR))
                      if rc != 0}
        self.assertFalse(failed, 'headers that do not compile alone:\n' +
                         '\n'.join(f'--- {h}\n{err}' for h, err in failed.items()))

    def test_example_runs_every_piece(self):
        rc, out, err = self.example_run('--raises', str(RAISES))
        self.assertEqual(rc, 0, f'bh-embed failed\n{out}{err}')
        m = OK_LINE.search(out)
        self.assertIsNotNone(m, f'no result line in:\n{out}')
        self.assertEqual(int(m['raises']), RAISES)
        self.assertEqual(int(m['runs']), RAISES, 'softirq runs counted by the handler')
        self.assertEqual(int(m['framework']), RAISES, "softirq runs in the framework's counters")
        self.assertEqual(m['softirq_lcore'], '1', 'the softirq runs on the lcore it was raised on')
        self.assertEqual(m['tasklet_lcore'], '1', 'the tasklet runs on the lcore that scheduled it')
        self.assertEqual(m['tasklet_ctx'], 'in')
        self.assertTrue(m['thread'].startswith('embed/'), f"work ran on '{m['thread']}', not a worker of 'embed'")
        self.assertEqual(m['lcore'], 'not an lcore')
        self.assertEqual(m['sleep'], 'may sleep')
        self.assertGreater(int(m['iterations']), 0, "the application's own loop ran")

    def test_example_reports_what_did_not_run(self):
        """A timeout too short for the raises: one line saying so, exit 1."""
        rc, out, err = self.example_run('--raises', '1000000', '--timeout', '0.001')
        self.assertEqual(rc, 1, f'{out}{err}')
        self.assertNotRegex(out, OK_LINE)
        self.assertEqual(len(re.findall(r'^bh-embed: FAILED within .*softirq', err, re.M)), 1, err)

    def test_example_refuses_bad_option(self):
        rc, out, err = self.example_run('--raises', 'many')
        self.assertEqual(rc, 2, f'{out}{err}')
        self.assertEqual(re.findall(r'^bh-embed: .*$', err, re.M),
                         ["bh-embed: bad --raises 'many': expected 1..1000000"])


def main():
    global BUILD_DIR, SOURCE_DIR
    if len(sys.argv) < 3:
        sys.exit(f'usage: {sys.argv[0]} BUILD_DIR SOURCE_DIR [unittest options]')
    BUILD_DIR, SOURCE_DIR = (os.path.abspath(a) for a in sys.argv[1:3])
    gtest_xml.run('embed', [sys.argv[0], *sys.argv[3:]])


if __name__ == '__main__':
    main()
