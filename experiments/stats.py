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

def _rate_order(mix, clients, method, rate_):
    """Where an arm of rate.sh sorts: per mix and clients, no migration
    first, then the rates from low to high, flat out last."""
    order = 0 if method == 'none' else (2 if number(rate_) == 0 else 1)
    return (mix, number(clients), order, number(rate_), method)


def _every_shown(every):
    """The seconds one move of the table may take, as the tables show it."""
    return 'flat out' if number(every) == 0 else every + ' s'


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
        rows.append((_rate_order(mix, clients, method, rate_), line))
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
            '' if not mig else _every_shown(s['every_s']),
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
        'lrlrrrrrrrrrrrrrr', cells) + '\n' + rate_verdicts(runs, summary)
        + rate_waits(runs, key))


def _against_each(value, refs, ok):
    """'met' when ok(value, ref) holds for every reference run, 'missed'
    when for none, else 'inconclusive': the verdict clears the spread of
    the reference runs only when it does not depend on which one."""
    held = [ok(value, r) for r in refs]
    if not held:
        return ''
    return 'met' if all(held) else ('missed' if not any(held) else 'inconclusive')


def rate_verdicts(runs, summary):
    """The goal of the fixed-rate runs against the spread of no migration:
    each method's median TPS at least 0.9x, and its median p99 at most
    1.5x, of every run without migration of the same mix and clients."""
    base = groups([r for r in runs if r['method'] == 'none'],
                  lambda r: (r['mix'], r['clients']))
    cells = []
    for s in summary:
        refs = base.get((s['mix'], s['clients']), [])
        if s['method'] == 'none' or not refs:
            continue
        tps, p99 = number(s['tps']), number(s['lat_p99_ms'])
        rt = [number(r['tps']) for r in refs]
        rp = [number(r['lat_p99_ms']) for r in refs]
        cells.append([
            s['mix'], s['clients'], s['method'],
            _every_shown(s['every_s']),
            '%.0f' % tps, '%.0f-%.0f' % spread(rt),
            '%.2f-%.2f' % (tps / max(rt), tps / min(rt)) if min(rt) > 0 else '',
            _against_each(tps, rt, lambda v, r: v >= 0.9 * r),
            '%.1f' % p99, '%.1f-%.1f' % spread(rp),
            '%.2f-%.2f' % (p99 / max(rp), p99 / min(rp)) if min(rp) > 0 else '',
            _against_each(p99, rp, lambda v, r: v <= 1.5 * r)])
    return ('Against each run without migration (TPS at least 0.9x, p99 at '
            'most 1.5x; met or missed only when every run agrees):\n\n' + table(
                ['mix', 'clients', 'method', 'table every', 'median TPS',
                 'TPS without migration', 'ratio', 'TPS verdict', 'median p99 ms',
                 'p99 without migration', 'ratio', 'p99 verdict'],
                'lrlrrrrlrrrl', cells))


def rate_waits(runs, key):
    """What the queries waited on, per arm: medians over the repeats (and
    their range) of TPS and p99 against the run without migration of the
    same repeat; of the faults that slept until a migration ended, as a
    share of the transactions, and their mean wait; of the folio lock
    waits per 1000 transactions; of the TLB shootdown interrupts a second;
    of the relocator's CPU as a share of one CPU.  Empty for runs that did
    not count them."""
    if not runs or not runs[0].get('entry_waits'):
        return ''
    none = {(r['mix'], r['clients'], r['repeat']): r for r in runs if r['method'] == 'none'}
    secs = lambda r: number(r['seconds'])
    tx = lambda r: number(r['tps']) * secs(r)

    def cell(form, values):
        values = [v for v in values if v is not None]
        if not values:
            return ''
        lo, hi = spread(values)
        return (form + ' (' + form + '-' + form + ')') % (median(values), lo, hi)

    cells = []
    for k, g in sorted(groups(runs, key).items(),
                       key=lambda kv: _rate_order(kv[0][0], kv[0][1], kv[0][2], kv[0][5])):
        mix, clients, method, _, every, _ = k
        base = lambda r: none.get((r['mix'], r['clients'], r['repeat']))
        vs = lambda col: [number(r[col]) / number(base(r)[col])
                          if base(r) and number(base(r)[col]) else None for r in g]
        waits = [number(r['entry_waits']) for r in g]
        cells.append([
            mix, clients, method,
            '' if method == 'none' else _every_shown(every),
            '' if method == 'none' else cell('%.2f', vs('tps')),
            '' if method == 'none' else cell('%.2f', vs('lat_p99_ms')),
            '' if method == 'none' else cell('%.1f', [
                number(r['lat_p99_ms']) - number(base(r)['lat_p99_ms']) if base(r) else None
                for r in g]),
            cell('%.2f', [100 * w / tx(r) if tx(r) else 0 for w, r in zip(waits, g)]),
            cell('%.1f', [number(r['entry_wait_ms']) / w if w else None for w, r in zip(waits, g)]),
            cell('%.1f', [number(r['entry_wait_ms']) / secs(r) for r in g]),
            '%.1f' % median([number(r['lock_waits']) * 1000 / tx(r) if tx(r) else 0 for r in g]),
            '%.0f' % median([number(r['tlb_shootdowns']) / secs(r) for r in g]),
            '%.0f%%' % median([100 * number(r['reloc_cpu_s']) / secs(r) for r in g])])
    return ('\nWhat the queries waited on: medians over the repeats, smallest-'
            'largest in brackets.  TPS and p99 against the run without migration '
            'of the same repeat, and the p99\'s rise over it; faults that slept '
            'until a migration ended (migration_entry_wait_on_locked) as a share '
            'of the transactions, their mean wait and the ms slept in them a '
            'second of the run; folio lock waits (__folio_lock) per 1000 '
            'transactions; TLB shootdown interrupts a second (the waits and '
            'interrupts are of every process of the guest); the relocator\'s '
            'CPU time as a share of one CPU:\n\n' + table(
                ['mix', 'clients', 'arm', 'table every', 'TPS vs none',
                 'p99 vs none', 'p99 rise ms', 'waited for a migration, % of tx',
                 'mean wait ms', 'ms slept / s', 'lock waits / 1000 tx',
                 'TLB shootdowns / s', 'relocator CPU'],
                'lrlrrrrrrrrrr', cells, compact=False))


# ---- experiments/tier.sh: placement over time per policy --------------------

TIER_POLICIES = ('tier', 'interleave', 'off')


