/* SPDX-License-Identifier: MIT */
/* eca-est configuration: libconfig file or environment contract -> struct est_conf. */
#ifndef EST_CONF_H
#define EST_CONF_H

#include <stddef.h>

#include "eca_agentconf.h"
#include "eca_err.h"
#include "eca_pkcs12.h"
#include "eca_secret.h"

#define EST_CONF_DEFAULT_STATE_DIR      "/var/lib/eca/eca-est"
#define EST_CONF_DEFAULT_INTERVAL       ECA_AGENTCONF_DEFAULT_INTERVAL
#define EST_CONF_DEFAULT_THRESHOLD      ECA_AGENTCONF_DEFAULT_THRESHOLD
#define EST_CONF_DEFAULT_RELOAD_TIMEOUT ECA_AGENTCONF_DEFAULT_RELOAD_TIMEOUT
#define EST_CONF_DEFAULT_CRL_MAX_AGE_H  24
#define EST_CONF_DEFAULT_MAX_PENDING    300L
#define EST_CONF_DEFAULT_MAX_PENDING_H  72 /* issue 10 item 2: a 202 kept this long at most */

/* One managed certificate. All strings owned by the enclosing struct est_conf. */
struct est_cert_conf {
    struct eca_certconf base; /* first: name, paths, layout, key type, policy, reload, verify */
    char *subject_dn;         /* "CN=x,O=y"; NULL: CN = first SAN */
    char **sans;              /* DNS subjectAltNames */
    size_t nsans;
    char *ca_certs_path; /* the /cacerts bundle (trust anchors for peers); NULL: not written */
    char *pfx_path;      /* PKCS#12 too (layout pkcs12 requires it); needs pfx_password_file */
    char *pfx_password_file;
    enum eca_pkcs12_profile pfx_profile;
    char *pfx_friendly_name; /* NULL: the certificate name */
};

/* Global settings, credentials and the certificate list. Free with est_conf_free(). */
struct est_conf {
    struct eca_agentconf g;   /* ca_url, ca_bundle, state_dir, interval, log, metrics, force */
    char *base_url;           /* CA_URL + /.well-known/est[/<label>] (no trailing slash) */
    char *username;           /* EST_USERNAME: HTTP Basic user for first enrollment */
    struct eca_secret *token; /* BOOTSTRAP_TOKEN / _FILE; registered for log redaction */
    char *bootstrap_cert;     /* or a bootstrap certificate for first enrollment */
    char *bootstrap_key;
    char *token_gone;       /* a configured token file that no longer exists (used after the first
                               enrollment and deleted): named when bootstrap is needed again */
    int basic_preemptive;   /* 1: send Basic at once (default); 0: only after a 401 challenge */
    long max_pending_s;     /* cap on waiting for a 202 answer within one pass */
    long max_pending_age_s; /* a request pending approval is given up after this (start afresh) */
    int pop; /* EST_POP / pop: CSRs carry tls-unique (RFC 7030 §3.5) over TLS 1.2; 0: only
                when /csrattrs asks for challengePassword */
    int crl_enabled;
    char *crl_url; /* NULL: the certificate's CRL distribution point */
    long crl_max_age_s;
    int crl_fail_closed; /* 1: a CRL that cannot be checked counts as revoked */
    /* crl_refresh_seconds / CRL_REFRESH_SECONDS: one download of a CRL serves every
     * certificate naming it for this long (never past its nextUpdate); 0: each check downloads */
    long crl_refresh_s;
    struct est_cert_conf *certs;
    size_t ncerts;
};

/*
 * Build the configuration: the file named by cli->config_path (else environment mode: one
 * certificate from SUBJECT_DN, SANS, CERT_PATH, KEY_PATH...), then environment overrides,
 * then the command line. Loads the bootstrap token; a configured token file that no longer
 * exists is a warning (bootstrap_token_missing), not an error: credentials are needed only
 * when there is no usable certificate, and a server may need none. Errors are ECA_ECONF
 * naming the setting and file:line (or the variable).
 */
enum eca_rc est_conf_load(const struct eca_agentconf_cli *cli, struct est_conf **out,
                          struct eca_err *err);

/*
 * est_conf_load() for a purpose: flags ECA_CONF_INSPECT (`status`: no bootstrap secrets, no
 * host checks), ECA_CONF_NO_HOST (the text only). Without them the host is checked too:
 * output directories exist and are writable, the reload program is there (eca_conf.h).
 */
enum eca_rc est_conf_read(const struct eca_agentconf_cli *cli, unsigned flags,
                          struct est_conf **out, struct eca_err *err);

void est_conf_free(struct est_conf *c);

#endif
