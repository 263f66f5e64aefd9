/* SPDX-License-Identifier: MIT */
/* One managed EST certificate: check (incl. CRL), decide, enroll or re-enroll, install, reload. */
#include "est_agent.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eca.h"
#include "eca_deploy.h"
#include "eca_certcache.h"
#include "eca_clock.h"
#include "eca_certstate.h"
#include "eca_crl.h"
#include "eca_crlcheck.h"
#include "eca_fs.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_pkcs12.h"
#include "eca_revoked.h"
#include "eca_status.h"
#include "eca_x509.h"
#include "est_client.h"
#include "est_pending.h"

#define USER_AGENT "eca-est/" ECA_VERSION

/* Everything one pass over one certificate holds; released by pass_free(). */
struct pass {
    const struct est_conf *conf;
    const struct est_cert_conf *cc;
    const struct est_agent_env *env;
    struct eca_certcache *cache; /* the installed files' facts between passes (NULL: none) */
    time_t now;
    struct eca_certstate st;
    int revoked;
    struct eca_http *http;          /* one session per enrollment: /cacerts, /csrattrs, the POST */
    int http_tls12;                 /* the session is capped at TLS 1.2 (for tls-unique) */
    struct eca_http_conn_info conn; /* the connection /csrattrs came on */
    struct eca_chain *cacerts, *issued, *full;
    struct eca_key *key;
    struct eca_buf csr, ca_pem, pop_attr;
    struct est_csrattrs attrs; /* what /csrattrs asked for (empty when unavailable) */
    int have_attrs;
    int reenroll; /* this session authenticates with the installed certificate */
    struct timespec t0;
    int force;
    int reenrolled;
    char serial[130];
    struct est_pending pend; /* a request the server accepted but has not issued yet */
    int have_pend;           /* pend is kept in STATE_DIR (p->key and p->csr are its own) */
    enum eca_step step;      /* where the pass is; on failure, the step that failed */
    int got_cert;            /* the CA issued a certificate (the issuance budget counts it) */
};

static void
pass_free(struct pass *p)
{
    eca_http_free(p->http);
    eca_x509_chain_free(p->cacerts);
    eca_x509_chain_free(p->issued);
    eca_x509_chain_free(p->full);
    eca_key_free(p->key);
    eca_buf_free(&p->csr);
    eca_buf_free(&p->ca_pem);
    eca_buf_free(&p->pop_attr);
}

static void
state_path(const struct pass *p, const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s%s", p->conf->g.state_dir, p->cc->base.name, suffix);
}

static enum eca_rc
http_make(const struct pass *p, const char *cert, const char *key, int insecure, int tls12,
          struct eca_http **out, struct eca_err *err)
{
    struct eca_http_opts o = {.user_agent = USER_AGENT,
                              .ca_bundle = p->conf->g.ca_bundle,
                              .insecure = insecure || p->conf->g.insecure,
                              .client_cert = cert,
                              .client_key = key,
                              .tls12_max = tls12};

    return (p->env->http_new ? p->env->http_new : eca_http_curl_new)(&o, out, err);
}

static void on_pending(void *ctx, long retry_after, long wait_s);

static struct est_client_opts
client_opts(struct pass *p)
{
    struct est_client_opts o = {
        p->conf->base_url, p->conf->max_pending_s, 0, p->env->should_stop, on_pending, p};
    return o;
}

/* ---- CRL (RFC 5280 §5) ---- */

/*
 * The installed certificate against its CRL (issuers: the installed chain, then /cacerts):
 * p->revoked, as eca_crlcheck_verdict() judges (and logs) it. Listed, it is remembered
 * (eca_revoked.h), so that `status` and a restart know it until the new one is installed.
 */
