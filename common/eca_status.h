/* SPDX-License-Identifier: MIT */
/* Per-certificate status of an agent: text for `status`, JSON for `status --json` and the file. */
#ifndef ECA_STATUS_H
#define ECA_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "eca_buf.h"
#include "eca_err.h"

/* Everything `status` says about one certificate. Plain data. */
struct eca_status_cert {
    char name[65];
    int present; /* a certificate and its key are installed and parse */
    char subject[512];
    char serial[130];
    time_t not_before, not_after;  /* 0 when absent */
    char problem[ECA_ERR_MSG_MAX]; /* why not present/usable, "" otherwise */
    time_t next_action;            /* when the agent acts (or looks) next */
    time_t renew_at;               /* when the renewal window opens (0: unknown) */
    const char *next_reason; /* "check", "threshold", "missing", "retry", ... (static string) */
    unsigned failures;       /* consecutive failed attempts */
    char last_rc[16];        /* eca_rc_name of the last failure, "" when none */
    char last_error[ECA_ERR_MSG_MAX];
    time_t last_success;  /* 0: none recorded */
    time_t pending_since; /* a request the CA accepted but has not issued yet; 0: none */
    time_t pending_next;  /* when it is sent again */
    int revoked;          /* the installed certificate is known to be revoked: never healthy */
    char profile[65];     /* the CA's certificate profile of the last order, "" when none */
};

/* t as RFC 3339 UTC ("2026-01-01T00:00:00Z") into buf, or "-" when t <= 0; returns buf. */
const char *eca_status_time(time_t t, char *buf, size_t len);

/* Share of the lifetime left at `now`, 0..100 (0 when absent or expired). */
int eca_status_left_pct(const struct eca_status_cert *c, time_t now);

/*
 * 1 when c is healthy at `now`: installed, unexpired, not revoked, before its renewal point and
 * its last pass did not fail; 0 when it is failing, missing, revoked, expired or past its
 * renewal point. A
 * renewal pending approval at the CA counts as healthy while the installed certificate is
 * still valid (the agent waits as the CA asked; nothing is wrong on this side).
 */
int eca_status_healthy(const struct eca_status_cert *c, time_t now);

/* Human-readable report, one block per certificate, appended to out. */
enum eca_rc eca_status_render_text(const struct eca_status_cert *v, size_t n, time_t now,
                                   struct eca_buf *out, struct eca_err *err);

/*
 * JSON report appended to out (one line, keys in a fixed order, times RFC 3339 UTC or null):
 * {"agent":..,"version":..,"generated":..,"certificates":[{"name":..,"present":..,"subject":..,
 * "serial":..,"not_before":..,"not_after":..,"lifetime_left_pct":..,"next_action":..,
 * "next_reason":..,"renew_at":..,"failures":..,"last_error_rc":..,"last_error":..,"last_success":..,
 * "problem":..,"pending_since":..,"pending_next":..,"revoked":..,"profile":..}]}
 */
enum eca_rc eca_status_render_json(const char *agent, const char *version,
                                   const struct eca_status_cert *v, size_t n, time_t now,
                                   struct eca_buf *out, struct eca_err *err);

/* The text (or, with json, the JSON) report written to out, for the `status` command. */
enum eca_rc eca_status_print(const char *agent, const char *version,
                             const struct eca_status_cert *v, size_t n, time_t now, int json,
                             FILE *out, struct eca_err *err);

/* Write STATE_DIR/status.json atomically (0644) for health checks. */
enum eca_rc eca_status_write(const char *state_dir, const char *agent, const char *version,
                             const struct eca_status_cert *v, size_t n, time_t now,
                             struct eca_err *err);

/*
 * A daemon's status of every certificate between passes, each entry kept in the bytes it needs
 * (a struct eca_status_cert is nearly 2 KiB, mostly empty: 2 MiB for a thousand certificates).
 * Entry i is written by whoever handles certificate i: entries share no mutable state.
 */
struct eca_status_table;

/* n empty entries; NULL when out of memory. Free with eca_status_table_free() (NULL: no-op). */
struct eca_status_table *eca_status_table_new(size_t n);
void eca_status_table_free(struct eca_status_table *t);

/* Keep c as entry i; ECA_ENOMEM leaves the entry as it was. */
enum eca_rc eca_status_table_set(struct eca_status_table *t, size_t i,
                                 const struct eca_status_cert *c, struct eca_err *err);

/* Entry i into out (zeroed when never set). */
void eca_status_table_get(const struct eca_status_table *t, size_t i, struct eca_status_cert *out);

/* eca_status_write() of the table's n entries. */
enum eca_rc eca_status_table_write(const struct eca_status_table *t, const char *state_dir,
                                   const char *agent, const char *version, time_t now,
                                   struct eca_err *err);

#endif
