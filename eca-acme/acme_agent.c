/* SPDX-License-Identifier: MIT */
/* One pass over one managed certificate: check, decide, act (order, install), reload. */
#include "acme_agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme_client.h"
#include "acme_http01.h"
#include "eca.h"
#include "eca_agent.h"
#include "eca_b64.h"
#include "eca_buf.h"
#include "eca_clock.h"
#include "eca_fs.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_secret.h"
#include "eca_status.h"
#include "eca_x509.h"

#define CHAIN_MAX ((size_t)256 << 10)

struct acme_agent {
    const struct acme_conf *conf;
    int (*should_stop)(void);
    struct eca_http *http;
    struct eca_key *account_key;
    struct eca_secret *eab_hmac;
    char *account_url;
    struct acme_client *client;
    struct acme_responder *responder;
};

static void
state_path(const struct acme_agent *a, const char *name, const char *suffix, char *out,
           size_t outlen)
{
    snprintf(out, outlen, "%s/%s%s", a->conf->g.state_dir, name, suffix);
}

enum eca_rc
acme_agent_new(const struct acme_conf *conf, struct acme_agent **out, struct eca_err *err)
{
    struct acme_agent *a = NULL;
    enum eca_rc rc;

    if ((a = calloc(1, sizeof(*a))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "agent: out of memory");
    a->conf = conf;
    if ((rc = eca_fs_mkdir_p(conf->g.state_dir, 0700, err)) != ECA_OK) {
        eca_err_prefix(err, "state_dir: ");
        goto out;
    }
    for (size_t i = 0; i < conf->ncerts; i++)
        if ((rc = eca_agent_recover(conf->g.state_dir, &conf->certs[i].base, err)) != ECA_OK)
            goto out;
    *out = a;
    a = NULL;
out:
    acme_agent_free(a);
    return rc;
}

void
acme_agent_set_stop(struct acme_agent *a, int (*should_stop)(void))
{
    a->should_stop = should_stop;
}

/* The account key under STATE_DIR, created (0600 from the first byte) on first use. */
static enum eca_rc
load_account_key(struct acme_agent *a, struct eca_err *err)
{
    char path[4096];
    enum eca_rc rc;

    state_path(a, "account", ".key", path, sizeof path);
    rc = eca_key_load(path, &a->account_key, err);
    if (rc == ECA_OK)
        return eca_fs_check_private(path, err);
    if (rc != ECA_ENOTFOUND)
        return rc;
    if ((rc = eca_key_generate(ECA_KEY_EC_P256, &a->account_key, err)) != ECA_OK ||
        (rc = eca_key_save(a->account_key, path, err)) != ECA_OK)
        return rc;
    eca_log(ECA_LOG_INFO, "account_key_created", NULL, ECA_LOG_FIELDS(ECA_LS("path", path)), NULL);
    return ECA_OK;
}

static enum eca_rc
load_account_url(struct acme_agent *a, struct eca_err *err)
{
    char path[4096];
    struct eca_buf b;
    enum eca_rc rc;
    size_t n;

    state_path(a, "account", ".url", path, sizeof path);
    eca_buf_init(&b, 8192);
    rc = eca_fs_read(path, 8192, &b, err);
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = ECA_OK;
    } else if (rc == ECA_OK && b.len > 0) {
        n = b.len;
        while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' || b.data[n - 1] == ' '))
            n--;
        b.data[n] = '\0';
        if (n > 0 && (a->account_url = strdup((char *)b.data)) == NULL)
            rc = eca_err_set(err, ECA_ENOMEM, "agent: out of memory");
    }
    eca_buf_free(&b);
    return rc;
}

/* The EAB key file holds base64url text; the client wants the raw HMAC key bytes. */
static enum eca_rc
load_eab(struct acme_agent *a, struct eca_err *err)
{
    struct eca_secret *text = NULL;
    struct eca_buf raw;
    enum eca_rc rc;

    if (a->conf->eab_hmac_key_file == NULL)
        return ECA_OK;
    eca_buf_init(&raw, 4096);
    if ((rc = eca_secret_from_file(a->conf->eab_hmac_key_file, &text, err)) != ECA_OK)
        goto out;
    if ((rc = eca_b64url_decode(eca_secret_str(text), eca_secret_len(text), &raw, err)) != ECA_OK) {
        rc = eca_err_set(err, ECA_ECONF, "eab_hmac_key_file %s: not base64url",
                         a->conf->eab_hmac_key_file);
        goto out;
    }
    rc = eca_secret_from_mem(raw.data, raw.len, &a->eab_hmac, err);
out:
    eca_buf_free(&raw);
    eca_secret_free(text);
    return rc;
}

