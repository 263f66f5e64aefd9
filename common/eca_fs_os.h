/* SPDX-License-Identifier: MIT */
/* Internal: the OS half of eca_fs (eca_fs_posix.c, later eca_fs_win.c), one call per primitive. */
#ifndef ECA_FS_OS_H
#define ECA_FS_OS_H

#include <stddef.h>

#include "eca_buf.h"
#include "eca_err.h"

/* An open file being written; opaque so the Windows half can hold a HANDLE. */
struct eca_fs_os_file;

/* Create path exclusively (fails if it exists, never follows a link) with mode from birth. */
enum eca_rc eca_fs_os_create(const char *path, unsigned mode, struct eca_fs_os_file **out,
                             struct eca_err *err);

/* Write all bytes (retrying short writes and interruptions). */
enum eca_rc eca_fs_os_write(struct eca_fs_os_file *f, const void *data, size_t len,
                            struct eca_err *err);

/* Flush to stable storage, then close. f is gone afterwards whatever the result. */
enum eca_rc eca_fs_os_sync_close(struct eca_fs_os_file *f, struct eca_err *err);

/* Close without flushing (failure paths). NULL is a no-op. */
void eca_fs_os_abort(struct eca_fs_os_file *f);

/* Read the whole file into out (at most max bytes, else ECA_ETOOBIG). */
enum eca_rc eca_fs_os_read(const char *path, size_t max, struct eca_buf *out, struct eca_err *err);

/* Atomically replace `to` by `from` (no directory sync). */
enum eca_rc eca_fs_os_rename(const char *from, const char *to, struct eca_err *err);

/* Remove a file; ECA_ENOTFOUND when absent. */
enum eca_rc eca_fs_os_unlink(const char *path, struct eca_err *err);

/* Make the directory entries of dir durable. */
enum eca_rc eca_fs_os_sync_dir(const char *dir, struct eca_err *err);

/* Create one directory; an existing directory is ECA_OK. */
enum eca_rc eca_fs_os_mkdir(const char *path, unsigned mode, struct eca_err *err);

/* 1 if path names anything (a dangling link included), else 0. */
int eca_fs_os_exists(const char *path);

/* ECA_EINVAL if group or others may read or write path; ECA_ENOTFOUND if absent. */
enum eca_rc eca_fs_os_check_private(const char *path, struct eca_err *err);

/* What a path names, following links (a dangling link is ECA_FS_ABSENT). */
enum eca_fs_kind { ECA_FS_ABSENT = 0, ECA_FS_REGULAR, ECA_FS_DIR, ECA_FS_FIFO, ECA_FS_OTHER };
enum eca_fs_kind eca_fs_os_kind(const char *path);

/* ECA_EINVAL: "<path>: is a directory, not a regular file" (and so on for kind). */
enum eca_rc eca_fs_not_regular(struct eca_err *err, const char *path, enum eca_fs_kind kind);

/* eca_fs_identity(): the OS half (the struct is declared in eca_fs.h). */
struct eca_fs_id;
enum eca_rc eca_fs_os_identity(const char *path, struct eca_fs_id *out, struct eca_err *err);

/* Seconds since path was last modified (0 if in the future); -1 when it cannot be told. */
long eca_fs_os_age_s(const char *path);

/*
 * Call each(ctx, name) for every entry of dir but "." and "..", in no particular order; a
 * nonzero return stops the walk. ECA_ENOTFOUND when dir does not exist.
 */
enum eca_rc eca_fs_os_list(const char *dir, int (*each)(void *ctx, const char *name), void *ctx,
                           struct eca_err *err);

/* 1 if c separates path components on this OS. */
int eca_fs_os_is_sep(char c);

#endif