def tier(args):
    """tier.sh's samples: DIR/summary.md and the medians for the plots.

    DIR/samples.csv and DIR/tps.csv of experiments/tier.sh into
    DIR/summary.md, and the medians over the repeats per policy and time
    for the plots: DIR/.placement-POLICY.dat, DIR/.tps-POLICY.dat."""
    samples = read(os.path.join(args.dir, 'samples.csv'))
    tps = read(os.path.join(args.dir, 'tps.csv'))
    placement = {}
    for p in TIER_POLICIES:
        for name, rows, col in (('placement', samples, 'hot_share_fast'), ('tps', tps, 'tps')):
            # pgbench's progress times are whole seconds
            at = groups([r for r in rows if r['policy'] == p], lambda r: int(number(r['t'])))
            over_time = [(t, median_shown([r[col] for r in g])) for t, g in sorted(at.items())]
            write(os.path.join(args.dir, '.%s-%s.dat' % (name, p)),
                  ''.join('%d %s\n' % tv for tv in over_time))
            if name == 'placement':
                placement[p] = over_time

    def per_repeat(p, value):
        reps = groups([r for r in samples if r['policy'] == p], lambda r: r['repeat'])
        return [value(g) for g in reps.values()]

    off = [r['tps'] for r in tps if r['policy'] == 'off']
    rows = []
    for p in TIER_POLICIES:
        # the share of the working set on the fast nodes at time t
        share = lambda t: '%.0f%%' % (100 * number(([v for s, v in placement[p] if s <= t] or [0])[-1]))
        p_tps = [r['tps'] for r in tps if r['policy'] == p]
        rows.append([
            p, share(10), share(30), share(float('inf')),
            median_shown(per_repeat(p, lambda g: g[-1]['pool_pages_fast'])),
            median_shown(per_repeat(p, lambda g: g[-1]['moved'])),
            median_shown(per_repeat(p, lambda g: show(
                number(g[-1]['worker_cpu_s']) - number(g[0]['worker_cpu_s'])))),
            median_shown(p_tps),
            fmt('%.2fx', ratio(number(median_shown(p_tps)), number(median_shown(off))))])
    write(os.path.join(args.dir, 'summary.md'), table(
        ['policy', 'working set on fast nodes at 10 s', 'at 30 s', 'at the end',
         "pool pages on fast nodes at the end (tier's cap: 16384)",
         'pages moved', 'worker CPU s', 'median TPS', 'TPS vs off'],
        'lrrrrrrrr', rows))


# ---- experiments/tiering.sh: mp2's tier policy beside the kernel's tiering --

TIERING_ARMS = ('none', 'numab', 'numab-pol', 'damon', 'mp2')
TIERING_LOADS = ('skewed', 'uniform')


def percentile(values, p):
    """The p-th percentile of numbers, nearest rank (the smallest value
    with at least p% of the values at or below it)."""
    s = sorted(values)
    return s[max(math.ceil(p / 100 * len(s)), 1) - 1]


def tiering_tps(args):
    """tiering.sh: tps.csv's rows from pgbench's transaction logs.

    pgbench's per-transaction logs (-l) on stdin into tps.csv's rows
    (printed): per whole second since T0 (seconds since the epoch) the
    transactions that ended in it and the 99th percentile of their
    latency in ms."""
    t0 = number(args.t0)
    lat = {}
    for line in sys.stdin:
        f = line.split()
        # client_id transaction_no latency_us script_no epoch epoch_us ...
        if len(f) < 6 or not f[2].isdigit():
            continue
        t = int(number(f[4]) + number(f[5]) / 1e6 - t0)
        lat.setdefault(t, []).append(number(f[2]) / 1000)
    for t in sorted(lat):
        print('%s,%s,%d,%d,%.3f' % (args.arm, args.repeat, t, len(lat[t]), percentile(lat[t], 99)))


def _tiering_key_values(conditions):
    out = {}
    try:
        with open(conditions) as f:
            for line in f:
                k, _, v = line.strip().partition(' ')
                out[k] = v
    except OSError:
        pass
    return out


def _tiering_mover_fit(g, mover):
    """(a, b) of mover CPU = a x seconds + b x pages migrated, least
    squares over the intervals between one run's samples."""
    xs = [(number(b['t']) - number(p['t']),
           number(b['pgmigrate_success']) - number(p['pgmigrate_success']),
           number(b[mover]) - number(p[mover]))
          for p, b in zip(g, g[1:]) if b[mover] != '' and p[mover] != '']
    tt = sum(t * t for t, m, c in xs)
    tm = sum(t * m for t, m, c in xs)
    mm = sum(m * m for t, m, c in xs)
    tc = sum(t * c for t, m, c in xs)
    mc = sum(m * c for t, m, c in xs)
    det = tt * mm - tm * tm
    if not det:
        return (tc / tt if tt else 0.0), 0.0
    return (tc * mm - mc * tm) / det, (tt * mc - tm * tc) / det


def _tiering_mover_rates(g, mover):
    """The mover's CPU a second over each interval between one run's
    samples: (those in which pgmigrate_success did not change, those in
    which it did)."""
    still, moving = [], []
    for p, b in zip(g, g[1:]):
        dt = number(b['t']) - number(p['t'])
        if b[mover] == '' or p[mover] == '' or dt <= 0:
            continue
        rate = (number(b[mover]) - number(p[mover])) / dt
        (still if b['pgmigrate_success'] == p['pgmigrate_success'] else moving).append(rate)
    return still, moving


def _tiering_cell(values, form='%s'):
    """median (smallest-largest) of numbers over the repeats, the extremes
    only for more than one; inf is "never"."""
    shown = lambda x: 'never' if math.isinf(x) else show(x) if form == '%s' else form % x
    m = median(values)
    text = shown(m)
    if len(values) > 1:
        lo, hi = spread(values)
        text += ' (%s-%s)' % (shown(lo), shown(hi))
    return text


