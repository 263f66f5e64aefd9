/* SPDX-License-Identifier: MIT */
/* Prometheus metrics registry, its text exposition (format 0.0.4) and its endpoint. */
#include "eca_metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eca_clock.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_listen.h"

/* Large enough for thousands of certificates; the cap only guards against a runaway. */
#define RENDER_MAX ((size_t)64 << 20)
/* Requests answered per eca_metrics_handle_ready() call, so a burst cannot starve the loop. */
#define MAX_PER_CALL 8

struct cause_count {
    char *cause;
    uint64_t count;
};

struct cert_metrics {
    char *name;
    bool has_validity;
    time_t not_before, not_after;
    uint64_t renewals;
    bool has_success;
    time_t last_success;
    struct cause_count *failures;
    size_t nfailures;
    bool has_budget;
    int budget_remaining;
    bool has_health;
    bool healthy; /* the verdict `status` exits with, for this certificate */
};

struct eca_metrics {
    char *agent;
    char *version;
    struct cert_metrics *certs;
    size_t ncerts;
    char **causes;
    size_t ncauses;
    int timeout_ms;
    struct eca_listen *listen; /* the endpoint, NULL when not serving */
    /* An agent's worker threads record their certificates at once: every entry point that reads or
     * changes certs/causes holds it (render too, so a scrape never sees half an update). */
    pthread_mutex_t mu;
};

struct eca_metrics *
eca_metrics_new(const char *agent, const char *version)
{
    struct eca_metrics *m = calloc(1, sizeof *m);

    if (m == NULL)
        return NULL;
    m->agent = strdup(agent ? agent : "");
    m->version = strdup(version ? version : "");
    m->timeout_ms = ECA_METRICS_TIMEOUT_MS;
    pthread_mutex_init(&m->mu, NULL);
    if (m->agent == NULL || m->version == NULL) {
        eca_metrics_free(m);
        return NULL;
    }
    return m;
}

static void
cert_clear(struct cert_metrics *c)
{
    for (size_t i = 0; i < c->nfailures; i++)
        free(c->failures[i].cause);
    free(c->failures);
    free(c->name);
    memset(c, 0, sizeof *c);
}

