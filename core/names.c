// SPDX-License-Identifier: MIT
/* Names of methods, modes and statuses, and error messages. */
#include <errno.h>
#include <string.h>

#include "mp2.h"

static const char *const method_names[] = {
	[MP2_METHOD_AUTO] = "auto",
	[MP2_METHOD_MOVE_PAGES2] = "move_pages2",
	[MP2_METHOD_MOVE_PAGES] = "move_pages",
};

static const char *const mode_names[] = {
	[MP2_MODE_ASYNC] = "async",
	[MP2_MODE_SYNC_LIGHT] = "sync_light",
	[MP2_MODE_SYNC] = "sync",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *mp2_method_name(enum mp2_method method)
{
	if ((unsigned int)method >= ARRAY_LEN(method_names))
		return NULL;
	return method_names[method];
}

const char *mp2_mode_name(enum mp2_mode mode)
{
	if ((unsigned int)mode >= ARRAY_LEN(mode_names))
		return NULL;
	return mode_names[mode];
}

int mp2_method_parse(const char *name, enum mp2_method *method)
{
	if (!name || !method)
		return -EINVAL;
	for (unsigned int i = 0; i < ARRAY_LEN(method_names); i++) {
		if (strcmp(name, method_names[i]) == 0) {
			*method = (enum mp2_method)i;
			return 0;
		}
	}
	return -EINVAL;
}

int mp2_mode_parse(const char *name, enum mp2_mode *mode)
{
	if (!name || !mode)
		return -EINVAL;
	for (unsigned int i = 0; i < ARRAY_LEN(mode_names); i++) {
		if (strcmp(name, mode_names[i]) == 0 ||
		    (name[0] == (char)('0' + i) && name[1] == '\0')) {
			*mode = (enum mp2_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *mp2_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument: NULL array with a non-zero count, zero "
		       "count or size, unaligned page address, unknown method or "
		       "mode, threads < 1, pages per call 0, or kernel batch "
		       "above 65536";
	case -ENODEV:
		return "target node out of range or without memory "
		       "(see numactl --hardware for the nodes with memory)";
	case -ENOSYS:
		return "move_pages2 is not available in the running kernel "
		       "(no " MP2_SYSFS_DIR "); boot the mp2 kernel, or use "
		       "method auto or move_pages";
	case -EPERM:
		return "moving pages shared with other processes (move_all) needs "
		       "CAP_SYS_NICE; grant it (e.g. systemd "
		       "AmbientCapabilities=CAP_SYS_NICE or setcap "
		       "cap_sys_nice+ep on the program) or do not ask for move_all";
	case -ENOMEM:
		return "out of memory";
	case -EFAULT:
		return "bad address";
	default:
		return strerror(-err);
	}
}

const char *mp2_status_reason(int status)
{
	if (status >= 0)
		return "on node";
	switch (status) {
	case -EBUSY:
		return "busy";
	case -EACCES:
		return "shared";
	case -ENOENT:
		return "not present";
	case -ENOMEM:
		return "no memory";
	case -EFAULT:
		return "fault";
	case MP2_STATUS_NOT_TRIED:
		return "not tried";
	default:
		return "other";
	}
}
