/* SPDX-License-Identifier: MIT */
/* The issuance budget: certificates issued per managed certificate in a rolling window. */
#include "eca_budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_status.h"

#define FILE_MAX  4096
#define FUTURE_OK (24L * 3600) /* a clock stepped back a little must not free the budget */

/* "eca-issued 1\n" then one Unix time per line. */
int
eca_budget_parse(const char *text, time_t now, struct eca_budget *out)
{
    const char *p;

    eca_budget_clear(out);
    if (strncmp(text, "eca-issued 1\n", 13) != 0)
        return -1;
    for (p = text + 13; *p;) {
        char *end = NULL;
        long long t = strtoll(p, &end, 10);

        if (end == p || (*end != '\n' && *end != '\0'))
            return -1;
        if (t > (long long)now - ECA_BUDGET_WINDOW_S && t <= (long long)now + FUTURE_OK)
            eca_budget_add(out, (time_t)t);
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* Issued inside the window that ends at now. */
static int
in_window(const struct eca_budget *b, time_t now)
{
    int n = 0;

    for (unsigned i = 0; i < b->n; i++)
        n += b->at[i] > now - ECA_BUDGET_WINDOW_S;
    return n;
}

int
eca_budget_remaining(const struct eca_budget *b, int limit, time_t now)
{
    int used = in_window(b, now);

    if (limit <= 0)
        return ECA_BUDGET_MAX;
    return used >= limit ? 0 : limit - used;
}

time_t
eca_budget_frees_at(const struct eca_budget *b, int limit, time_t now)
{
    time_t t[ECA_BUDGET_MAX];
    unsigned n = 0;
    int used;

    if (eca_budget_remaining(b, limit, now) > 0)
        return now;
    for (unsigned i = 0; i < b->n; i++)
        if (b->at[i] > now - ECA_BUDGET_WINDOW_S)
            t[n++] = b->at[i];
    /* Oldest first: once the (used - limit + 1) oldest have left, one more may be issued. */
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && t[j - 1] > t[j]; j--) {
            time_t x = t[j];

            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    used = (int)n;
    return t[used - limit] + ECA_BUDGET_WINDOW_S;
}

void
eca_budget_clear(struct eca_budget *b)
{
    free(b->at);
    memset(b, 0, sizeof *b);
}

void
eca_budget_add(struct eca_budget *b, time_t now)
{
    if (b->n == b->cap && b->cap < ECA_BUDGET_MAX) {
        unsigned cap = b->cap ? b->cap * 2 : 4;
        uint32_t *at;

        cap = cap < ECA_BUDGET_MAX ? cap : ECA_BUDGET_MAX;
        if ((at = realloc(b->at, cap * sizeof *at)) != NULL) {
            b->at = at;
            b->cap = cap;
        }
    }
    if (b->cap == 0) /* nothing could be kept: counted as none, as a lost file would be */
        return;
    if (b->n == b->cap) {
        memmove(&b->at[0], &b->at[1], (b->cap - 1) * sizeof b->at[0]);
        b->n--;
    }
    b->at[b->n++] = now > 0 && (uint64_t)now <= UINT32_MAX ? (uint32_t)now : 0;
}

static void
budget_path(const char *state_dir, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.issued", state_dir, name);
}

enum eca_rc
eca_budget_load(const char *state_dir, const char *name, time_t now, struct eca_budget *out,
                struct eca_err *err)
{
    char path[4096];
    struct eca_buf b;
    enum eca_rc rc;

    eca_budget_clear(out);
    budget_path(state_dir, name, path, sizeof path);
    eca_buf_init(&b, FILE_MAX);
    rc = eca_fs_read(path, FILE_MAX, &b, err);
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = ECA_OK;
    } else if (rc == ECA_OK && (eca_buf_append(&b, "", 1, NULL) != ECA_OK ||
                                eca_budget_parse((const char *)b.data, now, out) != 0)) {
        eca_budget_clear(out);
        rc = eca_err_set(err, ECA_EPARSE, "%s: not an issuance record", path);
    }
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_budget_record(const char *state_dir, const char *name, struct eca_budget *b, time_t now,
                  struct eca_err *err)
{
    char path[4096], text[FILE_MAX];
    size_t n;

    eca_budget_add(b, now);
    n = (size_t)snprintf(text, sizeof text, "eca-issued 1\n");
    for (unsigned i = 0; i < b->n; i++)
        if (b->at[i] > now - ECA_BUDGET_WINDOW_S)
            n += (size_t)snprintf(text + n, sizeof text - n, "%lld\n", (long long)b->at[i]);
    budget_path(state_dir, name, path, sizeof path);
    return eca_fs_write_atomic(path, text, n, ECA_FS_MODE_PRIVATE, err);
}

time_t
eca_budget_refused(const struct eca_budget *b, int limit, const char *name, time_t now,
                   struct eca_err *err)
{
    time_t at = eca_budget_frees_at(b, limit, now);
    char when[32];

    eca_status_time(at, when, sizeof when);
    eca_err_set(err, ECA_EAGAIN,
                "issuance budget exhausted: %d new certificates in the last 7 days "
                "(budget %d); the next may be issued at %s, or now with "
                "--override-budget (ISSUANCE_BUDGET_OVERRIDE=true)",
                in_window(b, now), limit, when);
    eca_log(ECA_LOG_ERROR, "issuance_budget_exhausted", name,
            ECA_LOG_FIELDS(ECA_LI("budget", limit), ECA_LI("issued", in_window(b, now)),
                           ECA_LS("frees_at", when)),
            "%s", err ? err->msg : "");
    return at;
}

void
eca_budget_issued(const char *state_dir, const char *name, struct eca_budget *b, int limit,
                  int over, time_t now)
{
    struct eca_err err = {0};

    if (eca_budget_record(state_dir, name, b, now, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "issuance_record_failed", name, NULL, 0,
                "%s; this certificate is not counted against the issuance budget", err.msg);
    if (over)
        eca_log(ECA_LOG_WARN, "issuance_budget_override", name,
                ECA_LOG_FIELDS(ECA_LI("budget", limit), ECA_LI("issued", in_window(b, now))),
                "the issuance budget was spent; the operator's override let this one through");
}
