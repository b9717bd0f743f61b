#!/usr/bin/env python3
"""The API reference builds from the public headers without a warning, and
every public function states where it may be called from and what it costs.

Usage: test_docs.py DOXYGEN DOXYFILE SOURCE_DIR [unittest options]

Runs doxygen with the build's Doxyfile (docs/Doxyfile.in), writing into a
temporary directory rather than build/docs, with its XML output too, which
the @context and @cost check reads. Results also go to the gtest XML file
named by GTEST_OUTPUT ("xml:PATH").
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'common'))
import gtest_xml  # noqa: E402
from test_embed import public_headers  # noqa: E402

DOXYGEN = DOXYFILE = SOURCE_DIR = None  # from the command line
DOXYGEN_TIMEOUT = 120


def html_page(header):
    """The file page doxygen writes for @header (it doubles underscores)."""
    return header.replace('_', '__').replace('.', '_8') + '.html'


class ApiDocs(unittest.TestCase):
    """One doxygen run, shared by the cases."""

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix=f'bh-docs-{os.getpid()}-')
        cls.addClassCleanup(shutil.rmtree, cls.out, ignore_errors=True)
        with open(DOXYFILE) as f:
            config = f.read() + f'\nOUTPUT_DIRECTORY = {cls.out}\nGENERATE_XML = YES\n'
        cls.doxygen = subprocess.run([DOXYGEN, '-'], input=config, capture_output=True, text=True,
                                     timeout=DOXYGEN_TIMEOUT)

    def test_no_warnings(self):
        self.assertEqual(self.doxygen.stderr, '', 'doxygen warnings')
        self.assertEqual(self.doxygen.returncode, 0, self.doxygen.stdout[-3000:])

    def test_every_public_header_has_a_page(self):
        headers = public_headers(SOURCE_DIR)
        self.assertTrue(headers, 'no public headers found')
        missing = [h for h in headers if not os.path.isfile(os.path.join(self.out, 'html', html_page(h)))]
        self.assertEqual(missing, [], 'public headers missing from the API reference')

    def test_every_public_function_states_context_and_cost(self):
        """@context and @cost (the Doxyfile's aliases) on every public
        function and method but constructors, destructors and operators."""
        checked, missing = 0, []
        xml_dir = os.path.join(self.out, 'xml')
        for name in sorted(os.listdir(xml_dir)):
            if not name.endswith('.xml') or name == 'index.xml':
                continue
            for m in ET.parse(os.path.join(xml_dir, name)).iter('memberdef'):
                if m.get('kind') != 'function' or m.get('prot') != 'public':
                    continue
                fn, args = m.findtext('name'), m.findtext('argsstring') or ''
                qualified = m.findtext('qualifiedname') or fn
                scope = qualified.split('::')
                if fn.startswith(('operator', '~')) or '=delete' in args.replace(' ', '') or \
                        (len(scope) > 1 and scope[-1] == scope[-2]):
                    continue
                checked += 1
                titles = {t.text for t in m.iter('title')}
                if not {'Context:', 'Cost:'} <= titles:
                    missing.append(qualified + args)
        self.assertGreater(checked, 100, 'the XML output lists too few functions: is the check reading it?')
        self.assertEqual(sorted(set(missing)), [], 'public functions without @context or @cost')


def main():
    global DOXYGEN, DOXYFILE, SOURCE_DIR
    if len(sys.argv) < 4:
        sys.exit(f'usage: {sys.argv[0]} DOXYGEN DOXYFILE SOURCE_DIR [unittest options]')
    DOXYGEN, DOXYFILE = sys.argv[1:3]
    SOURCE_DIR = os.path.abspath(sys.argv[3])
    gtest_xml.run('api_docs', [sys.argv[0], *sys.argv[4:]])


if __name__ == '__main__':
    main()