def tiering(args):
    """tiering.sh's samples: DIR/summary.md and the medians for the plots.

    DIR/samples.csv, DIR/tps.csv, DIR/tables.csv, DIR/conditions.txt,
    DIR/kernel-time.csv and DIR/rounds.csv (when there) of
    experiments/tiering.sh into DIR/summary.md, and the medians over
    the repeats per load, arm and time for the plots:
    DIR/.placement-LOAD-ARM.dat, DIR/.migrated-LOAD-ARM.dat,
    DIR/.tps-LOAD-ARM.dat."""
    d = args.dir
    samples = read(os.path.join(d, 'samples.csv'))
    tps = read(os.path.join(d, 'tps.csv'))
    # Runs before the uniform load had only the skewed one.
    for r in samples + tps:
        r.setdefault('load', 'skewed')
    cond = _tiering_key_values(os.path.join(d, 'conditions.txt'))
    half = number(cond.get('shift', 0))
    cases = [(l, a) for l in TIERING_LOADS for a in TIERING_ARMS
             if any(r['load'] == l and r['arm'] == a for r in samples)]
    for l, a in cases:
        for name, rows, col in (('placement', samples, 'hot_share_fast'),
                                ('migrated', samples, 'pgmigrate_success'),
                                ('tps', tps, 'tps')):
            at = groups([r for r in rows if r['load'] == l and r['arm'] == a and r[col] != ''],
                        lambda r: int(number(r['t'])))
            write(os.path.join(d, '.%s-%s-%s.dat' % (name, l, a)),
                  ''.join('%d %s\n' % (t, median_shown([r[col] for r in g]))
                          for t, g in sorted(at.items())))

    def first(g, hot, since):
        # seconds from since to the first sample with 90% of hot on 0-1
        t = [number(r['t']) for r in g if r['hot_table'] == hot and r['hot_share_fast'] != ''
             and number(r['hot_share_fast']) >= 0.9 and number(r['t']) >= since]
        return min(t) - since if t else math.inf

    def full(g, col):
        return [number(r[col]) for r in g if r[col] != '']

    cell = _tiering_cell

    rows = []
    guest_sys_none = {}
    for l, a in cases:
        reps = groups([r for r in samples if r['load'] == l and r['arm'] == a], lambda r: r['repeat'])
        txns = groups([r for r in tps if r['load'] == l and r['arm'] == a], lambda r: r['repeat'])
        per = {k: [] for k in ('a90', 'b90', 'wrong', 'migrated', 'needed', 'promoted',
                               'demoted', 'hint', 'pte', 'mover', 'fit_s', 'fit_page', 'still', 'moving', 'stime', 'gsys',
                               'per_txn')}
        for rep_no, g in reps.items():
            per['a90'].append(first(g, 'a', 0))
            per['b90'].append(first(g, 'b', half))
            cold = full(g, 'cold_fast')
            per['wrong'].append(max(cold) - cold[0] if cold else 0)
            g0 = [r for r in g if r['b_pages'] != '' and r['a_pages'] != ''][0]
            per['needed'].append(number(g0['a_pages']) - number(g0['a_fast'])
                                 + number(g0['b_pages']) - number(g0['b_fast']))
            last = g[-1]
            per['migrated'].append(number(last['pgmigrate_success']))
            per['promoted'].append(number(last['pgpromote_success']))
            per['demoted'].append(number(last['pgdemote']))
            per['hint'].append(number(last['numa_hint_faults']))
            per['pte'].append(number(last.get('numa_pte_updates') or 0))
            mover = {'damon': 'kdamond_cpu_s', 'mp2': 'worker_cpu_s'}.get(a)
            per['mover'].append(max(full(g, mover)) if mover else 0)
            if mover:
                per_s, per_page = _tiering_mover_fit(g, mover)
                per['fit_s'].append(per_s * 1000)
                per['fit_page'].append(per_page * 1e6)
                still, moving = _tiering_mover_rates(g, mover)
                if still:
                    per['still'].append(median(still) * 1000)
                if moving:
                    per['moving'].append(median(moving) * 1000)
            per['stime'].append(number(last['server_stime_s']))
            if last.get('guest_cpu_s'):
                per['gsys'].append(number(last['guest_sys_s']))
                n = sum(number(r['tps']) for r in txns.get(rep_no, []))
                if n:
                    per['per_txn'].append(number(last['guest_cpu_s']) * 1000 / n)
        if a == 'none' and per['gsys']:
            guest_sys_none[l] = median(per['gsys'])
        above = [x - guest_sys_none[l] for x in per['gsys']] if l in guest_sys_none else []
        a_tps = [r for r in tps if r['load'] == l and r['arm'] == a]
        ratio_mig = [ratio(m, n) for m, n in zip(per['migrated'], per['needed'])]
        rows.append([
            l, a, cell(per['a90']), cell(per['b90']), cell(per['wrong']),
            cell(per['migrated']), cell(per['needed']),
            cell([x for x in ratio_mig if x is not None], '%.2f') if any(x is not None for x in ratio_mig) else '',
            cell(per['promoted']), cell(per['demoted']), cell(per['pte']), cell(per['hint']),
            cell(per['mover'], '%.2f') if a in ('damon', 'mp2') else '-',
            cell(per['fit_s'], '%.0f') if a in ('damon', 'mp2') else '-',
            cell(per['fit_page'], '%.0f') if a in ('damon', 'mp2') else '-',
            cell(per['still'], '%.0f') if per['still'] else '-',
            cell(per['moving'], '%.0f') if per['moving'] else '-',
            cell(per['stime'], '%.2f'),
            cell(per['gsys'], '%.2f') if per['gsys'] else '',
            cell(above, '%+.2f') if above and a != 'none' else '',
            cell(per['per_txn'], '%.1f') if per['per_txn'] else '',
            median_shown([r['tps'] for r in a_tps]) if a_tps else '',
            median_shown([r['p99_ms'] for r in a_tps]) if a_tps else ''])

    tables = {r['table']: number(r['blocks']) for r in read(os.path.join(d, 'tables.csv'))}
    mb = lambda t: '%.0f MB (%d blocks of 8 kB)' % (tables.get(t, 0) * 8192 / 1e6, tables.get(t, 0))
    head = ['# mp2 tier policy, NUMA balancing and DAMON, side by side', '']
    try:
        with open(os.path.join(d, 'machine.txt')) as f:
            head += [line.rstrip('\n') + '  ' for line in f] + ['']
    except OSError:
        pass
    head += [
        'Conditions: QEMU TCG guest (no KVM), 4 nodes: 0-1 with the 2 vCPUs (the',
        'fast tier), 2-3 memory only (the slow tier); tiers %s; page size %s' % (
            cond.get('tiers', '?').strip(), cond.get('page_size', '?')),
        'bytes; PostgreSQL %s, shared_buffers %s MB, moved to nodes 2-3 at the start' % (
            cond.get('postgresql', '?'), cond.get('shared_buffers_mb', '?')),
        'of every arm (mp2_interleave_pool); table A pgbench_accounts %s, table B' % mb('pgbench_accounts'),
        'tiering_b %s, cold table tiering_cold %s; pgbench' % (mb('tiering_b'), mb('tiering_cold')),
        'with %s clients for %s s, on A until the shift at %s s, then on B;' % (
            cond.get('clients', '?'), cond.get('seconds', '?'), cond.get('shift', '?')),
        'loads: %s (skewed: ranges of 2000 rows read, zipfian updates;' % cond.get('loads', 'skewed'),
        'uniform: one row read, picked evenly);',
        'sampled every %s s; %s repeat(s), the arms interleaved.' % (
            cond.get('period', '?'), cond.get('repeats', '?')),
        '',
        'The emulated nodes have equal latency, so TPS cannot gain from the',
        'placement: what compares is placement, churn and CPU.',
        '',
        'Medians over the repeats (smallest-largest when more than one). Times:',
        "seconds until 90% of the hot table's OS pages are on nodes 0-1, from the",
        'start of the load (A) and from the shift (B). Wrong promotions: the',
        "cold table's pages on nodes 0-1 at most, less at the start. Pages",
        'migrated: /proc/vmstat pgmigrate_success during the load; needed: the',
        'pages of A and of B on the slow tier at the start. NUMA PTE updates:',
        "the PTEs NUMA balancing's scanner marked to fault (0: it scanned",
        "nothing). Mover CPU: the kdamonds' (damon) or the mp2 worker's (mp2)",
        'user + system time during the load, and its two parts fitted (least',
        'squares over the intervals between samples: CPU = a x seconds + b x',
        'pages migrated): a, the cost of running at all, in ms a second; b, in',
        'us a page migrated; and the median of its CPU a second over the',
        'intervals in which no page migrated, and over those in which some',
        "did. Server system CPU: all the server's",
        "processes, the sampler's backends included (NUMA hint faults are",
        "handled there). Guest system CPU: the whole guest's time in the kernel",
        "(/proc/stat system + irq + softirq: NUMA balancing's scans and hint",
        'faults in every process, kdamonds, migrations), and above the none arm',
        "of the same load (its median). Guest CPU per transaction: all the",
        "guest's busy time over pgbench's transactions (the 2 vCPUs are busy",
        'in every arm, so a cost shows here and in TPS). TPS and p99: medians',
        'over the seconds of all repeats.',
        '']
    out = '\n'.join(head) + '\n' + table(
        ['load', 'arm', 'A to 90% on 0-1, s', 'B to 90% after the shift, s', 'wrong promotions (cold pages)',
         'pages migrated', 'needed', 'migrated / needed', 'pgpromote_success', 'pgdemote',
         'NUMA PTE updates', 'NUMA hint faults', 'mover CPU s', 'of it: ms a second', 'and us a page migrated',
         'ms a second, nothing migrating', 'ms a second, migrating',
         'server system CPU s',
         'guest system CPU s', 'above none, s', 'guest CPU ms / transaction', 'median TPS', 'median p99 ms'],
        'llrrrrrrrrrrrrrrrrrrrrr', rows)
    write(os.path.join(d, 'summary.md'), out + _tiering_kernel_time(d) + _tiering_rounds(d))


