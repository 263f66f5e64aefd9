/* SPDX-License-Identifier: MIT */
/* Unit tests for eca_x509: CSR building, chain parsing and ordering, facts, verification. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "eca_fs.h"
#include "eca_x509.h"
#include "eca_test.h"
#include "test_pki.h"

Suite *x509_suite(void);

static const char *const two_dns[] = {"a.test", "b.test"};

/* Parse DER CSR bytes back; the caller frees. */
static X509_REQ *
parse_csr(const struct eca_buf *der)
{
    const unsigned char *p = der->data;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der->len);

    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_eq(p, der->data + der->len);
    return req;
}

static void
name_of(const X509_NAME *n, char *out, size_t len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long k;

    X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253);
    k = BIO_get_mem_data(bio, &p);
    snprintf(out, len, "%.*s", (int)k, p);
    BIO_free(bio);
}

static void
csr_sans(X509_REQ *req, char *out, size_t len)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens;
    int i;

    out[0] = '\0';
    gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
    ck_assert_ptr_nonnull(gens);
    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

        ck_assert_int_eq(g->type, GEN_DNS);
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "",
                 (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    }
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

/* Each curve's CSR is signed with the hash of matching strength (RFC 5480 §4). */
static const struct {
    enum eca_key_type type;
    int sig_nid;
} csr_curves[] = {
    {ECA_KEY_EC_P256, NID_ecdsa_with_SHA256},
    {ECA_KEY_EC_P384, NID_ecdsa_with_SHA384},
    {ECA_KEY_EC_P521, NID_ecdsa_with_SHA512},
};

START_TEST(csr_round_trip_subject_sans_signature)
{
    struct eca_key *k = NULL;
    struct eca_err err = {0};
    struct eca_buf der;
    X509_REQ *req;
    char s[512];
    enum eca_key_type t = csr_curves[_i].type;

    ck_assert_int_eq(eca_key_generate(t, &k, &err), ECA_OK);
    eca_buf_init(&der, 0);
    ck_assert_msg(eca_x509_csr_build(k, "CN=edge\\, one, O=Example Org", two_dns, 2, &der, &err) ==
                      ECA_OK,
                  "%s", err.msg);
    req = parse_csr(&der);
    ck_assert_int_eq(X509_REQ_get_version(req), 0);
    ck_assert_int_eq(X509_REQ_verify(req, eca_key_pkey(k)), 1);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), csr_curves[_i].sig_nid);
    name_of(X509_REQ_get_subject_name(req), s, sizeof s);
    ck_assert_str_eq(s, "CN=edge\\, one,O=Example Org");
    csr_sans(req, s, sizeof s);
    ck_assert_str_eq(s, "a.test,b.test");
    X509_REQ_free(req);
    eca_buf_free(&der);
    eca_key_free(k);
}
END_TEST

START_TEST(csr_default_subject_is_first_dns_name)
{
    struct eca_key *k = NULL;
    struct eca_err err = {0};
    struct eca_buf der;
    X509_REQ *req;
    char s[512];

    ck_assert_int_eq(eca_key_generate(ECA_KEY_RSA_2048, &k, &err), ECA_OK);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_x509_csr_build(k, NULL, two_dns, 2, &der, &err), ECA_OK);
    req = parse_csr(&der);
    ck_assert_int_eq(X509_REQ_verify(req, eca_key_pkey(k)), 1);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_sha256WithRSAEncryption);
    name_of(X509_REQ_get_subject_name(req), s, sizeof s);
    ck_assert_str_eq(s, "CN=a.test");
    X509_REQ_free(req);
    eca_buf_free(&der);
    eca_key_free(k);
}
END_TEST

static const struct {
    const char *dn;
    size_t ndns;
    const char *needle;
} bad_csr[] = {
    {NULL, 0, "neither a subject nor a DNS name"}, {"CN", 1, "expected type=value"},
    {"XQ=1", 1, "unknown attribute type 'XQ'"},    {"CN=", 1, "empty value for 'CN'"},
    {"CN=a\\", 1, "trailing backslash"},
};

