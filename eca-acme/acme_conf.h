/* SPDX-License-Identifier: MIT */
/* eca-acme configuration: libconfig file or environment contract -> struct acme_conf. */
#ifndef ACME_CONF_H
#define ACME_CONF_H

#include <stddef.h>

#include "eca_err.h"
#include "eca_key.h"
#include "eca_log.h"

#define ACME_CONF_DEFAULT_STATE_DIR      "/var/lib/eca/eca-acme"
#define ACME_CONF_DEFAULT_INTERVAL       21600L
#define ACME_CONF_DEFAULT_THRESHOLD      33
#define ACME_CONF_DEFAULT_RELOAD_TIMEOUT 30

enum acme_layout { ACME_LAYOUT_PEM = 0, ACME_LAYOUT_MINIO };

/* One managed certificate. All strings owned by the enclosing struct acme_conf. */
struct acme_cert_conf {
    char *name;
    char **domains; /* domains[0] is the subject */
    size_t ndomains;
    char *cert_path;  /* minio: <dir>/public.crt */
    char *key_path;   /* minio: <dir>/private.key */
    char *chain_path; /* issuer chain alone; NULL: not written */
    int fullchain;    /* 1: cert_path holds leaf + chain (default); 0: leaf only */
    enum eca_key_type key_type;
    int threshold_pct; /* renew when less than this share of the lifetime is left */
    enum acme_layout layout;
    char *reload_command; /* argv-style, split by eca_hook_split; NULL: none */
    int reload_timeout_s;
    char *reload_signal; /* "HUP"...; with reload_pid_file */
    char *reload_pid_file;
};

/* Global settings and the certificate list. Free with acme_conf_free(). */
struct acme_conf {
    char *config_path;   /* NULL in environment mode */
    char *directory_url; /* CA_URL [+ /acme/<provisioner>/directory] */
    char *ca_bundle;     /* NULL: system store */
    char *state_dir;
    char **contact;
    size_t ncontact;
    int tos_agreed;
    char *eab_kid;
    char *eab_hmac_key_file; /* file holding the base64url HMAC key */
    char *http01_listen;     /* "addr:port", or NULL with webroot set */
    char *webroot;
    long check_interval_s;
    enum eca_log_level log_level;
    enum eca_log_format log_format;
    int insecure; /* allow http:// for the directory */
    char *preferred_chain;
    int force; /* FORCE_RENEWAL=true or --force */
    struct acme_cert_conf *certs;
    size_t ncerts;
};

/* What the command line says; NULL/-1 fields do not override anything. */
struct acme_conf_cli {
    const char *config_path; /* --config */
    const char *log_format;  /* --log-format */
    int force;               /* --force: 1, else 0 */
};

/*
 * Build the configuration: the file named by cli->config_path (else environment mode: one
 * certificate from DOMAIN_NAME, CERT_PATH, KEY_PATH...), then environment overrides, then
 * the command line. Errors are ECA_ECONF naming the setting and file:line (or the variable).
 */
enum eca_rc acme_conf_load(const struct acme_conf_cli *cli, struct acme_conf **out,
                           struct eca_err *err);

/* Find a certificate by name; NULL when absent. Borrowed. */
const struct acme_cert_conf *acme_conf_find(const struct acme_conf *c, const char *name);

void acme_conf_free(struct acme_conf *c);

#endif
