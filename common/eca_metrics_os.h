/* SPDX-License-Identifier: MIT */
/* Internal: the OS half of eca_metrics (the loopback listener), kept apart from rendering. */
#ifndef ECA_METRICS_OS_H
#define ECA_METRICS_OS_H

#include "eca_metrics.h"

/* Listener state owned by the OS half; opaque to the portable half. */
struct eca_metrics_os;

/* The registry's listener slot (*slot is NULL when not serving). */
struct eca_metrics_os **eca_metrics_os_slot(struct eca_metrics *m);

/* The listener of m, or NULL when not serving (read-only use). */
struct eca_metrics_os *eca_metrics_os_get(const struct eca_metrics *m);

/* The per-connection deadline set with eca_metrics_set_timeout_ms(). */
int eca_metrics_os_timeout_ms(const struct eca_metrics *m);

/* Close the listener and free its state. NULL is a no-op. */
void eca_metrics_os_close(struct eca_metrics_os *os);

#endif