static void
crl_check(struct pass *p)
{
    struct eca_chain *chain = NULL, *ca = NULL;
    struct eca_http *h = NULL;
    struct eca_crlcheck_out co = {0};
    struct eca_err err = {0};
    char url[1024] = "", cache[1024], cacerts[1024];
    X509 *leaf;
    enum eca_rc rc;

    if ((rc = eca_x509_chain_load(p->cc->base.cert_path, &chain, &err)) != ECA_OK)
        goto out;
    leaf = eca_x509_chain_get(chain, 0);
    if (p->conf->crl_url)
        snprintf(url, sizeof url, "%s", p->conf->crl_url);
    else if ((rc = eca_crl_dp_url(leaf, url, sizeof url, &err)) != ECA_OK)
        goto out;
    state_path(p, ".crl", cache, sizeof cache);
    state_path(p, ".cacerts.pem", cacerts, sizeof cacerts);
    if (eca_x509_chain_load(cacerts, &ca, NULL) != ECA_OK)
        ca = NULL;
    {
        const struct eca_chain *const issuers[] = {chain, ca};
        struct eca_crlcheck_in in = {p->cc->base.name,       url,    cache,           issuers, 2,
                                     p->conf->crl_max_age_s, p->now, p->env->crl_memo};

        /* A CRL is signed: plain http is its usual transport (RFC 5280 §4.2.1.13). */
        if ((rc = http_make(p, NULL, NULL, 1, 0, &h, &err)) == ECA_OK)
            rc = eca_crlcheck_run(&in, h, leaf, &co, &err);
    }
out:
    p->revoked = eca_crlcheck_verdict(p->cc->base.name, url, p->st.serial, rc, &co, &err,
                                      p->conf->crl_fail_closed, "enrolling afresh");
    if (rc == ECA_OK && co.status == ECA_CRLCHECK_REVOKED)
        eca_revoked_mark(p->conf->g.state_dir, p->cc->base.name, p->st.serial);
    eca_http_free(h);
    eca_x509_chain_free(ca);
    eca_x509_chain_free(chain);
}

/* ---- check and decide ---- */

static enum eca_rc
check(struct pass *p, struct eca_renew_out *dec, struct eca_err *err)
{
    char na[32], nc[32];
    enum eca_rc rc;

    if ((rc = eca_certcache_read(p->cache, p->cc->base.cert_path, p->cc->base.key_path, NULL, 0,
                                 &p->st, err)) != ECA_OK)
        return rc;
    /* Known to be revoked (an earlier CRL): no CRL is asked again until it is replaced. */
    if (p->st.present && eca_revoked_marked(p->conf->g.state_dir, p->cc->base.name, p->st.serial))
        p->revoked = 1;
    else if (p->conf->crl_enabled && p->st.present)
        crl_check(p);
    eca_deploy_decide(&p->cc->base, &p->st, p->revoked, p->force, p->conf->g.check_interval_s,
                      p->now, dec);
    eca_log(ECA_LOG_INFO, "cert_checked", p->cc->base.name,
            ECA_LOG_FIELDS(ECA_LB("present", p->st.present), ECA_LS("serial", p->st.serial),
                           ECA_LS("not_after", eca_status_time(p->st.present ? p->st.not_after : 0,
                                                               na, sizeof na)),
                           ECA_LS("decision", eca_renew_reason_name(dec->reason)),
                           ECA_LS("next_check", eca_status_time(dec->next_check, nc, sizeof nc))),
            "%s", p->st.present ? "" : p->st.problem);
    return ECA_OK;
}

/* ---- a request pending approval (RFC 7030 §4.2.3), kept across passes and restarts ---- */

static void
pending_drop(const struct pass *p, enum eca_log_level lvl, const char *why)
{
    char since[32];

    est_pending_remove(p->conf->g.state_dir, p->cc->base.name);
    eca_log(lvl, "pending_dropped", p->cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("since", eca_status_time(p->pend.since, since, sizeof since))),
            "%s; the next enrollment starts afresh with a new key", why);
}

/* The ECA_EAGAIN of a pass that ends with the request still pending: since when, next try. */
static enum eca_rc
pending_err(const struct pass *p, struct eca_err *err)
{
    char since[32], next[32], asked[64] = "";
    enum eca_rc rc;

    if (p->pend.retry_after >= 0)
        snprintf(asked, sizeof asked, " (server asked to retry in %ld s)", p->pend.retry_after);
    rc = eca_err_set(err, ECA_EAGAIN, "certificate pending approval since %s; next try at %s%s",
                     eca_status_time(p->pend.since, since, sizeof since),
                     eca_status_time(p->pend.next, next, sizeof next), asked);
    if (err != NULL)
        err->retry_after = p->pend.retry_after;
    return rc;
}

