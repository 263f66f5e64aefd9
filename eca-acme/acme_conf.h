/* SPDX-License-Identifier: MIT */
/* eca-acme configuration: libconfig file or environment contract -> struct acme_conf. */
#ifndef ACME_CONF_H
#define ACME_CONF_H

#include <stddef.h>

#include "eca_agentconf.h"
#include "eca_err.h"

#define ACME_CONF_DEFAULT_STATE_DIR      "/var/lib/eca/eca-acme"
#define ACME_CONF_DEFAULT_INTERVAL       ECA_AGENTCONF_DEFAULT_INTERVAL
#define ACME_CONF_DEFAULT_THRESHOLD      ECA_AGENTCONF_DEFAULT_THRESHOLD
#define ACME_CONF_DEFAULT_RELOAD_TIMEOUT ECA_AGENTCONF_DEFAULT_RELOAD_TIMEOUT
#define ACME_CONF_DEFAULT_PASS_TIMEOUT   300 /* seconds: one certificate's pass, all requests */
#define ACME_CONF_DEFAULT_CRL_MAX_AGE_H  24
#define ACME_CONF_DEFAULT_CONCURRENCY    4 /* certificates whose passes run at once */

/* One managed certificate. All strings owned by the enclosing struct acme_conf. */
struct acme_cert_conf {
    struct eca_certconf base; /* first: name, paths, layout, key type, policy, reload, verify */
    char **domains;           /* domains[0] is the subject */
    size_t ndomains;
    int fullchain; /* 1: cert_path holds leaf + chain (default); 0: leaf only */

    /* ACME profiles (draft-ietf-acme-profiles): `profile`, `profile_required` / ACME_PROFILE,
     * ACME_PROFILE_REQUIRED. NULL: order without a profile (the CA's default). */
    char *profile;
    int profile_required; /* 1: a CA without profiles is an error, not a warning */

    /* dns-01 through a hook: `dns01_hook`, `dns01_propagation_seconds`, `dns01_hook_timeout`
     * (per certificate, else global; DNS01_HOOK, DNS01_PROPAGATION_SECONDS, DNS01_HOOK_TIMEOUT
     * override every certificate). NULL hook: http-01 only (no wildcard names). */
    char *dns01_hook;
    long dns01_propagation_s;
    int dns01_hook_timeout_s;
};

/* Global settings and the certificate list. Free with acme_conf_free(). */
struct acme_conf {
    struct eca_agentconf g; /* ca_url, ca_bundle, state_dir, interval, log, metrics, force */
    char *directory_url;    /* CA_URL [+ /acme/<provisioner>/directory] */
    char **contact;
    size_t ncontact;
    int tos_agreed;
    char *eab_kid;
    char *eab_hmac_key_file; /* file holding the base64url HMAC key */
    char *http01_listen;     /* "addr:port", or NULL with webroot set */
    char *webroot;
    char *preferred_chain;
    long pass_timeout_s; /* pass_timeout_seconds / PASS_TIMEOUT_SECONDS: bound of one pass */
    /* Revocation through the installed certificate's CRL distribution point (eca-est's names):
     * crl_enabled (default on; a certificate without a distribution point is not checked),
     * crl_max_age_hours, crl_fail_closed / CRL_ENABLED, CRL_MAX_AGE_HOURS, CRL_FAIL_CLOSED. */
    int crl_enabled;
    long crl_max_age_s;
    int crl_fail_closed; /* 1: a CRL that cannot be checked counts as revoked */
    /* crl_refresh_seconds / CRL_REFRESH_SECONDS: one download of a CRL serves every
     * certificate naming it for this long (never past its nextUpdate); 0: each check downloads */
    long crl_refresh_s;
    int concurrency;  /* concurrency / ACME_CONCURRENCY: certificates' passes at once (1..64) */
    char *dns01_hook; /* global defaults of the certificates' dns01_* settings */
    long dns01_propagation_s;
    int dns01_hook_timeout_s;
    struct acme_cert_conf *certs;
    size_t ncerts;
};

/*
 * Build the configuration: the file named by cli->config_path (else environment mode: one
 * certificate from DOMAIN_NAME, CERT_PATH, KEY_PATH...), then environment overrides, then
 * the command line. Errors are ECA_ECONF naming the setting and file:line (or the variable).
 */
enum eca_rc acme_conf_load(const struct eca_agentconf_cli *cli, struct acme_conf **out,
                           struct eca_err *err);

/*
 * acme_conf_load() for a purpose: flags ECA_CONF_INSPECT (`status`: no EAB pair check, no
 * host checks), ECA_CONF_NO_HOST (the text only). Without them the host is checked too:
 * output directories exist and are writable, the reload program is there (eca_conf.h).
 */
enum eca_rc acme_conf_read(const struct eca_agentconf_cli *cli, unsigned flags,
                           struct acme_conf **out, struct eca_err *err);

/* 1 if cc needs an http-01 responder: it has no dns01_hook, or it names an IP address. */
int acme_conf_needs_http01(const struct acme_cert_conf *cc);

/* Find a certificate by name; NULL when absent. Borrowed. */
const struct acme_cert_conf *acme_conf_find(const struct acme_conf *c, const char *name);

void acme_conf_free(struct acme_conf *c);

#endif
