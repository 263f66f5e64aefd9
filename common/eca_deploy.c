/* SPDX-License-Identifier: MIT */
/* The protocol-free steps of a pass both agents take: decide, install a set, reload, verify. */
#include "eca_deploy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "eca_clock.h"
#include "eca_daemon.h"
#include "eca_fs.h"
#include "eca_hook.h"
#include "eca_log.h"
#include "eca_tlsprobe.h"

#define PEM_MAX      ((size_t)256 << 10)
#define VERIFY_PAUSE 250 /* ms between probes */
#define SEED_FILE    "host.seed"

/* Process-wide: one STATE_DIR per daemon, loaded at start, read by every decision (atomic:
 * an agent's worker threads decide, and roll journals forward, at once). */
static atomic_uint host_seed;

static unsigned
name_seed(const char *name)
{
    unsigned h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h ? h : 1;
}

unsigned
eca_deploy_seed(const char *name)
{
    unsigned h = name_seed(name), seed = atomic_load(&host_seed);

    for (int i = 0; i < 4 && seed != 0; i++)
        h = (h ^ ((seed >> (8 * i)) & 0xffu)) * 16777619u;
    return h ? h : 1;
}

unsigned
eca_deploy_host_seed(void)
{
    return host_seed;
}

/* 8 hex digits (and an optional newline) that are not all zero; 0 otherwise. */
static unsigned
seed_parse(const struct eca_buf *b)
{
    char text[9];

    if (b->len < 8 || b->len > 9 || (b->len == 9 && b->data[8] != '\n'))
        return 0;
    memcpy(text, b->data, 8);
    text[8] = '\0';
    if (strspn(text, "0123456789abcdef") != 8)
        return 0;
    return (unsigned)strtoul(text, NULL, 16);
}

enum eca_rc
eca_deploy_host_seed_load(const char *state_dir, int create, struct eca_err *err)
{
    char path[4096], text[16];
    unsigned char r[4];
    struct eca_buf b;
    unsigned v;
    enum eca_rc rc;

    if (snprintf(path, sizeof path, "%s/%s", state_dir, SEED_FILE) >= (int)sizeof path)
        return eca_err_set(err, ECA_EINVAL, "%s: state_dir too long", state_dir);
    eca_buf_init(&b, 64);
    rc = eca_fs_read(path, 64, &b, err);
    v = rc == ECA_OK ? seed_parse(&b) : 0;
    eca_buf_free(&b);
    if (v != 0) {
        host_seed = v;
        return ECA_OK;
    }
    if (rc == ECA_OK)
        rc = eca_err_set(err, ECA_EPARSE, "%s: not a seed (8 hex digits)", path);
    if (!create || (rc != ECA_OK && rc != ECA_ENOTFOUND && rc != ECA_EPARSE))
        return rc;
    eca_err_clear(err);
    do {
        if (RAND_bytes(r, sizeof r) != 1)
            return eca_err_ssl(err, ECA_ECRYPTO, "%s: random seed", path);
        v = (unsigned)r[0] << 24 | (unsigned)r[1] << 16 | (unsigned)r[2] << 8 | r[3];
    } while (v == 0);
    snprintf(text, sizeof text, "%08x\n", v);
    if ((rc = eca_fs_write_atomic(path, text, 9, ECA_FS_MODE_PRIVATE, err)) != ECA_OK)
        return rc;
    host_seed = v;
    eca_log(ECA_LOG_INFO, "host_seed_created", NULL, ECA_LOG_FIELDS(ECA_LS("path", path)),
            "renewal jitter is seeded per host from now on");
    return ECA_OK;
}

void
eca_deploy_decide(const struct eca_certconf *cc, const struct eca_certstate *st, int revoked,
                  int forced, long interval_s, time_t now, struct eca_renew_out *out)
{
    struct eca_renew_in in;

    memset(&in, 0, sizeof in);
    in.now = now;
    in.present = st->present;
    in.matches = st->matches;
    in.revoked = revoked;
    in.forced = forced;
    in.not_before = st->not_before;
    in.not_after = st->not_after;
    in.threshold_pct = cc->threshold_pct;
    in.max_age_s = cc->max_age_s;
    in.check_interval_s = interval_s;
    in.jitter_seed = name_seed(cc->name);
    in.host_seed = host_seed;
    eca_renew_decide(&in, out);
}

static void
journal_path(const char *state_dir, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.journal", state_dir, name);
}

