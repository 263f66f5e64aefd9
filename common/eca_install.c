/* SPDX-License-Identifier: MIT */
/* Install a cert/key set atomically; a journal rolls an interrupted install forward. */
#include "eca_install.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eca_buf.h"
#include "eca_fs.h"

#define PATH_MAX_LEN 4096
/* Installed files are certificates, keys and PKCS#12 bundles: small. */
#define FILE_MAX    ((size_t)1 << 20)
#define JOURNAL_MAX ((size_t)64 * 1024)
/* A set is a key, a certificate, a chain, a bundle or two: far fewer than this. */
#define SET_MAX 8

static enum eca_rc
suffixed(const char *path, const char *suffix, char *out, size_t outlen, struct eca_err *err)
{
    int n = snprintf(out, outlen, "%s%s", path, suffix);

    if (n < 0 || (size_t)n >= outlen)
        return eca_err_set(err, ECA_EINVAL, "install: path too long: %s", path);
    return ECA_OK;
}

/* Copy the current target to "<path>.prev" with the target's mode (a key stays 0600). */
static enum eca_rc
keep_prev(const char *path, struct eca_err *err)
{
    char prev[PATH_MAX_LEN];
    struct stat st;
    struct eca_buf b;
    unsigned mode;
    enum eca_rc rc;

    eca_buf_init(&b, FILE_MAX);
    if ((rc = suffixed(path, ".prev", prev, sizeof prev, err)) != ECA_OK)
        goto out;
    if (stat(path, &st) != 0) {
        rc = eca_err_set(err, ECA_EIO, "install: cannot stat %s", path);
        goto out;
    }
    if ((rc = eca_fs_read(path, FILE_MAX, &b, err)) != ECA_OK)
        goto out;
    mode = (unsigned)st.st_mode & 0777u;
    /* Windows' st_mode is always 0666: a private target is told by its DACL instead. */
    if (eca_fs_check_private(path, NULL) == ECA_OK)
        mode &= 0700u;
    /* The directory is synced once for every .prev of the set (roll_all). */
    rc = eca_fs_write_atomic_nosync(prev, b.data, b.len, mode, err);
out:
    eca_buf_free(&b);
    return rc;
}

/* fsync each distinct directory among those holding paths[0..n) once. */
static enum eca_rc
sync_dirs(const char *const *paths, size_t n, struct eca_err *err)
{
    char dir[PATH_MAX_LEN], other[PATH_MAX_LEN];
    enum eca_rc rc = ECA_OK;
    size_t i, j;

    for (i = 0; i < n && rc == ECA_OK; i++) {
        eca_fs_dirname(paths[i], dir, sizeof dir);
        for (j = 0; j < i; j++) {
            eca_fs_dirname(paths[j], other, sizeof other);
            if (strcmp(dir, other) == 0)
                break;
        }
        if (j == i)
            rc = eca_fs_sync_dir(dir, err);
    }
    return rc;
}

/*
 * Move the staged files into place, in order, keeping the old ones as .prev. Idempotent, so
 * that the install and the recovery after a crash at any point share it: a missing
 * "<path>.new" means that entry was already renamed. Each phase syncs each directory once:
 * every .prev is durable before its target is replaced, and every rename before the caller
 * drops the journal. A failure to keep a .prev renames nothing (the set stays the old one);
 * a failed rename at entry k leaves the entries before k rolled, for recovery to finish.
 */