static void
log_pending(const struct pass *p, long wait_s, const char *what)
{
    char since[32], next[32], msg[256];

    eca_status_time(p->pend.next, next, sizeof next);
    if (wait_s > 0)
        snprintf(msg, sizeof msg, "%s; polling again in %ld s", what, wait_s);
    else
        snprintf(msg, sizeof msg, "%s; next try at %s (a scheduled wake-up, not a failure)", what,
                 next);
    eca_log(ECA_LOG_INFO, "enroll_pending", p->cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("op", p->pend.reenroll ? "simplereenroll" : "simpleenroll"),
                           ECA_LI("retry_after", p->pend.retry_after),
                           ECA_LS("since", eca_status_time(p->pend.since, since, sizeof since)),
                           ECA_LS("next_try", next), ECA_LB("scheduled", wait_s == 0)),
            "%s", msg);
}

/* A 202 (est_client tells us before it waits): keep key, CSR and when to try again. */
static void
on_pending(void *ctx, long retry_after, long wait_s)
{
    struct pass *p = ctx;
    struct eca_err e = {0};
    time_t now = eca_clock_now();
    int first = !p->have_pend;

    if (first) {
        p->pend.reenroll = p->reenroll;
        p->pend.since = now;
    }
    p->pend.retry_after = retry_after;
    p->pend.next = wait_s > 0
                       ? now + wait_s
                       : est_pending_next(p->pend.since, now, retry_after,
                                          EST_PENDING_DEFAULT_RETRY, p->conf->max_pending_age_s);
    if (est_pending_save(p->conf->g.state_dir, p->cc->base.name, &p->pend, first ? p->key : NULL,
                         first ? &p->csr : NULL, &e) == ECA_OK)
        p->have_pend = 1;
    else
        eca_log(ECA_LOG_WARN, "pending_save_failed", p->cc->base.name, NULL, 0,
                "%s; after a restart the request would be made afresh", e.msg);
    log_pending(p, wait_s, "server accepted the request, pending approval (HTTP 202)");
}

/*
 * A request kept by an earlier pass. Given up when older than max_pending_hours or when the
 * installed certificate needs no renewal any more; ECA_EAGAIN (dec->next_check: the next try)
 * while the server's time has not come (force: now); else p->have_pend with its key and CSR.
 */
static enum eca_rc
pending_take(struct pass *p, struct eca_renew_out *dec, struct eca_err *err)
{
    const char *sd = p->conf->g.state_dir, *name = p->cc->base.name;
    struct eca_err e = {0};
    char why[ECA_ERR_MSG_MAX + 32];
    enum eca_rc rc = est_pending_load(sd, name, &p->pend, NULL, NULL, &e);

    if (rc == ECA_ENOTFOUND)
        return ECA_OK;
    if (rc != ECA_OK) {
        snprintf(why, sizeof why, "%s", e.msg);
        pending_drop(p, ECA_LOG_WARN, why);
        return ECA_OK;
    }
    if (p->now - p->pend.since >= p->conf->max_pending_age_s) {
        snprintf(why, sizeof why, "still pending after max_pending_hours (%ld h)",
                 p->conf->max_pending_age_s / 3600);
        pending_drop(p, ECA_LOG_WARN, why);
        return ECA_OK;
    }
    if (dec->reason == ECA_RENEW_NONE && !p->force) {
        pending_drop(p, ECA_LOG_INFO, "the installed certificate needs no renewal any more");
        return ECA_OK;
    }
    if (p->pend.next > p->now && !p->force) {
        dec->next_check = p->pend.next;
        log_pending(p, 0, "request pending approval, not due yet");
        return pending_err(p, err);
    }
    if ((rc = est_pending_load(sd, name, &p->pend, &p->key, &p->csr, &e)) != ECA_OK) {
        pending_drop(p, ECA_LOG_WARN, e.msg);
        return ECA_OK;
    }
    p->have_pend = 1;
    log_pending(p, 0, "sending the pending request again");
    return ECA_OK;
}

