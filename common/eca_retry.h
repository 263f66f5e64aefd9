/* SPDX-License-Identifier: MIT */
/* Per-certificate retry state kept in STATE_DIR, so that a restart does not hammer the CA. */
#ifndef ECA_RETRY_H
#define ECA_RETRY_H

#include <time.h>

#include "eca_certstate.h"
#include "eca_err.h"

/*
 * The steps of a pass, in order. A failed pass records the one that failed, so its retry
 * repeats that step and not the ones before it: a reload that failed is run again, it does
 * not fetch another certificate.
 */
enum eca_step {
    ECA_STEP_NONE = 0, /* nothing failed (or a state file from before steps were kept) */
    ECA_STEP_OBTAIN,   /* getting a new certificate from the CA, and checking it */
    ECA_STEP_INSTALL,  /* writing the new pair */
    ECA_STEP_RELOAD,   /* the new pair is installed; the reload action failed */
    ECA_STEP_VERIFY,   /* the server did not serve the new pair; it is kept as .prev */
    ECA_STEP_BUDGET,   /* a new certificate was due but the issuance budget was spent */
    ECA_STEP_MAX
};

/* "obtain", "install", "reload", "verify", "budget"; "-" for none. */
const char *eca_step_name(enum eca_step s);

/* The step named by eca_step_name(); ECA_STEP_NONE when unknown. */
enum eca_step eca_step_parse(const char *name);

/*
 * What survives a restart for one certificate. The texts of a failure are allocated only while
 * there is one: a daemon keeps this for every certificate, and most are healthy.
 */
struct eca_retry {
    unsigned failures;   /* consecutive failed renewals; 0: healthy */
    time_t next_attempt; /* not before this after a failure (backoff) */
    time_t last_success; /* last renewal that installed a certificate; 0: none yet */
    char last_rc[16];    /* eca_rc_name of the last failure, "" when none */
    enum eca_step step;  /* the step that failed; ECA_STEP_NONE when none */
    char *last_error;    /* its message (one line); NULL when none: see eca_retry_error() */
    char *serial; /* RELOAD, VERIFY: the new pair's serial (hex); NULL: see eca_retry_serial() */
};

/* The last failure's message, "" when none. */
const char *eca_retry_error(const struct eca_retry *s);

/* The serial of the pair a failed reload or verify left, "" when none. */
const char *eca_retry_serial(const struct eca_retry *s);

/* Set (a copy of serial; NULL or "": none) the serial of the pair to take up again. */
void eca_retry_set_serial(struct eca_retry *s, const char *serial);

/* Free what s holds and zero it (a zeroed or cleared s needs no clear). */
void eca_retry_clear(struct eca_retry *s);

/*
 * STATE_DIR/<name>.sched into out, which is cleared first (so it must be zeroed or hold a
 * state); a missing file gives a zeroed state (ECA_OK).
 */
enum eca_rc eca_retry_load(const char *state_dir, const char *name, struct eca_retry *out,
                           struct eca_err *err);

/* Write STATE_DIR/<name>.sched atomically (0600). */
enum eca_rc eca_retry_save(const char *state_dir, const char *name, const struct eca_retry *s,
                           struct eca_err *err);

/*
 * Record a failure at `now`: failures += 1, last error from e, next_attempt = now + capped
 * exponential backoff with jitter (eca_renew_backoff). The base shrinks for short lifetimes
 * (a twentieth of `lifetime_s` when that is shorter, not below ECA_RENEW_FLOOR_S) so a
 * two-minute certificate still gets several tries before it expires. Returns the delay (s).
 */
long eca_retry_failed(struct eca_retry *s, const struct eca_err *e, time_t now, long base_s,
                      long cap_s, long lifetime_s, unsigned jitter_seed);

/* Record a success at `now` (renewed: a certificate was installed): failures and error reset. */
void eca_retry_succeeded(struct eca_retry *s, int renewed, time_t now);

/*
 * When a certificate is first looked at after a start: `now`, unless a persisted backoff
 * still holds (a restart must not hammer the CA). With once (an explicit run: cron, an
 * operator after a fix) the backoff is not waited for.
 */
time_t eca_retry_first_due(const struct eca_retry *s, time_t now, int once);

/*
 * A failed pass for certificate `name`: eca_retry_failed() with the cap further limited to
 * interval_s and by st's lifetime (eca_renew_retry_cap), saved to STATE_DIR (with the
 * step and serial the caller set in s), logged as `renew_failed`. Returns when to try again.
 */
time_t eca_retry_fail(const char *state_dir, const char *name, struct eca_retry *s,
                      const struct eca_certstate *st, const struct eca_err *e, long base_s,
                      long cap_s, long interval_s, unsigned jitter_seed, time_t now);

/*
 * A certificate was due but may not be fetched before `until` (the issuance budget): counted
 * as a failure (s->step ECA_STEP_BUDGET, the error from e), next attempt at `until`, saved.
 * The caller logs the event. Returns `until`.
 */
time_t eca_retry_refuse(const char *state_dir, const char *name, struct eca_retry *s,
                        const struct eca_err *e, time_t until);

/* 1 when a failed pass left a new pair to reload or verify again (eca_deploy_resume). */
int eca_retry_resumes(const struct eca_retry *s);

/* 1 when a failed pass must fetch a certificate again: it failed before a new pair was in place. */
int eca_retry_refetch(const struct eca_retry *s);

/* A good pass (renewed: a certificate was installed): recorded and saved when it changes. */
void eca_retry_ok(const char *state_dir, const char *name, struct eca_retry *s, int renewed,
                  time_t now);

#endif