static enum eca_rc
roll_all(const char *const *paths, size_t n, struct eca_err *err)
{
    char staged[SET_MAX][PATH_MAX_LEN];
    size_t i, k;
    enum eca_rc rc = ECA_OK, rc2;

    for (k = 0; k < n && rc == ECA_OK; k++) {
        if ((rc = suffixed(paths[k], ".new", staged[k], sizeof staged[k], err)) != ECA_OK)
            continue;
        if (!eca_fs_exists(staged[k]))
            staged[k][0] = '\0';
        else if (eca_fs_exists(paths[k]))
            rc = keep_prev(paths[k], err);
    }
    /* No rename has happened yet: renaming the entries before k would leave a new key next to
     * the old certificate until recovery. Rename none; the journal retries the whole set. */
    if (rc != ECA_OK)
        return rc;
    if ((rc2 = sync_dirs(paths, k, err)) != ECA_OK)
        return rc2;
    for (i = 0; i < k && rc2 == ECA_OK; i++)
        if (staged[i][0] != '\0')
            rc2 = eca_fs_rename_nosync(staged[i], paths[i], err);
    if (rc2 == ECA_OK)
        rc2 = sync_dirs(paths, k, err);
    return rc2 != ECA_OK ? rc2 : rc;
}

static void
unstage(const struct eca_install_file *files, size_t n)
{
    char staged[PATH_MAX_LEN];
    size_t i;

    for (i = 0; i < n; i++) {
        if (suffixed(files[i].path, ".new", staged, sizeof staged, NULL) == ECA_OK)
            eca_fs_remove(staged, NULL);
    }
}

/* Write every "<path>.new" with its final mode, fsynced, and sync the directories. */
static enum eca_rc
stage(const struct eca_install_file *files, const char *const *paths, size_t n, struct eca_err *err)
{
    char staged[PATH_MAX_LEN];
    size_t i;
    enum eca_rc rc = ECA_OK;

    for (i = 0; i < n && rc == ECA_OK; i++) {
        if ((rc = suffixed(files[i].path, ".new", staged, sizeof staged, err)) != ECA_OK)
            break;
        /* A stale file from an install that died before its journal existed. */
        if ((rc = eca_fs_remove(staged, err)) != ECA_OK)
            break;
        rc = eca_fs_write_new(staged, files[i].data, files[i].len, files[i].mode, err);
    }
    if (rc == ECA_OK)
        rc = sync_dirs(paths, n, err);
    if (rc != ECA_OK)
        unstage(files, n);
    return rc;
}

static enum eca_rc
write_journal(const char *journal_path, const struct eca_install_file *files, size_t n,
              struct eca_err *err)
{
    struct eca_buf b;
    size_t i;
    enum eca_rc rc = ECA_OK;

    eca_buf_init(&b, JOURNAL_MAX);
    for (i = 0; i < n && rc == ECA_OK; i++)
        rc = eca_buf_printf(&b, err, "%s\n", files[i].path);
    if (rc == ECA_OK)
        rc = eca_fs_write_atomic(journal_path, b.data, b.len, ECA_FS_MODE_PRIVATE, err);
    eca_buf_free(&b);
    return rc;
}

static enum eca_rc
check_files(const struct eca_install_file *files, size_t n, struct eca_err *err)
{
    struct eca_err e = {0};
    size_t i;

    if (n == 0 || n > SET_MAX)
        return eca_err_set(err, ECA_EINVAL, "install: %zu files given (1 to %d)", n, SET_MAX);
    for (i = 0; i < n; i++) {
        if (files[i].path == NULL || files[i].path[0] == '\0' ||
            strpbrk(files[i].path, "\r\n") != NULL)
            return eca_err_set(err, ECA_EINVAL, "install: file %zu has no usable path", i);
        if (files[i].data == NULL && files[i].len > 0)
            return eca_err_set(err, ECA_EINVAL, "install: %s has no data", files[i].path);
        /* Found before anything is staged: a journal naming a directory would never roll. */
        if (eca_fs_check_file(files[i].path, &e) != ECA_OK)
            return eca_err_set(err, ECA_EINVAL, "install: %s: remove it or change the path", e.msg);
    }
    return ECA_OK;
}

enum eca_rc
eca_install_files(const char *journal_path, const struct eca_install_file *files, size_t n,
                  struct eca_err *err)
{
    const char *paths[SET_MAX];
    int rolled = 0;
    size_t i;
    enum eca_rc rc;