def _tiering_kernel_time(d):
    """The table of DIR/kernel-time.csv (ftrace's function profiler during
    the load): per load and arm, the ms and calls of NUMA balancing's
    functions and its kernel time above arm none; '' without
    kernel-time.csv."""
    try:
        rows_in = read(os.path.join(d, 'kernel-time.csv'))
    except OSError:
        return ''
    funcs = ('task_numa_work', 'handle_mm_fault', 'migrate_misplaced_folio')
    # (load, arm) -> repeat -> function -> (hits, ms)
    runs = {}
    for r in rows_in:
        runs.setdefault((r['load'], r['arm']), {}).setdefault(r['repeat'], {})[r['function']] = (
            number(r['hits']), number(r['time_ms']))
    none_fault = {}
    for l in TIERING_LOADS:
        ms = [f['handle_mm_fault'][1] for f in runs.get((l, 'none'), {}).values() if 'handle_mm_fault' in f]
        if ms:
            none_fault[l] = median(ms)
    rows = []
    for l in TIERING_LOADS:
        for a in TIERING_ARMS:
            reps = runs.get((l, a))
            if not reps:
                continue
            row = [l, a]
            for fn in funcs:
                got = [f[fn] for f in reps.values() if fn in f]
                row += [_tiering_cell([ms for hits, ms in got], '%.1f') if got else '-',
                        _tiering_cell([hits for hits, ms in got]) if got else '-']
            above = [f['task_numa_work'][1] + f['handle_mm_fault'][1] - none_fault[l]
                     for f in reps.values()
                     if l in none_fault and 'task_numa_work' in f and 'handle_mm_fault' in f]
            row.append(_tiering_cell(above, '%+.1f') if above else '')
            rows.append(row)
    if not rows:
        return ''
    return '\n'.join([
        '', "## NUMA balancing's kernel time", '',
        "ftrace's function profiler in every arm, from pgbench's start to its",
        'end: the ms in each function, its children included (graph-time 1),',
        'time blocked not (sleep-time 0), summed over the vCPUs, and its hits',
        '(calls); medians over the repeats (smallest-largest when more than one).',
        "task_numa_work: NUMA balancing's scanner; handle_mm_fault: every page",
        "fault's handler, the sampler's faults included (a hint fault's",
        'handling, do_numa_page, is inlined in it); migrate_misplaced_folio: a',
        "promotion's migration, within handle_mm_fault.  NUMA balancing's",
        'kernel time above none: task_numa_work + handle_mm_fault of the arm',
        'less the median handle_mm_fault of arm none under the same load, in',
        "ms; the fault's entry and exit, outside handle_mm_fault, are not in",
        "it.  The profiler's own cost is partly in the times.", '']) + '\n' + table(
        ['load', 'arm', 'task_numa_work ms', 'hits', 'handle_mm_fault ms', 'hits',
         'migrate_misplaced_folio ms', 'hits',
         "NUMA balancing's kernel time above none, ms (task_numa_work + handle_mm_fault"
         " - none's median handle_mm_fault)"],
        'llrrrrrrr', rows)


def _tiering_rounds(d):
    """The table of DIR/rounds.csv (the worker's DEBUG1 line per tier round
    of arm mp2): per load, rounds that moved nothing and rounds that moved
    pages, the median ms of each phase; '' without rounds.csv."""
    try:
        rounds = read(os.path.join(d, 'rounds.csv'))
    except OSError:
        return ''
    phases = ('nodes_ms', 'history_ms', 'survey_ms', 'locate_ms', 'moves_ms')
    # Rounds that may skip their survey say whether they did, and whether
    # they located the refresh share (rounds.csv's last two columns).
    flags = bool(rounds) and 'skipped' in rounds[0]

    def moved(r):
        return number(r['demoted']) + number(r['promoted'])
    kinds = (('moved nothing', lambda r: moved(r) == 0),
             ('moved pages', lambda r: moved(r) > 0))
    if flags:
        kinds = (('skipped the survey', lambda r: r['skipped'] == '1'),
                 ('surveyed, moved nothing', lambda r: r['skipped'] == '0' and moved(r) == 0),
                 ('moved pages', lambda r: moved(r) > 0))
    rows = []
    for l in TIERING_LOADS:
        mine = [r for r in rounds if r['load'] == l]
        for kind, keep in kinds:
            g = [r for r in mine if keep(r)]
            if not g:
                continue
            total = [sum(number(r[c]) for c in phases if c != 'locate_ms') for r in g]
            rows.append([l, kind, str(len(g))] +
                        ['%.2f' % median([number(r[c]) for r in g]) for c in phases] +
                        ['%.2f' % median(total), show(median([number(r['buffers']) for r in g])),
                         show(median([number(r['located']) for r in g]))] +
                        (['%d' % sum(r['refresh'] == '1' for r in g)] if flags else []))
    if not rows:
        return ''
    return '\n'.join([
        '', '## Where a tier round of arm mp2 spends its time', '',
        "From the worker's DEBUG1 line per round (log_min_messages = debug1 in",
        'arm mp2), every round from the reload to the end of the load, all',
        'repeats: medians in ms.  nodes: the topology and the tiers read;',
        "history: the slice's buffer headers; survey: each page's tier and",
        'hotness, of it locate: the kernel asked where pages are; moves: the',
        'demote and promote walks.'] +
        (['refresh on: the rounds that located the refresh share, something',
          'else having moved pages (/proc/vmstat).'] if flags else []) + ['']) + '\n' + table(
        ['load', 'rounds that', 'rounds', 'nodes ms', 'history ms', 'survey ms', 'of it locate ms',
         'moves ms', 'round ms', 'buffers read', 'pages located'] + (['refresh on'] if flags else []),
        'llrrrrrrrrr' + ('r' if flags else ''), rows)


