/* SPDX-License-Identifier: MIT */
/* Certificate revocation lists, the pure parts: parse, verify, freshness, lookup, where to fetch.
 */
#include "eca_crl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "eca_pem.h"

#define CRL_MAX_BYTES ((size_t)64 << 20)
#define CLOCK_SKEW_S  60

struct eca_crl {
    X509_CRL *crl;
};

static int
looks_pem(const unsigned char *p, size_t len)
{
    static const char tag[] = "-----BEGIN";

    for (size_t i = 0; i + sizeof tag - 1 <= len && i < 4096; i++)
        if (memcmp(p + i, tag, sizeof tag - 1) == 0)
            return 1;
    return 0;
}

enum eca_rc
eca_crl_parse(const void *data, size_t len, struct eca_crl **out, struct eca_err *err)
{
    const unsigned char *p = data;
    struct eca_crl *c = NULL;
    X509_CRL *x = NULL;
    BIO *bio = NULL;
    enum eca_rc rc = ECA_OK;

    if (data == NULL || len == 0)
        return eca_err_set(err, ECA_EPARSE, "CRL: empty");
    if (len > CRL_MAX_BYTES)
        return eca_err_set(err, ECA_ETOOBIG, "CRL: %zu bytes is over the cap", len);
    if (looks_pem(p, len)) {
        if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL)
            x = PEM_read_bio_X509_CRL(bio, NULL, eca_pem_no_password, NULL);
    } else {
        x = d2i_X509_CRL(NULL, &p, (long)len);
    }
    if (x == NULL) {
        rc = eca_err_ssl(err, ECA_EPARSE, "CRL: neither a PEM X509 CRL block nor DER");
        goto out;
    }
    if ((c = calloc(1, sizeof *c)) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "CRL: out of memory");
        goto out;
    }
    c->crl = x;
    x = NULL;
    *out = c;
out:
    X509_CRL_free(x);
    BIO_free(bio);
    return rc;
}

void
eca_crl_free(struct eca_crl *crl)
{
    if (crl == NULL)
        return;
    X509_CRL_free(crl->crl);
    free(crl);
}

static void
name_str(const X509_NAME *n, char *out, size_t outlen)
{
    eca_pem_name_line(n, XN_FLAG_RFC2253, out, outlen);
}

enum eca_rc
eca_crl_verify(const struct eca_crl *crl, X509 *issuer, struct eca_err *err)
{
    char want[256], got[256];
    EVP_PKEY *pub;

    if (crl == NULL || issuer == NULL)
        return eca_err_set(err, ECA_EINVAL, "CRL: no issuer certificate to verify with");
    if (X509_NAME_cmp(X509_get_subject_name(issuer), X509_CRL_get_issuer(crl->crl)) != 0) {
        name_str(X509_CRL_get_issuer(crl->crl), want, sizeof want);
        name_str(X509_get_subject_name(issuer), got, sizeof got);
        return eca_err_set(err, ECA_EPROTO, "CRL: issued by '%s', not by '%s'", want, got);
    }
    if ((pub = X509_get0_pubkey(issuer)) == NULL)
        return eca_err_ssl(err, ECA_ECRYPTO, "CRL: issuer certificate has no usable key");
    if (X509_CRL_verify(crl->crl, pub) != 1) {
        name_str(X509_CRL_get_issuer(crl->crl), want, sizeof want);
        return eca_err_ssl(err, ECA_ECRYPTO, "CRL signature does not verify with the key of '%s'",
                           want);
    }
    return ECA_OK;
}

enum eca_rc
eca_crl_verify_any(const struct eca_crl *crl, const struct eca_chain *candidates,
                   struct eca_err *err)
{
    char want[256];

    if (crl == NULL || candidates == NULL)
        return eca_err_set(err, ECA_EINVAL, "CRL: no issuer certificates to verify with");
    for (size_t i = 0; i < eca_x509_chain_count(candidates); i++) {
        X509 *x = eca_x509_chain_get(candidates, i);

        if (X509_NAME_cmp(X509_get_subject_name(x), X509_CRL_get_issuer(crl->crl)) == 0)
            return eca_crl_verify(crl, x, err);
    }
    name_str(X509_CRL_get_issuer(crl->crl), want, sizeof want);
    return eca_err_set(err, ECA_ENOTFOUND, "CRL: issuer '%s' is not among the CA certificates",
                       want);
}

static time_t
asn1_to_time(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return timegm(&tm);
}

