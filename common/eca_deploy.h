/* SPDX-License-Identifier: MIT */
/* The protocol-free steps of a pass both agents take: decide, install a set, reload, verify. */
#ifndef ECA_DEPLOY_H
#define ECA_DEPLOY_H

#include <stddef.h>
#include <time.h>

#include "eca_agentconf.h"
#include "eca_buf.h"
#include "eca_certstate.h"
#include "eca_err.h"
#include "eca_install.h"
#include "eca_key.h"
#include "eca_renew.h"
#include "eca_retry.h"
#include "eca_status.h"
#include "eca_x509.h"

/* What one pass over one certificate saw and did (the daemon's agent fills it). */
struct eca_pass_result {
    struct eca_certstate st;  /* installed state (after a renewal: the new one) */
    struct eca_renew_out dec; /* the decision for that state; dec.next_check: look again */
    int renewed;              /* a new certificate was installed */
    /* A failed pass: the step that failed; the issuance budget: the CA issued a certificate. */
    enum eca_step step;
    int issued;
    char serial[130]; /* the issued certificate's serial (hex), "" when none */
};

/* The `force` argument of the agents' passes is a set of these. */
#define ECA_PASS_FORCE 0x1u /* renew whatever the installed certificate's state */
#define ECA_PASS_LOOK  0x2u /* check and decide only: never fetch a certificate */

/* The most files one certificate installs (key, pfx, cert, chain, CA bundle, spare). */
#define ECA_DEPLOY_FILES_MAX 6

/* The files of one install: built by eca_deploy_set_build(), extended, then deployed. */
struct eca_deploy_set {
    struct eca_buf key, cert, chain;
    struct eca_install_file files[ECA_DEPLOY_FILES_MAX];
    size_t n;
};

/* A stable jitter seed for the certificate `name` on this host (never 0): FNV-1a of the name,
 * mixed with the host seed once one is loaded (so retries spread across a fleet too). */
unsigned eca_deploy_seed(const char *name);

/*
 * Load the per-host jitter seed from STATE_DIR/host.seed (8 hex digits); when it is absent or
 * unusable and `create` is set, a random one is written there (0600, first start) first.
 * eca_deploy_decide() and eca_deploy_seed() use it from then on (0: none, the name alone).
 * ECA_ENOTFOUND without `create` when there is none yet.
 */
enum eca_rc eca_deploy_host_seed_load(const char *state_dir, int create, struct eca_err *err);

/* The host seed in use (0: none loaded). */
unsigned eca_deploy_host_seed(void);

/*
 * The renewal decision for cc from the installed state: revoked and forced come from the
 * daemon (CRL, changed names, USR1); threshold, max age and jitter from cc. Pure.
 */
void eca_deploy_decide(const struct eca_certconf *cc, const struct eca_certstate *st, int revoked,
                       int forced, long interval_s, time_t now, struct eca_renew_out *out);

/*
 * At start, per certificate: load (or create) the host seed, roll forward an install of cc
 * interrupted by a crash (journal STATE_DIR/<name>.journal), then sweep what a kill -9 left
 * (eca_install_sweep; staged files only when no journal needs them). A journal that cannot be
 * rolled forward is an error naming what to remove: the daemon fails that certificate alone.
 */
enum eca_rc eca_deploy_recover(const char *state_dir, const struct eca_certconf *cc,
                               struct eca_err *err);

/* eca_deploy_recover() also sweeping the leftovers of extra[0..nextra) (NULL entries skipped):
 * files a daemon installs beyond key, certificate and chain (a PKCS#12 bundle, a CA bundle). */
enum eca_rc eca_deploy_recover_ex(const char *state_dir, const struct eca_certconf *cc,
                                  const char *const *extra, size_t nextra, struct eca_err *err);

/* eca_deploy_recover_ex() at a start over many certificates: memo (eca_fs_sweep_new(); NULL:
 * none) lists each directory once for all of them. */
