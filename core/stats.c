// SPDX-License-Identifier: MIT
/* Arithmetic on migration outcomes. */
#include "mp2.h"
#include "mp2_internal.h"

size_t mp2_stats_failed(const struct mp2_stats *s)
{
	return s->failed_busy + s->failed_access + s->failed_not_present +
	       s->failed_nomem + s->failed_fault + s->failed_other +
	       s->not_tried;
}

void mp2_stats_add(struct mp2_stats *a, const struct mp2_stats *b)
{
	a->requested += b->requested;
	a->moved += b->moved;
	a->already += b->already;
	a->failed_busy += b->failed_busy;
	a->failed_access += b->failed_access;
	a->failed_not_present += b->failed_not_present;
	a->failed_nomem += b->failed_nomem;
	a->failed_fault += b->failed_fault;
	a->failed_other += b->failed_other;
	a->not_tried += b->not_tried;
	a->move_calls += b->move_calls;
	a->query_calls += b->query_calls;
	a->retried += b->retried;
	a->elapsed_ns += b->elapsed_ns;
	if (b->max_call_ns > a->max_call_ns)
		a->max_call_ns = b->max_call_ns;
	a->last_pages_per_call = b->last_pages_per_call;
	a->method_used = b->method_used;
	a->fell_back = a->fell_back || b->fell_back;
	if (b->stopped != MP2_STOP_NONE)
		a->stopped = b->stopped;
}

void mp2_stats_count_status(struct mp2_stats *s, int status, int target)
{
	if (status == target) {
		s->moved++;
		return;
	}
	switch (status) {
	case -EBUSY:
		s->failed_busy++;
		break;
	case -EACCES:
		s->failed_access++;
		break;
	case -ENOENT:
		s->failed_not_present++;
		break;
	case -ENOMEM:
		s->failed_nomem++;
		break;
	case -EFAULT:
		s->failed_fault++;
		break;
	case MP2_STATUS_NOT_TRIED:
		s->not_tried++;
		break;
	default:
		s->failed_other++;
		break;
	}
}
