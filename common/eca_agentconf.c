/* SPDX-License-Identifier: MIT */
/* The settings both agents share, parsed once: globals and each managed certificate's basics. */
#include "eca_agentconf.h"

#include <stdlib.h>
#include <string.h>

#include "eca_budget.h"
#include "eca_conf.h"
#include "eca_fs_os.h"
#include "eca_log.h"

#define OOM(err)     eca_err_set((err), ECA_ENOMEM, "config: out of memory")
#define KEY_CHOICES  "ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096"
#define MAX_AGE_MAX  (400LL * 86400)
#define INTERVAL_MAX (31LL * 86400)

/* Keep in step with the readers below: a name missing here makes a valid file an error. */
const char *const eca_certconf_names[] = {
    "name",
    "layout",
    "directory",
    "cert_path",
    "key_path",
    "chain_path",
    "key_type",
    "renewal_threshold_percent",
    "max_age_seconds",
    "reload_command",
    "reload_timeout_seconds",
    "reload_signal",
    "reload_pid_file",
    "verify",
    "verify_name",
    "verify_timeout_seconds",
    "issuance_budget",
    NULL,
};

const char *const eca_agentconf_names[] = {
    "ca_url",
    "ca_bundle",
    "state_dir",
    "insecure",
    "check_interval_seconds",
    "metrics_textfile",
    "metrics_listen",
    "metrics_allow_nonloopback",
    "log_level",
    "log_format",
    "issuance_budget",
    "certificates",
    NULL,
};

void
eca_certconf_defaults(struct eca_certconf *cc)
{
    memset(cc, 0, sizeof(*cc));
    cc->key_type = ECA_KEY_EC_P256;
    cc->threshold_pct = ECA_AGENTCONF_DEFAULT_THRESHOLD;
    cc->layout = ECA_LAYOUT_PEM;
    cc->reload_timeout_s = ECA_AGENTCONF_DEFAULT_RELOAD_TIMEOUT;
    cc->verify_timeout_s = ECA_AGENTCONF_DEFAULT_VERIFY_TIMEOUT;
    cc->issuance_budget = -1;
}

static enum eca_rc
minio_paths(const config_setting_t *g, struct eca_certconf *cc, struct eca_err *err)
{
    const char *dir = NULL;
    enum eca_rc rc;

    if ((rc = eca_conf_get_str(g, "directory", 1, &dir, err)) != ECA_OK)
        return rc;
    if (config_setting_get_member(g, "cert_path") || config_setting_get_member(g, "key_path"))
        return eca_conf_at(g, err, "layout minio takes 'directory', not cert_path/key_path");
    free(cc->cert_path);
    free(cc->key_path);
    cc->cert_path = eca_conf_printf("%s/public.crt", dir);
    cc->key_path = eca_conf_printf("%s/private.key", dir);
    return cc->cert_path && cc->key_path ? ECA_OK : OOM(err);
}

static enum eca_rc
layout_from_file(const config_setting_t *g, unsigned flags, struct eca_certconf *cc,
                 struct eca_err *err)
{
    const char *layout = "pem";
    enum eca_rc rc;

    if ((rc = eca_conf_get_str(g, "layout", 0, &layout, err)) != ECA_OK)
        return rc;
    if (strcmp(layout, "minio") == 0) {
        cc->layout = ECA_LAYOUT_MINIO;
        return minio_paths(g, cc, err);
    }
    if (strcmp(layout, "pkcs12") == 0 && (flags & ECA_CERTCONF_PKCS12))
        cc->layout = ECA_LAYOUT_PKCS12;
    else if (strcmp(layout, "pem") != 0)
        return eca_conf_at(config_setting_get_member(g, "layout"), err,
                           "unknown layout '%s' (pem, minio%s)", layout,
                           flags & ECA_CERTCONF_PKCS12 ? ", pkcs12" : "");
    if ((rc = eca_conf_str(g, "cert_path", &cc->cert_path, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "key_path", &cc->key_path, err)) != ECA_OK)
        return rc;
    if (cc->cert_path == NULL)
        return eca_conf_at(g, err, "cert_path: required");
    if (cc->key_path == NULL)
        return eca_conf_at(g, err, "key_path: required");
    return eca_conf_str(g, "chain_path", &cc->chain_path, err);
}

/* A reload command that does not split (an unbalanced quote) is found now, not after an order. */
static enum eca_rc
cmdline_ok(const config_setting_t *g, const char *cmdline, struct eca_err *err)
{
    char where[320];

    if (cmdline == NULL)
        return ECA_OK;
    eca_conf_where_value(g, "reload_command", "RELOAD_COMMAND", cmdline, where, sizeof where);
    return eca_conf_check_cmdline(where, cmdline, err);
}

