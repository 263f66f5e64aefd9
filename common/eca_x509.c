/* SPDX-License-Identifier: MIT */
/* Certificates: CSR building, chain parse/serialise, validity, key match, chain verification. */
#include "eca_x509.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "eca_fs.h"
#include "eca_pem.h"

/*
 * Local files only: chains from the network are already capped by their eca_buf (256 KiB),
 * while a system anchor bundle (ca-certificates.crt) is about 220 KiB and growing.
 */
#define CHAIN_FILE_MAX ((size_t)4 << 20)
#define DN_MAX         1024

struct eca_chain {
    STACK_OF(X509) * certs;
};

/* ---- CSR --------------------------------------------------------------------------------- */

/*
 * Cut the next RDN "type=value" off *sp (RFC 4514 §3: ',' separates, '\' escapes the next
 * character or introduces two hex digits). Spaces around type and value are dropped. A '+'
 * (multi-valued RDN) is taken literally: we never need one.
 */
static enum eca_rc
next_rdn(const char **sp, char *type, size_t tlen, char *val, size_t vlen, struct eca_err *err)
{
    const char *s = *sp;
    size_t t = 0, v = 0, vkeep = 0;

    while (*s == ' ')
        s++;
    while (*s != '\0' && *s != '=' && *s != ',' && t + 1 < tlen)
        type[t++] = *s++;
    while (t > 0 && type[t - 1] == ' ')
        t--;
    type[t] = '\0';
    if (*s != '=' || t == 0)
        return eca_err_set(err, ECA_EINVAL, "subject: expected type=value at '%.40s'", *sp);
    for (s++; *s == ' '; s++)
        ;
    while (*s != '\0' && *s != ',') {
        if (v + 1 >= vlen)
            return eca_err_set(err, ECA_EINVAL, "subject: value too long at '%.40s'", *sp);
        if (*s == '\\' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], '\0'};
            val[v++] = (char)strtol(hex, NULL, 16);
            s += 3;
            vkeep = v;
        } else if (*s == '\\') {
            if (s[1] == '\0')
                return eca_err_set(err, ECA_EINVAL, "subject: trailing backslash");
            val[v++] = s[1];
            s += 2;
            vkeep = v;
        } else {
            val[v++] = *s++;
            if (val[v - 1] != ' ')
                vkeep = v;
        }
    }
    val[vkeep] = '\0'; /* unescaped trailing spaces are dropped, escaped ones kept */
    if (vkeep == 0)
        return eca_err_set(err, ECA_EINVAL, "subject: empty value for '%s'", type);
    *sp = *s == ',' ? s + 1 : s;
    return ECA_OK;
}

/*
 * Parse "CN=a,O=b" into name. RFC 4514 writes the most specific RDN first, i.e. reversed
 * DER order, so each RDN is inserted at the front: printing it back with RFC 2253 flags
 * gives the same string.
 */
static enum eca_rc
parse_dn(const char *dn, X509_NAME *name, struct eca_err *err)
{
    char type[64], val[DN_MAX];
    const char *s = dn;
    enum eca_rc rc;

    if (*s == '\0')
        return eca_err_set(err, ECA_EINVAL, "subject: empty distinguished name");
    while (*s != '\0') {
        if ((rc = next_rdn(&s, type, sizeof type, val, sizeof val, err)) != ECA_OK)
            return rc;
        if (OBJ_txt2nid(type) == NID_undef)
            return eca_err_set(err, ECA_EINVAL, "subject: unknown attribute type '%s'", type);
        if (X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8, (unsigned char *)val, -1, 0, 0) !=
            1)
            return eca_err_ssl(err, ECA_EINVAL, "subject: bad value for '%s'", type);
    }
    return ECA_OK;
}

/* 1..3 decimal digits without a leading zero, at most 255: one part of a dotted quad. */
static int
ipv4_part(const char *s, size_t n)
{
    return n >= 1 && n <= 3 && strspn(s, "0123456789") >= n && (n == 1 || s[0] != '0') &&
           atoi(s) <= 255;
}

/*
 * a2i_IPADDRESS() reads "1.2.3.4" with sscanf, so "1.2.3.4.example" would pass as an
 * address: the text is held to the strict forms first (dotted quad; hex groups and colons,
 * an IPv4 tail allowed).
 */
