/* SPDX-License-Identifier: MIT */
/*
 * A certificate known to be revoked, remembered across passes and restarts: STATE_DIR/<name>
 * .revoked holds its serial. While that certificate is installed every pass renews it and
 * `status` shows it unhealthy; keyed by serial, so a renewed certificate is never taken for the
 * revoked one. Who learns of the revocation (a revoke request, a CRL) is the daemon's business.
 */
#ifndef ECA_REVOKED_H
#define ECA_REVOKED_H

#include <time.h>

#include "eca_status.h"

/* Record serial (hex) as revoked for certificate name; a failure is logged
 * (`revoked_save_failed`), not returned: the pass goes on, only the memory is lost. */
void eca_revoked_mark(const char *state_dir, const char *name, const char *serial);

/* 1 when serial (not NULL nor "") is the one recorded as revoked for name. */
int eca_revoked_marked(const char *state_dir, const char *name, const char *serial);

/* Forget name's record: the revoked certificate was replaced. */
void eca_revoked_forget(const char *state_dir, const char *name);

/*
 * The status view out of certificate name (as eca_deploy_status() made it): when its installed
 * serial is recorded, out->revoked is set and, unless a retry or a spent budget already
 * schedules it, the next action is a renewal now (reason "revoked"). 1 when so, 0 otherwise
 * (out untouched). Reads only.
 */
int eca_revoked_status(const char *state_dir, const char *name, time_t now,
                       struct eca_status_cert *out);

#endif