enum eca_rc eca_deploy_recover_memo(const char *state_dir, const struct eca_certconf *cc,
                                    const char *const *extra, size_t nextra,
                                    struct eca_fs_sweep *memo, struct eca_err *err);

/*
 * The PEM set for cc: key (0600), certificate (leaf + issuers, or the leaf alone when
 * leaf_only; minio always gets the full chain) and, for the pem layout with chain_path, the
 * issuers alone. Free with eca_deploy_set_free() whatever the result.
 */
enum eca_rc eca_deploy_set_build(struct eca_deploy_set *s, const struct eca_certconf *cc,
                                 const struct eca_key *key, const struct eca_chain *chain,
                                 int leaf_only, struct eca_err *err);

/*
 * The files cc installs (as eca_deploy_set_build() lists them) without their contents: for
 * eca_deploy_resume(), which needs only paths and modes. Free with eca_deploy_set_free().
 */
void eca_deploy_set_targets(struct eca_deploy_set *s, const struct eca_certconf *cc);

/* Add one more file (path NULL: nothing); data is borrowed until the deploy. */
void eca_deploy_set_add(struct eca_deploy_set *s, const char *path, const struct eca_buf *data,
                        unsigned mode);

void eca_deploy_set_free(struct eca_deploy_set *s);

/*
 * Install the set atomically (private files first, journaled), run the reload action, then
 * when cc->verify is set check that the server serves `serial`. When it does not, the .prev
 * set is installed again (journaled), the reload runs again, `verify_failed` is logged and
 * ECA_EPROTO returned, so the loop retries later with backoff. On failure *failed (when not
 * NULL) names the step: ECA_STEP_INSTALL, ECA_STEP_RELOAD (the new set stays installed) or
 * ECA_STEP_VERIFY (the new set is kept as .prev).
 */
enum eca_rc eca_deploy_run(const char *state_dir, const struct eca_certconf *cc,
                           struct eca_deploy_set *s, const char *serial, enum eca_step *failed,
                           struct eca_err *err);

/*
 * Take up a deploy that failed at `step` for the certificate `serial` without fetching
 * another: ECA_STEP_RELOAD runs the reload and the verify again over the installed set;
 * ECA_STEP_VERIFY installs the kept set (.prev) again first. The verify and its rollback
 * follow eca_deploy_run(), and so does *failed. ECA_ENOTFOUND when the set that failed is no
 * longer there (replaced, or the files moved): the caller then runs a full pass.
 */
enum eca_rc eca_deploy_resume(const char *state_dir, const struct eca_certconf *cc,
                              struct eca_deploy_set *s, enum eca_step step, const char *serial,
                              enum eca_step *failed, struct eca_err *err);

/* Run cc's reload action: the command (argv, timeout), then the signal to the pid file. */
enum eca_rc eca_deploy_reload(const struct eca_certconf *cc, struct eca_err *err);

/*
 * Poll cc->verify until it serves `serial` or cc->verify_timeout_s pass (a server may take
 * a moment to pick up the new pair). ECA_EPROTO naming both serials when it never does,
 * ECA_ESTOPPED when a stop request cut it short.
 */
enum eca_rc eca_deploy_verify(const struct eca_certconf *cc, const char *serial,
                              struct eca_err *err);

/* Status of one certificate from its installed state, decision and retry state. */
void eca_deploy_status_fill(struct eca_status_cert *out, const char *name,
                            const struct eca_certstate *st, const struct eca_renew_out *dec,
                            const struct eca_retry *retry, time_t now);

/* Status of cc without acting: reads the installed files and STATE_DIR/<name>.sched. */
void eca_deploy_status(const struct eca_certconf *cc, const char *state_dir, long interval_s,
                       time_t now, struct eca_status_cert *out);

/* eca_deploy_status() over the installed state st already read (eca_certcache_read). */
void eca_deploy_status_of(const struct eca_certconf *cc, const struct eca_certstate *st,
                          const char *state_dir, long interval_s, time_t now,
                          struct eca_status_cert *out);

#endif