int
eca_x509_is_ip(const char *s)
{
    ASN1_OCTET_STRING *ip;
    size_t n = s ? strlen(s) : 0, parts = 0;
    int ok;

    if (n == 0 || n > 45)
        return 0;
    if (strchr(s, ':') == NULL) {
        for (const char *p = s;; p += strcspn(p, ".") + 1) {
            if (!ipv4_part(p, strcspn(p, ".")) || ++parts > 4)
                return 0;
            if (p[strcspn(p, ".")] == '\0')
                break;
        }
        if (parts != 4)
            return 0;
    } else if (strspn(s, "0123456789abcdefABCDEF:.") != n) {
        return 0;
    }
    ok = (ip = a2i_IPADDRESS(s)) != NULL;
    ASN1_OCTET_STRING_free(ip);
    return ok;
}

/* One subjectAltName entry: an iPAddress for an address literal, else a dNSName. */
static GENERAL_NAME *
san_entry(const char *name)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *v;

    if (g == NULL)
        return NULL;
    if (eca_x509_is_ip(name)) {
        if ((v = a2i_IPADDRESS(name)) != NULL) {
            GENERAL_NAME_set0_value(g, GEN_IPADD, v);
            return g;
        }
    } else if ((v = ASN1_IA5STRING_new()) != NULL) {
        if (ASN1_STRING_set(v, name, -1)) {
            GENERAL_NAME_set0_value(g, GEN_DNS, v);
            return g;
        }
        ASN1_IA5STRING_free(v);
    }
    GENERAL_NAME_free(g);
    return NULL;
}

/* subjectAltName with DNS names and IP addresses (RFC 5280 §4.2.1.6), pushed onto exts. */
static enum eca_rc
push_san(STACK_OF(X509_EXTENSION) * exts, const char *const *dns, size_t ndns, struct eca_err *err)
{
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *g = NULL;
    X509_EXTENSION *ext = NULL;
    enum eca_rc rc = ECA_OK;
    size_t i;

    if ((gens = GENERAL_NAMES_new()) == NULL)
        goto fail;
    for (i = 0; i < ndns; i++) {
        if (dns[i] == NULL || dns[i][0] == '\0') {
            rc = eca_err_set(err, ECA_EINVAL, "subjectAltName: DNS name %zu is empty", i);
            goto out;
        }
        if ((g = san_entry(dns[i])) == NULL || !sk_GENERAL_NAME_push(gens, g))
            goto fail;
        g = NULL;
    }
    if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
        !sk_X509_EXTENSION_push(exts, ext))
        goto fail;
    ext = NULL;
    goto out;
fail:
    rc = eca_err_ssl(err, ECA_ECRYPTO, "csr: cannot build subjectAltName");
out:
    GENERAL_NAME_free(g);
    GENERAL_NAMES_free(gens);
    X509_EXTENSION_free(ext);
    return rc;
}

/* Extensions given as DER; one whose type is already present is an error (RFC 5280 §4.2). */
static enum eca_rc
push_der_exts(STACK_OF(X509_EXTENSION) * exts, const struct eca_der *in, size_t n,
              struct eca_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = in[i].der;
        X509_EXTENSION *ext = d2i_X509_EXTENSION(NULL, &p, (long)in[i].len);

        if (ext == NULL || p != in[i].der + in[i].len) {
            X509_EXTENSION_free(ext);
            return eca_err_ssl(err, ECA_EINVAL, "csr: extension %zu is not a DER Extension", i);
        }
        if (X509v3_get_ext_by_OBJ(exts, X509_EXTENSION_get_object(ext), -1) >= 0) {
            X509_EXTENSION_free(ext);
            return eca_err_set(err, ECA_EINVAL, "csr: extension %zu appears twice", i);
        }
        if (!sk_X509_EXTENSION_push(exts, ext)) {
            X509_EXTENSION_free(ext);
            return eca_err_ssl(err, ECA_ENOMEM, "csr: out of memory");
        }
    }
    return ECA_OK;
}

/* The extensionRequest attribute (RFC 2985 §5.4.2): DNS names first, then the extras. */
static enum eca_rc
add_extensions(X509_REQ *req, const char *const *dns, size_t ndns, const struct eca_csr_extra *x,
               struct eca_err *err)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    enum eca_rc rc = ECA_OK;

    if (exts == NULL)
        return eca_err_ssl(err, ECA_ENOMEM, "csr: out of memory");
    if ((ndns > 0 && (rc = push_san(exts, dns, ndns, err)) != ECA_OK) ||
        (x != NULL && (rc = push_der_exts(exts, x->exts, x->nexts, err)) != ECA_OK))
        goto out;
    if (sk_X509_EXTENSION_num(exts) > 0 && X509_REQ_add_extensions(req, exts) != 1)
        rc = eca_err_ssl(err, ECA_ECRYPTO, "csr: cannot add the extension request");
out:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rc;
}

