"""Runs a script's unittest cases and writes their results as GoogleTest XML.

devtools/test-summary.py counts test cases from the gtest XML reports that
meson's tests write to the path in GTEST_OUTPUT ("xml:PATH"); the Python
test scripts report through this module so that their cases count too.
"""

import os
import re
import sys
import time
import unittest
import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot hold (a program's output may carry terminal escapes).
XML_INVALID = re.compile('[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')


class GtestXmlResult(unittest.TextTestResult):
    """Also keeps each test's outcome for a gtest-style XML report. A test
    may report more than once (a failure, then an error in its clean-up):
    the worst outcome counts and the messages add up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = {}  # test method name: outcome, messages, seconds
        self.started = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.started = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        self.case(test)['time'] = time.monotonic() - self.started

    def case(self, test):
        name = getattr(test, '_testMethodName', str(test))
        return self.cases.setdefault(name, {'outcome': 'pass', 'messages': [], 'time': 0.0})

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.note(test, 'fail', str(err[1]) or err[0].__name__, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self.note(test, 'fail', f'{err[0].__name__}: {err[1]}', self._exc_info_to_string(err, test))

    def addExpectedFailure(self, test, err):
        # Shown, not hidden: a known failure counts as skipped, with its message.
        super().addExpectedFailure(test, err)
        self.note(test, 'skip', f'expected failure: {err[1]}', self._exc_info_to_string(err, test))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.note(test, 'fail', 'unexpected success: the known failure is gone, drop expectedFailure', '')

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.note(test, 'skip', reason, reason)

    def note(self, test, outcome, message, details):
        c = self.case(test)
        if c['outcome'] != 'fail':
            c['outcome'] = outcome
        c['messages'].append((message.splitlines()[0] if message else '', details))


def clean(text):
    return XML_INVALID.sub('?', text)


def write_gtest_xml(path, suite, cases, seconds):
    """Writes @cases (GtestXmlResult.cases) as the one test suite @suite."""
    counts = {o: sum(c['outcome'] == o for c in cases.values()) for o in ('fail', 'skip')}
    total = {'tests': str(len(cases)), 'failures': str(counts['fail']), 'disabled': '0', 'errors': '0',
             'time': f'{seconds:.3f}'}
    root = ET.Element('testsuites', total, name='AllTests')
    suite_element = ET.SubElement(root, 'testsuite', total, name=suite, skipped=str(counts['skip']))
    for name, c in cases.items():
        case = ET.SubElement(suite_element, 'testcase', name=name, status='run',
                             result='skipped' if c['outcome'] == 'skip' else 'completed',
                             time=f'{c["time"]:.3f}', classname=suite)
        if c['outcome'] == 'pass':
            continue
        tag = 'failure' if c['outcome'] == 'fail' else 'skipped'
        element = ET.SubElement(case, tag, message=clean(c['messages'][0][0]))
        element.text = clean('\n'.join(details for _, details in c['messages']))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding='UTF-8', xml_declaration=True)


def run(suite, argv):
    """Runs the test cases of __main__ with the unittest command line @argv
    (argv[0] first), writes the gtest XML report if GTEST_OUTPUT asks for
    one, and exits 0 if every case passed, 1 otherwise."""
    started = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2, resultclass=GtestXmlResult)
    result = unittest.main(module='__main__', argv=argv, testRunner=runner, exit=False).result
    output = os.environ.get('GTEST_OUTPUT', '')
    if output.startswith('xml:'):
        write_gtest_xml(output[len('xml:'):], suite, result.cases, time.monotonic() - started)
    sys.exit(0 if result.wasSuccessful() else 1)
