/* SPDX-License-Identifier: MIT */
/*-------------------------------------------------------------------------
 *
 * privilege.c
 *	  CAP_SYS_NICE, used only while pages are being migrated.
 *
 * Every buffer page that two processes have touched is "shared" to the
 * kernel, and moving it needs MPOL_MF_MOVE_ALL (MP2_KFLAG_MOVE_ALL with
 * move_pages2), which needs CAP_SYS_NICE.  A server gets the capability
 * from systemd (AmbientCapabilities=CAP_SYS_NICE) or from file
 * capabilities on the postgres binary (setcap cap_sys_nice+p).
 *
 * Least privilege: when the module is loaded, CAP_SYS_NICE is lowered from
 * the effective set (it stays in the permitted set) and from the ambient
 * set (so that programs the server runs, such as archive_command, do not
 * inherit it).  libmp2 calls pgmp2_priv_call_begin() right before each
 * migrating system call and pgmp2_priv_call_end() right after it, so the
 * capability is effective for the system calls only: never while a
 * migration sleeps for its max_rate or reads buffer headers.  Capabilities
 * are per thread; libmp2 runs the calls in the calling thread.
 *
 * If lowering it fails, this process gives the capability up for good
 * (clears it from the permitted set too) and the migration ends in an
 * error; if even that fails, the process exits (FATAL) rather than go on
 * with the capability effective.
 *
 *-------------------------------------------------------------------------
 */
#include "mp2_pg.h"

#include <sys/capability.h>
#include <sys/prctl.h>

static const cap_value_t sys_nice[] = {CAP_SYS_NICE};

static bool
cap_in(cap_t caps, cap_flag_t set)
{
	cap_flag_value_t v = CAP_CLEAR;

	if (cap_get_flag(caps, CAP_SYS_NICE, set, &v) != 0)
		return false;
	return v == CAP_SET;
}

/* Set or clear CAP_SYS_NICE in the effective set; true on success. */
static bool
set_effective(cap_flag_value_t value)
{
	cap_t		caps = cap_get_proc();
	bool		ok = false;

	if (caps == NULL)
		return false;
	if (value == CAP_SET && !cap_in(caps, CAP_PERMITTED))
	{
		cap_free(caps);
		return false;
	}
	if (cap_in(caps, CAP_EFFECTIVE) == (value == CAP_SET))
		ok = true;
	else if (cap_set_flag(caps, CAP_EFFECTIVE, 1, sys_nice, value) == 0 &&
			 cap_set_proc(caps) == 0)
		ok = true;
	cap_free(caps);
	return ok;
}

void
pgmp2_priv_init(void)
{
	/* Not inherited by programs the server executes. */
	(void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_NICE, 0, 0);
	/* Kept in the permitted set, effective only while migrating. */
	(void) set_effective(CAP_CLEAR);
}

Mp2CapState
pgmp2_priv_state(void)
{
	cap_t		caps = cap_get_proc();
	Mp2CapState state = PGMP2_CAP_NONE;

	if (caps == NULL)
		return PGMP2_CAP_NONE;
	if (cap_in(caps, CAP_EFFECTIVE))
		state = PGMP2_CAP_EFFECTIVE;
	else if (cap_in(caps, CAP_PERMITTED))
		state = PGMP2_CAP_PERMITTED;
	cap_free(caps);
	return state;
}

const char *
pgmp2_priv_state_name(Mp2CapState state)
{
	switch (state)
	{
		case PGMP2_CAP_PERMITTED:
			return "permitted";
		case PGMP2_CAP_EFFECTIVE:
			return "effective";
		case PGMP2_CAP_NONE:
			break;
	}
	return "none";
}

/* Lowering failed: the capability is not raised again by this process. */
static bool given_up = false;

/* Clear CAP_SYS_NICE from the effective and permitted sets; true on success. */
static bool
give_up(void)
{
	cap_t		caps = cap_get_proc();
	bool		ok;

	given_up = true;
	if (caps == NULL)
		return false;
	ok = cap_set_flag(caps, CAP_EFFECTIVE, 1, sys_nice, CAP_CLEAR) == 0 &&
		cap_set_flag(caps, CAP_PERMITTED, 1, sys_nice, CAP_CLEAR) == 0 &&
		cap_set_proc(caps) == 0;
	cap_free(caps);
	return ok;
}

bool
pgmp2_priv_available(void)
{
	return !given_up && pgmp2_priv_state() != PGMP2_CAP_NONE;
}

int
pgmp2_priv_call_begin(void *arg)
{
	if (given_up || !set_effective(CAP_SET))
		return -EPERM;
	return 0;
}

int
pgmp2_priv_call_end(void *arg)
{
	if (set_effective(CAP_CLEAR))
		return 0;
	(void) give_up();
	return -EPERM;
}

void
pgmp2_priv_drop(void)
{
	/* On an error path: nothing to report to, so exit if it stays. */
	if (!set_effective(CAP_CLEAR) && !give_up())
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not lower the capability CAP_SYS_NICE"),
				 errdetail("The process exits rather than keep the capability effective.")));
}

void
pgmp2_priv_check(void)
{
	static bool reported = false;

	if (!given_up || reported)
		return;
	if (pgmp2_priv_state() == PGMP2_CAP_EFFECTIVE)
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not lower the capability CAP_SYS_NICE after migrating pages"),
				 errdetail("The process exits rather than keep the capability effective.")));
	reported = true;
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("could not lower the capability CAP_SYS_NICE after migrating pages"),
			 errdetail("This process has given the capability up: it will not move pages that other processes map."),
			 errhint("Look for what else changes this process's capabilities; a new session has the capability again.")));
}
