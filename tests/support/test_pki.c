/* SPDX-License-Identifier: MIT */
/* Test-time PKI: a root, an intermediate and a leaf with chosen validity, key type and SANs. */
#include "test_pki.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "eca_fs.h"

#define DAY 86400L

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_msg(ext != NULL, "extension %d=%s", nid, value);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

static void
set_serial(X509 *x)
{
    unsigned char r[8];
    BIGNUM *bn;

    ck_assert_int_eq(RAND_bytes(r, sizeof r), 1);
    r[0] &= 0x7f; /* positive */
    r[0] |= 0x01; /* and never zero */
    bn = BN_bin2bn(r, sizeof r, NULL);
    ck_assert_ptr_nonnull(bn);
    ck_assert_ptr_nonnull(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
    BN_free(bn);
}

static void
add_san(X509 *x, const char *const *dns, size_t ndns)
{
    char san[2048] = "";
    size_t i, used = 0;

    for (i = 0; i < ndns; i++) {
        used += (size_t)snprintf(san + used, sizeof san - used, "%sDNS:%s", i ? "," : "", dns[i]);
        ck_assert_uint_lt(used, sizeof san);
    }
    if (ndns > 0)
        add_ext(x, NULL, NID_subject_alt_name, san);
}

X509 *
test_pki_issue(const char *cn, const struct eca_key *subject_key, X509 *issuer,
               const struct eca_key *issuer_key, int is_ca, const char *const *dns, size_t ndns,
               time_t not_before, time_t not_after)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();

    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(name);
    ck_assert_int_eq(X509_set_version(x, X509_VERSION_3), 1);
    set_serial(x);
    ck_assert_int_eq(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0),
        1);
    ck_assert_int_eq(X509_set_subject_name(x, name), 1);
    ck_assert_int_eq(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notBefore(x), not_before));
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notAfter(x), not_after));
    ck_assert_int_eq(X509_set_pubkey(x, eca_key_pkey(subject_key)), 1);
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (is_ca) {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    add_san(x, dns, ndns);
    ck_assert_int_gt(X509_sign(x, eca_key_pkey(issuer_key), eca_key_md(issuer_key)), 0);
    X509_NAME_free(name);
    return x;
}

void
test_pki_make(const struct test_pki_opts *o, struct test_pki *p)
{
    static const struct test_pki_opts none = {0};
    struct eca_err err = {0};
    time_t now = time(NULL);
    time_t cnb, cna, lnb, lna;
    const char *prefix, *cn;
    char name[256];

    if (o == NULL)
        o = &none;
    memset(p, 0, sizeof *p);
    prefix = o->ca_prefix ? o->ca_prefix : "Test";
    cn = o->leaf_cn ? o->leaf_cn : (o->ndns > 0 ? o->dns[0] : "leaf.test");
    cnb = o->ca_not_before ? o->ca_not_before : now - DAY;
    cna = o->ca_not_after ? o->ca_not_after : now + 3650 * DAY;
    lnb = o->leaf_not_before ? o->leaf_not_before : now - 3600;
    lna = o->leaf_not_after ? o->leaf_not_after : now + 90 * DAY;
    ck_assert_msg(eca_key_generate(ECA_KEY_EC_P256, &p->root_key, &err) == ECA_OK, "%s", err.msg);
    ck_assert_msg(eca_key_generate(ECA_KEY_EC_P256, &p->inter_key, &err) == ECA_OK, "%s", err.msg);
    ck_assert_msg(eca_key_generate(o->leaf_key, &p->leaf_key, &err) == ECA_OK, "%s", err.msg);
    snprintf(name, sizeof name, "%s Root CA", prefix);
    p->root = test_pki_issue(name, p->root_key, NULL, p->root_key, 1, NULL, 0, cnb, cna);
    snprintf(name, sizeof name, "%s Intermediate CA", prefix);
    p->inter = test_pki_issue(name, p->inter_key, p->root, p->root_key, 1, NULL, 0, cnb, cna);
    p->leaf = test_pki_issue(cn, p->leaf_key, p->inter, p->inter_key, 0, o->dns, o->ndns, lnb, lna);
}

void
test_pki_free(struct test_pki *p)
{
    if (p == NULL)
        return;
    X509_free(p->leaf);
    X509_free(p->inter);
    X509_free(p->root);
    eca_key_free(p->leaf_key);
    eca_key_free(p->inter_key);
    eca_key_free(p->root_key);
    memset(p, 0, sizeof *p);
}

void
test_pki_append_pem(X509 *x, struct eca_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    ck_assert_ptr_nonnull(bio);
    ck_assert_int_eq(PEM_write_bio_X509(bio, x), 1);
    n = BIO_get_mem_data(bio, &data);
    ck_assert_int_eq(eca_buf_append(out, data, (size_t)n, NULL), ECA_OK);
    BIO_free(bio);
}

static void
write_certs(const char *dir, const char *file, X509 *a, X509 *b)
{
    struct eca_buf pem;
    struct eca_err err = {0};
    char path[4096];

    eca_buf_init(&pem, 0);
    test_pki_append_pem(a, &pem);
    if (b != NULL)
        test_pki_append_pem(b, &pem);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ck_assert_msg(eca_fs_write_atomic(path, pem.data, pem.len, ECA_FS_MODE_PUBLIC, &err) == ECA_OK,
                  "%s", err.msg);
    eca_buf_free(&pem);
}

void
test_pki_write(const struct test_pki *p, const char *dir)
{
    struct eca_err err = {0};
    char path[4096];

    write_certs(dir, "cert.pem", p->leaf, p->inter);
    write_certs(dir, "chain.pem", p->inter, NULL);
    write_certs(dir, "root.pem", p->root, NULL);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    ck_assert_msg(eca_key_save(p->leaf_key, path, &err) == ECA_OK, "%s", err.msg);
}
