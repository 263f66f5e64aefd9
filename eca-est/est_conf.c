/* SPDX-License-Identifier: MIT */
/* eca-est configuration: libconfig file or environment contract -> struct est_conf. */
#include "est_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "eca_conf.h"
#include "eca_crlmemo.h"
#include "eca_fs.h"
#include "eca_log.h"

#define ENV_WHERE ECA_CONF_ENV
#define OOM(err)  eca_err_set((err), ECA_ENOMEM, "config: out of memory")

/* Values known only at the end, with where they were set (for messages). */
struct loader {
    struct est_conf *c;
    char *provisioner, *token_file, *token_env;
    char where_token[320];
    config_t cfg; /* the file, kept to the end so host checks can name file:line */
    int have_cfg;
};

/* ---- issue 10 item 2: pending requests (max_pending_hours / MAX_PENDING_HOURS) ---- */

/* root NULL: the environment's MAX_PENDING_HOURS; else the file's max_pending_hours. */
static enum eca_rc
pending_settings(const config_setting_t *root, struct est_conf *c, struct eca_err *err)
{
    long long h = c->max_pending_age_s / 3600;
    enum eca_rc rc = root ? eca_conf_get_int(root, "max_pending_hours", 0, 1, 8760, &h, err)
                          : eca_env_int("MAX_PENDING_HOURS", 1, 8760, &h, err);

    c->max_pending_age_s = (long)h * 3600;
    return rc;
}

/* The names our readers below take, besides the shared ones (eca_agentconf_names,
 * eca_certconf_names): a name missing here makes a valid file an error. */
static const char *const root_names[] = {
    "est_provisioner",
    "est_username",
    "bootstrap_token_file",
    "bootstrap_token_env",
    "bootstrap_cert_path",
    "bootstrap_key_path",
    "basic_auth",
    "crl_enabled",
    "crl_url",
    "crl_max_age_hours",
    "crl_fail_closed",
    "crl_refresh_seconds",
    "max_pending_seconds",
    "max_pending_hours",
    "pop",
    NULL,
};
static const char *const cert_names[] = {
    "subject_dn",  "sans", "ca_certs_path", "pfx_path", "pfx_password_file", "pfx_friendly_name",
    "pfx_profile", NULL,
};
static const char *const *const root_lists[] = {eca_agentconf_names, root_names, NULL};
static const char *const *const cert_lists[] = {eca_certconf_names, cert_names, NULL};

/* ---- the file ---- */

static enum eca_rc
pfx_profile_from_file(const config_setting_t *g, struct est_cert_conf *cc, struct eca_err *err)
{
    const char *v = NULL;
    enum eca_rc rc = eca_conf_get_str(g, "pfx_profile", 0, &v, err);

    if (rc != ECA_OK || v == NULL)
        return rc;
    if (eca_pkcs12_profile_parse(v, &cc->pfx_profile) != 0)
        return eca_conf_at(config_setting_get_member(g, "pfx_profile"), err,
                           "unknown PKCS#12 profile '%s' (modern, legacy)", v);
    return ECA_OK;
}

static enum eca_rc
cert_outputs_from_file(const config_setting_t *g, struct est_cert_conf *cc, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_conf_str(g, "ca_certs_path", &cc->ca_certs_path, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "pfx_path", &cc->pfx_path, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "pfx_password_file", &cc->pfx_password_file, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "pfx_friendly_name", &cc->pfx_friendly_name, err)) != ECA_OK ||
        (rc = pfx_profile_from_file(g, cc, err)) != ECA_OK)
        return rc;
    if (cc->base.layout == ECA_LAYOUT_PKCS12 && cc->pfx_path == NULL)
        return eca_conf_at(g, err, "layout pkcs12 needs pfx_path");
    if (cc->pfx_path && cc->pfx_password_file == NULL)
        return eca_conf_at(config_setting_get_member(g, "pfx_path"), err,
                           "needs pfx_password_file (a password is never written inline)");
    return ECA_OK;
}

