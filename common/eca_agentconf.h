/* SPDX-License-Identifier: MIT */
/* The settings both agents share, parsed once: globals and each managed certificate's basics. */
#ifndef ECA_AGENTCONF_H
#define ECA_AGENTCONF_H

#include <stddef.h>

#include <libconfig.h>

#include "eca_err.h"
#include "eca_key.h"
#include "eca_log.h"

#define ECA_AGENTCONF_DEFAULT_INTERVAL       21600L
#define ECA_AGENTCONF_DEFAULT_THRESHOLD      33
#define ECA_AGENTCONF_DEFAULT_RELOAD_TIMEOUT 30
#define ECA_AGENTCONF_DEFAULT_VERIFY_TIMEOUT 10
/* Longest state_dir: with a 64-byte name and a short suffix, state paths fit in 1 KiB. */
#define ECA_AGENTCONF_STATE_DIR_MAX 900

/* Output layouts: pem (cert, key, chain), minio (<dir>/public.crt + private.key), pkcs12. */
enum eca_layout { ECA_LAYOUT_PEM = 0, ECA_LAYOUT_MINIO, ECA_LAYOUT_PKCS12 };

/* eca_certconf_from_file() flag: the daemon writes PKCS#12, so layout "pkcs12" is allowed. */
#define ECA_CERTCONF_PKCS12 0x1u

/* One managed certificate's protocol-free settings. Strings owned; eca_certconf_free(). */
struct eca_certconf {
    char *name; /* [A-Za-z0-9._-]{1,64}: journal, state and log name */
    char *cert_path;
    char *key_path;
    char *chain_path; /* issuers alone; NULL: not written */
    enum eca_layout layout;
    enum eca_key_type key_type;
    int key_type_explicit; /* key_type set by the file or KEY_TYPE, not the default */
    int threshold_pct;     /* renew when less than this share of the lifetime is left */
    long max_age_s;        /* renew when older than this, whatever the lifetime; 0: no limit */
    char *reload_command;  /* argv-style (eca_hook_split); NULL: none */
    int reload_timeout_s;
    char *reload_signal; /* "HUP"...; with reload_pid_file */
    char *reload_pid_file;
    char *verify;      /* "host:port" served after the reload; NULL: no verification */
    char *verify_name; /* TLS SNI name; NULL: the host of `verify` */
    int verify_timeout_s;
    /* ---- issuance budget ---- */
    int issuance_budget; /* new certificates per 7 days; -1: the global one; 0: no limit */
};

/* Global settings both agents share. Strings owned; eca_agentconf_free(). */
struct eca_agentconf {
    char *config_path; /* NULL in environment mode */
    char *ca_url;      /* as configured; each daemon derives its endpoint from it */
    char *ca_bundle;   /* NULL: system store */
    char *state_dir;
    int insecure;
    long check_interval_s;
    enum eca_log_level log_level;
    enum eca_log_format log_format;
    int force;              /* FORCE_RENEWAL=true or --force */
    char *metrics_textfile; /* METRICS_TEXTFILE: node_exporter textfile; NULL: none */
    char *metrics_listen;   /* METRICS_LISTEN: "127.0.0.1:4231"; NULL: no endpoint */
    /* METRICS_ALLOW_NONLOOPBACK: let metrics_listen bind a non-loopback address (containers) */
    int metrics_allow_nonloopback;
    char where_url[320]; /* where ca_url was set, for messages */
    /* ---- issuance budget ---- */
    int issuance_budget; /* for certificates that set none (default 4; 0: no limit) */
    int budget_override; /* ISSUANCE_BUDGET_OVERRIDE=true or --override-budget: this run only */
};

/* The names eca_certconf_from_file reads from a certificate group (NULL-ended). */
extern const char *const eca_certconf_names[];

/* The names eca_agentconf_from_file and eca_certconf_list read from the root (NULL-ended). */
extern const char *const eca_agentconf_names[];

/* ---- issuance budget ---- */
/* The budget that applies to cc: its own setting, else the global one (0: no limit). */
int eca_certconf_issuance_budget(const struct eca_certconf *cc, const struct eca_agentconf *ac);

/* Defaults for a certificate (ec-p256, threshold 33, reload timeout 30 s, layout pem). */
void eca_certconf_defaults(struct eca_certconf *cc);

/*
 * The shared members of certificate group g: name, layout with its paths (pem: cert_path,
 * key_path, chain_path; minio: directory), key_type, renewal_threshold_percent,
 * max_age_seconds, reload_command, reload_timeout_seconds, reload_signal, reload_pid_file,
 * verify, verify_name, verify_timeout_seconds. Errors: ECA_ECONF naming file:line.
 */