/* Other attributes given as DER Attribute (RFC 2986 §4.1), copied as they are. */
static enum eca_rc
add_attributes(X509_REQ *req, const struct eca_csr_extra *x, struct eca_err *err)
{
    for (size_t i = 0; x != NULL && i < x->nattrs; i++) {
        const unsigned char *p = x->attrs[i].der;
        X509_ATTRIBUTE *a = d2i_X509_ATTRIBUTE(NULL, &p, (long)x->attrs[i].len);
        int ok = a != NULL && p == x->attrs[i].der + x->attrs[i].len && X509_REQ_add1_attr(req, a);

        X509_ATTRIBUTE_free(a);
        if (!ok)
            return eca_err_ssl(err, ECA_EINVAL, "csr: attribute %zu is not a DER Attribute", i);
    }
    return ECA_OK;
}

/* Append what an i2d_*() call produced (n bytes at der, freed here) to out. */
static enum eca_rc
append_i2d(unsigned char *der, int n, const char *what, struct eca_buf *out, struct eca_err *err)
{
    enum eca_rc rc;

    if (n <= 0)
        return eca_err_ssl(err, ECA_ECRYPTO, "%s: DER encoding failed", what);
    rc = eca_buf_append(out, der, (size_t)n, err);
    OPENSSL_free(der);
    return rc;
}

static enum eca_rc
append_der_req(X509_REQ *req, struct eca_buf *out, struct eca_err *err)
{
    unsigned char *der = NULL;
    int n = i2d_X509_REQ(req, &der);

    return append_i2d(der, n, "csr", out, err);
}

static enum eca_rc
csr_subject(X509_REQ *req, const char *subject_dn, const char *const *dns, size_t ndns,
            struct eca_err *err)
{
    X509_NAME *name = X509_NAME_new();
    enum eca_rc rc = ECA_OK;
    const char *cn = ndns > 0 ? dns[0] : NULL;

    if (name == NULL)
        return eca_err_ssl(err, ECA_ENOMEM, "csr: out of memory");
    /* An address goes to the SAN only (CAs take names from the SAN; RFC 8738 orders hold
     * no CN): the CN is the first DNS name, and with none the subject stays empty. */
    for (size_t i = 0; subject_dn == NULL && cn != NULL && eca_x509_is_ip(cn); i++)
        cn = i + 1 < ndns ? dns[i + 1] : NULL;
    if (subject_dn != NULL)
        rc = parse_dn(subject_dn, name, err);
    else if (cn != NULL && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                      (const unsigned char *)cn, -1, -1, 0) != 1)
        rc = eca_err_ssl(err, ECA_EINVAL, "csr: DNS name '%s' is not a valid CN", cn);
    if (rc == ECA_OK && X509_REQ_set_subject_name(req, name) != 1)
        rc = eca_err_ssl(err, ECA_ECRYPTO, "csr: cannot set the subject");
    X509_NAME_free(name);
    return rc;
}

enum eca_rc
eca_x509_csr_build_ex(const struct eca_key *key, const char *subject_dn, const char *const *dns,
                      size_t ndns, const struct eca_csr_extra *extra, struct eca_buf *out,
                      struct eca_err *err)
{
    const EVP_MD *md = eca_key_md(key);
    X509_REQ *req = NULL;
    enum eca_rc rc;

    if (subject_dn == NULL && (ndns == 0 || dns[0] == NULL || dns[0][0] == '\0'))
        return eca_err_set(err, ECA_EINVAL, "csr: neither a subject nor a DNS name given");
    if (extra != NULL && extra->md != NULL && (md = EVP_get_digestbyname(extra->md)) == NULL)
        return eca_err_set(err, ECA_EINVAL, "csr: unknown digest '%s'", extra->md);
    if ((req = X509_REQ_new()) == NULL)
        return eca_err_ssl(err, ECA_ENOMEM, "csr: out of memory");
    if ((rc = csr_subject(req, subject_dn, dns, ndns, err)) != ECA_OK)
        goto out;
    /* PKCS#10 (RFC 2986 §4.1) knows only version 1, encoded as 0. */
    if (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_pubkey(req, eca_key_pkey(key)) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "csr: cannot fill request");
        goto out;
    }
    if ((rc = add_extensions(req, dns, ndns, extra, err)) != ECA_OK ||
        (rc = add_attributes(req, extra, err)) != ECA_OK)
        goto out;
    if (X509_REQ_sign(req, eca_key_pkey(key), md) <= 0) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "csr: signing failed");
        goto out;
    }
    rc = append_der_req(req, out, err);
out:
    X509_REQ_free(req);
    return rc;
}

enum eca_rc
eca_x509_csr_build(const struct eca_key *key, const char *subject_dn, const char *const *dns,
                   size_t ndns, struct eca_buf *out, struct eca_err *err)
{
    return eca_x509_csr_build_ex(key, subject_dn, dns, ndns, NULL, out, err);
}