void
eca_metrics_free(struct eca_metrics *m)
{
    if (m == NULL)
        return;
    eca_listen_close(m->listen);
    for (size_t i = 0; i < m->ncerts; i++)
        cert_clear(&m->certs[i]);
    for (size_t i = 0; i < m->ncauses; i++)
        free(m->causes[i]);
    free(m->causes);
    free(m->certs);
    free(m->agent);
    free(m->version);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static struct cert_metrics *
cert_find(const struct eca_metrics *m, const char *cert)
{
    for (size_t i = 0; i < m->ncerts; i++)
        if (strcmp(m->certs[i].name, cert) == 0)
            return &m->certs[i];
    return NULL;
}

/* The failure counter of cause in c, created at 0 when absent; NULL on ENOMEM. */
static struct cause_count *
failure_slot(struct cert_metrics *c, const char *cause)
{
    struct cause_count *grown;
    char *copy;

    for (size_t i = 0; i < c->nfailures; i++)
        if (strcmp(c->failures[i].cause, cause) == 0)
            return &c->failures[i];
    if ((copy = strdup(cause)) == NULL)
        return NULL;
    grown = realloc(c->failures, (c->nfailures + 1) * sizeof *grown);
    if (grown == NULL) {
        free(copy);
        return NULL;
    }
    c->failures = grown;
    grown[c->nfailures] = (struct cause_count){.cause = copy, .count = 0};
    return &grown[c->nfailures++];
}

static enum eca_rc
cert_get(struct eca_metrics *m, const char *cert, struct cert_metrics **out, struct eca_err *err)
{
    struct cert_metrics *c, *grown;

    if (m == NULL || cert == NULL)
        return eca_err_set(err, ECA_EINVAL, "metrics: no registry or certificate name");
    if ((*out = cert_find(m, cert)) != NULL)
        return ECA_OK;
    grown = realloc(m->certs, (m->ncerts + 1) * sizeof *grown);
    if (grown == NULL)
        goto nomem;
    m->certs = grown;
    c = &grown[m->ncerts];
    memset(c, 0, sizeof *c);
    if ((c->name = strdup(cert)) == NULL)
        goto nomem;
    m->ncerts++;
    for (size_t i = 0; i < m->ncauses; i++) {
        if (failure_slot(c, m->causes[i]) == NULL)
            goto nomem;
    }
    *out = c;
    return ECA_OK;
nomem:
    return eca_err_set(err, ECA_ENOMEM, "metrics: out of memory adding certificate '%s'", cert);
}

static enum eca_rc
cert_add_locked(struct eca_metrics *m, const char *cert, struct eca_err *err)
{
    struct cert_metrics *c;

    return cert_get(m, cert, &c, err);
}

static void
cert_remove_locked(struct eca_metrics *m, const char *cert)
{
    struct cert_metrics *c;
    size_t i;

    if (m == NULL || cert == NULL || (c = cert_find(m, cert)) == NULL)
        return;
    i = (size_t)(c - m->certs);
    cert_clear(c);
    memmove(&m->certs[i], &m->certs[i + 1], (m->ncerts - i - 1) * sizeof m->certs[0]);
    m->ncerts--;
}

static enum eca_rc
set_validity_locked(struct eca_metrics *m, const char *cert, time_t not_before, time_t not_after,
                    struct eca_err *err)
{
    struct cert_metrics *c;
    enum eca_rc rc = cert_get(m, cert, &c, err);

    if (rc != ECA_OK)
        return rc;
    c->has_validity = true;
    c->not_before = not_before;
    c->not_after = not_after;
    return ECA_OK;
}

static void
clear_validity_locked(struct eca_metrics *m, const char *cert)
{
    struct cert_metrics *c;

    if (m != NULL && cert != NULL && (c = cert_find(m, cert)) != NULL)
        c->has_validity = false;
}

static enum eca_rc
renewal_succeeded_locked(struct eca_metrics *m, const char *cert, time_t when, struct eca_err *err)
{
    struct cert_metrics *c;
    enum eca_rc rc = cert_get(m, cert, &c, err);

    if (rc != ECA_OK)
        return rc;
    c->renewals++;
    c->has_success = true;
    c->last_success = when;
    return ECA_OK;
}

static enum eca_rc
renewal_failed_locked(struct eca_metrics *m, const char *cert, const char *cause,
                      struct eca_err *err)
{
    struct cert_metrics *c;
    struct cause_count *slot;
    enum eca_rc rc = cert_get(m, cert, &c, err);

    if (rc != ECA_OK)
        return rc;
    if (cause == NULL || *cause == '\0')
        cause = "unknown";
    if ((slot = failure_slot(c, cause)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "metrics: out of memory counting '%s'", cause);
    slot->count++;
    return ECA_OK;
}

static enum eca_rc
set_budget_locked(struct eca_metrics *m, const char *cert, int remaining, struct eca_err *err)
{
    struct cert_metrics *c;
    enum eca_rc rc = cert_get(m, cert, &c, err);

    if (rc != ECA_OK)
        return rc;
    c->has_budget = remaining >= 0;
    c->budget_remaining = remaining;
    return ECA_OK;
}

static enum eca_rc
set_healthy_locked(struct eca_metrics *m, const char *cert, int healthy, struct eca_err *err)
{
    struct cert_metrics *c;
    enum eca_rc rc = cert_get(m, cert, &c, err);

    if (rc != ECA_OK)
        return rc;
    c->has_health = true;
    c->healthy = healthy != 0;
    return ECA_OK;
}

static enum eca_rc
declare_cause_locked(struct eca_metrics *m, const char *cause, struct eca_err *err)
{
    char **grown;

    if (m == NULL || cause == NULL || *cause == '\0')
        return eca_err_set(err, ECA_EINVAL, "metrics: empty failure cause");
    for (size_t i = 0; i < m->ncauses; i++)
        if (strcmp(m->causes[i], cause) == 0)
            return ECA_OK;
    if ((grown = realloc(m->causes, (m->ncauses + 1) * sizeof *grown)) == NULL)
        goto nomem;
    m->causes = grown;
    if ((grown[m->ncauses] = strdup(cause)) == NULL)
        goto nomem;
    m->ncauses++;
    for (size_t i = 0; i < m->ncerts; i++)
        if (failure_slot(&m->certs[i], cause) == NULL)
            goto nomem;
    return ECA_OK;
nomem:
    return eca_err_set(err, ECA_ENOMEM, "metrics: out of memory declaring cause '%s'", cause);
}

enum eca_rc
eca_metrics_declare_rc_causes(struct eca_metrics *m, struct eca_err *err)
{
    enum eca_rc rc = ECA_OK;

    for (int i = ECA_OK + 1; i < ECA_RC_MAX && rc == ECA_OK; i++)
        rc = eca_metrics_declare_cause(m, eca_rc_name((enum eca_rc)i), err);
    return rc;
}

/* Label value escaping of the exposition format: backslash, double quote and line feed. */
static enum eca_rc
put_escaped(struct eca_buf *out, const char *s, struct eca_err *err)
{
    enum eca_rc rc = ECA_OK;
    const char *run = s;

    for (; *s != '\0' && rc == ECA_OK; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;

        if (esc == NULL)
            continue;
        if ((rc = eca_buf_append(out, run, (size_t)(s - run), err)) == ECA_OK)
            rc = eca_buf_puts(out, esc, err);
        run = s + 1;
    }
    if (rc == ECA_OK)
        rc = eca_buf_append(out, run, (size_t)(s - run), err);
    return rc;
}

/* `name{agent="..",cert=".."` — the caller closes the brace after any further labels. */
static enum eca_rc
put_series(struct eca_buf *out, const struct eca_metrics *m, const char *name,
           const struct cert_metrics *c, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_buf_printf(out, err, "%s{agent=\"", name)) == ECA_OK &&
        (rc = put_escaped(out, m->agent, err)) == ECA_OK &&
        (rc = eca_buf_puts(out, "\",cert=\"", err)) == ECA_OK &&
        (rc = put_escaped(out, c->name, err)) == ECA_OK)
        rc = eca_buf_puts(out, "\"", err);
    return rc;
}