/* After the answer to a kept request: a definitive one ends it; a 202 already updated it. */
static void
pending_after(struct pass *p, enum eca_rc rc, const struct eca_err *err)
{
    if (!p->have_pend || rc == ECA_EAGAIN)
        return;
    if (rc == ECA_OK)
        est_pending_remove(p->conf->g.state_dir, p->cc->base.name);
    else if (rc == ECA_EAUTH || rc == ECA_EPROTO || (rc == ECA_ESERVER && err->retry_after <= 0))
        pending_drop(p, ECA_LOG_WARN, "the server refused the pending request");
    else
        return; /* unreachable, busy or stopped: the same request is sent again later */
    p->have_pend = 0;
}

/* ---- act ---- */

static enum eca_rc
fetch_cacerts(struct pass *p, struct eca_err *err)
{
    struct est_client_opts o = client_opts(p);
    struct eca_buf old;
    char kept[1024];
    enum eca_rc rc;
    int have, changed;

    if ((rc = est_client_cacerts(&o, p->http, &p->cacerts, err)) != ECA_OK ||
        (rc = eca_x509_chain_to_pem(p->cacerts, 0, &p->ca_pem, err)) != ECA_OK)
        return rc;
    state_path(p, ".cacerts.pem", kept, sizeof kept);
    eca_buf_init(&old, 0);
    have = eca_fs_read(kept, 1u << 20, &old, NULL) == ECA_OK;
    changed = have && (old.len != p->ca_pem.len || memcmp(old.data, p->ca_pem.data, old.len) != 0);
    eca_buf_free(&old);
    eca_log(changed ? ECA_LOG_WARN : ECA_LOG_INFO, changed ? "ca_rollover" : "cacerts_fetched",
            p->cc->base.name, ECA_LOG_FIELDS(ECA_LI("certs", eca_x509_chain_count(p->cacerts))),
            changed ? "the CA certificates changed since the last pass" : NULL);
    /* The kept copy is rewritten (write + fsync + rename + dir fsync) only when it differs. */
    if (have && !changed)
        return ECA_OK;
    return eca_fs_write_atomic(kept, p->ca_pem.data, p->ca_pem.len, ECA_FS_MODE_PUBLIC, err);
}

/* RFC 7030 §4.5: the server's wishes; unavailable or unusable is not fatal. */
static void
ask_csrattrs(struct pass *p)
{
    struct est_client_opts o = client_opts(p);
    struct eca_err err = {0};

    if (est_client_csrattrs(&o, p->http, &p->attrs, &p->conn, &err) != ECA_OK) {
        eca_log(ECA_LOG_INFO, "csrattrs_unavailable", p->cc->base.name, NULL, 0,
                "%s; building the CSR from the configuration alone", err.msg);
        return;
    }
    p->have_attrs = p->attrs.noids + p->attrs.nattrs + p->attrs.nexts > 0;
}

/* Log what the server asked for, what the CSR honours and what it does not (and why). */
static void
log_plan(const struct pass *p, const struct est_csrattrs_plan *plan)
{
    const struct est_csrattrs *a = &p->attrs;

    if (!p->have_attrs)
        return;
    eca_log(plan->ignored[0] ? ECA_LOG_WARN : ECA_LOG_INFO, "csrattrs", p->cc->base.name,
            ECA_LOG_FIELDS(ECA_LI("oids", a->noids), ECA_LI("attributes", a->nattrs),
                           ECA_LI("extensions", a->nexts), ECA_LS("ec_curve", a->ec_curve),
                           ECA_LB("challenge_password", a->challenge_password),
                           ECA_LS("applied", plan->applied), ECA_LS("ignored", plan->ignored)),
            "server suggests CSR attributes%s", plan->ignored[0] ? "; some are not honoured" : "");
}