# ---- experiments/numa-views.sh: where is the buffer pool? -------------------

NUMA_VIEWS = {'mp2': 'mp2_buffer_nodes()',
              'mp2_warm': 'mp2_buffer_nodes(), warm mapping',
              'buffercache': 'pg_buffercache_numa',
              'shmem': 'pg_shmem_allocations_numa'}


def numa_views(args):
    """numa-views.sh's table of medians (printed).

    The table of experiments/numa-views.sh from its runs.csv: per pool
    size, fill and method the median ms and peak kB over the repeats, and
    pg_buffercache_numa's time against each."""
    runs = read(args.runs)
    sizes, fills, methods = args.sizes.split(), args.fills.split(), args.methods.split()

    def med(mb, pct, m, col):
        return median_shown([r[col] for r in runs if number(r['size_mb']) == number(mb)
                             and number(r['fill_pct']) == number(pct) and r['method'] == m])
    rows = []
    for mb in sizes:
        for pct in fills:
            base = med(mb, pct, 'buffercache', 'ms') if 'buffercache' in methods else None
            for m in methods:
                ms = med(mb, pct, m, 'ms')
                vs_base = None if base is None else ratio(number(base), number(ms))
                rows.append(['%s MB' % mb, '%s%%' % pct, NUMA_VIEWS[m], ms,
                             '%.0f' % (number(ms) * 1024 / number(mb)),
                             med(mb, pct, m, 'peak_kb'), fmt('%.1fx', vs_base) or '-'])
    sys.stdout.write(table(
        ['pool', 'in use', 'method', 'median ms', 'ms per GB of pool',
         'median peak kB', "pg_buffercache_numa's time / this"], 'rrlrrrr', rows))


# ---- experiments/pool-pages.sh: what the pool's page size costs a move -------

POOL_KINDS = ('4k', 'thp', 'hugetlb')


def pool_pages(args):
    """pool-pages.sh's summary.md (printed).

    DIR/summary.md of experiments/pool-pages.sh: per pool kind the
    medians over every move of every repeat (DIR/runs.csv), mp2bench's
    copy speeds of the same boot (DIR/mp2bench-summary.csv) and what each
    pool got (DIR/pools.csv)."""
    runs = read(os.path.join(args.dir, 'runs.csv'))
    secs = lambda r: number(r['elapsed_ms']) / 1000
    rows, base = [], None
    for kind in POOL_KINDS:
        k = [r for r in runs if r['kind'] == kind]
        timed = [r for r in k if number(r['elapsed_ms']) > 0]
        page = number(k[0]['page_size']) if k else 0
        # a move's pages/s and GB/s as the table has always kept them
        pps_all = [show(number(r['moved']) / secs(r)) for r in timed]
        gbs_all = [show(number(r['moved']) * number(r['page_size']) / secs(r) / 1e9) for r in timed]
        ms = number(median_shown([r['elapsed_ms'] for r in k])) if k else math.nan
        pps = number(median_shown(pps_all)) if timed else math.nan
        gbs = number(median_shown(gbs_all)) if timed else math.nan
        base = gbs if base is None else base
        rows.append([kind, '%d kB' % (page / 1024), '%d' % len(k), '%.1f' % ms,
                     '%.0f' % pps, '%.0f' % (pps * page / 4096), '%.3f' % gbs,
                     fmt('%.2fx', ratio(gbs, base)),
                     '%.3f' % number(max(gbs_all or ['0'], key=number))])
    out = table(['pool', 'page', 'moves', 'median ms', 'pool pages/s',
                 '4 kB pages/s', 'GB/s', 'vs 4 kB pool', 'fastest move GB/s'],
                'lrrrrrrrr', rows)
    out += ('\nThe same boot, mp2bench migrate on a 64 MiB buffer (median GB/s): memcpy\n'
            'between the nodes, and move_pages2 (async, 512 pages a call) from libmp2:\n\n')
    try:
        out += ''.join('- %s %s: %s\n' % (r['page_kind'], r['method'], r['gb_per_s'])
                       for r in read(os.path.join(args.dir, 'mp2bench-summary.csv')))
    except OSError:
        pass
    out += ('\nWhat each pool got (page_size,pool_thp,pool_thp_pages; kernel 2 MiB'
            ' pages per node before -> after the moves):\n\n')
    with open(os.path.join(args.dir, 'pools.csv')) as f:
        out += ''.join('- ' + line for line in f.readlines()[1:])
    sys.stdout.write(out)


# ---- experiments/mapper-move.sh: what the warm mapping costs a move ---------

def mapper_move(args):
    """mapper-move.sh's table of medians (printed).

    The table of experiments/mapper-move.sh from its runs.csv: per
    setting of the warm mapping the medians over the moves, and the time
    with it on against off."""
    runs = read(args.runs)
    rows, ms = [], {}
    for w in ('off', 'on'):
        g = [r for r in runs if r['warm'] == w]
        moved = median_shown([r['moved'] for r in g])
        ms[w] = median_shown([r['ms'] for r in g])
        lo, hi = spread_shown([r['ms'] for r in g])
        rows.append([w, len(g), moved, '%s (%s-%s)' % (ms[w], lo, hi),
                     fmt('%.0f', ratio(number(moved) * 1000, number(ms[w]))),
                     median_shown([r['mover_minflt'] for r in g])])
    sys.stdout.write(table(
        ['warm mapping', 'moves', 'median pages moved', 'median ms (range)',
         'median pages/s', 'median faults in the mover'], 'lrrrrr', rows))
    print('\nTime on / off: %sx (ranges above).'
          % fmt('%.2f', ratio(number(ms['on']), number(ms['off']))))


# ---- experiments/move-through.sh: moving pages another process maps --------