/* ---- chains ------------------------------------------------------------------------------ */

enum eca_rc
eca_x509_chain_new(struct eca_chain **out, struct eca_err *err)
{
    struct eca_chain *c = calloc(1, sizeof *c);

    if (c == NULL || (c->certs = sk_X509_new_null()) == NULL) {
        free(c);
        return eca_err_set(err, ECA_ENOMEM, "chain: out of memory");
    }
    *out = c;
    return ECA_OK;
}

void
eca_x509_chain_free(struct eca_chain *c)
{
    if (c == NULL)
        return;
    sk_X509_pop_free(c->certs, X509_free);
    free(c);
}

enum eca_rc
eca_x509_chain_from_certs(X509 *first, STACK_OF(X509) * rest, struct eca_chain **out,
                          struct eca_err *err)
{
    struct eca_chain *c = NULL;
    enum eca_rc rc;

    if ((rc = eca_x509_chain_new(&c, err)) != ECA_OK)
        return rc;
    if (first != NULL && (rc = eca_x509_chain_push(c, first, err)) != ECA_OK)
        goto out;
    for (int i = 0; i < sk_X509_num(rest); i++)
        if ((rc = eca_x509_chain_push(c, sk_X509_value(rest, i), err)) != ECA_OK)
            goto out;
    *out = c;
    c = NULL;
out:
    eca_x509_chain_free(c);
    return rc;
}

enum eca_rc
eca_x509_chain_push(struct eca_chain *c, X509 *x, struct eca_err *err)
{
    if (x == NULL)
        return eca_err_set(err, ECA_EINVAL, "chain: no certificate given");
    if (!X509_up_ref(x))
        return eca_err_ssl(err, ECA_ECRYPTO, "chain: cannot reference certificate");
    if (!sk_X509_push(c->certs, x)) {
        X509_free(x);
        return eca_err_set(err, ECA_ENOMEM, "chain: out of memory");
    }
    return ECA_OK;
}

size_t
eca_x509_chain_count(const struct eca_chain *c)
{
    return c == NULL ? 0 : (size_t)sk_X509_num(c->certs);
}

X509 *
eca_x509_chain_get(const struct eca_chain *c, size_t i)
{
    if (c == NULL || i >= eca_x509_chain_count(c))
        return NULL;
    return sk_X509_value(c->certs, (int)i);
}

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

/* Find needle in [p, end); NULL when absent. Input may hold NUL bytes, so no strstr. */
static const char *
find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);

    for (; p != NULL && (size_t)(end - p) >= n; p++) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL || (size_t)(end - p) < n)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

/* Decode one BEGIN..END block and push it. */
static enum eca_rc
push_block(struct eca_chain *c, const char *b, const char *e, size_t idx, struct eca_err *err)
{
    BIO *bio = BIO_new_mem_buf(b, (int)(e - b));
    X509 *x = NULL;
    enum eca_rc rc;

    if (bio == NULL)
        return eca_err_ssl(err, ECA_ENOMEM, "chain: out of memory");
    if ((x = PEM_read_bio_X509(bio, NULL, eca_pem_no_password, NULL)) == NULL) {
        rc = eca_err_ssl(err, ECA_EPARSE, "chain: CERTIFICATE block %zu is not a certificate",
                         idx + 1);
        goto out;
    }
    rc = eca_x509_chain_push(c, x, err);
out:
    X509_free(x);
    BIO_free(bio);
    return rc;
}

/*
 * Only the CERTIFICATE blocks count; text and other blocks around them (as found in bundles
 * with comments, or a key next to the chain) are skipped rather than fed to the PEM reader.
 */
enum eca_rc
eca_x509_chain_from_pem(const void *pem, size_t len, struct eca_chain **out, struct eca_err *err)
{
    const char *p = pem, *end = p + len, *b, *e;
    struct eca_chain *c = NULL;
    enum eca_rc rc;

    if (len > CHAIN_FILE_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "chain: PEM of %zu bytes exceeds the limit", len);
    if ((rc = eca_x509_chain_new(&c, err)) != ECA_OK)
        return rc;
    while ((b = find(p, end, pem_begin)) != NULL) {
        if ((e = find(b, end, pem_end)) == NULL) {
            rc = eca_err_set(err, ECA_EPARSE, "chain: CERTIFICATE block %d has no END line",
                             sk_X509_num(c->certs) + 1);
            goto out;
        }
        e += sizeof pem_end - 1;
        if ((rc = push_block(c, b, e, (size_t)sk_X509_num(c->certs), err)) != ECA_OK)
            goto out;
        p = e;
    }
    if (sk_X509_num(c->certs) == 0) {
        rc = eca_err_set(err, ECA_EPARSE, "chain: no CERTIFICATE block found");
        goto out;
    }
    *out = c;
    c = NULL;
out:
    eca_x509_chain_free(c);
    return rc;
}