START_TEST(csr_rejects_bad_subjects)
{
    struct eca_key *k = NULL;
    struct eca_err err = {0};
    struct eca_buf der;

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &k, &err), ECA_OK);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_x509_csr_build(k, bad_csr[_i].dn, two_dns, bad_csr[_i].ndns, &der, &err),
                     ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, bad_csr[_i].needle) != NULL, "%s", err.msg);
    ck_assert_uint_eq(der.len, 0);
    eca_buf_free(&der);
    eca_key_free(k);
}
END_TEST

START_TEST(chain_parse_skips_junk_and_other_blocks)
{
    struct test_pki_opts o = {.dns = two_dns, .ndns = 2};
    struct test_pki p;
    struct eca_chain *c = NULL;
    struct eca_err err = {0};
    struct eca_buf pem, again;

    test_pki_make(&o, &p);
    eca_buf_init(&pem, 0);
    eca_buf_init(&again, 0);
    eca_buf_puts(&pem, "subject=leaf\r\nissuer: whatever\n", NULL);
    test_pki_append_pem(p.leaf, &pem);
    eca_buf_puts(&pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", NULL);
    test_pki_append_pem(p.inter, &pem);
    eca_buf_puts(&pem, "trailing text", NULL);
    ck_assert_msg(eca_x509_chain_from_pem(pem.data, pem.len, &c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 0), p.leaf), 0);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 1), p.inter), 0);
    ck_assert_ptr_null(eca_x509_chain_get(c, 2));
    ck_assert_int_eq(eca_x509_chain_to_pem(c, 1, &again, &err), ECA_OK);
    eca_buf_reset(&pem);
    test_pki_append_pem(p.inter, &pem);
    ck_assert_str_eq(eca_buf_str(&again), eca_buf_str(&pem));
    eca_x509_chain_free(c);
    eca_buf_free(&pem);
    eca_buf_free(&again);
    test_pki_free(&p);
}
END_TEST

static const struct {
    const char *pem;
    const char *needle;
} bad_pem[] = {
    {"", "no CERTIFICATE block"},
    {"just text\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
     "no CERTIFICATE block"},
    {"-----BEGIN CERTIFICATE-----\nMIIB\n", "has no END line"},
    {"-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
     "block 1 is not a certificate"},
};

START_TEST(chain_parse_rejects_broken_pem)
{
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_x509_chain_from_pem(bad_pem[_i].pem, strlen(bad_pem[_i].pem), &c, &err),
                     ECA_EPARSE);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.msg, bad_pem[_i].needle) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(chain_load_missing_file)
{
    struct eca_chain *c = NULL;
    struct eca_err err = {0};

    ck_assert_int_eq(eca_x509_chain_load("/nonexistent/eca/cert.pem", &c, &err), ECA_ENOTFOUND);
    ck_assert_ptr_null(c);
}
END_TEST

static struct eca_chain *
chain_of(X509 *a, X509 *b, X509 *c)
{
    struct eca_chain *ch = NULL;

    ck_assert_int_eq(eca_x509_chain_new(&ch, NULL), ECA_OK);
    ck_assert_int_eq(eca_x509_chain_push(ch, a, NULL), ECA_OK);
    if (b != NULL)
        ck_assert_int_eq(eca_x509_chain_push(ch, b, NULL), ECA_OK);
    if (c != NULL)
        ck_assert_int_eq(eca_x509_chain_push(ch, c, NULL), ECA_OK);
    return ch;
}

START_TEST(chain_order_puts_leaf_first)
{
    struct test_pki p;
    struct eca_chain *c;
    struct eca_err err = {0};

    test_pki_make(NULL, &p);
    c = chain_of(p.root, p.leaf, p.inter);
    ck_assert_int_eq(eca_x509_chain_push(c, p.inter, NULL), ECA_OK); /* a duplicate */
    ck_assert_msg(eca_x509_chain_order(c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(c), 3);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 0), p.leaf), 0);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 1), p.inter), 0);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 2), p.root), 0);
    eca_x509_chain_free(c);
    c = chain_of(p.inter, p.leaf, NULL);
    ck_assert_int_eq(eca_x509_chain_order(c, &err), ECA_OK);
    ck_assert_int_eq(X509_cmp(eca_x509_chain_get(c, 0), p.leaf), 0);
    eca_x509_chain_free(c);
    test_pki_free(&p);
}
END_TEST