static enum eca_rc
make_csr(struct pass *p, struct eca_err *err)
{
    const struct est_cert_conf *cc = p->cc;
    struct est_csrattrs_plan plan;
    int pop = p->pop_attr.len > 0;
    const char *md;
    enum eca_rc rc;

    est_csrattrs_plan(p->have_attrs ? &p->attrs : NULL, cc->base.key_type,
                      cc->base.key_type_explicit, cc->nsans, pop, &plan);
    /* A new key on every renewal (DESIGN: never reuse a key across certificates); a CSR made
     * again for another connection (proof-of-possession) keeps this renewal's key. */
    if (p->key == NULL && (rc = eca_key_generate(plan.key_type, &p->key, err)) != ECA_OK)
        return rc;
    if (pop && plan.extra.nattrs < EST_CSRATTRS_MAX) {
        plan.attrs[plan.extra.nattrs].der = p->pop_attr.data;
        plan.attrs[plan.extra.nattrs++].len = p->pop_attr.len;
    }
    eca_buf_reset(&p->csr);
    rc = eca_x509_csr_build_ex(p->key, cc->subject_dn, (const char *const *)cc->sans, cc->nsans,
                               &plan.extra, &p->csr, err);
    /* The digest actually used: the server's choice, else the key's own (SHA-512 for P-521). */
    md = plan.extra.md ? plan.extra.md : EVP_MD_get0_name(eca_key_md(p->key));
    if (rc == ECA_OK)
        eca_log(ECA_LOG_INFO, "csr_built", cc->base.name,
                ECA_LOG_FIELDS(ECA_LS("key_type", eca_key_type_name(plan.key_type)),
                               ECA_LS("subject", cc->subject_dn ? cc->subject_dn : ""),
                               ECA_LS("digest", md), ECA_LB("pop", pop)),
                NULL);
    return rc;
}

static int
can_reenroll(const struct pass *p)
{
    /* RFC 7030 §4.2.2: re-enrollment is authenticated by the certificate being renewed. */
    return p->st.present && p->st.matches && !p->revoked && p->now >= p->st.not_before &&
           p->now < p->st.not_after;
}

/*
 * One TLS session for the whole enrollment (/cacerts, /csrattrs, the POST): the client
 * certificate is presented from the first handshake (the installed one when re-enrolling).
 */
static enum eca_rc
session_open(struct pass *p, int reenroll, int tls12, struct eca_err *err)
{
    const struct est_conf *c = p->conf;
    const char *cert = reenroll ? p->cc->base.cert_path : c->bootstrap_cert;
    const char *key = reenroll ? p->cc->base.key_path : c->bootstrap_key;

    eca_http_free(p->http);
    p->http = NULL;
    memset(&p->conn, 0, sizeof p->conn);
    p->reenroll = reenroll;
    p->http_tls12 = tls12;
    return http_make(p, cert, key, 0, tls12, &p->http, err);
}

/*
 * RFC 7030 §3.5: bind the CSR to this connection with its tls-unique. TLS 1.3 has none
 * (RFC 8446 §C.5): a session that negotiated it is replaced by one capped at TLS 1.2, and
 * /csrattrs is asked again on it to learn the new connection's value.
 */
static enum eca_rc
pop_bind(struct pass *p, struct eca_err *err)
{
    struct est_client_opts o = client_opts(p);
    struct est_csrattrs again;
    struct eca_err cerr = {0};
    enum eca_rc rc;

    eca_buf_reset(&p->pop_attr);
    if (p->conn.tls_unique_len == 0 && !p->http_tls12) {
        eca_log(ECA_LOG_INFO, "pop_tls12", p->cc->base.name,
                ECA_LOG_FIELDS(ECA_LS("tls", p->conn.tls_version)),
                "proof-of-possession needs tls-unique, which %s lacks: reconnecting with TLS 1.2",
                p->conn.tls_version[0] ? p->conn.tls_version : "this connection");
        if ((rc = session_open(p, p->reenroll, 1, err)) != ECA_OK)
            return rc;
    }
    if (p->conn.tls_unique_len == 0 &&
        est_client_csrattrs(&o, p->http, &again, &p->conn, &cerr) != ECA_OK &&
        p->conn.tls_version[0] == '\0') {
        rc = eca_err_set(err, cerr.rc, "%s", cerr.msg);
        eca_err_prefix(err, "proof-of-possession: ");
        return rc;
    }
    return est_enroll_pop_attr(&p->conn, &p->pop_attr, err);
}