enum eca_rc
eca_deploy_recover(const char *state_dir, const struct eca_certconf *cc, struct eca_err *err)
{
    return eca_deploy_recover_ex(state_dir, cc, NULL, 0, err);
}

enum eca_rc
eca_deploy_recover_ex(const char *state_dir, const struct eca_certconf *cc,
                      const char *const *extra, size_t nextra, struct eca_err *err)
{
    return eca_deploy_recover_memo(state_dir, cc, extra, nextra, NULL, err);
}

enum eca_rc
eca_deploy_recover_memo(const char *state_dir, const struct eca_certconf *cc,
                        const char *const *extra, size_t nextra, struct eca_fs_sweep *memo,
                        struct eca_err *err)
{
    const char *paths[] = {cc->key_path, cc->cert_path, cc->chain_path};
    struct eca_err e = {0};
    char journal[4096];
    int rolled = 0, removed = 0;
    enum eca_rc rc;

    if (eca_deploy_host_seed_load(state_dir, 1, &e) != ECA_OK)
        eca_log(ECA_LOG_WARN, "host_seed_failed", NULL, NULL, 0,
                "%s; renewal jitter is seeded by the certificate name alone", e.msg);
    journal_path(state_dir, cc->name, journal, sizeof journal);
    if ((rc = eca_install_recover(journal, &rolled, err)) != ECA_OK)
        eca_err_prefix(err, "%s: recovering an interrupted install: ", cc->name);
    else if (rolled)
        eca_log(ECA_LOG_WARN, "install_recovered", cc->name, NULL, 0,
                "an interrupted install was rolled forward");
    /* Whatever the journal did: what a kill -9 left is swept (staged files only without one). */
    eca_install_sweep_memo(memo, journal, paths, sizeof paths / sizeof paths[0],
                           ECA_INSTALL_SWEEP_AGE_S, &removed, NULL);
    if (nextra > 0)
        eca_install_sweep_memo(memo, journal, extra, nextra, ECA_INSTALL_SWEEP_AGE_S, &removed,
                               NULL);
    eca_fs_sweep_temps_memo(memo, state_dir, NULL, ECA_INSTALL_SWEEP_AGE_S, &removed, NULL);
    if (removed > 0)
        eca_log(ECA_LOG_INFO, "stale_files_removed", cc->name,
                ECA_LOG_FIELDS(ECA_LI("files", removed)),
                "temporary and staged files left by an interrupted run");
    return rc;
}

void
eca_deploy_set_add(struct eca_deploy_set *s, const char *path, const struct eca_buf *data,
                   unsigned mode)
{
    if (path == NULL || s->n >= ECA_DEPLOY_FILES_MAX)
        return;
    s->files[s->n++] = (struct eca_install_file){path, data->data ? (const void *)data->data : "",
                                                 data->len, mode};
}

/* The certificate file: leaf + issuers, or the leaf alone. */
static enum eca_rc
cert_pem(const struct eca_chain *chain, int leaf_only, struct eca_buf *out, struct eca_err *err)
{
    struct eca_chain *leaf = NULL;
    enum eca_rc rc;

    if (!leaf_only)
        return eca_x509_chain_to_pem(chain, 0, out, err);
    if ((rc = eca_x509_chain_new(&leaf, err)) == ECA_OK &&
        (rc = eca_x509_chain_push(leaf, eca_x509_chain_get(chain, 0), err)) == ECA_OK)
        rc = eca_x509_chain_to_pem(leaf, 0, out, err);
    eca_x509_chain_free(leaf);
    return rc;
}

/* The issuers go to a file of their own (pem layout with chain_path). */
static int
has_chain(const struct eca_certconf *cc)
{
    return cc->chain_path && cc->layout != ECA_LAYOUT_MINIO;
}

/* The files of cc, key first, with the set's buffers as their contents. */
static void
add_targets(struct eca_deploy_set *s, const struct eca_certconf *cc)
{
    eca_deploy_set_add(s, cc->key_path, &s->key, ECA_FS_MODE_PRIVATE);
    eca_deploy_set_add(s, cc->cert_path, &s->cert, ECA_FS_MODE_PUBLIC);
    if (has_chain(cc))
        eca_deploy_set_add(s, cc->chain_path, &s->chain, ECA_FS_MODE_PUBLIC);
}

enum eca_rc
eca_deploy_set_build(struct eca_deploy_set *s, const struct eca_certconf *cc,
                     const struct eca_key *key, const struct eca_chain *chain, int leaf_only,
                     struct eca_err *err)
{
    enum eca_rc rc;

