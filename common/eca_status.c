/* SPDX-License-Identifier: MIT */
/* Per-certificate status of an agent: text for `status`, JSON for `status --json` and the file. */
#include "eca_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "eca_fs.h"
#include "eca_strpack.h"

/* The file's cap grows with the certificates: an entry is about 500 bytes, at most a few KiB
 * with every string at its longest and escaped (a flat 4 MiB stopped at about 8,000). */
#define STATUS_BASE     ((size_t)64 << 10)
#define STATUS_PER_CERT ((size_t)16 << 10)

int
eca_status_left_pct(const struct eca_status_cert *c, time_t now)
{
    long long life = (long long)c->not_after - c->not_before;

    if (!c->not_after || life <= 0 || now >= c->not_after)
        return 0;
    if (now <= c->not_before)
        return 100;
    return (int)(((long long)c->not_after - now) * 100 / life);
}

const char *
eca_status_time(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (t <= 0 || gmtime_r(&t, &tm) == NULL)
        snprintf(buf, len, "-");
    else
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static enum eca_rc append(struct eca_buf *out, struct eca_err *err, const char *fmt, ...)
    ECA_PRINTF(3, 4);
static enum eca_rc
append(struct eca_buf *out, struct eca_err *err, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return eca_err_set(err, ECA_EINVAL, "status: format error");
    return eca_buf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, err);
}

static enum eca_rc
text_one(const struct eca_status_cert *c, time_t now, struct eca_buf *out, struct eca_err *err)
{
    char na[32], nx[32];
    long long left = c->not_after > now ? (long long)c->not_after - now : 0;
    enum eca_rc rc;

    if ((rc = append(out, err, "%s:\n", c->name)) != ECA_OK)
        return rc;
    if (!c->present)
        rc = append(out, err, "  state:     not installed (%s)\n", c->problem);
    else
        rc = append(out, err,
                    "  subject:   %s\n  serial:    %s\n  not after: %s\n"
                    "  left:      %lldd %02lldh %02lldm (%d%% of the lifetime)\n",
                    c->subject, c->serial, eca_status_time(c->not_after, na, sizeof na),
                    left / 86400, left % 86400 / 3600, left % 3600 / 60,
                    eca_status_left_pct(c, now));
    if (rc == ECA_OK && c->present && c->revoked)
        rc = append(out, err, "  revoked:   yes (not healthy until a new certificate is in)\n");
    if (rc == ECA_OK && c->profile[0])
        rc = append(out, err, "  profile:   %s\n", c->profile);
    if (rc == ECA_OK && strcmp(c->next_reason, "check") == 0)
        rc = append(out, err, "  next:      renew at %s (next check %s)\n",
                    eca_status_time(c->renew_at, na, sizeof na),
                    eca_status_time(c->next_action, nx, sizeof nx));
    else if (rc == ECA_OK)
        rc = append(out, err, "  next:      %s at %s\n", c->next_reason,
                    eca_status_time(c->next_action, nx, sizeof nx));
    if (rc == ECA_OK && c->pending_since > 0)
        rc = append(out, err, "  pending:   approval since %s, next try %s\n",
                    eca_status_time(c->pending_since, na, sizeof na),
                    eca_status_time(c->pending_next, nx, sizeof nx));
    if (rc == ECA_OK && c->failures > 0)
        rc = append(out, err, "  failures:  %u, last error %s: %s\n", c->failures, c->last_rc,
                    c->last_error);
    return rc;
}

int
eca_status_healthy(const struct eca_status_cert *c, time_t now)
{
    /* Any other next_reason is a renewal due now (missing key, key mismatch, max age...). */
    int waiting = c->next_reason != NULL &&
                  (strcmp(c->next_reason, "check") == 0 || strcmp(c->next_reason, "renew") == 0);

    if (c->revoked)
        return 0;
    if (c->pending_since > 0)
        return c->present && c->failures == 0 && c->not_after > now;
    return c->present && waiting && c->failures == 0 && c->not_after > now && c->renew_at > now;
}

enum eca_rc
eca_status_render_text(const struct eca_status_cert *v, size_t n, time_t now, struct eca_buf *out,
                       struct eca_err *err)
{
    enum eca_rc rc = ECA_OK;

    for (size_t i = 0; i < n && rc == ECA_OK; i++)
        rc = text_one(&v[i], now, out, err);
    return rc;
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v && *v ? json_object_new_string(v) : NULL);
}

