#!/usr/bin/env python3
"""devtools/test-summary.py, on a build tree made up for the purpose: one
meson test whose gtest XML report has a passing and a skipped case.

Usage: test_test_summary.py [unittest options]

Results are also written as gtest XML to the path in GTEST_OUTPUT.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, os.pardir, 'common'))
import gtest_xml  # noqa: E402

SUMMARY = os.path.join(HERE, os.pardir, os.pardir, 'devtools', 'test-summary.py')


class Summary(unittest.TestCase):

    def setUp(self):
        self.build = tempfile.mkdtemp(prefix='bhsummary-')
        self.addCleanup(shutil.rmtree, self.build, ignore_errors=True)
        for d in ('meson-info', 'meson-logs'):
            os.mkdir(os.path.join(self.build, d))
        with open(os.path.join(self.build, 'meson-info', 'intro-tests.json'), 'w') as f:
            json.dump([{'name': 'kernel', 'suite': ['bottomhalf:net']}], f)
        test = {'name': 'kernel', 'result': 'OK', 'returncode': 0, 'starttime': time.time() - 5,
                'command': ['test_kernel'], 'env': {'GTEST_OUTPUT': 'xml:kernel.xml'}}
        with open(os.path.join(self.build, 'meson-logs', 'testlog.json'), 'w') as f:
            f.write(json.dumps(test) + '\n')
        cases = {'test_pings': {'outcome': 'pass', 'messages': [], 'time': 0.1},
                 'test_iperf': {'outcome': 'skip', 'messages': [('iperf3 is not installed', '')], 'time': 0.0}}
        gtest_xml.write_gtest_xml(os.path.join(self.build, 'kernel.xml'), 'kernel', cases, 0.1)

    def summarise(self, ci):
        env = {k: v for k, v in os.environ.items() if k != 'CI'}
        if ci is not None:
            env['CI'] = ci
        r = subprocess.run([sys.executable, SUMMARY, f'tree={self.build}'], capture_output=True, text=True, env=env,
                           timeout=30)
        return r.returncode, r.stdout.splitlines()

    def test_summary_counts_a_skip_apart_outside_ci(self):
        rc, lines = self.summarise(None)
        self.assertEqual(lines[-1], '1 passed, 0 failed, 1 skipped')
        self.assertEqual(rc, 0)

    def test_summary_counts_a_skip_as_a_failure_in_ci(self):
        for ci in ('true', 'TRUE'):
            with self.subTest(CI=ci):
                rc, lines = self.summarise(ci)
                self.assertEqual(lines[-1], '1 passed, 1 failed (1 skipped)')
                self.assertNotEqual(rc, 0)
                self.assertIn('  tree:kernel.test_iperf (skipped, a failure in CI)', lines)


if __name__ == '__main__':
    gtest_xml.run('test_summary', sys.argv)
