/* SPDX-License-Identifier: MIT */
/* Tests for eca_crlcheck: canned CRLs over a fake transport; kept copy, broken, stale, forged. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "eca_buf.h"
#include "eca_crlcheck.h"
#include "eca_fs.h"
#include "eca_x509.h"
#include "pki_helpers.h"
#include "eca_test.h"

#define URL "http://127.0.0.1:1/ca.crl"

static EVP_PKEY *ca_key, *other_key;
static X509 *ca, *forged_ca, *stranger_ca, *leaf;
static struct eca_chain *installed, *bundle;
static struct fake_http *f;
static struct eca_http *h;
static char dir[256], cache[512];

static void
setup(void)
{
    EVP_PKEY *lk = pki_key();

    ca_key = pki_key();
    other_key = pki_key();
    ca = pki_cert("Test CA", ca_key, NULL, ca_key, 1, 1, 3600, NULL);
    /* Same name, other key: a forged CRL fails on the signature. */
    forged_ca = pki_cert("Test CA", other_key, NULL, other_key, 1, 1, 3600, NULL);
    /* Another CA altogether: its CRL says nothing about our serials. */
    stranger_ca = pki_cert("Other CA", other_key, NULL, other_key, 1, 2, 3600, NULL);
    leaf = pki_cert("dev", lk, ca, ca_key, 0, 0x1234, 3600, URL);
    EVP_PKEY_free(lk);
    ck_assert_int_eq(eca_x509_chain_from_certs(leaf, NULL, &installed, NULL), ECA_OK);
    ck_assert_int_eq(eca_x509_chain_from_certs(ca, NULL, &bundle, NULL), ECA_OK);
    h = fake_http_new(&f);
    test_mkdtemp(dir, sizeof dir);
    snprintf(cache, sizeof cache, "%s/dev.crl", dir);
}