enum eca_rc eca_certconf_from_file(const config_setting_t *g, unsigned flags,
                                   struct eca_certconf *cc, struct eca_err *err);

/* CERT_PATH, KEY_PATH, CHAIN_PATH override when set; cert and key paths must end up set. */
enum eca_rc eca_certconf_paths_from_env(struct eca_certconf *cc, struct eca_err *err);

/*
 * Variables that tune every certificate (env > file): KEY_TYPE, RENEWAL_THRESHOLD_PERCENT,
 * MAX_AGE_SECONDS, RELOAD_COMMAND, RELOAD_TIMEOUT_SECONDS, RELOAD_SIGNAL, RELOAD_PID_FILE,
 * VERIFY, VERIFY_NAME. Ends with the cross-checks (signal and pid file go together).
 */
enum eca_rc eca_certconf_policy_from_env(struct eca_certconf *cc, struct eca_err *err);

void eca_certconf_free(struct eca_certconf *cc);

/*
 * The list `certificates` of root: its length in *n (at least 1). No list, or an empty one:
 * ECA_ECONF naming config_path or file:line. Each element is then the daemon's to parse.
 */
enum eca_rc eca_certconf_list(const config_setting_t *root, const char *config_path,
                              const config_setting_t **list, size_t *n, struct eca_err *err);

/*
 * What the host must offer this certificate before any request: cert_path, key_path and
 * chain_path in existing writable directories and not directories or FIFOs themselves
 * (eca_conf_check_out_file), a reload command whose program is there (an absolute one that
 * is not: ECA_ECONF; a bare name not in PATH: a config_warning log line). g: the
 * certificate's group in the file (for file:line), or NULL.
 */
enum eca_rc eca_certconf_check_host(const config_setting_t *g, const struct eca_certconf *cc,
                                    struct eca_err *err);

/* ECA_ECONF "file:line: name: duplicate certificate name" for the certificate group g. */
enum eca_rc eca_certconf_duplicate(const config_setting_t *g, const char *name,
                                   struct eca_err *err);

/* Defaults: interval 6 h, info, json. */
void eca_agentconf_init(struct eca_agentconf *ac);

/* ca_url, ca_bundle, state_dir, insecure, check_interval_seconds, log_level, log_format,
 * metrics_textfile, metrics_listen from the root group. */
enum eca_rc eca_agentconf_from_file(const config_setting_t *root, struct eca_agentconf *ac,
                                    struct eca_err *err);

/* CA_URL, CA_BUNDLE, STATE_DIR, INSECURE, CHECK_INTERVAL_SECONDS, FORCE_RENEWAL, LOG_LEVEL,
 * LOG_FORMAT, METRICS_TEXTFILE, METRICS_LISTEN. */
enum eca_rc eca_agentconf_from_env(struct eca_agentconf *ac, struct eca_err *err);

/* Command line: --log-format (validated) and --force. */
enum eca_rc eca_agentconf_apply_cli(struct eca_agentconf *ac, const char *log_format, int force,
                                    struct eca_err *err);

/* Final checks: ca_url present and https, metrics_listen is addr:port, state_dir defaulted. */
enum eca_rc eca_agentconf_finish(struct eca_agentconf *ac, const char *default_state_dir,
                                 struct eca_err *err);

/*
 * The shared globals against the host: state_dir writable or creatable, ca_bundle a regular
 * file, metrics_textfile in a writable directory. root: the file's root group, or NULL.
 */
enum eca_rc eca_agentconf_check_host(const config_setting_t *root, const struct eca_agentconf *ac,
                                     struct eca_err *err);

void eca_agentconf_free(struct eca_agentconf *ac);

/*
 * Read the file at path into cfg (the caller config_destroy()s it on success) and the shared
 * globals of its root group into ac (ac->config_path set). The daemon then reads its own.
 */
enum eca_rc eca_agentconf_read_file(struct eca_agentconf *ac, const char *path, config_t *cfg,
                                    struct eca_err *err);

/* What the command line tells the loader; NULL/0 members override nothing. */
struct eca_agentconf_cli {
    const char *config_path; /* --config */
    const char *log_format;  /* --log-format */
    int force;               /* --force: 1, else 0 */
};

/* What a daemon's configuration loader is asked for besides the command line. */
#define ECA_CONF_INSPECT 0x1u /* `status`: credentials are neither read nor required */
/* Parse and check the text only: no look at directories, files or programs on this host
 * (`status` implies it; tests of parsing use it for configurations of other hosts). */
#define ECA_CONF_NO_HOST 0x2u

#endif