static void
add_time(struct json_object *o, const char *k, time_t t)
{
    char buf[32];

    json_object_object_add(
        o, k, t > 0 ? json_object_new_string(eca_status_time(t, buf, sizeof buf)) : NULL);
}

static struct json_object *
json_one(const struct eca_status_cert *c, time_t now)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    add_str(o, "name", c->name);
    json_object_object_add(o, "present", json_object_new_boolean(c->present));
    add_str(o, "subject", c->present ? c->subject : NULL);
    add_str(o, "serial", c->present ? c->serial : NULL);
    add_time(o, "not_before", c->present ? c->not_before : 0);
    add_time(o, "not_after", c->present ? c->not_after : 0);
    json_object_object_add(o, "lifetime_left_pct",
                           json_object_new_int(c->present ? eca_status_left_pct(c, now) : 0));
    add_time(o, "next_action", c->next_action);
    add_str(o, "next_reason", c->next_reason);
    add_time(o, "renew_at", c->renew_at);
    json_object_object_add(o, "failures", json_object_new_int64(c->failures));
    add_str(o, "last_error_rc", c->last_rc);
    add_str(o, "last_error", c->last_error);
    add_time(o, "last_success", c->last_success);
    add_str(o, "problem", c->present ? NULL : c->problem);
    add_time(o, "pending_since", c->pending_since);
    add_time(o, "pending_next", c->pending_since > 0 ? c->pending_next : 0);
    json_object_object_add(o, "revoked", json_object_new_boolean(c->present && c->revoked));
    add_str(o, "profile", c->profile);
    return o;
}

enum eca_rc
eca_status_render_json(const char *agent, const char *version, const struct eca_status_cert *v,
                       size_t n, time_t now, struct eca_buf *out, struct eca_err *err)
{
    struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
    const char *s;
    enum eca_rc rc;

    if (root == NULL || arr == NULL) {
        json_object_put(root);
        json_object_put(arr);
        return eca_err_set(err, ECA_ENOMEM, "status: out of memory");
    }
    add_str(root, "agent", agent);
    add_str(root, "version", version);
    add_time(root, "generated", now);
    json_object_object_add(root, "certificates", arr);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, json_one(&v[i], now));
    s = json_object_to_json_string_ext(root,
                                       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = s ? eca_buf_append(out, s, strlen(s), err)
           : eca_err_set(err, ECA_ENOMEM, "status: out of memory");
    if (rc == ECA_OK)
        rc = eca_buf_append(out, "\n", 1, err);
    json_object_put(root);
    return rc;
}

enum eca_rc
eca_status_write(const char *state_dir, const char *agent, const char *version,
                 const struct eca_status_cert *v, size_t n, time_t now, struct eca_err *err)
{
    char path[4096];
    struct eca_buf b;
    enum eca_rc rc;

    eca_buf_init(&b, STATUS_BASE + n * STATUS_PER_CERT);
    snprintf(path, sizeof path, "%s/status.json", state_dir);
    if ((rc = eca_status_render_json(agent, version, v, n, now, &b, err)) == ECA_OK)
        rc = eca_fs_write_atomic(path, b.data, b.len, ECA_FS_MODE_PUBLIC, err);
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_status_print(const char *agent, const char *version, const struct eca_status_cert *v, size_t n,
                 time_t now, int json, FILE *out, struct eca_err *err)
{
    struct eca_buf b;
    enum eca_rc rc;

    eca_buf_init(&b, 0);
    rc = json ? eca_status_render_json(agent, version, v, n, now, &b, err)
              : eca_status_render_text(v, n, now, &b, err);
    if (rc == ECA_OK && b.len > 0 && fwrite(b.data, 1, b.len, out) != b.len)
        rc = eca_err_set(err, ECA_EIO, "status: write failed");
    eca_buf_free(&b);
    return rc;
}

/* ---- the daemon's table ---- */

/* The strings of an entry, in the order of struct kept's strs. */
#define KEPT_NSTR 7

/* An entry: the struct's other fields, then its strings end to end. */
struct kept {
    size_t cap; /* bytes of strs: a set whose strings fit reuses the record */
    int present, revoked;
    unsigned failures;
    time_t not_before, not_after, next_action, renew_at, last_success, pending_since, pending_next;
    const char *next_reason;
    char strs[]; /* name, subject, serial, problem, last_rc, last_error, profile */
};

/* The struct as the table knows it: a field added to it must be carried by the table too
 * (set and get below), which this check makes sure someone looks at. */
struct status_mirror {
    char name[65];
    int present;
    char subject[512];
    char serial[130];
    time_t not_before, not_after;
    char problem[ECA_ERR_MSG_MAX];
    time_t next_action;
    time_t renew_at;
    const char *next_reason;
    unsigned failures;
    char last_rc[16];
    char last_error[ECA_ERR_MSG_MAX];
    time_t last_success;
    time_t pending_since;
    time_t pending_next;
    int revoked;
    char profile[65];
};
_Static_assert(sizeof(struct status_mirror) == sizeof(struct eca_status_cert),
               "struct eca_status_cert changed: carry its new fields in eca_status_table");

struct eca_status_table {
    size_t n;
    struct kept **v;
};

static void
kept_fields(struct eca_status_cert *c, char *f[KEPT_NSTR], size_t len[KEPT_NSTR])
{
    f[0] = c->name;
    len[0] = sizeof c->name;
    f[1] = c->subject;
    len[1] = sizeof c->subject;
    f[2] = c->serial;
    len[2] = sizeof c->serial;
    f[3] = c->problem;
    len[3] = sizeof c->problem;
    f[4] = c->last_rc;
    len[4] = sizeof c->last_rc;
    f[5] = c->last_error;
    len[5] = sizeof c->last_error;
    f[6] = c->profile;
    len[6] = sizeof c->profile;
}

struct eca_status_table *
eca_status_table_new(size_t n)
{
    struct eca_status_table *t = calloc(1, sizeof *t);

    if (t == NULL || (t->v = calloc(n + 1, sizeof *t->v)) == NULL) {
        free(t);
        return NULL;
    }
    t->n = n;
    return t;
}

void
eca_status_table_free(struct eca_status_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t);
}

