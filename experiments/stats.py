#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The numbers of the experiments: medians, spreads, ratios and tables.

    experiments/stats.py EXPERIMENT ARGS...   (see --help of each)

One definition of the median for every experiment: the middle value of
the sorted values, and for an even count the mean of the two middle
values (Python's statistics.median, as mp2bench's summaries compute it).

A median or extreme that is one of the values is shown as it was
recorded (the precision of the measurement); a mean of two middle values
with six significant digits.  Whole numbers are shown without decimals.
The shell scripts of experiments/ run the experiments and call this for
their tables; gnuplot draws the plots.
"""

import argparse
import csv
import math
import os
import statistics
import sys


# ---- the statistics ---------------------------------------------------------

def median(values):
    """The median of numbers: for an even count, the mean of the two
    middle values."""
    return statistics.median(values)


def spread(values):
    """The smallest and the largest of numbers."""
    return min(values), max(values)


def ratio(a, b):
    """a / b, or None when b is missing or 0."""
    return a / b if b else None


def number(text):
    """A recorded number; what is not one counts as 0 (as in awk)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def show(x):
    """A computed number, as awk prints it: whole numbers as such, others
    with six significant digits."""
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return '%.6g' % x


def _by_value(texts):
    # Equal values in the order of their text, as sort -n leaves them.
    return sorted(texts, key=lambda t: (number(t), t))


def median_shown(texts):
    """The median of numbers recorded as texts, shown as recorded when it
    is one of them (odd count), else their mean with show()."""
    s = _by_value(texts)
    if not s:
        return '0'
    if len(s) % 2:
        return s[len(s) // 2]
    return show(median([number(t) for t in s]))


def spread_shown(texts):
    """The smallest and the largest of numbers recorded as texts, as
    recorded."""
    s = _by_value(texts)
    return (s[0], s[-1]) if s else ('', '')


def fmt(form, x):
    """printf-style form of x; None (no value) as an empty cell."""
    return '' if x is None else form % x


# ---- tables and files -------------------------------------------------------

def table(head, align, rows, compact=True):
    """A Markdown table: head the column titles, align one of 'l' and 'r'
    per column; compact separators (|---:|) or spaced ones (| ---: |)."""
    rule = {'l': '---', 'r': '---:'}
    pad = '' if compact else ' '
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + pad + (pad + '|' + pad).join(rule[a] for a in align) + pad + '|']
    lines += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'


def read(path):
    """The rows of a CSV file with a header line, as dicts."""
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def groups(rows, key):
    """The rows grouped by key(row), in the order of the first row of each
    group."""
    out = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


# ---- experiments/run.sh: pgbench beside the relocator -----------------------

def pgbench(args):
    """run.sh's pgbench runs: DIR/summary.csv and DIR/results.md.

    DIR/runs.csv of experiments/guest-run.sh into DIR/summary.csv (the
    medians over the repeats per mix, method, mode and batch) and
    DIR/results.md (each setting against no migration and move_pages)."""
    runs = read(os.path.join(args.dir, 'runs.csv'))
    key = lambda r: (r['mix'], r['method'], r['mode'], number(r['batch']))
    out = ['mix,method,mode,batch,repeats,tps,lat_p95_ms,lat_p99_ms,pages_per_s,failed_tx']
    for k, g in sorted(groups(runs, key).items()):
        med = lambda col: median([number(r[col]) for r in g])
        out.append('%s,%s,%s,%s,%d,%.0f,%.3f,%.3f,%.0f,%d' % (
            g[0]['mix'], g[0]['method'], g[0]['mode'], g[0]['batch'], len(g),
            med('tps'), med('lat_p95_ms'), med('lat_p99_ms'),
            med('pages_per_s'), sum(number(r['failed_tx']) for r in g)))
    write(os.path.join(args.dir, 'summary.csv'), '\n'.join(out) + '\n')

    summary = read(os.path.join(args.dir, 'summary.csv'))
    none, mp, mpp = {}, {}, {}
    for s in summary:
        if s['method'] == 'none':
            none[s['mix']] = number(s['tps'])
        # move_pages at 512 pages a batch, else its first batch.
        if s['method'] == 'move_pages' and (s['mix'] not in mp or number(s['batch']) == 512):
            mp[s['mix']] = number(s['tps'])
            mpp[s['mix']] = number(s['pages_per_s'])
    rows = []
    for s in summary:
        mix, mig = s['mix'], s['method'] != 'none'
        tps, pps = number(s['tps']), number(s['pages_per_s'])
        rows.append([
            mix, s['method'], '' if s['mode'] == '-' else s['mode'],
            s['batch'] if mig else '', '%.0f' % tps,
            fmt('%.2f', ratio(tps, none.get(mix))),
            fmt('%.2f', ratio(tps, mp.get(mix)) if mig else None),
            '%.2f' % number(s['lat_p95_ms']), '%.2f' % number(s['lat_p99_ms']),
            '%.0f' % pps if mig else '',
            fmt('%.2f', ratio(pps, mpp.get(mix)) if mig else None),
            '%d' % number(s['failed_tx'])])
    write(os.path.join(args.dir, 'results.md'), table(
        ['mix', 'method', 'mode', 'batch', 'TPS', 'vs no migration',
         'vs move_pages', 'p95 ms', 'p99 ms', 'pages/s',
         'pages/s vs move_pages', 'failed tx'],
        'lllrrrrrrrrr', rows))