START_TEST(chain_order_rejects_disconnected_set)
{
    struct test_pki p, q;
    struct test_pki_opts o = {.ca_prefix = "Other"};
    struct eca_chain *c;
    struct eca_err err = {0};

    test_pki_make(NULL, &p);
    test_pki_make(&o, &q);
    c = chain_of(p.leaf, q.inter, NULL);
    ck_assert_int_eq(eca_x509_chain_order(c, &err), ECA_EPROTO);
    ck_assert_msg(strstr(err.msg, "do not form one path") != NULL, "%s", err.msg);
    ck_assert_uint_eq(eca_x509_chain_count(c), 2);
    eca_x509_chain_free(c);
    c = chain_of(p.leaf, p.inter, q.root);
    ck_assert_int_eq(eca_x509_chain_order(c, &err), ECA_EPROTO);
    ck_assert_uint_eq(eca_x509_chain_count(c), 3);
    eca_x509_chain_free(c);
    test_pki_free(&p);
    test_pki_free(&q);
}
END_TEST

START_TEST(cert_facts)
{
    time_t now = time(NULL);
    struct test_pki_opts o = {.dns = two_dns,
                              .ndns = 2,
                              .leaf_cn = "edge.test",
                              .leaf_not_before = now - 100,
                              .leaf_not_after = now + 5000};
    static const char *const same[] = {"B.test", "a.test"};
    static const char *const fewer[] = {"a.test"};
    static const char *const more[] = {"a.test", "b.test", "c.test"};
    struct test_pki p;
    struct eca_buf der;
    char s[512];
    const unsigned char *d;
    X509 *back;

    test_pki_make(&o, &p);
    ck_assert_int_eq(eca_x509_not_before(p.leaf), now - 100);
    ck_assert_int_eq(eca_x509_not_after(p.leaf), now + 5000);
    eca_x509_subject(p.leaf, s, sizeof s);
    ck_assert_str_eq(s, "CN=edge.test");
    eca_x509_issuer(p.leaf, s, sizeof s);
    ck_assert_str_eq(s, "CN=Test Intermediate CA");
    eca_x509_dns_names(p.leaf, s, sizeof s);
    ck_assert_str_eq(s, "a.test,b.test");
    eca_x509_dns_names(p.leaf, s, 10);
    ck_assert_str_eq(s, "a.test");
    eca_x509_serial_hex(p.leaf, s, sizeof s);
    ck_assert_uint_gt(strlen(s), 0);
    ck_assert_uint_eq(strspn(s, "0123456789abcdef"), strlen(s));
    ck_assert(eca_x509_has_dns_names(p.leaf, same, 2));
    ck_assert(!eca_x509_has_dns_names(p.leaf, fewer, 1));
    ck_assert(!eca_x509_has_dns_names(p.leaf, more, 3));
    ck_assert(!eca_x509_has_dns_names(p.inter, fewer, 1));
    ck_assert(eca_x509_matches_key(p.leaf, p.leaf_key));
    ck_assert(!eca_x509_matches_key(p.leaf, p.inter_key));
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_x509_to_der(p.leaf, &der, NULL), ECA_OK);
    d = der.data;
    back = d2i_X509(NULL, &d, (long)der.len);
    ck_assert_int_eq(X509_cmp(back, p.leaf), 0);
    X509_free(back);
    eca_buf_free(&der);
    test_pki_free(&p);
}
END_TEST

