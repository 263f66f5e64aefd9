/* SPDX-License-Identifier: MIT */
/* eca-acme configuration: libconfig file or environment contract -> struct acme_conf. */
#include "acme_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "acme_dns01.h"
#include "eca_conf.h"
#include "eca_crlmemo.h"
#include "eca_hook.h"
#include "eca_x509.h"

#define ENV_WHERE ECA_CONF_ENV
#define OOM(err)  eca_err_set((err), ECA_ENOMEM, "config: out of memory")

/* Values known only at the end, with where they were set (for messages). */
struct loader {
    struct acme_conf *c;
    char *provisioner;
    char where_listen[320], where_eab[320];
    config_t cfg; /* the file, kept to the end so host checks can name file:line */
    int have_cfg;
};

/* The names our readers below take, besides the shared ones (eca_agentconf_names,
 * eca_certconf_names): a name missing here makes a valid file an error. */
static const char *const root_names[] = {
    "acme_provisioner",
    "contact",
    "tos_agreed",
    "eab_kid",
    "eab_hmac_key_file",
    "http01_listen",
    "webroot",
    "preferred_chain",
    "pass_timeout_seconds",
    "crl_enabled",
    "crl_max_age_hours",
    "crl_fail_closed",
    "crl_refresh_seconds",
    "concurrency",
    "dns01_hook",
    "dns01_propagation_seconds",
    "dns01_hook_timeout",
    NULL,
};
static const char *const cert_names[] = {
    "domains",
    "fullchain",
    "profile",
    "profile_required",
    "dns01_hook",
    "dns01_propagation_seconds",
    "dns01_hook_timeout",
    NULL,
};
static const char *const *const root_lists[] = {eca_agentconf_names, root_names, NULL};
static const char *const *const cert_lists[] = {eca_certconf_names, cert_names, NULL};

static enum eca_rc
domains_check(const config_setting_t *g, const struct acme_cert_conf *cc, struct eca_err *err)
{
    for (size_t i = 0; i < cc->ndomains; i++) {
        if (eca_conf_dns_is_valid(cc->domains[i]) || eca_x509_is_ip(cc->domains[i]))
            continue;
        if (g)
            return eca_conf_at(config_setting_get_member(g, "domains"), err,
                               "'%s' is not a DNS name or IP address", cc->domains[i]);
        return eca_err_set(err, ECA_ECONF, "%s: DOMAIN_NAME: '%s' is not a DNS name or IP address",
                           ENV_WHERE, cc->domains[i]);
    }
    return ECA_OK;
}

/* ---- ACME profiles (per certificate; env overrides every certificate) ---- */

/* 1..64 printable ASCII characters without blanks: a name from the directory's meta.profiles. */
static int
profile_name_is_valid(const char *p)
{
    size_t n = strlen(p);

    if (n == 0 || n > 64)
        return 0;
    for (; *p; p++)
        if (*p <= ' ' || *p > '~')
            return 0;
    return 1;
}

static enum eca_rc
profile_from_file(const config_setting_t *g, struct acme_cert_conf *cc, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_conf_str(g, "profile", &cc->profile, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(g, "profile_required", 0, &cc->profile_required, err)) != ECA_OK)
        return rc;
    if (cc->profile != NULL && !profile_name_is_valid(cc->profile))
        return eca_conf_at(config_setting_get_member(g, "profile"), err,
                           "'%.64s' is not a profile name (1..64 printable characters, no blanks)",
                           cc->profile);
    return ECA_OK;
}

