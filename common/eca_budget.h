/* SPDX-License-Identifier: MIT */
/*
 * The issuance budget: at most N new certificates per managed certificate in a rolling window
 * (7 days), so that no fault (a reload that keeps failing, an operator's loop of forced
 * renewals) makes an agent ask a CA for certificates without end. Times of the certificates
 * issued are kept in STATE_DIR/<name>.issued.
 */
#ifndef ECA_BUDGET_H
#define ECA_BUDGET_H

#include <stdint.h>
#include <time.h>

#include "eca_err.h"

#define ECA_BUDGET_WINDOW_S (7L * 24 * 3600)
#define ECA_BUDGET_DEFAULT  4  /* below a common CA limit of 5 duplicate certificates a week */
#define ECA_BUDGET_MAX      50 /* the largest setting; also the most times kept */

/*
 * The issue times inside the window, oldest first (at most ECA_BUDGET_MAX). Seconds since the
 * epoch in 32 unsigned bits (good until 2106), on the heap only once there is one: a daemon
 * keeps a budget per certificate, and most have issued nothing this week. Zeroed is empty.
 */
struct eca_budget {
    unsigned n, cap;
    uint32_t *at;
};

/* Free what b holds and zero it. */
void eca_budget_clear(struct eca_budget *b);

/*
 * Parse the file's text (NUL-terminated) into out (cleared first: zeroed or holding a budget);
 * times outside [now - window, now + 1 day] dropped.
 */
int eca_budget_parse(const char *text, time_t now, struct eca_budget *out);

/* How many more may be issued at `now` under `limit` (0: no limit, a large number). */
int eca_budget_remaining(const struct eca_budget *b, int limit, time_t now);

/* When the next one may be issued: `now` while some remain, else when the oldest leaves. */
time_t eca_budget_frees_at(const struct eca_budget *b, int limit, time_t now);

/* Count one issued at `now` (the oldest dropped when full, or when memory is short). */
void eca_budget_add(struct eca_budget *b, time_t now);

/* STATE_DIR/<name>.issued into out (as eca_budget_parse); a missing file is an empty budget. */
enum eca_rc eca_budget_load(const char *state_dir, const char *name, time_t now,
                            struct eca_budget *out, struct eca_err *err);

/* eca_budget_add(), then STATE_DIR/<name>.issued written atomically (0600). */
enum eca_rc eca_budget_record(const char *state_dir, const char *name, struct eca_budget *b,
                              time_t now, struct eca_err *err);

/*
 * A certificate for `name` was due but the budget is spent: err set (ECA_EAGAIN) saying how
 * many were issued and when the next may be, `issuance_budget_exhausted` logged. Returns that
 * time (eca_budget_frees_at).
 */
time_t eca_budget_refused(const struct eca_budget *b, int limit, const char *name, time_t now,
                          struct eca_err *err);

/*
 * The CA issued a certificate for `name` at `now`: recorded (eca_budget_record; a failure to
 * save is logged). over: the budget was spent and the operator's override let it through,
 * which is logged as `issuance_budget_override`.
 */
void eca_budget_issued(const char *state_dir, const char *name, struct eca_budget *b, int limit,
                       int over, time_t now);

#endif
