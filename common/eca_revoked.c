/* SPDX-License-Identifier: MIT */
/* STATE_DIR/<name>.revoked: the serial of a certificate known to be revoked. */
#include "eca_revoked.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "eca_renew.h"

static void
marker_path(const char *state_dir, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.revoked", state_dir, name);
}

void
eca_revoked_mark(const char *state_dir, const char *name, const char *serial)
{
    char path[4096];
    struct eca_err err = {0};

    marker_path(state_dir, name, path, sizeof path);
    if (eca_fs_write_atomic(path, serial, strlen(serial), ECA_FS_MODE_PUBLIC, &err) != ECA_OK)
        eca_log(ECA_LOG_WARN, "revoked_save_failed", name, NULL, 0,
                "%s; a restart may not know the certificate is revoked", err.msg);
}

int
eca_revoked_marked(const char *state_dir, const char *name, const char *serial)
{
    char path[4096];
    struct eca_buf b;
    int hit;

    if (serial == NULL || serial[0] == '\0')
        return 0;
    marker_path(state_dir, name, path, sizeof path);
    eca_buf_init(&b, 256);
    hit = eca_fs_read(path, 256, &b, NULL) == ECA_OK && b.len == strlen(serial) &&
          strncasecmp((const char *)b.data, serial, b.len) == 0;
    eca_buf_free(&b);
    return hit;
}

void
eca_revoked_forget(const char *state_dir, const char *name)
{
    char path[4096];

    marker_path(state_dir, name, path, sizeof path);
    eca_fs_remove(path, NULL);
}

int
eca_revoked_status(const char *state_dir, const char *name, time_t now, struct eca_status_cert *out)
{
    if (!out->present || !eca_revoked_marked(state_dir, name, out->serial))
        return 0;
    out->revoked = 1;
    /* A retry already scheduled keeps its time; otherwise the renewal is due now. */
    if (strcmp(out->next_reason, "retry") != 0 && strcmp(out->next_reason, "budget") != 0) {
        out->next_action = now;
        out->next_reason = eca_renew_reason_name(ECA_RENEW_REVOKED);
    }
    return 1;
}