def move_through(args):
    """move-through.sh's table (printed): four ways to move pages mapped by another.

    The table of experiments/move-through.sh from its runs.csv: per number
    of other mappers and way, the median wall time of a move (smallest-
    largest) against touching and moving one's own mapping ("own"), the
    median CPU of the mover and of the owner, and the mover's faults."""
    runs = read(args.runs)
    rows = []
    for m, g in groups(runs, lambda r: r['mappers']).items():
        ways = groups(g, lambda r: r['way'])
        ms = {way: median([number(r['wall_ms']) for r in w]) for way, w in ways.items()}
        for way, w in ways.items():
            lo, hi = spread_shown([r['wall_ms'] for r in w])
            rows.append([m, way, len(w), median_shown([r['moved'] for r in w]),
                         '%s (%s-%s)' % (show(ms[way]), lo, hi),
                         fmt('%.0f', ratio(number(w[0]['pages']) * 1000, ms[way])),
                         median_shown([r['mover_cpu_ms'] for r in w]),
                         median_shown([r['owner_cpu_ms'] for r in w]),
                         median_shown([r['mover_minflt'] for r in w]),
                         fmt('%.2f', ratio(ms[way], ms.get('own')))])
    sys.stdout.write(table(
        ['other mappers', 'way', 'moves', 'median pages moved', 'median ms (range)',
         'median pages/s', 'median mover CPU ms', 'median owner CPU ms',
         'median mover faults', 'time against own'], 'llrrrrrrrr', rows))


# ---- experiments/move-connections.sh: a move against the connections -------

def move_connections(args):
    """move-connections.sh's table (printed): a move against connections.

    DIR/runs.csv and DIR/mapcount.csv of experiments/move-connections.sh:
    per page kind and number of other connections, the median pages/s of
    the timed moves (smallest-largest), against the fewest connections'
    median of the same kind, the guest's busy CPU per page, the rmap
    visits per page moved of the unmap and remap walks (the profiled
    moves), and how many processes mapped the pool's pages."""
    runs = read(os.path.join(args.dir, 'runs.csv'))
    counts = groups(read(os.path.join(args.dir, 'mapcount.csv')),
                    lambda r: (r['kind'], r['connections']))
    rows = []
    for kind in ('4k', '2m'):
        ns = sorted({number(r['connections']) for r in runs if r['kind'] == kind})
        base = None
        for n in ns:
            g = [r for r in runs if r['kind'] == kind and number(r['connections']) == n]
            timed = [r for r in g if r['profiled'] == '0' and number(r['moved']) > 0]
            prof = [r for r in g if r['profiled'] == '1' and number(r['moved']) > 0]
            rate = [number(r['pages_per_s']) for r in timed]
            med = median(rate) if rate else None
            if base is None:
                base = med
            lo, hi = spread(rate) if rate else (None, None)
            hist = counts.get((kind, '%d' % n), [])
            total = sum(number(h['pages']) for h in hist)
            shown = ' '.join('%s:%s' % (h['mapcount'], h['pages'])
                             for h in sorted(hist, key=lambda h: number(h['mapcount'])))
            rows.append([
                kind, '%d' % n, g[0]['touched'] if g else '',
                '%d' % len(timed), median_shown([r['moved'] for r in timed]) if timed else '',
                '%.0f (%.0f-%.0f)' % (med, lo, hi) if rate else '',
                fmt('%.2f', ratio(med, base)) if rate else '',
                fmt('%.1f', median([number(r['busy_cpu_ms']) * 1000 / number(r['moved'])
                                    for r in timed])) if timed else '',
                fmt('%.1f', median([number(r['unmap_visits']) / number(r['moved']) for r in prof]))
                if prof else '',
                fmt('%.1f', median([number(r['remap_visits']) / number(r['moved']) for r in prof]))
                if prof else '',
                '%s (%d pages)' % (shown, total) if hist else ''])
    sys.stdout.write(table(
        ['pages', 'other connections', 'of which read the table', 'timed moves',
         'median pages moved', 'median pages/s (range)', 'against the fewest connections',
         'guest CPU us / page', 'unmap visits / page', 'remap visits / page',
         "map count: 4 kB entries of the pool a reader maps"],
        'lrrrrrrrrrl', rows))


# ---- experiments/tier-slice.sh: a tier round against the pool's size -------

def tier_slice(args):
    """tier-slice.sh's table (printed): a round's cost per pool and slice.

    DIR/rounds.csv and DIR/runs.csv of experiments/tier-slice.sh: per pool
    size, with the set slice and with the whole pool as one slice, the
    medians over the rounds of the work and time of a round, the rounds
    and seconds until 90% of the hot table was on the fast nodes, and
    each median round time against the smallest pool's in the same
    series; then what a round would cost at 1 TB by the measured slope.
    A pool no larger than the slice is in both series, with the rounds of
    both its runs."""
    rounds = read(os.path.join(args.dir, 'rounds.csv'))
    runs = groups(read(os.path.join(args.dir, 'runs.csv')),
                  lambda r: (r['pool_gb'], r['slice_mb']))
    by = groups(rounds, lambda r: (r['pool_gb'], r['slice_mb']))
    pools = sorted({k[0] for k in by}, key=number)
    bounded = min((number(k[1]) for k in by), default=0)
    rows = []
    last = {}
    for kind, slice_of in (('%s MB' % show(bounded), lambda p: show(bounded)),
                           ('whole pool', lambda p: show(number(p) * 1024))):
        base = None
        for p in pools:
            g = by.get((p, slice_of(p)))
            if not g:
                continue
            ms = median_shown([r['round_ms'] for r in g])
            lo, hi = spread_shown([r['round_ms'] for r in g])
            base = base if base is not None else number(ms)
            to90 = runs.get((p, slice_of(p)), [])
            rows.append([p, kind, len(g), median_shown([r['buffers_read'] for r in g]),
                         median_shown([r['pages_located'] for r in g]),
                         median_shown([r['pages_moved'] for r in g]),
                         '%s (%s-%s)' % (ms, lo, hi),
                         median_shown([r['worker_cpu_ms'] for r in g]),
                         fmt('%.2fx', ratio(number(ms), base)),
                         ' / '.join(r['rounds_to_90'] for r in to90),
                         ' / '.join(r['seconds_to_90'] for r in to90)])
            last[kind] = (p, number(ms))
    sys.stdout.write(table(
        ['pool GB', 'slice', 'rounds', 'buffers read', 'pages located',
         'pages moved', 'round ms, median (range)', 'worker CPU ms a round',
         'round ms vs smallest pool', 'rounds to 90%', 's to 90%'],
        'llrrrrrrrrr', rows))
    if 'whole pool' in last:
        p, ms = last['whole pool']
        per_gb = ms / number(p)
        print('\nA whole-pool round at %s GB: %s ms per GB of pool, so %s s a round '
              'for a 1 TB pool.' % (p, fmt('%.1f', per_gb), fmt('%.0f', per_gb * 1024 / 1000)))
    kind = '%s MB' % show(bounded)
    if kind in last:
        p, ms = last[kind]
        print('A %s round at %s GB: %s ms; at 1 TB the same a round, %s rounds a pass.'
              % (kind, p, show(ms), fmt('%.0f', 1024 * 1024 / bounded)))


