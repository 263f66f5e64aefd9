/* SPDX-License-Identifier: MIT */
/* File-system primitives: atomic replace with fsync, private files created private. */
#ifndef ECA_FS_H
#define ECA_FS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "eca_buf.h"
#include "eca_err.h"

#define ECA_FS_MODE_PRIVATE 0600u
#define ECA_FS_MODE_PUBLIC  0644u

/*
 * Write data to path atomically: a temporary file in the same directory is created with
 * `mode` from the first byte (O_EXCL, the mode given to open; then set exactly, whatever
 * the umask, before any data is written),
 * written, fsynced, renamed over path, and the directory is fsynced.
 */
enum eca_rc eca_fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                                struct eca_err *err);

/*
 * eca_fs_write_atomic without the directory fsync: for callers that rename several files in
 * one directory and then sync it once (eca_fs_sync_dir) before relying on any of them.
 */
enum eca_rc eca_fs_write_atomic_nosync(const char *path, const void *data, size_t len,
                                       unsigned mode, struct eca_err *err);

/* Create path (must not exist) with mode from the first byte, write, fsync. No rename. */
enum eca_rc eca_fs_write_new(const char *path, const void *data, size_t len, unsigned mode,
                             struct eca_err *err);

/*
 * Read a whole file, at most max bytes (ECA_ETOOBIG beyond); ECA_ENOTFOUND if absent. Anything
 * but a regular file (a directory, a FIFO, a device) is ECA_EINVAL saying what it is: a FIFO
 * never blocks the reader.
 */
enum eca_rc eca_fs_read(const char *path, size_t max, struct eca_buf *out, struct eca_err *err);

/* Rename (replacing the target) and fsync the target's directory. */
enum eca_rc eca_fs_rename(const char *from, const char *to, struct eca_err *err);

/* Rename (replacing the target) without the directory fsync; the caller syncs it. */
enum eca_rc eca_fs_rename_nosync(const char *from, const char *to, struct eca_err *err);

/* Remove a file; a missing file is not an error. */
enum eca_rc eca_fs_remove(const char *path, struct eca_err *err);

/* Create a directory and its parents with mode (existing ones are left as they are). */
enum eca_rc eca_fs_mkdir_p(const char *path, unsigned mode, struct eca_err *err);

/* fsync a directory so renames inside it are durable. */
enum eca_rc eca_fs_sync_dir(const char *dir, struct eca_err *err);

/* fsync the directory that contains path (after a rename or create inside it). */
enum eca_rc eca_fs_sync_dir_of(const char *path, struct eca_err *err);

/* 1 if path exists (any type), 0 otherwise. */
int eca_fs_exists(const char *path);

/* ECA_EINVAL naming the path if a private file is readable or writable by group or others. */
enum eca_rc eca_fs_check_private(const char *path, struct eca_err *err);

/* ECA_OK when path is a regular file or absent; else ECA_EINVAL saying what is there. */
enum eca_rc eca_fs_check_file(const char *path, struct eca_err *err);

/*
 * Remove the temporary files eca_fs_write_atomic() leaves when killed mid-write:
 * "<dir>/.<base>.tmp-<16 hex>" (base NULL: of any file in dir), last modified at least
 * min_age_s ago (a younger one may belong to a writer at work). *removed counts them.
 */
enum eca_rc eca_fs_sweep_temps(const char *dir, const char *base, long min_age_s, int *removed,
                               struct eca_err *err);

/* eca_fs_sweep_temps() for the temporary files of path alone (in its directory). */
void eca_fs_sweep_temps_of(const char *path, long min_age_s, int *removed);

/*
 * The temporary files found in each directory swept at one start, so that sweeping for
 * many files of one directory lists it once (a directory of 10,000 certificates listed per
 * certificate made a start quadratic). Only names listed are ever removed, each only when
 * old enough, so a listing that ages during the start is safe. One thread at a time.
 */
struct eca_fs_sweep;

/* NULL when out of memory (the sweeps then list every time). */
struct eca_fs_sweep *eca_fs_sweep_new(void);
void eca_fs_sweep_free(struct eca_fs_sweep *s);

/* eca_fs_sweep_temps() through memo (NULL: a listing of its own). */
enum eca_rc eca_fs_sweep_temps_memo(struct eca_fs_sweep *memo, const char *dir, const char *base,
                                    long min_age_s, int *removed, struct eca_err *err);

/* eca_fs_sweep_temps_of() through memo (NULL: a listing of its own). */
void eca_fs_sweep_temps_of_memo(struct eca_fs_sweep *memo, const char *path, long min_age_s,
                                int *removed);

/*
 * The identity of a regular file: two equal identities say the file was not replaced or
 * rewritten in between, as far as the OS tells (POSIX: device, inode, size, mtime and ctime with
 * their nanoseconds; Windows: volume serial, file index, size, last-write and creation times).
 * changed: the newest of its timestamps, in seconds since the epoch.
 */
struct eca_fs_id {
    uint64_t dev, ino, size;
    int64_t mtime_s, ctime_s;
    long mtime_ns, ctime_ns;
    time_t changed;
};

/* The identity of path, following links; ECA_ENOTFOUND when absent, ECA_EINVAL when it is not a
 * regular file (saying what it is). */
enum eca_rc eca_fs_identity(const char *path, struct eca_fs_id *out, struct eca_err *err);

/* 1 when a and b are the same identity. */
int eca_fs_id_equal(const struct eca_fs_id *a, const struct eca_fs_id *b);

/* Remove path if it is a regular file last modified at least min_age_s ago; 1 if removed. */
int eca_fs_remove_stale(const char *path, long min_age_s);

/* Directory part of path into out ("." when none). */
void eca_fs_dirname(const char *path, char *out, size_t outlen);

#endif
