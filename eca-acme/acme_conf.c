/* SPDX-License-Identifier: MIT */
/* eca-acme configuration: libconfig file or environment contract -> struct acme_conf. */
#include "acme_conf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "eca_conf.h"

#define ENV_WHERE "environment"

/* A new formatted string, or NULL when out of memory. */
static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
str_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Replace *dst with a copy of s (s non-NULL). */
static enum eca_rc
set_str(char **dst, const char *s, struct eca_err *err)
{
    char *d = strdup(s);

    if (d == NULL)
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    free(*dst);
    *dst = d;
    return ECA_OK;
}

static void
free_vec(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* "file:line: path: message" for a setting whose value is wrong. */
static enum eca_rc at_setting(const config_setting_t *s, struct eca_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum eca_rc
at_setting(const config_setting_t *s, struct eca_err *err, const char *fmt, ...)
{
    char path[256], msg[ECA_ERR_MSG_MAX];
    const char *file = config_setting_source_file(s);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    eca_conf_path(s, path, sizeof path);
    return eca_err_set(err, ECA_ECONF, "%s:%u: %s: %s", file ? file : "config",
                       (unsigned)config_setting_source_line(s), path, msg);
}

/* Comma-separated list into a new vector (blanks around items trimmed, empty items refused). */
static enum eca_rc
split_csv(const char *s, char ***out, size_t *nout, struct eca_err *err)
{
    char **v = NULL, *copy = strdup(s), *save = NULL, *tok;
    size_t n = 0;
    enum eca_rc rc = ECA_OK;

    if (copy == NULL)
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **nv;
        char *end;

        while (isspace((unsigned char)*tok))
            tok++;
        end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*tok == '\0')
            continue;
        if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL || (nv[n] = strdup(tok)) == NULL) {
            if (nv)
                v = nv;
            rc = eca_err_set(err, ECA_ENOMEM, "config: out of memory");
            goto out;
        }
        v = nv;
        n++;
    }
    *out = v;
    *nout = n;
    v = NULL;
out:
    if (v)
        free_vec(v, n);
    free(copy);
    return rc;
}

/* A string list from the file: an array/list of strings or one comma-separated string. */
static enum eca_rc
file_str_list(const config_setting_t *g, const char *name, char ***out, size_t *nout,
              struct eca_err *err)
{
    config_setting_t *s = config_setting_get_member(g, name);
    char **v = NULL;
    int n, i;

    if (s == NULL)
        return ECA_OK;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        free_vec(*out, *nout);
        *out = NULL;
        *nout = 0;
        return split_csv(config_setting_get_string(s), out, nout, err);
    }
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return at_setting(s, err, "expected a list of strings");
    n = config_setting_length(s);
    if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    for (i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            free_vec(v, (size_t)n);
            return at_setting(e, err, "expected string");
        }
        if ((v[i] = strdup(config_setting_get_string(e))) == NULL) {
            free_vec(v, (size_t)n);
            return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
        }
    }
    free_vec(*out, *nout);
    *out = v;
    *nout = (size_t)n;
    return ECA_OK;
}

static enum eca_rc
file_str(const config_setting_t *g, const char *name, char **dst, struct eca_err *err)
{
    const char *v = NULL;
    enum eca_rc rc = eca_conf_get_str(g, name, 0, &v, err);

    if (rc != ECA_OK || v == NULL)
        return rc;
    return set_str(dst, v, err);
}

static enum eca_rc
env_str(const char *name, char **dst, struct eca_err *err)
{
    const char *v = eca_env_str(name);

    return v ? set_str(dst, v, err) : ECA_OK;
}