static enum eca_rc
cert_from_file(const config_setting_t *g, struct est_cert_conf *cc, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_certconf_from_file(g, ECA_CERTCONF_PKCS12, &cc->base, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "subject_dn", &cc->subject_dn, err)) != ECA_OK ||
        (rc = eca_conf_str_list(g, "sans", &cc->sans, &cc->nsans, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < cc->nsans; i++)
        if (!eca_conf_dns_is_valid(cc->sans[i]))
            return eca_conf_at(config_setting_get_member(g, "sans"), err, "'%s' is not a DNS name",
                               cc->sans[i]);
    if (cc->subject_dn == NULL && cc->nsans == 0)
        return eca_conf_at(g, err, "subject_dn or sans: one is required");
    return cert_outputs_from_file(g, cc, err);
}

/* The list `certificates`: each element parsed, names unique. */
static enum eca_rc
certs_from_file(const config_setting_t *root, struct est_conf *c, struct eca_err *err)
{
    const config_setting_t *list = NULL;
    size_t n = 0;
    enum eca_rc rc;

    if ((rc = eca_certconf_list(root, c->g.config_path, &list, &n, err)) != ECA_OK)
        return rc;
    if ((c->certs = calloc(n, sizeof(*c->certs))) == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

        eca_certconf_defaults(&c->certs[i].base);
        c->ncerts = i + 1;
        if ((rc = eca_conf_check_known(g, cert_lists, err)) != ECA_OK ||
            (rc = cert_from_file(g, &c->certs[i], err)) != ECA_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->certs[j].base.name, c->certs[i].base.name) == 0)
                return eca_certconf_duplicate(g, c->certs[i].base.name, err);
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

    if ((rc = eca_conf_str(root, "est_username", &c->username, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "bootstrap_token_file", &l->token_file, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "bootstrap_token_env", &l->token_env, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "bootstrap_cert_path", &c->bootstrap_cert, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "bootstrap_key_path", &c->bootstrap_key, err)) != ECA_OK ||
        (rc = eca_conf_get_str(root, "basic_auth", 0, &v, err)) != ECA_OK)
        return rc;
    if (l->token_file && l->token_env)
        return eca_conf_at(config_setting_get_member(root, "bootstrap_token_env"), err,
                           "set bootstrap_token_file or bootstrap_token_env, not both");
    eca_conf_where_file(root, l->token_file ? "bootstrap_token_file" : "bootstrap_token_env",
                        l->where_token, sizeof l->where_token);
    if (v && basic_mode(v, &c->basic_preemptive) != ECA_OK)
        return eca_conf_at(config_setting_get_member(root, "basic_auth"), err,
                           "'%s' (preemptive, challenge)", v);
    return ECA_OK;
}

static enum eca_rc
misc_from_file(const config_setting_t *root, struct est_conf *c, struct eca_err *err)
{
    long long age = c->crl_max_age_s / 3600, mp = c->max_pending_s, refresh = c->crl_refresh_s;
    enum eca_rc rc;

    if ((rc = eca_conf_get_bool(root, "crl_enabled", 0, &c->crl_enabled, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "crl_url", &c->crl_url, err)) != ECA_OK ||
        (rc = eca_conf_get_int(root, "crl_max_age_hours", 0, 1, 8760, &age, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "crl_fail_closed", 0, &c->crl_fail_closed, err)) ||
        (rc = eca_conf_get_int(root, "crl_refresh_seconds", 0, 0, 86400, &refresh, err)) !=
            ECA_OK ||
        (rc = eca_conf_get_int(root, "max_pending_seconds", 0, 1, 86400, &mp, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "pop", 0, &c->pop, err)) != ECA_OK) /* issue 10 item 4 */
        return rc;
    c->crl_max_age_s = (long)age * 3600;
    c->crl_refresh_s = (long)refresh;
    c->max_pending_s = (long)mp;
    return ECA_OK;
}

static enum eca_rc
from_file(struct loader *l, const config_setting_t *root, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_conf_check_known(root, root_lists, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "est_provisioner", &l->provisioner, err)) != ECA_OK ||
        (rc = creds_from_file(root, l, err)) != ECA_OK ||
        (rc = misc_from_file(root, l->c, err)) != ECA_OK ||
        (rc = pending_settings(root, l->c, err)) != ECA_OK)
        return rc;
    return certs_from_file(root, l->c, err);
}