    memset(s, 0, sizeof(*s));
    eca_buf_init(&s->key, 0);
    eca_buf_init(&s->cert, PEM_MAX);
    eca_buf_init(&s->chain, PEM_MAX);
    if (cc->layout == ECA_LAYOUT_MINIO)
        leaf_only = 0;
    if ((rc = eca_key_to_pem(key, &s->key, err)) != ECA_OK ||
        (rc = cert_pem(chain, leaf_only, &s->cert, err)) != ECA_OK ||
        (has_chain(cc) && (rc = eca_x509_chain_to_pem(chain, 1, &s->chain, err)) != ECA_OK))
        return rc;
    add_targets(s, cc);
    return ECA_OK;
}

void
eca_deploy_set_targets(struct eca_deploy_set *s, const struct eca_certconf *cc)
{
    memset(s, 0, sizeof(*s));
    eca_buf_init(&s->key, 0);
    eca_buf_init(&s->cert, 0);
    eca_buf_init(&s->chain, 0);
    add_targets(s, cc);
}

void
eca_deploy_set_free(struct eca_deploy_set *s)
{
    eca_buf_free(&s->key);
    eca_buf_free(&s->cert);
    eca_buf_free(&s->chain);
    s->n = 0;
}

/* Private files first: eca_install renames in order, so a key never lags its certificate. */
static size_t
ordered(const struct eca_deploy_set *s, struct eca_install_file *out)
{
    size_t n = 0;

    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->n; i++)
            if ((s->files[i].mode == ECA_FS_MODE_PRIVATE) == (pass == 0))
                out[n++] = s->files[i];
    return n;
}

static enum eca_rc
install(const char *state_dir, const char *name, const struct eca_install_file *files, size_t n,
        struct eca_err *err)
{
    char journal[4096];

    journal_path(state_dir, name, journal, sizeof journal);
    return eca_install_files(journal, files, n, err);
}

enum eca_rc
eca_deploy_reload(const struct eca_certconf *cc, struct eca_err *err)
{
    char **argv = NULL;
    enum eca_rc rc = ECA_OK;

    if (cc->reload_command) {
        if ((rc = eca_hook_split(cc->reload_command, &argv, err)) == ECA_OK)
            rc = eca_hook_run(argv, cc->reload_timeout_s, err);
        eca_hook_argv_free(argv);
    }
    if (rc == ECA_OK && cc->reload_signal)
        rc = eca_hook_signal_pidfile(cc->reload_pid_file, cc->reload_signal, err);
    if (rc != ECA_OK) {
        eca_err_prefix(err, "reload: ");
        return rc;
    }
    if (cc->reload_command || cc->reload_signal)
        eca_log(ECA_LOG_INFO, "reload_done", cc->name,
                ECA_LOG_FIELDS(ECA_LS("action", cc->reload_command ? "command" : "signal")), NULL);
    return ECA_OK;
}

enum eca_rc
eca_deploy_verify(const struct eca_certconf *cc, const char *serial, struct eca_err *err)
{
    struct timespec t0, t;
    struct eca_err perr = {0};
    char served[130] = "";
    long waited = 0, limit = (long)cc->verify_timeout_s * 1000;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        served[0] = '\0';
        if (eca_tlsprobe_serial(cc->verify, cc->verify_name, 2000, served, sizeof served, &perr) ==
                ECA_OK &&
            strcmp(served, serial) == 0) {
            eca_log(ECA_LOG_INFO, "verify_ok", cc->name,
                    ECA_LOG_FIELDS(ECA_LS("target", cc->verify), ECA_LS("serial", serial),
                                   ECA_LI("waited_ms", waited)),
                    NULL);
            return ECA_OK;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        waited = (long)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (waited >= limit || eca_daemon_stopping())
            break;
        eca_clock_sleep_ms(VERIFY_PAUSE, eca_daemon_stopping);
    }
    if (eca_daemon_stopping())
        return eca_err_set(err, ECA_ESTOPPED, "verify: abandoned for a stop request");
    if (served[0] == '\0')
        return eca_err_set(err, ECA_EPROTO, "verify: %s", perr.msg);
    return eca_err_set(err, ECA_EPROTO, "verify: %s serves serial %s, not the new %s", cc->verify,
                       served, serial);
}