# ---- experiments/ycsb-sweep.sh: mp2bench ycsb against the paper --------------

def ycsb(args):
    """ycsb-sweep.sh's summary.md (printed).

    summary.md of experiments/ycsb-sweep.sh from mp2bench ycsb's
    summary.csv (its medians and ratios): the best kernel batch per mix
    and r, where the time of a slice migration goes, and the ratios to
    move_pages per batch."""
    none, mp, sync512, q, p = {}, {}, {}, {}, {}
    best_q, best_p, batches = {}, {}, []
    for r in read(args.summary):
        k, m = (r['mix'], r['r']), r['method']
        if m == 'none':
            none[r['mix']] = number(r['qps'])
        elif m == 'move_pages':
            mp[k] = r
        elif m == 'move_pages2' and r['mode'] == 'sync' and number(r['kernel_batch']) == 512:
            sync512[k] = r
        elif m == 'move_pages2' and r['mode'] == 'async':
            b = r['kernel_batch']
            if b not in batches:
                batches.append(b)
            q[k, b] = p[k, b] = r
            if k not in best_q or number(r['qps']) > number(q[k, best_q[k]]['qps']):
                best_q[k] = b
            if k not in best_p or number(r['pages_per_s']) > number(p[k, best_p[k]]['pages_per_s']):
                best_p[k] = b
    col = lambda d, key, c: number(d[key][c]) if key in d else 0.0
    # "clear": the best batch's smallest run above move_pages' largest
    clear = lambda k, b, lo, hi: 'yes' if col(q, (k, b), lo) > col(mp, k, hi) else 'no'
    r_of = lambda k: show(number(k[1]))

    out = ['# mp2bench ycsb against the paper', '']
    if args.command:
        out.append('Command: `flock /tmp/mp2-guest.lock %s`' % args.command)
    out += ['', 'Medians over the repeats. Ratios are to `move_pages` at the same mix and r.',
            '"clear": the smallest run of the best `move_pages2` batch is above the',
            'largest run of `move_pages` (the repeats do not overlap).', '',
            '## Best kernel batch per mix and r', '']
    rows, max_q, max_p, votes_q, votes_p = [], (0, None), (0, None), {}, {}
    for k in mp:
        bq, bp = best_q.get(k, ''), best_p.get(k, '')
        rq, rp = col(q, (k, bq), 'qps_vs_move_pages'), col(p, (k, bp), 'pages_per_s_vs_move_pages')
        rows.append([k[0], r_of(k), '%.0f' % none.get(k[0], 0),
                     '%.1f' % col(mp, k, 'qps'), '%.0f' % col(mp, k, 'pages_per_s'),
                     '%d' % number(bq), '%.2f' % rq, clear(k, bq, 'qps_min', 'qps_max'),
                     '%d' % number(bp), '%.2f' % rp,
                     clear(k, bp, 'pages_per_s_min', 'pages_per_s_max')])
        max_q = (rq, k) if rq > max_q[0] else max_q
        max_p = (rp, k) if rp > max_p[0] else max_p
        votes_q[bq] = votes_q.get(bq, 0) + 1
        votes_p[bp] = votes_p.get(bp, 0) + 1
    out.append(table(
        ['mix', 'r', 'no migration q/s', 'move_pages q/s', 'move_pages pages/s',
         'best batch, queries', 'q/s ratio', 'clear', 'best batch, pages',
         'pages/s ratio', 'clear'], 'lrrrrrrlrrl', rows, compact=False)
        + '| paper (v1) | | | | | 256 | up to 1.84 | | 64 | up to 2.09 | |\n')
    where = lambda k: (k[0], r_of(k)) if k else ('', '0')
    out.append('Largest query-throughput ratio: %.2f (mix %s, r %s); largest pages/s ratio: %.2f (mix %s, r %s).'
               % ((max_q[0],) + where(max_q[1]) + (max_p[0],) + where(max_p[1])))
    votes = lambda v: ''.join(' %d: %d' % (number(b), v[b]) for b in batches if v.get(b))
    out += ['Best batch for queries, count over the %d mix-r pairs:%s. For pages/s:%s.'
            % (len(mp), votes(votes_q), votes(votes_p)), '']
    out += ['## Where the time of one slice migration goes', '',
            'Milliseconds per migration of one slice (median), from `move_pages`',
            'through `move_pages2` in the same mode and batch (sync, 512: what',
            '`move_pages` does, without its per-call LRU drain), to async at 512',
            "and at the best batch for pages/s; and the share of the workers' time",
            'spent migrating with `move_pages`.', '']
    rows = [[k[0], r_of(k), '%.1f' % col(mp, k, 'ms_per_migration'),
             fmt('%.1f', col(sync512, k, 'ms_per_migration') if k in sync512 else None),
             fmt('%.1f', col(q, (k, '512'), 'ms_per_migration') if (k, '512') in q else None),
             '%.1f' % col(p, (k, best_p.get(k, '')), 'ms_per_migration'),
             '%d' % number(best_p.get(k, '')),
             '%.1f%%' % (100 * col(mp, k, 'migrating_share'))] for k in mp]
    out.append(table(['mix', 'r', 'move_pages', 'move_pages2 sync 512', 'async 512',
                      'async, best batch', 'best batch', 'move_pages: time migrating'],
                     'lrrrrrrr', rows, compact=False).rstrip('\n'))
    for title, c in (('Query throughput', 'qps_vs_move_pages'),
                     ('Pages migrated per second', 'pages_per_s_vs_move_pages')):
        out += ['', '## %s, ratio to move_pages, per kernel batch' % title, '']
        rows = [[k[0], r_of(k)] + ['%.2f' % col(q, (k, b), c) for b in batches] for k in mp]
        out.append(table(['mix', 'r'] + ['%d' % number(b) for b in batches],
                         'lr' + 'r' * len(batches), rows, compact=False).rstrip('\n'))
    sys.stdout.write('\n'.join(out) + '\n')


# ---- experiments/profile.sh: where the time of a call goes -------------------