/* ---- the environment ---- */

/* Variables that describe one certificate's identity and files. */
static enum eca_rc
cert_identity_from_env(struct est_cert_conf *cc, struct eca_err *err)
{
    const char *sans = eca_env_str("SANS"), *v;
    enum eca_rc rc;

    if (sans == NULL)
        sans = eca_env_str("DOMAIN_NAME");
    if ((rc = eca_conf_env("SUBJECT_DN", &cc->subject_dn, err)) != ECA_OK ||
        (sans && (rc = eca_conf_split_csv(sans, &cc->sans, &cc->nsans, err)) != ECA_OK))
        return rc;
    for (size_t i = 0; i < cc->nsans; i++)
        if (!eca_conf_dns_is_valid(cc->sans[i]))
            return eca_err_set(err, ECA_ECONF, "%s: SANS: '%s' is not a DNS name", ENV_WHERE,
                               cc->sans[i]);
    if ((rc = eca_certconf_paths_from_env(&cc->base, err)) != ECA_OK ||
        (rc = eca_conf_env("CA_CERTS_PATH", &cc->ca_certs_path, err)) != ECA_OK ||
        (rc = eca_conf_env("PFX_PATH", &cc->pfx_path, err)) != ECA_OK ||
        (rc = eca_conf_env("PFX_PASSWORD_FILE", &cc->pfx_password_file, err)) != ECA_OK ||
        (rc = eca_conf_env("PFX_FRIENDLY_NAME", &cc->pfx_friendly_name, err)) != ECA_OK)
        return rc;
    if ((v = eca_env_str("PFX_PROFILE")) && eca_pkcs12_profile_parse(v, &cc->pfx_profile) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: PFX_PROFILE: '%s' (modern, legacy)", ENV_WHERE, v);
    return ECA_OK;
}

static enum eca_rc
cert_name_from_subject(struct est_cert_conf *cc, struct eca_err *err)
{
    const char *env = eca_env_str("CERT_NAME"), *cn;
    char buf[65];
    size_t n = 0;

    if (env != NULL) {
        if (!eca_conf_name_is_safe(env))
            return eca_err_set(err, ECA_ECONF,
                               "%s: CERT_NAME: '%s': use letters, digits, '.', "
                               "'_', '-' (at most 64)",
                               ENV_WHERE, env);
        return eca_conf_set_str(&cc->base.name, env, err);
    }
    cn = cc->subject_dn ? strstr(cc->subject_dn, "CN=") : NULL;
    if (cn != NULL)
        for (cn += 3; cn[n] && cn[n] != ',' && n + 1 < sizeof buf; n++)
            buf[n] = cn[n];
    else if (cc->nsans > 0)
        n = (size_t)snprintf(buf, sizeof buf, "%s", cc->sans[0]) % sizeof buf;
    buf[n] = '\0';
    return eca_conf_set_str(&cc->base.name, eca_conf_name_is_safe(buf) ? buf : "default", err);
}

/* Environment mode: the one certificate of the container contract. */
static enum eca_rc
cert_from_env(struct est_conf *c, struct eca_err *err)
{
    struct est_cert_conf *cc;
    const char *sans = eca_env_str("SANS") ? eca_env_str("SANS") : eca_env_str("DOMAIN_NAME");
    enum eca_rc rc;

    if ((c->certs = calloc(1, sizeof(*c->certs))) == NULL)
        return OOM(err);
    c->ncerts = 1;
    cc = &c->certs[0];
    eca_certconf_defaults(&cc->base);
    cc->pfx_profile = ECA_PKCS12_MODERN;
    if (eca_env_str("SUBJECT_DN") == NULL && sans == NULL)
        return eca_err_set(err, ECA_ECONF,
                           "%s: SUBJECT_DN or SANS: one is required (no --config "
                           "file given)",
                           ENV_WHERE);
    if ((rc = cert_identity_from_env(cc, err)) != ECA_OK)
        return rc;
    if (cc->subject_dn == NULL && cc->nsans == 0)
        return eca_err_set(err, ECA_ECONF, "%s: SANS: no DNS name in '%s'", ENV_WHERE, sans);
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
        eca_conf_where_env(eca_env_str("BOOTSTRAP_TOKEN") ? "BOOTSTRAP_TOKEN"
                                                          : "BOOTSTRAP_TOKEN_FILE",
                           l->where_token, sizeof l->where_token);
        if (eca_env_str("BOOTSTRAP_TOKEN") &&
            (rc = eca_conf_set_str(&l->token_env, "BOOTSTRAP_TOKEN", err)) != ECA_OK)
            return rc;
    }
    if ((rc = eca_conf_env("BOOTSTRAP_TOKEN_FILE", &l->token_file, err)) != ECA_OK ||
        (rc = eca_conf_env("EST_USERNAME", &c->username, err)) != ECA_OK ||
        (rc = eca_conf_env("BOOTSTRAP_CERT_PATH", &c->bootstrap_cert, err)) != ECA_OK ||
        (rc = eca_conf_env("BOOTSTRAP_KEY_PATH", &c->bootstrap_key, err)) != ECA_OK)
        return rc;
    if ((v = eca_env_str("EST_BASIC_AUTH")) && basic_mode(v, &c->basic_preemptive) != ECA_OK)
        return eca_err_set(err, ECA_ECONF, "%s: EST_BASIC_AUTH: '%s' (preemptive, challenge)",
                           ENV_WHERE, v);
    return ECA_OK;
}

