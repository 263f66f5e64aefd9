/* SPDX-License-Identifier: MIT */
/*
 * A request the EST server accepted but has not issued yet (HTTP 202, RFC 7030 §4.2.3): kept in
 * STATE_DIR so the same CSR, with the same key, is sent again at the time the server asked,
 * across passes and restarts. Files: <name>.pending (this state), <name>.pending.key (0600 PEM)
 * and <name>.pending.csr (DER, 0600).
 */
#ifndef EST_PENDING_H
#define EST_PENDING_H

#include <stddef.h>
#include <time.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_key.h"

/* Without Retry-After, the next try is this far away once the in-pass wait is used up. */
#define EST_PENDING_DEFAULT_RETRY 300L

struct est_pending {
    int reenroll;     /* the request went to /simplereenroll */
    time_t since;     /* the first 202 */
    time_t next;      /* when to send it again */
    long retry_after; /* what the server last asked for in seconds; -1: nothing (or garbage) */
};

/* "eca-est-pending 1 <enroll|reenroll> <since> <next> <retry_after>\n". Pure; 0 or -1. */
int est_pending_parse(const void *text, size_t len, struct est_pending *out);

/* The state as est_pending_parse reads it, into out (NUL-terminated); the length written. */
size_t est_pending_format(const struct est_pending *p, char *out, size_t outlen);

/*
 * When to send a pending request again after the server's answer at `now`: retry_after
 * seconds later (dflt when the server gave none or 0, retry_after <= 0), never later than
 * `since` + max_age_s (when the request is given up). Pure.
 */
time_t est_pending_next(time_t since, time_t now, long retry_after, long dflt, long max_age_s);

/*
 * The pending request of certificate `name`: the state alone (key and csr NULL) or with its key
 * and CSR. ECA_ENOTFOUND when there is none; ECA_EPARSE naming the file when one is unusable.
 */
enum eca_rc est_pending_load(const char *state_dir, const char *name, struct est_pending *out,
                             struct eca_key **key, struct eca_buf *csr, struct eca_err *err);

/* Keep it: key and CSR first (0600; NULL: already kept), then the state, each atomically. */
enum eca_rc est_pending_save(const char *state_dir, const char *name, const struct est_pending *p,
                             const struct eca_key *key, const struct eca_buf *csr,
                             struct eca_err *err);

/* Forget it: the state first (so a crash leaves no state without its key), then key and CSR. */
void est_pending_remove(const char *state_dir, const char *name);

#endif
