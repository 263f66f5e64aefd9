/* SPDX-License-Identifier: MIT */
/* Portable file-system logic (atomic replace, mkdir -p, paths) over the OS half in eca_fs_os.h. */
#include "eca_fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "eca_fs_os.h"

#define TMP_ATTEMPTS 8
#define TMP_TAG      ".tmp-"
#define TMP_HEX      16

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
    n = snprintf(out, outlen, "%.*s.%s" TMP_TAG "%02x%02x%02x%02x%02x%02x%02x%02x",
                 (int)(base - path), path, base, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
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

enum eca_rc
eca_fs_not_regular(struct eca_err *err, const char *path, enum eca_fs_kind kind)
{
    static const char *const what[] = {
        [ECA_FS_ABSENT] = "is missing",           [ECA_FS_REGULAR] = "is a regular file",
        [ECA_FS_DIR] = "is a directory",          [ECA_FS_FIFO] = "is a FIFO (named pipe)",
        [ECA_FS_OTHER] = "is a device or socket",
    };

    return eca_err_set(err, ECA_EINVAL, "%s: %s, not a regular file", path, what[kind]);
}

enum eca_rc
eca_fs_check_file(const char *path, struct eca_err *err)
{
    enum eca_fs_kind k = eca_fs_os_kind(path);

    if (k == ECA_FS_ABSENT || k == ECA_FS_REGULAR)
        return ECA_OK;
    return eca_fs_not_regular(err, path, k);
}

enum eca_rc
eca_fs_identity(const char *path, struct eca_fs_id *out, struct eca_err *err)
{
    return eca_fs_os_identity(path, out, err);
}

int
eca_fs_id_equal(const struct eca_fs_id *a, const struct eca_fs_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_s == b->mtime_s &&
           a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns;
}

/* 1 if name is ".<base>.tmp-<16 lower-case hex>" (any base when base is NULL). */
static int
is_temp_of(const char *name, const char *base)
{
    size_t n = strlen(name), tag = strlen(TMP_TAG), b;
    const char *hex;

    if (name[0] != '.' || n < 1 + 1 + tag + TMP_HEX)
        return 0;
    hex = name + n - TMP_HEX;
    if (strspn(hex, "0123456789abcdef") != TMP_HEX || strncmp(hex - tag, TMP_TAG, tag) != 0)
        return 0;
    if (base == NULL)
        return 1;
    b = strlen(base);
    return n == 1 + b + tag + TMP_HEX && strncmp(name + 1, base, b) == 0;
}

struct sweep {
    const char *dir, *base;
    long min_age_s;
    int removed;
};

int
eca_fs_remove_stale(const char *path, long min_age_s)
{
    long age = eca_fs_os_age_s(path);

    if (eca_fs_os_kind(path) != ECA_FS_REGULAR || age < 0 || age < min_age_s)
        return 0;
    return eca_fs_os_unlink(path, NULL) == ECA_OK;
}

static int
sweep_one(void *ctx, const char *name)
{
    struct sweep *s = ctx;
    char path[4096];

    if (!is_temp_of(name, s->base) ||
        snprintf(path, sizeof path, "%s/%s", s->dir, name) >= (int)sizeof path)
        return 0;
    s->removed += eca_fs_remove_stale(path, s->min_age_s);
    return 0;
}

enum eca_rc
eca_fs_sweep_temps(const char *dir, const char *base, long min_age_s, int *removed,
                   struct eca_err *err)
{
    struct sweep s = {dir, base, min_age_s, 0};
    enum eca_rc rc = eca_fs_os_list(dir, sweep_one, &s, err);

    if (removed != NULL)
        *removed += s.removed;
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = ECA_OK;
    }
    return rc;
}

void
eca_fs_sweep_temps_of(const char *path, long min_age_s, int *removed)
{
    eca_fs_sweep_temps_of_memo(NULL, path, min_age_s, removed);
}

void
eca_fs_sweep_temps_of_memo(struct eca_fs_sweep *memo, const char *path, long min_age_s,
                           int *removed)
{
    char *dir;
    size_t n = strlen(path) + 2;

    if ((dir = malloc(n)) == NULL)
        return;
    eca_fs_dirname(path, dir, n);
    eca_fs_sweep_temps_memo(memo, dir, base_of(path), min_age_s, removed, NULL);
    free(dir);
}

/* One directory's listing: the names of the temporary files in it (NULL once removed). */
struct swept {
    char *dir;
    char **names;
    size_t n, cap;
    int complete; /* every temporary file of the listing is in names */
};

struct eca_fs_sweep {
    struct swept *v;
    size_t n, cap;
};

struct eca_fs_sweep *
eca_fs_sweep_new(void)
{
    return calloc(1, sizeof(struct eca_fs_sweep));
}

static void
swept_free(struct swept *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->names[i]);
    free(d->names);
    free(d->dir);
}

void
eca_fs_sweep_free(struct eca_fs_sweep *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        swept_free(&s->v[i]);
    free(s->v);
    free(s);
}

static int
collect_one(void *ctx, const char *name)
{
    struct swept *d = ctx;
    char **grown;

    if (!is_temp_of(name, NULL))
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 8;

        if ((grown = realloc(d->names, cap * sizeof *grown)) == NULL) {
            d->complete = 0;
            return 1;
        }
        d->names = grown;
        d->cap = cap;
    }
    if ((d->names[d->n] = strdup(name)) == NULL) {
        d->complete = 0;
        return 1;
    }
    d->n++;
    return 0;
}

/* The listing of dir in memo, made now when there is none; NULL when it cannot be kept. */
static struct swept *
listing(struct eca_fs_sweep *memo, const char *dir, struct eca_err *err, enum eca_rc *rc)
{
    struct swept *d, *grown;

    *rc = ECA_OK;
    for (size_t i = 0; i < memo->n; i++)
        if (strcmp(memo->v[i].dir, dir) == 0)
            return &memo->v[i];
    if (memo->n == memo->cap) {
        size_t cap = memo->cap ? 2 * memo->cap : 8;

        if ((grown = realloc(memo->v, cap * sizeof *grown)) == NULL)
            return NULL;
        memo->v = grown;
        memo->cap = cap;
    }
    d = &memo->v[memo->n];
    memset(d, 0, sizeof *d);
    if ((d->dir = strdup(dir)) == NULL)
        return NULL;
    d->complete = 1;
    *rc = eca_fs_os_list(dir, collect_one, d, err);
    if (*rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        *rc = ECA_OK;
    }
    if (*rc != ECA_OK || !d->complete) {
        swept_free(d);
        return NULL;
    }
    memo->n++;
    return d;
}

enum eca_rc
eca_fs_sweep_temps_memo(struct eca_fs_sweep *memo, const char *dir, const char *base,
                        long min_age_s, int *removed, struct eca_err *err)
{
    struct sweep s = {dir, base, min_age_s, 0};
    struct swept *d;
    enum eca_rc rc;

    if (memo == NULL)
        return eca_fs_sweep_temps(dir, base, min_age_s, removed, err);
    if ((d = listing(memo, dir, err, &rc)) == NULL) /* out of memory: a listing of its own */
        return rc != ECA_OK ? rc : eca_fs_sweep_temps(dir, base, min_age_s, removed, err);
    for (size_t i = 0; i < d->n; i++) {
        int before = s.removed;

        if (d->names[i] == NULL)
            continue;
        sweep_one(&s, d->names[i]);
        if (s.removed > before) {
            free(d->names[i]);
            d->names[i] = NULL;
        }
    }
    if (removed != NULL)
        *removed += s.removed;
    return ECA_OK;
}
