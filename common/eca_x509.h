/* SPDX-License-Identifier: MIT */
/* Certificates: CSR building, chain parse/serialise, validity, key match, chain verification. */
#ifndef ECA_X509_H
#define ECA_X509_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_key.h"

/* A certificate chain, leaf first. Opaque. */
struct eca_chain;

/*
 * Build a DER CSR signed by key. subject_dn ("CN=x,O=y", RFC 4514-ish, may be NULL: then
 * CN=first DNS name); dns[0..ndns) go to subjectAltName, address literals (eca_x509_is_ip)
 * as iPAddress entries (RFC 8738) and never as the CN. Appends DER to out.
 */
enum eca_rc eca_x509_csr_build(const struct eca_key *key, const char *subject_dn,
                               const char *const *dns, size_t ndns, struct eca_buf *out,
                               struct eca_err *err);

/* A DER encoding, borrowed. */
struct eca_der {
    const unsigned char *der;
    size_t len;
};

/* What a CSR carries beyond subject and DNS names; every field may be NULL/0. */
struct eca_csr_extra {
    const char *md;             /* digest name ("SHA384"); NULL: eca_key_md(key) */
    const struct eca_der *exts; /* DER Extension each, after the subjectAltName */
    size_t nexts;
    const struct eca_der *attrs; /* DER Attribute each (RFC 2986 §4.1), copied as they are */
    size_t nattrs;
};

/*
 * eca_x509_csr_build with extra content. An extension whose type is already present (e.g. a
 * subjectAltName when dns is given), a blob that is not the DER it should be, or an unknown
 * digest: ECA_EINVAL naming it.
 */
enum eca_rc eca_x509_csr_build_ex(const struct eca_key *key, const char *subject_dn,
                                  const char *const *dns, size_t ndns,
                                  const struct eca_csr_extra *extra, struct eca_buf *out,
                                  struct eca_err *err);

/* A new chain: first (may be NULL), then every certificate of rest (may be NULL), up-ref'd. */
enum eca_rc eca_x509_chain_from_certs(X509 *first, STACK_OF(X509) * rest, struct eca_chain **out,
                                      struct eca_err *err);

/* Parse every CERTIFICATE block of PEM text into a new chain (order kept); none is ECA_EPARSE. */
enum eca_rc eca_x509_chain_from_pem(const void *pem, size_t len, struct eca_chain **out,
                                    struct eca_err *err);
/* Load a PEM file; ECA_ENOTFOUND if absent. */
enum eca_rc eca_x509_chain_load(const char *path, struct eca_chain **out, struct eca_err *err);
/* An empty chain, to push into. */
enum eca_rc eca_x509_chain_new(struct eca_chain **out, struct eca_err *err);
/* Append a certificate (one reference is taken: the caller keeps its own). */
enum eca_rc eca_x509_chain_push(struct eca_chain *c, X509 *x, struct eca_err *err);
/* Appends PEM of certificates [from, count) to out. */
enum eca_rc eca_x509_chain_to_pem(const struct eca_chain *c, size_t from, struct eca_buf *out,
                                  struct eca_err *err);
size_t eca_x509_chain_count(const struct eca_chain *c);
/* The i-th certificate, borrowed; NULL when out of range. */
X509 *eca_x509_chain_get(const struct eca_chain *c, size_t i);
/*
 * Reorder so the leaf comes first and each certificate is followed by its issuer (servers
 * send chains in any order); ECA_EPROTO when the certificates do not form one path.
 */
enum eca_rc eca_x509_chain_order(struct eca_chain *c, struct eca_err *err);
void eca_x509_chain_free(struct eca_chain *c);

