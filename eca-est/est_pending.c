/* SPDX-License-Identifier: MIT */
/* A request the EST server accepted but has not issued yet, kept in STATE_DIR (RFC 7030 §4.2.3). */
#include "est_pending.h"

#include <stdio.h>
#include <string.h>

#include "eca_fs.h"

#define STATE_MAX 512
#define CSR_MAX   ((size_t)64 << 10)

int
est_pending_parse(const void *text, size_t len, struct est_pending *out)
{
    char buf[STATE_MAX], op[16];
    long long since, next, ra;
    int used = 0;

    memset(out, 0, sizeof(*out));
    if (len == 0 || len >= sizeof buf || memchr(text, '\0', len) != NULL)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (sscanf(buf, "eca-est-pending 1 %15s %lld %lld %lld%n", op, &since, &next, &ra, &used) != 4)
        return -1;
    if (strcmp(buf + used, "\n") != 0 && buf[used] != '\0')
        return -1;
    if ((strcmp(op, "enroll") != 0 && strcmp(op, "reenroll") != 0) || since <= 0 || next <= 0 ||
        ra < -1 || ra > 100LL * 365 * 86400)
        return -1;
    out->reenroll = strcmp(op, "reenroll") == 0;
    out->since = (time_t)since;
    out->next = (time_t)next;
    out->retry_after = (long)ra;
    return 0;
}

size_t
est_pending_format(const struct est_pending *p, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "eca-est-pending 1 %s %lld %lld %ld\n",
                     p->reenroll ? "reenroll" : "enroll", (long long)p->since, (long long)p->next,
                     p->retry_after);

    return n < 0 ? 0 : ((size_t)n < outlen ? (size_t)n : outlen - 1);
}

time_t
est_pending_next(time_t since, time_t now, long retry_after, long dflt, long max_age_s)
{
    /* 0 (or a date gone by) would make every pass a new request at once: the default then. */
    time_t at = now + (retry_after > 0 ? retry_after : dflt), end = since + max_age_s;

    return at > end ? end : at;
}

static void
file_path(const char *state_dir, const char *name, const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.pending%s", state_dir, name, suffix);
}

enum eca_rc
est_pending_load(const char *state_dir, const char *name, struct est_pending *out,
                 struct eca_key **key, struct eca_buf *csr, struct eca_err *err)
{
    char path[4096];
    struct eca_buf b;
    enum eca_rc rc;

    file_path(state_dir, name, "", path, sizeof path);
    eca_buf_init(&b, STATE_MAX);
    if ((rc = eca_fs_read(path, STATE_MAX, &b, err)) == ECA_OK &&
        est_pending_parse(b.data, b.len, out) != 0)
        rc = eca_err_set(err, ECA_EPARSE, "%s: not a pending-request state file", path);
    eca_buf_free(&b);
    if (rc != ECA_OK || key == NULL)
        return rc;
    file_path(state_dir, name, ".key", path, sizeof path);
    if ((rc = eca_key_load(path, key, err)) != ECA_OK)
        return rc == ECA_ENOTFOUND ? eca_err_set(err, ECA_EPARSE, "%s: missing", path) : rc;
    file_path(state_dir, name, ".csr", path, sizeof path);
    if ((rc = eca_fs_read(path, CSR_MAX, csr, err)) != ECA_OK || csr->len == 0) {
        eca_key_free(*key);
        *key = NULL;
        return eca_err_set(err, ECA_EPARSE, "%s: missing or empty", path);
    }
    return ECA_OK;
}

enum eca_rc
est_pending_save(const char *state_dir, const char *name, const struct est_pending *p,
                 const struct eca_key *key, const struct eca_buf *csr, struct eca_err *err)
{
    char path[4096], text[STATE_MAX];
    size_t n = est_pending_format(p, text, sizeof text);
    enum eca_rc rc;

    file_path(state_dir, name, ".key", path, sizeof path);
    if (key != NULL && (rc = eca_key_save(key, path, err)) != ECA_OK)
        return rc;
    file_path(state_dir, name, ".csr", path, sizeof path);
    if (csr != NULL &&
        (rc = eca_fs_write_atomic(path, csr->data, csr->len, ECA_FS_MODE_PRIVATE, err)) != ECA_OK)
        return rc;
    file_path(state_dir, name, "", path, sizeof path);
    return eca_fs_write_atomic(path, text, n, ECA_FS_MODE_PRIVATE, err);
}

void
est_pending_remove(const char *state_dir, const char *name)
{
    static const char *const suffixes[] = {"", ".key", ".csr"};
    char path[4096];

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        file_path(state_dir, name, suffixes[i], path, sizeof path);
        eca_fs_remove(path, NULL);
    }
}