/* Build the CSR (bound to the session when PoP is on) and POST it on the session. */
static enum eca_rc
enroll_as(struct pass *p, struct eca_err *err)
{
    const struct est_conf *c = p->conf;
    struct est_client_opts o = client_opts(p);
    struct est_client_auth a = {0};
    int pop = c->pop || p->attrs.challenge_password;
    struct est_csrattrs_plan plan;
    enum eca_rc rc;

    if (p->key == NULL && !p->have_pend) {
        /* Logged once, before anything can fail: what the server asked for and our answer. */
        est_csrattrs_plan(p->have_attrs ? &p->attrs : NULL, p->cc->base.key_type,
                          p->cc->base.key_type_explicit, p->cc->nsans, pop, &plan);
        log_plan(p, &plan);
    }
    /* A kept request is sent as it was (RFC 7030 §4.2.3: the same request). */
    if (!p->have_pend &&
        ((pop && (rc = pop_bind(p, err)) != ECA_OK) || (rc = make_csr(p, err)) != ECA_OK))
        return rc;
    a.http = p->http;
    if (!p->reenroll && c->token) {
        a.username = c->username;
        a.password = c->token;
    }
    a.anonymous = !p->reenroll && c->token == NULL && c->bootstrap_cert == NULL;
    a.token_gone = c->token_gone;
    a.basic_preemptive = c->basic_preemptive;
    a.pop = pop ? &p->conn : NULL;
    eca_log(ECA_LOG_INFO, "enroll_started", p->cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("op", p->reenroll ? "simplereenroll" : "simpleenroll"),
                           ECA_LS("auth", p->reenroll         ? "certificate"
                                          : c->bootstrap_cert ? "bootstrap_certificate"
                                          : a.username        ? "basic"
                                                              : "none"),
                           ECA_LS("user", a.username ? a.username : ""), ECA_LB("pop", pop),
                           ECA_LS("tls", p->conn.tls_version)),
            NULL);
    return est_client_enroll(&o, &a, p->reenroll, p->csr.data, p->csr.len, &p->issued, err);
}

static enum eca_rc
enroll(struct pass *p, struct eca_err *err)
{
    enum eca_rc rc;

    if (p->reenroll) {
        rc = enroll_as(p, err);
        if (rc != ECA_EAUTH) {
            p->reenrolled = rc == ECA_OK;
            return rc;
        }
        /* The CA no longer accepts our certificate (revoked, unknown): start over. */
        eca_log(ECA_LOG_WARN, "reenroll_refused", p->cc->base.name, NULL, 0,
                "%s; enrolling with the bootstrap credentials", err->msg);
        if ((rc = session_open(p, 0, p->http_tls12, err)) != ECA_OK)
            return rc;
    }
    return enroll_as(p, err);
}

static enum eca_rc
pfx_build(const struct pass *p, struct eca_buf *out, struct eca_err *err)
{
    const struct est_cert_conf *cc = p->cc;
    struct eca_secret *pw = NULL;
    enum eca_rc rc;

    if ((rc = eca_secret_from_file(cc->pfx_password_file, &pw, err)) != ECA_OK) {
        eca_err_prefix(err, "pfx_password_file: ");
        return rc;
    }
    rc = eca_pkcs12_build(p->key, p->full, pw,
                          cc->pfx_friendly_name ? cc->pfx_friendly_name : cc->base.name,
                          cc->pfx_profile, out, err);
    eca_secret_free(pw);
    return rc;
}

