/* SPDX-License-Identifier: MIT */
/* Portable file-system logic (atomic replace, mkdir -p, paths) over the OS half in eca_fs_os.h. */
#include "eca_fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "eca_fs_os.h"

#define TMP_ATTEMPTS 8

void
eca_fs_dirname(const char *path, char *out, size_t outlen)
{
    size_t n = strlen(path);

    if (outlen == 0)
        return;
    /* POSIX dirname(3) semantics, without modifying the input. */
    while (n > 1 && eca_fs_os_is_sep(path[n - 1]))
        n--;
    while (n > 0 && !eca_fs_os_is_sep(path[n - 1]))
        n--;
    while (n > 1 && eca_fs_os_is_sep(path[n - 1]))
        n--;
    if (n == 0) {
        snprintf(out, outlen, ".");
        return;
    }
    snprintf(out, outlen, "%.*s", (int)n, path);
}

/* Base name start: the part after the last separator (trailing separators are not allowed). */
static const char *
base_of(const char *path)
{
    const char *b = path, *p;

    for (p = path; *p != '\0'; p++)
        if (eca_fs_os_is_sep(*p))
            b = p + 1;
    return b;
}

/* "<dir>/.<base>.tmp-<16 hex>" next to path, so the rename stays within one file system. */
static enum eca_rc
temp_name(const char *path, char *out, size_t outlen, struct eca_err *err)
{
    unsigned char r[8];
    const char *base = base_of(path);
    int n;

    if (RAND_bytes(r, sizeof r) != 1)
        return eca_err_ssl(err, ECA_ECRYPTO, "%s: random temporary name", path);
    n = snprintf(out, outlen, "%.*s.%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", (int)(base - path),
                 path, base, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
    if (n < 0 || (size_t)n >= outlen)
        return eca_err_set(err, ECA_EINVAL, "%s: path too long", path);
    return ECA_OK;
}

/* Create, write and fsync path; on failure the partial file is removed. */
static enum eca_rc
write_file(const char *path, const void *data, size_t len, unsigned mode, struct eca_err *err)
{
    struct eca_fs_os_file *f = NULL;
    enum eca_rc rc;

    if ((rc = eca_fs_os_create(path, mode, &f, err)) != ECA_OK)
        return rc;
    if ((rc = eca_fs_os_write(f, data, len, err)) != ECA_OK) {
        eca_fs_os_abort(f);
        goto out;
    }
    rc = eca_fs_os_sync_close(f, err);
out:
    if (rc != ECA_OK)
        eca_fs_os_unlink(path, NULL);
    return rc;
}

enum eca_rc
eca_fs_write_new(const char *path, const void *data, size_t len, unsigned mode, struct eca_err *err)
{
    return write_file(path, data, len, mode, err);
}

/* Temporary file, fsync, rename over path; then the directory fsync when sync is set. */
static enum eca_rc
replace(const char *path, const void *data, size_t len, unsigned mode, int sync,
        struct eca_err *err)
{
    char *tmp = NULL;
    size_t tmplen = strlen(path) + 32;
    enum eca_rc rc = ECA_ENOMEM;
    int i;

    if (*path == '\0' || eca_fs_os_is_sep(path[strlen(path) - 1]))
        return eca_err_set(err, ECA_EINVAL, "'%s': not a file path", path);
    if ((tmp = malloc(tmplen)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", path);
    /* A fresh name per attempt; an existing one (vanishingly rare) is skipped, not reused. */
    rc = eca_err_set(err, ECA_EIO, "%s: no free temporary name", path);
    for (i = 0; i < TMP_ATTEMPTS; i++) {
        if ((rc = temp_name(path, tmp, tmplen, err)) != ECA_OK)
            goto out;
        if (eca_fs_os_exists(tmp)) {
            rc = eca_err_set(err, ECA_EIO, "%s: no free temporary name", path);
            continue;
        }
        rc = write_file(tmp, data, len, mode, err);
        break;
    }
    if (rc != ECA_OK)
        goto out;
    if ((rc = eca_fs_os_rename(tmp, path, err)) != ECA_OK) {
        eca_fs_os_unlink(tmp, NULL);
        goto out;
    }
    if (sync)
        rc = eca_fs_sync_dir_of(path, err);
out:
    free(tmp);
    return rc;
}

enum eca_rc
eca_fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                    struct eca_err *err)
{
    return replace(path, data, len, mode, 1, err);
}

enum eca_rc
eca_fs_write_atomic_nosync(const char *path, const void *data, size_t len, unsigned mode,
                           struct eca_err *err)
{
    return replace(path, data, len, mode, 0, err);
}

enum eca_rc
eca_fs_sync_dir_of(const char *path, struct eca_err *err)
{
    char *dir;
    size_t n = strlen(path) + 2;
    enum eca_rc rc;

    if ((dir = malloc(n)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", path);
    eca_fs_dirname(path, dir, n);
    rc = eca_fs_os_sync_dir(dir, err);
    free(dir);
    return rc;
}

enum eca_rc
eca_fs_read(const char *path, size_t max, struct eca_buf *out, struct eca_err *err)
{
    struct eca_buf tmp;
    enum eca_rc rc;

    /* Read into a private buffer so *out changes only on success. */
    eca_buf_init(&tmp, max ? max : ECA_BUF_DEFAULT_MAX);
    rc = eca_fs_os_read(path, max ? max : ECA_BUF_DEFAULT_MAX, &tmp, err);
    if (rc == ECA_OK && tmp.len > 0 && (rc = eca_buf_append(out, tmp.data, tmp.len, err)) != ECA_OK)
        eca_err_prefix(err, "%s: ", path);
    if (rc == ECA_OK && out->data == NULL)
        rc = eca_buf_append(out, "", 0, err); /* an empty file still yields "" */
    eca_buf_free(&tmp);
    return rc;
}

enum eca_rc
eca_fs_rename(const char *from, const char *to, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_fs_os_rename(from, to, err)) != ECA_OK)
        return rc;
    return eca_fs_sync_dir_of(to, err);
}

enum eca_rc
eca_fs_rename_nosync(const char *from, const char *to, struct eca_err *err)
{
    return eca_fs_os_rename(from, to, err);
}

enum eca_rc
eca_fs_remove(const char *path, struct eca_err *err)
{
    enum eca_rc rc = eca_fs_os_unlink(path, err);

    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        return ECA_OK;
    }
    return rc;
}

enum eca_rc
eca_fs_mkdir_p(const char *path, unsigned mode, struct eca_err *err)
{
    char *p;
    size_t i, n = strlen(path);
    enum eca_rc rc = ECA_OK;

    if (n == 0)
        return eca_err_set(err, ECA_EINVAL, "mkdir: empty path");
    if ((p = malloc(n + 1)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", path);
    memcpy(p, path, n + 1);
    /* Each prefix ending before a separator, then the whole path. */
    for (i = 1; i <= n && rc == ECA_OK; i++) {
        if (i < n && !eca_fs_os_is_sep(p[i]))
            continue;
        if (i < n && eca_fs_os_is_sep(p[i - 1]))
            continue; /* "a//b" */
        p[i] = '\0';
        rc = eca_fs_os_mkdir(p, mode, err);
        if (i < n)
            p[i] = path[i];
    }
    free(p);
    return rc;
}

enum eca_rc
eca_fs_sync_dir(const char *dir, struct eca_err *err)
{
    return eca_fs_os_sync_dir(dir, err);
}

int
eca_fs_exists(const char *path)
{
    return eca_fs_os_exists(path);
}

enum eca_rc
eca_fs_check_private(const char *path, struct eca_err *err)
{
    return eca_fs_os_check_private(path, err);
}
