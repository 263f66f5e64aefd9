/* SPDX-License-Identifier: MIT */
/* Windows half of eca_metrics: no HTTP listener yet; the textfile output works everywhere. */
#include "eca_metrics.h"
#include "eca_metrics_os.h"

void
eca_metrics_os_close(struct eca_metrics_os *os)
{
    (void)os;
}

enum eca_rc
eca_metrics_serve(struct eca_metrics *m, const char *spec, unsigned flags, struct eca_err *err)
{
    (void)m;
    (void)flags;
    return eca_err_set(err, ECA_EINVAL,
                       "metrics listen %s: not available on Windows; use the textfile output",
                       spec ? spec : "");
}

int
eca_metrics_fd(const struct eca_metrics *m)
{
    (void)m;
    return -1;
}

unsigned
eca_metrics_port(const struct eca_metrics *m)
{
    (void)m;
    return 0;
}

void
eca_metrics_stop(struct eca_metrics *m)
{
    (void)m;
}

enum eca_rc
eca_metrics_handle_ready(struct eca_metrics *m, struct eca_err *err)
{
    (void)m;
    (void)err;
    return ECA_OK;
}