# ---- experiments/rate.sh: pgbench at fixed relocation rates -----------------

def rate(args):
    """rate.sh's runs: DIR/summary.csv and DIR/results.md.

    DIR/runs.csv of experiments/rate-guest.sh into DIR/summary.csv (the
    medians over the repeats per mix, clients, method, mode and rate) and
    DIR/results.md (each row against no migration, and move_pages2
    against move_pages at the same rate)."""
    runs = read(os.path.join(args.dir, 'runs.csv'))
    key = lambda r: (r['mix'], r['clients'], r['method'], r['mode'],
                     r['every_s'], r['rate'])
    rows = []
    for k, g in groups(runs, key).items():
        mix, clients, method, mode, every, rate_ = k
        med = lambda col: median([number(r[col]) for r in g])
        line = '%s,%s,%s,%s,%s,%s,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%d' % (
            mix, clients, method, mode, every, rate_, len(g),
            med('tps'), med('lat_p50_ms'), med('lat_p95_ms'),
            med('lat_p99_ms'), med('pages_per_s'), med('cpu_us_per_page'),
            sum(number(r['failed_tx']) for r in g))
        # no migration first, then the rates from low to high, flat out last
        order = 0 if method == 'none' else (2 if number(rate_) == 0 else 1)
        rows.append(((mix, number(clients), order, number(rate_), method, line), line))
    out = ['mix,clients,method,mode,every_s,rate,repeats,tps,lat_p50_ms,lat_p95_ms,lat_p99_ms,pages_per_s,cpu_us_per_page,failed_tx']
    out += [line for _, line in sorted(rows)]
    write(os.path.join(args.dir, 'summary.csv'), '\n'.join(out) + '\n')

    summary = read(os.path.join(args.dir, 'summary.csv'))
    none, mp = {}, {}
    for s in summary:
        if s['method'] == 'none':
            none[s['mix'], s['clients']] = s
        if s['method'] == 'move_pages':
            mp[s['mix'], s['clients'], s['every_s']] = s
    col = lambda s, c: number(s[c]) if s else None
    cells = []
    for s in summary:
        mig, two = s['method'] != 'none', s['method'] == 'move_pages2'
        n = none.get((s['mix'], s['clients']))
        m = mp.get((s['mix'], s['clients'], s['every_s'])) if two else None
        tps, p99, cpu = number(s['tps']), number(s['lat_p99_ms']), number(s['cpu_us_per_page'])
        cells.append([
            s['mix'], s['clients'], s['method'],
            '' if not mig else ('flat out' if number(s['every_s']) == 0 else s['every_s'] + ' s'),
            '%d' % number(s['rate']) if mig and number(s['rate']) > 0 else '',
            '%.0f' % number(s['pages_per_s']) if mig else '', '%.0f' % tps,
            fmt('%.2f', ratio(tps, col(n, 'tps'))),
            fmt('%.2f', ratio(tps, col(m, 'tps'))),
            '%.1f' % number(s['lat_p50_ms']), '%.1f' % number(s['lat_p95_ms']),
            '%.1f' % p99,
            fmt('%.2f', ratio(p99, col(n, 'lat_p99_ms')) if mig else None),
            fmt('%.2f', ratio(p99, col(m, 'lat_p99_ms'))),
            '%.0f' % cpu if mig else '',
            fmt('%.2f', ratio(cpu, col(m, 'cpu_us_per_page'))),
            '%d' % number(s['failed_tx'])])
    write(os.path.join(args.dir, 'results.md'), table(
        ['mix', 'clients', 'method', 'table every', 'pages/s asked',
         'pages/s moved', 'TPS', 'vs none', 'vs move_pages', 'p50 ms',
         'p95 ms', 'p99 ms', 'p99 vs none', 'p99 vs move_pages',
         'CPU µs/page', 'CPU vs move_pages', 'failed tx'],
        'lrlrrrrrrrrrrrrrr', cells))


# ---- the command line -------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='experiment', required=True)
    for name, fn, params in (
            ('pgbench', pgbench, [('dir', 'folder of runs.csv')]),
            ('rate', rate, [('dir', 'folder of runs.csv')])):
        doc = fn.__doc__.split('\n\n', 1)
        p = sub.add_parser(name, help=doc[0], description=doc[1])
        for param, help_ in params:
            p.add_argument(param, help=help_)
        p.set_defaults(fn=fn)
    args = ap.parse_args()
    args.fn(args)


if __name__ == '__main__':
    main()
