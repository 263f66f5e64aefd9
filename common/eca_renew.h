/* SPDX-License-Identifier: MIT */
/* The renewal decision, pure: from the certificate's state and the time, renew now or when. */
#ifndef ECA_RENEW_H
#define ECA_RENEW_H

#include <time.h>

/*
 * However short the lifetime, no idle check and no retry comes sooner than this after the last
 * (a check_interval set below it still wins): a 60-second certificate is looked at every 5 s,
 * not in a busy loop, and a failing CA is not asked more than every 5 s.
 */
#define ECA_RENEW_FLOOR_S 5L

enum eca_renew_reason {
    ECA_RENEW_NONE = 0, /* valid, outside the renewal window */
    ECA_RENEW_MISSING,  /* no certificate or key installed */
    ECA_RENEW_MISMATCH, /* key does not match certificate */
    ECA_RENEW_NOT_YET_VALID,
    ECA_RENEW_EXPIRED,
    ECA_RENEW_REVOKED,
    ECA_RENEW_FORCED,
    ECA_RENEW_THRESHOLD, /* less than threshold_pct of the lifetime left */
    ECA_RENEW_MAX_AGE,   /* older than max_age_s */
    ECA_RENEW_SUGGESTED, /* the CA's suggested renewal time has come (set by a daemon) */
    ECA_RENEW_REASON_MAX
};

struct eca_renew_in {
    time_t now;
    int present; /* certificate and key found and parsed */
    int matches; /* key matches certificate */
    int revoked;
    int forced;
    time_t not_before, not_after;
    int threshold_pct;     /* renew when less than this share of lifetime is left (1..99) */
    long max_age_s;        /* 0: none */
    long check_interval_s; /* longest sleep */
    unsigned jitter_seed;  /* deterministic jitter source, per certificate; 0: none */
    unsigned host_seed;    /* mixed into it, per host (identical configs spread out); 0: none */
};

struct eca_renew_out {
    enum eca_renew_reason reason; /* ECA_RENEW_NONE: nothing to do now */
    time_t renew_at;              /* when the renewal window opens (with jitter) */
    time_t next_check;            /* when to look again: min(renew_at, now + interval, capped) */
};

/* Decide. Pure: no clock, no I/O. */
void eca_renew_decide(const struct eca_renew_in *in, struct eca_renew_out *out);

/* "missing", "threshold", ...: for logs and metrics. */
const char *eca_renew_reason_name(enum eca_renew_reason r);

/*
 * The longest wait before retrying a failed renewal at now: cap_s, but at most a quarter of what
 * is left of the installed certificate [not_before, not_after) (present 0: none), or, once it
 * has expired, a quarter of its lifetime; never below ECA_RENEW_FLOOR_S (unless cap_s is).
 */
long eca_renew_retry_cap(long cap_s, int present, time_t not_before, time_t not_after, time_t now);

/*
 * The most renewals a certificate of lifetime_s seconds, renewed when less than threshold_pct
 * of it is left (at the earliest jitter), can need in any window_s seconds: 0 when the lifetime
 * is unknown (0) or one renewal is further apart than the window.
 */
long eca_renew_per_window(long lifetime_s, int threshold_pct, long window_s);

/* Capped exponential backoff after `failures` consecutive failures (1 = first), with jitter. */
long eca_renew_backoff(unsigned failures, long base_s, long cap_s, unsigned jitter_seed);

#endif
