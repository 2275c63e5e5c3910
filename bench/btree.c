// SPDX-License-Identifier: MIT
/* An arena-backed B+-Tree (see btree.h). */
#include <errno.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>

#include "btree.h"

#define NODE_BYTES 4096
#define CAP 254			/* keys per node; leaves hold CAP values */
#define BULK_FILL (CAP * 4 / 5)	/* leave room for inserts after a build */

struct bt_node {
	uint16_t leaf;
	uint16_t n;		/* keys in use */
	uint32_t pad;
	struct bt_node *next;	/* next leaf, in key order */
	uint64_t keys[CAP];
	union {
		uint64_t vals[CAP];
		struct bt_node *child[CAP + 1];
	};
};

_Static_assert(sizeof(struct bt_node) <= NODE_BYTES, "node fits a page");

static struct bt_node *node_new(struct btree *t, bool leaf)
{
	struct bt_node *n;

	if (t->used + NODE_BYTES > t->arena_bytes)
		return NULL;
	n = (struct bt_node *)(t->arena + t->used);
	t->used += NODE_BYTES;
	n->leaf = leaf;
	n->n = 0;
	n->next = NULL;
	return n;
}

/* Index of the child of inner node n that covers key. */
static int child_index(const struct bt_node *n, uint64_t key)
{
	int lo = 0, hi = n->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (key < n->keys[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* First index in leaf n whose key is >= key. */
static int leaf_index(const struct bt_node *n, uint64_t key)
{
	int lo = 0, hi = n->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (n->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct bt_node *find_leaf(const struct btree *t, uint64_t key)
{
	struct bt_node *n = t->root;

	while (!n->leaf)
		n = n->child[child_index(n, key)];
	return n;
}

int btree_build(struct btree *t, const uint64_t *keys, size_t n,
		size_t extra_nodes, int node)
{
	size_t leaves = (n + BULK_FILL - 1) / BULK_FILL;
	size_t total = leaves * 2 + 2 + extra_nodes;	/* inner < leaves */
	struct bt_node **level, *prev = NULL;
	size_t count = 0;

	memset(t, 0, sizeof(*t));
	t->arena_bytes = total * NODE_BYTES;
	t->arena = numa_alloc_onnode(t->arena_bytes, node);
	level = calloc(leaves ? leaves : 1, sizeof(*level));
	if (!t->arena || !level) {
		free(level);
		btree_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n || count == 0; i += BULK_FILL) {
		struct bt_node *leaf = node_new(t, true);

		for (size_t k = i; k < n && k < i + BULK_FILL; k++) {
			leaf->keys[leaf->n] = keys[k];
			leaf->vals[leaf->n++] = keys[k];
		}
		if (prev)
			prev->next = leaf;
		prev = leaf;
		level[count++] = leaf;
	}
	/* Build inner levels until one node remains. */
	while (count > 1) {
		size_t up = 0;

		for (size_t i = 0; i < count; i += BULK_FILL + 1) {
			struct bt_node *in = node_new(t, false);

			in->child[0] = level[i];
			for (size_t k = i + 1; k < count && k <= i + BULK_FILL;
			     k++) {
				struct bt_node *c = level[k];

				while (!c->leaf)
					c = c->child[0];
				in->keys[in->n++] = c->keys[0];
				in->child[in->n] = level[k];
			}
			level[up++] = in;
		}
		count = up;
	}
	t->root = level[0];
	t->nkeys = n;
	free(level);
	return 0;
}

void btree_free(struct btree *t)
{
	if (t->arena)
		numa_free(t->arena, t->arena_bytes);
	memset(t, 0, sizeof(*t));
}

bool btree_get(const struct btree *t, uint64_t key, uint64_t *val)
{
	const struct bt_node *l = find_leaf(t, key);
	int i = leaf_index(l, key);

	if (i < l->n && l->keys[i] == key) {
		*val = l->vals[i];
		return true;
	}
	return false;
}

bool btree_update(struct btree *t, uint64_t key, uint64_t val)
{
	struct bt_node *l = find_leaf(t, key);
	int i = leaf_index(l, key);

	if (i < l->n && l->keys[i] == key) {
		l->vals[i] = val;
		return true;
	}
	return false;
}

/* Split the full child c = p->child[ci] into two; 0 or -ENOMEM. */
static int split_child(struct btree *t, struct bt_node *p, int ci)
{
	struct bt_node *c = p->child[ci];
	struct bt_node *r = node_new(t, c->leaf);
	int half = c->n / 2;
	uint64_t sep;

	if (!r)
		return -ENOMEM;
	if (c->leaf) {
		r->n = (uint16_t)(c->n - half);
		memcpy(r->keys, c->keys + half, r->n * sizeof(uint64_t));
		memcpy(r->vals, c->vals + half, r->n * sizeof(uint64_t));
		c->n = (uint16_t)half;
		r->next = c->next;
		c->next = r;
		sep = r->keys[0];
	} else {
		/* keys[half] moves up; its right part goes to r. */
		sep = c->keys[half];
		r->n = (uint16_t)(c->n - half - 1);
		memcpy(r->keys, c->keys + half + 1, r->n * sizeof(uint64_t));
		memcpy(r->child, c->child + half + 1,
		       (r->n + 1) * sizeof(struct bt_node *));
		c->n = (uint16_t)half;
	}
	memmove(p->keys + ci + 1, p->keys + ci, (p->n - ci) * sizeof(uint64_t));
	memmove(p->child + ci + 2, p->child + ci + 1,
		(p->n - ci) * sizeof(struct bt_node *));
	p->keys[ci] = sep;
	p->child[ci + 1] = r;
	p->n++;
	return 0;
}

int btree_insert(struct btree *t, uint64_t key, uint64_t val)
{
	struct bt_node *n = t->root;
	int i;

	if (btree_update(t, key, val))
		return 1;
	if (n->n == CAP) {
		struct bt_node *root = node_new(t, false);

		if (!root)
			return -ENOMEM;
		root->child[0] = n;
		if (split_child(t, root, 0))
			return -ENOMEM;
		t->root = root;
		n = root;
	}
	while (!n->leaf) {
		i = child_index(n, key);
		if (n->child[i]->n == CAP) {
			if (split_child(t, n, i))
				return -ENOMEM;
			i = child_index(n, key);
		}
		n = n->child[i];
	}
	i = leaf_index(n, key);
	memmove(n->keys + i + 1, n->keys + i, (n->n - i) * sizeof(uint64_t));
	memmove(n->vals + i + 1, n->vals + i, (n->n - i) * sizeof(uint64_t));
	n->keys[i] = key;
	n->vals[i] = val;
	n->n++;
	t->nkeys++;
	return 0;
}

size_t btree_scan(const struct btree *t, uint64_t from, size_t max,
		  uint64_t *sum)
{
	const struct bt_node *l = find_leaf(t, from);
	int i = leaf_index(l, from);
	size_t seen = 0;

	while (l && seen < max) {
		for (; i < l->n && seen < max; i++, seen++)
			*sum += l->vals[i];
		l = l->next;
		i = 0;
	}
	return seen;
}