enum eca_rc
eca_x509_chain_load(const char *path, struct eca_chain **out, struct eca_err *err)
{
    struct eca_buf b;
    enum eca_rc rc;

    eca_buf_init(&b, CHAIN_FILE_MAX);
    if ((rc = eca_fs_read(path, CHAIN_FILE_MAX, &b, err)) != ECA_OK)
        goto out;
    if ((rc = eca_x509_chain_from_pem(b.data, b.len, out, err)) != ECA_OK)
        eca_err_prefix(err, "%s: ", path);
out:
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
eca_x509_chain_to_pem(const struct eca_chain *c, size_t from, struct eca_buf *out,
                      struct eca_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    size_t i;
    enum eca_rc rc;

    if (bio == NULL)
        return eca_err_ssl(err, ECA_ENOMEM, "chain: out of memory");
    for (i = from; i < eca_x509_chain_count(c); i++) {
        if (PEM_write_bio_X509(bio, eca_x509_chain_get(c, i)) != 1) {
            rc = eca_err_ssl(err, ECA_ECRYPTO, "chain: PEM encoding of certificate %zu failed", i);
            goto out;
        }
    }
    rc = eca_pem_bio_append(bio, out, err);
out:
    BIO_free(bio);
    return rc;
}

/* ---- chain ordering ---------------------------------------------------------------------- */

static int
issued(X509 *issuer, X509 *child)
{
    return X509_check_issued(issuer, child) == X509_V_OK;
}

/* Drop exact duplicates: some servers repeat an intermediate. */
static void
dedup(STACK_OF(X509) * sk)
{
    int i, j;

    for (i = 0; i < sk_X509_num(sk); i++) {
        for (j = sk_X509_num(sk) - 1; j > i; j--) {
            if (X509_cmp(sk_X509_value(sk, i), sk_X509_value(sk, j)) == 0)
                X509_free(sk_X509_delete(sk, j));
        }
    }
}

/* The one certificate that issued none of the others; -1 when there is not exactly one. */
static int
find_leaf(STACK_OF(X509) * sk)
{
    int i, j, n = sk_X509_num(sk), leaf = -1;

    for (i = 0; i < n; i++) {
        int issues = 0;

        for (j = 0; j < n && !issues; j++)
            issues = j != i && issued(sk_X509_value(sk, i), sk_X509_value(sk, j));
        if (!issues) {
            if (leaf >= 0)
                return -1;
            leaf = i;
        }
    }
    return leaf;
}

/* Move the issuer of ordered[k-1] from rest into ordered; 0 when rest holds none. */
static int
take_issuer(STACK_OF(X509) * ordered, STACK_OF(X509) * rest)
{
    X509 *child = sk_X509_value(ordered, sk_X509_num(ordered) - 1);
    int j;

    for (j = 0; j < sk_X509_num(rest); j++) {
        if (issued(sk_X509_value(rest, j), child))
            return sk_X509_push(ordered, sk_X509_delete(rest, j)) > 0;
    }
    return 0;
}

enum eca_rc
eca_x509_chain_order(struct eca_chain *c, struct eca_err *err)
{
    STACK_OF(X509) *ordered = NULL;
    char subj[256];
    int leaf;
    enum eca_rc rc = ECA_OK;

    if (sk_X509_num(c->certs) == 0)
        return eca_err_set(err, ECA_EPROTO, "chain: no certificates to order");
    dedup(c->certs);
    if ((leaf = find_leaf(c->certs)) < 0)
        return eca_err_set(err, ECA_EPROTO,
                           "chain: certificates do not form one path (no single leaf)");
    if ((ordered = sk_X509_new_reserve(NULL, sk_X509_num(c->certs))) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "chain: out of memory");
    sk_X509_push(ordered, sk_X509_delete(c->certs, leaf)); /* cannot fail: reserved */
    while (sk_X509_num(c->certs) > 0 && take_issuer(ordered, c->certs))
        ;
    if (sk_X509_num(c->certs) > 0) {
        eca_x509_subject(sk_X509_value(c->certs, 0), subj, sizeof subj);
        rc = eca_err_set(err, ECA_EPROTO,
                         "chain: certificates do not form one path: '%s' is not on it", subj);
        /* put everything back so the chain still owns it */
        while (sk_X509_num(ordered) > 0)
            sk_X509_push(c->certs, sk_X509_pop(ordered));
        sk_X509_free(ordered);
        return rc;
    }
    sk_X509_free(c->certs);
    c->certs = ordered;
    return ECA_OK;
}

/* ---- certificate facts ------------------------------------------------------------------- */

static time_t
asn1_to_time(const ASN1_TIME *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

time_t
eca_x509_not_before(X509 *x)
{
    return asn1_to_time(X509_get0_notBefore(x));
}

time_t
eca_x509_not_after(X509 *x)
{
    return asn1_to_time(X509_get0_notAfter(x));
}

void
eca_x509_serial_hex(X509 *x, char *out, size_t outlen)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    size_t i;

    if (outlen == 0)
        goto out;
    snprintf(out, outlen, "%s", hex ? hex : "");
    for (i = 0; out[i] != '\0'; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
out:
    OPENSSL_free(hex);
    BN_free(bn);
}

/* RFC 2253 order and escaping, but UTF-8 kept readable (logs escape it themselves). */
#define NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

void
eca_x509_subject(X509 *x, char *out, size_t outlen)
{
    eca_pem_name_line(X509_get_subject_name(x), NAME_FLAGS, out, outlen);
}

void
eca_x509_issuer(X509 *x, char *out, size_t outlen)
{
    eca_pem_name_line(X509_get_issuer_name(x), NAME_FLAGS, out, outlen);
}

/* The i-th DNS SAN as a C string into buf; 0 when it is not a DNS name or does not fit. */
static int
dns_at(GENERAL_NAMES *gens, int i, char *buf, size_t blen)
{
    GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    const ASN1_IA5STRING *s;
    int n;

    if (g->type != GEN_DNS)
        return 0;
    s = g->d.dNSName;
    n = ASN1_STRING_length(s);
    if (n <= 0 || (size_t)n >= blen || memchr(ASN1_STRING_get0_data(s), '\0', (size_t)n))
        return 0;
    memcpy(buf, ASN1_STRING_get0_data(s), (size_t)n);
    buf[n] = '\0';
    return 1;
}

void
eca_x509_dns_names(X509 *x, char *out, size_t outlen)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    char name[256];
    size_t used = 0, n;
    int i;

    if (outlen == 0)
        goto out;
    out[0] = '\0';
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        if (!dns_at(gens, i, name, sizeof name))
            continue;
        n = strlen(name) + (used ? 1 : 0);
        if (used + n >= outlen)
            break; /* whole names only */
        snprintf(out + used, outlen - used, "%s%s", used ? "," : "", name);
        used += n;
    }
out:
    GENERAL_NAMES_free(gens);
}

