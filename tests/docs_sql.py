#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Extract the SQL examples of a Markdown file, to be run as written.

Usage: docs_sql.py FILE.md OUTDIR

Every ```sql block becomes OUTDIR/NNN.sql (NNN counts from 001, in the
order of the file), unless the line right before its fence is
<!-- not run: REASON -->.  Where an output block (``` or ```text) follows
the SQL block, separated by blank lines at most, the column header it
shows (its first line with a "|", or its first line) goes to
OUTDIR/NNN.header.  OUTDIR/index lists "NNN LINE" per block run and
"skip LINE REASON" per block not run, LINE being the block's first line
in FILE.md.
"""
import os
import re
import sys

NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.*?)\s*-->\s*$")


def blocks(lines):
    """(lang, first line number, body lines, line before the fence)."""
    i = 0
    while i < len(lines):
        m = re.match(r"^```\s*([A-Za-z0-9_-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        before = lines[start - 1] if start > 0 else ""
        yield m.group(1), start + 1, body, before, i
        i += 1


def header_of(body):
    for line in body:
        if "|" in line:
            return line.strip()
    for line in body:
        if line.strip():
            return line.strip()
    return None


def main(md, outdir):
    with open(md, encoding="utf-8") as f:
        lines = f.read().split("\n")
    os.makedirs(outdir, exist_ok=True)
    found = list(blocks(lines))
    index = []
    n = 0
    for k, (lang, first, body, before, end) in enumerate(found):
        if lang != "sql":
            continue
        m = NOT_RUN.match(before.strip())
        if m:
            index.append(f"skip {first} {m.group(1)}")
            continue
        n += 1
        name = f"{n:03d}"
        with open(os.path.join(outdir, name + ".sql"), "w",
                  encoding="utf-8") as f:
            f.write("\n".join(body) + "\n")
        if k + 1 < len(found):
            lang2, first2, body2, _, _ = found[k + 1]
            between = lines[end + 1:first2 - 1]
            if lang2 in ("", "text") and all(not s.strip() for s in between):
                h = header_of(body2)
                if h:
                    with open(os.path.join(outdir, name + ".header"), "w",
                              encoding="utf-8") as f:
                        f.write(h + "\n")
        index.append(f"{name} {first}")
    with open(os.path.join(outdir, "index"), "w", encoding="utf-8") as f:
        f.write("\n".join(index) + ("\n" if index else ""))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    sys.exit(main(sys.argv[1], sys.argv[2]))