/* Put the .prev set back (journaled like any install): a rollback, or a kept set again. */
static enum eca_rc
install_prev(const char *state_dir, const struct eca_certconf *cc, const struct eca_install_file *f,
             size_t n, struct eca_err *err)
{
    struct eca_buf prev[ECA_DEPLOY_FILES_MAX];
    struct eca_install_file back[ECA_DEPLOY_FILES_MAX];
    char path[4096];
    size_t got = 0;
    enum eca_rc rc = ECA_OK;

    for (; got < n && rc == ECA_OK; got++) {
        eca_buf_init(&prev[got], PEM_MAX);
        if (snprintf(path, sizeof path, "%s.prev", f[got].path) >= (int)sizeof path)
            rc = eca_err_set(err, ECA_EINVAL, "%.200s...: path too long", f[got].path);
        else
            rc = eca_fs_read(path, PEM_MAX, &prev[got], err);
        back[got] = (struct eca_install_file){f[got].path,
                                              prev[got].data ? (const void *)prev[got].data : "",
                                              prev[got].len, f[got].mode};
    }
    if (rc == ECA_OK)
        rc = install(state_dir, cc->name, back, n, err);
    for (size_t i = 0; i < got; i++)
        eca_buf_free(&prev[i]);
    return rc;
}

/* Put the .prev set back and reload again. */
static enum eca_rc
rollback(const char *state_dir, const struct eca_certconf *cc, const struct eca_install_file *f,
         size_t n, struct eca_err *err)
{
    enum eca_rc rc = install_prev(state_dir, cc, f, n, err);

    return rc == ECA_OK ? eca_deploy_reload(cc, err) : rc;
}

static void
set_failed(enum eca_step *failed, enum eca_step step)
{
    if (failed)
        *failed = step;
}

/* The steps after an install of the set `files`: reload, verify, roll back. */
static enum eca_rc
finish(const char *state_dir, const struct eca_certconf *cc, const struct eca_install_file *files,
       size_t n, const char *serial, enum eca_step *failed, struct eca_err *err)
{
    struct eca_err rerr = {0};
    enum eca_rc rc;

    if ((rc = eca_deploy_reload(cc, err)) != ECA_OK) {
        set_failed(failed, ECA_STEP_RELOAD);
        return rc;
    }
    /* A stop during verification leaves the new, matching pair: it is not known to be bad. */
    if (cc->verify == NULL || (rc = eca_deploy_verify(cc, serial, err)) == ECA_OK ||
        rc == ECA_ESTOPPED)
        return rc;
    set_failed(failed, ECA_STEP_VERIFY);
    eca_log(ECA_LOG_ERROR, "verify_failed", cc->name,
            ECA_LOG_FIELDS(ECA_LS("target", cc->verify), ECA_LS("serial", serial)), "%s",
            err ? err->msg : "");
    if (rollback(state_dir, cc, files, n, &rerr) != ECA_OK) {
        /* The new set may still be in place: its retry is a reload and a verify again. */
        set_failed(failed, ECA_STEP_RELOAD);
        eca_log(ECA_LOG_ERROR, "rollback_failed", cc->name, NULL, 0, "%s", rerr.msg);
        eca_err_prefix(err, "(rollback failed too: %s) ", rerr.msg);
        return rc;
    }
    eca_log(ECA_LOG_WARN, "rollback_done", cc->name, NULL, 0,
            "the previous certificate and key are installed again");
    eca_err_prefix(err, "previous certificate restored: ");
    return rc;
}

enum eca_rc
eca_deploy_run(const char *state_dir, const struct eca_certconf *cc, struct eca_deploy_set *s,
               const char *serial, enum eca_step *failed, struct eca_err *err)
{
    struct eca_install_file files[ECA_DEPLOY_FILES_MAX];
    size_t n = ordered(s, files);
    enum eca_rc rc;

    if ((rc = install(state_dir, cc->name, files, n, err)) != ECA_OK) {
        set_failed(failed, ECA_STEP_INSTALL);
        eca_err_prefix(err, "install: ");
        return rc;
    }
    eca_log(ECA_LOG_INFO, "cert_installed", cc->name,
            ECA_LOG_FIELDS(ECA_LS("serial", serial), ECA_LS("cert_path", cc->cert_path),
                           ECA_LS("key_path", cc->key_path)),
            NULL);
    return finish(state_dir, cc, files, n, serial, failed, err);
}

/* 1 when the pair at cert_path/key_path (plus suffix) is the matching pair `serial`. */
static int
pair_is(const struct eca_certconf *cc, const char *suffix, const char *serial)
{
    char cert[4096], key[4096];
    struct eca_certstate st;

    if (snprintf(cert, sizeof cert, "%s%s", cc->cert_path, suffix) >= (int)sizeof cert ||
        snprintf(key, sizeof key, "%s%s", cc->key_path, suffix) >= (int)sizeof key ||
        eca_certstate_read(cert, key, &st, NULL) != ECA_OK)
        return 0;
    return st.present && st.matches && serial[0] && strcmp(st.serial, serial) == 0;
}