static int
in_list(const char *name, const char *const *dns, size_t ndns)
{
    size_t i;

    for (i = 0; i < ndns; i++) {
        if (dns[i] != NULL && strcasecmp(name, dns[i]) == 0)
            return 1;
    }
    return 0;
}

/* DNS names compare case-insensitively (RFC 4343); each side must cover the other. */
int
eca_x509_has_dns_names(X509 *x, const char *const *dns, size_t ndns)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    char name[256];
    int i, n = gens ? sk_GENERAL_NAME_num(gens) : 0, ok = 1;
    size_t k, found;

    for (i = 0; i < n && ok; i++) {
        if (dns_at(gens, i, name, sizeof name))
            ok = in_list(name, dns, ndns);
    }
    for (k = 0; k < ndns && ok; k++) {
        for (found = 0, i = 0; i < n && !found; i++)
            found = dns_at(gens, i, name, sizeof name) && dns[k] != NULL &&
                    strcasecmp(name, dns[k]) == 0;
        ok = (int)found;
    }
    GENERAL_NAMES_free(gens);
    return ok;
}

/* 1 if SAN entry g is the name want: a dNSName case-insensitively, an iPAddress by value. */
static int
san_is(GENERAL_NAMES *gens, int i, const char *want)
{
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    ASN1_OCTET_STRING *ip;
    char name[256];
    int eq;

    if (want == NULL)
        return 0;
    if (g->type == GEN_DNS)
        return !eca_x509_is_ip(want) && dns_at(gens, i, name, sizeof name) &&
               strcasecmp(name, want) == 0;
    if (g->type != GEN_IPADD || !eca_x509_is_ip(want) || (ip = a2i_IPADDRESS(want)) == NULL)
        return 0;
    eq = ASN1_OCTET_STRING_cmp(ip, g->d.iPAddress) == 0;
    ASN1_OCTET_STRING_free(ip);
    return eq;
}

