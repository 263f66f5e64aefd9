/* SPDX-License-Identifier: MIT */
/* Per-certificate retry state kept in STATE_DIR, so that a restart does not hammer the CA. */
#include "eca_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_renew.h"

#define SCHED_MAX 4096

static void
sched_path(const char *state_dir, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.sched", state_dir, name);
}

/* "eca-sched 1 <failures> <next_attempt> <last_success> <rc>\n<message>\n" */
static int
parse(const char *text, struct eca_sched *out)
{
    unsigned long f;
    long long next, ok;
    int used = 0;
    const char *nl;

    if (sscanf(text, "eca-sched 1 %lu %lld %lld %15s%n", &f, &next, &ok, out->last_rc, &used) != 4)
        return -1;
    out->failures = (unsigned)f;
    out->next_attempt = (time_t)next;
    out->last_success = (time_t)ok;
    if (strcmp(out->last_rc, "-") == 0)
        out->last_rc[0] = '\0';
    text += used;
    if (*text == '\n')
        text++;
    nl = strchr(text, '\n');
    snprintf(out->last_error, sizeof out->last_error, "%.*s",
             (int)(nl ? (size_t)(nl - text) : strlen(text)), text);
    return 0;
}

enum eca_rc
eca_sched_load(const char *state_dir, const char *name, struct eca_sched *out, struct eca_err *err)
{
    char path[4096];
    struct eca_buf b;
    enum eca_rc rc;

    memset(out, 0, sizeof(*out));
    sched_path(state_dir, name, path, sizeof path);
    eca_buf_init(&b, SCHED_MAX);
    rc = eca_fs_read(path, SCHED_MAX, &b, err);
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = ECA_OK;
    } else if (rc == ECA_OK && (eca_buf_append(&b, "", 1, NULL) != ECA_OK ||
                                parse((const char *)b.data, out) != 0)) {
        memset(out, 0, sizeof(*out));
        rc = eca_err_set(err, ECA_EPARSE, "%s: not a schedule state file", path);
    }
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_sched_save(const char *state_dir, const char *name, const struct eca_sched *s,
               struct eca_err *err)
{
    char path[4096], text[SCHED_MAX], msg[ECA_ERR_MSG_MAX];
    int n;

    /* One line of message: a newline in it would end the record early. */
    snprintf(msg, sizeof msg, "%s", s->last_error);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    n = snprintf(text, sizeof text, "eca-sched 1 %u %lld %lld %s\n%s\n", s->failures,
                 (long long)s->next_attempt, (long long)s->last_success,
                 s->last_rc[0] ? s->last_rc : "-", msg);
    sched_path(state_dir, name, path, sizeof path);
    return eca_fs_write_atomic(path, text, (size_t)n, ECA_FS_MODE_PRIVATE, err);
}

long
eca_sched_failed(struct eca_sched *s, const struct eca_err *e, time_t now, long base_s, long cap_s,
                 long lifetime_s, unsigned jitter_seed)
{
    long wait;

    if (lifetime_s > 0 && lifetime_s / 20 < base_s)
        base_s = lifetime_s / 20 > 0 ? lifetime_s / 20 : 1;
    s->failures++;
    wait = eca_renew_backoff(s->failures, base_s, cap_s, jitter_seed);
    s->next_attempt = now + wait;
    snprintf(s->last_rc, sizeof s->last_rc, "%s", e ? eca_rc_name(e->rc) : "EIO");
    snprintf(s->last_error, sizeof s->last_error, "%s", e ? e->msg : "");
    return wait;
}

void
eca_sched_succeeded(struct eca_sched *s, int renewed, time_t now)
{
    s->failures = 0;
    s->next_attempt = 0;
    s->last_rc[0] = '\0';
    s->last_error[0] = '\0';
    if (renewed)
        s->last_success = now;
}