enum eca_rc
eca_deploy_resume(const char *state_dir, const struct eca_certconf *cc, struct eca_deploy_set *s,
                  enum eca_step step, const char *serial, enum eca_step *failed,
                  struct eca_err *err)
{
    struct eca_install_file files[ECA_DEPLOY_FILES_MAX];
    size_t n = ordered(s, files);
    enum eca_rc rc;

    if (step == ECA_STEP_RELOAD && !pair_is(cc, "", serial))
        return eca_err_set(err, ECA_ENOTFOUND, "the certificate %s is no longer installed", serial);
    if (step == ECA_STEP_VERIFY) {
        if (!pair_is(cc, ".prev", serial))
            return eca_err_set(err, ECA_ENOTFOUND, "the certificate %s is no longer kept as .prev",
                               serial);
        if ((rc = install_prev(state_dir, cc, files, n, err)) != ECA_OK) {
            set_failed(failed, ECA_STEP_VERIFY);
            eca_err_prefix(err, "install again: ");
            return rc;
        }
    } else if (step != ECA_STEP_RELOAD) {
        return eca_err_set(err, ECA_EINVAL, "nothing to resume after step %s", eca_step_name(step));
    }
    eca_log(ECA_LOG_INFO, "deploy_resumed", cc->name,
            ECA_LOG_FIELDS(ECA_LS("step", eca_step_name(step)), ECA_LS("serial", serial)), NULL);
    return finish(state_dir, cc, files, n, serial, failed, err);
}

void
eca_deploy_status_fill(struct eca_status_cert *out, const char *name,
                       const struct eca_certstate *st, const struct eca_renew_out *dec,
                       const struct eca_retry *retry, time_t now)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof out->name, "%s", name);
    out->present = st->present;
    snprintf(out->subject, sizeof out->subject, "%s", st->subject);
    snprintf(out->serial, sizeof out->serial, "%s", st->serial);
    out->not_before = st->not_before;
    out->not_after = st->not_after;
    snprintf(out->problem, sizeof out->problem, "%s", st->present ? "" : st->problem);
    out->failures = retry->failures;
    snprintf(out->last_rc, sizeof out->last_rc, "%s", retry->last_rc);
    snprintf(out->last_error, sizeof out->last_error, "%s", eca_retry_error(retry));
    out->last_success = retry->last_success;
    out->renew_at = st->present ? dec->renew_at : 0;
    out->revoked = st->present && dec->reason == ECA_RENEW_REVOKED;
    if (retry->failures > 0 && retry->next_attempt > now) {
        out->next_action = retry->next_attempt;
        out->next_reason = retry->step == ECA_STEP_BUDGET ? "budget" : "retry";
    } else if (dec->reason != ECA_RENEW_NONE) {
        out->next_action = now;
        out->next_reason = eca_renew_reason_name(dec->reason);
    } else {
        out->next_action = dec->next_check;
        out->next_reason = dec->next_check >= dec->renew_at ? "renew" : "check";
    }
}

void
eca_deploy_status_of(const struct eca_certconf *cc, const struct eca_certstate *st,
                     const char *state_dir, long interval_s, time_t now,
                     struct eca_status_cert *out)
{
    struct eca_renew_out dec;
    struct eca_retry retry = {0};

    eca_retry_load(state_dir, cc->name, &retry, NULL); /* unreadable: a zeroed state */
    /* Read only: status creates nothing (no host seed written either). */
    if (eca_deploy_host_seed() == 0)
        eca_deploy_host_seed_load(state_dir, 0, NULL);
    eca_deploy_decide(cc, st, 0, 0, interval_s, now, &dec);
    eca_deploy_status_fill(out, cc->name, st, &dec, &retry, now);
    eca_retry_clear(&retry);
}

void
eca_deploy_status(const struct eca_certconf *cc, const char *state_dir, long interval_s, time_t now,
                  struct eca_status_cert *out)
{
    struct eca_certstate st;

    if (eca_certstate_read(cc->cert_path, cc->key_path, &st, NULL) != ECA_OK)
        memset(&st, 0, sizeof st);
    eca_deploy_status_of(cc, &st, state_dir, interval_s, now, out);
}