int
eca_x509_has_names(X509 *x, const char *const *names, size_t n)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int i, count = gens ? sk_GENERAL_NAME_num(gens) : 0, ok = 1, found;
    size_t k;

    for (i = 0; i < count && ok; i++) {
        int type = sk_GENERAL_NAME_value(gens, i)->type;

        if (type != GEN_DNS && type != GEN_IPADD)
            continue;
        for (found = 0, k = 0; k < n && !found; k++)
            found = san_is(gens, i, names[k]);
        ok = found;
    }
    for (k = 0; k < n && ok; k++) {
        for (found = 0, i = 0; i < count && !found; i++)
            found = san_is(gens, i, names[k]);
        ok = found;
    }
    GENERAL_NAMES_free(gens);
    return ok;
}

const char *
eca_x509_key_type(X509 *x)
{
    EVP_PKEY *pub = X509_get0_pubkey(x);

    return pub ? EVP_PKEY_get0_type_name(pub) : NULL;
}

int
eca_x509_matches_key(X509 *x, const struct eca_key *key)
{
    EVP_PKEY *pub = X509_get0_pubkey(x);

    if (pub == NULL || key == NULL)
        return 0;
    return EVP_PKEY_eq(pub, eca_key_pkey(key)) == 1;
}

/* ---- verification ------------------------------------------------------------------------ */

static enum eca_rc
load_anchors(X509_STORE *store, const struct eca_chain *c, const char *path, struct eca_err *err)
{
    struct eca_chain *anchors = NULL;
    X509 *last;
    char subj[256];
    size_t i;
    enum eca_rc rc = ECA_OK;

    if (path == NULL) {
        last = eca_x509_chain_get(c, eca_x509_chain_count(c) - 1);
        if (X509_self_signed(last, 1) != 1) {
            eca_x509_subject(last, subj, sizeof subj);
            return eca_err_set(err, ECA_ETLS,
                               "verify: no trust anchors given and the last certificate "
                               "'%s' is not self-signed",
                               subj);
        }
        return X509_STORE_add_cert(store, last) == 1
                   ? ECA_OK
                   : eca_err_ssl(err, ECA_ECRYPTO, "verify: cannot add anchor");
    }
    if ((rc = eca_x509_chain_load(path, &anchors, err)) != ECA_OK) {
        eca_err_prefix(err, "verify: trust anchors: ");
        return rc;
    }
    for (i = 0; i < eca_x509_chain_count(anchors) && rc == ECA_OK; i++) {
        if (X509_STORE_add_cert(store, eca_x509_chain_get(anchors, i)) != 1)
            rc = eca_err_ssl(err, ECA_ECRYPTO, "verify: cannot add anchor %zu of %s", i, path);
    }
    eca_x509_chain_free(anchors);
    return rc;
}

static enum eca_rc
verify_failed(X509_STORE_CTX *ctx, struct eca_err *err)
{
    int e = X509_STORE_CTX_get_error(ctx);
    X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
    char subj[256] = "?";

    if (bad != NULL)
        eca_x509_subject(bad, subj, sizeof subj);
    ERR_clear_error();
    return eca_err_set(err, ECA_ETLS, "verify: %s (depth %d, subject '%s')",
                       X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx), subj);
}

/* Verify c's leaf against anchors_path (see load_anchors) or, when given, the chain anchors. */
static enum eca_rc
verify_leaf(const struct eca_chain *c, const char *anchors_path, const struct eca_chain *anchors,
            time_t at, struct eca_err *err)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    enum eca_rc rc = ECA_OK;

    if (eca_x509_chain_count(c) == 0)
        return eca_err_set(err, ECA_EINVAL, "verify: empty chain");
    if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
        (untrusted = sk_X509_dup(c->certs)) == NULL) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "verify: out of memory");
        goto out;
    }
    if (anchors == NULL)
        rc = load_anchors(store, c, anchors_path, err);
    for (size_t i = 0; anchors != NULL && i < eca_x509_chain_count(anchors) && rc == ECA_OK; i++)
        if (X509_STORE_add_cert(store, eca_x509_chain_get(anchors, i)) != 1)
            rc = eca_err_ssl(err, ECA_ECRYPTO, "verify: cannot add anchor %zu", i);
    if (rc != ECA_OK)
        goto out;
    sk_X509_delete(untrusted, 0);
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(c->certs, 0), untrusted) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "verify: cannot set up");
        goto out;
    }
    /* From a file, anchors must be roots (no partial chain, so an intermediate cannot pose);
     * anchors handed over in memory are the CA's own certificates, any of them may end it. */
    if (anchors != NULL)
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
    if (at != 0)
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
    rc = X509_verify_cert(ctx) == 1 ? ECA_OK : verify_failed(ctx, err);
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

enum eca_rc
eca_x509_verify(const struct eca_chain *c, const char *anchors_path, time_t at, struct eca_err *err)
{
    return verify_leaf(c, anchors_path, NULL, at, err);
}

