/* SPDX-License-Identifier: MIT */
/* Per-certificate retry state kept in STATE_DIR, so that a restart does not hammer the CA. */
#include "eca_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_renew.h"
#include "eca_status.h"

#define SCHED_MAX 4096

static void
sched_path(const char *state_dir, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.sched", state_dir, name);
}

static const char *const step_names[ECA_STEP_MAX] = {
    [ECA_STEP_NONE] = "-",        [ECA_STEP_OBTAIN] = "obtain", [ECA_STEP_INSTALL] = "install",
    [ECA_STEP_RELOAD] = "reload", [ECA_STEP_VERIFY] = "verify", [ECA_STEP_BUDGET] = "budget",
};

const char *
eca_step_name(enum eca_step s)
{
    return s > ECA_STEP_NONE && s < ECA_STEP_MAX ? step_names[s] : "-";
}

enum eca_step
eca_step_parse(const char *name)
{
    for (int i = ECA_STEP_NONE + 1; i < ECA_STEP_MAX; i++)
        if (strcmp(name, step_names[i]) == 0)
            return (enum eca_step)i;
    return ECA_STEP_NONE;
}

const char *
eca_retry_error(const struct eca_retry *s)
{
    return s->last_error ? s->last_error : "";
}

const char *
eca_retry_serial(const struct eca_retry *s)
{
    return s->serial ? s->serial : "";
}

/* A copy of text[0..n) in *dst (NULL when empty, or when memory is short: the text is lost, the
 * retry state is not). */
static void
set_text(char **dst, const char *text, size_t n)
{
    free(*dst);
    *dst = NULL;
    if (n > 0 && (*dst = malloc(n + 1)) != NULL) {
        memcpy(*dst, text, n);
        (*dst)[n] = '\0';
    }
}

void
eca_retry_set_serial(struct eca_retry *s, const char *serial)
{
    set_text(&s->serial, serial ? serial : "", serial ? strlen(serial) : 0);
}

void
eca_retry_clear(struct eca_retry *s)
{
    free(s->last_error);
    free(s->serial);
    memset(s, 0, sizeof *s);
}

/*
 * "eca-sched 1 <failures> <next_attempt> <last_success> <rc> [<step> <serial>]\n<message>\n":
 * step and serial came later; a file without them reads as "no step" (a full retry).
 */
static int
parse(const char *text, struct eca_retry *out)
{
    unsigned long f;
    long long next, ok;
    int used = 0, more = 0;
    char step[16], serial[130];
    const char *nl;
    size_t n;

    if (sscanf(text, "eca-sched 1 %lu %lld %lld %15s%n", &f, &next, &ok, out->last_rc, &used) != 4)
        return -1;
    if (text[used] == ' ' && sscanf(text + used, " %15s %129s%n", step, serial, &more) == 2) {
        used += more;
        out->step = eca_step_parse(step);
        if (strcmp(serial, "-") != 0)
            eca_retry_set_serial(out, serial);
    }
    out->failures = (unsigned)f;
    out->next_attempt = (time_t)next;
    out->last_success = (time_t)ok;
    if (strcmp(out->last_rc, "-") == 0)
        out->last_rc[0] = '\0';
    /* A file edited by hand on Windows has CRLF line ends: accept them. */
    text += used;
    if (*text == '\r')
        text++;
    if (*text == '\n')
        text++;
    nl = strchr(text, '\n');
    n = nl ? (size_t)(nl - text) : strlen(text);
    if (n > 0 && text[n - 1] == '\r')
        n--;
    if (n >= ECA_ERR_MSG_MAX)
        n = ECA_ERR_MSG_MAX - 1;
    set_text(&out->last_error, text, n);
    return 0;
}

enum eca_rc
eca_retry_load(const char *state_dir, const char *name, struct eca_retry *out, struct eca_err *err)
{
    char path[4096];
    struct eca_buf b;
    enum eca_rc rc;

    eca_retry_clear(out);
    sched_path(state_dir, name, path, sizeof path);
    eca_buf_init(&b, SCHED_MAX);
    rc = eca_fs_read(path, SCHED_MAX, &b, err);
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = ECA_OK;
    } else if (rc == ECA_OK && (eca_buf_append(&b, "", 1, NULL) != ECA_OK ||
                                parse((const char *)b.data, out) != 0)) {
        eca_retry_clear(out);
        rc = eca_err_set(err, ECA_EPARSE, "%s: not a schedule state file", path);
    }
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_retry_save(const char *state_dir, const char *name, const struct eca_retry *s,
               struct eca_err *err)
{
    char path[4096], text[SCHED_MAX], msg[ECA_ERR_MSG_MAX];
    int n;