static void
teardown(void)
{
    eca_http_free(h);
    eca_x509_chain_free(installed);
    eca_x509_chain_free(bundle);
    X509_free(ca);
    X509_free(forged_ca);
    X509_free(stranger_ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
    test_rmdir(dir);
}

/* Queue a 200 whose body is the CRL in PEM (the fake transport takes text). */
static void
push_crl(X509_CRL *x)
{
    char *raw = pki_crl_response(x);

    fake_http_push_raw(f, raw);
    free(raw);
}

static enum eca_rc
run(const struct eca_chain *first, const struct eca_chain *second, long max_age,
    struct eca_crlcheck_out *out, struct eca_err *err)
{
    const struct eca_chain *const sets[] = {first, second};
    struct eca_crlcheck_in in = {"dev", URL, cache, sets, 2, max_age, time(NULL), NULL};

    return eca_crlcheck_run(&in, h, leaf, out, err);
}

START_TEST(good_then_revoked_and_the_copy_is_kept)
{
    const long none[] = {99}, ours[] = {7, 0x1234};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    push_crl(pki_crl(ca, ca_key, none, 1, -60, 3600));
    ck_assert_msg(run(installed, bundle, 86400, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert_uint_eq(out.entries, 1);
    ck_assert_int_eq(out.from_copy, 0);
    ck_assert(eca_fs_exists(cache));
    ck_assert_str_eq(fake_http_req(f, 0)->method, "GET");
    ck_assert_str_eq(fake_http_req(f, 0)->url, URL);

    push_crl(pki_crl(ca, ca_key, ours, 2, -60, 3600));
    ck_assert_msg(run(installed, bundle, 86400, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
    ck_assert_uint_eq(out.entries, 2);
    ck_assert_uint_eq(fake_http_pending(f), 0);
}
END_TEST

START_TEST(unreachable_uses_the_kept_copy_else_unavailable)
{
    const long ours[] = {0x1234};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    /* No copy yet: unavailable, naming the URL. */
    logcap_start();
    fake_http_push_error(f, ECA_ENET, "connection refused");
    ck_assert_int_eq(run(installed, bundle, 0, &out, &err), ECA_ENET);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no kept copy"));
    ck_assert(logcap_contains("\"event\":\"crl_fetch_failed\""));
    logcap_stop();

    push_crl(pki_crl(ca, ca_key, ours, 1, -60, 3600));
    ck_assert_int_eq(run(installed, bundle, 0, &out, &err), ECA_OK);
    /* Now the server answers 404: the kept copy still says revoked. */
    fake_http_push_raw(f, "HTTP/1.1 404 Not Found\n\n");
    ck_assert_msg(run(installed, bundle, 0, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.from_copy, 1);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
}
END_TEST

START_TEST(broken_download_is_unavailable_and_keeps_the_good_copy)
{
    const long none[] = {99};
    struct eca_crlcheck_out out;
    struct eca_buf kept;
    struct eca_err err = {0};
    size_t len;

    push_crl(pki_crl(ca, ca_key, none, 1, -60, 3600));
    ck_assert_int_eq(run(installed, bundle, 0, &out, &err), ECA_OK);
    eca_buf_init(&kept, 0);
    ck_assert_int_eq(eca_fs_read(cache, 1 << 20, &kept, NULL), ECA_OK);
    len = kept.len;
    eca_buf_free(&kept);

    fake_http_push_raw(f, "HTTP/1.1 200 OK\n\nthis is no CRL");
    ck_assert_int_ne(run(installed, bundle, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    /* A forged one (right name, wrong key) does not replace it either. */
    push_crl(pki_crl(forged_ca, other_key, NULL, 0, -60, 3600));
    ck_assert_int_eq(run(installed, bundle, 0, &out, &err), ECA_ECRYPTO);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    eca_buf_init(&kept, 0);
    ck_assert_int_eq(eca_fs_read(cache, 1 << 20, &kept, NULL), ECA_OK);
    ck_assert_uint_eq(kept.len, len);
    eca_buf_free(&kept);
}
END_TEST

START_TEST(stale_crls_are_unavailable)
{
    const long ours[] = {0x1234};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    /* Past its nextUpdate, and listing us: still not believed. */
    push_crl(pki_crl(ca, ca_key, ours, 1, -7200, -3600));
    ck_assert_int_eq(run(installed, bundle, 0, &out, &err), ECA_EPROTO);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    /* Older than max_age (no nextUpdate). */
    push_crl(pki_crl(ca, ca_key, ours, 1, -7200, 0));
    ck_assert_int_eq(run(installed, bundle, 3600, &out, &err), ECA_EPROTO);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    /* The same CRL within max_age is fine. */
    push_crl(pki_crl(ca, ca_key, ours, 1, -7200, 0));
    ck_assert_int_eq(run(installed, bundle, 86400, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
}
END_TEST

START_TEST(the_issuer_comes_from_the_candidate_sets)
{
    const long ours[] = {0x1234};
    struct eca_chain *strangers = NULL;
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    /* Leaf alone installed, no other set: nothing to verify with. */
    push_crl(pki_crl(ca, ca_key, ours, 1, -60, 3600));
    ck_assert_int_eq(run(installed, NULL, 0, &out, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "Test CA"));
    /* The issuer in the second set (a CA bundle). */
    push_crl(pki_crl(ca, ca_key, ours, 1, -60, 3600));
    ck_assert_int_eq(run(installed, bundle, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
    /* Another CA's CRL, though it verifies against its own certificate and lists our serial:
     * it is not our issuer's. */
    ck_assert_int_eq(eca_x509_chain_from_certs(stranger_ca, NULL, &strangers, NULL), ECA_OK);
    ck_assert_int_eq(eca_x509_chain_push(strangers, ca, NULL), ECA_OK);
    push_crl(pki_crl(stranger_ca, other_key, ours, 1, -60, 3600));
    ck_assert_int_eq(run(strangers, NULL, 0, &out, &err), ECA_EPROTO);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    eca_x509_chain_free(strangers);
}
END_TEST

START_TEST(no_cache_path_and_bad_arguments)
{
    const long none[] = {99};
    const struct eca_chain *const sets[] = {bundle};
    struct eca_crlcheck_in in = {NULL, URL, NULL, sets, 1, 0, time(NULL), NULL};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    push_crl(pki_crl(ca, ca_key, none, 1, -60, 3600));
    ck_assert_int_eq(eca_crlcheck_run(&in, h, leaf, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert(!eca_fs_exists(cache));
    fake_http_push_error(f, ECA_ETIMEOUT, "timed out");
    ck_assert_int_eq(eca_crlcheck_run(&in, h, leaf, &out, &err), ECA_ETIMEOUT);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    in.url = NULL;
    ck_assert_int_eq(eca_crlcheck_run(&in, h, leaf, &out, &err), ECA_EINVAL);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
}
END_TEST

/* The verdict both daemons log: checked (info, or warn naming the action), unavailable
 * (fail open unless fail_closed), and a failure before the check counts as unavailable. */
START_TEST(verdict_logs_and_decides)
{
    struct eca_crlcheck_out good = {ECA_CRLCHECK_GOOD, 3, 0, 0},
                            listed = {ECA_CRLCHECK_REVOKED, 4, 0, 0};
    struct eca_crlcheck_out none = {ECA_CRLCHECK_UNAVAILABLE, 0, 0, 0};
    struct eca_err err = {0};

    logcap_start();
    ck_assert_int_eq(
        eca_crlcheck_verdict("web", "http://ca/crl", "0a", ECA_OK, &good, &err, 1, "renewing now"),
        0);
    ck_assert(logcap_contains("\"event\":\"crl_checked\",\"cert\":\"web\""));
    ck_assert(logcap_contains("\"revoked\":false,\"entries\":3"));
    ck_assert(!logcap_contains("renewing now"));
    ck_assert_int_eq(eca_crlcheck_verdict("web", "http://ca/crl", "0a", ECA_OK, &listed, &err, 0,
                                          "renewing now"),
                     1);
    ck_assert(logcap_contains("\"revoked\":true,\"entries\":4"));
    ck_assert(logcap_contains("the installed certificate is revoked: renewing now"));
    eca_err_set(&err, ECA_EPROTO, "CRL: stale");
    ck_assert_int_eq(eca_crlcheck_verdict("web", "http://ca/crl", "0a", ECA_EPROTO, &none, &err, 0,
                                          "renewing now"),
                     0);
    ck_assert(logcap_contains("\"event\":\"crl_unavailable\""));
    ck_assert(logcap_contains("\"fail_closed\":false"));
    ck_assert(logcap_contains("CRL: stale"));
    ck_assert_int_eq(
        eca_crlcheck_verdict("web", "", "0a", ECA_ENOTFOUND, &none, &err, 1, "renewing now"), 1);
    ck_assert(logcap_contains("treating the certificate as revoked"));
    logcap_stop();
}
END_TEST

static Suite *
crlcheck_suite(void)
{
    Suite *s = suite_create("crlcheck");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, good_then_revoked_and_the_copy_is_kept);
    tcase_add_test(tc, unreachable_uses_the_kept_copy_else_unavailable);
    tcase_add_test(tc, broken_download_is_unavailable_and_keeps_the_good_copy);
    tcase_add_test(tc, stale_crls_are_unavailable);
    tcase_add_test(tc, the_issuer_comes_from_the_candidate_sets);
    tcase_add_test(tc, no_cache_path_and_bad_arguments);
    tcase_add_test(tc, verdict_logs_and_decides);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(crlcheck_suite)
