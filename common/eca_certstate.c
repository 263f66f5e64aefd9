/* SPDX-License-Identifier: MIT */
/* The "check" step: read the installed certificate and key into facts for the renewal decision. */
#include "eca_certstate.h"

#include <stdio.h>
#include <string.h>

#include "eca_buf.h"
#include "eca_crl.h"
#include "eca_fs.h"
#include "eca_key.h"
#include "eca_x509.h"

/* The AKI keyIdentifier as lower-case hex; "" when it has none or it does not fit. */
static void
aki_hex(X509 *leaf, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    struct eca_buf b;

    out[0] = '\0';
    eca_buf_init(&b, 0);
    if (eca_x509_aki_keyid(leaf, &b, NULL) == ECA_OK && b.len * 2 < outlen) {
        for (size_t i = 0; i < b.len; i++) {
            out[2 * i] = hex[b.data[i] >> 4];
            out[2 * i + 1] = hex[b.data[i] & 0xf];
        }
        out[2 * b.len] = '\0';
    }
    eca_buf_free(&b);
}

static void
leaf_facts(X509 *leaf, struct eca_certstate *out)
{
    out->not_before = eca_x509_not_before(leaf);
    out->not_after = eca_x509_not_after(leaf);
    eca_x509_serial_hex(leaf, out->serial, sizeof out->serial);
    eca_x509_subject(leaf, out->subject, sizeof out->subject);
    eca_x509_issuer(leaf, out->issuer, sizeof out->issuer);
    eca_x509_dns_names(leaf, out->dns, sizeof out->dns);
    aki_hex(leaf, out->aki, sizeof out->aki);
    {
        char url[1024]; /* the size the CRL check itself uses */

        out->crl_dp = eca_crl_dp_url(leaf, url, sizeof url, NULL) == ECA_OK;
    }
}

/* A file problem becomes a fact; only running out of memory is our failure. */
static enum eca_rc
as_fact(enum eca_rc rc, const char *what, const char *path, const struct eca_err *e,
        struct eca_certstate *out, struct eca_err *err)
{
    if (rc == ECA_ENOMEM)
        return eca_err_set(err, rc, "%s", e->msg);
    if (out->problem[0] != '\0')
        return ECA_OK; /* keep the first problem: the certificate's */
    if (rc == ECA_ENOTFOUND)
        snprintf(out->problem, sizeof out->problem, "%s file %s missing", what, path);
    else
        snprintf(out->problem, sizeof out->problem, "%s file unusable: %.400s", what, e->msg);
    return ECA_OK;
}

enum eca_rc
eca_certstate_read(const char *cert_path, const char *key_path, struct eca_certstate *out,
                   struct eca_err *err)
{
    return eca_certstate_read_names(cert_path, key_path, NULL, 0, out, err);
}

enum eca_rc
eca_certstate_read_names(const char *cert_path, const char *key_path, const char *const *names,
                         size_t nnames, struct eca_certstate *out, struct eca_err *err)
{
    struct eca_chain *chain = NULL;
    struct eca_key *key = NULL;
    struct eca_err e = {0};
    X509 *leaf = NULL;
    enum eca_rc rc, crc, krc;

    memset(out, 0, sizeof *out);
    out->names_match = 1;
    /* A directory or FIFO where a file belongs is no state to renew from: ordering would only
     * fail at the install, each retry costing the CA a certificate. */
    if (eca_fs_check_file(cert_path, &e) != ECA_OK || eca_fs_check_file(key_path, &e) != ECA_OK) {
        snprintf(out->problem, sizeof out->problem, "%.400s", e.msg);
        return eca_err_set(err, ECA_EINVAL, "%s: remove it or change the path", e.msg);
    }
    crc = eca_x509_chain_load(cert_path, &chain, &e);
    if ((rc = crc == ECA_OK ? ECA_OK : as_fact(crc, "certificate", cert_path, &e, out, err)) !=
        ECA_OK)
        goto out;
    if (crc == ECA_OK) {
        leaf = eca_x509_chain_get(chain, 0);
        leaf_facts(leaf, out);
        if (names != NULL)
            out->names_match = eca_x509_has_names(leaf, names, nnames);
    }
    eca_err_clear(&e);
    krc = eca_key_load_typed(key_path, leaf ? eca_x509_key_type(leaf) : NULL, &key, &e);
    if ((rc = krc == ECA_OK ? ECA_OK : as_fact(krc, "key", key_path, &e, out, err)) != ECA_OK)
        goto out;
    if (crc != ECA_OK || krc != ECA_OK)
        goto out;
    out->present = 1;
    out->matches = eca_x509_matches_key(leaf, key);
    if (!out->matches)
        snprintf(out->problem, sizeof out->problem, "key %s does not match certificate %s",
                 key_path, cert_path);
out:
    eca_key_free(key);
    eca_x509_chain_free(chain);
    return rc;
}
