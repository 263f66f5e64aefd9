/* SPDX-License-Identifier: MIT */
/* The agent loop both daemons run: schedule, pass, back off, report, sleep until due. */
#ifndef ECA_LOOP_H
#define ECA_LOOP_H

#include <stddef.h>
#include <time.h>

#include "eca_agentconf.h"
#include "eca_buf.h"
#include "eca_certstate.h"
#include "eca_err.h"
#include "eca_metrics.h"
#include "eca_renew.h"

/* What one pass over one certificate saw and did; filled by the daemon's run callback. */
struct eca_pass_result {
    struct eca_certstate st;  /* installed state (after a renewal: the new one) */
    struct eca_renew_out dec; /* the decision for that state; dec.next_check: look again */
    int renewed;              /* a new certificate was installed */
};

/*
 * One pass for certificate i: check, decide, act when due or when force is set. Fills res
 * (at least res->st and res->dec when the check itself worked) and returns the failure,
 * ECA_ESTOPPED when abandoned for a stop request.
 */
typedef enum eca_rc (*eca_loop_run_fn)(void *ctx, size_t i, int force, struct eca_pass_result *res,
                                       struct eca_err *err);

/* The daemon's side of the loop. Everything is borrowed. */
struct eca_loop {
    const char *agent, *version; /* the program name, ECA_VERSION */
    const struct eca_agentconf *g;
    const void *certs; /* array of ncerts elements of `stride` bytes, each starting with a
                          struct eca_certconf */
    size_t ncerts, stride;
    long backoff_base_s, backoff_cap_s;
    eca_loop_run_fn run;
    void *ctx;
    struct eca_metrics *metrics; /* NULL: no metrics */
};

/*
 * Fill l for the agent `agent` (version ECA_VERSION) over g and ncerts certificates of
 * `stride` bytes at certs, run by run(ctx, ...); backoff base and cap as given. No metrics.
 */
void eca_loop_init(struct eca_loop *l, const char *agent, const struct eca_agentconf *g,
                   const void *certs, size_t ncerts, size_t stride, long backoff_base_s,
                   eca_loop_run_fn run, void *ctx);

/* How eca_loop_run() ended. */
enum eca_loop_end { ECA_LOOP_DONE = 0, ECA_LOOP_RELOAD };

/*
 * Run passes until a stop request (or after one pass with once): each certificate is looked
 * at when due (its own next check, or its persisted backoff after a failure, so a restart
 * does not hammer the CA); a failure backs off that certificate alone. After every pass the
 * status file and the metrics textfile are written; between passes one wait, until the
 * earliest due time, also serves the metrics endpoint. A reload request ends the loop with
 * ECA_LOOP_RELOAD (the caller reloads and calls again). *failed: the last pass had a failure.
 * With once, a persisted backoff is not waited for (an explicit run), only recorded.
 */
enum eca_loop_end eca_loop_run(const struct eca_loop *l, int once, int force, int *failed);

/* Status of every certificate without acting, as text or JSON, appended to out. */
enum eca_rc eca_loop_status(const struct eca_loop *l, int json, struct eca_buf *out,
                            struct eca_err *err);

/*
 * Metrics for g: NULL in *out when neither metrics_textfile nor metrics_listen is set;
 * otherwise a registry with every failure cause declared, serving metrics_listen if set.
 */
enum eca_rc eca_loop_metrics_open(const struct eca_agentconf *g, const char *agent,
                                  const char *version, struct eca_metrics **out,
                                  struct eca_err *err);

/* A daemon as eca_loop_main() drives it. */
struct eca_loop_app {
    /* Describe the current configuration in *l (everything but metrics). */
    void (*describe)(void *app, struct eca_loop *l);
    /* Re-read the configuration (HUP): 0 when a valid new one replaced the old. */
    int (*reload)(void *app);
    void *app;
};

/*
 * The daemon's life: metrics set up from the configuration, agent_started, eca_loop_run()
 * again after each reload request, agent_stopped. Returns the exit status: 0, or 1 when
 * the last pass had a failure (a stop request always gives 0) or metrics could not start.
 */
int eca_loop_main(const struct eca_loop_app *a, int once, int force);

/* Print the status of every certificate (text or JSON) on stdout; exit status 0 or 1. */
int eca_loop_print_status(const struct eca_loop *l, int json);
#endif