static enum eca_rc
reload_from_file(const config_setting_t *g, struct eca_certconf *cc, struct eca_err *err)
{
    long long t = cc->reload_timeout_s, vt = cc->verify_timeout_s;
    enum eca_rc rc;

    if ((rc = eca_conf_str(g, "reload_command", &cc->reload_command, err)) != ECA_OK ||
        (rc = cmdline_ok(g, cc->reload_command, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "reload_timeout_seconds", 0, 1, 3600, &t, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "reload_signal", &cc->reload_signal, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "reload_pid_file", &cc->reload_pid_file, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "verify", &cc->verify, err)) != ECA_OK ||
        (rc = eca_conf_str(g, "verify_name", &cc->verify_name, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "verify_timeout_seconds", 0, 1, 300, &vt, err)) != ECA_OK)
        return rc;
    cc->reload_timeout_s = (int)t;
    cc->verify_timeout_s = (int)vt;
    if ((cc->reload_signal == NULL) != (cc->reload_pid_file == NULL))
        return eca_conf_at(g, err, "reload_signal and reload_pid_file go together");
    if (cc->verify && eca_conf_check_listen("verify", cc->verify, err) != ECA_OK)
        return eca_conf_at(config_setting_get_member(g, "verify"), err, "'%s': expected host:port",
                           cc->verify);
    return ECA_OK;
}

static enum eca_rc
policy_from_file(const config_setting_t *g, struct eca_certconf *cc, struct eca_err *err)
{
    const char *v = NULL;
    long long pct = cc->threshold_pct, age = cc->max_age_s;
    enum eca_rc rc;

    if ((rc = eca_conf_get_int(g, "renewal_threshold_percent", 0, 1, 99, &pct, err)) != ECA_OK ||
        (rc = eca_conf_get_int(g, "max_age_seconds", 0, 0, MAX_AGE_MAX, &age, err)) != ECA_OK ||
        (rc = eca_conf_get_str(g, "key_type", 0, &v, err)) != ECA_OK)
        return rc;
    cc->threshold_pct = (int)pct;
    cc->max_age_s = (long)age;
    if (v && eca_key_type_parse(v, &cc->key_type) != 0)
        return eca_conf_at(config_setting_get_member(g, "key_type"), err,
                           "unknown key type '%s' (" KEY_CHOICES ")", v);
    cc->key_type_explicit |= v != NULL;
    return ECA_OK;
}

/* ---- issuance budget: `issuance_budget` (per certificate or global), ISSUANCE_BUDGET ---- */

static enum eca_rc
budget_from_file(const config_setting_t *g, int *budget, struct eca_err *err)
{
    long long v = *budget;
    enum eca_rc rc = eca_conf_get_int(g, "issuance_budget", 0, 0, ECA_BUDGET_MAX, &v, err);

    *budget = (int)v;
    return rc;
}

static enum eca_rc
budget_from_env(int *budget, struct eca_err *err)
{
    long long v = *budget;
    enum eca_rc rc = eca_env_int("ISSUANCE_BUDGET", 0, ECA_BUDGET_MAX, &v, err);

    *budget = (int)v;
    return rc;
}

int
eca_certconf_issuance_budget(const struct eca_certconf *cc, const struct eca_agentconf *ac)
{
    return cc->issuance_budget >= 0 ? cc->issuance_budget : ac->issuance_budget;
}

/* ---- end of issuance budget ---- */

enum eca_rc
eca_certconf_from_file(const config_setting_t *g, unsigned flags, struct eca_certconf *cc,
                       struct eca_err *err)
{
    const char *v = NULL;
    enum eca_rc rc;

    if (!config_setting_is_group(g))
        return eca_conf_at(g, err, "expected a group { name = ...; ... }");
    if ((rc = eca_conf_get_str(g, "name", 1, &v, err)) != ECA_OK)
        return rc;
    if (!eca_conf_name_is_safe(v))
        return eca_conf_at(config_setting_get_member(g, "name"), err,
                           "'%s': use letters, digits, '.', '_', '-' (at most 64)", v);
    if ((rc = eca_conf_set_str(&cc->name, v, err)) != ECA_OK ||
        (rc = layout_from_file(g, flags, cc, err)) != ECA_OK ||
        (rc = policy_from_file(g, cc, err)) != ECA_OK ||
        (rc = budget_from_file(g, &cc->issuance_budget, err)) != ECA_OK)
        return rc;
    return reload_from_file(g, cc, err);
}

