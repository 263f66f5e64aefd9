/* SPDX-License-Identifier: MIT */
/* A certificate against its CRL: download (copy kept), verify, freshness, lookup. */
#include "eca_crlcheck.h"

#include <stdio.h>
#include <string.h>

#include "eca_buf.h"
#include "eca_crl.h"
#include "eca_fs.h"
#include "eca_log.h"

static enum eca_rc
fetch(struct eca_http *http, const char *url, const char *shown, struct eca_buf *out,
      struct eca_err *err)
{
    struct eca_http_req req = {.method = "GET", .url = url};
    struct eca_http_resp resp;
    enum eca_rc rc;

    eca_http_set_max_body(http, ECA_CRLCHECK_MAX);
    eca_http_resp_init(&resp, ECA_CRLCHECK_MAX);
    rc = eca_http_perform(http, &req, &resp, err);
    if (rc != ECA_OK)
        eca_err_prefix(err, "GET %s: ", shown);
    else if (resp.status != 200)
        rc = eca_err_set(err, ECA_ESERVER, "GET %s: HTTP %ld", shown, resp.status);
    else
        rc = eca_buf_append(out, resp.body.data, resp.body.len, err);
    eca_http_resp_free(&resp);
    return rc;
}

/*
 * The CRL's bytes: downloaded, or, when that fails, the kept copy. failed: the download this
 * check waited for (another's, through the memo) failed, err says why: no download of its own.
 * *claimed: the memo waits for this download, told here when it fails (and cleared).
 */
static enum eca_rc
load(const struct eca_crlcheck_in *in, struct eca_http *http, int failed, int *claimed,
     struct eca_buf *b, struct eca_crlcheck_out *out, struct eca_err *err)
{
    char shown[512];
    enum eca_rc rc;

    /* The URL may come from configuration: never log a "user:pass@" or query it carries. */
    eca_http_url_for_log(in->url, shown, sizeof shown);
    if ((rc = failed ? err->rc : fetch(http, in->url, shown, b, err)) == ECA_OK)
        return ECA_OK;
    if (*claimed) {
        eca_crlmemo_put(in->memo, in->url, NULL, 0, in->now, NULL, err);
        *claimed = 0;
    }
    eca_log(ECA_LOG_WARN, "crl_fetch_failed", in->name, ECA_LOG_FIELDS(ECA_LS("url", shown)),
            "%s%s", err->msg, in->cache_path ? "; trying the kept copy" : "");
    eca_buf_reset(b);
    /* Unavailable: the download's error, which names the culprit (the copy's would not). */
    if (in->cache_path == NULL ||
        eca_fs_read(in->cache_path, ECA_CRLCHECK_MAX, b, NULL) != ECA_OK) {
        eca_err_prefix(err, "no kept copy of the CRL: ");
        return rc;
    }
    out->from_copy = 1;
    return ECA_OK;
}

/*
 * Verify with the certificate's own issuer, looked up by name in the candidate sets: a CRL
 * signed by another CA of the chain says nothing about this certificate's serial. *signer: the
 * issuer used. A download the memo shares was verified by its signer already: when this
 * certificate's issuer is that very certificate, the signature (a hash over the whole CRL) is
 * not checked again.
 */
static enum eca_rc
verify(const struct eca_crlcheck_in *in, const struct eca_crl *crl, X509 *verified_by, X509 *cert,
       X509 **signer, struct eca_err *err)
{
    const X509_NAME *want = X509_get_issuer_name(cert);
    char name[256];

    for (size_t s = 0; s < in->nissuers; s++)
        for (size_t i = 0; in->issuers[s] && i < eca_x509_chain_count(in->issuers[s]); i++) {
            X509 *x = eca_x509_chain_get(in->issuers[s], i);

            if (X509_NAME_cmp(X509_get_subject_name(x), want) != 0)
                continue;
            *signer = x;
            if (verified_by != NULL && X509_cmp(x, verified_by) == 0)
                return ECA_OK;
            return eca_crl_verify(crl, x, err);
        }
    if (X509_NAME_oneline(want, name, sizeof name) == NULL)
        snprintf(name, sizeof name, "?");
    return eca_err_set(err, ECA_ENOTFOUND,
                       "CRL: the certificate's issuer '%s' is not among the CA certificates to "
                       "verify it with",
                       name);
}

/* The kept copy at path holds exactly these bytes already. */
static int
kept_already(const char *path, const void *data, size_t len)
{
    struct eca_fs_id id;
    struct eca_buf old;
    int same;

    if (len == 0 || eca_fs_identity(path, &id, NULL) != ECA_OK || id.size != len)
        return 0;
    eca_buf_init(&old, len);
    same = eca_fs_read(path, len, &old, NULL) == ECA_OK && old.len == len &&
           memcmp(old.data, data, len) == 0;
    eca_buf_free(&old);
    return same;
}

/*
 * Keep a downloaded CRL that verified (a broken download never replaces a good copy). Only
 * when it changed: a CA republishes every few hours, checks come more often, and through the
 * memo a thousand certificates see the same bytes (a write is a temporary file and an fsync).
 */
