#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The phases of a page migration call, and their times in a profiler table.

    experiments/profile-phases.py functions
    experiments/profile-phases.py rows METHOD REPEAT CPU TABLE

functions: the kernel functions experiments/profile.sh traces, one a
line.  rows: the lines of phases.csv (method,repeat,phase,hits,usecs)
from TABLE, ftrace's function profiler output per CPU ("# cpu N" before
each CPU's "name hits time us ..." lines), where CPU is the CPU the calls
ran on ("all": the table is summed over every CPU).

A phase's time is the inclusive time (children and sleep included) of
the functions that make it up, on the CPU the calls ran on; phases whose
functions start with @ count the other CPUs instead.  "other" is the
rest of the system call's time; phases in parentheses are parts or sums
of other phases and are left out of it.
"""

import re
import sys

# The system call, whose time the phases share.
TOTAL = ('__x64_sys_move_pages', '__x64_sys_move_pages2')

# (phase, functions): these functions do not call one another, so their
# times add up.
PHASES = (
    ('per call: LRU drain of all CPUs and RCU wait', 'lru_cache_disable lru_add_drain_all'),
    ('(of which RCU wait)', 'synchronize_rcu_expedited synchronize_rcu'),
    ('per call: argument copy and check', 'mp2_get_window fault_in_safe_writeable'),
    ('page-table walk and isolation', 'folio_walk_start __add_folio_for_migration'),
    ('unmap', 'try_to_migrate'),
    ('TLB flush', 'try_to_unmap_flush try_to_unmap_flush_dirty'),
    ('allocation', 'alloc_migration_target'),
    ('copy', 'folio_mc_copy folio_copy'),
    ('remap', 'remove_migration_ptes'),
    ('putback: new folios to the LRU; old ones freed; failed ones back',
     'folio_add_lru migrate_folio_done putback_movable_pages'),
    ('(migration: unmap to remap in all batches)', 'migrate_pages_batch'),
    ('(unmap: rmap visits: try_to_migrate_one per mapping)', 'try_to_migrate_one'),
    ('(remap: rmap visits: remove_migration_pte per mapping)', 'remove_migration_pte'),
    ('(TLB: unbatched flushes: flush_tlb_mm_range)', 'flush_tlb_mm_range'),
    ('(TLB: batched flushes: arch_tlbbatch_flush)', 'arch_tlbbatch_flush'),
    ('(TLB: flushes that IPI other CPUs and wait for them)', 'native_flush_tlb_multi'),
    ('(copy: copy_mc_to_kernel: one per 4 KiB)', 'copy_mc_to_kernel'),
    ('(allocation: hugetlb pool)', 'alloc_hugetlb_folio_nodemask'),
    ('(allocation: compaction)', 'try_to_compact_pages'),
    ('(split of large folios)', 'split_huge_page_to_list_to_order'),
    ('(other CPUs: TLB-flush IPI handler)', '@flush_tlb_func'),
    ('(other CPUs: function-call IPIs handled)', '@__flush_smp_call_function_queue'),
    ('(other CPUs: LRU drain work)', '@lru_add_drain_per_cpu'),
)


def functions():
    """Every function of the system call and of the phases, once."""
    out = []
    for f in list(TOTAL) + ' '.join(f for _, f in PHASES).split():
        f = f.lstrip('@')
        if f not in out:
            out.append(f)
    return out


def rows(method, repeat, cpu, path):
    """The phases.csv lines of one profiler table."""
    hits, us = {}, {}
    c = None
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[:2] == ['#', 'cpu'] and len(w) > 2:
                c = w[2]
            elif len(w) > 3 and w[3] == 'us' and re.fullmatch('[0-9.]+', w[2]):
                # the other CPUs' time under "@name"
                k = ('' if cpu in ('all', '') or c == cpu else '@') + w[0]
                hits[k] = hits.get(k, 0) + float(w[1])
                us[k] = us.get(k, 0) + float(w[2])
    out = []

    def row(name, funcs):
        h = sum(hits.get(f, 0) for f in funcs.split())
        t = sum(us.get(f, 0) for f in funcs.split())
        out.append('%s,%s,%s,%d,%.1f' % (method, repeat, name, h, t))
        return t
    other = row('system call', ' '.join(TOTAL))
    for name, funcs in PHASES:
        t = row(name, funcs)
        if not name.startswith('('):
            other -= t
    out.append('%s,%s,other,,%.1f' % (method, repeat, other))
    return out


def main():
    if sys.argv[1:2] == ['functions']:
        print('\n'.join(functions()))
    elif sys.argv[1:2] == ['rows'] and len(sys.argv) == 6:
        print('\n'.join(rows(*sys.argv[2:])))
    else:
        sys.exit(__doc__.split('\n\n')[1])


if __name__ == '__main__':
    main()