static enum eca_rc
put_family(struct eca_buf *out, const char *name, const char *type, const char *help,
           struct eca_err *err)
{
    return eca_buf_printf(out, err, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Share of [not_before, not_after] still ahead of now, clamped to [0, 1]. */
static double
lifetime_left(const struct cert_metrics *c, time_t now)
{
    double total = difftime(c->not_after, c->not_before);
    double left = difftime(c->not_after, now);

    if (total <= 0 || left <= 0)
        return 0.0;
    return left >= total ? 1.0 : left / total;
}

enum metric_kind {
    M_NOT_BEFORE,
    M_NOT_AFTER,
    M_RATIO,
    M_RENEWALS,
    M_LAST_SUCCESS,
    M_BUDGET,
    M_HEALTHY,
    M_KIND_MAX
};

static const struct {
    const char *name, *type, *help;
} families[M_KIND_MAX] = {
    [M_NOT_BEFORE] = {"eca_cert_not_before_seconds", "gauge",
                      "Start of validity (notBefore) of the installed certificate, Unix time."},
    [M_NOT_AFTER] = {"eca_cert_not_after_seconds", "gauge",
                     "Expiry (notAfter) of the installed certificate, Unix time."},
    [M_RATIO] = {"eca_cert_lifetime_left_ratio", "gauge",
                 "Share of the installed certificate's lifetime still left (0 to 1)."},
    [M_RENEWALS] = {"eca_renewals_total", "counter",
                    "Successful renewals since the agent started."},
    [M_LAST_SUCCESS] = {"eca_last_success_timestamp_seconds", "gauge",
                        "Time of the last successful renewal, Unix time."},
    [M_BUDGET] = {"eca_issuance_budget_remaining", "gauge",
                  "New certificates that may still be issued in the rolling 7-day window."},
    [M_HEALTHY] = {"eca_cert_healthy", "gauge",
                   "1 when the certificate is valid and not overdue, as `status` judges it."},
};

/* One sample of family k for c, or nothing when c has no such value. */
static enum eca_rc
put_sample(struct eca_buf *out, const struct eca_metrics *m, enum metric_kind k,
           const struct cert_metrics *c, time_t now, struct eca_err *err)
{
    enum eca_rc rc;

    if ((k == M_NOT_BEFORE || k == M_NOT_AFTER || k == M_RATIO) && !c->has_validity)
        return ECA_OK;
    if ((k == M_LAST_SUCCESS && !c->has_success) || (k == M_BUDGET && !c->has_budget) ||
        (k == M_HEALTHY && !c->has_health))
        return ECA_OK;
    if ((rc = put_series(out, m, families[k].name, c, err)) != ECA_OK)
        return rc;
    switch (k) {
    case M_NOT_BEFORE:
        return eca_buf_printf(out, err, "} %lld\n", (long long)c->not_before);
    case M_NOT_AFTER:
        return eca_buf_printf(out, err, "} %lld\n", (long long)c->not_after);
    case M_RATIO:
        return eca_buf_printf(out, err, "} %.6f\n", lifetime_left(c, now));
    case M_RENEWALS:
        return eca_buf_printf(out, err, "} %" PRIu64 "\n", c->renewals);
    case M_BUDGET:
        return eca_buf_printf(out, err, "} %d\n", c->budget_remaining);
    case M_HEALTHY:
        return eca_buf_printf(out, err, "} %d\n", c->healthy ? 1 : 0);
    default:
        return eca_buf_printf(out, err, "} %lld\n", (long long)c->last_success);
    }
}

static enum eca_rc
put_failures(struct eca_buf *out, const struct eca_metrics *m, struct eca_err *err)
{
    enum eca_rc rc = put_family(out, "eca_renewal_failures_total", "counter",
                                "Failed renewal attempts since the agent started, by cause.", err);

    for (size_t i = 0; i < m->ncerts && rc == ECA_OK; i++) {
        const struct cert_metrics *c = &m->certs[i];

        for (size_t j = 0; j < c->nfailures && rc == ECA_OK; j++) {
            if ((rc = put_series(out, m, "eca_renewal_failures_total", c, err)) == ECA_OK &&
                (rc = eca_buf_puts(out, ",cause=\"", err)) == ECA_OK &&
                (rc = put_escaped(out, c->failures[j].cause, err)) == ECA_OK)
                rc = eca_buf_printf(out, err, "\"} %" PRIu64 "\n", c->failures[j].count);
        }
    }
    return rc;
}

static enum eca_rc
render_locked(const struct eca_metrics *m, time_t now, struct eca_buf *out, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL || out == NULL)
        return eca_err_set(err, ECA_EINVAL, "metrics: nothing to render");
    rc = put_family(out, "eca_agent_info", "gauge", "Agent name and version; always 1.", err);
    if (rc == ECA_OK && (rc = eca_buf_puts(out, "eca_agent_info{agent=\"", err)) == ECA_OK &&
        (rc = put_escaped(out, m->agent, err)) == ECA_OK &&
        (rc = eca_buf_puts(out, "\",version=\"", err)) == ECA_OK &&
        (rc = put_escaped(out, m->version, err)) == ECA_OK)
        rc = eca_buf_puts(out, "\"} 1\n", err);
    for (int k = 0; k < M_KIND_MAX && rc == ECA_OK; k++) {
        rc = put_family(out, families[k].name, families[k].type, families[k].help, err);
        for (size_t i = 0; i < m->ncerts && rc == ECA_OK; i++)
            rc = put_sample(out, m, (enum metric_kind)k, &m->certs[i], now, err);
    }
    if (rc == ECA_OK)
        rc = put_failures(out, m, err);
    if (rc != ECA_OK)
        eca_err_prefix(err, "metrics: ");
    return rc;
}

/*
 * The entry points of the registry: each one under the lock. The lock is taken through a
 * const registry too (rendering), which is why it is cast: it guards, it is not the value.
 */
static void
lock(const struct eca_metrics *m)
{
    pthread_mutex_lock((pthread_mutex_t *)&m->mu);
}

static void
unlock(const struct eca_metrics *m)
{
    pthread_mutex_unlock((pthread_mutex_t *)&m->mu);
}

enum eca_rc
eca_metrics_cert_add(struct eca_metrics *m, const char *cert, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return cert_add_locked(m, cert, err);
    lock(m);
    rc = cert_add_locked(m, cert, err);
    unlock(m);
    return rc;
}

void
eca_metrics_cert_remove(struct eca_metrics *m, const char *cert)
{
    if (m == NULL)
        return;
    lock(m);
    cert_remove_locked(m, cert);
    unlock(m);
}

enum eca_rc
eca_metrics_set_validity(struct eca_metrics *m, const char *cert, time_t not_before,
                         time_t not_after, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return set_validity_locked(m, cert, not_before, not_after, err);
    lock(m);
    rc = set_validity_locked(m, cert, not_before, not_after, err);
    unlock(m);
    return rc;
}

void
eca_metrics_clear_validity(struct eca_metrics *m, const char *cert)
{
    if (m == NULL)
        return;
    lock(m);
    clear_validity_locked(m, cert);
    unlock(m);
}

enum eca_rc
eca_metrics_renewal_succeeded(struct eca_metrics *m, const char *cert, time_t when,
                              struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return renewal_succeeded_locked(m, cert, when, err);
    lock(m);
    rc = renewal_succeeded_locked(m, cert, when, err);
    unlock(m);
    return rc;
}

enum eca_rc
eca_metrics_renewal_failed(struct eca_metrics *m, const char *cert, const char *cause,
                           struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return renewal_failed_locked(m, cert, cause, err);
    lock(m);
    rc = renewal_failed_locked(m, cert, cause, err);
    unlock(m);
    return rc;
}

enum eca_rc
eca_metrics_set_budget(struct eca_metrics *m, const char *cert, int remaining, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return set_budget_locked(m, cert, remaining, err);
    lock(m);
    rc = set_budget_locked(m, cert, remaining, err);
    unlock(m);
    return rc;
}

enum eca_rc
eca_metrics_set_healthy(struct eca_metrics *m, const char *cert, int healthy, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return set_healthy_locked(m, cert, healthy, err);
    lock(m);
    rc = set_healthy_locked(m, cert, healthy, err);
    unlock(m);
    return rc;
}

enum eca_rc
eca_metrics_declare_cause(struct eca_metrics *m, const char *cause, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return declare_cause_locked(m, cause, err);
    lock(m);
    rc = declare_cause_locked(m, cause, err);
    unlock(m);
    return rc;
}

enum eca_rc
eca_metrics_render(const struct eca_metrics *m, time_t now, struct eca_buf *out,
                   struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL)
        return render_locked(m, now, out, err);
    lock(m);
    rc = render_locked(m, now, out, err);
    unlock(m);
    return rc;
}