/* Key and PKCS#12 first, then certificate, chain and CA bundle (eca_agent orders them). */
static enum eca_rc
deploy(struct pass *p, struct eca_err *err)
{
    const struct est_cert_conf *cc = p->cc;
    struct eca_deploy_set set;
    struct eca_buf pfx;
    enum eca_rc rc;

    eca_buf_init(&pfx, 0);
    p->step = ECA_STEP_INSTALL;
    if ((rc = eca_deploy_set_build(&set, &cc->base, p->key, p->full, 0, err)) != ECA_OK ||
        (cc->pfx_path && (rc = pfx_build(p, &pfx, err)) != ECA_OK))
        goto out;
    eca_deploy_set_add(&set, cc->pfx_path, &pfx, ECA_FS_MODE_PRIVATE);
    eca_deploy_set_add(&set, cc->ca_certs_path, &p->ca_pem, ECA_FS_MODE_PUBLIC);
    rc = eca_deploy_run(p->conf->g.state_dir, &cc->base, &set, p->serial, &p->step, err);
out:
    eca_deploy_set_free(&set);
    eca_buf_free(&pfx);
    return rc;
}

/*
 * Check the answer before it replaces anything: our key, a leaf usable now (clock skew
 * allowed for), the subject asked for (when one is configured), and a chain that verifies to
 * the CA's own certificates from /cacerts (RFC 7030 §4.1.3: the explicit trust anchors).
 */
