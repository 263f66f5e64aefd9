/* SPDX-License-Identifier: MIT */
/* dns-01 challenge responder (RFC 8555 §8.4) that runs a hook to set and remove TXT records. */
#include "acme_dns01.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "acme_order.h"
#include "eca_b64.h"
#include "eca_hook.h"
#include "eca_log.h"

#define SLICE_MS 100 /* a stop request ends the propagation wait within this */

struct record {
    char *token;
    char *domain;
    char *name;
    char *value;
};

struct dns01 {
    struct acme_dns_responder pub; /* first: the responder handed out points here */
    char **argv;                   /* the hook, split once */
    size_t nargv;
    long propagation_s;
    int timeout_s;
    char *cert;
    int (*should_stop)(void);
    struct record recs[ACME_ORDER_MAX_IDS];
};

enum eca_rc
acme_dns01_record(const char *domain, const char *key_authz, struct eca_buf *name,
                  struct eca_buf *value, struct eca_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    enum eca_rc rc;

    if (domain == NULL || domain[0] == '\0' || key_authz == NULL || key_authz[0] == '\0')
        return eca_err_set(err, ECA_EINVAL, "dns-01: empty domain or key authorization");
    /* The record is named after the base domain: a wildcard's authorization already names
     * it without "*." (RFC 8555 §7.1.4), this drops it from a configured name too. */
    if (strncmp(domain, "*.", 2) == 0)
        domain += 2;
    if (!EVP_Digest(key_authz, strlen(key_authz), md, &mdlen, EVP_sha256(), NULL))
        return eca_err_ssl(err, ECA_ECRYPTO, "dns-01: SHA-256 failed");
    if ((rc = eca_buf_printf(name, err, "_acme-challenge.%s%s", domain,
                             domain[strlen(domain) - 1] == '.' ? "" : ".")) != ECA_OK)
        return rc;
    return eca_b64url_encode(md, mdlen, value, err);
}

/* *out = "NAME=value" (malloc'd): 0, or -1 out of memory. */
static int
env_pair(char **out, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;

    if ((*out = malloc(n)) == NULL)
        return -1;
    snprintf(*out, n, "%s=%s", name, value);
    return 0;
}

/*
 * Run `<hook> <action> <name> <value>` with the certbot-style variables in its environment
 * alone: workers run hooks at once, each with its own record.
 */
static enum eca_rc
run_hook(struct dns01 *d, const char *action, const struct record *r, struct eca_err *err)
{
    char **argv = calloc(d->nargv + 4, sizeof *argv), *env[4] = {NULL, NULL, NULL, NULL};
    enum eca_rc rc = ECA_OK;

    if (argv == NULL || env_pair(&env[0], "ECA_DNS01_NAME", r->name) != 0 ||
        env_pair(&env[1], "ECA_DNS01_VALUE", r->value) != 0 ||
        env_pair(&env[2], "ECA_DNS01_DOMAIN", r->domain) != 0) {
        rc = eca_err_set(err, ECA_ENOMEM, "dns01_hook: out of memory");
        goto out;
    }
    memcpy(argv, d->argv, d->nargv * sizeof *argv);
    argv[d->nargv] = (char *)action;
    argv[d->nargv + 1] = r->name;
    argv[d->nargv + 2] = r->value;
    rc = eca_hook_run_env(argv, (const char *const *)env, d->timeout_s, err);
    if (rc != ECA_OK)
        eca_err_prefix(err, "dns01_hook %s %s: ", action, r->name);
out:
    for (size_t i = 0; i < 3; i++)
        free(env[i]);
    free(argv);
    return rc;
}

static void
record_clear(struct record *r)
{
    free(r->token);
    free(r->domain);
    free(r->name);
    free(r->value);
    memset(r, 0, sizeof *r);
}

/* Wait propagation_s; ECA_ESTOPPED when a stop request comes first. */
static enum eca_rc
propagation_wait(struct dns01 *d, const struct record *r, struct eca_err *err)
{
    struct timespec slice = {0, SLICE_MS * 1000L * 1000L};

    if (d->propagation_s <= 0)
        return ECA_OK;
    eca_log(ECA_LOG_INFO, "dns01_propagation_wait", d->cert,
            ECA_LOG_FIELDS(ECA_LS("record", r->name), ECA_LI("seconds", d->propagation_s)), NULL);
    for (long left = d->propagation_s * 1000; left > 0; left -= SLICE_MS) {
        if (d->should_stop != NULL && d->should_stop())
            return eca_err_set(err, ECA_ESTOPPED, "stopped while waiting for %s to propagate",
                               r->name);
        nanosleep(&slice, NULL);
    }
    return ECA_OK;
}