static enum eca_rc
save_account_url(struct acme_agent *a, struct eca_err *err)
{
    const char *url = acme_client_account_url(a->client);
    char path[4096];
    enum eca_rc rc;

    if (url == NULL || (a->account_url && strcmp(a->account_url, url) == 0))
        return ECA_OK;
    state_path(a, "account", ".url", path, sizeof path);
    if ((rc = eca_fs_write_atomic(path, url, strlen(url), ECA_FS_MODE_PRIVATE, err)) != ECA_OK)
        return rc;
    free(a->account_url);
    a->account_url = strdup(url);
    eca_log(ECA_LOG_INFO, "account_ready", NULL, ECA_LOG_FIELDS(ECA_LS("account_url", url)), NULL);
    return ECA_OK;
}

static enum eca_rc
ensure_transport(struct acme_agent *a, struct eca_err *err)
{
    struct eca_http_opts ho;

    if (a->http)
        return ECA_OK;
    memset(&ho, 0, sizeof ho);
    /* RFC 8555 §6.1: every request carries a User-Agent. */
    ho.user_agent = "eca-acme/" ECA_VERSION;
    ho.ca_bundle = a->conf->g.ca_bundle;
    ho.insecure = a->conf->g.insecure;
    ho.max_body = CHAIN_MAX;
    return eca_http_curl_new(&ho, &a->http, err);
}

/* Transport, account key, directory, account: everything a renewal or revocation needs. */
static enum eca_rc
ensure_client(struct acme_agent *a, struct eca_err *err)
{
    struct acme_client_opts o;
    enum eca_rc rc;

    if (a->client)
        return ECA_OK;
    if ((rc = ensure_transport(a, err)) != ECA_OK || (rc = load_account_key(a, err)) != ECA_OK ||
        (rc = load_account_url(a, err)) != ECA_OK || (rc = load_eab(a, err)) != ECA_OK)
        return rc;
    memset(&o, 0, sizeof o);
    o.directory_url = a->conf->directory_url;
    o.http = a->http;
    o.account_key = a->account_key;
    o.account_url = a->account_url;
    o.contact = (const char *const *)a->conf->contact;
    o.ncontact = a->conf->ncontact;
    o.tos_agreed = a->conf->tos_agreed;
    o.eab_kid = a->conf->eab_kid;
    o.eab_hmac = a->eab_hmac;
    o.preferred_chain = a->conf->preferred_chain;
    o.should_stop = a->should_stop;
    if ((rc = acme_client_new(&o, &a->client, err)) != ECA_OK)
        return rc;
    if ((rc = acme_client_account(a->client, err)) != ECA_OK ||
        (rc = save_account_url(a, err)) != ECA_OK) {
        acme_client_free(a->client);
        a->client = NULL;
    }
    return rc;
}

static enum eca_rc
ensure_responder(struct acme_agent *a, struct eca_err *err)
{
    if (a->responder)
        return ECA_OK;
    if (a->conf->webroot)
        return acme_http01_webroot_new(a->conf->webroot, &a->responder, err);
    return acme_http01_listener_new(a->conf->http01_listen, &a->responder, err);
}

/* 1 if the installed DNS names (comma-separated) are exactly the configured set. */
static int
dns_matches(const char *installed, const struct acme_cert_conf *cc)
{
    size_t count = 0;
    char *copy = strdup(installed), *save = NULL, *tok;
    int ok = copy != NULL;

    for (tok = ok ? strtok_r(copy, ", ", &save) : NULL; tok; tok = strtok_r(NULL, ", ", &save)) {
        int found = 0;

        for (size_t i = 0; i < cc->ndomains && !found; i++)
            found = strcasecmp(tok, cc->domains[i]) == 0;
        ok = ok && found;
        count++;
    }
    free(copy);
    return ok && count == cc->ndomains;
}

