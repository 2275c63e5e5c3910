/* SPDX-License-Identifier: MIT */
/*
 * mp2_kabi.h - the kernel ABI of move_pages2, for programs that make the
 * system call themselves.  libmp2's callers need none of it beyond
 * MP2_KBATCH_MAX, the bound of mp2_options.kernel_batch; mp2.h includes
 * this header for that.
 *
 * A kernel with move_pages2 publishes, read-only:
 *
 *   /sys/kernel/mm/move_pages2/syscall_nr   the system call number, decimal
 *   /sys/kernel/mm/move_pages2/version      the ABI version, decimal
 *
 * The number is never to be guessed: it differs between kernels.
 *
 * The system call (ABI version 1):
 *
 *   long move_pages2(unsigned long nr_pages, const void **pages,
 *                    const int *nodes, int *status,
 *                    unsigned int flags,
 *                    unsigned int nr_max_batched_migration);
 *
 * flags bits 0-1 select the kernel migrate mode (MP2_MODE_*), bit 8 is
 * MP2_KFLAG_MOVE_ALL.  nr_max_batched_migration is the number of pages the
 * kernel migrates as one batch, 0 for its default, at most
 * MP2_KBATCH_MAX.  Every status[] entry is filled (node or -errno) and a
 * failing page never stops the call; the return value is the number of
 * pages not migrated.
 */
#ifndef MP2_KABI_H
#define MP2_KABI_H

#define MP2_SYSFS_DIR		"/sys/kernel/mm/move_pages2"
#define MP2_SYSFS_SYSCALL_NR	MP2_SYSFS_DIR "/syscall_nr"
#define MP2_SYSFS_VERSION	MP2_SYSFS_DIR "/version"
#define MP2_KABI_VERSION	1
#define MP2_KMODE_MASK		0x3
#define MP2_KFLAG_MOVE_ALL	0x100
#define MP2_KBATCH_MAX		65536u

#endif /* MP2_KABI_H */
