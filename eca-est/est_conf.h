/* SPDX-License-Identifier: MIT */
/* eca-est configuration: libconfig file or environment contract -> struct est_conf. */
#ifndef EST_CONF_H
#define EST_CONF_H

#include <stddef.h>

#include "eca_err.h"
#include "eca_key.h"
#include "eca_log.h"
#include "eca_pkcs12.h"
#include "eca_secret.h"

#define EST_CONF_DEFAULT_STATE_DIR      "/var/lib/eca/eca-est"
#define EST_CONF_DEFAULT_INTERVAL       21600L
#define EST_CONF_DEFAULT_THRESHOLD      33
#define EST_CONF_DEFAULT_RELOAD_TIMEOUT 30
#define EST_CONF_DEFAULT_CRL_MAX_AGE_H  24
#define EST_CONF_DEFAULT_MAX_PENDING    300L

/* One managed certificate. All strings owned by the enclosing struct est_conf. */
struct est_cert_conf {
    char *name;
    char *subject_dn; /* "CN=x,O=y"; NULL: CN = first SAN */
    char **sans;      /* DNS subjectAltNames */
    size_t nsans;
    char *cert_path; /* leaf + intermediates */
    char *key_path;
    char *chain_path;    /* intermediates alone; NULL: not written */
    char *ca_certs_path; /* the /cacerts bundle (trust anchors for peers); NULL: not written */
    char *pfx_path;      /* PKCS#12 too; needs pfx_password_file */
    char *pfx_password_file;
    enum eca_pkcs12_profile pfx_profile;
    char *pfx_friendly_name; /* NULL: the certificate name */
    enum eca_key_type key_type;
    int threshold_pct;
    char *reload_command; /* argv-style (eca_hook_split); NULL: none */
    int reload_timeout_s;
};

/* Global settings, credentials and the certificate list. Free with est_conf_free(). */
struct est_conf {
    char *config_path; /* NULL in environment mode */
    char *base_url;    /* CA_URL + /.well-known/est[/<label>] (no trailing slash) */
    char *ca_bundle;   /* trust anchors for the server's TLS; NULL: system store */
    int insecure;      /* allow http:// (TLS verification is never turned off) */
    char *state_dir;
    char *username;           /* EST_USERNAME: HTTP Basic user for first enrollment */
    struct eca_secret *token; /* BOOTSTRAP_TOKEN / _FILE; registered for log redaction */
    char *bootstrap_cert;     /* or a bootstrap certificate for first enrollment */
    char *bootstrap_key;
    int basic_preemptive; /* 1: send Basic at once (default); 0: only after a 401 challenge */
    long max_pending_s;   /* cap on waiting for a 202 answer to turn into a certificate */
    int crl_enabled;
    char *crl_url; /* NULL: the certificate's CRL distribution point */
    long crl_max_age_s;
    int crl_fail_closed; /* 1: a CRL that cannot be checked counts as revoked */
    long check_interval_s;
    enum eca_log_level log_level;
    enum eca_log_format log_format;
    int force; /* FORCE_RENEWAL=true or --force */
    struct est_cert_conf *certs;
    size_t ncerts;
};

/* What the command line says; NULL/0 fields do not override anything. */
struct est_conf_cli {
    const char *config_path; /* --config */
    const char *log_format;  /* --log-format */
    int force;               /* --force */
};

/*
 * Build the configuration: the file named by cli->config_path (else environment mode: one
 * certificate from SUBJECT_DN, SANS, CERT_PATH, KEY_PATH...), then environment overrides,
 * then the command line. Loads the bootstrap token. Errors are ECA_ECONF naming the
 * setting and file:line (or the variable).
 */
enum eca_rc est_conf_load(const struct est_conf_cli *cli, struct est_conf **out,
                          struct eca_err *err);

void est_conf_free(struct est_conf *c);

#endif
