/* SPDX-License-Identifier: MIT */
/* One managed EST certificate: check (incl. CRL), decide, enroll or re-enroll, install, reload. */
#include "est_agent.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eca.h"
#include "eca_certstate.h"
#include "eca_crl.h"
#include "eca_fs.h"
#include "eca_hook.h"
#include "eca_install.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_pkcs12.h"
#include "eca_x509.h"
#include "est_client.h"

#define USER_AGENT "eca-est/" ECA_VERSION
#define CRL_MAX    ((size_t)16 << 20)

/* Everything one pass over one certificate holds; released by pass_free(). */
struct pass {
    const struct est_conf *conf;
    const struct est_cert_conf *cc;
    const struct est_agent_env *env;
    time_t now;
    struct eca_certstate st;
    int revoked;
    struct eca_http *http;
    struct eca_chain *cacerts, *issued, *full;
    struct eca_key *key;
    struct eca_buf csr, ca_pem;
    struct timespec t0;
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
}

static void
state_path(const struct pass *p, const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s%s", p->conf->state_dir, p->cc->name, suffix);
}

static enum eca_rc
http_make(const struct pass *p, const char *cert, const char *key, int insecure,
          struct eca_http **out, struct eca_err *err)
{
    struct eca_http_opts o = {.user_agent = USER_AGENT,
                              .ca_bundle = p->conf->ca_bundle,
                              .insecure = insecure || p->conf->insecure,
                              .client_cert = cert,
                              .client_key = key};

    return (p->env->http_new ? p->env->http_new : eca_http_curl_new)(&o, out, err);
}

static struct est_client_opts
client_opts(const struct pass *p)
{
    struct est_client_opts o = {p->conf->base_url, p->conf->max_pending_s, 0, p->env->should_stop,
                                p->env->sleep_s};
    return o;
}

/* ---- CRL (RFC 5280 §5) ---- */

/* Download the CRL (kept under STATE_DIR); when that fails, fall back on the kept copy. */
static enum eca_rc
crl_load(const struct pass *p, const char *url, struct eca_crl **out, struct eca_err *err)
{
    struct eca_http *h = NULL;
    struct eca_buf b;
    char cache[1024];
    enum eca_rc rc;

    eca_buf_init(&b, CRL_MAX);
    state_path(p, ".crl", cache, sizeof cache);
    /* A CRL is signed: plain http is its usual transport (RFC 5280 §4.2.1.13). */
    if ((rc = http_make(p, NULL, NULL, 1, &h, err)) == ECA_OK &&
        (rc = est_client_fetch(h, url, &b, err)) == ECA_OK) {
        if (eca_fs_write_atomic(cache, b.data, b.len, ECA_FS_MODE_PUBLIC, NULL) != ECA_OK)
            eca_log(ECA_LOG_WARN, "crl_cache_failed", p->cc->name, NULL, 0,
                    "could not keep a copy of the CRL in %s", cache);
    } else {
        eca_log(ECA_LOG_WARN, "crl_fetch_failed", p->cc->name, ECA_LOG_FIELDS(ECA_LS("url", url)),
                "%s; trying the kept copy", err->msg);
        eca_buf_reset(&b);
        if ((rc = eca_fs_read(cache, CRL_MAX, &b, err)) != ECA_OK)
            eca_err_prefix(err, "CRL from %s unavailable and no kept copy: ", url);
    }
    if (rc == ECA_OK)
        rc = eca_crl_parse(b.data, b.len, out, err);
    eca_http_free(h);
    eca_buf_free(&b);
    return rc;
}

/* Candidates for the CRL issuer: the installed chain, then the kept /cacerts bundle. */
static enum eca_rc
crl_verify(const struct pass *p, const struct eca_crl *crl, const struct eca_chain *installed,
           struct eca_err *err)
{
    struct eca_chain *ca = NULL;
    char path[1024];
    enum eca_rc rc = eca_crl_verify_any(crl, installed, err);

    if (rc != ECA_ENOTFOUND)
        return rc;
    state_path(p, ".cacerts.pem", path, sizeof path);
    if (eca_x509_chain_load(path, &ca, NULL) == ECA_OK)
        rc = eca_crl_verify_any(crl, ca, err);
    eca_x509_chain_free(ca);
    return rc;
}