static void
keep(const struct eca_crlcheck_in *in, const void *data, size_t len,
     const struct eca_crlcheck_out *out)
{
    if (in->cache_path == NULL || out->from_copy || kept_already(in->cache_path, data, len))
        return;
    if (eca_fs_write_atomic(in->cache_path, data, len, ECA_FS_MODE_PUBLIC, NULL) != ECA_OK)
        eca_log(ECA_LOG_WARN, "crl_cache_failed", in->name, NULL, 0,
                "could not keep a copy of the CRL in %s", in->cache_path);
}

/* The memo's download of in->url (for another certificate, or an earlier pass), as parsed then. */
static const struct eca_crl *
reuse(const struct eca_crlcheck_in *in, struct eca_crlmemo_ref *ref, struct eca_crlcheck_out *out)
{
    char shown[512];

    out->from_memo = 1;
    eca_http_url_for_log(in->url, shown, sizeof shown);
    eca_log(ECA_LOG_DEBUG, "crl_reused", in->name,
            ECA_LOG_FIELDS(ECA_LS("url", shown),
                           ECA_LI("age_s", (long long)in->now - eca_crlmemo_fetched(ref))),
            "no download: the one made age_s seconds ago is reused");
    return eca_crlmemo_crl(ref);
}

enum eca_rc
eca_crlcheck_run(const struct eca_crlcheck_in *in, struct eca_http *http, X509 *cert,
                 struct eca_crlcheck_out *out, struct eca_err *err)
{
    struct eca_crlmemo_ref *ref = NULL;
    struct eca_crl *own = NULL;
    const struct eca_crl *crl;
    const void *data;
    size_t len;
    struct eca_buf b;
    int claimed = 0; /* ours to download for the memo: eca_crlmemo_put() exactly once */
    X509 *signer = NULL;
    enum eca_crlmemo_got got;
    enum eca_rc rc;

    memset(out, 0, sizeof *out);
    out->status = ECA_CRLCHECK_UNAVAILABLE;
    if (in == NULL || in->url == NULL || http == NULL || cert == NULL)
        return eca_err_set(err, ECA_EINVAL, "CRL check: no URL, transport or certificate");
    eca_buf_init(&b, ECA_CRLCHECK_MAX);
    if ((got = eca_crlmemo_take(in->memo, in->url, in->now, &ref, err)) == ECA_CRLMEMO_HIT) {
        crl = reuse(in, ref, out);
        data = eca_crlmemo_der(ref, &len);
    } else {
        claimed = in->memo != NULL && got == ECA_CRLMEMO_DOWNLOAD;
        if ((rc = load(in, http, got == ECA_CRLMEMO_FAILED, &claimed, &b, out, err)) != ECA_OK ||
            (rc = eca_crl_parse(b.data, b.len, &own, err)) != ECA_OK)
            goto out;
        crl = own;
        data = b.data;
        len = b.len;
    }
    if ((rc = verify(in, crl, ref ? eca_crlmemo_signer(ref) : NULL, cert, &signer, err)) != ECA_OK)
        goto out;
    keep(in, data, len, out);
    /* Shared from here: a download that verified (a failed one, and so the kept copy, was
     * told to the memo by load()). */
    if (claimed) {
        eca_crlmemo_put(in->memo, in->url, data, len, in->now, signer, NULL);
        claimed = 0;
    }
    if ((rc = eca_crl_check_fresh(crl, in->now, in->max_age_s, err)) != ECA_OK)
        goto out;
    out->entries = eca_crl_count(crl);
    out->status = eca_crl_is_revoked(crl, cert) ? ECA_CRLCHECK_REVOKED : ECA_CRLCHECK_GOOD;
out:
    if (claimed) /* downloaded, did not verify: not kept, the next check downloads again */
        eca_crlmemo_put(in->memo, in->url, NULL, 0, in->now, NULL, NULL);
    if (rc != ECA_OK && out->from_copy)
        eca_err_prefix(err, "kept copy %s: ", in->cache_path);
    eca_crlmemo_release(in->memo, ref);
    eca_crl_free(own);
    eca_buf_free(&b);
    return rc;
}

int
eca_crlcheck_verdict(const char *name, const char *url, const char *serial, enum eca_rc rc,
                     const struct eca_crlcheck_out *out, const struct eca_err *err, int fail_closed,
                     const char *action)
{
    if (rc == ECA_OK && out->status != ECA_CRLCHECK_UNAVAILABLE) {
        int revoked = out->status == ECA_CRLCHECK_REVOKED;
        char msg[160] = "";

        if (revoked)
            snprintf(msg, sizeof msg, "the installed certificate is revoked: %s", action);
        eca_log(revoked ? ECA_LOG_WARN : ECA_LOG_INFO, "crl_checked", name,
                ECA_LOG_FIELDS(ECA_LS("url", url), ECA_LS("serial", serial),
                               ECA_LB("revoked", revoked), ECA_LI("entries", out->entries)),
                revoked ? "%s" : NULL, msg);
        return revoked;
    }
    eca_log(ECA_LOG_WARN, "crl_unavailable", name,
            ECA_LOG_FIELDS(ECA_LB("fail_closed", fail_closed)), "%s%s", err->msg,
            fail_closed ? "; treating the certificate as revoked" : "");
    return fail_closed;
}