time_t
eca_crl_this_update(const struct eca_crl *crl)
{
    return crl ? asn1_to_time(X509_CRL_get0_lastUpdate(crl->crl)) : 0;
}

time_t
eca_crl_next_update(const struct eca_crl *crl)
{
    return crl ? asn1_to_time(X509_CRL_get0_nextUpdate(crl->crl)) : 0;
}

size_t
eca_crl_count(const struct eca_crl *crl)
{
    STACK_OF(X509_REVOKED) *r = crl ? X509_CRL_get_REVOKED(crl->crl) : NULL;

    return r ? (size_t)sk_X509_REVOKED_num(r) : 0;
}

static void
fmt_time(time_t t, char *out, size_t outlen)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, outlen, "%lld", (long long)t);
}

enum eca_rc
eca_crl_check_fresh(const struct eca_crl *crl, time_t now, long max_age_s, struct eca_err *err)
{
    time_t this_upd = eca_crl_this_update(crl), next_upd = eca_crl_next_update(crl);
    char ts[32];

    if (crl == NULL || this_upd == 0)
        return eca_err_set(err, ECA_EPROTO, "CRL: no usable thisUpdate");
    fmt_time(this_upd, ts, sizeof ts);
    if (this_upd > now + CLOCK_SKEW_S)
        return eca_err_set(err, ECA_EPROTO, "CRL: thisUpdate %s is in the future", ts);
    if (max_age_s > 0 && now - this_upd > max_age_s)
        return eca_err_set(err, ECA_EPROTO, "CRL: stale, thisUpdate %s is older than %ld s", ts,
                           max_age_s);
    if (next_upd != 0 && next_upd < now) {
        fmt_time(next_upd, ts, sizeof ts);
        return eca_err_set(err, ECA_EPROTO, "CRL: stale, nextUpdate %s has passed", ts);
    }
    return ECA_OK;
}

static int
serial_listed(const struct eca_crl *crl, const ASN1_INTEGER *serial)
{
    X509_REVOKED *rev = NULL;

    /* 2 means "removeFromCRL" (a delta CRL un-revoking): not revoked. */
    return X509_CRL_get0_by_serial(crl->crl, &rev, serial) == 1;
}

int
eca_crl_is_revoked(const struct eca_crl *crl, X509 *cert)
{
    if (crl == NULL || cert == NULL)
        return 0;
    return serial_listed(crl, X509_get0_serialNumber(cert));
}

int
eca_crl_is_serial_revoked(const struct eca_crl *crl, const char *serial_hex)
{
    char clean[130];
    size_t n = 0;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    int found = 0;

    if (crl == NULL || serial_hex == NULL)
        return 0;
    if (serial_hex[0] == '0' && (serial_hex[1] == 'x' || serial_hex[1] == 'X'))
        serial_hex += 2;
    for (const char *p = serial_hex; *p && n + 1 < sizeof clean; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p))
            return 0;
        clean[n++] = *p;
    }
    clean[n] = '\0';
    if (n == 0 || !BN_hex2bn(&bn, clean) || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
        goto out;
    found = serial_listed(crl, ai);
out:
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return found;
}

static int
uri_of(const GENERAL_NAMES *names, char *out, size_t outlen)
{
    for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
        const char *s;
        int len;

        if (gn->type != GEN_URI)
            continue;
        s = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
        if (len <= 0 || (size_t)len >= outlen || memchr(s, '\0', (size_t)len) != NULL)
            continue;
        if (strncasecmp(s, "http://", 7) != 0 && strncasecmp(s, "https://", 8) != 0)
            continue;
        memcpy(out, s, (size_t)len);
        out[len] = '\0';
        return 1;
    }
    return 0;
}

enum eca_rc
eca_crl_dp_url(X509 *cert, char *out, size_t outlen, struct eca_err *err)
{
    STACK_OF(DIST_POINT) * dps;
    int found = 0;

    if (cert == NULL || out == NULL || outlen == 0)
        return eca_err_set(err, ECA_EINVAL, "CRL distribution point: no certificate");
    dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    for (int i = 0; !found && i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

        if (dp->distpoint != NULL && dp->distpoint->type == 0)
            found = uri_of(dp->distpoint->name.fullname, out, outlen);
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    if (!found)
        return eca_err_set(err, ECA_ENOTFOUND,
                           "the certificate names no http(s) CRL distribution point");
    return ECA_OK;
}
