#!/usr/bin/env python3
"""Summarises the last `meson test` run of one or more build trees.

Usage: test-summary.py LABEL=BUILDDIR...

Counts GoogleTest cases from each test's XML report where the test finished
and wrote a fresh one, and the meson test itself otherwise (a crash, a
timeout, a script). Lists the failures, then prints as the last line
`N passed, N failed` (with `, N skipped` when some were skipped).

In CI (the environment has CI=true, as .ci/run sets it) a skipped test is
a failure: a tool or a permission missing there must not turn a test into
a silent pass. The last line then says how many of the failures were
skips: `N passed, N failed (N skipped)`.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

PASS = {'OK', 'EXPECTEDFAIL'}
SKIP = {'SKIP'}
FINISHED = {'OK', 'FAIL'}  # the test ran to its end; its XML can be trusted
CLOCK_SLACK = 1.0  # seconds: file mtimes use a coarser clock than time.time()


def gtest_xml_path(builddir, test):
    """The XML file the test was told to write, or test_<name>.xml."""
    output = test.get('env', {}).get('GTEST_OUTPUT', '')
    if output.startswith('xml:'):
        path = os.path.join(builddir, output[len('xml:'):])
        if path.endswith('/'):
            path += os.path.basename(test['command'][0]) + '.xml'
        return path
    wanted = f"test_{test['name'].rpartition(' / ')[2]}.xml"
    for root, _, files in os.walk(builddir):
        if wanted in files:
            return os.path.join(root, wanted)
    return None


def gtest_cases(path, since):
    """[(case name, 'pass'|'fail'|'skip')] from a gtest XML report written
    after `since`, or None if there is no such readable report."""
    try:
        if os.path.getmtime(path) < since - CLOCK_SLACK:
            return None
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return None
    cases = []
    for case in tree.iter('testcase'):
        if case.get('status') == 'notrun':  # DISABLED_ tests
            continue
        name = f"{case.get('classname')}.{case.get('name')}"
        if case.find('failure') is not None or case.find('error') is not None:
            cases.append((name, 'fail'))
        elif case.get('result') == 'skipped' or case.find('skipped') is not None:
            cases.append((name, 'skip'))
        else:
            cases.append((name, 'pass'))
    return cases


def test_suites(builddir):
    """{test name: 'suite[+suite]'} from meson's introspection data."""
    with open(os.path.join(builddir, 'meson-info', 'intro-tests.json')) as f:
        return {t['name']: '+'.join(s.partition(':')[2] for s in t['suite'])
                for t in json.load(f)}


def results(label, builddir):
    """Yields (name, 'pass'|'fail'|'skip') for everything run in builddir."""
    try:
        suites = test_suites(builddir)
        with open(os.path.join(builddir, 'meson-logs', 'testlog.json')) as f:
            tests = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        yield f'{label}: no test results ({e})', 'fail'
        return
    for test in tests:
        bare = test['name'].rpartition(' / ')[2]
        name = f"{label}:{suites.get(bare, '')}/{bare}"
        result = test['result']
        cases = None
        if result in FINISHED:
            path = gtest_xml_path(builddir, test)
            cases = gtest_cases(path, test['starttime']) if path else None
        if cases is None:
            yield name, ('pass' if result in PASS else
                         'skip' if result in SKIP else 'fail')
            continue
        for case, outcome in cases:
            yield f'{label}:{case}', outcome
        if result != 'OK' and not any(o == 'fail' for _, o in cases):
            yield f"{name} ({result}, exit code {test['returncode']})", 'fail'


def main(args):
    if not args:
        sys.exit(__doc__)
    skips_fail = os.environ.get('CI', '').lower() == 'true'
    counts = {'pass': 0, 'fail': 0, 'skip': 0}
    failed = []
    for arg in args:
        label, sep, builddir = arg.partition('=')
        if not sep:
            builddir = label
        for name, outcome in results(label, builddir):
            counts[outcome] += 1
            if outcome == 'fail':
                failed.append(name)
            elif outcome == 'skip' and skips_fail:
                failed.append(f'{name} (skipped, a failure in CI)')
    if failed:
        print('FAILED:')
        for name in failed:
            print(f'  {name}')
    if skips_fail:
        line = f"{counts['pass']} passed, {counts['fail'] + counts['skip']} failed"
        if counts['skip']:
            line += f" ({counts['skip']} skipped)"
    else:
        line = f"{counts['pass']} passed, {counts['fail']} failed"
        if counts['skip']:
            line += f", {counts['skip']} skipped"
    print(line)
    return 1 if counts['fail'] or (skips_fail and counts['skip']) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