/* Write pem of x (and y) into dir/name; returns the path in out. */
static void
write_pem(const char *dir, const char *name, X509 *x, char *out, size_t len)
{
    struct eca_buf pem;

    eca_buf_init(&pem, 0);
    test_pki_append_pem(x, &pem);
    snprintf(out, len, "%s/%s", dir, name);
    ck_assert_int_eq(eca_fs_write_atomic(out, pem.data, pem.len, 0644, NULL), ECA_OK);
    eca_buf_free(&pem);
}

START_TEST(verify_good_expired_and_wrong_anchor)
{
    time_t now = time(NULL);
    struct test_pki_opts old = {
        .leaf_cn = "old.test", .leaf_not_before = now - 7200, .leaf_not_after = now - 3600};
    struct test_pki_opts other = {.ca_prefix = "Other"};
    struct test_pki p, e, q;
    struct eca_chain *c, *ce, *full;
    struct eca_err err = {0};
    char dir[256], root[512], qroot[512], inter[512];

    test_pki_make(NULL, &p);
    test_pki_make(&old, &e);
    test_pki_make(&other, &q);
    test_mkdtemp(dir, sizeof dir);
    write_pem(dir, "root.pem", p.root, root, sizeof root);
    write_pem(dir, "other.pem", q.root, qroot, sizeof qroot);
    write_pem(dir, "inter.pem", p.inter, inter, sizeof inter);
    c = chain_of(p.leaf, p.inter, NULL);
    full = chain_of(p.leaf, p.inter, p.root);
    ce = chain_of(e.leaf, e.inter, e.root);

    ck_assert_msg(eca_x509_verify(c, root, 0, &err) == ECA_OK, "%s", err.msg);
    ck_assert_msg(eca_x509_verify(full, NULL, 0, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_x509_verify(c, NULL, 0, &err), ECA_ETLS);
    ck_assert_msg(strstr(err.msg, "not self-signed") != NULL, "%s", err.msg);

    ck_assert_int_eq(eca_x509_verify(ce, NULL, 0, &err), ECA_ETLS);
    ck_assert_msg(strstr(err.msg, "certificate has expired") && strstr(err.msg, "CN=old.test"),
                  "%s", err.msg);
    ck_assert_msg(eca_x509_verify(ce, NULL, now - 5000, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_x509_verify(c, root, now - 2 * 86400, &err), ECA_ETLS);
    ck_assert_msg(strstr(err.msg, "not yet valid") != NULL, "%s", err.msg);

    ck_assert_int_eq(eca_x509_verify(c, qroot, 0, &err), ECA_ETLS);
    ck_assert_msg(strstr(err.msg, "unable to get local issuer certificate") != NULL, "%s", err.msg);
    /* An intermediate is no anchor: partial chains are off. */
    ck_assert_int_eq(eca_x509_verify(c, inter, 0, &err), ECA_ETLS);
    ck_assert_int_eq(eca_x509_verify(c, "/nonexistent/anchors.pem", 0, &err), ECA_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "trust anchors") != NULL, "%s", err.msg);

    eca_x509_chain_free(c);
    eca_x509_chain_free(ce);
    eca_x509_chain_free(full);
    test_pki_free(&p);
    test_pki_free(&e);
    test_pki_free(&q);
    test_rmdir(dir);
}
END_TEST

/* The checks before an install: validity with skew, links of the chain, anchors in memory. */
START_TEST(install_checks_validity_links_and_anchors)
{
    time_t now = time(NULL);
    struct test_pki_opts old = {.leaf_not_before = now - 7200, .leaf_not_after = now - 3600};
    struct test_pki_opts early = {.leaf_not_before = now + 3600, .leaf_not_after = now + 86400};
    struct test_pki_opts soon = {.leaf_not_before = now + 100, .leaf_not_after = now + 86400};
    struct test_pki_opts other = {.ca_prefix = "Other"};
    struct test_pki p, e, f, g, q, twin;
    struct eca_chain *c, *full, *forged, *wrong, *ce, *cg, *anchors;
    struct eca_err err = {0};

    test_pki_make(NULL, &p);
    test_pki_make(&old, &e);
    test_pki_make(&early, &f);
    test_pki_make(&soon, &g);
    test_pki_make(&other, &q);
    test_pki_make(NULL, &twin); /* same CA names as p, other keys */
    ck_assert_msg(eca_x509_check_validity(p.leaf, now, 300, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_x509_check_validity(e.leaf, now, 300, &err), ECA_EPROTO);
    ck_assert_msg(strstr(err.msg, "expired at") != NULL, "%s", err.msg);
    ck_assert_int_eq(eca_x509_check_validity(f.leaf, now, 300, &err), ECA_EPROTO);
    ck_assert_msg(strstr(err.msg, "is not valid before") != NULL, "%s", err.msg);
    ck_assert_msg(eca_x509_check_validity(g.leaf, now, 300, &err) == ECA_OK, "%s", err.msg);

    c = chain_of(p.leaf, p.inter, NULL);
    full = chain_of(p.leaf, p.inter, p.root);
    forged = chain_of(p.leaf, twin.inter, NULL);
    wrong = chain_of(p.leaf, q.inter, NULL);
    ck_assert_msg(eca_x509_chain_check_links(c, &err) == ECA_OK, "%s", err.msg);
    ck_assert_msg(eca_x509_chain_check_links(full, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_x509_chain_check_links(forged, &err), ECA_EPROTO);
    ck_assert_msg(strstr(err.msg, "is not signed by the next") != NULL, "%s", err.msg);
    ck_assert_int_eq(eca_x509_chain_check_links(wrong, &err), ECA_EPROTO);

    anchors = chain_of(p.root, NULL, NULL);
    ck_assert_msg(eca_x509_verify_with(c, anchors, 0, &err) == ECA_OK, "%s", err.msg);
    eca_x509_chain_free(anchors);
    anchors = chain_of(p.inter, NULL, NULL); /* an intermediate alone is enough here */
    ck_assert_msg(eca_x509_verify_with(c, anchors, 0, &err) == ECA_OK, "%s", err.msg);
    eca_x509_chain_free(anchors);
    anchors = chain_of(twin.inter, twin.root, NULL); /* same names, other keys */
    ck_assert_int_eq(eca_x509_verify_with(forged, anchors, 0, &err), ECA_ETLS);
    eca_x509_chain_free(anchors);
    anchors = chain_of(q.root, q.inter, NULL);
    ck_assert_int_eq(eca_x509_verify_with(c, anchors, 0, &err), ECA_ETLS);
    eca_x509_chain_free(anchors);
    ce = chain_of(e.leaf, e.inter, NULL);
    anchors = chain_of(e.root, NULL, NULL);
    ck_assert_int_eq(eca_x509_verify_with(ce, anchors, 0, &err), ECA_ETLS);
    ck_assert_msg(strstr(err.msg, "certificate has expired") != NULL, "%s", err.msg);
    eca_x509_chain_free(anchors);
    /* Within the skew: verified at the leaf's notBefore. */
    cg = chain_of(g.leaf, g.inter, NULL);
    anchors = chain_of(g.root, NULL, NULL);
    ck_assert_int_eq(eca_x509_verify_with(cg, anchors, now, &err), ECA_ETLS);
    ck_assert_msg(eca_x509_verify_with(cg, anchors, now + 100, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_x509_verify_with(cg, NULL, 0, &err), ECA_EINVAL);

    eca_x509_chain_free(anchors);
    eca_x509_chain_free(cg);
    eca_x509_chain_free(ce);
    eca_x509_chain_free(c);
    eca_x509_chain_free(full);
    eca_x509_chain_free(forged);
    eca_x509_chain_free(wrong);
    test_pki_free(&p);
    test_pki_free(&e);
    test_pki_free(&f);
    test_pki_free(&g);
    test_pki_free(&q);
    test_pki_free(&twin);
}
END_TEST

START_TEST(subject_matches_csr)
{
    struct test_pki p;
    struct eca_buf same, other;
    char subj[256];

    test_pki_make(NULL, &p);
    eca_x509_subject(p.leaf, subj, sizeof subj);
    eca_buf_init(&same, 0);
    eca_buf_init(&other, 0);
    ck_assert_int_eq(eca_x509_csr_build(p.leaf_key, subj, NULL, 0, &same, NULL), ECA_OK);
    ck_assert_int_eq(eca_x509_csr_build(p.leaf_key, "CN=someone.else", NULL, 0, &other, NULL),
                     ECA_OK);
    ck_assert(eca_x509_subject_matches_csr(p.leaf, same.data, same.len));
    ck_assert(!eca_x509_subject_matches_csr(p.leaf, other.data, other.len));
    ck_assert(!eca_x509_subject_matches_csr(p.leaf, "junk", 4));
    eca_buf_free(&same);
    eca_buf_free(&other);
    test_pki_free(&p);
}
END_TEST

/* ---- IP addresses (RFC 8738) and wildcards in CSRs and name checks ---- */

static const struct {
    const char *s;
    int ip;
} ip_literals[] = {
    {"127.0.0.1", 1}, {"0.0.0.0", 1},      {"255.255.255.255", 1},
    {"::1", 1},       {"2001:db8::1", 1},  {"::ffff:1.2.3.4", 1},
    {"FE80::A", 1},   {"1.2.3", 0},        {"1.2.3.4.example", 0},
    {"01.2.3.4", 0},  {"256.1.1.1", 0},    {"1.2.3.4 ", 0},
    {"a.test", 0},    {"*.w.test", 0},     {"", 0},
    {"[::1]", 0},     {"fe80::1%eth0", 0}, {"1:2:3:4:5:6:7:8:9", 0},
    {"1..2.3", 0},    {"-1.2.3.4", 0},
};

START_TEST(is_ip_accepts_only_address_literals)
{
    ck_assert_msg(eca_x509_is_ip(ip_literals[_i].s) == ip_literals[_i].ip, "'%s'",
                  ip_literals[_i].s);
}
END_TEST

/* A certificate carrying the CSR's extensions (the SAN as the CSR built it), self-signed. */
static X509 *
cert_from_csr(X509_REQ *req, const struct eca_key *k)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    X509 *x = X509_new();

    ck_assert_ptr_nonnull(exts);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_set_subject_name(x, X509_REQ_get_subject_name(req));
    X509_set_issuer_name(x, X509_REQ_get_subject_name(req));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, eca_key_pkey(k));
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++)
        X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1);
    ck_assert_int_gt(X509_sign(x, eca_key_pkey(k), EVP_sha256()), 0);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return x;
}

