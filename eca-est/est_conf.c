/* SPDX-License-Identifier: MIT */
/* eca-est configuration: libconfig file or environment contract -> struct est_conf. */
#include "est_conf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "eca_conf.h"

#define ENV_WHERE "environment"
#define OOM(err)  eca_err_set((err), ECA_ENOMEM, "config: out of memory")

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

static enum eca_rc
set_str(char **dst, const char *s, struct eca_err *err)
{
    char *d = strdup(s);

    if (d == NULL)
        return OOM(err);
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

/* Comma-separated list into a new vector (blanks trimmed, empty items skipped). */
static enum eca_rc
split_csv(const char *s, char ***out, size_t *nout, struct eca_err *err)
{
    char **v = NULL, **nv, *copy = strdup(s), *save = NULL, *tok, *end;
    size_t n = 0;
    enum eca_rc rc = ECA_OK;

    if (copy == NULL)
        return OOM(err);
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*tok == '\0')
            continue;
        if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
            rc = OOM(err);
            goto out;
        }
        v = nv;
        if ((v[n] = strdup(tok)) == NULL) {
            rc = OOM(err);
            goto out;
        }
        n++;
    }
    free_vec(*out, *nout);
    *out = v;
    *nout = n;
    v = NULL;
out:
    free_vec(v, n);
    free(copy);
    return rc;
}

/* A string list from the file: a list/array of strings or one comma-separated string. */
static enum eca_rc
file_str_list(const config_setting_t *g, const char *name, char ***out, size_t *nout,
              struct eca_err *err)
{
    config_setting_t *s = config_setting_get_member(g, name);
    char **v;
    int n;

    if (s == NULL)
        return ECA_OK;
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return split_csv(config_setting_get_string(s), out, nout, err);
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return at_setting(s, err, "expected a list of strings");
    n = config_setting_length(s);
    if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
        return OOM(err);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            free_vec(v, (size_t)n);
            return at_setting(e, err, "expected string");
        }
        if ((v[i] = strdup(config_setting_get_string(e))) == NULL) {
            free_vec(v, (size_t)n);
            return OOM(err);
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

static int
dns_is_valid(const char *d)
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

/* Values known only at the end, with where they were set (for messages). */
struct loader {
    struct est_conf *c;
    char *ca_url, *provisioner, *token_file, *token_env;
    char where_url[320], where_token[320];
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

static void
where_env(const char *var, char *out, size_t outlen)
{
    if (eca_env_str(var))
        snprintf(out, outlen, "%s: %s", ENV_WHERE, var);
}

/* ---- the file ---- */

static enum eca_rc
enum_setting(const config_setting_t *g, const char *name, struct est_cert_conf *cc,
             struct eca_err *err)
{
    const config_setting_t *s = config_setting_get_member(g, name);
    const char *v = NULL;
    enum eca_rc rc = eca_conf_get_str(g, name, 0, &v, err);

    if (rc != ECA_OK || v == NULL)
        return rc;
    if (strcmp(name, "key_type") == 0 && eca_key_type_parse(v, &cc->key_type) != 0)
        return at_setting(s, err,
                          "unknown key type '%s' (ec-p256, ec-p384, rsa-2048, "
                          "rsa-3072, rsa-4096)",
                          v);
    if (strcmp(name, "pfx_profile") == 0 && eca_pkcs12_profile_parse(v, &cc->pfx_profile) != 0)
        return at_setting(s, err, "unknown PKCS#12 profile '%s' (modern, legacy)", v);
    return ECA_OK;
}

static enum eca_rc
cert_outputs_from_file(const config_setting_t *g, struct est_cert_conf *cc, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = file_str(g, "cert_path", &cc->cert_path, err)) != ECA_OK ||
        (rc = file_str(g, "key_path", &cc->key_path, err)) != ECA_OK ||
        (rc = file_str(g, "chain_path", &cc->chain_path, err)) != ECA_OK ||
        (rc = file_str(g, "ca_certs_path", &cc->ca_certs_path, err)) != ECA_OK ||
        (rc = file_str(g, "pfx_path", &cc->pfx_path, err)) != ECA_OK ||
        (rc = file_str(g, "pfx_password_file", &cc->pfx_password_file, err)) != ECA_OK ||
        (rc = file_str(g, "pfx_friendly_name", &cc->pfx_friendly_name, err)) != ECA_OK ||
        (rc = enum_setting(g, "pfx_profile", cc, err)) != ECA_OK)
        return rc;
    if (cc->cert_path == NULL)
        return at_setting(g, err, "cert_path: required");
    if (cc->key_path == NULL)
        return at_setting(g, err, "key_path: required");
    if (cc->pfx_path && cc->pfx_password_file == NULL)
        return at_setting(config_setting_get_member(g, "pfx_path"), err,
                          "needs pfx_password_file (a password is never written inline)");
    return ECA_OK;
}