static enum eca_rc
crl_check(struct pass *p, struct eca_err *err)
{
    struct eca_chain *chain = NULL;
    struct eca_crl *crl = NULL;
    char url[1024];
    X509 *leaf;
    enum eca_rc rc;

    if ((rc = eca_x509_chain_load(p->cc->cert_path, &chain, err)) != ECA_OK)
        goto out;
    leaf = eca_x509_chain_get(chain, 0);
    if (p->conf->crl_url)
        snprintf(url, sizeof url, "%s", p->conf->crl_url);
    else if ((rc = eca_crl_dp_url(leaf, url, sizeof url, err)) != ECA_OK)
        goto out;
    if ((rc = crl_load(p, url, &crl, err)) != ECA_OK ||
        (rc = crl_verify(p, crl, chain, err)) != ECA_OK ||
        (rc = eca_crl_check_fresh(crl, p->now, p->conf->crl_max_age_s, err)) != ECA_OK)
        goto out;
    p->revoked = eca_crl_is_revoked(crl, leaf);
    eca_log(p->revoked ? ECA_LOG_WARN : ECA_LOG_INFO, "crl_checked", p->cc->name,
            ECA_LOG_FIELDS(ECA_LS("url", url), ECA_LS("serial", p->st.serial),
                           ECA_LB("revoked", p->revoked), ECA_LI("entries", eca_crl_count(crl))),
            p->revoked ? "the installed certificate is revoked: enrolling afresh" : NULL);
out:
    eca_crl_free(crl);
    eca_x509_chain_free(chain);
    return rc;
}

/* ---- check and decide ---- */

static unsigned
name_seed(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h ? h : 1;
}

static enum eca_rc
check(struct pass *p, struct eca_renew_out *dec, struct eca_err *err)
{
    struct eca_renew_in in = {0};
    struct eca_err cerr = {0};
    enum eca_rc rc;

    if ((rc = eca_certstate_read(p->cc->cert_path, p->cc->key_path, &p->st, err)) != ECA_OK)
        return rc;
    if (p->conf->crl_enabled && p->st.present && crl_check(p, &cerr) != ECA_OK) {
        /* Fail open by default: an unreachable CRL must not take a device off the network. */
        p->revoked = p->conf->crl_fail_closed;
        eca_log(ECA_LOG_WARN, "crl_unavailable", p->cc->name,
                ECA_LOG_FIELDS(ECA_LB("fail_closed", p->conf->crl_fail_closed)), "%s%s", cerr.msg,
                p->revoked ? "; treating the certificate as revoked" : "");
    }
    in.now = p->now;
    in.present = p->st.present;
    in.matches = p->st.matches;
    in.revoked = p->revoked;
    in.forced = p->conf->force || p->env->force;
    in.not_before = p->st.not_before;
    in.not_after = p->st.not_after;
    in.threshold_pct = p->cc->threshold_pct;
    in.check_interval_s = p->conf->check_interval_s;
    in.jitter_seed = name_seed(p->cc->name);
    eca_renew_decide(&in, dec);
    eca_log(ECA_LOG_INFO, "cert_checked", p->cc->name,
            ECA_LOG_FIELDS(ECA_LB("present", p->st.present), ECA_LS("serial", p->st.serial),
                           ECA_LI("not_after", (long long)p->st.not_after),
                           ECA_LS("decision", eca_renew_reason_name(dec->reason)),
                           ECA_LI("next_check", (long long)dec->next_check)),
            "%s", p->st.present ? "" : p->st.problem);
    return ECA_OK;
}

/* ---- act ---- */

static enum eca_rc
fetch_cacerts(struct pass *p, struct eca_err *err)
{
    struct est_client_opts o = client_opts(p);
    struct eca_buf old;
    char kept[1024];
    enum eca_rc rc;
    int changed;

    if ((rc = http_make(p, NULL, NULL, 0, &p->http, err)) != ECA_OK ||
        (rc = est_client_cacerts(&o, p->http, &p->cacerts, err)) != ECA_OK ||
        (rc = eca_x509_chain_to_pem(p->cacerts, 0, &p->ca_pem, err)) != ECA_OK)
        return rc;
    state_path(p, ".cacerts.pem", kept, sizeof kept);
    eca_buf_init(&old, 0);
    changed = eca_fs_read(kept, 1u << 20, &old, NULL) == ECA_OK &&
              (old.len != p->ca_pem.len || memcmp(old.data, p->ca_pem.data, old.len) != 0);
    eca_buf_free(&old);
    eca_log(changed ? ECA_LOG_WARN : ECA_LOG_INFO, changed ? "ca_rollover" : "cacerts_fetched",
            p->cc->name, ECA_LOG_FIELDS(ECA_LI("certs", eca_x509_chain_count(p->cacerts))),
            changed ? "the CA certificates changed since the last pass" : NULL);
    return eca_fs_write_atomic(kept, p->ca_pem.data, p->ca_pem.len, ECA_FS_MODE_PUBLIC, err);
}

