/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * tier.c
 *	  Policy "tier": hot pages of the pool on the fast nodes (with CPUs),
 *	  cold ones on the slow nodes (memory only: CXL expanders, a remote
 *	  socket), the fast tier filled up to a bound.
 *
 * Hotness.  A buffer's usage count alone cannot say whether the buffer is
 * used now: it only goes down when the clock sweep looks for a victim, so
 * in a pool without eviction pressure a buffer used five times long ago
 * stays at the maximum for ever.  So each round records, per buffer,
 * whether its usage count went up since the last round ("used"), in a
 * history of the last 8 rounds (one bit a round, in shared memory, with
 * the count seen last: 2 bytes a buffer, 1/4096 of the pool).  A count
 * at the maximum cannot go up, so the round lowers it by one (under the
 * buffer header lock, as the clock sweep does); the next use raises it
 * back.  The clock sweep sees at most one less, never below 4.
 *
 * A page is used in a round when any buffer on it was (a base page may
 * hold parts of two buffers); it is hot if it was used in any of the last
 * 8 rounds, cold after 8 rounds without a use, and only a page used in two
 * rounds or more is promoted, so a page read once does not travel.  Pages
 * are ranked by the rounds they were used in; huge pages by the used bits
 * of all their buffers.  The first round after a reset only
 * records the counts, and no page is called cold before 8 more.
 *
 * Placement, each round: the hottest pages on slow nodes go to fast ones,
 * as long as the fast tier stays within its cap, mp2.fast_fraction of the
 * pool, and every fast node keeps free memory (so the tier is never
 * pushed into reclaim).  Promoted pages are hot enough: used in 2 rounds
 * or more.  Cold pages on fast nodes go to slow ones only to make room
 * for hot pages that do not fit: while the tier has room, a page that
 * went cold stays, since moving it out costs as much as moving it back
 * when it is used again.  If the tier is over its cap (the fraction was
 * lowered), its least hot pages go first.  A hot page on a fast node
 * stays there, and a page on a slow node moves only when it is hot: so a
 * page moves back only after its hotness changed (hysteresis).  mp2.max_pages_per_round
 * bounds the pages moved in a round, and mp2.max_rate paces them.
 *
 * A round's work is bounded by mp2.tier_slice, not by the pool: it takes
 * the next slice of the pool's buffers (all of them when the pool is no
 * larger), records their history, surveys where their pages are, and
 * moves pages of that slice only, a window at a time.  The history is
 * kept per visit of a slice, so a page's "rounds" are the visits of its
 * slice: one pass over an 8 GB pool in 4 GB slices takes two rounds.
 * What each slice held after its last round (pages and hot pages per
 * tier, hot pages that found no room) is kept in the worker, one entry a
 * slice, so that the cap and the room are judged for the whole pool:
 * cold pages of this slice make room for hot pages of another.  A
 * slice's entry is as old as its last visit; a page that holds buffers of
 * two slices is looked at in both.
 *
 * Placement is kept between rounds.  The worker remembers each page's
 * tier as a round last found it (1 byte a page of the pool, in its own
 * memory: 1/4096 of the pool with 4 kB pages), and a round locates only
 * the pages whose tier it does not know (never located, or moved by the
 * last visit), a page that had no memory and whose buffers were used
 * since, and a refresh share: runs of pages taken in turn so that every
 * page is located again once in 8 visits of its slice.  A move by anyone
 * else (another process, the kernel's NUMA balancing or demotion) is
 * seen within those 8 visits; a page found on another tier than the one
 * remembered makes the next pass over the pool locate every page.  The
 * move walks are handed only the pages whose remembered tier and hotness
 * make them candidates (and the unknown ones), locate those, and what
 * they find is kept.  A round that finds nothing to move then locates an
 * eighth of its slice, and one that moves little, little more.
 *
 * While nothing else moves pages, a round does less.  Whether anything
 * did is in /proc/vmstat: pages migrated, swapped in or copied into a new
 * huge page by khugepaged, system wide.  When these rise by no more than
 * the worker itself moved, no page of the pool can be where the worker
 * does not remember it, and the refresh share is not located.  When they
 * rise by more, the refresh share is located for the next 8 passes, as
 * above.  And while nothing else moves pages, a round whose slice has no
 * page used this round off the fast tier (on a slow node, without memory
 * or not known), no hot page waiting for room in any slice and the fast
 * tier within its cap has nothing to move, and skips the survey: it
 * reads the history only.  Its slice's counts are then as old as the
 * slice's last survey, which comes at least once in 8 visits.
 *
 * The tiers' nodes and the checks of the settings are in tier_settings.c.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "port/pg_bitutils.h"
#include "storage/buf_internals.h"
#include "storage/fd.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* Rounds of history: a page is cold after this many rounds unused. */
#define TIER_HISTORY	8

/*
 * Promoted only when used in at least this many of the last rounds: a
 * page read once does not travel to the fast tier and back.
 */
#define TIER_PROMOTE_MIN	2

/* Free memory a fast node keeps: the larger of these. */
#define FAST_RESERVE_BYTES	(64 * 1024 * 1024)
#define FAST_RESERVE_SHARE	0.03

/* Per buffer: the used bits of the last rounds, and the count seen last. */
typedef struct TierBufferHistory
{
	uint8		used;
	uint8		usage;
}			TierBufferHistory;

typedef struct TierShared
{
	uint32		passes;			/* passes over the whole pool since the reset */
	TierBufferHistory buffers[FLEXIBLE_ARRAY_MEMBER];
}			TierShared;

static TierShared *tier_shared = NULL;

/* The worker's last message on the tiers' nodes (log_once). */
static char logged[256];

/* Per slice of the pool: what it held after its last round. */
typedef struct TierSliceCounts
{
	int64		pages[PGMP2_NR_TIERS];
	int64		hot[PGMP2_NR_TIERS];
	int64		used[PGMP2_NR_TIERS];
	int64		waiting;		/* hot pages on slow nodes left for want of room */
	uint32		surveyed;		/* the visit of its last survey */
}			TierSliceCounts;

/* The slices, in the worker's memory; reset with the history. */
typedef struct TierSlices
{
	int			nbufs;			/* buffers a slice; 0: not set up */
	int			nslices;
	int			next;			/* the slice of the next round */
	int			known;			/* slices 0..known-1 surveyed since set up */
	TierSliceCounts *slice;		/* [nslices] */
	TierSliceCounts sum;		/* over all slices */
}			TierSlices;

static TierSlices slices;

/*
 * Where each page of the pool was when last located: PGMP2_TIER_FAST or
 * PGMP2_TIER_SLOW, or one of these.
 */
#define PLACE_OTHER		2		/* on a node of neither tier */
#define PLACE_ABSENT	3		/* no memory behind the page */
#define PLACE_UNKNOWN	4		/* to be located */

StaticAssertDecl(PGMP2_TIER_FAST < PLACE_OTHER && PGMP2_TIER_SLOW < PLACE_OTHER,
				 "a tier is a place");

/* Every page is located again at least once in this many visits ... */
#define TIER_REFRESH_VISITS	8
/* ... in runs of this many pages, which one mincore() and one call ask. */
#define TIER_REFRESH_RUN	512

/*
 * Whether anything but the worker moved pages since the last round: the
 * sum of these counters of /proc/vmstat against the pages the worker moved.
 */
static const char *const stir_counters[] = {
	"pgmigrate_success",		/* migrated: move_pages, NUMA balancing,
								 * compaction, demotion */
	"pswpin",					/* swapped in, maybe on another node */
	"thp_collapse_alloc",		/* copied into a new huge page */
};

typedef struct TierStir
{
	int64		counted;		/* the counters' sum at the last round; -1: none */
	int64		own;			/* base pages the worker moved since */
	int			rounds;			/* rounds left that locate the refresh share */
}			TierStir;

static TierStir stir = {-1, 0, 0};

/* The places, in the worker's memory; for one pool and one pair of tiers. */
typedef struct TierKnown
{
	int64		npages;			/* pages of the pool; 0: not set up */
	char		fast[64];		/* the tiers' nodes the places are of */
	char		slow[64];
	uint8	   *place;			/* [npages] */
	int			full_rounds;	/* rounds left that locate every page */
}			TierKnown;

static TierKnown known;

/* A round's phases, timed for the DEBUG1 message at its end. */
typedef enum TierPhase
{
	TIER_PHASE_NODES,			/* the topology, the tiers' nodes */
	TIER_PHASE_HISTORY,			/* the slice's buffer headers */
	TIER_PHASE_SURVEY,			/* each page's tier and hotness */
	TIER_PHASE_MOVES,			/* the demote and promote walks */
	TIER_NR_PHASES
}			TierPhase;

/* The tiers of this round. */
typedef struct TierPlan
{
	int		   *fast;
	int			nfast;
	int		   *slow;
	int			nslow;
	int			max_node;
	int8	   *tier_of;		/* per node: PGMP2_TIER_*, or -1 */
	Mp2Pool		pool;
	int			max_score;		/* hotness of the hottest possible page */

	/* This round's slice: buffers first_buf .. first_buf + nbufs - 1. */
	int			slice;
	int			first_buf;
	int			nbufs;
	uint32		visits;			/* of this slice, this one included */
	int64		located;		/* pages located in this round */
	bool		stirred;		/* something else moved pages lately */
	bool		used_off_fast;	/* a buffer used now is on a page not known fast */
	int64		candidates;		/* hot pages on slow nodes in the slice */

	/* Survey: pages per hotness, on each tier. */
	int64	   *on_fast;		/* [0..max_score] */
	int64	   *on_slow;
	Mp2TierCounts counts[PGMP2_NR_TIERS];

	/*
	 * Demote pages on fast with hotness < demote_below, and demote_at of
	 * those with hotness demote_below (in walk order).
	 */
	int			demote_below;
	int64		demote_at;
	/*
	 * Promote pages on slow with hotness > promote_above, and promote_at
	 * of those with hotness promote_above.
	 */
	int			promote_above;
	int64		promote_at;
	int64		taken_at;		/* of the *_at pages, taken so far */
	int64		to_demote;		/* pages the plan demotes */
	int64		to_promote;		/* pages the plan promotes */
	/* Promotions each fast node may still take; the next one to use. */
	int64	   *room;
	int			next_fast;
	int			next_slow;

	/* Where the round's time went, in ms (the DEBUG1 message). */
	double		locate_ms;		/* of the survey's: asking the kernel */
	double		phase_ms[TIER_NR_PHASES];
} TierPlan;

Size
pgmp2_tier_shmem_size(void)
{
	return add_size(offsetof(TierShared, buffers),
					mul_size(NBuffers, sizeof(TierBufferHistory)));
}

void
pgmp2_tier_shmem_init(void)
{
	bool		found;

	tier_shared = ShmemInitStruct("mp2 tier", pgmp2_tier_shmem_size(), &found);
	if (!found)
		memset(tier_shared, 0, pgmp2_tier_shmem_size());
}

void
pgmp2_tier_reset(void)
{
	logged[0] = '\0';
	if (slices.slice != NULL)
		pfree(slices.slice);
	memset(&slices, 0, sizeof(slices));
	if (known.place != NULL)
		pfree(known.place);
	memset(&known, 0, sizeof(known));
	stir.counted = -1;
	stir.own = 0;
	stir.rounds = 0;
	if (tier_shared != NULL)
		memset(tier_shared, 0, pgmp2_tier_shmem_size());
}

/* ----------------------------------------------------------------
 *		Hotness
 * ----------------------------------------------------------------
 */

/*
 * Whether a buffer used this round lies on a page not known to be on the
 * fast tier: one the survey would have to look at.
 */
static bool
used_off_fast(const TierPlan *plan, int b)
{
	int64		last = pgmp2_buffer_last_page(&plan->pool, b);

	for (int64 page = pgmp2_buffer_first_page(&plan->pool, b); page <= last; page++)
		if (known.place[page] != PGMP2_TIER_FAST)
			return true;
	return false;
}

/*
 * Record for each buffer of the slice whether it was used since the last
 * visit, and in plan->used_off_fast whether one so used lies on a page
 * not known to be fast.  Returns false when the worker is to stop first.
 */
static bool
update_history(TierPlan *plan, Mp2Round *round)
{
	bool		primed = plan->visits > 1;

	for (int b = plan->first_buf; b < plan->first_buf + plan->nbufs; b++)
	{
		BufferDesc *desc = GetBufferDescriptor(b);
		TierBufferHistory *h = &tier_shared->buffers[b];
		uint32		state = pg_atomic_read_u32(&desc->state);
		int			usage = BUF_STATE_GET_USAGECOUNT(state);
		bool		used;

		if ((b & 65535) == 0 && pgmp2_round_should_stop(round))
			return false;
		if (!(state & BM_VALID))
		{
			h->used = 0;
			h->usage = 0;
			continue;
		}
		used = primed && usage > h->usage;
		if (usage == BM_MAX_USAGE_COUNT)
		{
			/* Lower it by one, so that the next use shows. */
			state = LockBufHdr(desc);
			if (BUF_STATE_GET_USAGECOUNT(state) == BM_MAX_USAGE_COUNT)
				state -= BUF_USAGECOUNT_ONE;
			usage = BUF_STATE_GET_USAGECOUNT(state);
			UnlockBufHdr(desc, state);
		}
		h->usage = (uint8) usage;
		h->used = (uint8) ((h->used << 1) | (used ? 1 : 0));
		if (used && !plan->used_off_fast && used_off_fast(plan, b))
			plan->used_off_fast = true;
	}
	return true;
}

/*
 * A page's hotness: the rounds in which any of its buffers was used, into
 * *rounds, and the rank among pages: the same for a base page (which may
 * hold parts of two buffers), the used bits of all its buffers for a huge
 * page.  *used_now: how many of its buffers were used this round.
 */
static pg_attribute_always_inline int
page_hotness(const Mp2Pool *pool, int64 page, int *rounds, int *used_now)
{
	int			first;
	int			last;
	int			sum = 0;
	uint8		any = 0;

	*used_now = 0;
	*rounds = 0;
	if (!pgmp2_page_buffers(pool, page, &first, &last))
		return 0;
	for (int b = first; b <= last; b++)
	{
		uint8		bits = tier_shared->buffers[b].used;

		any |= bits;
		/* A table, not pg_popcount32(): that is a call through a pointer. */
		sum += pg_number_of_ones[bits];
		*used_now += bits & 1;
	}
	*rounds = pg_number_of_ones[any];
	return pool->huge ? sum : *rounds;
}

/* ----------------------------------------------------------------
 *		A round
 * ----------------------------------------------------------------
 */

static int
plan_tier(const TierPlan *plan, int node)
{
	return node >= 0 && node <= plan->max_node ? plan->tier_of[node] : -1;
}

/* Whether node is one of topo's nodes with memory. */
static bool
has_memory(const struct mp2_topology *topo, int node)
{
	for (int i = 0; i < topo->nr_nodes; i++)
		if (topo->nodes[i].id == node)
			return true;
	return false;
}

/*
 * LOG message once: again only after another message, or after the policy
 * was chosen anew (pgmp2_tier_reset), so that a round that repeats what
 * the last one said says nothing.
 */
static void
log_once(const char *message, const char *hint)
{
	if (strcmp(logged, message) == 0)
		return;
	strlcpy(logged, message, sizeof(logged));
	ereport(LOG,
			(errmsg("mp2 worker: %s", message),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * The tiers' nodes, and how many pages each fast node may still take
 * before it runs short, from one reading of the topology.  ERROR for
 * settings that name nodes without memory or a node in both tiers;
 * false, with the reason in round->idle (logged once), when the defaults
 * do not make two tiers on this machine.
 */
static bool
plan_nodes(TierPlan *plan, Mp2Round *round)
{
	struct mp2_topology *topo;
	bool	   *kernel_top;
	const char *fast_source;
	const char *slow_source;
	int			bad = -1;
	int			both;
	int			err;

	err = mp2_topology_read(&topo);
	if (err != 0)
		ereport(ERROR,
				(errmsg("could not read the NUMA topology: %s", mp2_strerror(err))));
	/* What the round needs from topo, so that no ERROR leaks it. */
	plan->max_node = topo->max_node;
	kernel_top = pgmp2_kernel_top_tier(topo);
	plan->nfast = pgmp2_tier_nodes(topo, kernel_top, pgmp2_fast_nodes, true,
								   &plan->fast, &fast_source);
	plan->nslow = pgmp2_tier_nodes(topo, kernel_top, pgmp2_slow_nodes, false,
								   &plan->slow, &slow_source);
	for (int i = 0; i < plan->nfast && bad < 0; i++)
		if (!has_memory(topo, plan->fast[i]))
			bad = plan->fast[i];
	for (int i = 0; i < plan->nslow && bad < 0; i++)
		if (!has_memory(topo, plan->slow[i]))
			bad = plan->slow[i];
	plan->room = palloc0(sizeof(int64) * Max(plan->nfast, 1));
	for (int i = 0; i < plan->nfast; i++)
		for (int j = 0; j < topo->nr_nodes; j++)
			if (topo->nodes[j].id == plan->fast[i])
			{
				const struct mp2_node *nd = &topo->nodes[j];
				uint64		reserve = Max((uint64) FAST_RESERVE_BYTES,
										  (uint64) (nd->mem_total * FAST_RESERVE_SHARE));

				if (nd->mem_free > reserve)
					plan->room[i] = (int64) ((nd->mem_free - reserve) / plan->pool.page_size);
			}
	mp2_topology_free(topo);

	if (bad >= 0)
		pgmp2_require_node(bad);	/* the error, naming the nodes there are */
	if (plan->nfast <= 0 || plan->nslow <= 0)
	{
		/* Only the split by CPUs can leave a tier empty. */
		round->idle = plan->nfast <= 0 ?
			"policy tier has no fast nodes: the kernel reports no memory tiers and no node with memory has CPUs" :
			"policy tier has no slow nodes: the kernel reports no lower memory tier and every node with memory has CPUs";
		log_once(psprintf("%s; policy tier moves nothing", round->idle),
				 "By default the fast tier is the kernel's top memory tier and the slow tier the ones below; a kernel that reports one tier leaves the nodes with CPUs (fast) and the memory-only nodes (slow).  Set mp2.fast_nodes and mp2.slow_nodes, or choose another mp2.policy.");
		return false;
	}
	if ((both = pgmp2_common_node(plan->fast, plan->nfast, plan->slow, plan->nslow)) >= 0)
		ereport(ERROR,
				(errmsg("node %d is both in mp2.fast_nodes and in mp2.slow_nodes", both)));
	plan->tier_of = palloc(sizeof(int8) * (plan->max_node + 1));
	memset(plan->tier_of, -1, sizeof(int8) * (plan->max_node + 1));
	for (int i = 0; i < plan->nfast; i++)
		plan->tier_of[plan->fast[i]] = PGMP2_TIER_FAST;
	for (int i = 0; i < plan->nslow; i++)
		plan->tier_of[plan->slow[i]] = PGMP2_TIER_SLOW;
	strlcpy(plan->counts[PGMP2_TIER_FAST].nodes,
			pgmp2_format_node_list(plan->fast, plan->nfast),
			sizeof(plan->counts[PGMP2_TIER_FAST].nodes));
	strlcpy(plan->counts[PGMP2_TIER_SLOW].nodes,
			pgmp2_format_node_list(plan->slow, plan->nslow),
			sizeof(plan->counts[PGMP2_TIER_SLOW].nodes));
	log_once(psprintf("policy tier: fast nodes %s (%s), slow nodes %s (%s)",
					  plan->counts[PGMP2_TIER_FAST].nodes, fast_source,
					  plan->counts[PGMP2_TIER_SLOW].nodes, slow_source),
			 NULL);
	return true;
}

/*
 * The sum of stir_counters in /proc/vmstat; -1 when it cannot be read.
 */
static int64
read_stir_counters(void)
{
	FILE	   *f = AllocateFile("/proc/vmstat", "r");
	char		name[64];
	long long	value;
	int64		sum = 0;
	bool		found = false;

	if (f == NULL)
		return -1;
	while (fscanf(f, "%63s %lld", name, &value) == 2)
		for (int i = 0; i < lengthof(stir_counters); i++)
			if (strcmp(name, stir_counters[i]) == 0)
			{
				sum += value;
				found = true;
			}
	FreeFile(f);
	return found ? sum : -1;
}

/*
 * Whether anything but the worker moved pages since the last round (or
 * it cannot be told), into plan->stirred: then this round and those of
 * the next 8 passes over the pool locate the refresh share.
 */
static void
stir_begin(TierPlan *plan)
{
	int64		counted = read_stir_counters();

	if (counted < 0 || stir.counted < 0 || counted - stir.counted > stir.own)
		stir.rounds = TIER_REFRESH_VISITS * slices.nslices;
	stir.counted = counted;
	stir.own = 0;
	plan->stirred = stir.rounds > 0;
}

/*
 * At the end of a round, the pool pages it moved: as base pages, which
 * /proc/vmstat counts.  A round cut short does not come here, so the
 * next one counts its moves as another's and locates the refresh share.
 */
static void
stir_end(const TierPlan *plan, int64 moved)
{
	stir.own += moved * (int64) (plan->pool.page_size / (Size) sysconf(_SC_PAGESIZE));
	if (stir.rounds > 0)
		stir.rounds--;
}

/*
 * The places of this round's pool and tiers: kept when they are those of
 * the last round, else all unknown, and every slice surveyed once.
 */
static void
known_setup(const TierPlan *plan)
{
	const char *fast = plan->counts[PGMP2_TIER_FAST].nodes;
	const char *slow = plan->counts[PGMP2_TIER_SLOW].nodes;

	if (known.npages == plan->pool.npages && strcmp(known.fast, fast) == 0 &&
		strcmp(known.slow, slow) == 0)
		return;
	if (known.place != NULL)
		pfree(known.place);
	known.place = MemoryContextAllocHuge(TopMemoryContext,
										 (Size) plan->pool.npages);
	memset(known.place, PLACE_UNKNOWN, (Size) plan->pool.npages);
	known.npages = plan->pool.npages;
	known.full_rounds = slices.nslices;
	strlcpy(known.fast, fast, sizeof(known.fast));
	strlcpy(known.slow, slow, sizeof(known.slow));
}

/*
 * What a walk found: page on node (-1: not known), located just now.  A
 * page found on another tier than the one remembered was moved by someone
 * else, who may have moved more: the next pass locates every page.
 */
static void
known_found(const TierPlan *plan, int64 page, int node)
{
	int			tier = plan_tier(plan, node);
	uint8		was = known.place[page];
	uint8		now = node < 0 ? PLACE_UNKNOWN : tier >= 0 ? tier : PLACE_OTHER;

	if ((was == PGMP2_TIER_FAST || was == PGMP2_TIER_SLOW) &&
		now != PLACE_UNKNOWN && now != was)
		known.full_rounds = slices.nslices;
	known.place[page] = now;
}

/*
 * Whether the survey locates page, whose buffers were used in rounds of
 * the last ones: its place is not known, it had no memory and a buffer
 * was used since, or, while something else moves pages, its run's turn
 * to be located again has come.
 */
static pg_attribute_always_inline bool
must_locate(const TierPlan *plan, int64 page, int rounds)
{
	uint8		place = known.place[page];

	if (known.full_rounds > 0 || place == PLACE_UNKNOWN ||
		(place == PLACE_ABSENT && rounds > 0))
		return true;
	return plan->stirred &&
		(page / TIER_REFRESH_RUN) % TIER_REFRESH_VISITS ==
		plan->visits % TIER_REFRESH_VISITS;
}

/* Count a page of tier into the survey, with page_hotness's answers. */
static pg_attribute_always_inline void
survey_count(TierPlan *plan, int tier, int score, int rounds, int used_now)
{
	Mp2TierCounts *c = &plan->counts[tier];

	c->pages++;
	c->hot_pages += score > 0;
	c->used += used_now;
	score = Min(score, plan->max_score);
	if (tier == PGMP2_TIER_FAST)
		plan->on_fast[score]++;
	else if (rounds >= TIER_PROMOTE_MIN)
		plan->on_slow[score]++; /* the ones that may be promoted */
}

/* A page's hotness as page_hotness gives it, kept until it is located. */
typedef struct PageHotness
{
	int			score;
	int			rounds;
	int			used_now;
}			PageHotness;

/*
 * Survey: the tier and hotness of every page that exists, located where
 * its place is not known well enough.  The slice's pages are those of its
 * first buffer to those of its last, taken a window at a time with no
 * call per page: a round that moves nothing spends most of its time here.
 * Returns false when the worker is to stop first.
 */
static bool
survey(TierPlan *plan, Mp2Round *round)
{
	int64	   *ask = palloc(sizeof(int64) * PGMP2_WINDOW_PAGES);
	PageHotness *ask_hot = palloc(sizeof(PageHotness) * PGMP2_WINDOW_PAGES);
	Mp2WindowNodes wn;
	bool		full;
	instr_time	t0;
	instr_time	t1;
	int64		first = pgmp2_buffer_first_page(&plan->pool, plan->first_buf);
	int64		last = pgmp2_buffer_last_page(&plan->pool,
											  plan->first_buf + plan->nbufs - 1);

	full = known.full_rounds > 0;
	pgmp2_window_nodes_init(&wn);
	for (int64 from = first; from <= last; from += PGMP2_WINDOW_PAGES)
	{
		int64		to = Min(from + PGMP2_WINDOW_PAGES - 1, last);
		int			nask = 0;

		if (pgmp2_round_should_stop(round))
			return false;
		for (int64 page = from; page <= to; page++)
		{
			int			used_now;
			int			rounds;
			int			score = page_hotness(&plan->pool, page, &rounds,
											 &used_now);
			uint8		place = known.place[page];

			if (must_locate(plan, page, rounds))
			{
				/* Its hotness kept for the count once it is located. */
				ask_hot[nask].score = score;
				ask_hot[nask].rounds = rounds;
				ask_hot[nask].used_now = used_now;
				ask[nask++] = page;
			}
			else if (place == PGMP2_TIER_FAST || place == PGMP2_TIER_SLOW)
				survey_count(plan, place, score, rounds, used_now);
		}
		if (nask == 0)
			continue;
		INSTR_TIME_SET_CURRENT(t0);
		pgmp2_window_nodes(&wn, &plan->pool, ask, nask);
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		plan->locate_ms += INSTR_TIME_GET_MILLISEC(t1);
		plan->located += wn.nres;
		for (int j = 0; j < nask; j++)
			known.place[ask[j]] = PLACE_ABSENT;
		/* resident[] is the pages of ask[] that exist, in the same order. */
		for (int i = 0, j = 0; i < wn.nres; i++, j++)
		{
			int			tier = plan_tier(plan, wn.where[i]);

			while (ask[j] != wn.resident[i])
				j++;
			known_found(plan, wn.resident[i], wn.where[i]);
			if (tier >= 0)
				survey_count(plan, tier, ask_hot[j].score, ask_hot[j].rounds,
							 ask_hot[j].used_now);
		}
	}
	pfree(ask);
	pfree(ask_hot);
	pgmp2_window_nodes_free(&wn);
	if (full)
		known.full_rounds--;
	return true;
}

/* The fast tier's cap in pages, into the counts the round publishes. */
static int64
fast_cap(TierPlan *plan)
{
	int64		cap = (int64) (pgmp2_fast_fraction * (double) plan->pool.npages);

	plan->counts[PGMP2_TIER_FAST].cap_pages = cap;
	plan->counts[PGMP2_TIER_SLOW].cap_pages = -1;
	return cap;
}

/*
 * Whether this round surveys its slice, or reads the history only.  It
 * surveys while something else moves pages or places are to be learnt,
 * when it may have something to move (a page of its slice used this
 * round off the fast tier, a hot page of any slice waiting for room, the
 * fast tier over its cap), and at least once in 8 visits of its slice.
 */
static bool
survey_needed(TierPlan *plan)
{
	const TierSliceCounts *entry = &slices.slice[plan->slice];
	int64		cap = fast_cap(plan);

	return plan->stirred || known.full_rounds > 0 ||
		slices.known < slices.nslices ||
		plan->visits - entry->surveyed >= TIER_HISTORY ||
		plan->used_off_fast || slices.sum.waiting > 0 ||
		slices.sum.pages[PGMP2_TIER_FAST] > cap;
}

/* How many pages the fast nodes may still take before they run short. */
static int64
fast_room(const TierPlan *plan)
{
	int64		total = 0;

	for (int i = 0; i < plan->nfast; i++)
		total += plan->room[i];
	return total;
}

/*
 * From the survey of the slice, which of its pages move: pages on fast
 * with hotness below demote_below (and demote_at at it), pages on slow
 * above promote_above (and promote_at at it).  Bounded by the cap and
 * the room of the fast nodes, for the whole pool (the other slices as
 * their last rounds left them), and by budget pages (0: none).
 */
static void
plan_moves(TierPlan *plan, int64 budget, bool may_promote)
{
	const TierSliceCounts *old = &slices.slice[plan->slice];
	int64		cap = fast_cap(plan);
	int64		on_fast = slices.sum.pages[PGMP2_TIER_FAST] -
		old->pages[PGMP2_TIER_FAST] + plan->counts[PGMP2_TIER_FAST].pages;
	int64		waiting = slices.sum.waiting - old->waiting;
	int64		left = budget > 0 ? budget : PG_INT64_MAX;
	int64		candidates = 0;
	int64		cold;
	int64		demote;
	int64		promote;
	int64		room;
	int64		want;

	/*
	 * Demote the least hot pages beyond the cap, and cold pages (once the
	 * history is long enough to call a page cold) only to make room for
	 * hot pages waiting on the slow tier, in this slice or in others: while
	 * the fast tier has room, a page that is not used does no harm there,
	 * and moving it out would only move it back when it is used again.
	 */
	for (int s = 1; s <= plan->max_score; s++)
		candidates += plan->on_slow[s];
	room = Min(cap - on_fast, fast_room(plan));
	cold = plan->visits > TIER_HISTORY ? plan->on_fast[0] : 0;
	want = Max(Min(cold, candidates + waiting - Max(room, 0)), on_fast - cap);
	want = Min(Max(want, 0), left);
	demote = 0;
	plan->demote_below = 0;
	plan->demote_at = 0;
	for (int s = 0; s <= plan->max_score && demote < want; s++)
	{
		int64		take = Min(plan->on_fast[s], want - demote);

		if (take == plan->on_fast[s])
			plan->demote_below = s + 1;
		else
			plan->demote_at = take;
		demote += take;
	}
	left -= demote;
	plan->to_demote = demote;

	/* Promote: the hottest pages on slow nodes, into the room left. */
	room = Min(cap - (on_fast - demote), fast_room(plan));
	want = may_promote ? Min(Max(room, 0), left) : 0;
	promote = 0;
	plan->promote_above = plan->max_score;
	plan->promote_at = 0;
	for (int s = plan->max_score; s >= 1 && promote < want; s--)
	{
		int64		take = Min(plan->on_slow[s], want - promote);

		if (take == plan->on_slow[s])
			plan->promote_above = s - 1;
		else
			plan->promote_at = take;
		promote += take;
	}
	plan->to_promote = promote;
	plan->candidates = candidates;
}

/*
 * The score of a page on a node of tier, at most max_score; -1 for a page
 * on any other node.  *rounds as page_hotness gives it.
 */
static int
tier_score(const TierPlan *plan, int64 page, int node, int tier, int *rounds)
{
	int			used_now;

	if (plan_tier(plan, node) != tier)
		return -1;
	return Min(page_hotness(&plan->pool, page, rounds, &used_now),
			   plan->max_score);
}

/*
 * The score of a page as its remembered tier gives it: as tier_score, for
 * a page last found on tier or whose tier is not known.
 */
static int
remembered_score(const TierPlan *plan, int64 page, int tier, int *rounds)
{
	uint8		place = known.place[page];
	int			used_now;

	if (place != tier && place != PLACE_UNKNOWN)
		return -1;
	return Min(page_hotness(&plan->pool, page, rounds, &used_now),
			   plan->max_score);
}

/* Whether a page of this score on a fast node is cold enough to demote. */
static bool
demote_candidate(const TierPlan *plan, int score)
{
	return score >= 0 && score <= plan->demote_below;
}

/* Whether a page of this score and rounds on a slow node may be promoted. */
static bool
promote_candidate(const TierPlan *plan, int score, int rounds)
{
	return score >= 0 && rounds >= TIER_PROMOTE_MIN &&
		score >= plan->promote_above;
}

/*
 * Of the pages whose score is the plan's boundary, the walk takes the
 * first quota only: whether this page is one to take, counting it.
 */
static bool
take_at_boundary(TierPlan *plan, int score, int boundary, int64 quota)
{
	if (score != boundary)
		return true;
	if (plan->taken_at >= quota)
		return false;
	plan->taken_at++;
	return true;
}

/* target_of of the demote walk: cold pages on fast nodes to slow ones. */
static int
demote_target(void *arg, int64 page, int node)
{
	TierPlan   *plan = arg;
	int			rounds;
	int			score = tier_score(plan, page, node, PGMP2_TIER_FAST, &rounds);

	known_found(plan, page, node);
	if (!demote_candidate(plan, score) ||
		!take_at_boundary(plan, score, plan->demote_below, plan->demote_at))
		return -1;
	known.place[page] = PLACE_UNKNOWN;	/* until the next round locates it */
	plan->next_slow = (plan->next_slow + 1) % plan->nslow;
	return plan->slow[plan->next_slow];
}

/* target_of of the promote walk: hot pages on slow nodes to fast ones. */
static int
promote_target(void *arg, int64 page, int node)
{
	TierPlan   *plan = arg;
	int			rounds;
	int			score = tier_score(plan, page, node, PGMP2_TIER_SLOW, &rounds);

	known_found(plan, page, node);
	if (!promote_candidate(plan, score, rounds) ||
		!take_at_boundary(plan, score, plan->promote_above, plan->promote_at))
		return -1;
	/* The next fast node with room. */
	for (int i = 0; i < plan->nfast; i++)
	{
		int			f = (plan->next_fast + i) % plan->nfast;

		if (plan->room[f] > 0)
		{
			plan->room[f]--;
			plan->next_fast = (f + 1) % plan->nfast;
			known.place[page] = PLACE_UNKNOWN;
			return plan->fast[f];
		}
	}
	return -1;
}

/*
 * keep_page of the demote walk: pages whose remembered tier and hotness
 * make them ones the plan may demote (unknown ones too).
 */
static bool
demote_keep(void *arg, int64 page)
{
	TierPlan   *plan = arg;
	int			rounds;

	return demote_candidate(plan, remembered_score(plan, page,
												   PGMP2_TIER_FAST, &rounds));
}

/* keep_page of the promote walk: the same for promotion. */
static bool
promote_keep(void *arg, int64 page)
{
	TierPlan   *plan = arg;
	int			rounds;
	int			score = remembered_score(plan, page, PGMP2_TIER_SLOW, &rounds);

	return promote_candidate(plan, score, rounds);
}

/*
 * Move the pages target_of picks, of those keep_page hands to it (the
 * walk locates only these); the pages moved.
 */
static int64
tier_move(TierPlan *plan, bool (*keep_page) (void *, int64),
		  int (*target_of) (void *, int64, int), Mp2Round *round)
{
	Mp2MoveArgs args;
	Mp2MoveResult res;
	Mp2Walk		walk;

	memset(&args, 0, sizeof(args));
	args.target_of = target_of;
	args.target_arg = plan;
	plan->taken_at = 0;
	pgmp2_walk_pool_range(&walk, plan->first_buf, plan->nbufs);
	walk.keep_page = keep_page;
	walk.keep_arg = plan;
	pgmp2_round_move(round, &walk, &args, &res);
	plan->located += walk.handed;
	return (int64) res.st.moved;
}

/*
 * This round's slice: the next one, of mp2.tier_slice buffers (at least
 * an OS page's worth, at most the pool).  A new slice size starts the
 * slices' counts afresh, from slice 0.
 */
static void
plan_slice(TierPlan *plan)
{
	int64		per_page = Max((int64) (plan->pool.page_size / BLCKSZ), 1);
	int64		nbufs = (int64) pgmp2_tier_slice_mb * ((1024 * 1024) / BLCKSZ);

	nbufs = Min(Max(nbufs, per_page), (int64) NBuffers);
	if (slices.nbufs != nbufs)
	{
		if (slices.slice != NULL)
			pfree(slices.slice);
		memset(&slices, 0, sizeof(slices));
		slices.nbufs = (int) nbufs;
		slices.nslices = (int) ((NBuffers + nbufs - 1) / nbufs);
		slices.slice = MemoryContextAllocZero(TopMemoryContext,
											  sizeof(TierSliceCounts) * slices.nslices);
	}
	plan->slice = slices.next;
	plan->first_buf = plan->slice * slices.nbufs;
	plan->nbufs = Min(slices.nbufs, NBuffers - plan->first_buf);
	plan->visits = tier_shared->passes + 1;
}

/*
 * What the slice holds after the round's survey and moves, into its entry
 * and the sums.  Promoted pages were hot.
 */
static void
record_slice(const TierPlan *plan, int64 promoted, int64 demoted)
{
	TierSliceCounts *entry = &slices.slice[plan->slice];
	TierSliceCounts now;

	for (int i = 0; i < PGMP2_NR_TIERS; i++)
	{
		now.pages[i] = plan->counts[i].pages;
		now.hot[i] = plan->counts[i].hot_pages;
		now.used[i] = plan->counts[i].used;
	}
	now.pages[PGMP2_TIER_FAST] += promoted - demoted;
	now.pages[PGMP2_TIER_SLOW] += demoted - promoted;
	/* Demotion takes the cold pages first. */
	now.hot[PGMP2_TIER_FAST] += promoted -
		Max(demoted - plan->on_fast[0], 0);
	now.hot[PGMP2_TIER_SLOW] = Max(now.hot[PGMP2_TIER_SLOW] - promoted, 0);
	now.waiting = Max(plan->candidates - promoted, 0);
	for (int i = 0; i < PGMP2_NR_TIERS; i++)
	{
		slices.sum.pages[i] += now.pages[i] - entry->pages[i];
		slices.sum.hot[i] += now.hot[i] - entry->hot[i];
		slices.sum.used[i] += now.used[i] - entry->used[i];
	}
	slices.sum.waiting += now.waiting - entry->waiting;
	now.surveyed = plan->visits;
	*entry = now;
	slices.known = Max(slices.known, plan->slice + 1);
}

/* On to the next slice; after the last, a pass over the pool is done. */
static void
next_slice(const TierPlan *plan)
{
	slices.next = (plan->slice + 1) % slices.nslices;
	if (slices.next == 0)
		tier_shared->passes++;
}

static void
publish(const TierPlan *plan, int64 promoted, int64 demoted, double round_ms)
{
	Mp2TierState *t = &pgmp2_shared->tier;

	LWLockAcquire(pgmp2_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < PGMP2_NR_TIERS; i++)
	{
		Mp2TierCounts *c = &t->tiers[i];

		strlcpy(c->nodes, plan->counts[i].nodes, sizeof(c->nodes));
		c->cap_pages = plan->counts[i].cap_pages;
		c->pages = slices.sum.pages[i];
		c->hot_pages = slices.sum.hot[i];
		c->used = slices.sum.used[i];
	}
	/* What moved into one tier moved out of the other. */
	t->tiers[PGMP2_TIER_FAST].promoted = promoted;
	t->tiers[PGMP2_TIER_FAST].demoted = demoted;
	t->tiers[PGMP2_TIER_SLOW].promoted = demoted;
	t->tiers[PGMP2_TIER_SLOW].demoted = promoted;
	t->tiers[PGMP2_TIER_FAST].promoted_total += promoted;
	t->tiers[PGMP2_TIER_FAST].demoted_total += demoted;
	t->tiers[PGMP2_TIER_SLOW].promoted_total += demoted;
	t->tiers[PGMP2_TIER_SLOW].demoted_total += promoted;
	t->slice = plan->slice;
	t->slices = slices.nslices;
	t->passes = tier_shared->passes;
	t->buffers_read = plan->nbufs;
	t->pages_located = plan->located;
	t->round_ms = round_ms;
	t->rounds++;
	t->last_round = GetCurrentTimestamp();
	LWLockRelease(pgmp2_shared->lock);
}

/* The time since *since into the phase's total; *since becomes now. */
static void
phase_end(TierPlan *plan, TierPhase phase, instr_time *since)
{
	instr_time	now;
	instr_time	elapsed;

	INSTR_TIME_SET_CURRENT(now);
	elapsed = now;
	INSTR_TIME_SUBTRACT(elapsed, *since);
	plan->phase_ms[phase] += INSTR_TIME_GET_MILLISEC(elapsed);
	*since = now;
}

/*
 * Where the round's time went, for a DBA who asks why the worker is busy
 * (log_min_messages = debug1).
 */
static void
log_round(const TierPlan *plan, bool surveyed, int64 promoted, int64 demoted)
{
	ereport(DEBUG1,
			(errmsg_internal("mp2 worker: tier round, slice %d of %d: nodes %.2f ms, history %.2f ms (%d buffers), survey %.2f ms (%lld pages located in %.2f ms), moves %.2f ms (%lld demoted, %lld promoted)%s%s",
							 plan->slice + 1, slices.nslices,
							 plan->phase_ms[TIER_PHASE_NODES],
							 plan->phase_ms[TIER_PHASE_HISTORY], plan->nbufs,
							 plan->phase_ms[TIER_PHASE_SURVEY],
							 (long long) plan->located, plan->locate_ms,
							 plan->phase_ms[TIER_PHASE_MOVES],
							 (long long) demoted, (long long) promoted,
							 surveyed ? "" : ", survey skipped: nothing to move",
							 plan->stirred ? ", refresh on: pages moved by others" : "")));
}

int64
pgmp2_tier_round(Mp2Round *round)
{
	TierPlan	plan;
	TimestampTz start = GetCurrentTimestamp();
	instr_time	since;
	int			bufs_per_page;
	bool		surveyed;
	int64		demoted;
	int64		promoted;

	if (tier_shared == NULL)
		ereport(ERROR,
				(errmsg("policy tier needs mp2 in shared_preload_libraries")));

	memset(&plan, 0, sizeof(plan));
	INSTR_TIME_SET_CURRENT(since);
	pgmp2_pool_get(&plan.pool);
	if (!plan_nodes(&plan, round))
		return 0;
	plan_slice(&plan);
	known_setup(&plan);
	stir_begin(&plan);
	bufs_per_page = (int) Max(plan.pool.page_size / BLCKSZ, 1) + 1;
	plan.max_score = TIER_HISTORY * bufs_per_page;
	plan.on_fast = palloc0(sizeof(int64) * (plan.max_score + 1));
	plan.on_slow = palloc0(sizeof(int64) * (plan.max_score + 1));
	phase_end(&plan, TIER_PHASE_NODES, &since);

	round->what = "mp2 worker tier round";
	if (!update_history(&plan, round))
		return 0;
	phase_end(&plan, TIER_PHASE_HISTORY, &since);
	demoted = 0;
	promoted = 0;
	surveyed = survey_needed(&plan);
	if (surveyed)
	{
		if (!survey(&plan, round))
			return 0;
		phase_end(&plan, TIER_PHASE_SURVEY, &since);

		/*
		 * No promotion before every slice's share of the cap is known:
		 * slices are surveyed in order, so after the last one's survey.
		 */
		plan_moves(&plan, round->budget, slices.known == slices.nslices ||
				   plan.slice == slices.nslices - 1);

		/* A walk only when there is something to move. */
		if (plan.to_demote > 0)
			demoted = tier_move(&plan, demote_keep, demote_target, round);
		if (plan.to_promote > 0 && !pgmp2_round_should_stop(round))
			promoted = tier_move(&plan, promote_keep, promote_target, round);
		phase_end(&plan, TIER_PHASE_MOVES, &since);
		record_slice(&plan, promoted, demoted);
	}
	next_slice(&plan);
	stir_end(&plan, promoted + demoted);
	publish(&plan, promoted, demoted,
			(double) (GetCurrentTimestamp() - start) / 1000.0);
	log_round(&plan, surveyed, promoted, demoted);
	return promoted + demoted;
}