static enum eca_rc
misc_from_env(struct est_conf *c, struct eca_err *err)
{
    long long age = c->crl_max_age_s / 3600, mp = c->max_pending_s, refresh = c->crl_refresh_s;
    enum eca_rc rc;

    if ((rc = eca_env_bool("CRL_ENABLED", &c->crl_enabled, err)) != ECA_OK ||
        (rc = eca_conf_env("CRL_URL", &c->crl_url, err)) != ECA_OK ||
        (rc = eca_env_int("CRL_MAX_AGE_HOURS", 1, 8760, &age, err)) != ECA_OK ||
        (rc = eca_env_bool("CRL_FAIL_CLOSED", &c->crl_fail_closed, err)) != ECA_OK ||
        (rc = eca_env_int("CRL_REFRESH_SECONDS", 0, 86400, &refresh, err)) != ECA_OK ||
        (rc = eca_env_int("EST_MAX_PENDING_SECONDS", 1, 86400, &mp, err)) != ECA_OK ||
        (rc = eca_env_bool("EST_POP", &c->pop, err)) != ECA_OK) /* issue 10 item 4 */
        return rc;
    c->crl_max_age_s = (long)age * 3600;
    c->crl_refresh_s = (long)refresh;
    c->max_pending_s = (long)mp;
    return ECA_OK;
}

