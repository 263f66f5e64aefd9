/* SPDX-License-Identifier: MIT */
/* Opaque secret: loaded from a file, the environment or memory, redacted in logs, cleansed. */
#include "eca_secret.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_log.h"

#define SECRET_FILE_MAX ((size_t)64 << 10)

struct eca_secret {
    unsigned char *data; /* len bytes + NUL */
    size_t len;
};

enum eca_rc
eca_secret_from_mem(const void *p, size_t n, struct eca_secret **out, struct eca_err *err)
{
    struct eca_secret *s;

    if ((s = calloc(1, sizeof *s)) == NULL || (s->data = malloc(n + 1)) == NULL) {
        free(s);
        return eca_err_set(err, ECA_ENOMEM, "secret: out of memory");
    }
    if (n > 0)
        memcpy(s->data, p, n);
    s->data[n] = '\0';
    s->len = n;
    /* From now on any log line that contains the value prints [redacted] instead. */
    eca_log_redact_add((const char *)s->data);
    *out = s;
    return ECA_OK;
}

/*
 * Docker secrets are mounted 0444, so a readable secret file is not refused; but elsewhere it
 * usually means a mistake, so say so (the way chrony warns about its key file).
 */
static void
warn_if_readable(const char *path)
{
    struct eca_err perm = {0};

    if (eca_fs_check_private(path, &perm) != ECA_OK)
        eca_log(ECA_LOG_WARN, "secret_file_mode", NULL, ECA_LOG_FIELDS(ECA_LS("path", path)), "%s",
                perm.msg);
}

enum eca_rc
eca_secret_from_file(const char *path, struct eca_secret **out, struct eca_err *err)
{
    struct eca_buf b;
    enum eca_rc rc;
    size_t n;

    eca_buf_init(&b, SECRET_FILE_MAX);
    if ((rc = eca_fs_read(path, SECRET_FILE_MAX, &b, err)) != ECA_OK)
        goto out;
    n = b.len;
    /* One trailing newline, as `echo` and Docker secrets leave it, is not part of the value. */
    if (n > 0 && b.data[n - 1] == '\n')
        n--;
    if (n > 0 && b.data[n - 1] == '\r')
        n--;
    if (n == 0) {
        rc = eca_err_set(err, ECA_EINVAL, "%s: secret file is empty", path);
        goto out;
    }
    rc = eca_secret_from_mem(b.data, n, out, err);
    if (rc == ECA_OK)
        warn_if_readable(path);
out:
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_secret_from_env(const char *name, struct eca_secret **out, struct eca_err *err)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0')
        return eca_err_set(err, ECA_ENOTFOUND, "environment variable %s is not set", name);
    return eca_secret_from_mem(v, strlen(v), out, err);
}

const unsigned char *
eca_secret_data(const struct eca_secret *s)
{
    return s->data;
}

const char *
eca_secret_str(const struct eca_secret *s)
{
    return (const char *)s->data;
}

size_t
eca_secret_len(const struct eca_secret *s)
{
    return s->len;
}

void
eca_secret_free(struct eca_secret *s)
{
    if (s == NULL)
        return;
    eca_log_redact_forget((const char *)s->data);
    OPENSSL_clear_free(s->data, s->len + 1);
    free(s);
}