static enum eca_rc
check_issued(const struct pass *p, struct eca_err *err)
{
    X509 *leaf = eca_x509_chain_get(p->full, 0);
    time_t now = eca_clock_now(), nb = eca_x509_not_before(leaf);
    char subj[512];
    enum eca_rc rc = ECA_OK;

    if (!eca_x509_matches_key(leaf, p->key)) {
        rc = eca_err_set(err, ECA_EPROTO, "it does not match our key");
    } else if ((rc = eca_x509_check_validity(leaf, now, ECA_X509_SKEW_S, err)) != ECA_OK) {
        /* said */
    } else if (p->cc->subject_dn != NULL &&
               !eca_x509_subject_matches_csr(leaf, p->csr.data, p->csr.len)) {
        eca_x509_subject(leaf, subj, sizeof subj);
        rc = eca_err_set(err, ECA_EPROTO, "its subject '%s' is not the one asked for ('%s')", subj,
                         p->cc->subject_dn);
    } else if (eca_x509_chain_count(p->cacerts) > 0) {
        /* At the leaf's notBefore when that is a little ahead of our clock (within the skew). */
        rc = eca_x509_verify_with(p->full, p->cacerts, nb > now ? nb : now, err);
    }
    if (rc != ECA_OK)
        eca_err_prefix(err, "issued certificate refused, nothing installed: ");
    return rc;
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static enum eca_rc
act(struct pass *p, struct eca_err *err)
{
    X509 *leaf;
    char subject[512], na[32];
    /* A kept request goes where it went first, while the certificate still authenticates. */
    int reenroll = can_reenroll(p) && (!p->have_pend || p->pend.reenroll);
    enum eca_rc rc;

    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->step = ECA_STEP_OBTAIN;
    /* Errors from /cacerts already name it ("cacerts: ..." or "GET .../cacerts: ..."). */
    if ((rc = session_open(p, reenroll, p->conf->pop, err)) != ECA_OK ||
        (rc = fetch_cacerts(p, err)) != ECA_OK)
        return rc;
    if (!p->have_pend)
        ask_csrattrs(p);
    rc = enroll(p, err);
    if (rc == ECA_EAGAIN)
        return pending_err(p, err);
    pending_after(p, rc, err);
    if (rc != ECA_OK)
        return rc;
    p->got_cert = 1; /* counted by the issuance budget even if it is refused below */
    /* The answer may hold the leaf alone: the chain then comes from /cacerts. */
    if ((rc = est_enroll_full_chain(p->issued, p->cacerts, p->key, &p->full, err)) != ECA_OK)
        return rc;
    if ((rc = check_issued(p, err)) != ECA_OK)
        return rc;
    leaf = eca_x509_chain_get(p->full, 0);
    eca_x509_serial_hex(leaf, p->serial, sizeof p->serial);
    eca_x509_subject(leaf, subject, sizeof subject);
    eca_log(ECA_LOG_INFO, "cert_issued", p->cc->base.name,
            ECA_LOG_FIELDS(
                ECA_LS("serial", p->serial), ECA_LS("subject", subject),
                ECA_LS("not_after", eca_status_time(eca_x509_not_after(leaf), na, sizeof na)),
                ECA_LS("op", p->reenrolled ? "simplereenroll" : "simpleenroll"),
                ECA_LI("chain", eca_x509_chain_count(p->full)),
                ECA_LI("took_ms", ms_since(&p->t0))),
            NULL);
    return deploy(p, err);
}

enum eca_rc
est_agent_run(const struct est_conf *conf, const struct est_cert_conf *cc,
              const struct est_agent_env *env, struct eca_certcache *cache, int force,
              struct eca_pass_result *res, struct eca_err *err)
{
    static const struct est_agent_env none;
    struct pass p;
    enum eca_rc rc;

    memset(&p, 0, sizeof p);
    memset(res, 0, sizeof *res);
    p.conf = conf;
    p.cc = cc;
    p.env = env ? env : &none;
    p.cache = cache;
    p.now = eca_clock_now();
    p.force = (unsigned)force & ECA_PASS_FORCE;
    eca_buf_init(&p.csr, 0);
    eca_buf_init(&p.ca_pem, 0);
    eca_buf_init(&p.pop_attr, 0);
    /* Interrupted installs are rolled forward by the daemon at start, like eca-acme's. */
    if ((rc = eca_fs_mkdir_p(conf->g.state_dir, 0700, err)) != ECA_OK ||
        (rc = check(&p, &res->dec, err)) != ECA_OK)
        goto out;
    res->st = p.st;
    /* ECA_PASS_LOOK: check and decide only (a reload retried, a budget spent). */
    if ((unsigned)force & ECA_PASS_LOOK)
        goto out;
    if ((rc = pending_take(&p, &res->dec, err)) != ECA_OK ||
        (res->dec.reason == ECA_RENEW_NONE && !p.have_pend))
        goto out;
    eca_log(ECA_LOG_INFO, "renew_started", cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("reason", eca_renew_reason_name(res->dec.reason))), NULL);
    rc = act(&p, err);
    res->issued = p.got_cert;
    snprintf(res->serial, sizeof res->serial, "%s", p.got_cert ? p.serial : "");
    if (rc == ECA_EAGAIN)
        res->dec.next_check = p.pend.next;
    if (rc != ECA_OK) {
        res->step = p.step;
        goto out;
    }
    res->renewed = 1;
    if (p.revoked) /* the revoked certificate is gone: forget it */
        eca_revoked_forget(conf->g.state_dir, cc->base.name);
    eca_certcache_forget(cache); /* our own install: whatever the identities say */
    if (eca_certcache_read(cache, cc->base.cert_path, cc->base.key_path, NULL, 0, &res->st, NULL) !=
        ECA_OK)
        memset(&res->st, 0, sizeof res->st);
    eca_deploy_decide(&cc->base, &res->st, 0, 0, conf->g.check_interval_s, eca_clock_now(),
                      &res->dec);
out:
    pass_free(&p);
    return rc;
}

void
est_agent_status(const struct est_conf *conf, const struct est_cert_conf *cc, time_t now,
                 struct eca_status_cert *out)
{
    eca_deploy_status(&cc->base, conf->g.state_dir, conf->g.check_interval_s, now, out);
    eca_revoked_status(conf->g.state_dir, cc->base.name, now, out);
    est_agent_pending_status(conf, cc, out);
}

void
est_agent_pending_status(const struct est_conf *conf, const struct est_cert_conf *cc,
                         struct eca_status_cert *out)
{
    struct est_pending pend;

    if (est_pending_load(conf->g.state_dir, cc->base.name, &pend, NULL, NULL, NULL) != ECA_OK)
        return;
    out->pending_since = pend.since;
    out->pending_next = pend.next;
    out->next_action = pend.next;
    out->next_reason = "pending";
}