static enum eca_rc
dns_publish(void *ctx, const char *domain, const char *token, const char *key_authz,
            struct eca_err *err)
{
    struct dns01 *d = ctx;
    struct record *r = NULL;
    struct eca_buf name, value;
    enum eca_rc rc;

    for (size_t i = 0; i < ACME_ORDER_MAX_IDS && r == NULL; i++)
        if (d->recs[i].token == NULL)
            r = &d->recs[i];
    if (r == NULL)
        return eca_err_set(err, ECA_ETOOBIG, "dns-01: more than %d records at once",
                           ACME_ORDER_MAX_IDS);
    eca_buf_init(&name, 512);
    eca_buf_init(&value, 128);
    if ((rc = acme_dns01_record(domain, key_authz, &name, &value, err)) != ECA_OK)
        goto out;
    r->token = strdup(token);
    r->domain = strdup(domain);
    r->name = strdup(eca_buf_str(&name));
    r->value = strdup(eca_buf_str(&value));
    if (r->token == NULL || r->domain == NULL || r->name == NULL || r->value == NULL) {
        record_clear(r);
        rc = eca_err_set(err, ECA_ENOMEM, "dns-01: out of memory");
        goto out;
    }
    eca_log(ECA_LOG_INFO, "dns01_present", d->cert,
            ECA_LOG_FIELDS(ECA_LS("domain", domain), ECA_LS("record", r->name),
                           ECA_LS("value", r->value)),
            NULL);
    /* A hook that failed half way may have set the record: it stays registered, so that
     * cleanup runs for it as for any other. */
    if ((rc = run_hook(d, "present", r, err)) == ECA_OK)
        rc = propagation_wait(d, r, err);
out:
    eca_buf_free(&name);
    eca_buf_free(&value);
    return rc;
}

static void
dns_unpublish(void *ctx, const char *token)
{
    struct dns01 *d = ctx;
    struct eca_err err = {0};

    for (size_t i = 0; i < ACME_ORDER_MAX_IDS; i++) {
        struct record *r = &d->recs[i];

        if (r->token == NULL || strcmp(r->token, token) != 0)
            continue;
        if (run_hook(d, "cleanup", r, &err) == ECA_OK)
            eca_log(ECA_LOG_INFO, "dns01_cleanup", d->cert,
                    ECA_LOG_FIELDS(ECA_LS("domain", r->domain), ECA_LS("record", r->name)), NULL);
        else
            eca_log(ECA_LOG_WARN, "dns01_cleanup_failed", d->cert,
                    ECA_LOG_FIELDS(ECA_LS("domain", r->domain), ECA_LS("record", r->name),
                                   ECA_LS("rc", eca_rc_name(err.rc))),
                    "%s; the TXT record may still be there", err.msg);
        record_clear(r);
    }
}

enum eca_rc
acme_dns01_new(const struct acme_dns01_opts *o, struct acme_dns_responder **out,
               struct eca_err *err)
{
    struct dns01 *d;

    if (o == NULL || o->hook == NULL)
        return eca_err_set(err, ECA_ECONF, "dns01_hook: not set");
    if ((d = calloc(1, sizeof *d)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "dns01_hook: out of memory");
    /* The command line is not repeated: it may carry a DNS provider's credentials. */
    if (eca_hook_split(o->hook, &d->argv, NULL) != ECA_OK || d->argv[0] == NULL) {
        acme_dns01_free(&d->pub);
        return eca_err_set(err, ECA_ECONF,
                           "dns01_hook: not a command (empty, or unbalanced quotes)");
    }
    while (d->argv[d->nargv] != NULL)
        d->nargv++;
    d->propagation_s = o->propagation_s;
    d->timeout_s = o->timeout_s > 0 ? o->timeout_s : ACME_DNS01_DEFAULT_TIMEOUT;
    d->should_stop = o->should_stop;
    if (o->cert != NULL && (d->cert = strdup(o->cert)) == NULL) {
        acme_dns01_free(&d->pub);
        return eca_err_set(err, ECA_ENOMEM, "dns01_hook: out of memory");
    }
    d->pub.publish = dns_publish;
    d->pub.unpublish = dns_unpublish;
    d->pub.ctx = d;
    *out = &d->pub;
    return ECA_OK;
}

void
acme_dns01_free(struct acme_dns_responder *r)
{
    struct dns01 *d = (struct dns01 *)r;

    if (d == NULL)
        return;
    for (size_t i = 0; i < ACME_ORDER_MAX_IDS; i++)
        if (d->recs[i].token != NULL)
            dns_unpublish(d, d->recs[i].token);
    eca_hook_argv_free(d->argv);
    free(d->cert);
    free(d);
}
