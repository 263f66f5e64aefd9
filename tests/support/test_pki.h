/* SPDX-License-Identifier: MIT */
/* Test-time PKI: a root, an intermediate and a leaf with chosen validity, key type and SANs. */
#ifndef TEST_PKI_H
#define TEST_PKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "eca_buf.h"
#include "eca_key.h"

/*
 * What to build. Zero fields take defaults, so `struct test_pki_opts o = {0};` gives:
 * P-256 leaf key, CN = dns[0] or "leaf.test", no SANs, leaf valid now-1h .. now+90d, CAs
 * valid now-1d .. now+10y, CA names "Test Root CA" / "Test Intermediate CA". Times are
 * real wall-clock (time(NULL)), because OpenSSL verifies against the real clock.
 */
struct test_pki_opts {
    enum eca_key_type leaf_key; /* ECA_KEY_EC_P256 (0) by default; CAs are always P-256 */
    const char *leaf_cn;
    const char *const *dns; /* leaf DNS subjectAltNames */
    size_t ndns;
    time_t leaf_not_before, leaf_not_after;
    time_t ca_not_before, ca_not_after;
    const char *ca_prefix; /* "Test": CA CNs are "<prefix> Root CA", "<prefix> Intermediate CA" */
};

/* Everything owned; release with test_pki_free(). */
struct test_pki {
    struct eca_key *root_key, *inter_key, *leaf_key;
    X509 *root, *inter, *leaf;
};

/* Build root -> intermediate -> leaf (fails the running Check test on any error). */
void test_pki_make(const struct test_pki_opts *opts, struct test_pki *out);
void test_pki_free(struct test_pki *p);

/*
 * Issue one certificate for subject_key's public half, signed by issuer_key (issuer NULL:
 * self-signed). is_ca adds CA basicConstraints and keyCertSign; otherwise a TLS
 * server+client leaf. dns may be NULL. Random serial. Caller frees with X509_free().
 */
X509 *test_pki_issue(const char *cn, const struct eca_key *subject_key, X509 *issuer,
                     const struct eca_key *issuer_key, int is_ca, const char *const *dns,
                     size_t ndns, time_t not_before, time_t not_after);

/* Append the PEM of certificate x to out. */
void test_pki_append_pem(X509 *x, struct eca_buf *out);

/*
 * Write the usual files into dir: cert.pem (leaf + intermediate), chain.pem (intermediate),
 * root.pem, and key.pem (leaf key, 0600, via eca_key_save).
 */
void test_pki_write(const struct test_pki *p, const char *dir);

#endif