enum eca_rc
eca_status_table_set(struct eca_status_table *t, size_t i, const struct eca_status_cert *c,
                     struct eca_err *err)
{
    struct eca_status_cert copy = *c;
    char *f[KEPT_NSTR];
    size_t len[KEPT_NSTR];
    struct kept *k = t->v[i];
    size_t need;

    kept_fields(&copy, f, len);
    need = eca_strpack_size(f, len, KEPT_NSTR);
    /* Reused in place: a pass on a worker thread would otherwise leave each certificate's
     * record in that thread's malloc arena, which then stays resident while idle. */
    if (k == NULL || k->cap < need) {
        if ((k = malloc(sizeof *k + need)) == NULL)
            return eca_err_set(err, ECA_ENOMEM, "status: out of memory");
        k->cap = need;
        free(t->v[i]);
        t->v[i] = k;
    }
    k->present = c->present;
    k->revoked = c->revoked;
    k->failures = c->failures;
    k->not_before = c->not_before;
    k->not_after = c->not_after;
    k->next_action = c->next_action;
    k->renew_at = c->renew_at;
    k->last_success = c->last_success;
    k->pending_since = c->pending_since;
    k->pending_next = c->pending_next;
    k->next_reason = c->next_reason;
    eca_strpack_put(k->strs, f, len, KEPT_NSTR);
    return ECA_OK;
}

void
eca_status_table_get(const struct eca_status_table *t, size_t i, struct eca_status_cert *out)
{
    const struct kept *k = t->v[i];
    char *f[KEPT_NSTR];
    size_t len[KEPT_NSTR];

    memset(out, 0, sizeof *out);
    if (k == NULL)
        return;
    out->present = k->present;
    out->revoked = k->revoked;
    out->failures = k->failures;
    out->not_before = k->not_before;
    out->not_after = k->not_after;
    out->next_action = k->next_action;
    out->renew_at = k->renew_at;
    out->last_success = k->last_success;
    out->pending_since = k->pending_since;
    out->pending_next = k->pending_next;
    out->next_reason = k->next_reason;
    kept_fields(out, f, len);
    eca_strpack_get(k->strs, f, len, KEPT_NSTR);
}

enum eca_rc
eca_status_table_write(const struct eca_status_table *t, const char *state_dir, const char *agent,
                       const char *version, time_t now, struct eca_err *err)
{
    struct eca_status_cert *v = calloc(t->n + 1, sizeof *v);
    enum eca_rc rc;

    /* Whole only while written: the table keeps the compact entries between passes. */
    if (v == NULL)
        return eca_err_set(err, ECA_ENOMEM, "status: out of memory");
    for (size_t i = 0; i < t->n; i++)
        eca_status_table_get(t, i, &v[i]);
    rc = eca_status_write(state_dir, agent, version, v, t->n, now, err);
    free(v);
    return rc;
}
