/* SPDX-License-Identifier: MIT */
/* Return codes and the error record that names the culprit. */
#include "eca_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static const char *const names[ECA_RC_MAX] = {
    [ECA_OK] = "OK",
    [ECA_ENOMEM] = "ENOMEM",
    [ECA_EINVAL] = "EINVAL",
    [ECA_EIO] = "EIO",
    [ECA_EPARSE] = "EPARSE",
    [ECA_EPROTO] = "EPROTO",
    [ECA_ESERVER] = "ESERVER",
    [ECA_ECRYPTO] = "ECRYPTO",
    [ECA_ETLS] = "ETLS",
    [ECA_ENET] = "ENET",
    [ECA_ETIMEOUT] = "ETIMEOUT",
    [ECA_ETOOBIG] = "ETOOBIG",
    [ECA_ECONF] = "ECONF",
    [ECA_EAGAIN] = "EAGAIN",
    [ECA_EAUTH] = "EAUTH",
    [ECA_ENOTFOUND] = "ENOTFOUND",
    [ECA_ESTOPPED] = "ESTOPPED",
};

const char *
eca_rc_name(enum eca_rc rc)
{
    if ((unsigned)rc >= ECA_RC_MAX || names[rc] == NULL)
        return "EUNKNOWN";
    return names[rc];
}

void
eca_err_clear(struct eca_err *err)
{
    if (err == NULL)
        return;
    err->rc = ECA_OK;
    err->retry_after = -1;
    err->msg[0] = '\0';
}

static void
vset(struct eca_err *err, enum eca_rc rc, const char *fmt, va_list ap)
{
    err->rc = rc;
    err->retry_after = -1;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

enum eca_rc
eca_err_set(struct eca_err *err, enum eca_rc rc, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return rc;
    va_start(ap, fmt);
    vset(err, rc, fmt, ap);
    va_end(ap);
    return rc;
}

enum eca_rc
eca_err_ssl(struct eca_err *err, enum eca_rc rc, const char *fmt, ...)
{
    va_list ap;
    unsigned long e;
    size_t len;
    char sep = ':';

    if (err == NULL) {
        ERR_clear_error();
        return rc;
    }
    va_start(ap, fmt);
    vset(err, rc, fmt, ap);
    va_end(ap);
    while ((e = ERR_get_error()) != 0) {
        len = strlen(err->msg);
        if (len + 4 >= sizeof err->msg)
            continue; /* keep draining so the queue ends empty */
        err->msg[len] = sep;
        err->msg[len + 1] = ' ';
        ERR_error_string_n(e, err->msg + len + 2, sizeof err->msg - len - 2);
        sep = ';';
    }
    return rc;
}

void
eca_err_prefix(struct eca_err *err, const char *fmt, ...)
{
    char pre[ECA_ERR_MSG_MAX];
    char old[ECA_ERR_MSG_MAX];
    size_t plen, olen;
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    plen = strlen(pre);
    olen = strnlen(old, sizeof old - 1);
    /* Keep the prefix whole and cut the old message: the context is what the reader lacks. */
    if (olen > sizeof err->msg - 1 - plen)
        olen = sizeof err->msg - 1 - plen;
    memcpy(err->msg, pre, plen);
    memcpy(err->msg + plen, old, olen);
    err->msg[plen + olen] = '\0';
}