START_TEST(csr_carries_addresses_as_ip_sans)
{
    static const char *const names[] = {"127.0.0.1", "*.w.test", "2001:db8::1"};
    static const char *const same[] = {"2001:DB8:0:0:0:0:0:1", "*.W.test", "127.0.0.1"};
    static const char *const fewer[] = {"127.0.0.1", "*.w.test"};
    static const char *const other_ip[] = {"127.0.0.2", "*.w.test", "2001:db8::1"};
    static const char *const base_name[] = {"127.0.0.1", "w.test", "2001:db8::1"};
    static const char *const ip_as_dns[] = {"127.0.0.1", "*.w.test", "2001:db8::1", "1.2.3.4"};
    static const char *const wild[] = {"*.w.test"};
    static const char *const only_ip[] = {"10.0.0.1"};
    struct eca_key *k = NULL;
    struct eca_buf der;
    X509_REQ *req;
    STACK_OF(X509_EXTENSION) * exts;
    GENERAL_NAMES *gens;
    const GENERAL_NAME *g;
    X509 *x;
    char s[512];

    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &k, NULL), ECA_OK);
    eca_buf_init(&der, 0);
    ck_assert_int_eq(eca_x509_csr_build(k, NULL, names, 3, &der, NULL), ECA_OK);
    req = parse_csr(&der);
    ck_assert_int_eq(X509_REQ_verify(req, eca_key_pkey(k)), 1);
    /* The CN is the first DNS name, never an address. */
    name_of(X509_REQ_get_subject_name(req), s, sizeof s);
    ck_assert_str_eq(s, "CN=*.w.test");
    exts = X509_REQ_get_extensions(req);
    gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
    ck_assert_int_eq(sk_GENERAL_NAME_num(gens), 3);
    g = sk_GENERAL_NAME_value(gens, 0);
    ck_assert_int_eq(g->type, GEN_IPADD);
    ck_assert_int_eq(ASN1_STRING_length(g->d.iPAddress), 4);
    ck_assert_mem_eq(ASN1_STRING_get0_data(g->d.iPAddress), "\x7f\0\0\x01", 4);
    g = sk_GENERAL_NAME_value(gens, 1);
    ck_assert_int_eq(g->type, GEN_DNS);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(g->d.dNSName), "*.w.test");
    g = sk_GENERAL_NAME_value(gens, 2);
    ck_assert_int_eq(g->type, GEN_IPADD);
    ck_assert_int_eq(ASN1_STRING_length(g->d.iPAddress), 16);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);

    /* Name checks over what such a CSR gets issued: addresses by value, DNS names by text. */
    x = cert_from_csr(req, k);
    ck_assert(eca_x509_has_names(x, same, 3));
    ck_assert(!eca_x509_has_names(x, fewer, 2));
    ck_assert(!eca_x509_has_names(x, other_ip, 3));
    ck_assert(!eca_x509_has_names(x, base_name, 3));
    ck_assert(!eca_x509_has_names(x, ip_as_dns, 4));
    /* The DNS-only check is unchanged: it sees the wildcard and ignores the addresses. */
    ck_assert(eca_x509_has_dns_names(x, wild, 1));
    eca_x509_dns_names(x, s, sizeof s);
    ck_assert_str_eq(s, "*.w.test");
    X509_free(x);
    X509_REQ_free(req);

    /* Addresses only: an empty subject, the SAN says it all. */
    eca_buf_reset(&der);
    ck_assert_int_eq(eca_x509_csr_build(k, NULL, only_ip, 1, &der, NULL), ECA_OK);
    req = parse_csr(&der);
    ck_assert_int_eq(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
    x = cert_from_csr(req, k);
    ck_assert(eca_x509_has_names(x, only_ip, 1));
    ck_assert(!eca_x509_has_names(x, wild, 1));
    X509_free(x);
    X509_REQ_free(req);
    eca_buf_free(&der);
    eca_key_free(k);
}
END_TEST

