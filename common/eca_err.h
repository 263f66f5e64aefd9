/* SPDX-License-Identifier: MIT */
/* Return codes and the error record that names the culprit, shared by every module. */
#ifndef ECA_ERR_H
#define ECA_ERR_H

#include <stddef.h>

/* printf-format checking; mingw's plain `printf` means Microsoft's, which lacks %zu. */
#if defined(__MINGW32__)
#define ECA_PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#else
#define ECA_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#endif

enum eca_rc {
    ECA_OK = 0,
    ECA_ENOMEM,    /* allocation failed */
    ECA_EINVAL,    /* bad argument or input value (names the field) */
    ECA_EIO,       /* file system or OS call failed */
    ECA_EPARSE,    /* bytes are not the expected syntax (JSON, PEM, DER, HTTP) */
    ECA_EPROTO,    /* well-formed but violates the protocol (missing field, wrong state) */
    ECA_ESERVER,   /* the server reported a problem (HTTP 4xx/5xx, problem document) */
    ECA_ECRYPTO,   /* OpenSSL failure */
    ECA_ETLS,      /* TLS handshake or verification failure */
    ECA_ENET,      /* connection, DNS, transport failure */
    ECA_ETIMEOUT,  /* a deadline passed */
    ECA_ETOOBIG,   /* a size cap was hit */
    ECA_ECONF,     /* configuration error (names setting and file:line) */
    ECA_EAGAIN,    /* try again later; err->retry_after may hold seconds */
    ECA_EAUTH,     /* authentication or authorisation refused */
    ECA_ENOTFOUND, /* file, object or account does not exist */
    ECA_ESTOPPED,  /* abandoned because the process was asked to stop */
    ECA_RC_MAX
};

#define ECA_ERR_MSG_MAX 512

/* The failure: code, a message naming the culprit, and an optional retry hint in seconds. */
struct eca_err {
    enum eca_rc rc;
    long retry_after; /* seconds, -1 when the server gave none */
    char msg[ECA_ERR_MSG_MAX];
};

/* Stable short name of a code ("EPARSE"), for logs and metrics labels. */
const char *eca_rc_name(enum eca_rc rc);

/* Reset err to ECA_OK with an empty message and no retry hint. err may be NULL. */
void eca_err_clear(struct eca_err *err);

/* Record rc and a printf-style message in err (which may be NULL); returns rc. */
enum eca_rc eca_err_set(struct eca_err *err, enum eca_rc rc, const char *fmt, ...) ECA_PRINTF(3, 4);

/*
 * Like eca_err_set(), then append the OpenSSL error queue (": lib:reason; ...") and clear
 * that queue, so that the next failure does not report stale OpenSSL errors.
 */
enum eca_rc eca_err_ssl(struct eca_err *err, enum eca_rc rc, const char *fmt, ...) ECA_PRINTF(3, 4);

/* Prefix the existing message with context ("order: " + msg). err may be NULL. */
void eca_err_prefix(struct eca_err *err, const char *fmt, ...) ECA_PRINTF(2, 3);

#endif