enum eca_rc
eca_x509_to_der(X509 *x, struct eca_buf *out, struct eca_err *err)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);

    return append_i2d(der, n, "certificate", out, err);
}

enum eca_rc
eca_x509_aki_keyid(X509 *x, struct eca_buf *out, struct eca_err *err)
{
    const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(x);

    if (kid == NULL || ASN1_STRING_length(kid) <= 0)
        return eca_err_set(err, ECA_ENOTFOUND,
                           "certificate: no authorityKeyIdentifier keyIdentifier");
    return eca_buf_append(out, ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid), err);
}

enum eca_rc
eca_x509_serial_der_content(X509 *x, struct eca_buf *out, struct eca_err *err)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    long len = 0;
    int n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der), tag, cls;
    enum eca_rc rc;

    if (n <= 0)
        return eca_err_ssl(err, ECA_ECRYPTO, "certificate: cannot encode the serial");
    p = der;
    /* The INTEGER's contents without tag and length: the sign byte a DER encoder adds stays. */
    if ((ASN1_get_object(&p, &len, &tag, &cls, n) & 0x80) || tag != V_ASN1_INTEGER || len <= 0)
        rc = eca_err_set(err, ECA_ECRYPTO, "certificate: malformed serial encoding");
    else
        rc = eca_buf_append(out, p, (size_t)len, err);
    OPENSSL_free(der);
    return rc;
}

/* ---- checks before an install ------------------------------------------------------------ */

enum eca_rc
eca_x509_check_validity(X509 *x, time_t now, long skew_s, struct eca_err *err)
{
    time_t nb = eca_x509_not_before(x), na = eca_x509_not_after(x);
    char subj[256], when[32];
    struct tm tm;

    eca_x509_subject(x, subj, sizeof subj);
    if (nb == 0 || na == 0)
        return eca_err_set(err, ECA_EPROTO, "certificate '%s': unreadable validity dates", subj);
    if (nb > now + skew_s) {
        gmtime_r(&nb, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return eca_err_set(err, ECA_EPROTO,
                           "certificate '%s' is not valid before %s, %lld s from now (more "
                           "than the %ld s clock skew allowed)",
                           subj, when, (long long)(nb - now), skew_s);
    }
    if (na <= now) {
        gmtime_r(&na, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return eca_err_set(err, ECA_EPROTO, "certificate '%s' expired at %s", subj, when);
    }
    return ECA_OK;
}

/* 1 if issuer's key signed child (and the names link them). */
static int
signed_by(X509 *child, X509 *issuer)
{
    EVP_PKEY *pub = X509_get0_pubkey(issuer);
    int ok = issued(issuer, child) && pub != NULL && X509_verify(child, pub) == 1;

    ERR_clear_error();
    return ok;
}

enum eca_rc
eca_x509_chain_check_links(const struct eca_chain *c, struct eca_err *err)
{
    size_t i, n = eca_x509_chain_count(c);
    char a[256], b[256];
    X509 *x, *up;

    if (n == 0)
        return eca_err_set(err, ECA_EPROTO, "chain: no certificates");
    for (i = 0; i + 1 < n; i++) {
        x = eca_x509_chain_get(c, i);
        up = eca_x509_chain_get(c, i + 1);
        if (!signed_by(x, up)) {
            eca_x509_subject(x, a, sizeof a);
            eca_x509_subject(up, b, sizeof b);
            return eca_err_set(err, ECA_EPROTO, "chain: '%s' is not signed by the next, '%s'", a,
                               b);
        }
    }
    x = eca_x509_chain_get(c, n - 1);
    if (n > 1 && X509_self_signed(x, 0) == 1 && !signed_by(x, x)) {
        eca_x509_subject(x, a, sizeof a);
        return eca_err_set(err, ECA_EPROTO, "chain: self-signed '%s' has a bad signature", a);
    }
    return ECA_OK;
}

enum eca_rc
eca_x509_verify_with(const struct eca_chain *c, const struct eca_chain *anchors, time_t at,
                     struct eca_err *err)
{
    if (eca_x509_chain_count(anchors) == 0)
        return eca_err_set(err, ECA_EINVAL, "verify: no trust anchors");
    return verify_leaf(c, NULL, anchors, at, err);
}

int
eca_x509_subject_matches_csr(X509 *x, const void *csr_der, size_t len)
{
    const unsigned char *p = csr_der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    int ok =
        req != NULL && X509_NAME_cmp(X509_get_subject_name(x), X509_REQ_get_subject_name(req)) == 0;

    X509_REQ_free(req);
    ERR_clear_error();
    return ok;
}