/* ---- end of IP addresses and wildcards ---- */

Suite *
x509_suite(void)
{
    Suite *s = suite_create("x509");
    TCase *tc = tcase_create("x509");

    tcase_set_timeout(tc, 10);
    tcase_add_loop_test(tc, csr_round_trip_subject_sans_signature, 0,
                        sizeof csr_curves / sizeof csr_curves[0]);
    tcase_add_test(tc, csr_default_subject_is_first_dns_name);
    tcase_add_loop_test(tc, is_ip_accepts_only_address_literals, 0,
                        sizeof ip_literals / sizeof ip_literals[0]);
    tcase_add_test(tc, csr_carries_addresses_as_ip_sans);
    tcase_add_loop_test(tc, csr_rejects_bad_subjects, 0, sizeof bad_csr / sizeof bad_csr[0]);
    tcase_add_test(tc, chain_parse_skips_junk_and_other_blocks);
    tcase_add_loop_test(tc, chain_parse_rejects_broken_pem, 0, sizeof bad_pem / sizeof bad_pem[0]);
    tcase_add_test(tc, chain_load_missing_file);
    tcase_add_test(tc, chain_order_puts_leaf_first);
    tcase_add_test(tc, chain_order_rejects_disconnected_set);
    tcase_add_test(tc, cert_facts);
    tcase_add_test(tc, verify_good_expired_and_wrong_anchor);
    tcase_add_test(tc, install_checks_validity_links_and_anchors);
    tcase_add_test(tc, subject_matches_csr);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(x509_suite)