static enum eca_rc
profile_from_env(struct acme_conf *c, struct eca_err *err)
{
    const char *p = eca_env_str("ACME_PROFILE");
    int req = -1;
    enum eca_rc rc;

    if (p != NULL && !profile_name_is_valid(p))
        return eca_err_set(err, ECA_ECONF,
                           "%s: ACME_PROFILE: '%.64s' is not a profile name (1..64 printable "
                           "characters, no blanks)",
                           ENV_WHERE, p);
    if ((rc = eca_env_bool("ACME_PROFILE_REQUIRED", &req, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++) {
        if (p != NULL && (rc = eca_conf_set_str(&c->certs[i].profile, p, err)) != ECA_OK)
            return rc;
        if (req >= 0)
            c->certs[i].profile_required = req;
    }
    return ECA_OK;
}

/* ---- end of ACME profiles ---- */

/* ---- Bounded passes: pass_timeout_seconds / PASS_TIMEOUT_SECONDS ---- */

#define PASS_TIMEOUT_MIN 5L    /* below this, an ordinary issuance would not fit */
#define PASS_TIMEOUT_MAX 3600L /* a pass holds the loop: the other certificates wait for it */

static enum eca_rc
pass_timeout_from_file(const config_setting_t *root, struct acme_conf *c, struct eca_err *err)
{
    long long v = c->pass_timeout_s;
    enum eca_rc rc = eca_conf_get_int(root, "pass_timeout_seconds", 0, PASS_TIMEOUT_MIN,
                                      PASS_TIMEOUT_MAX, &v, err);

    c->pass_timeout_s = (long)v;
    return rc;
}

static enum eca_rc
pass_timeout_from_env(struct acme_conf *c, struct eca_err *err)
{
    long long v = c->pass_timeout_s;
    enum eca_rc rc =
        eca_env_int("PASS_TIMEOUT_SECONDS", PASS_TIMEOUT_MIN, PASS_TIMEOUT_MAX, &v, err);

    c->pass_timeout_s = (long)v;
    return rc;
}

/* ---- end of bounded passes ---- */

/* ---- CRL checking: crl_enabled, crl_max_age_hours, crl_fail_closed, crl_refresh_seconds
 * (eca-est's names) ---- */

static enum eca_rc
crl_from_file(const config_setting_t *root, struct acme_conf *c, struct eca_err *err)
{
    long long age = c->crl_max_age_s / 3600, refresh = c->crl_refresh_s;
    enum eca_rc rc;

    if ((rc = eca_conf_get_bool(root, "crl_enabled", 0, &c->crl_enabled, err)) != ECA_OK ||
        (rc = eca_conf_get_int(root, "crl_max_age_hours", 0, 1, 8760, &age, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "crl_fail_closed", 0, &c->crl_fail_closed, err)) != ECA_OK ||
        (rc = eca_conf_get_int(root, "crl_refresh_seconds", 0, 0, 86400, &refresh, err)) != ECA_OK)
        return rc;
    c->crl_max_age_s = (long)age * 3600;
    c->crl_refresh_s = (long)refresh;
    return ECA_OK;
}

static enum eca_rc
crl_from_env(struct acme_conf *c, struct eca_err *err)
{
    long long age = c->crl_max_age_s / 3600, refresh = c->crl_refresh_s;
    enum eca_rc rc;

    if ((rc = eca_env_bool("CRL_ENABLED", &c->crl_enabled, err)) != ECA_OK ||
        (rc = eca_env_int("CRL_MAX_AGE_HOURS", 1, 8760, &age, err)) != ECA_OK ||
        (rc = eca_env_bool("CRL_FAIL_CLOSED", &c->crl_fail_closed, err)) != ECA_OK ||
        (rc = eca_env_int("CRL_REFRESH_SECONDS", 0, 86400, &refresh, err)) != ECA_OK)
        return rc;
    c->crl_max_age_s = (long)age * 3600;
    c->crl_refresh_s = (long)refresh;
    return ECA_OK;
}

/* ---- end of CRL checking ---- */
/* ---- Concurrent orders: concurrency / ACME_CONCURRENCY ---- */

/* Past this, a CA's rate limits (and the per-account order limits) bite long before speed. */
#define CONCURRENCY_MAX 64L

static enum eca_rc
concurrency_from_file(const config_setting_t *root, struct acme_conf *c, struct eca_err *err)
{
    long long v = c->concurrency;
    enum eca_rc rc = eca_conf_get_int(root, "concurrency", 0, 1, CONCURRENCY_MAX, &v, err);

    c->concurrency = (int)v;
    return rc;
}

static enum eca_rc
concurrency_from_env(struct acme_conf *c, struct eca_err *err)
{
    long long v = c->concurrency;
    enum eca_rc rc = eca_env_int("ACME_CONCURRENCY", 1, CONCURRENCY_MAX, &v, err);

    c->concurrency = (int)v;
    return rc;
}

/* ---- end of concurrent orders ---- */

/* ---- dns-01 hook, wildcards, IP identifiers (global defaults, per certificate, env) ---- */

#define DNS01_PROPAGATION_MAX 3600L
#define DNS01_TIMEOUT_MAX     3600L

/* Read dns01_hook, dns01_propagation_seconds, dns01_hook_timeout of group g (root or cert). */
static enum eca_rc
dns01_from_group(const config_setting_t *g, char **hook, long *prop, int *timeout,
                 struct eca_err *err)
{
    long long p = *prop, t = *timeout;
    enum eca_rc rc;

    if ((rc = eca_conf_str(g, "dns01_hook", hook, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "dns01_propagation_seconds", 0, 0, DNS01_PROPAGATION_MAX, &p,
                               err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "dns01_hook_timeout", 0, 1, DNS01_TIMEOUT_MAX, &t, err)) !=
            ECA_OK)
        return rc;
    *prop = (long)p;
    *timeout = (int)t;
    return ECA_OK;
}

static enum eca_rc
dns01_from_root(const config_setting_t *root, struct acme_conf *c, struct eca_err *err)
{
    return dns01_from_group(root, &c->dns01_hook, &c->dns01_propagation_s, &c->dns01_hook_timeout_s,
                            err);
}

/* Per certificate; unset (NULL, -1, 0) until dns01_finish() fills in the global values. */
static enum eca_rc
dns01_from_cert(const config_setting_t *g, struct acme_cert_conf *cc, struct eca_err *err)
{
    cc->dns01_propagation_s = -1;
    return dns01_from_group(g, &cc->dns01_hook, &cc->dns01_propagation_s, &cc->dns01_hook_timeout_s,
                            err);
}

/* The variables override every certificate (env > file). */
static enum eca_rc
dns01_from_env(struct acme_conf *c, struct eca_err *err)
{
    const char *hook = eca_env_str("DNS01_HOOK");
    long long p = -1, t = 0;
    enum eca_rc rc;

    if ((rc = eca_env_int("DNS01_PROPAGATION_SECONDS", 0, DNS01_PROPAGATION_MAX, &p, err)) !=
            ECA_OK ||
        (rc = eca_env_int("DNS01_HOOK_TIMEOUT", 1, DNS01_TIMEOUT_MAX, &t, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++) {
        if (hook != NULL && (rc = eca_conf_set_str(&c->certs[i].dns01_hook, hook, err)) != ECA_OK)
            return rc;
        if (p >= 0)
            c->certs[i].dns01_propagation_s = (long)p;
        if (t > 0)
            c->certs[i].dns01_hook_timeout_s = (int)t;
    }
    return ECA_OK;
}

int
acme_conf_needs_http01(const struct acme_cert_conf *cc)
{
    for (size_t i = 0; cc->dns01_hook != NULL && i < cc->ndomains; i++)
        if (eca_x509_is_ip(cc->domains[i]))
            return 1;
    return cc->dns01_hook == NULL;
}

/* Fill in the global values, check each hook splits, and that wildcards have one. */
static enum eca_rc
dns01_finish(struct acme_conf *c, struct eca_err *err)
{
    char **argv = NULL;
    enum eca_rc rc;

    for (size_t i = 0; i < c->ncerts; i++) {
        struct acme_cert_conf *cc = &c->certs[i];

        if (cc->dns01_hook == NULL && c->dns01_hook != NULL &&
            (rc = eca_conf_set_str(&cc->dns01_hook, c->dns01_hook, err)) != ECA_OK)
            return rc;
        if (cc->dns01_propagation_s < 0)
            cc->dns01_propagation_s = c->dns01_propagation_s;
        if (cc->dns01_hook_timeout_s <= 0)
            cc->dns01_hook_timeout_s = c->dns01_hook_timeout_s;
        /* Never echo the command: it may carry a DNS provider's credentials. */
        if (cc->dns01_hook != NULL &&
            (eca_hook_split(cc->dns01_hook, &argv, NULL) != ECA_OK || argv[0] == NULL)) {
            eca_hook_argv_free(argv);
            return eca_err_set(err, ECA_ECONF,
                               "certificate '%s': dns01_hook (DNS01_HOOK): not a command "
                               "(empty, or unbalanced quotes)",
                               cc->base.name);
        }
        eca_hook_argv_free(argv);
        argv = NULL;
        for (size_t k = 0; cc->dns01_hook == NULL && k < cc->ndomains; k++)
            if (strncmp(cc->domains[k], "*.", 2) == 0)
                return eca_err_set(err, ECA_ECONF,
                                   "certificate '%s': '%s' is a wildcard, which only dns-01 can "
                                   "validate: set dns01_hook (DNS01_HOOK)",
                                   cc->base.name, cc->domains[k]);
    }
    return ECA_OK;
}

/* ---- end of dns-01 hook, wildcards, IP identifiers ---- */

static enum eca_rc
cert_from_file(const config_setting_t *g, struct acme_cert_conf *cc, struct eca_err *err)
{
    int full = 1;
    enum eca_rc rc;

    if ((rc = eca_certconf_from_file(g, 0, &cc->base, err)) != ECA_OK ||
        (rc = eca_conf_str_list(g, "domains", &cc->domains, &cc->ndomains, err)) != ECA_OK)
        return rc;
    if (cc->ndomains == 0)
        return eca_conf_at(g, err, "domains: at least one DNS name is required");
    if ((rc = domains_check(g, cc, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(g, "fullchain", 0, &full, err)) != ECA_OK)
        return rc;
    cc->fullchain = full;
    if ((rc = profile_from_file(g, cc, err)) != ECA_OK) /* ACME profiles */
        return rc;
    if ((rc = dns01_from_cert(g, cc, err)) != ECA_OK) /* dns-01 hook */
        return rc;
    return ECA_OK;
}

/* The list `certificates`: each element parsed, names unique. */
static enum eca_rc
certs_from_file(const config_setting_t *root, struct acme_conf *c, struct eca_err *err)
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
from_file(struct loader *l, const config_setting_t *root, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    enum eca_rc rc;

    if ((rc = eca_conf_check_known(root, root_lists, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "acme_provisioner", &l->provisioner, err)) != ECA_OK ||
        (rc = eca_conf_str_list(root, "contact", &c->contact, &c->ncontact, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "tos_agreed", 0, &c->tos_agreed, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "eab_kid", &c->eab_kid, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "eab_hmac_key_file", &c->eab_hmac_key_file, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "http01_listen", &c->http01_listen, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "webroot", &c->webroot, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "preferred_chain", &c->preferred_chain, err)) != ECA_OK ||
        (rc = pass_timeout_from_file(root, c, err)) != ECA_OK || /* bounded passes */
        (rc = crl_from_file(root, c, err)) != ECA_OK ||          /* CRL checking */
        (rc = concurrency_from_file(root, c, err)) != ECA_OK)    /* concurrent orders */
        return rc;
    if ((rc = dns01_from_root(root, c, err)) != ECA_OK) /* dns-01 hook */
        return rc;
    eca_conf_where_file(root, c->webroot ? "webroot" : "http01_listen", l->where_listen,
                        sizeof l->where_listen);
    eca_conf_where_file(root, c->eab_kid ? "eab_kid" : "eab_hmac_key_file", l->where_eab,
                        sizeof l->where_eab);
    return certs_from_file(root, c, err);
}

/* Environment mode: the one certificate of the container contract. */
static enum eca_rc
cert_from_env(struct acme_conf *c, struct eca_err *err)
{
    struct acme_cert_conf *cc;
    const char *dn = eca_env_str("DOMAIN_NAME");
    enum eca_rc rc;

    if ((c->certs = calloc(1, sizeof(*c->certs))) == NULL)
        return OOM(err);
    c->ncerts = 1;
    cc = &c->certs[0];
    eca_certconf_defaults(&cc->base);
    cc->fullchain = 1;
    cc->dns01_propagation_s = -1; /* dns-01 hook: the global value */
    if (dn == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: DOMAIN_NAME: required (no --config file given)",
                           ENV_WHERE);
    if ((rc = eca_conf_split_csv(dn, &cc->domains, &cc->ndomains, err)) != ECA_OK)
        return rc;
    if (cc->ndomains == 0)
        return eca_err_set(err, ECA_ECONF, "%s: DOMAIN_NAME: no DNS name in '%s'", ENV_WHERE, dn);
    if ((rc = domains_check(NULL, cc, err)) != ECA_OK)
        return rc;
    if ((rc = eca_conf_set_str(&cc->base.name,
                               eca_conf_name_is_safe(cc->domains[0]) ? cc->domains[0] : "default",
                               err)) != ECA_OK)
        return rc;
    return eca_certconf_paths_from_env(&cc->base, err);
}

static enum eca_rc
globals_from_env(struct loader *l, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *v;
    enum eca_rc rc;

    if (eca_env_str("HTTP01_LISTEN") && eca_env_str("WEBROOT"))
        return eca_err_set(err, ECA_ECONF, "%s: HTTP01_LISTEN and WEBROOT: set only one",
                           ENV_WHERE);
    /* One challenge method: the variable replaces whichever the file chose. */
    if (eca_env_str("HTTP01_LISTEN") || eca_env_str("WEBROOT")) {
        free(c->http01_listen);
        free(c->webroot);
        c->http01_listen = c->webroot = NULL;
        eca_conf_where_env(eca_env_str("WEBROOT") ? "WEBROOT" : "HTTP01_LISTEN", l->where_listen,
                           sizeof l->where_listen);
    }
    eca_conf_where_env(eca_env_str("EAB_KID") ? "EAB_KID" : "EAB_HMAC_KEY_FILE", l->where_eab,
                       sizeof l->where_eab);
    if ((rc = eca_conf_env("ACME_PROVISIONER", &l->provisioner, err)) != ECA_OK ||
        (rc = eca_conf_env("EAB_KID", &c->eab_kid, err)) != ECA_OK ||
        (rc = eca_conf_env("EAB_HMAC_KEY_FILE", &c->eab_hmac_key_file, err)) != ECA_OK ||
        (rc = eca_conf_env("HTTP01_LISTEN", &c->http01_listen, err)) != ECA_OK ||
        (rc = eca_conf_env("WEBROOT", &c->webroot, err)) != ECA_OK ||
        (rc = eca_conf_env("PREFERRED_CHAIN", &c->preferred_chain, err)) != ECA_OK ||
        (rc = eca_env_bool("TOS_AGREED", &c->tos_agreed, err)) != ECA_OK)
        return rc;
    if ((v = eca_env_str("ACME_CONTACT")) != NULL &&
        ((rc = eca_conf_no_control_chars(ENV_WHERE ": ACME_CONTACT", v, err)) != ECA_OK ||
         (rc = eca_conf_split_csv(v, &c->contact, &c->ncontact, err)) != ECA_OK))
        return rc;
    /* Per-certificate variables override every certificate (env > file). */
    for (size_t i = 0; i < c->ncerts; i++)
        if ((rc = eca_certconf_policy_from_env(&c->certs[i].base, err)) != ECA_OK)
            return rc;
    if ((rc = profile_from_env(c, err)) != ECA_OK) /* ACME profiles */
        return rc;
    if ((rc = pass_timeout_from_env(c, err)) != ECA_OK || /* bounded passes */
        (rc = crl_from_env(c, err)) != ECA_OK ||          /* CRL checking */
        (rc = concurrency_from_env(c, err)) != ECA_OK ||  /* concurrent orders */
        (rc = dns01_from_env(c, err)) != ECA_OK)          /* dns-01 hook */
        return rc;
    return ECA_OK;
}

/* CA_URL is the directory, or a base to which /acme/<provisioner>/directory is appended. */
static enum eca_rc
finish_url(struct loader *l, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *url = c->g.ca_url;

    if (l->provisioner == NULL)
        return eca_conf_set_str(&c->directory_url, url, err);
    c->directory_url =
        eca_conf_printf("%.*s/acme/%s/directory", eca_conf_url_len(url), url, l->provisioner);
    return c->directory_url ? ECA_OK : OOM(err);
}

static enum eca_rc
finish_checks(struct loader *l, unsigned flags, struct eca_err *err)
{
    struct acme_conf *c = l->c;
    const char *src = c->g.config_path ? c->g.config_path : ENV_WHERE;
    enum eca_rc rc;

    int need_http01 = 0;

    if ((rc = finish_url(l, err)) != ECA_OK || (rc = dns01_finish(c, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++)
        need_http01 |= acme_conf_needs_http01(&c->certs[i]);
    if (c->http01_listen && c->webroot)
        return eca_err_set(err, ECA_ECONF, "%s: http01_listen and webroot: set only one",
                           l->where_listen[0] ? l->where_listen : src);
    if (c->http01_listen == NULL && c->webroot == NULL && need_http01)
        return eca_err_set(err, ECA_ECONF,
                           "%s: http01_listen (HTTP01_LISTEN) or webroot (WEBROOT): one is "
                           "required (or dns01_hook for certificates without IP addresses)",
                           src);
    if (c->http01_listen &&
        (rc = eca_conf_check_listen(l->where_listen[0] ? l->where_listen : "http01_listen",
                                    c->http01_listen, err)) != ECA_OK)
        return rc;
    /* `status` reads what is installed: the account's credentials do not matter there. */
    if (!(flags & ECA_CONF_INSPECT) && (c->eab_kid == NULL) != (c->eab_hmac_key_file == NULL))
        return eca_err_set(err, ECA_ECONF,
                           "%s: eab_kid (EAB_KID) and eab_hmac_key_file (EAB_HMAC_KEY_FILE) go "
                           "together",
                           l->where_eab[0] ? l->where_eab : src);
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

/* What this host must offer before the CA is asked: directories, files, the reload program. */
static enum eca_rc
host_checks(struct loader *l, struct eca_err *err)
{
    const struct acme_conf *c = l->c;
    const config_setting_t *root = l->have_cfg ? config_root_setting(&l->cfg) : NULL;
    const config_setting_t *list = root ? config_setting_get_member(root, "certificates") : NULL;
    char where[320], dir[4096];
    enum eca_rc rc;

    if ((rc = eca_agentconf_check_host(root, &c->g, err)) != ECA_OK)
        return rc;
    for (size_t i = 0; i < c->ncerts; i++)
        if ((rc = eca_certconf_check_host(list ? config_setting_get_elem(list, (unsigned)i) : NULL,
                                          &c->certs[i].base, err)) != ECA_OK)
            return rc;
    if (c->webroot) {
        /* The web server's root must be there; .well-known/acme-challenge is made inside it. */
        eca_conf_where_value(root, "webroot", "WEBROOT", c->webroot, where, sizeof where);
        snprintf(dir, sizeof dir, "%s/.well-known/acme-challenge", c->webroot);
        if ((rc = eca_conf_check_dir(where, c->webroot, err)) != ECA_OK ||
            (rc = eca_conf_check_dir_writable(where, dir, err)) != ECA_OK)
            return rc;
    }
    if (c->eab_hmac_key_file) {
        eca_conf_where_value(root, "eab_hmac_key_file", "EAB_HMAC_KEY_FILE", c->eab_hmac_key_file,
                             where, sizeof where);
        return eca_conf_check_in_file(where, c->eab_hmac_key_file, 0, err);
    }
    return ECA_OK;
}

enum eca_rc
acme_conf_read(const struct eca_agentconf_cli *cli, unsigned flags, struct acme_conf **out,
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
    l.c->tos_agreed = 1;
    l.c->pass_timeout_s = ACME_CONF_DEFAULT_PASS_TIMEOUT;
    l.c->crl_enabled = 1;
    l.c->crl_max_age_s = ACME_CONF_DEFAULT_CRL_MAX_AGE_H * 3600L;
    l.c->crl_refresh_s = ECA_CRLMEMO_DEFAULT_REFRESH_S;
    l.c->concurrency = ACME_CONF_DEFAULT_CONCURRENCY;
    l.c->dns01_hook_timeout_s = ACME_DNS01_DEFAULT_TIMEOUT;
    if ((rc = from_file_or_env(&l, cli->config_path, err)) == ECA_OK &&
        (rc = eca_agentconf_from_env(&l.c->g, err)) == ECA_OK &&
        (rc = globals_from_env(&l, err)) == ECA_OK &&
        (rc = eca_agentconf_apply_cli(&l.c->g, cli->log_format, cli->force, err)) == ECA_OK &&
        (rc = eca_agentconf_finish(&l.c->g, ACME_CONF_DEFAULT_STATE_DIR, err)) == ECA_OK &&
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
    acme_conf_free(l.c);
    return rc;
}

enum eca_rc
acme_conf_load(const struct eca_agentconf_cli *cli, struct acme_conf **out, struct eca_err *err)
{
    return acme_conf_read(cli, 0, out, err);
}

const struct acme_cert_conf *
acme_conf_find(const struct acme_conf *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->ncerts; i++)
        if (strcmp(c->certs[i].base.name, name) == 0)
            return &c->certs[i];
    return NULL;
}

void
acme_conf_free(struct acme_conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ncerts; i++) {
        eca_certconf_free(&c->certs[i].base);
        eca_conf_vec_free(c->certs[i].domains, c->certs[i].ndomains);
        free(c->certs[i].profile); /* ACME profiles */
        free(c->certs[i].dns01_hook);
    }
    free(c->certs);
    eca_agentconf_free(&c->g);
    free(c->directory_url);
    eca_conf_vec_free(c->contact, c->ncontact);
    free(c->eab_kid);
    free(c->eab_hmac_key_file);
    free(c->http01_listen);
    free(c->webroot);
    free(c->preferred_chain);
    free(c->dns01_hook);
    free(c);
}