/* Check the server's answer before it replaces anything: our key, exactly our names. */
static enum eca_rc
check_issued(const struct acme_cert_conf *cc, const struct eca_key *key, struct eca_chain *chain,
             struct eca_err *err)
{
    X509 *leaf;
    enum eca_rc rc;

    if ((rc = eca_x509_chain_order(chain, err)) != ECA_OK)
        return rc;
    leaf = eca_x509_chain_get(chain, 0);
    if (!eca_x509_matches_key(leaf, key))
        return eca_err_set(err, ECA_EPROTO, "issued certificate does not match the new key");
    if (!eca_x509_has_dns_names(leaf, (const char *const *)cc->domains, cc->ndomains))
        return eca_err_set(err, ECA_EPROTO, "issued certificate does not carry exactly %s%s",
                           cc->domains[0], cc->ndomains > 1 ? " and the other names" : "");
    return ECA_OK;
}

/* New key (every time), CSR, ACME order; on success the key and checked chain are handed out. */
static enum eca_rc
order_cert(struct acme_agent *a, const struct acme_cert_conf *cc, struct eca_key **key_out,
           struct eca_chain **chain_out, struct eca_err *err)
{
    struct eca_key *key = NULL;
    struct eca_chain *chain = NULL;
    struct eca_buf csr, pem;
    enum eca_rc rc;

    eca_buf_init(&csr, 0);
    eca_buf_init(&pem, CHAIN_MAX);
    if ((rc = eca_key_generate(cc->base.key_type, &key, err)) != ECA_OK)
        goto out;
    eca_log(ECA_LOG_DEBUG, "key_generated", cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("key_type", eca_key_type_name(cc->base.key_type))), NULL);
    if ((rc = eca_x509_csr_build(key, NULL, (const char *const *)cc->domains, cc->ndomains, &csr,
                                 err)) != ECA_OK ||
        (rc = ensure_client(a, err)) != ECA_OK || (rc = ensure_responder(a, err)) != ECA_OK)
        goto out;
    eca_log(ECA_LOG_INFO, "order_started", cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("domain", cc->domains[0]), ECA_LI("names", cc->ndomains)), NULL);
    if ((rc = acme_client_issue(a->client, (const char *const *)cc->domains, cc->ndomains,
                                a->responder, csr.data, csr.len, &pem, err)) != ECA_OK)
        goto out;
    if ((rc = eca_x509_chain_from_pem(pem.data, pem.len, &chain, err)) != ECA_OK ||
        (rc = check_issued(cc, key, chain, err)) != ECA_OK)
        goto out;
    *key_out = key;
    *chain_out = chain;
    key = NULL;
    chain = NULL;
out:
    eca_buf_free(&csr);
    eca_buf_free(&pem);
    eca_key_free(key);
    eca_x509_chain_free(chain);
    return rc;
}

static enum eca_rc
renew(struct acme_agent *a, const struct acme_cert_conf *cc, struct eca_err *err)
{
    struct eca_key *key = NULL;
    struct eca_chain *chain = NULL;
    struct eca_agent_set set;
    char serial[130], na[32];
    X509 *leaf;
    enum eca_rc rc;

    memset(&set, 0, sizeof set);
    rc = order_cert(a, cc, &key, &chain, err);
    /* Release the challenge port (or webroot) between orders: a daemon holds nothing idle. */
    acme_http01_free(a->responder);
    a->responder = NULL;
    if (rc != ECA_OK)
        goto out;
    leaf = eca_x509_chain_get(chain, 0);
    eca_x509_serial_hex(leaf, serial, sizeof serial);
    eca_log(ECA_LOG_INFO, "cert_issued", cc->base.name,
            ECA_LOG_FIELDS(
                ECA_LS("serial", serial),
                ECA_LS("not_after", eca_status_time(eca_x509_not_after(leaf), na, sizeof na)),
                ECA_LI("chain", eca_x509_chain_count(chain))),
            NULL);
    if ((rc = eca_agent_set_build(&set, &cc->base, key, chain, !cc->fullchain, err)) == ECA_OK)
        rc = eca_agent_deploy(a->conf->g.state_dir, &cc->base, &set, serial, err);
out:
    eca_agent_set_free(&set);
    eca_key_free(key);
    eca_x509_chain_free(chain);
    return rc;
}

