/* SPDX-License-Identifier: MIT */
/* Prometheus metrics of one agent: a small registry, text exposition 0.0.4, textfile, endpoint. */
#ifndef ECA_METRICS_H
#define ECA_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_listen.h"

/* The registry: per-certificate gauges and counters plus the optional loopback listener. */
struct eca_metrics;

/* eca_metrics_serve() flag: also accept a non-loopback listen address (off by default). */
#define ECA_METRICS_ALLOW_NONLOOPBACK 0x1u

/* Default per-connection deadline of the endpoint, milliseconds. */
#define ECA_METRICS_TIMEOUT_MS 1000
/* Largest request the endpoint reads; anything longer is answered 431 and closed. */
#define ECA_METRICS_MAX_REQUEST ECA_LISTEN_MAX_REQUEST

/*
 * New empty registry for the agent named `agent` (e.g. the program name) at `version`;
 * both become labels of eca_agent_info and `agent` a label of every series. NULL on ENOMEM.
 * Free with eca_metrics_free().
 */
struct eca_metrics *eca_metrics_new(const char *agent, const char *version);

/* Close the listener (if any) and free the registry. NULL is a no-op. */
void eca_metrics_free(struct eca_metrics *m);

/*
 * Make sure the certificate `cert` has series (renewals at 0, declared causes at 0), so
 * that counters exist before their first increment. Setters below add it implicitly too.
 */
enum eca_rc eca_metrics_cert_add(struct eca_metrics *m, const char *cert, struct eca_err *err);

/* Drop every series of `cert` (after a configuration reload removed it). Unknown: no-op. */
void eca_metrics_cert_remove(struct eca_metrics *m, const char *cert);

/*
 * Record the validity of the certificate now installed for `cert` (Unix times). The
 * lifetime-left ratio is computed at render time from these and the render's `now`.
 */
enum eca_rc eca_metrics_set_validity(struct eca_metrics *m, const char *cert, time_t not_before,
                                     time_t not_after, struct eca_err *err);

/* Forget the validity of `cert` (its certificate is missing or unreadable). */
void eca_metrics_clear_validity(struct eca_metrics *m, const char *cert);

/* A renewal of `cert` succeeded at `when`: renewals_total += 1, last success = when. */
enum eca_rc eca_metrics_renewal_succeeded(struct eca_metrics *m, const char *cert, time_t when,
                                          struct eca_err *err);

/*
 * A renewal attempt of `cert` failed: renewal_failures_total{cause} += 1. `cause` is a short
 * stable word such as eca_rc_name(err.rc) ("ENET"); NULL or "" becomes "unknown".
 */
enum eca_rc eca_metrics_renewal_failed(struct eca_metrics *m, const char *cert, const char *cause,
                                       struct eca_err *err);

/* New certificates `cert` may still get in the issuance window; negative: no budget set. */
enum eca_rc eca_metrics_set_budget(struct eca_metrics *m, const char *cert, int remaining,
                                   struct eca_err *err);

/* The health verdict of cert (eca_status_healthy: 1 valid and not overdue), as `status` gives it:
 * the series eca_cert_healthy, absent until set. */
enum eca_rc eca_metrics_set_healthy(struct eca_metrics *m, const char *cert, int healthy,
                                    struct eca_err *err);

/*
 * Declare a failure cause that every certificate exposes from the start at 0, so that the
 * first failure shows as an increase (a counter born at 1 has no increase in Prometheus).
 */
enum eca_rc eca_metrics_declare_cause(struct eca_metrics *m, const char *cause,
                                      struct eca_err *err);

/* Declare every eca_rc name except OK as a cause (see eca_metrics_declare_cause). */
enum eca_rc eca_metrics_declare_rc_causes(struct eca_metrics *m, struct eca_err *err);

/*
 * Append the registry in the Prometheus text exposition format 0.0.4 to out (HELP and TYPE
 * lines, label values escaped). `now` is used only for the lifetime-left ratio. Pure.
 */
enum eca_rc eca_metrics_render(const struct eca_metrics *m, time_t now, struct eca_buf *out,
                               struct eca_err *err);

/*
 * Render and atomically replace `path` (mode 0644) for node_exporter's textfile collector,
 * which reads only names ending in ".prom". On failure (ECA_EIO, ECA_ENOTFOUND for a
 * missing directory) err names the path.
 */
enum eca_rc eca_metrics_write_textfile(const struct eca_metrics *m, const char *path, time_t now,
                                       struct eca_err *err);

/*
 * Listen on `listen` ("127.0.0.1:4231", "[::1]:4231", "localhost:4231"; port 0 picks a free
 * one) for GET /metrics. Non-loopback addresses are refused with ECA_EINVAL unless flags has
 * ECA_METRICS_ALLOW_NONLOOPBACK. Nothing is served until eca_metrics_handle_ready() runs.
 */
enum eca_rc eca_metrics_serve(struct eca_metrics *m, const char *listen, unsigned flags,
                              struct eca_err *err);

/* The listening socket to wait on (eca_daemon_wait), or -1 when not serving. */
int eca_metrics_fd(const struct eca_metrics *m);

/* The bound TCP port (useful after port 0), or 0 when not serving. */
unsigned eca_metrics_port(const struct eca_metrics *m);

/* Per-connection deadline of the endpoint in milliseconds (default ECA_METRICS_TIMEOUT_MS). */
void eca_metrics_set_timeout_ms(struct eca_metrics *m, int ms);

/*
 * Answer the requests pending on the listener (eca_listen): GET or HEAD /metrics renders the
 * registry at eca_clock_now(), another path is 404. Requests already begun are waited for,
 * at most one connection deadline in all, and at most a few are answered per call, so the
 * caller's loop keeps going.
 */
enum eca_rc eca_metrics_handle_ready(struct eca_metrics *m, struct eca_err *err);

/*
 * An agent's metrics: NULL in *out when neither textfile nor listen is set; otherwise a
 * registry with every failure cause declared, serving `listen` when set (logged as
 * metrics_listening). Errors are prefixed "metrics: ".
 */
enum eca_rc eca_metrics_open(const char *agent, const char *version, const char *textfile,
                             const char *listen, int allow_nonloopback, struct eca_metrics **out,
                             struct eca_err *err);

/* Close the listener (eca_metrics_fd() becomes -1); the registry stays. */
void eca_metrics_stop(struct eca_metrics *m);

#endif
