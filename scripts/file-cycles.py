#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Find source files that depend on each other in a circle.

Usage: file-cycles.py OBJECT...

File A depends on file B when A's object uses a function or variable that
B's object defines (nm: an undefined symbol of A, a global one of B).
Prints each group of files that reach each other, one per line, and
exits 1 if there is one; prints nothing and exits 0 otherwise.
"""
import os
import subprocess
import sys


def symbols(obj, flag):
    out = subprocess.run(["nm", "-P", flag, obj], check=True,
                         capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def components(graph):
    """Strongly connected components (Tarjan), each a sorted list."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(objs):
    if not objs:
        sys.exit(__doc__.strip())
    name = {o: os.path.basename(o)[:-2] + ".c" for o in objs}
    defined = {}
    for o in objs:
        for s in symbols(o, "--defined-only") - {"_PG_init", "Pg_magic_func"}:
            if not s.startswith("pg_finfo_"):
                defined[s] = name[o]
    graph = {name[o]: set() for o in objs}
    for o in objs:
        for s in symbols(o, "--undefined-only"):
            if s in defined and defined[s] != name[o]:
                graph[name[o]].add(defined[s])
    cycles = [c for c in components(graph) if len(c) > 1]
    for c in cycles:
        print(" ".join(c))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