    if ((rc = check_files(files, n, err)) != ECA_OK)
        return rc;
    for (i = 0; i < n; i++)
        paths[i] = files[i].path;
    /* Finish an earlier interrupted install first: its journal must not be overwritten. */
    if ((rc = eca_install_recover(journal_path, &rolled, err)) != ECA_OK)
        return rc;
    if ((rc = stage(files, paths, n, err)) != ECA_OK)
        return rc;
    if ((rc = write_journal(journal_path, files, n, err)) != ECA_OK) {
        unstage(files, n);
        return rc;
    }
    /* From here on the journal owns the outcome: on failure, recovery rolls forward. */
    if ((rc = roll_all(paths, n, err)) != ECA_OK) {
        eca_err_prefix(err, "install (journal %s kept for recovery): ", journal_path);
        return rc;
    }
    return eca_fs_remove(journal_path, err);
}

enum eca_rc
eca_install_recover(const char *journal_path, int *rolled, struct eca_err *err)
{
    struct eca_err e = {0};
    struct eca_buf b;
    const char *paths[SET_MAX];
    char *line, *save = NULL;
    size_t n = 0;
    enum eca_rc rc;

    *rolled = 0;
    eca_buf_init(&b, JOURNAL_MAX);
    rc = eca_fs_read(journal_path, JOURNAL_MAX, &b, err);
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = ECA_OK;
        goto out;
    }
    if (rc != ECA_OK)
        goto out;
    line = b.len > 0 ? strtok_r((char *)b.data, "\n", &save) : NULL;
    for (; line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (n == SET_MAX) {
            rc = eca_err_set(err, ECA_EPARSE, "install recovery: journal %s lists over %d files",
                             journal_path, SET_MAX);
            goto out;
        }
        paths[n++] = line;
    }
    for (size_t i = 0; i < n; i++) {
        if (eca_fs_check_file(paths[i], &e) != ECA_OK) {
            rc = eca_err_set(err, ECA_EINVAL,
                             "install recovery: %s: remove it (the new file waiting in %s.new "
                             "then goes in place), or remove the journal %s to give up that "
                             "install",
                             e.msg, paths[i], journal_path);
            goto out;
        }
    }
    if (n > 0 && (rc = roll_all(paths, n, err)) != ECA_OK) {
        eca_err_prefix(err, "install recovery (journal %s): ", journal_path);
        goto out;
    }
    *rolled = n > 0;
    rc = eca_fs_remove(journal_path, err);
out:
    eca_buf_free(&b);
    return rc;
}

/* The leftovers of writing path atomically, and of keeping its .prev copy. */
static void
sweep_file(struct eca_fs_sweep *memo, const char *path, long min_age_s, int *removed)
{
    char prev[PATH_MAX_LEN];

    eca_fs_sweep_temps_of_memo(memo, path, min_age_s, removed);
    if (suffixed(path, ".prev", prev, sizeof prev, NULL) == ECA_OK)
        eca_fs_sweep_temps_of_memo(memo, prev, min_age_s, removed);
}

enum eca_rc
eca_install_sweep(const char *journal_path, const char *const *paths, size_t n, long min_age_s,
                  int *removed, struct eca_err *err)
{
    return eca_install_sweep_memo(NULL, journal_path, paths, n, min_age_s, removed, err);
}

enum eca_rc
eca_install_sweep_memo(struct eca_fs_sweep *memo, const char *journal_path,
                       const char *const *paths, size_t n, long min_age_s, int *removed,
                       struct eca_err *err)
{
    char staged[PATH_MAX_LEN];
    int journal = eca_fs_exists(journal_path);

    (void)err;
    for (size_t i = 0; i < n; i++) {
        if (paths[i] == NULL)
            continue;
        sweep_file(memo, paths[i], min_age_s, removed);
        /* With a journal, the staged files are the new set: recovery needs them. */
        if (!journal && suffixed(paths[i], ".new", staged, sizeof staged, NULL) == ECA_OK)
            *removed += eca_fs_remove_stale(staged, min_age_s);
    }
    return ECA_OK;
}