time_t eca_x509_not_before(X509 *x);
time_t eca_x509_not_after(X509 *x);
/* Serial as lower-case hex without separators. */
void eca_x509_serial_hex(X509 *x, char *out, size_t outlen);
/* Subject / issuer as a one-line RFC 2253 string. */
void eca_x509_subject(X509 *x, char *out, size_t outlen);
void eca_x509_issuer(X509 *x, char *out, size_t outlen);
/* DNS subjectAltNames, comma-separated, into out. */
void eca_x509_dns_names(X509 *x, char *out, size_t outlen);
/* 1 if the certificate carries exactly this set of DNS SANs (order ignored). */
int eca_x509_has_dns_names(X509 *x, const char *const *dns, size_t ndns);
/*
 * 1 if the certificate's DNS and IP subjectAltNames are exactly names[0..n) (order ignored):
 * address literals (eca_x509_is_ip) match iPAddress entries by value ("::1" is
 * "0:0:0:0:0:0:0:1"), the rest dNSName entries case-insensitively ("*.example.com" literally).
 */
int eca_x509_has_names(X509 *x, const char *const *names, size_t n);

/* 1 if s is an IPv4 dotted quad or an IPv6 address literal (no brackets, no zone). */
int eca_x509_is_ip(const char *s);

/* 1 if key is the private half of the certificate's public key. */
int eca_x509_matches_key(X509 *x, const struct eca_key *key);

/* The algorithm of x's public key as OpenSSL names it ("EC", "RSA"...); NULL when unknown. */
const char *eca_x509_key_type(X509 *x);

/*
 * Verify the chain's leaf at time `at` (0: now) against trust anchors from a PEM file
 * (anchors_path) or, when NULL, the chain's own last certificate if self-signed; the other
 * chain members are untrusted intermediates. ECA_ETLS with OpenSSL's reason on failure.
 */
enum eca_rc eca_x509_verify(const struct eca_chain *c, const char *anchors_path, time_t at,
                            struct eca_err *err);

/* How far a new certificate's notBefore may lie ahead of our clock (CA and host clocks differ). */
#define ECA_X509_SKEW_S 300

/*
 * A certificate about to be installed is usable at `now`: notBefore at most skew_s ahead,
 * notAfter later than now. ECA_EPROTO naming the subject and the offending time otherwise.
 */
enum eca_rc eca_x509_check_validity(X509 *x, time_t now, long skew_s, struct eca_err *err);

/*
 * The chain (leaf first, as eca_x509_chain_order() leaves it) is internally consistent: each
 * certificate names the next as issuer and carries a valid signature by its key; the last, when
 * self-signed, verifies with its own key. ECA_EPROTO naming the pair otherwise.
 */
enum eca_rc eca_x509_chain_check_links(const struct eca_chain *c, struct eca_err *err);

/*
 * eca_x509_verify() with the trust anchors in memory, every one of them trusted as given (an
 * intermediate included: a CA's own list of its certificates may hold no root). ECA_ETLS
 * with OpenSSL's reason on failure.
 */
enum eca_rc eca_x509_verify_with(const struct eca_chain *c, const struct eca_chain *anchors,
                                 time_t at, struct eca_err *err);

/* 1 if the certificate's subject is the subject of the DER CSR (the name asked for). */
int eca_x509_subject_matches_csr(X509 *x, const void *csr_der, size_t len);

/* DER of the leaf (certificate i) appended to out. */
enum eca_rc eca_x509_to_der(X509 *x, struct eca_buf *out, struct eca_err *err);

/*
 * The keyIdentifier bytes of the authorityKeyIdentifier extension (RFC 5280 §4.2.1.1)
 * appended to out; ECA_ENOTFOUND when the certificate carries none.
 */
enum eca_rc eca_x509_aki_keyid(X509 *x, struct eca_buf *out, struct eca_err *err);

/*
 * The content octets of the DER serialNumber INTEGER (no tag, no length; a leading 0x00
 * kept when the encoder needed it for a positive number) appended to out.
 */
enum eca_rc eca_x509_serial_der_content(X509 *x, struct eca_buf *out, struct eca_err *err);

#endif