/* Certificate names become file names (journals): keep them to a safe alphabet. */
static int
name_is_safe(const char *s)
{
    if (*s == '\0' || *s == '.' || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return 0;
    return 1;
}

/* A DNS name (or "*." wildcard) as an ACME identifier: LDH labels, no blanks or slashes. */
static int
domain_is_valid(const char *d)
{
    size_t len = strlen(d);

    if (len == 0 || len > 253 || d[0] == '.' || d[len - 1] == '.')
        return 0;
    if (strncmp(d, "*.", 2) == 0)
        d += 2;
    for (; *d; d++)
        if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.')
            return 0;
    return 1;
}

/* Where a value came from, for messages about cross-checked settings. */
struct loader {
    struct acme_conf *c;
    char *ca_url, *provisioner;
    char where_url[320], where_listen[320], where_eab[320];
};

static void
where_file(const config_setting_t *g, const char *name, char *out, size_t outlen)
{
    const config_setting_t *s = config_setting_get_member(g, name);
    const char *file;

    if (s == NULL)
        return;
    file = config_setting_source_file(s);
    snprintf(out, outlen, "%s:%u: %s", file ? file : "config",
             (unsigned)config_setting_source_line(s), name);
}

static enum eca_rc
cert_key_type(const char *v, struct acme_cert_conf *cc, const config_setting_t *s, const char *var,
              struct eca_err *err)
{
    static const char choices[] = "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096";

    if (eca_key_type_parse(v, &cc->key_type) == 0)
        return ECA_OK;
    if (s)
        return at_setting(s, err, "unknown key type '%s' (%s)", v, choices);
    return eca_err_set(err, ECA_ECONF, "%s: %s: unknown key type '%s' (%s)", ENV_WHERE,
                       var ? var : "KEY_TYPE", v, choices);
}

static enum eca_rc
cert_paths_from_file(const config_setting_t *g, struct acme_cert_conf *cc, struct eca_err *err)
{
    const char *layout = "pem", *dir = NULL;
    enum eca_rc rc;

    if ((rc = eca_conf_get_str(g, "layout", 0, &layout, err)) != ECA_OK)
        return rc;
    if (strcmp(layout, "minio") == 0) {
        cc->layout = ACME_LAYOUT_MINIO;
        if ((rc = eca_conf_get_str(g, "directory", 1, &dir, err)) != ECA_OK)
            return rc;
        if (config_setting_get_member(g, "cert_path") || config_setting_get_member(g, "key_path"))
            return at_setting(g, err, "layout minio takes 'directory', not cert_path/key_path");
        if ((cc->cert_path = str_printf("%s/public.crt", dir)) == NULL ||
            (cc->key_path = str_printf("%s/private.key", dir)) == NULL)
            return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
        return ECA_OK;
    }
    if (strcmp(layout, "pem") != 0)
        return at_setting(config_setting_get_member(g, "layout"), err,
                          "unknown layout '%s' (pem, minio)", layout);
    if ((rc = eca_conf_get_str(g, "cert_path", 1, &dir, err)) != ECA_OK ||
        (rc = set_str(&cc->cert_path, dir, err)) != ECA_OK)
        return rc;
    if ((rc = eca_conf_get_str(g, "key_path", 1, &dir, err)) != ECA_OK ||
        (rc = set_str(&cc->key_path, dir, err)) != ECA_OK)
        return rc;
    return file_str(g, "chain_path", &cc->chain_path, err);
}

static enum eca_rc
cert_reload_from_file(const config_setting_t *g, struct acme_cert_conf *cc, struct eca_err *err)
{
    long long t = cc->reload_timeout_s;
    enum eca_rc rc;

    if ((rc = file_str(g, "reload_command", &cc->reload_command, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "reload_timeout_seconds", 0, 1, 3600, &t, err)) != ECA_OK ||
        (rc = file_str(g, "reload_signal", &cc->reload_signal, err)) != ECA_OK ||
        (rc = file_str(g, "reload_pid_file", &cc->reload_pid_file, err)) != ECA_OK)
        return rc;
    cc->reload_timeout_s = (int)t;
    if ((cc->reload_signal == NULL) != (cc->reload_pid_file == NULL))
        return at_setting(g, err, "reload_signal and reload_pid_file go together");
    return ECA_OK;
}

static enum eca_rc
cert_from_file(const config_setting_t *g, struct acme_cert_conf *cc, struct eca_err *err)
{
    const char *v = NULL;
    long long pct = cc->threshold_pct;
    int full = 1;
    enum eca_rc rc;

    if (!config_setting_is_group(g))
        return at_setting(g, err, "expected a group { name = ...; domains = [...]; ... }");
    if ((rc = eca_conf_get_str(g, "name", 1, &v, err)) != ECA_OK)
        return rc;
    if (!name_is_safe(v))
        return at_setting(config_setting_get_member(g, "name"), err,
                          "'%s': use letters, digits, '.', '_', '-' (at most 64)", v);
    if ((rc = set_str(&cc->name, v, err)) != ECA_OK)
        return rc;
    if ((rc = file_str_list(g, "domains", &cc->domains, &cc->ndomains, err)) != ECA_OK)
        return rc;
    if (cc->ndomains == 0)
        return at_setting(g, err, "domains: at least one DNS name is required");
    for (size_t i = 0; i < cc->ndomains; i++)
        if (!domain_is_valid(cc->domains[i]))
            return at_setting(config_setting_get_member(g, "domains"), err,
                              "'%s' is not a DNS name", cc->domains[i]);
    if ((rc = cert_paths_from_file(g, cc, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(g, "fullchain", 0, &full, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "renewal_threshold_percent", 0, 1, 99, &pct, err)) != ECA_OK)
        return rc;
    cc->fullchain = full;
    cc->threshold_pct = (int)pct;
    v = NULL;
    if ((rc = eca_conf_get_str(g, "key_type", 0, &v, err)) != ECA_OK)
        return rc;
    if (v && (rc = cert_key_type(v, cc, config_setting_get_member(g, "key_type"), NULL, err)))
        return rc;
    return cert_reload_from_file(g, cc, err);
}

static void
cert_defaults(struct acme_cert_conf *cc)
{
    memset(cc, 0, sizeof(*cc));
    cc->fullchain = 1;
    cc->key_type = ECA_KEY_EC_P256;
    cc->threshold_pct = ACME_CONF_DEFAULT_THRESHOLD;
    cc->layout = ACME_LAYOUT_PEM;
    cc->reload_timeout_s = ACME_CONF_DEFAULT_RELOAD_TIMEOUT;
}

static enum eca_rc
certs_from_file(const config_setting_t *root, struct acme_conf *c, struct eca_err *err)
{
    config_setting_t *list = config_setting_get_member(root, "certificates");
    enum eca_rc rc;
    int n;

    if (list == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: certificates: at least one certificate is required",
                           c->config_path);
    if (!config_setting_is_list(list) || (n = config_setting_length(list)) == 0)
        return at_setting(list, err, "expected a non-empty list ( { ... }, ... )");
    if ((c->certs = calloc((size_t)n, sizeof(*c->certs))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

        cert_defaults(&c->certs[i]);
        c->ncerts = (size_t)i + 1;
        if ((rc = cert_from_file(g, &c->certs[i], err)) != ECA_OK)
            return rc;
        for (int j = 0; j < i; j++)
            if (strcmp(c->certs[j].name, c->certs[i].name) == 0)
                return at_setting(config_setting_get_member(g, "name"), err,
                                  "duplicate certificate name '%s'", c->certs[i].name);
    }
    return ECA_OK;
}

static enum eca_rc
globals_from_file(const config_setting_t *root, struct loader *l, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *v = NULL;
    long long iv = c->check_interval_s;
    enum eca_rc rc;

    if ((rc = file_str(root, "ca_url", &l->ca_url, err)) != ECA_OK ||
        (rc = file_str(root, "acme_provisioner", &l->provisioner, err)) != ECA_OK ||
        (rc = file_str(root, "ca_bundle", &c->ca_bundle, err)) != ECA_OK ||
        (rc = file_str(root, "state_dir", &c->state_dir, err)) != ECA_OK ||
        (rc = file_str_list(root, "contact", &c->contact, &c->ncontact, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "tos_agreed", 0, &c->tos_agreed, err)) != ECA_OK ||
        (rc = file_str(root, "eab_kid", &c->eab_kid, err)) != ECA_OK ||
        (rc = file_str(root, "eab_hmac_key_file", &c->eab_hmac_key_file, err)) != ECA_OK ||
        (rc = file_str(root, "http01_listen", &c->http01_listen, err)) != ECA_OK ||
        (rc = file_str(root, "webroot", &c->webroot, err)) != ECA_OK ||
        (rc = eca_conf_get_int(root, "check_interval_seconds", 0, 1, 31L * 86400, &iv, err)) ||
        (rc = eca_conf_get_bool(root, "insecure", 0, &c->insecure, err)) != ECA_OK ||
        (rc = file_str(root, "preferred_chain", &c->preferred_chain, err)) != ECA_OK)
        return rc;
    c->check_interval_s = (long)iv;
    where_file(root, "ca_url", l->where_url, sizeof l->where_url);
    where_file(root, c->webroot ? "webroot" : "http01_listen", l->where_listen,
               sizeof l->where_listen);
    where_file(root, c->eab_kid ? "eab_kid" : "eab_hmac_key_file", l->where_eab,
               sizeof l->where_eab);
    if ((rc = eca_conf_get_str(root, "log_level", 0, &v, err)) != ECA_OK)
        return rc;
    if (v && eca_log_level_parse(v, &c->log_level) != 0)
        return at_setting(config_setting_get_member(root, "log_level"), err,
                          "'%s' (debug, info, warn, error)", v);
    v = NULL;
    if ((rc = eca_conf_get_str(root, "log_format", 0, &v, err)) != ECA_OK)
        return rc;
    if (v && eca_log_format_parse(v, &c->log_format) != 0)
        return at_setting(config_setting_get_member(root, "log_format"), err, "'%s' (json, text)",
                          v);
    return ECA_OK;
}

static enum eca_rc
load_file(struct loader *l, const char *path, struct eca_err *err)
{
    config_t cfg;
    enum eca_rc rc;

    if ((rc = set_str(&l->c->config_path, path, err)) != ECA_OK)
        return rc;
    /* eca_conf_load initialises cfg, and destroys it itself when it fails. */
    if ((rc = eca_conf_load(path, &cfg, err)) != ECA_OK)
        return rc;
    if ((rc = globals_from_file(config_root_setting(&cfg), l, err)) == ECA_OK)
        rc = certs_from_file(config_root_setting(&cfg), l->c, err);
    config_destroy(&cfg);
    return rc;
}

/* Environment mode: the one certificate of the container contract. */
static enum eca_rc
cert_from_env(struct acme_conf *c, struct eca_err *err)
{
    struct acme_cert_conf *cc;
    const char *dn = eca_env_str("DOMAIN_NAME");
    enum eca_rc rc;

    if ((c->certs = calloc(1, sizeof(*c->certs))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    cc = &c->certs[0];
    cert_defaults(cc);
    c->ncerts = 1;
    if (dn == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: DOMAIN_NAME: required (no --config file given)",
                           ENV_WHERE);
    if ((rc = split_csv(dn, &cc->domains, &cc->ndomains, err)) != ECA_OK)
        return rc;
    if (cc->ndomains == 0)
        return eca_err_set(err, ECA_ECONF, "%s: DOMAIN_NAME: no DNS name in '%s'", ENV_WHERE, dn);
    for (size_t i = 0; i < cc->ndomains; i++)
        if (!domain_is_valid(cc->domains[i]))
            return eca_err_set(err, ECA_ECONF, "%s: DOMAIN_NAME: '%s' is not a DNS name", ENV_WHERE,
                               cc->domains[i]);
    if ((rc = set_str(&cc->name, name_is_safe(cc->domains[0]) ? cc->domains[0] : "default", err)) !=
        ECA_OK)
        return rc;
    if ((rc = env_str("CERT_PATH", &cc->cert_path, err)) != ECA_OK ||
        (rc = env_str("KEY_PATH", &cc->key_path, err)) != ECA_OK ||
        (rc = env_str("CHAIN_PATH", &cc->chain_path, err)) != ECA_OK)
        return rc;
    if (cc->cert_path == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: CERT_PATH: required", ENV_WHERE);
    if (cc->key_path == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: KEY_PATH: required", ENV_WHERE);
    return ECA_OK;
}

/* Per-certificate variables override every certificate (env > file). */
static enum eca_rc
certs_env_overrides(struct acme_conf *c, struct eca_err *err)
{
    const char *kt = eca_env_str("KEY_TYPE"), *rl = eca_env_str("RELOAD_COMMAND");
    long long pct = -1;
    enum eca_rc rc;

    if ((rc = eca_env_int("RENEWAL_THRESHOLD_PERCENT", 1, 99, &pct, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++) {
        struct acme_cert_conf *cc = &c->certs[i];

        if (kt && (rc = cert_key_type(kt, cc, NULL, "KEY_TYPE", err)) != ECA_OK)
            return rc;
        if (rl && (rc = set_str(&cc->reload_command, rl, err)) != ECA_OK)
            return rc;
        if (pct > 0)
            cc->threshold_pct = (int)pct;
    }
    return ECA_OK;
}

static void
where_env(const char *var, char *out, size_t outlen)
{
    if (eca_env_str(var))
        snprintf(out, outlen, "%s: %s", ENV_WHERE, var);
}

static enum eca_rc
globals_from_env(struct loader *l, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *v;
    long long iv = c->check_interval_s;
    enum eca_rc rc;

    if (eca_env_str("HTTP01_LISTEN") && eca_env_str("WEBROOT"))
        return eca_err_set(err, ECA_ECONF, "%s: HTTP01_LISTEN and WEBROOT: set only one",
                           ENV_WHERE);
    /* One challenge method: the variable replaces whichever the file chose. */
    if (eca_env_str("HTTP01_LISTEN") || eca_env_str("WEBROOT")) {
        free(c->http01_listen);
        free(c->webroot);
        c->http01_listen = c->webroot = NULL;
        where_env(eca_env_str("WEBROOT") ? "WEBROOT" : "HTTP01_LISTEN", l->where_listen,
                  sizeof l->where_listen);
    }
    where_env("CA_URL", l->where_url, sizeof l->where_url);
    where_env(eca_env_str("EAB_KID") ? "EAB_KID" : "EAB_HMAC_KEY_FILE", l->where_eab,
              sizeof l->where_eab);
    if ((rc = env_str("CA_URL", &l->ca_url, err)) != ECA_OK ||
        (rc = env_str("ACME_PROVISIONER", &l->provisioner, err)) != ECA_OK ||
        (rc = env_str("CA_BUNDLE", &c->ca_bundle, err)) != ECA_OK ||
        (rc = env_str("STATE_DIR", &c->state_dir, err)) != ECA_OK ||
        (rc = env_str("EAB_KID", &c->eab_kid, err)) != ECA_OK ||
        (rc = env_str("EAB_HMAC_KEY_FILE", &c->eab_hmac_key_file, err)) != ECA_OK ||
        (rc = env_str("HTTP01_LISTEN", &c->http01_listen, err)) != ECA_OK ||
        (rc = env_str("WEBROOT", &c->webroot, err)) != ECA_OK ||
        (rc = env_str("PREFERRED_CHAIN", &c->preferred_chain, err)) != ECA_OK ||
        (rc = eca_env_int("CHECK_INTERVAL_SECONDS", 1, 31L * 86400, &iv, err)) != ECA_OK ||
        (rc = eca_env_bool("FORCE_RENEWAL", &c->force, err)) != ECA_OK ||
        (rc = eca_env_bool("TOS_AGREED", &c->tos_agreed, err)) != ECA_OK)
        return rc;
    c->check_interval_s = (long)iv;
    if ((v = eca_env_str("ACME_CONTACT")) != NULL) {
        free_vec(c->contact, c->ncontact);
        c->contact = NULL;
        c->ncontact = 0;
        if ((rc = split_csv(v, &c->contact, &c->ncontact, err)) != ECA_OK)
            return rc;
    }
    if ((v = eca_env_str("LOG_LEVEL")) && eca_log_level_parse(v, &c->log_level) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: LOG_LEVEL: '%s' (debug, info, warn, error)",
                           ENV_WHERE, v);
    if ((v = eca_env_str("LOG_FORMAT")) && eca_log_format_parse(v, &c->log_format) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: LOG_FORMAT: '%s' (json, text)", ENV_WHERE, v);
    return certs_env_overrides(c, err);
}

static enum eca_rc
apply_cli(struct acme_conf *c, const struct acme_conf_cli *cli, struct eca_err *err)
{
    if (cli == NULL)
        return ECA_OK;
    if (cli->log_format && eca_log_format_parse(cli->log_format, &c->log_format) != 0)
        return eca_err_set(err, ECA_ECONF, "--log-format: '%s' (json, text)", cli->log_format);
    if (cli->force)
        c->force = 1;
    return ECA_OK;
}

/* CA_URL is the directory, or a base to which /acme/<provisioner>/directory is appended. */
static enum eca_rc
finish_url(struct loader *l, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *where = l->where_url[0] ? l->where_url : "ca_url (CA_URL)";
    size_t n;

    if (l->ca_url == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: ca_url (CA_URL): required",
                           c->config_path ? c->config_path : ENV_WHERE);
    if (strncmp(l->ca_url, "https://", 8) != 0 &&
        !(c->insecure && strncmp(l->ca_url, "http://", 7) == 0))
        return eca_err_set(err, ECA_ECONF, "%s: '%s': must be an https:// URL%s", where, l->ca_url,
                           c->insecure ? " (or http://)" : "");
    if (l->provisioner == NULL)
        return set_str(&c->directory_url, l->ca_url, err);
    n = strlen(l->ca_url);
    while (n > 0 && l->ca_url[n - 1] == '/')
        n--;
    c->directory_url = str_printf("%.*s/acme/%s/directory", (int)n, l->ca_url, l->provisioner);
    if (c->directory_url == NULL) {
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    }
    return ECA_OK;
}

static enum eca_rc
check_listen(const char *where, const char *v, struct eca_err *err)
{
    const char *colon = strrchr(v, ':');
    char *end = NULL;
    long port;

    if (colon == NULL || colon == v || colon[1] == '\0')
        return eca_err_set(err, ECA_ECONF, "%s: '%s': expected addr:port", where, v);
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return eca_err_set(err, ECA_ECONF, "%s: '%s': port must be 0..65535", where, v);
    return ECA_OK;
}

static enum eca_rc
finish_checks(struct loader *l, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *src = c->config_path ? c->config_path : ENV_WHERE;
    enum eca_rc rc;

    if ((rc = finish_url(l, err)) != ECA_OK)
        return rc;
    if (c->http01_listen && c->webroot)
        return eca_err_set(err, ECA_ECONF, "%s: http01_listen and webroot: set only one",
                           l->where_listen[0] ? l->where_listen : src);
    if (c->http01_listen == NULL && c->webroot == NULL)
        return eca_err_set(
            err, ECA_ECONF,
            "%s: http01_listen (HTTP01_LISTEN) or webroot (WEBROOT): one is required", src);
    if (c->http01_listen &&
        (rc = check_listen(l->where_listen[0] ? l->where_listen : "http01_listen", c->http01_listen,
                           err)) != ECA_OK)
        return rc;
    if ((c->eab_kid == NULL) != (c->eab_hmac_key_file == NULL))
        return eca_err_set(err, ECA_ECONF,
                           "%s: eab_kid (EAB_KID) and eab_hmac_key_file (EAB_HMAC_KEY_FILE) go "
                           "together",
                           l->where_eab[0] ? l->where_eab : src);
    if (c->state_dir == NULL)
        return set_str(&c->state_dir, ACME_CONF_DEFAULT_STATE_DIR, err);
    return ECA_OK;
}

enum eca_rc
acme_conf_load(const struct acme_conf_cli *cli, struct acme_conf **out, struct eca_err *err)
{
    struct loader l;
    enum eca_rc rc;

    memset(&l, 0, sizeof l);
    if ((l.c = calloc(1, sizeof(*l.c))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "config: out of memory");
    l.c->tos_agreed = 1;
    l.c->check_interval_s = ACME_CONF_DEFAULT_INTERVAL;
    l.c->log_level = ECA_LOG_INFO;
    l.c->log_format = ECA_LOG_JSON;
    if (cli && cli->config_path)
        rc = load_file(&l, cli->config_path, err);
    else
        rc = cert_from_env(l.c, err);
    if (rc == ECA_OK)
        rc = globals_from_env(&l, err);
    if (rc == ECA_OK)
        rc = apply_cli(l.c, cli, err);
    if (rc == ECA_OK)
        rc = finish_checks(&l, err);
    if (rc == ECA_OK) {
        *out = l.c;
        l.c = NULL;
    }
    free(l.ca_url);
    free(l.provisioner);
    acme_conf_free(l.c);
    return rc;
}

const struct acme_cert_conf *
acme_conf_find(const struct acme_conf *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->ncerts; i++)
        if (strcmp(c->certs[i].name, name) == 0)
            return &c->certs[i];
    return NULL;
}

static void
cert_free(struct acme_cert_conf *cc)
{
    free(cc->name);
    free_vec(cc->domains, cc->ndomains);
    free(cc->cert_path);
    free(cc->key_path);
    free(cc->chain_path);
    free(cc->reload_command);
    free(cc->reload_signal);
    free(cc->reload_pid_file);
}

void
acme_conf_free(struct acme_conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ncerts; i++)
        cert_free(&c->certs[i]);
    free(c->certs);
    free(c->config_path);
    free(c->directory_url);
    free(c->ca_bundle);
    free(c->state_dir);
    free_vec(c->contact, c->ncontact);
    free(c->eab_kid);
    free(c->eab_hmac_key_file);
    free(c->http01_listen);
    free(c->webroot);
    free(c->preferred_chain);
    free(c);
}