enum eca_rc
eca_certconf_paths_from_env(struct eca_certconf *cc, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_conf_env("CERT_PATH", &cc->cert_path, err)) != ECA_OK ||
        (rc = eca_conf_env("KEY_PATH", &cc->key_path, err)) != ECA_OK ||
        (rc = eca_conf_env("CHAIN_PATH", &cc->chain_path, err)) != ECA_OK)
        return rc;
    /* With a file, the variables override; without one, they are the only source. */
    if (cc->cert_path == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: CERT_PATH: required", ECA_CONF_ENV);
    if (cc->key_path == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: KEY_PATH: required", ECA_CONF_ENV);
    return ECA_OK;
}

enum eca_rc
eca_certconf_policy_from_env(struct eca_certconf *cc, struct eca_err *err)
{
    const char *kt = eca_env_str("KEY_TYPE");
    long long pct = cc->threshold_pct, tmo = cc->reload_timeout_s, age = cc->max_age_s;
    enum eca_rc rc;

    if (kt && eca_key_type_parse(kt, &cc->key_type) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: KEY_TYPE: unknown key type '%s' (" KEY_CHOICES ")",
                           ECA_CONF_ENV, kt);
    cc->key_type_explicit |= kt != NULL;
    if ((rc = eca_env_int("RENEWAL_THRESHOLD_PERCENT", 1, 99, &pct, err)) != ECA_OK ||
        (rc = eca_env_int("MAX_AGE_SECONDS", 0, MAX_AGE_MAX, &age, err)) != ECA_OK ||
        (rc = eca_env_int("RELOAD_TIMEOUT_SECONDS", 1, 3600, &tmo, err)) != ECA_OK ||
        (rc = eca_conf_env("RELOAD_COMMAND", &cc->reload_command, err)) != ECA_OK ||
        (rc = eca_conf_env("RELOAD_SIGNAL", &cc->reload_signal, err)) != ECA_OK ||
        (rc = eca_conf_env("RELOAD_PID_FILE", &cc->reload_pid_file, err)) != ECA_OK ||
        (rc = eca_conf_env("VERIFY", &cc->verify, err)) != ECA_OK ||
        (rc = eca_conf_env("VERIFY_NAME", &cc->verify_name, err)) != ECA_OK ||
        (eca_env_str("RELOAD_COMMAND") && (rc = cmdline_ok(NULL, cc->reload_command, err))) ||
        (rc = budget_from_env(&cc->issuance_budget, err)) != ECA_OK)
        return rc;
    cc->threshold_pct = (int)pct;
    cc->reload_timeout_s = (int)tmo;
    cc->max_age_s = (long)age;
    if ((cc->reload_signal == NULL) != (cc->reload_pid_file == NULL))
        return eca_err_set(err, ECA_ECONF, "%s: RELOAD_SIGNAL and RELOAD_PID_FILE go together",
                           ECA_CONF_ENV);
    if (cc->verify && eca_conf_check_listen(ECA_CONF_ENV ": VERIFY", cc->verify, err) != ECA_OK)
        return ECA_ECONF;
    return ECA_OK;
}

enum eca_rc
eca_certconf_check_host(const config_setting_t *g, const struct eca_certconf *cc,
                        struct eca_err *err)
{
    const struct {
        const char *member, *var, *path;
    } outs[] = {
        {"cert_path", "CERT_PATH", cc->cert_path},
        {"key_path", "KEY_PATH", cc->key_path},
        {"chain_path", "CHAIN_PATH", cc->chain_path},
    };
    struct eca_err warn = {0};
    char where[320];
    enum eca_rc rc;

    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        const char *path = outs[i].path;
        enum eca_fs_kind kind;

        if (path == NULL)
            continue;
        /* minio derives both paths from `directory`. */
        if (cc->layout == ECA_LAYOUT_MINIO && g && config_setting_get_member(g, "directory"))
            eca_conf_where_value(g, "directory", NULL, NULL, where, sizeof where);
        else
            eca_conf_where_value(g, outs[i].member, outs[i].var, path, where, sizeof where);
        /* Something else than a file at the path is this certificate's trouble, not the
         * configuration's: it fails alone at its passes, with a clear error, and the others
         * are served (one bad file must not jam the daemon). */
        kind = eca_fs_os_kind(path);
        if (kind != ECA_FS_ABSENT && kind != ECA_FS_REGULAR) {
            eca_log(ECA_LOG_WARN, "config_warning", cc->name, NULL, 0,
                    "%s: %s exists and is not a regular file: this certificate fails until it "
                    "is removed",
                    where, path);
            continue;
        }
        if ((rc = eca_conf_check_out_file(where, path, err)) != ECA_OK)
            return rc;
    }
    if (cc->reload_command == NULL)
        return ECA_OK;
    eca_conf_where_value(g, "reload_command", "RELOAD_COMMAND", cc->reload_command, where,
                         sizeof where);
    if ((rc = eca_conf_check_command(where, cc->reload_command, &warn, err)) != ECA_OK)
        return rc;
    if (warn.rc != ECA_OK)
        eca_log(ECA_LOG_WARN, "config_warning", cc->name, NULL, 0, "%s", warn.msg);
    return ECA_OK;
}

