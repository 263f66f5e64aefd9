/* SPDX-License-Identifier: MIT */
/*
 * Is an installed certificate revoked according to its CRL: download it, keep a copy, fall back
 * on the copy, verify it against candidate issuers, check freshness, look the serial up. The
 * mechanism both daemons share; what a revocation means (and what to log about it) is theirs.
 */
#ifndef ECA_CRLCHECK_H
#define ECA_CRLCHECK_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "eca_crlmemo.h"
#include "eca_err.h"
#include "eca_http.h"
#include "eca_x509.h"

/* Largest CRL accepted (a big CA's full CRL runs to megabytes). */
#define ECA_CRLCHECK_MAX ((size_t)16 << 20)

/* What to check. Borrowed pointers. */
struct eca_crlcheck_in {
    const char *name;       /* for the log lines (the certificate's name); NULL: none */
    const char *url;        /* where the CRL is published (http:// is its usual transport) */
    const char *cache_path; /* the kept copy: rewritten after each download, read when one
                               fails; NULL: none */
    /* Sets of candidate issuers, tried in order (the installed chain, then a CA bundle...):
     * the first certificate of a set whose subject names the CRL's issuer must verify it. */
    const struct eca_chain *const *issuers;
    size_t nissuers;
    long max_age_s; /* a thisUpdate older than this is stale; 0: nextUpdate alone */
    time_t now;
    /* The daemon's downloads shared between certificates naming the same URL (eca_crlmemo.h);
     * NULL: every check downloads. */
    struct eca_crlmemo *memo;
};

enum eca_crlcheck_status {
    ECA_CRLCHECK_GOOD = 0,   /* a fresh, verified CRL that does not list the certificate */
    ECA_CRLCHECK_REVOKED,    /* a fresh, verified CRL that lists it */
    ECA_CRLCHECK_UNAVAILABLE /* no usable CRL: err says why (fetch, copy, signature, age) */
};

struct eca_crlcheck_out {
    enum eca_crlcheck_status status;
    size_t entries; /* revoked entries in the CRL used */
    int from_copy;  /* the download failed and the kept copy was used */
    int from_memo;  /* no download: the memo's, made for another certificate, was used */
};

/*
 * Check cert (the leaf issued under the CRL's issuer) with the transport http (its body cap is
 * raised to ECA_CRLCHECK_MAX; the caller makes it allow http://). Logs `crl_fetch_failed`
 * (URL without userinfo or query), `crl_cache_failed` and, at debug, `crl_reused` (the memo's
 * download used: url, age_s); nothing else. With in->memo, a download that verified serves the
 * next checks naming the same URL within the memo's window (a failed one is not kept: the next
 * check downloads again). ECA_OK with GOOD or REVOKED; otherwise out->status is UNAVAILABLE and
 * the error names the culprit:
 * ECA_ENOTFOUND (no issuer candidate names the CRL's issuer), ECA_ECRYPTO (signature),
 * ECA_EPROTO (stale, or issuer name mismatch), a parse or transport error.
 */
enum eca_rc eca_crlcheck_run(const struct eca_crlcheck_in *in, struct eca_http *http, X509 *cert,
                             struct eca_crlcheck_out *out, struct eca_err *err);

/*
 * What a check means, logged alike by both daemons: rc and out are eca_crlcheck_run()'s (or
 * the failure to set it up, err naming it). A verified CRL logs `crl_checked` (url, serial,
 * revoked, entries; warn with "the installed certificate is revoked: <action>" when listed).
 * No usable CRL logs `crl_unavailable` and counts as revoked only with fail_closed: by default
 * an unreachable CRL must not take a certificate away. 1: treat the certificate as revoked.
 */
int eca_crlcheck_verdict(const char *name, const char *url, const char *serial, enum eca_rc rc,
                         const struct eca_crlcheck_out *out, const struct eca_err *err,
                         int fail_closed, const char *action);

#endif