/* RFC 7030 §4.5: informational; what we cannot honour is reported, not fatal. */
static void
ask_csrattrs(struct pass *p)
{
    struct est_client_opts o = client_opts(p);
    struct est_csrattrs a;
    struct eca_err err = {0};

    if (est_client_csrattrs(&o, p->http, &a, &err) != ECA_OK) {
        eca_log(ECA_LOG_DEBUG, "csrattrs_unavailable", p->cc->name, NULL, 0, "%s", err.msg);
        return;
    }
    if (a.noids + a.nattrs + a.nexts == 0)
        return;
    eca_log(ECA_LOG_INFO, "csrattrs", p->cc->name,
            ECA_LOG_FIELDS(ECA_LI("oids", a.noids), ECA_LI("attributes", a.nattrs),
                           ECA_LI("extensions", a.nexts), ECA_LS("ec_curve", a.ec_curve),
                           ECA_LB("wants_san", a.wants_san)),
            "server suggests CSR attributes; key type and names come from the configuration");
}

static enum eca_rc
make_csr(struct pass *p, struct eca_err *err)
{
    const struct est_cert_conf *cc = p->cc;
    enum eca_rc rc;

    /* A new key on every renewal (DESIGN: never reuse a key across certificates). */
    if ((rc = eca_key_generate(cc->key_type, &p->key, err)) != ECA_OK)
        return rc;
    eca_buf_init(&p->csr, 0);
    rc = eca_x509_csr_build(p->key, cc->subject_dn, (const char *const *)cc->sans, cc->nsans,
                            &p->csr, err);
    if (rc == ECA_OK)
        eca_log(ECA_LOG_INFO, "csr_built", cc->name,
                ECA_LOG_FIELDS(ECA_LS("key_type", eca_key_type_name(cc->key_type)),
                               ECA_LS("subject", cc->subject_dn ? cc->subject_dn : "")),
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

static enum eca_rc
enroll_as(struct pass *p, int reenroll, struct eca_err *err)
{
    const struct est_conf *c = p->conf;
    struct est_client_opts o = client_opts(p);
    struct est_client_auth a = {0};
    struct eca_http *h = NULL;
    const char *cert = reenroll ? p->cc->cert_path : c->bootstrap_cert;
    const char *key = reenroll ? p->cc->key_path : c->bootstrap_key;
    enum eca_rc rc;

    if ((rc = http_make(p, cert, key, 0, &h, err)) != ECA_OK)
        return rc;
    a.http = h;
    if (!reenroll && c->token) {
        a.username = c->username;
        a.password = c->token;
    }
    a.basic_preemptive = c->basic_preemptive;
    eca_log(ECA_LOG_INFO, "enroll_started", p->cc->name,
            ECA_LOG_FIELDS(ECA_LS("op", reenroll ? "simplereenroll" : "simpleenroll"),
                           ECA_LS("auth", reenroll            ? "certificate"
                                          : c->bootstrap_cert ? "bootstrap_certificate"
                                                              : "basic"),
                           ECA_LS("user", a.username ? a.username : "")),
            NULL);
    rc = est_client_enroll(&o, &a, reenroll, p->csr.data, p->csr.len, &p->issued, err);
    eca_http_free(h);
    return rc;
}

static enum eca_rc
enroll(struct pass *p, struct est_agent_result *res, struct eca_err *err)
{
    enum eca_rc rc;

    if (can_reenroll(p)) {
        rc = enroll_as(p, 1, err);
        if (rc != ECA_EAUTH) {
            res->reenrolled = rc == ECA_OK;
            return rc;
        }
        /* The CA no longer accepts our certificate (revoked, unknown): start over. */
        eca_log(ECA_LOG_WARN, "reenroll_refused", p->cc->name, NULL, 0,
                "%s; enrolling with the bootstrap credentials", err->msg);
    }
    return enroll_as(p, 0, err);
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
                          cc->pfx_friendly_name ? cc->pfx_friendly_name : cc->name, cc->pfx_profile,
                          out, err);
    eca_secret_free(pw);
    return rc;
}

struct outputs {
    struct eca_buf key, pfx, cert, chain;
};

static void
outputs_free(struct outputs *o)
{
    eca_buf_free(&o->key);
    eca_buf_free(&o->pfx);
    eca_buf_free(&o->cert);
    eca_buf_free(&o->chain);
}

static enum eca_rc
outputs_build(const struct pass *p, struct outputs *o, struct eca_err *err)
{
    enum eca_rc rc;

    eca_buf_init(&o->key, 0);
    eca_buf_init(&o->pfx, 0);
    eca_buf_init(&o->cert, 0);
    eca_buf_init(&o->chain, 0);
    if ((rc = eca_key_to_pem(p->key, &o->key, err)) != ECA_OK ||
        (rc = eca_x509_chain_to_pem(p->full, 0, &o->cert, err)) != ECA_OK ||
        (rc = eca_x509_chain_to_pem(p->full, 1, &o->chain, err)) != ECA_OK)
        return rc;
    return p->cc->pfx_path ? pfx_build(p, &o->pfx, err) : ECA_OK;
}

static void
add_file(struct eca_install_file *f, size_t *n, const char *path, const struct eca_buf *b,
         unsigned mode)
{
    if (path == NULL)
        return;
    f[*n] = (struct eca_install_file){path, b->data ? (const void *)b->data : "", b->len, mode};
    (*n)++;
}

static enum eca_rc
install(struct pass *p, struct eca_err *err)
{
    const struct est_cert_conf *cc = p->cc;
    struct eca_install_file files[5];
    struct outputs o;
    char journal[1024];
    size_t n = 0;
    enum eca_rc rc;

    if ((rc = outputs_build(p, &o, err)) != ECA_OK)
        goto out;
    /* Keys first: that is the rename order (eca_install.h). */
    add_file(files, &n, cc->key_path, &o.key, ECA_FS_MODE_PRIVATE);
    add_file(files, &n, cc->pfx_path, &o.pfx, ECA_FS_MODE_PRIVATE);
    add_file(files, &n, cc->cert_path, &o.cert, ECA_FS_MODE_PUBLIC);
    add_file(files, &n, cc->chain_path, &o.chain, ECA_FS_MODE_PUBLIC);
    add_file(files, &n, cc->ca_certs_path, &p->ca_pem, ECA_FS_MODE_PUBLIC);
    state_path(p, ".journal", journal, sizeof journal);
    rc = eca_install_files(journal, files, n, err);
out:
    outputs_free(&o);
    return rc;
}

static enum eca_rc
reload(const struct pass *p, struct eca_err *err)
{
    char **argv = NULL;
    enum eca_rc rc;

    if (p->cc->reload_command == NULL)
        return ECA_OK;
    if ((rc = eca_hook_split(p->cc->reload_command, &argv, err)) == ECA_OK &&
        (rc = eca_hook_run(argv, p->cc->reload_timeout_s, err)) == ECA_OK)
        eca_log(ECA_LOG_INFO, "reload_done", p->cc->name,
                ECA_LOG_FIELDS(ECA_LS("command", argv[0])), NULL);
    eca_hook_argv_free(argv);
    if (rc != ECA_OK)
        eca_err_prefix(err, "reload: ");
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
act(struct pass *p, struct est_agent_result *res, struct eca_err *err)
{
    X509 *leaf;
    char subject[512];
    enum eca_rc rc;

    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    if ((rc = fetch_cacerts(p, err)) != ECA_OK) {
        eca_err_prefix(err, "cacerts: ");
        return rc;
    }
    ask_csrattrs(p);
    if ((rc = make_csr(p, err)) != ECA_OK || (rc = enroll(p, res, err)) != ECA_OK)
        return rc;
    /* The answer may hold the leaf alone: the chain then comes from /cacerts. */
    if ((rc = est_enroll_full_chain(p->issued, p->cacerts, p->key, &p->full, err)) != ECA_OK)
        return rc;
    leaf = eca_x509_chain_get(p->full, 0);
    if (!eca_x509_matches_key(leaf, p->key))
        return eca_err_set(err, ECA_EPROTO, "issued certificate does not match our key");
    eca_x509_serial_hex(leaf, res->serial, sizeof res->serial);
    eca_x509_subject(leaf, subject, sizeof subject);
    if ((rc = install(p, err)) != ECA_OK)
        return rc;
    res->renewed = 1;
    eca_log(ECA_LOG_INFO, "cert_installed", p->cc->name,
            ECA_LOG_FIELDS(ECA_LS("serial", res->serial), ECA_LS("subject", subject),
                           ECA_LI("not_after", (long long)eca_x509_not_after(leaf)),
                           ECA_LS("op", res->reenrolled ? "simplereenroll" : "simpleenroll"),
                           ECA_LI("chain", eca_x509_chain_count(p->full)),
                           ECA_LI("took_ms", ms_since(&p->t0))),
            NULL);
    return reload(p, err);
}

static enum eca_rc
prepare_state(const struct pass *p, struct eca_err *err)
{
    char journal[1024];
    int rolled = 0;
    enum eca_rc rc;

    if ((rc = eca_fs_mkdir_p(p->conf->state_dir, 0700, err)) != ECA_OK)
        return rc;
    state_path(p, ".journal", journal, sizeof journal);
    if ((rc = eca_install_recover(journal, &rolled, err)) != ECA_OK)
        return rc;
    if (rolled)
        eca_log(ECA_LOG_WARN, "install_recovered", p->cc->name, NULL, 0,
                "finished an interrupted install");
    return ECA_OK;
}

enum eca_rc
est_agent_run(const struct est_conf *conf, const struct est_cert_conf *cc,
              const struct est_agent_env *env, time_t now, struct est_agent_result *res,
              struct eca_err *err)
{
    static const struct est_agent_env none;
    struct pass p;
    struct eca_renew_out dec;
    enum eca_rc rc;

    memset(&p, 0, sizeof p);
    memset(res, 0, sizeof *res);
    p.conf = conf;
    p.cc = cc;
    p.env = env ? env : &none;
    p.now = now;
    eca_buf_init(&p.csr, 0);
    eca_buf_init(&p.ca_pem, 0);
    if ((rc = prepare_state(&p, err)) != ECA_OK || (rc = check(&p, &dec, err)) != ECA_OK)
        goto out;
    res->reason = dec.reason;
    res->next_check = dec.next_check;
    if (dec.reason == ECA_RENEW_NONE)
        goto out;
    eca_log(ECA_LOG_INFO, "renew_started", cc->name,
            ECA_LOG_FIELDS(ECA_LS("reason", eca_renew_reason_name(dec.reason))), NULL);
    rc = act(&p, res, err);
out:
    pass_free(&p);
    return rc;
}

void
est_agent_status(const struct est_conf *conf, const struct est_cert_conf *cc, time_t now, FILE *out)
{
    struct eca_certstate st;
    struct eca_renew_in in = {0};
    struct eca_renew_out dec;
    double left = 0;

    if (eca_certstate_read(cc->cert_path, cc->key_path, &st, NULL) != ECA_OK)
        memset(&st, 0, sizeof st);
    in.now = now;
    in.present = st.present;
    in.matches = st.matches;
    in.forced = conf->force;
    in.not_before = st.not_before;
    in.not_after = st.not_after;
    in.threshold_pct = cc->threshold_pct;
    in.check_interval_s = conf->check_interval_s;
    in.jitter_seed = name_seed(cc->name);
    eca_renew_decide(&in, &dec);
    if (st.present && st.not_after > st.not_before)
        left = 100.0 * (double)(st.not_after - now) / (double)(st.not_after - st.not_before);
    fprintf(out, "%s: subject=\"%s\" serial=%s not_after=%lld lifetime_left=%.0f%% next=%s",
            cc->name, st.present ? st.subject : "", st.present ? st.serial : "-",
            (long long)st.not_after, left < 0 ? 0.0 : left,
            dec.reason == ECA_RENEW_NONE ? "check" : "renew");
    fprintf(out, " at=%lld reason=%s%s%s\n", (long long)(dec.reason ? now : dec.next_check),
            eca_renew_reason_name(dec.reason),
            st.present ? "" : " problem=", st.present ? "" : st.problem);
}