void
eca_certconf_free(struct eca_certconf *cc)
{
    if (cc == NULL)
        return;
    free(cc->name);
    free(cc->cert_path);
    free(cc->key_path);
    free(cc->chain_path);
    free(cc->reload_command);
    free(cc->reload_signal);
    free(cc->reload_pid_file);
    free(cc->verify);
    free(cc->verify_name);
}

enum eca_rc
eca_certconf_list(const config_setting_t *root, const char *config_path,
                  const config_setting_t **list, size_t *n, struct eca_err *err)
{
    config_setting_t *l = config_setting_get_member(root, "certificates");
    int len;

    if (l == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: certificates: at least one certificate is required",
                           config_path);
    if (!config_setting_is_list(l) || (len = config_setting_length(l)) == 0)
        return eca_conf_at(l, err, "expected a non-empty list ( { ... }, ... )");
    *list = l;
    *n = (size_t)len;
    return ECA_OK;
}

enum eca_rc
eca_certconf_duplicate(const config_setting_t *g, const char *name, struct eca_err *err)
{
    return eca_conf_at(config_setting_get_member(g, "name"), err, "duplicate certificate name '%s'",
                       name);
}

void
eca_agentconf_init(struct eca_agentconf *ac)
{
    memset(ac, 0, sizeof(*ac));
    ac->check_interval_s = ECA_AGENTCONF_DEFAULT_INTERVAL;
    ac->log_level = ECA_LOG_INFO;
    ac->log_format = ECA_LOG_JSON;
    ac->issuance_budget = ECA_BUDGET_DEFAULT;
}

enum eca_rc
eca_agentconf_from_file(const config_setting_t *root, struct eca_agentconf *ac, struct eca_err *err)
{
    long long iv = ac->check_interval_s;
    enum eca_rc rc;

    if ((rc = eca_conf_str(root, "ca_url", &ac->ca_url, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "ca_bundle", &ac->ca_bundle, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "state_dir", &ac->state_dir, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "insecure", 0, &ac->insecure, err)) != ECA_OK ||
        (rc = eca_conf_get_int(root, "check_interval_seconds", 0, 1, INTERVAL_MAX, &iv, err)) ||
        (rc = eca_conf_str(root, "metrics_textfile", &ac->metrics_textfile, err)) != ECA_OK ||
        (rc = eca_conf_str(root, "metrics_listen", &ac->metrics_listen, err)) != ECA_OK ||
        (rc = eca_conf_get_bool(root, "metrics_allow_nonloopback", 0,
                                &ac->metrics_allow_nonloopback, err)) != ECA_OK ||
        (rc = budget_from_file(root, &ac->issuance_budget, err)) != ECA_OK)
        return rc;
    ac->check_interval_s = (long)iv;
    eca_conf_where_file(root, "ca_url", ac->where_url, sizeof ac->where_url);
    return eca_conf_log_from_file(root, &ac->log_level, &ac->log_format, err);
}