static void
decide(const struct acme_conf *conf, const struct acme_cert_conf *cc,
       const struct eca_certstate *st, int force, time_t now, struct eca_renew_out *out)
{
    /* Names changed in the configuration: the installed certificate no longer fits. */
    int forced = force || (st->present && !dns_matches(st->dns, cc));

    eca_agent_decide(&cc->base, st, 0, forced, conf->g.check_interval_s, now, out);
}

static void
log_checked(const struct acme_cert_conf *cc, const struct eca_certstate *st,
            const struct eca_renew_out *d)
{
    char na[32], nc[32];

    eca_log(ECA_LOG_INFO, "cert_checked", cc->base.name,
            ECA_LOG_FIELDS(ECA_LB("present", st->present), ECA_LS("serial", st->serial),
                           ECA_LS("not_after",
                                  eca_status_time(st->present ? st->not_after : 0, na, sizeof na)),
                           ECA_LS("decision", eca_renew_reason_name(d->reason)),
                           ECA_LS("next_check", eca_status_time(d->next_check, nc, sizeof nc))),
            "%s", st->present ? "" : st->problem);
}

enum eca_rc
acme_agent_run(struct acme_agent *a, size_t i, int force, struct eca_pass_result *res,
               struct eca_err *err)
{
    const struct acme_cert_conf *cc = &a->conf->certs[i];
    enum eca_rc rc;

    memset(res, 0, sizeof(*res));
    if ((rc = eca_certstate_read(cc->base.cert_path, cc->base.key_path, &res->st, err)) != ECA_OK)
        return rc;
    decide(a->conf, cc, &res->st, force, eca_clock_now(), &res->dec);
    log_checked(cc, &res->st, &res->dec);
    if (res->dec.reason == ECA_RENEW_NONE)
        return ECA_OK;
    eca_log(ECA_LOG_INFO, "renew_started", cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("reason", eca_renew_reason_name(res->dec.reason))), NULL);
    if ((rc = renew(a, cc, err)) != ECA_OK)
        return rc;
    res->renewed = 1;
    if (eca_certstate_read(cc->base.cert_path, cc->base.key_path, &res->st, NULL) != ECA_OK)
        memset(&res->st, 0, sizeof res->st);
    decide(a->conf, cc, &res->st, 0, eca_clock_now(), &res->dec);
    return ECA_OK;
}

enum eca_rc
acme_agent_revoke(struct acme_agent *a, size_t i, int reason, struct eca_err *err)
{
    const struct acme_cert_conf *cc = &a->conf->certs[i];
    struct eca_chain *chain = NULL;
    struct eca_buf der;
    char serial[130];
    enum eca_rc rc;

    eca_buf_init(&der, 0);
    if ((rc = eca_x509_chain_load(cc->base.cert_path, &chain, err)) != ECA_OK ||
        (rc = eca_x509_to_der(eca_x509_chain_get(chain, 0), &der, err)) != ECA_OK ||
        (rc = ensure_client(a, err)) != ECA_OK ||
        (rc = acme_client_revoke(a->client, der.data, der.len, reason, err)) != ECA_OK)
        goto out;
    eca_x509_serial_hex(eca_x509_chain_get(chain, 0), serial, sizeof serial);
    eca_log(ECA_LOG_INFO, "cert_revoked", cc->base.name,
            ECA_LOG_FIELDS(ECA_LS("serial", serial), ECA_LI("reason", reason)), NULL);
out:
    eca_buf_free(&der);
    eca_x509_chain_free(chain);
    return rc;
}

void
acme_agent_free(struct acme_agent *a)
{
    if (a == NULL)
        return;
    acme_client_free(a->client);
    acme_http01_free(a->responder);
    eca_http_free(a->http);
    eca_key_free(a->account_key);
    eca_secret_free(a->eab_hmac);
    free(a->account_url);
    free(a);
}
