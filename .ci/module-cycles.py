#!/usr/bin/env python3
"""Import cycles between the modules of each crate (`use crate::…` / `super::…` outside tests
and comments), at file and at top-level-module granularity. Prints them; exits 1 if any.

    python3 .ci/module-cycles.py crates/*
"""
import os, re, sys, itertools
def modules(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'): continue
            p = os.path.join(root, f)
            rel = os.path.relpath(p, src)[:-3]
            parts = rel.split(os.sep)
            if parts[-1] in ('mod', 'lib', 'main'): parts = parts[:-1]
            mods['::'.join(parts)] = open(p).read()
    return mods
def strip_tests(s):
    i = s.find('#[cfg(test)]')
    return s if i < 0 else s[:i]
def refs(name, text, mods):
    out = set()
    text = strip_tests(text)
    text = '\n'.join(l for l in text.splitlines() if not l.strip().startswith('//'))
    for m in re.finditer(r'\bcrate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)', text):
        path = m.group(1).split('::')
        # longest prefix that is a module
        for k in range(len(path), 0, -1):
            cand = '::'.join(path[:k])
            if cand in mods: out.add(cand); break
    base = name.split('::')[:-1] if name else []
    for m in re.finditer(r'\bsuper::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)', text):
        path = base + m.group(1).split('::')
        for k in range(len(path), len(base), -1):
            cand = '::'.join(path[:k])
            if cand in mods: out.add(cand); break
    # `use super::{a, b}`
    for m in re.finditer(r'\bsuper::\{([^}]*)\}', text):
        for item in m.group(1).split(','):
            item = item.strip().split('::')[0]
            cand = '::'.join(base + [item])
            if cand in mods: out.add(cand)
    out.discard(name)
    return out
failed = False
for crate in sys.argv[1:]:
    src = os.path.join(crate, 'src')
    mods = modules(src)
    g = {n: refs(n, t, mods) for n, t in mods.items()}
    # ignore parent->child edges (a module declares its children)
    for n in g:
        g[n] = {d for d in g[n] if not d.startswith(n + '::') or n == ''}
    # find cycles via DFS
    cycles = set()
    def dfs(start, node, path, seen):
        for d in g.get(node, ()):
            if d == start: cycles.add(tuple(path))
            elif d not in seen and len(path) < 6:
                dfs(start, d, path + [d], seen | {d})
    for n in g: dfs(n, n, [n], {n})
    # also at top-level granularity
    top = {}
    for n, ds in g.items():
        a = n.split('::')[0]
        for d in ds:
            b = d.split('::')[0]
            if a != b: top.setdefault(a, set()).add(b)
    tcycles=set()
    def tdfs(start, node, path, seen):
        for d in top.get(node, ()):
            if d == start: tcycles.add(tuple(sorted(path)))
            elif d not in seen: tdfs(start, d, path+[d], seen|{d})
    for n in top: tdfs(n, n, [n], {n})
    found = sorted({tuple(sorted(c)) for c in cycles}) + sorted(tcycles)
    print(f"{crate}: {'cycles ' + str(found) if found else 'no import cycles'}")
    failed = failed or bool(found)
sys.exit(1 if failed else 0)