enum eca_rc
eca_agentconf_from_env(struct eca_agentconf *ac, struct eca_err *err)
{
    long long iv = ac->check_interval_s;
    enum eca_rc rc;

    eca_conf_where_env("CA_URL", ac->where_url, sizeof ac->where_url);
    if ((rc = eca_conf_env("CA_URL", &ac->ca_url, err)) != ECA_OK ||
        (rc = eca_conf_env("CA_BUNDLE", &ac->ca_bundle, err)) != ECA_OK ||
        (rc = eca_conf_env("STATE_DIR", &ac->state_dir, err)) != ECA_OK ||
        (rc = eca_env_bool("INSECURE", &ac->insecure, err)) != ECA_OK ||
        (rc = eca_env_int("CHECK_INTERVAL_SECONDS", 1, INTERVAL_MAX, &iv, err)) != ECA_OK ||
        (rc = eca_env_bool("FORCE_RENEWAL", &ac->force, err)) != ECA_OK ||
        (rc = eca_conf_env("METRICS_TEXTFILE", &ac->metrics_textfile, err)) != ECA_OK ||
        (rc = eca_conf_env("METRICS_LISTEN", &ac->metrics_listen, err)) != ECA_OK ||
        (rc = eca_env_bool("METRICS_ALLOW_NONLOOPBACK", &ac->metrics_allow_nonloopback, err)) ||
        (rc = eca_env_bool("ISSUANCE_BUDGET_OVERRIDE", &ac->budget_override, err)) != ECA_OK)
        return rc;
    ac->check_interval_s = (long)iv;
    return eca_conf_log_from_env(&ac->log_level, &ac->log_format, err);
}

enum eca_rc
eca_agentconf_apply_cli(struct eca_agentconf *ac, const char *log_format, int force,
                        struct eca_err *err)
{
    if (log_format && eca_log_format_parse(log_format, &ac->log_format) != 0)
        return eca_err_set(err, ECA_ECONF, "--log-format: '%s' (json, text)", log_format);
    if (force)
        ac->force = 1;
    return ECA_OK;
}

enum eca_rc
eca_agentconf_finish(struct eca_agentconf *ac, const char *default_state_dir, struct eca_err *err)
{
    const char *where = ac->where_url[0] ? ac->where_url : "ca_url (CA_URL)";
    enum eca_rc rc;

    if ((rc = eca_conf_check_url(ac->ca_url, ac->insecure, where,
                                 ac->config_path ? ac->config_path : ECA_CONF_ENV, err)) != ECA_OK)
        return rc;
    if (ac->metrics_listen &&
        (rc = eca_conf_check_listen("metrics_listen (METRICS_LISTEN)", ac->metrics_listen, err)))
        return rc;
    if (ac->state_dir == NULL)
        return eca_conf_set_str(&ac->state_dir, default_state_dir, err);
    /* State files are "<state_dir>/<name><suffix>" in fixed buffers: a truncated path would
     * silently be a different file, so a too-long directory is a config error instead. */
    if (strlen(ac->state_dir) > ECA_AGENTCONF_STATE_DIR_MAX)
        return eca_err_set(err, ECA_ECONF, "state_dir (STATE_DIR): longer than %d bytes",
                           ECA_AGENTCONF_STATE_DIR_MAX);
    return ECA_OK;
}

enum eca_rc
eca_agentconf_check_host(const config_setting_t *root, const struct eca_agentconf *ac,
                         struct eca_err *err)
{
    char where[320];
    enum eca_rc rc;

    eca_conf_where_value(root, "state_dir", "STATE_DIR", ac->state_dir, where, sizeof where);
    if (ac->state_dir && (rc = eca_conf_check_dir_writable(where, ac->state_dir, err)) != ECA_OK)
        return rc;
    eca_conf_where_value(root, "ca_bundle", "CA_BUNDLE", ac->ca_bundle, where, sizeof where);
    if (ac->ca_bundle && (rc = eca_conf_check_in_file(where, ac->ca_bundle, 1, err)) != ECA_OK)
        return rc;
    eca_conf_where_value(root, "metrics_textfile", "METRICS_TEXTFILE", ac->metrics_textfile, where,
                         sizeof where);
    if (ac->metrics_textfile &&
        (rc = eca_conf_check_out_file(where, ac->metrics_textfile, err)) != ECA_OK)
        return rc;
    return ECA_OK;
}

void
eca_agentconf_free(struct eca_agentconf *ac)
{
    if (ac == NULL)
        return;
    free(ac->config_path);
    free(ac->ca_url);
    free(ac->ca_bundle);
    free(ac->state_dir);
    free(ac->metrics_textfile);
    free(ac->metrics_listen);
}

enum eca_rc
eca_agentconf_read_file(struct eca_agentconf *ac, const char *path, config_t *cfg,
                        struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_conf_set_str(&ac->config_path, path, err)) != ECA_OK)
        return rc;
    /* eca_conf_load initialises cfg, and destroys it itself when it fails. */
    if ((rc = eca_conf_load(path, cfg, err)) != ECA_OK)
        return rc;
    if ((rc = eca_agentconf_from_file(config_root_setting(cfg), ac, err)) != ECA_OK)
        config_destroy(cfg);
    return rc;
}