    /* One line of message: a newline in it would end the record early. */
    snprintf(msg, sizeof msg, "%s", eca_retry_error(s));
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    n = snprintf(text, sizeof text, "eca-sched 1 %u %lld %lld %s %s %s\n%s\n", s->failures,
                 (long long)s->next_attempt, (long long)s->last_success,
                 s->last_rc[0] ? s->last_rc : "-", eca_step_name(s->step),
                 s->serial ? s->serial : "-", msg);
    sched_path(state_dir, name, path, sizeof path);
    return eca_fs_write_atomic(path, text, (size_t)n, ECA_FS_MODE_PRIVATE, err);
}

long
eca_retry_failed(struct eca_retry *s, const struct eca_err *e, time_t now, long base_s, long cap_s,
                 long lifetime_s, unsigned jitter_seed)
{
    long wait, least = base_s < ECA_RENEW_FLOOR_S ? base_s : ECA_RENEW_FLOOR_S;

    /* A twentieth of a short lifetime, but no sooner than the floor (unless base_s is), and
     * the backoff's jitter does not cut below it either. */
    if (lifetime_s > 0 && lifetime_s / 20 < base_s)
        base_s = lifetime_s / 20 > least ? lifetime_s / 20 : least;
    /* The cap (a quarter of what is left) wins over the base: eca_renew_backoff would not. */
    if (base_s > cap_s)
        base_s = cap_s;
    s->failures++;
    wait = eca_renew_backoff(s->failures, base_s, cap_s, jitter_seed);
    if (wait < least && least <= cap_s)
        wait = least;
    s->next_attempt = now + wait;
    snprintf(s->last_rc, sizeof s->last_rc, "%s", e ? eca_rc_name(e->rc) : "EIO");
    set_text(&s->last_error, e ? e->msg : "", e ? strlen(e->msg) : 0);
    return wait;
}

void
eca_retry_succeeded(struct eca_retry *s, int renewed, time_t now)
{
    s->failures = 0;
    s->next_attempt = 0;
    time_t last = renewed ? now : s->last_success;

    eca_retry_clear(s);
    s->last_success = last;
}

time_t
eca_retry_first_due(const struct eca_retry *s, time_t now, int once)
{
    return !once && s->failures > 0 && s->next_attempt > now ? s->next_attempt : now;
}

static void
save(const char *state_dir, const char *name, const struct eca_retry *s)
{
    struct eca_err err = {0};

    if (eca_retry_save(state_dir, name, s, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "sched_save_failed", name, NULL, 0, "%s", err.msg);
}

time_t
eca_retry_fail(const char *state_dir, const char *name, struct eca_retry *s,
               const struct eca_certstate *st, const struct eca_err *e, long base_s, long cap_s,
               long interval_s, unsigned jitter_seed, time_t now)
{
    long life = st->present ? (long)(st->not_after - st->not_before) : 0;
    long wait;
    char at[32];

    if (interval_s < cap_s)
        cap_s = interval_s;
    /* A retry must come well before the certificate in place expires. */
    cap_s = eca_renew_retry_cap(cap_s, st->present, st->not_before, st->not_after, now);
    wait = eca_retry_failed(s, e, now, base_s, cap_s > 0 ? cap_s : 1, life, jitter_seed);
    save(state_dir, name, s);
    eca_log(ECA_LOG_ERROR, "renew_failed", name,
            ECA_LOG_FIELDS(ECA_LS("rc", eca_rc_name(e->rc)), ECA_LS("step", eca_step_name(s->step)),
                           ECA_LI("failures", s->failures), ECA_LI("retry_in", wait),
                           ECA_LS("retry_at", eca_status_time(s->next_attempt, at, sizeof at))),
            "%s", e->msg);
    return s->next_attempt;
}

time_t
eca_retry_refuse(const char *state_dir, const char *name, struct eca_retry *s,
                 const struct eca_err *e, time_t until)
{
    s->failures++;
    s->next_attempt = until;
    s->step = ECA_STEP_BUDGET;
    eca_retry_set_serial(s, NULL);
    snprintf(s->last_rc, sizeof s->last_rc, "%s", eca_rc_name(e->rc));
    set_text(&s->last_error, e->msg, strlen(e->msg));
    save(state_dir, name, s);
    return until;
}

int
eca_retry_resumes(const struct eca_retry *s)
{
    return s->failures > 0 && (s->step == ECA_STEP_RELOAD || s->step == ECA_STEP_VERIFY) &&
           s->serial != NULL;
}

int
eca_retry_refetch(const struct eca_retry *s)
{
    return s->failures > 0 && !eca_retry_resumes(s);
}

void
eca_retry_ok(const char *state_dir, const char *name, struct eca_retry *s, int renewed, time_t now)
{
    if (s->failures == 0 && !renewed)
        return;
    eca_retry_succeeded(s, renewed, now);
    save(state_dir, name, s);
}