enum eca_rc
eca_metrics_write_textfile(const struct eca_metrics *m, const char *path, time_t now,
                           struct eca_err *err)
{
    struct eca_buf b;
    enum eca_rc rc;

    eca_buf_init(&b, RENDER_MAX);
    if ((rc = eca_metrics_render(m, now, &b, err)) != ECA_OK)
        goto out;
    rc = eca_fs_write_atomic(path, b.data ? (const void *)b.data : "", b.len, ECA_FS_MODE_PUBLIC,
                             err);
    if (rc != ECA_OK)
        eca_err_prefix(err, "metrics textfile %s: ", path);
out:
    eca_buf_free(&b);
    return rc;
}

void
eca_metrics_set_timeout_ms(struct eca_metrics *m, int ms)
{
    if (m == NULL)
        return;
    m->timeout_ms = ms > 0 ? ms : ECA_METRICS_TIMEOUT_MS;
    if (m->listen != NULL)
        eca_listen_set_timeout_ms(m->listen, m->timeout_ms);
}

enum eca_rc
eca_metrics_serve(struct eca_metrics *m, const char *spec, unsigned flags, struct eca_err *err)
{
    enum eca_rc rc;

    if (m == NULL || spec == NULL)
        return eca_err_set(err, ECA_EINVAL, "metrics listen: no address given");
    if (m->listen != NULL)
        return eca_err_set(err, ECA_EINVAL, "metrics listen %s: already listening", spec);
    /* The endpoint has no authentication: exposing it beyond this host must be explicit. */
    rc = eca_listen_open(spec,
                         (flags & ECA_METRICS_ALLOW_NONLOOPBACK) ? 0 : ECA_LISTEN_LOOPBACK_ONLY,
                         m->timeout_ms, &m->listen, err);
    if (rc != ECA_OK)
        eca_err_prefix(err, "metrics ");
    return rc;
}

