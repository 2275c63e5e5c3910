/* SPDX-License-Identifier: MIT */
/*
 * An in-memory B+-Tree of 64-bit keys and values whose nodes all come from
 * one arena of memory on a chosen NUMA node, so that the pages of a tree
 * are one range that can be migrated as a unit.
 */
#ifndef MP2BENCH_BTREE_H
#define MP2BENCH_BTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_node;

struct btree {
	char *arena;		/* nodes, one 4 KiB page each */
	size_t arena_bytes;
	size_t used;		/* bytes handed out */
	struct bt_node *root;
	size_t nkeys;
};

/*
 * Build a tree from n sorted, distinct keys (values = keys) with room for
 * extra_nodes more nodes, in an arena on node.  0 or -ENOMEM.
 */
int btree_build(struct btree *t, const uint64_t *keys, size_t n,
		size_t extra_nodes, int node);
void btree_free(struct btree *t);

bool btree_get(const struct btree *t, uint64_t key, uint64_t *val);
bool btree_update(struct btree *t, uint64_t key, uint64_t val);
/* 0 inserted, 1 the key existed (value updated), -ENOMEM arena full. */
int btree_insert(struct btree *t, uint64_t key, uint64_t val);
/* Visit up to max keys >= from in order; returns the count, sums values. */
size_t btree_scan(const struct btree *t, uint64_t from, size_t max,
		  uint64_t *sum);

#endif /* MP2BENCH_BTREE_H */
