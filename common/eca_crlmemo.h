/* SPDX-License-Identifier: MIT */
/*
 * One download of a CRL shared by every certificate naming its URL, for a bounded time: an
 * agent managing a thousand certificates from one CA downloads (and parses) that CA's CRL once
 * per pass, not once per certificate. eca_crlcheck_run() consults it (eca_crlcheck_in.memo);
 * the daemon owns one (dropped with its configuration) and empties it when a pass ends.
 * Thread-safe: one mutex inside, never held across a download. While one thread downloads a URL,
 * others asking for it wait for that download (and share its outcome) instead of starting their
 * own.
 */
#ifndef ECA_CRLMEMO_H
#define ECA_CRLMEMO_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "eca_crl.h"
#include "eca_err.h"

/* URLs remembered at once; a new one evicts the one downloaded longest ago. */
#define ECA_CRLMEMO_MAX_ENTRIES 16
/* crl_refresh_seconds' default: the longest a download serves, within one long pass. */
#define ECA_CRLMEMO_DEFAULT_REFRESH_S 3600L

struct eca_crlmemo;
/* One remembered download, held between eca_crlmemo_take() and eca_crlmemo_release(). */
struct eca_crlmemo_ref;

/*
 * A memo reusing a download for refresh_s seconds at most (and never past the CRL's
 * nextUpdate). NULL when refresh_s <= 0 (every check downloads) or out of memory: a NULL
 * memo is valid everywhere below and remembers nothing.
 */
struct eca_crlmemo *eca_crlmemo_new(long refresh_s);
void eca_crlmemo_free(struct eca_crlmemo *m);

/*
 * Forget every download (a check still holding one keeps it until its release). The daemons
 * call it when a pass ends: a sleeping daemon holds no CRL (a big CA's runs to megabytes,
 * for hours), and the next pass downloads each URL once again.
 */
void eca_crlmemo_clear(struct eca_crlmemo *m);

enum eca_crlmemo_got {
    ECA_CRLMEMO_DOWNLOAD = 0, /* the caller downloads, then calls eca_crlmemo_put() once */
    ECA_CRLMEMO_HIT,          /* *ref is held: a download within its window */
    ECA_CRLMEMO_FAILED        /* the download this check waited for failed: err says why */
};

/*
 * url's CRL at now: HIT with *ref held when a download of it is still within its window
 * (|now - fetched| < refresh_s, now before nextUpdate). Otherwise, when another thread is
 * downloading it, waits for that download: HIT when it succeeded, FAILED (its error in err)
 * when not, as if this check's own download had failed (waiting checks share one failure
 * instead of retrying one after another). Else DOWNLOAD: the caller downloads it and must then
 * call eca_crlmemo_put() once, with the bytes or without. A NULL memo always says DOWNLOAD.
 */
enum eca_crlmemo_got eca_crlmemo_take(struct eca_crlmemo *m, const char *url, time_t now,
                                      struct eca_crlmemo_ref **ref, struct eca_err *err);
/*
 * The end of a download eca_crlmemo_take() left to the caller: der (len bytes, copied; a CRL
 * that parsed and verified with the key of signer, kept too) is kept for url as fetched at
 * now. der NULL: nothing is kept and the next take downloads again; with failure (the download
 * failed: why), the checks waiting for it share that failure; without (it did not verify),
 * they download for themselves.
 */
void eca_crlmemo_put(struct eca_crlmemo *m, const char *url, const void *der, size_t len,
                     time_t now, X509 *signer, const struct eca_err *failure);
void eca_crlmemo_release(struct eca_crlmemo *m, struct eca_crlmemo_ref *ref);

/* A held download: the CRL as parsed once (read-only), its bytes, when it was fetched. */
const struct eca_crl *eca_crlmemo_crl(const struct eca_crlmemo_ref *ref);
const void *eca_crlmemo_der(const struct eca_crlmemo_ref *ref, size_t *len);
time_t eca_crlmemo_fetched(const struct eca_crlmemo_ref *ref);
/* The issuer certificate whose key verified these bytes (NULL: none known): a check whose own
 * issuer is that very certificate need not hash a CRL of megabytes again. */
X509 *eca_crlmemo_signer(const struct eca_crlmemo_ref *ref);

#endif