static enum eca_rc
cert_from_file(const config_setting_t *g, struct est_cert_conf *cc, struct eca_err *err)
{
    const char *v = NULL;
    long long pct = cc->threshold_pct, tmo = cc->reload_timeout_s;
    enum eca_rc rc;

    if (!config_setting_is_group(g))
        return at_setting(g, err, "expected a group { name = ...; subject_dn = ...; ... }");
    if ((rc = eca_conf_get_str(g, "name", 1, &v, err)) != ECA_OK)
        return rc;
    if (!name_is_safe(v))
        return at_setting(config_setting_get_member(g, "name"), err,
                          "'%s': use letters, digits, '.', '_', '-' (at most 64)", v);
    if ((rc = set_str(&cc->name, v, err)) != ECA_OK ||
        (rc = file_str(g, "subject_dn", &cc->subject_dn, err)) != ECA_OK ||
        (rc = file_str_list(g, "sans", &cc->sans, &cc->nsans, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < cc->nsans; i++)
        if (!dns_is_valid(cc->sans[i]))
            return at_setting(config_setting_get_member(g, "sans"), err, "'%s' is not a DNS name",
                              cc->sans[i]);
    if (cc->subject_dn == NULL && cc->nsans == 0)
        return at_setting(g, err, "subject_dn or sans: one is required");
    if ((rc = cert_outputs_from_file(g, cc, err)) != ECA_OK ||
        (rc = enum_setting(g, "key_type", cc, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "renewal_threshold_percent", 0, 1, 99, &pct, err)) != ECA_OK ||
        (rc = file_str(g, "reload_command", &cc->reload_command, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "reload_timeout_seconds", 0, 1, 3600, &tmo, err)) != ECA_OK)
        return rc;
    cc->threshold_pct = (int)pct;
    cc->reload_timeout_s = (int)tmo;
    return ECA_OK;
}

static void
cert_defaults(struct est_cert_conf *cc)
{
    memset(cc, 0, sizeof(*cc));
    cc->key_type = ECA_KEY_EC_P256;
    cc->threshold_pct = EST_CONF_DEFAULT_THRESHOLD;
    cc->reload_timeout_s = EST_CONF_DEFAULT_RELOAD_TIMEOUT;
    cc->pfx_profile = ECA_PKCS12_MODERN;
}

static enum eca_rc
certs_from_file(const config_setting_t *root, struct est_conf *c, struct eca_err *err)
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
        return OOM(err);
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
basic_mode(const char *v, int *out)
{
    if (strcasecmp(v, "preemptive") == 0)
        *out = 1;
    else if (strcasecmp(v, "challenge") == 0)
        *out = 0;
    else
        return ECA_ECONF;
    return ECA_OK;
}

static enum eca_rc
creds_from_file(const config_setting_t *root, struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *v = NULL;
    enum eca_rc rc;

    if ((rc = file_str(root, "est_username", &c->username, err)) != ECA_OK ||
        (rc = file_str(root, "bootstrap_token_file", &l->token_file, err)) != ECA_OK ||
        (rc = file_str(root, "bootstrap_token_env", &l->token_env, err)) != ECA_OK ||
        (rc = file_str(root, "bootstrap_cert_path", &c->bootstrap_cert, err)) != ECA_OK ||
        (rc = file_str(root, "bootstrap_key_path", &c->bootstrap_key, err)) != ECA_OK ||
        (rc = eca_conf_get_str(root, "basic_auth", 0, &v, err)) != ECA_OK)
        return rc;
    if (l->token_file && l->token_env)
        return at_setting(config_setting_get_member(root, "bootstrap_token_env"), err,
                          "set bootstrap_token_file or bootstrap_token_env, not both");
    where_file(root, l->token_file ? "bootstrap_token_file" : "bootstrap_token_env", l->where_token,
               sizeof l->where_token);
    if (v && basic_mode(v, &c->basic_preemptive) != ECA_OK)
        return at_setting(config_setting_get_member(root, "basic_auth"), err,
                          "'%s' (preemptive, challenge)", v);
    return ECA_OK;
}

static enum eca_rc
misc_from_file(const config_setting_t *root, struct est_conf *c, struct eca_err *err)
{
    const char *v = NULL;
    long long iv = c->check_interval_s, age = c->crl_max_age_s / 3600, mp = c->max_pending_s;
    enum eca_rc rc;

    if ((rc = eca_conf_get_bool(root, "crl_enabled", 0, &c->crl_enabled, err)) != ECA_OK ||
        (rc = file_str(root, "crl_url", &c->crl_url, err)) != ECA_OK ||
        (rc = eca_conf_get_int(root, "crl_max_age_hours", 0, 1, 8760, &age, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "crl_fail_closed", 0, &c->crl_fail_closed, err)) ||
        (rc = eca_conf_get_int(root, "check_interval_seconds", 0, 1, 31L * 86400, &iv, err)) ||
        (rc = eca_conf_get_int(root, "max_pending_seconds", 0, 1, 86400, &mp, err)) != ECA_OK)
        return rc;
    c->check_interval_s = (long)iv;
    c->crl_max_age_s = (long)age * 3600;
    c->max_pending_s = (long)mp;
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
globals_from_file(const config_setting_t *root, struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    enum eca_rc rc;

    if ((rc = file_str(root, "ca_url", &l->ca_url, err)) != ECA_OK ||
        (rc = file_str(root, "est_provisioner", &l->provisioner, err)) != ECA_OK ||
        (rc = file_str(root, "ca_bundle", &c->ca_bundle, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "insecure", 0, &c->insecure, err)) != ECA_OK ||
        (rc = file_str(root, "state_dir", &c->state_dir, err)) != ECA_OK ||
        (rc = creds_from_file(root, l, err)) != ECA_OK)
        return rc;
    where_file(root, "ca_url", l->where_url, sizeof l->where_url);
    return misc_from_file(root, c, err);
}

static enum eca_rc
load_file(struct loader *l, const char *path, struct eca_err *err)
{
    config_t cfg;
    enum eca_rc rc;

    /* eca_conf_load initialises cfg itself and destroys it when it fails. */
    if ((rc = set_str(&l->c->config_path, path, err)) != ECA_OK ||
        (rc = eca_conf_load(path, &cfg, err)) != ECA_OK)
        return rc;
    if ((rc = globals_from_file(config_root_setting(&cfg), l, err)) == ECA_OK)
        rc = certs_from_file(config_root_setting(&cfg), l->c, err);
    config_destroy(&cfg);
    return rc;
}

/* ---- the environment ---- */

static enum eca_rc
env_enum(const char *var, struct est_cert_conf *cc, struct eca_err *err)
{
    const char *v = eca_env_str(var);

    if (v == NULL)
        return ECA_OK;
    if (strcmp(var, "KEY_TYPE") == 0 && eca_key_type_parse(v, &cc->key_type) != 0)
        return eca_err_set(err, ECA_ECONF,
                           "%s: KEY_TYPE: unknown key type '%s' (ec-p256, "
                           "ec-p384, rsa-2048, rsa-3072, rsa-4096)",
                           ENV_WHERE, v);
    if (strcmp(var, "PFX_PROFILE") == 0 && eca_pkcs12_profile_parse(v, &cc->pfx_profile) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: PFX_PROFILE: '%s' (modern, legacy)", ENV_WHERE, v);
    return ECA_OK;
}

/* Variables that describe one certificate's identity and files. */
static enum eca_rc
cert_identity_from_env(struct est_cert_conf *cc, struct eca_err *err)
{
    const char *sans = eca_env_str("SANS");
    enum eca_rc rc;

    if (sans == NULL)
        sans = eca_env_str("DOMAIN_NAME");
    if ((rc = env_str("SUBJECT_DN", &cc->subject_dn, err)) != ECA_OK ||
        (sans && (rc = split_csv(sans, &cc->sans, &cc->nsans, err)) != ECA_OK))
        return rc;
    for (size_t i = 0; i < cc->nsans; i++)
        if (!dns_is_valid(cc->sans[i]))
            return eca_err_set(err, ECA_ECONF, "%s: SANS: '%s' is not a DNS name", ENV_WHERE,
                               cc->sans[i]);
    if ((rc = env_str("CERT_PATH", &cc->cert_path, err)) != ECA_OK ||
        (rc = env_str("KEY_PATH", &cc->key_path, err)) != ECA_OK ||
        (rc = env_str("CHAIN_PATH", &cc->chain_path, err)) != ECA_OK ||
        (rc = env_str("CA_CERTS_PATH", &cc->ca_certs_path, err)) != ECA_OK ||
        (rc = env_str("PFX_PATH", &cc->pfx_path, err)) != ECA_OK ||
        (rc = env_str("PFX_PASSWORD_FILE", &cc->pfx_password_file, err)) != ECA_OK ||
        (rc = env_str("PFX_FRIENDLY_NAME", &cc->pfx_friendly_name, err)) != ECA_OK)
        return rc;
    return env_enum("PFX_PROFILE", cc, err);
}

/* Variables that tune every certificate (env > file). */
static enum eca_rc
cert_policy_from_env(struct est_cert_conf *cc, struct eca_err *err)
{
    long long pct = cc->threshold_pct, tmo = cc->reload_timeout_s;
    enum eca_rc rc;

    if ((rc = env_enum("KEY_TYPE", cc, err)) != ECA_OK ||
        (rc = eca_env_int("RENEWAL_THRESHOLD_PERCENT", 1, 99, &pct, err)) != ECA_OK ||
        (rc = eca_env_int("RELOAD_TIMEOUT_SECONDS", 1, 3600, &tmo, err)) != ECA_OK ||
        (rc = env_str("RELOAD_COMMAND", &cc->reload_command, err)) != ECA_OK)
        return rc;
    cc->threshold_pct = (int)pct;
    cc->reload_timeout_s = (int)tmo;
    return ECA_OK;
}

static enum eca_rc
cert_name_from_subject(struct est_cert_conf *cc, struct eca_err *err)
{
    const char *env = eca_env_str("CERT_NAME"), *cn;
    char buf[65];
    size_t n = 0;

    if (env != NULL) {
        if (!name_is_safe(env))
            return eca_err_set(err, ECA_ECONF,
                               "%s: CERT_NAME: '%s': use letters, digits, '.', "
                               "'_', '-' (at most 64)",
                               ENV_WHERE, env);
        return set_str(&cc->name, env, err);
    }
    cn = cc->subject_dn ? strstr(cc->subject_dn, "CN=") : NULL;
    if (cn != NULL)
        for (cn += 3; cn[n] && cn[n] != ',' && n + 1 < sizeof buf; n++)
            buf[n] = cn[n];
    else if (cc->nsans > 0)
        n = (size_t)snprintf(buf, sizeof buf, "%s", cc->sans[0]) % sizeof buf;
    buf[n] = '\0';
    return set_str(&cc->name, name_is_safe(buf) ? buf : "default", err);
}

/* Environment mode: the one certificate of the container contract. */
static enum eca_rc
cert_from_env(struct est_conf *c, struct eca_err *err)
{
    struct est_cert_conf *cc;
    enum eca_rc rc;

    if ((c->certs = calloc(1, sizeof(*c->certs))) == NULL)
        return OOM(err);
    cc = &c->certs[0];
    cert_defaults(cc);
    c->ncerts = 1;
    if ((rc = cert_identity_from_env(cc, err)) != ECA_OK)
        return rc;
    if (cc->subject_dn == NULL && cc->nsans == 0)
        return eca_err_set(err, ECA_ECONF,
                           "%s: SUBJECT_DN or SANS: one is required (no --config "
                           "file given)",
                           ENV_WHERE);
    if (cc->cert_path == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: CERT_PATH: required", ENV_WHERE);
    if (cc->key_path == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: KEY_PATH: required", ENV_WHERE);
    if (cc->pfx_path && cc->pfx_password_file == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: PFX_PATH needs PFX_PASSWORD_FILE", ENV_WHERE);
    return cert_name_from_subject(cc, err);
}

static enum eca_rc
creds_from_env(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *v;
    enum eca_rc rc;

    if (eca_env_str("BOOTSTRAP_TOKEN") && eca_env_str("BOOTSTRAP_TOKEN_FILE"))
        return eca_err_set(err, ECA_ECONF,
                           "%s: BOOTSTRAP_TOKEN and BOOTSTRAP_TOKEN_FILE: set "
                           "only one",
                           ENV_WHERE);
    if (eca_env_str("BOOTSTRAP_TOKEN") || eca_env_str("BOOTSTRAP_TOKEN_FILE")) {
        free(l->token_file);
        free(l->token_env);
        l->token_file = l->token_env = NULL;
        where_env(eca_env_str("BOOTSTRAP_TOKEN") ? "BOOTSTRAP_TOKEN" : "BOOTSTRAP_TOKEN_FILE",
                  l->where_token, sizeof l->where_token);
        if (eca_env_str("BOOTSTRAP_TOKEN") &&
            (rc = set_str(&l->token_env, "BOOTSTRAP_TOKEN", err)) != ECA_OK)
            return rc;
    }
    if ((rc = env_str("BOOTSTRAP_TOKEN_FILE", &l->token_file, err)) != ECA_OK ||
        (rc = env_str("EST_USERNAME", &c->username, err)) != ECA_OK ||
        (rc = env_str("BOOTSTRAP_CERT_PATH", &c->bootstrap_cert, err)) != ECA_OK ||
        (rc = env_str("BOOTSTRAP_KEY_PATH", &c->bootstrap_key, err)) != ECA_OK)
        return rc;
    if ((v = eca_env_str("EST_BASIC_AUTH")) && basic_mode(v, &c->basic_preemptive) != ECA_OK)
        return eca_err_set(err, ECA_ECONF, "%s: EST_BASIC_AUTH: '%s' (preemptive, challenge)",
                           ENV_WHERE, v);
    return ECA_OK;
}

static enum eca_rc
misc_from_env(struct est_conf *c, struct eca_err *err)
{
    long long iv = c->check_interval_s, age = c->crl_max_age_s / 3600, mp = c->max_pending_s;
    const char *v;
    enum eca_rc rc;

    if ((rc = eca_env_bool("CRL_ENABLED", &c->crl_enabled, err)) != ECA_OK ||
        (rc = env_str("CRL_URL", &c->crl_url, err)) != ECA_OK ||
        (rc = eca_env_int("CRL_MAX_AGE_HOURS", 1, 8760, &age, err)) != ECA_OK ||
        (rc = eca_env_bool("CRL_FAIL_CLOSED", &c->crl_fail_closed, err)) != ECA_OK ||
        (rc = eca_env_int("CHECK_INTERVAL_SECONDS", 1, 31L * 86400, &iv, err)) != ECA_OK ||
        (rc = eca_env_int("EST_MAX_PENDING_SECONDS", 1, 86400, &mp, err)) != ECA_OK ||
        (rc = eca_env_bool("FORCE_RENEWAL", &c->force, err)) != ECA_OK)
        return rc;
    c->check_interval_s = (long)iv;
    c->crl_max_age_s = (long)age * 3600;
    c->max_pending_s = (long)mp;
    if ((v = eca_env_str("LOG_LEVEL")) && eca_log_level_parse(v, &c->log_level) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: LOG_LEVEL: '%s' (debug, info, warn, error)",
                           ENV_WHERE, v);
    if ((v = eca_env_str("LOG_FORMAT")) && eca_log_format_parse(v, &c->log_format) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: LOG_FORMAT: '%s' (json, text)", ENV_WHERE, v);
    return ECA_OK;
}

static enum eca_rc
globals_from_env(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    enum eca_rc rc;

    where_env("CA_URL", l->where_url, sizeof l->where_url);
    if ((rc = env_str("CA_URL", &l->ca_url, err)) != ECA_OK ||
        (rc = env_str("EST_PROVISIONER", &l->provisioner, err)) != ECA_OK ||
        (rc = env_str("CA_BUNDLE", &c->ca_bundle, err)) != ECA_OK ||
        (rc = eca_env_bool("INSECURE", &c->insecure, err)) != ECA_OK ||
        (rc = env_str("STATE_DIR", &c->state_dir, err)) != ECA_OK ||
        (rc = creds_from_env(l, err)) != ECA_OK || (rc = misc_from_env(c, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++) {
        /* With a file, identity variables apply only when it has a single certificate. */
        if (c->config_path && c->ncerts == 1 &&
            (rc = cert_identity_from_env(&c->certs[i], err)) != ECA_OK)
            return rc;
        if ((rc = cert_policy_from_env(&c->certs[i], err)) != ECA_OK)
            return rc;
    }
    return ECA_OK;
}

/* ---- final checks ---- */

static enum eca_rc
apply_cli(struct est_conf *c, const struct est_conf_cli *cli, struct eca_err *err)
{
    if (cli == NULL)
        return ECA_OK;
    if (cli->log_format && eca_log_format_parse(cli->log_format, &c->log_format) != 0)
        return eca_err_set(err, ECA_ECONF, "--log-format: '%s' (json, text)", cli->log_format);
    if (cli->force)
        c->force = 1;
    return ECA_OK;
}

/* RFC 7030 §3.2.2: https://<server>/.well-known/est[/<label>]/<operation>. */
static enum eca_rc
finish_url(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *where = l->where_url[0] ? l->where_url : "ca_url (CA_URL)";
    size_t n;

    if (l->ca_url == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: ca_url (CA_URL): required",
                           c->config_path ? c->config_path : ENV_WHERE);
    if (strncmp(l->ca_url, "https://", 8) != 0 &&
        !(c->insecure && strncmp(l->ca_url, "http://", 7) == 0))
        return eca_err_set(err, ECA_ECONF, "%s: '%s': must be an https:// URL%s", where, l->ca_url,
                           c->insecure ? " (or http://)" : "");
    if (l->provisioner && (!name_is_safe(l->provisioner)))
        return eca_err_set(err, ECA_ECONF,
                           "est_provisioner (EST_PROVISIONER): '%s' is not a "
                           "valid label",
                           l->provisioner);
    n = strlen(l->ca_url);
    while (n > 0 && l->ca_url[n - 1] == '/')
        n--;
    if (n >= 16 && strstr(l->ca_url, "/.well-known/est") != NULL)
        c->base_url = str_printf("%.*s", (int)n, l->ca_url);
    else
        c->base_url = str_printf("%.*s/.well-known/est%s%s", (int)n, l->ca_url,
                                 l->provisioner ? "/" : "", l->provisioner ? l->provisioner : "");
    return c->base_url ? ECA_OK : OOM(err);
}

static enum eca_rc
finish_token(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *where = l->where_token[0] ? l->where_token : "bootstrap token";
    enum eca_rc rc = ECA_OK;

    if (l->token_file)
        rc = eca_secret_from_file(l->token_file, &c->token, err);
    else if (l->token_env)
        rc = eca_secret_from_env(l->token_env, &c->token, err);
    if (rc != ECA_OK) {
        eca_err_prefix(err, "%s: ", where);
        if (err != NULL)
            err->rc = ECA_ECONF;
        return ECA_ECONF;
    }
    if (c->token && c->username == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: needs est_username (EST_USERNAME) for HTTP Basic",
                           where);
    return ECA_OK;
}

static enum eca_rc
finish_checks(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *src = c->config_path ? c->config_path : ENV_WHERE;
    enum eca_rc rc;

    if ((rc = finish_url(l, err)) != ECA_OK || (rc = finish_token(l, err)) != ECA_OK)
        return rc;
    if ((c->bootstrap_cert == NULL) != (c->bootstrap_key == NULL))
        return eca_err_set(err, ECA_ECONF,
                           "%s: bootstrap_cert_path (BOOTSTRAP_CERT_PATH) and "
                           "bootstrap_key_path (BOOTSTRAP_KEY_PATH) go together",
                           src);
    if (c->token == NULL && c->bootstrap_cert == NULL)
        return eca_err_set(err, ECA_ECONF,
                           "%s: first enrollment needs credentials: set "
                           "BOOTSTRAP_TOKEN (or BOOTSTRAP_TOKEN_FILE) with EST_USERNAME, or "
                           "BOOTSTRAP_CERT_PATH and BOOTSTRAP_KEY_PATH",
                           src);
    if (c->state_dir == NULL)
        return set_str(&c->state_dir, EST_CONF_DEFAULT_STATE_DIR, err);
    return ECA_OK;
}

enum eca_rc
est_conf_load(const struct est_conf_cli *cli, struct est_conf **out, struct eca_err *err)
{
    struct loader l;
    enum eca_rc rc;

    memset(&l, 0, sizeof l);
    if ((l.c = calloc(1, sizeof(*l.c))) == NULL)
        return OOM(err);
    l.c->check_interval_s = EST_CONF_DEFAULT_INTERVAL;
    l.c->log_level = ECA_LOG_INFO;
    l.c->log_format = ECA_LOG_JSON;
    l.c->basic_preemptive = 1;
    l.c->max_pending_s = EST_CONF_DEFAULT_MAX_PENDING;
    l.c->crl_max_age_s = EST_CONF_DEFAULT_CRL_MAX_AGE_H * 3600L;
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
    free(l.token_file);
    free(l.token_env);
    est_conf_free(l.c);
    return rc;
}

static void
cert_free(struct est_cert_conf *cc)
{
    free(cc->name);
    free(cc->subject_dn);
    free_vec(cc->sans, cc->nsans);
    free(cc->cert_path);
    free(cc->key_path);
    free(cc->chain_path);
    free(cc->ca_certs_path);
    free(cc->pfx_path);
    free(cc->pfx_password_file);
    free(cc->pfx_friendly_name);
    free(cc->reload_command);
}

void
est_conf_free(struct est_conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ncerts; i++)
        cert_free(&c->certs[i]);
    free(c->certs);
    free(c->config_path);
    free(c->base_url);
    free(c->ca_bundle);
    free(c->state_dir);
    free(c->username);
    eca_secret_free(c->token);
    free(c->bootstrap_cert);
    free(c->bootstrap_key);
    free(c->crl_url);
    free(c);
}