def _profile_calls(d):
    """Per method of DIR/calls.csv and DIR/phases.csv of a profile scenario:
    its calls' times and those of its phases, per call, in microseconds."""
    def fields(name, n):
        # by position: older calls.csv files have fewer columns
        with open(os.path.join(d, name), newline='') as f:
            return [r + [''] * (n - len(r)) for r in list(csv.reader(f))[1:]]

    def kept(x):
        # to six significant digits, as the tables have always been made
        return number(show(x))
    ncalls, c = {}, {}
    for (method, repeat, _, secs, calls, _, statuses, memcpy, movsb, oncpu,
         warmup_failed) in (r[:11] for r in fields('calls.csv', 11)):
        # a row's times are of all its calls together
        n = number(calls) if calls != '' else 1
        ncalls[method, repeat] = n
        m = c.setdefault(method, {'call': [], 'off': [], 'st': '', 'wf': '', 'mc': [], 'mb': []})
        m['call'].append(kept(number(secs) * 1e6 / n))
        if statuses != '':
            m['st'] += ' ' + statuses
        if warmup_failed != '':
            m['wf'] += ' [repeat %s: %s]' % (repeat, warmup_failed)
        if memcpy != '':
            m['mc'].append(number(memcpy))
            m['mb'].append(number(movsb))
        if oncpu != '':
            m['off'].append(kept((number(secs) - number(oncpu)) * 1e6 / n))
    phases, us, hits = [], {}, {}
    for method, repeat, phase, h, t in (r[:5] for r in fields('phases.csv', 5)):
        n = ncalls.get((method, repeat)) or 1
        us.setdefault((method, phase), []).append(kept(number(t) / n))
        hits.setdefault((method, phase), []).append(kept(number(h) / n))
        if phase not in phases:
            phases.append(phase)
    return c, phases, us, hits


def _median_spread(values, form):
    """"median (smallest-largest)" of numbers, each in printf form."""
    if not values:
        return '-'
    lo, hi = spread(values)
    return (form + ' (' + form + '-' + form + ')') % (median(values), lo, hi)


def profile(args):
    """profile.sh: the tables of a scenario's profile.md (printed).

    The tables of a profile scenario's profile.md from DIR/calls.csv and
    DIR/phases.csv: per method and phase the median microseconds of a call
    (smallest-largest), the calls of each phase's functions, the status
    values and the user-space copy for reference."""
    c, phases, us, hits = _profile_calls(args.dir)
    methods = args.methods.split()
    empty = {'call': [], 'off': [], 'st': '', 'wf': '', 'mc': [], 'mb': []}
    m = {x: c.get(x, empty) for x in methods}
    rows = [['call (user space clock)'] + [_median_spread(m[x]['call'], '%.0f') for x in methods]]
    if m[methods[0]]['off']:
        rows.append(['(calling thread off the CPU: wall time minus its CPU time)']
                    + [_median_spread(m[x]['off'], '%.0f') for x in methods])
    rows += [[p] + [_median_spread(us.get((x, p), []), '%.0f') for x in methods] for p in phases]
    align = 'l' + 'r' * len(methods)
    out = table(['phase'] + methods, align, rows, compact=False)
    out += '\nCalls (hits) of the functions of each phase, per call, median:\n\n'
    out += table(['phase'] + methods, align, [
        [p] + ['%.4g' % (median(hits[x, p]) if hits.get((x, p)) else 0) for x in methods]
        for p in phases if p != 'other'], compact=False)
    out += '\nStatus values of the profiled calls (value:count), per repeat:\n\n'
    out += ''.join('- %s:%s\n' % (x, m[x]['st']) for x in methods)
    out += ''.join('- %s, failed entries in the warm-up moves there and back:%s\n' % (x, m[x]['wf'])
                   for x in methods if m[x]['wf'])
    if any(m[x]['mc'] for x in methods):
        out += ('\nUser-space copy of the same bytes from node 1 to node 0, GB/s, median'
                ' (smallest-largest) over all repeats: memcpy() %s, rep movsb of 4 KiB at a time %s\n'
                % (_median_spread(sum((m[x]['mc'] for x in methods), []), '%.3f'),
                   _median_spread(sum((m[x]['mb'] for x in methods), []), '%.3f')))
    sys.stdout.write(out)


def profile_summary(args):
    """profile.sh: a scenario's rows of summary.md (printed).

    The rows of one scenario in the profile's summary.md: per method
    the median microseconds of a call and of its main phases."""
    c, phases, us, hits = _profile_calls(args.dir)

    def phase(values, x, prefix):
        p = [p for p in phases if p.startswith(prefix) and (x, p) in values]
        return median(values[x, p[0]]) if p else 0
    for x in args.methods.split():
        m = c.get(x, {'call': [], 'off': []})
        call = median(m['call']) if m['call'] else 0
        print('| %s | %s | %.0f | %.0f | %.0f | %.0f | %.3g/%.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.0f | %.1f |' % (
            args.name, x, call, phase(us, x, 'per call: LRU'),
            phase(us, x, 'page-table walk'), phase(us, x, 'unmap'),
            phase(hits, x, '(TLB: flushes that IPI'), phase(us, x, '(TLB: flushes that IPI'),
            phase(us, x, 'TLB flush'), phase(us, x, 'allocation'), phase(us, x, 'copy'),
            phase(us, x, 'remap'), phase(us, x, 'putback'),
            '%.0f' % median(m['off']) if m['off'] else '-',
            phase(us, x, 'other'), call / number(args.pages)))


# ---- the command line -------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='experiment', required=True)
    for name, fn, params in (
            ('pgbench', pgbench, [('dir', 'folder of runs.csv')]),
            ('rate', rate, [('dir', 'folder of runs.csv')]),
            ('tier', tier, [('dir', 'folder of samples.csv and tps.csv')]),
            ('tiering', tiering, [('dir', 'folder of samples.csv and tps.csv')]),
            ('tiering-tps', tiering_tps, [('arm', 'the arm'), ('repeat', 'the repeat'),
                                          ('t0', 'start of the load, seconds since the epoch')]),
            ('numa-views', numa_views, [('runs', 'runs.csv'), ('sizes', 'pool sizes, MB'),
                                        ('fills', 'fills, %'), ('methods', 'methods, in order')]),
            ('pool-pages', pool_pages, [('dir', 'folder of runs.csv, pools.csv')]),
            ('mapper-move', mapper_move, [('runs', 'runs.csv')]),
            ('tier-slice', tier_slice, [('dir', 'folder of rounds.csv and runs.csv')]),
            ('move-through', move_through, [('runs', 'runs.csv')]),
            ('move-connections', move_connections, [('dir', 'folder of runs.csv and mapcount.csv')]),
            ('ycsb', ycsb, [('summary', "mp2bench ycsb's summary.csv")]),
            ('profile', profile, [('dir', 'folder of calls.csv and phases.csv'),
                                  ('methods', 'methods, in order')]),
            ('profile-summary', profile_summary, [
                ('dir', 'folder of calls.csv and phases.csv'), ('name', 'the scenario'),
                ('methods', 'methods, in order'), ('pages', 'pages per call')])):
        doc = fn.__doc__.split('\n\n', 1)
        p = sub.add_parser(name, help=doc[0], description=doc[1])
        for param, help_ in params:
            p.add_argument(param, help=help_)
        if name == 'ycsb':
            p.add_argument('--command', default='', help='the command that ran the sweep')
        p.set_defaults(fn=fn)
    args = ap.parse_args()
    args.fn(args)


if __name__ == '__main__':
    main()