static enum eca_rc
globals_from_env(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    enum eca_rc rc;

    if ((rc = eca_conf_env("EST_PROVISIONER", &l->provisioner, err)) != ECA_OK ||
        (rc = creds_from_env(l, err)) != ECA_OK || (rc = misc_from_env(c, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++) {
        /* With a file, identity variables apply only when it has a single certificate. */
        if (c->g.config_path && c->ncerts == 1 &&
            (rc = cert_identity_from_env(&c->certs[i], err)) != ECA_OK)
            return rc;
        if ((rc = eca_certconf_policy_from_env(&c->certs[i].base, err)) != ECA_OK)
            return rc;
    }
    return ECA_OK;
}

/* ---- final checks ---- */

/* RFC 7030 §3.2.2: https://<server>/.well-known/est[/<label>]/<operation>. */
static enum eca_rc
finish_url(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *url = c->g.ca_url;
    int n = eca_conf_url_len(url);

    if (l->provisioner && (!eca_conf_name_is_safe(l->provisioner)))
        return eca_err_set(err, ECA_ECONF,
                           "est_provisioner (EST_PROVISIONER): '%s' is not a "
                           "valid label",
                           l->provisioner);
    if (n >= 16 && strstr(url, "/.well-known/est") != NULL)
        c->base_url = eca_conf_printf("%.*s", n, url);
    else
        c->base_url = eca_conf_printf("%.*s/.well-known/est%s%s", n, url, l->provisioner ? "/" : "",
                                      l->provisioner ? l->provisioner : "");
    return c->base_url ? ECA_OK : OOM(err);
}

static enum eca_rc
finish_token(struct loader *l, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *where = l->where_token[0] ? l->where_token : "bootstrap token";
    enum eca_rc rc = ECA_OK;

    if (l->token_file && !eca_fs_exists(l->token_file)) {
        /* Single-use tokens are deleted after the first enrollment (docs/DEPLOYMENT.md): the
         * installed certificate authenticates from then on. Needed again only without one. */
        eca_log(ECA_LOG_WARN, "bootstrap_token_missing", NULL, NULL, 0,
                "%s: %s no longer exists; re-enrollment uses the installed certificate, and "
                "a first enrollment would need another credential",
                where, l->token_file);
        c->token_gone = l->token_file;
        l->token_file = NULL;
    } else if (l->token_file)
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
finish_checks(struct loader *l, unsigned flags, struct eca_err *err)
{
    struct est_conf *c = l->c;
    const char *src = c->g.config_path ? c->g.config_path : ENV_WHERE;
    enum eca_rc rc;

    if ((rc = finish_url(l, err)) != ECA_OK)
        return rc;
    /* `status` reads what is installed: it neither loads nor needs the bootstrap secrets. */
    if (flags & ECA_CONF_INSPECT)
        return ECA_OK;
    if ((rc = finish_token(l, err)) != ECA_OK)
        return rc;
    if ((c->bootstrap_cert == NULL) != (c->bootstrap_key == NULL))
        return eca_err_set(err, ECA_ECONF,
                           "%s: bootstrap_cert_path (BOOTSTRAP_CERT_PATH) and "
                           "bootstrap_key_path (BOOTSTRAP_KEY_PATH) go together",
                           src);
    /* No credential at all is fine: the installed certificate re-enrolls, and a server that
     * wants no HTTP authentication enrolls without (a 401 then names what to provide). */
    return ECA_OK;
}

/* The file (its globals, then ours), or without one the environment's single certificate. */
static enum eca_rc
from_file_or_env(struct loader *l, const char *path, struct eca_err *err)
{
    enum eca_rc rc;

    if (path == NULL)
        return cert_from_env(l->c, err);
    if ((rc = eca_agentconf_read_file(&l->c->g, path, &l->cfg, err)) != ECA_OK)
        return rc;
    l->have_cfg = 1;
    return from_file(l, config_root_setting(&l->cfg), err);
}

/* Our own files of certificate i (g: its group, or NULL): outputs, then the PKCS#12 password. */
static enum eca_rc
cert_host_checks(const config_setting_t *g, const struct est_cert_conf *cc, struct eca_err *err)
{
    char where[320];
    enum eca_rc rc;

    if (cc->ca_certs_path) {
        eca_conf_where_value(g, "ca_certs_path", "CA_CERTS_PATH", cc->ca_certs_path, where,
                             sizeof where);
        if ((rc = eca_conf_check_out_file(where, cc->ca_certs_path, err)) != ECA_OK)
            return rc;
    }
    if (cc->pfx_path) {
        eca_conf_where_value(g, "pfx_path", "PFX_PATH", cc->pfx_path, where, sizeof where);
        if ((rc = eca_conf_check_out_file(where, cc->pfx_path, err)) != ECA_OK)
            return rc;
    }
    if (cc->pfx_password_file) {
        eca_conf_where_value(g, "pfx_password_file", "PFX_PASSWORD_FILE", cc->pfx_password_file,
                             where, sizeof where);
        return eca_conf_check_in_file(where, cc->pfx_password_file, 1, err);
    }
    return ECA_OK;
}

/* What this host must offer before the CA is asked: directories, files, the reload program. */
static enum eca_rc
host_checks(struct loader *l, struct eca_err *err)
{
    const struct est_conf *c = l->c;
    const config_setting_t *root = l->have_cfg ? config_root_setting(&l->cfg) : NULL;
    const config_setting_t *list = root ? config_setting_get_member(root, "certificates") : NULL;
    char where[320];
    enum eca_rc rc;

    if ((rc = eca_agentconf_check_host(root, &c->g, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++) {
        const config_setting_t *g = list ? config_setting_get_elem(list, (unsigned)i) : NULL;

        if ((rc = eca_certconf_check_host(g, &c->certs[i].base, err)) != ECA_OK ||
            (rc = cert_host_checks(g, &c->certs[i], err)) != ECA_OK)
            return rc;
    }
    /* Needed only for a first enrollment, so absent is fine; present, it must be a file. */
    eca_conf_where_value(root, "bootstrap_cert_path", "BOOTSTRAP_CERT_PATH", c->bootstrap_cert,
                         where, sizeof where);
    if (c->bootstrap_cert && (rc = eca_conf_check_in_file(where, c->bootstrap_cert, 0, err)))
        return rc;
    eca_conf_where_value(root, "bootstrap_key_path", "BOOTSTRAP_KEY_PATH", c->bootstrap_key, where,
                         sizeof where);
    if (c->bootstrap_key && (rc = eca_conf_check_in_file(where, c->bootstrap_key, 0, err)))
        return rc;
    return ECA_OK;
}

enum eca_rc
est_conf_read(const struct eca_agentconf_cli *cli, unsigned flags, struct est_conf **out,
              struct eca_err *err)
{
    static const struct eca_agentconf_cli none = {NULL, NULL, 0};
    struct loader l;
    enum eca_rc rc;

    if (cli == NULL)
        cli = &none;
    memset(&l, 0, sizeof l);
    if ((l.c = calloc(1, sizeof(*l.c))) == NULL)
        return OOM(err);
    /* Defaults, then file, then environment, then flags: each later source overrides. */
    eca_agentconf_init(&l.c->g);
    l.c->basic_preemptive = 1;
    l.c->max_pending_s = EST_CONF_DEFAULT_MAX_PENDING;
    l.c->max_pending_age_s = EST_CONF_DEFAULT_MAX_PENDING_H * 3600L;
    l.c->crl_max_age_s = EST_CONF_DEFAULT_CRL_MAX_AGE_H * 3600L;
    l.c->crl_refresh_s = ECA_CRLMEMO_DEFAULT_REFRESH_S;
    if ((rc = from_file_or_env(&l, cli->config_path, err)) == ECA_OK &&
        (rc = eca_agentconf_from_env(&l.c->g, err)) == ECA_OK &&
        (rc = globals_from_env(&l, err)) == ECA_OK &&
        (rc = pending_settings(NULL, l.c, err)) == ECA_OK &&
        (rc = eca_agentconf_apply_cli(&l.c->g, cli->log_format, cli->force, err)) == ECA_OK &&
        (rc = eca_agentconf_finish(&l.c->g, EST_CONF_DEFAULT_STATE_DIR, err)) == ECA_OK &&
        (rc = finish_checks(&l, flags, err)) == ECA_OK &&
        !(flags & (ECA_CONF_INSPECT | ECA_CONF_NO_HOST)))
        rc = host_checks(&l, err);
    if (l.have_cfg)
        config_destroy(&l.cfg);
    if (rc == ECA_OK) {
        *out = l.c;
        l.c = NULL;
    }
    free(l.provisioner);
    free(l.token_file);
    free(l.token_env);
    est_conf_free(l.c);
    return rc;
}

enum eca_rc
est_conf_load(const struct eca_agentconf_cli *cli, struct est_conf **out, struct eca_err *err)
{
    return est_conf_read(cli, 0, out, err);
}

static void
cert_free(struct est_cert_conf *cc)
{
    eca_certconf_free(&cc->base);
    free(cc->subject_dn);
    eca_conf_vec_free(cc->sans, cc->nsans);
    free(cc->ca_certs_path);
    free(cc->pfx_path);
    free(cc->pfx_password_file);
    free(cc->pfx_friendly_name);
}

void
est_conf_free(struct est_conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ncerts; i++)
        cert_free(&c->certs[i]);
    free(c->certs);
    eca_agentconf_free(&c->g);
    free(c->base_url);
    free(c->username);
    eca_secret_free(c->token);
    free(c->bootstrap_cert);
    free(c->bootstrap_key);
    free(c->token_gone);
    free(c->crl_url);
    free(c);
}
