#!/usr/bin/env python3
"""The layering of lib/ as the build enforces it, and as the README says.

Usage: test_layout.py SOURCE_DIR [unittest options]

The build compiles each core concept with the include directories of the
concepts it names (concept_uses in its meson.build) and of theirs, in the
order of core_concepts in lib/meson.build: these cases check the same rule
over every file, headers included (a header no source of its own concept
compiles is still checked), and that the README's layout table names every
folder. Results go to the gtest XML file named by GTEST_OUTPUT ("xml:PATH").
"""

import ast
import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'common'))
import gtest_xml  # noqa: E402

SOURCE_DIR = None  # from the command line
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def meson_list(text, name):
    """The list literal assigned to @name in a meson.build."""
    m = re.search(rf'^{name}\s*=\s*(\[[^\]]*\])', text, re.M | re.S)
    if not m:
        raise AssertionError(f'no {name} = [...]')
    return ast.literal_eval(re.sub(r'#.*', '', m[1]))


def read(*path):
    with open(os.path.join(SOURCE_DIR, *path)) as f:
        return f.read()


class Layout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.order = meson_list(read('lib', 'meson.build'), 'core_concepts')
        cls.uses = {c: meson_list(read('lib', c, 'meson.build'), 'concept_uses') for c in cls.order}
        cls.closure = {}
        for c in cls.order:
            closure = {c}
            for u in cls.uses[c]:
                closure |= cls.closure[u]
            cls.closure[c] = closure
        cls.owner = {}  # file name -> concept
        for c in cls.order:
            for f in os.listdir(os.path.join(SOURCE_DIR, 'lib', c)):
                cls.owner[f] = c

    def test_layout_every_folder_is_a_concept_in_the_order(self):
        folders = {d for d in os.listdir(os.path.join(SOURCE_DIR, 'lib'))
                   if os.path.isdir(os.path.join(SOURCE_DIR, 'lib', d)) and d != 'net'}
        self.assertEqual(folders, set(self.order))

    def test_layout_concepts_use_only_concepts_below_them(self):
        for i, c in enumerate(self.order):
            for u in self.uses[c]:
                self.assertIn(u, self.order[:i], f'lib/{c} uses {u}, which is not below it')

    def test_layout_no_include_reaches_up(self):
        bad = []
        for c in self.order:
            for f in sorted(os.listdir(os.path.join(SOURCE_DIR, 'lib', c))):
                if not f.endswith(('.h', '.cpp')):
                    continue
                for inc in INCLUDE.findall(read('lib', c, f)):
                    target = self.owner.get(os.path.basename(inc))
                    if target and target not in self.closure[c]:
                        bad.append(f'lib/{c}/{f} includes {inc} (lib/{target})')
        self.assertEqual(bad, [], 'includes outside the concepts named in meson.build')

    def test_layout_readme_table_names_every_folder(self):
        readme = read('README.md')
        rows = {m[1]: m[2] for m in re.finditer(r'^\| `(lib/[^`]*)` \|(.*)\|\s*$', readme, re.M)}
        named = set(re.findall(r'`([a-z_]+)`', rows.get('lib/<concept>/', '')))
        self.assertEqual(set(self.order) - named, set(), 'core concepts the README does not name')
        net = {d for d in os.listdir(os.path.join(SOURCE_DIR, 'lib', 'net'))
               if os.path.isdir(os.path.join(SOURCE_DIR, 'lib', 'net', d))}
        net_named = set(re.findall(r'`([a-z_]+)`', rows.get('lib/net/<concept>/', '')))
        self.assertEqual(net - net_named, set(), 'net concepts the README does not name')


def main():
    global SOURCE_DIR
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} SOURCE_DIR [unittest options]')
    SOURCE_DIR = os.path.abspath(sys.argv[1])
    gtest_xml.run('layout', [sys.argv[0], *sys.argv[2:]])


if __name__ == '__main__':
    main()