int
eca_metrics_fd(const struct eca_metrics *m)
{
    return m && m->listen ? eca_listen_fd(m->listen) : -1;
}

unsigned
eca_metrics_port(const struct eca_metrics *m)
{
    return m && m->listen ? eca_listen_port(m->listen) : 0;
}

void
eca_metrics_stop(struct eca_metrics *m)
{
    if (m == NULL)
        return;
    eca_listen_close(m->listen);
    m->listen = NULL;
}

/* GET or HEAD /metrics (a query string is ignored); anything else 404. */
static void
answer(const struct eca_metrics *m, struct eca_listen_req *req)
{
    struct eca_buf b;

    if (strcmp(req->path, "/metrics") != 0) {
        eca_listen_respond(m->listen, req, 404, NULL, NULL, 0);
        return;
    }
    eca_buf_init(&b, RENDER_MAX);
    if (eca_metrics_render(m, eca_clock_now(), &b, NULL) == ECA_OK)
        eca_listen_respond(m->listen, req, 200, "text/plain; version=0.0.4; charset=utf-8",
                           b.data ? (const char *)b.data : "", b.len);
    else
        eca_listen_respond(m->listen, req, 500, NULL, NULL, 0);
    eca_buf_free(&b);
}

enum eca_rc
eca_metrics_handle_ready(struct eca_metrics *m, struct eca_err *err)
{
    long long until = eca_clock_mono_ms() + (m ? m->timeout_ms : 0);

    if (m == NULL || m->listen == NULL)
        return ECA_OK;
    /* Answer what is pending, waiting for requests already begun (the daemon's wait sees only
     * new connections) but never longer than one connection's deadline in all. */
    for (int served = 0, wait_ms = 0; served < MAX_PER_CALL;) {
        struct eca_listen_req req;
        enum eca_rc rc = eca_listen_next(m->listen, wait_ms, &req, err);
        long long left;

        if (rc == ECA_OK) {
            answer(m, &req);
            served++;
        } else if (rc != ECA_ETIMEOUT) {
            return rc;
        }
        left = until - eca_clock_mono_ms();
        if (eca_listen_busy(m->listen) == 0 || left <= 0)
            wait_ms = 0;
        else
            wait_ms = (int)left;
        if (rc == ECA_ETIMEOUT && wait_ms == 0)
            break;
    }
    eca_err_clear(err);
    return ECA_OK;
}

enum eca_rc
eca_metrics_open(const char *agent, const char *version, const char *textfile, const char *listen,
                 int allow_nonloopback, struct eca_metrics **out, struct eca_err *err)
{
    struct eca_metrics *m;
    enum eca_rc rc;

    *out = NULL;
    if (textfile == NULL && listen == NULL)
        return ECA_OK;
    if ((m = eca_metrics_new(agent, version)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "metrics: out of memory");
    if ((rc = eca_metrics_declare_rc_causes(m, err)) != ECA_OK ||
        (listen &&
         (rc = eca_metrics_serve(m, listen, allow_nonloopback ? ECA_METRICS_ALLOW_NONLOOPBACK : 0,
                                 err)) != ECA_OK)) {
        eca_err_prefix(err, "metrics: ");
        eca_metrics_free(m);
        return rc;
    }
    if (listen)
        eca_log(ECA_LOG_INFO, "metrics_listening", NULL,
                ECA_LOG_FIELDS(ECA_LS("listen", listen), ECA_LI("port", eca_metrics_port(m))),
                NULL);
    *out = m;
    return ECA_OK;
}
