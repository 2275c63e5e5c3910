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
 * inherit it).  pgmp2_priv_raise() makes it effective for one migrating call
 * and pgmp2_priv_drop() lowers it again right after.  Capabilities are per
 * thread; libmp2 runs the calls in the calling thread.
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
	Mp2CapState state = MP2_CAP_NONE;

	if (caps == NULL)
		return MP2_CAP_NONE;
	if (cap_in(caps, CAP_EFFECTIVE))
		state = MP2_CAP_EFFECTIVE;
	else if (cap_in(caps, CAP_PERMITTED))
		state = MP2_CAP_PERMITTED;
	cap_free(caps);
	return state;
}

const char *
pgmp2_priv_state_name(Mp2CapState state)
{
	switch (state)
	{
		case MP2_CAP_PERMITTED:
			return "permitted";
		case MP2_CAP_EFFECTIVE:
			return "effective";
		case MP2_CAP_NONE:
			break;
	}
	return "none";
}

bool
pgmp2_priv_raise(void)
{
	return set_effective(CAP_SET);
}

void
pgmp2_priv_drop(void)
{
	(void) set_effective(CAP_CLEAR);
}
