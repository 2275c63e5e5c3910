#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the figures the docs take from results/ against their files.

    scripts/check-doc-figures.py [FILE.md ...]

With no FILE, checks README.md, kernel/README.md and docs/*.md.

A figure is checked when an HTML comment follows it on the same line:

    1.84x <!-- fig: results/ycsb/summary.csv | mix=C,method=move_pages2 | ratio -->
    0.19 ms <!-- fig: results/profile/guest.txt ~ rcu wait ([0-9.]+) ms -->

CSV form: PATH | FILTERS | COLUMN [| EXTRAS].  FILTERS are key=value
pairs, comma-separated ("-" for none), that select exactly one row;
EXTRAS, space-separated: agg=median|min|max|mean|sum|count (FILTERS may
then select several rows), over=key=value;key=value (divide by the same
COLUMN of the row these filters select), scale=N (multiply by N).
Inside a Markdown table, write the separators as "\\|".  Text form:
PATH ~ REGEX, whose first group is the number (first match).

The number compared is the last one written before the comment on its
line (thousands commas dropped); the file's value must round to it at
as many decimals as the docs write.  Every relative Markdown link must name a
file or directory that exists.  Prints one line per problem and a
closing comment "# doc figures: N passed, N failed, N skipped"; exits 1 on a
problem.
"""

import csv
import glob
import os
import re
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIG = re.compile(r"<!--\s*fig:\s*(.*?)\s*-->")
# A minus is a sign only after a space or a bracket: "1.5-5.2" is a range.
NUMBER = re.compile(r"(?:(?<=[\s(])-|^-)?\d[\d,]*(?:\.\d+)?")
LINK = re.compile(r"\]\(([^)#\s]+)")
AGGS = {
    "median": statistics.median,
    "min": min,
    "max": max,
    "mean": statistics.mean,
    "sum": sum,
    "count": len,
}


class FigureError(Exception):
    pass


def parse_filters(text, sep):
    if text.strip() in ("", "-"):
        return []
    pairs = []
    for item in text.split(sep):
        if "=" not in item:
            raise FigureError(f"filter '{item}' is not key=value")
        key, value = item.split("=", 1)
        pairs.append((key.strip(), value.strip()))
    return pairs


def read_rows(path):
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        raise FigureError(f"{path}: no such file")
    with open(full, newline="") as f:
        return list(csv.DictReader(f))


def select(rows, filters, path):
    for key, _ in filters:
        if rows and key not in rows[0]:
            raise FigureError(f"{path}: no column '{key}'")
    return [r for r in rows if all(r[k] == v for k, v in filters)]


def column_values(rows, column, path):
    if rows and column not in rows[0]:
        raise FigureError(f"{path}: no column '{column}'")
    try:
        return [float(r[column]) for r in rows]
    except ValueError as e:
        raise FigureError(f"{path}: column '{column}': {e}") from None


def csv_value(spec):
    fields = [f.strip() for f in spec.split("|")]
    if len(fields) not in (3, 4):
        raise FigureError("want PATH | FILTERS | COLUMN [| EXTRAS]")
    path, filters, column = fields[:3]
    extras = dict(parse_filters(fields[3], " ")) if len(fields) == 4 else {}
    unknown = set(extras) - {"agg", "over", "scale"}
    if unknown:
        raise FigureError(f"unknown extra {sorted(unknown)}")
    rows = read_rows(path)
    chosen = select(rows, parse_filters(filters, ","), path)
    agg = extras.get("agg")
    if agg is not None and agg not in AGGS:
        raise FigureError(f"agg '{agg}' is not one of {sorted(AGGS)}")
    if not chosen:
        raise FigureError(f"{path}: no row matches '{filters}'")
    if agg is None and len(chosen) != 1:
        raise FigureError(f"{path}: {len(chosen)} rows match '{filters}'")
    values = column_values(chosen, column, path)
    value = AGGS[agg](values) if agg else values[0]
    if "over" in extras:
        base = select(rows, parse_filters(extras["over"], ";"), path)
        if len(base) != 1:
            raise FigureError(
                f"{path}: {len(base)} rows match over '{extras['over']}'")
        denominator = column_values(base, column, path)[0]
        if denominator == 0:
            raise FigureError(f"{path}: over row's '{column}' is 0")
        value /= denominator
    return value * float(extras.get("scale", 1))


def text_value(spec):
    path, regex = (s.strip() for s in spec.split("~", 1))
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        raise FigureError(f"{path}: no such file")
    with open(full, errors="replace") as f:
        m = re.search(regex, f.read())
    if not m:
        raise FigureError(f"{path}: no match for /{regex}/")
    try:
        return float(m.group(1).replace(",", ""))
    except (IndexError, ValueError) as e:
        raise FigureError(f"{path}: /{regex}/: {e}") from None


def written_number(before):
    numbers = NUMBER.findall(re.sub(r"<!--.*?-->", "", before))
    if not numbers:
        raise FigureError("no number before the comment")
    text = numbers[-1].replace(",", "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), decimals, text


def check_figure(line, match):
    written, decimals, text = written_number(line[: match.start()])
    spec = match.group(1)
    if "~" in spec.split("|")[0]:
        value = text_value(spec)
    else:
        # In a Markdown table the separators are written "\\|".
        value = csv_value(spec.replace("\\|", "|"))
    # Half a unit of the last written digit either way: the docs may round
    # half up or half to even.
    if abs(value - written) > 0.5 * 10 ** -decimals + 1e-9:
        raise FigureError(
            f"docs say {text}, the file gives {value:.{decimals + 2}f}")


def check_links(path, lineno, line, problems):
    base = os.path.dirname(path)
    for target in LINK.findall(line):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = os.path.normpath(os.path.join(base, target))
        if not os.path.exists(resolved):
            rel = os.path.relpath(path, ROOT)
            problems.append(f"{rel}:{lineno}: link to missing {target}")


def check_file(path, counts, problems):
    rel = os.path.relpath(path, ROOT)
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            check_links(path, lineno, line, problems)
            for match in FIG.finditer(line):
                try:
                    check_figure(line, match)
                    counts["passed"] += 1
                except FigureError as e:
                    counts["failed"] += 1
                    problems.append(f"{rel}:{lineno}: {e}")


def main(argv):
    if argv:
        files = [os.path.abspath(a) for a in argv]
    else:
        files = [os.path.join(ROOT, "README.md"),
                 os.path.join(ROOT, "kernel", "README.md")]
        files += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    counts = {"passed": 0, "failed": 0}
    problems = []
    for path in files:
        check_file(path, counts, problems)
    for p in problems:
        print(p)
    link_failures = len(problems) - counts["failed"]
    print(f"# doc figures: {counts['passed']} passed, "
          f"{counts['failed'] + link_failures} failed, 0 skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
