/* SPDX-License-Identifier: MIT */
/*
 * Tests for eca_crlcheck: canned CRLs over a fake transport; kept copy, broken, stale, forged;
 * and the downloads shared through eca_crlmemo.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "eca_buf.h"
#include "eca_crlcheck.h"
#include "eca_crlmemo.h"
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

/* ---- eca_crlmemo through eca_crlcheck_run: certificates naming one URL share a download
 * within the window (refresh period, nextUpdate); a failed or unverified download is not kept;
 * a CRL that changed is seen after the window; workers at once download once. ---- */

#define REFRESH 3600L

static X509 *leaf1, *leaf2;
static struct eca_crlmemo *memo;
static char cache1[512], cache2[512];
static time_t t0;

static void
memo_setup(void)
{
    EVP_PKEY *lk = pki_key();

    setup();
    /* Two certificates of one CA, both naming its CRL. */
    leaf1 = pki_cert("one", lk, ca, ca_key, 0, 0x1111, 3600, URL);
    leaf2 = pki_cert("two", lk, ca, ca_key, 0, 0x2222, 3600, URL);
    EVP_PKEY_free(lk);
    memo = eca_crlmemo_new(REFRESH);
    ck_assert_ptr_nonnull(memo);
    snprintf(cache1, sizeof cache1, "%s/one.crl", dir);
    snprintf(cache2, sizeof cache2, "%s/two.crl", dir);
    t0 = time(NULL);
}

static void
memo_teardown(void)
{
    eca_crlmemo_free(memo);
    X509_free(leaf1);
    X509_free(leaf2);
    teardown();
}

/* Check leaf (1 or 2) at t0 + dt through the memo. */
static enum eca_rc
memo_run(int which, long dt, struct eca_crlcheck_out *out, struct eca_err *err)
{
    const struct eca_chain *const sets[] = {bundle};
    struct eca_crlcheck_in in = {which == 1 ? "one" : "two",
                                 URL,
                                 which == 1 ? cache1 : cache2,
                                 sets,
                                 1,
                                 86400,
                                 t0 + dt,
                                 memo};

    eca_err_clear(err);
    return eca_crlcheck_run(&in, h, which == 1 ? leaf1 : leaf2, out, err);
}

START_TEST(two_certificates_naming_one_url_download_it_once)
{
    const long listed[] = {0x2222};
    struct eca_fs_id id, again;
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    push_crl(pki_crl(ca, ca_key, listed, 1, -60, 7200));
    logcap_start();
    ck_assert_msg(memo_run(1, 0, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert(!logcap_contains("\"event\":\"crl_reused\""));
    /* The second certificate: no request, its own verdict from the same CRL. */
    ck_assert_msg(memo_run(2, 5, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
    ck_assert_int_eq(out.from_memo, 1);
    ck_assert_uint_eq(out.entries, 1);
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    ck_assert(logcap_contains("\"event\":\"crl_reused\""));
    ck_assert(logcap_contains("\"age_s\":5"));
    logcap_stop();
    /* Each certificate still has its own kept copy. */
    ck_assert(eca_fs_exists(cache1));
    ck_assert(eca_fs_exists(cache2));
    ck_assert_int_eq(eca_fs_identity(cache1, &id, NULL), ECA_OK);
    /* And the first again, later within the window: still no request, and its copy, which
     * holds these bytes already, is not written again. */
    ck_assert_int_eq(memo_run(1, REFRESH - 1, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    ck_assert_int_eq(eca_fs_identity(cache1, &again, NULL), ECA_OK);
    ck_assert(eca_fs_id_equal(&id, &again));
}
END_TEST

/* The shared download remembers the CA that verified it; a certificate whose issuer is another
 * CA of the same name (a forged one) still has the signature checked, and fails. */
START_TEST(a_shared_download_is_verified_again_for_another_issuer)
{
    const long none[] = {99};
    struct eca_chain *forged = NULL;
    struct eca_crlmemo_ref *ref = NULL;
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    push_crl(pki_crl(ca, ca_key, none, 1, -60, 7200));
    ck_assert_msg(memo_run(1, 0, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(eca_crlmemo_take(memo, URL, t0 + 1, &ref, &err), ECA_CRLMEMO_HIT);
    ck_assert_ptr_nonnull(eca_crlmemo_signer(ref));
    ck_assert_int_eq(X509_cmp(eca_crlmemo_signer(ref), ca), 0);
    eca_crlmemo_release(memo, ref);
    ck_assert_int_eq(eca_x509_chain_from_certs(forged_ca, NULL, &forged, NULL), ECA_OK);
    {
        const struct eca_chain *const sets[] = {forged};
        struct eca_crlcheck_in in = {"two", URL, cache2, sets, 1, 86400, t0 + 2, memo};

        ck_assert_int_eq(eca_crlcheck_run(&in, h, leaf2, &out, &err), ECA_ECRYPTO);
        ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
        ck_assert_int_eq(out.from_memo, 1);
    }
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    eca_x509_chain_free(forged);
}
END_TEST

START_TEST(after_the_refresh_period_a_new_download_sees_a_newly_listed_serial)
{
    const long none[] = {99}, listed[] = {99, 0x1111};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    push_crl(pki_crl(ca, ca_key, none, 1, -60, 3 * REFRESH));
    ck_assert_int_eq(memo_run(1, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    /* The CA lists the serial: not seen within the window (the memo's download)... */
    push_crl(pki_crl(ca, ca_key, listed, 2, -60, 3 * REFRESH));
    ck_assert_int_eq(memo_run(1, 60, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    /* ...and seen by the first check after it. */
    ck_assert_msg(memo_run(1, REFRESH, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert_uint_eq(out.entries, 2);
    ck_assert_uint_eq(fake_http_nreq(f), 2);
    ck_assert_uint_eq(fake_http_pending(f), 0);
}
END_TEST

/* The end of a pass empties the memo: a newly listed serial is seen at the next pass. */
START_TEST(a_cleared_memo_downloads_again)
{
    const long none[] = {99}, listed[] = {99, 0x1111};
    struct eca_crlcheck_out out;
    struct eca_crlmemo_ref *ref = NULL;
    struct eca_err err = {0};

    push_crl(pki_crl(ca, ca_key, none, 1, -60, 3 * REFRESH));
    ck_assert_int_eq(memo_run(1, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    /* A download still held by a check outlives the clear (freed at its release). */
    ck_assert_int_eq(eca_crlmemo_take(memo, URL, t0 + 1, &ref, &err), ECA_CRLMEMO_HIT);
    eca_crlmemo_clear(memo);
    ck_assert_ptr_nonnull(eca_crlmemo_crl(ref));
    eca_crlmemo_release(memo, ref);
    push_crl(pki_crl(ca, ca_key, listed, 2, -60, 3 * REFRESH));
    ck_assert_msg(memo_run(1, 60, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_REVOKED);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert_uint_eq(fake_http_nreq(f), 2);
    eca_crlmemo_clear(NULL);
}
END_TEST

START_TEST(past_next_update_a_new_download)
{
    const long none[] = {99};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    /* nextUpdate in 2 minutes: the window ends there, well before the refresh period. */
    push_crl(pki_crl(ca, ca_key, none, 1, -60, 120));
    ck_assert_int_eq(memo_run(1, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(memo_run(2, 100, &out, &err), ECA_OK);
    ck_assert_int_eq(out.from_memo, 1);
    ck_assert_uint_eq(fake_http_nreq(f), 1);
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    ck_assert_msg(memo_run(2, 130, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert_uint_eq(fake_http_nreq(f), 2);
}
END_TEST

START_TEST(a_failed_download_is_not_kept_the_next_check_tries_again)
{
    const long none[] = {99};
    const struct eca_chain *const sets[] = {bundle};
    struct eca_crlcheck_in plain = {"one", URL, cache1, sets, 1, 86400, t0, NULL};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    /* No copy anywhere: unavailable, and the next certificate asks again. */
    fake_http_push_error(f, ECA_ENET, "connection refused");
    ck_assert_int_eq(memo_run(2, 0, &out, &err), ECA_ENET);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_UNAVAILABLE);
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    ck_assert_msg(memo_run(2, 1, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert_uint_eq(fake_http_nreq(f), 2);

    /* A kept copy used after a failure is not shared either: the next check downloads. */
    eca_crlmemo_free(memo);
    memo = eca_crlmemo_new(REFRESH);
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    ck_assert_int_eq(eca_crlcheck_run(&plain, h, leaf1, &out, &err), ECA_OK); /* the copy */
    fake_http_push_raw(f, "HTTP/1.1 503 Service Unavailable\n\n");
    ck_assert_msg(memo_run(1, 2, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.from_copy, 1);
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    ck_assert_int_eq(memo_run(2, 3, &out, &err), ECA_OK);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert_uint_eq(fake_http_nreq(f), 5);
}
END_TEST

START_TEST(an_unverified_download_is_not_kept)
{
    const long listed[] = {0x1111}, none[] = {99};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    push_crl(pki_crl(forged_ca, other_key, listed, 1, -60, REFRESH));
    ck_assert_int_eq(memo_run(1, 0, &out, &err), ECA_ECRYPTO);
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    ck_assert_msg(memo_run(1, 1, &out, &err) == ECA_OK, "%s", err.msg);
    ck_assert_int_eq(out.status, ECA_CRLCHECK_GOOD);
    ck_assert_uint_eq(fake_http_nreq(f), 2);
}
END_TEST

START_TEST(no_memo_or_a_zero_period_downloads_every_time)
{
    const long none[] = {99};
    struct eca_crlcheck_out out;
    struct eca_err err = {0};

    ck_assert_ptr_null(eca_crlmemo_new(0));
    eca_crlmemo_free(memo);
    memo = NULL;
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    push_crl(pki_crl(ca, ca_key, none, 1, -60, REFRESH));
    ck_assert_int_eq(memo_run(1, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(memo_run(2, 0, &out, &err), ECA_OK);
    ck_assert_int_eq(out.from_memo, 0);
    ck_assert_uint_eq(fake_http_nreq(f), 2);
}
END_TEST

START_TEST(more_urls_than_entries_evict_the_oldest)
{
    const long none[] = {99};
    struct eca_crlmemo_ref *ref = NULL;
    char *pem = pki_crl_pem(pki_crl(ca, ca_key, none, 1, -60, REFRESH)), url[64];

    for (int i = 0; i <= ECA_CRLMEMO_MAX_ENTRIES; i++) {
        snprintf(url, sizeof url, "http://h/%d.crl", i);
        ck_assert_int_eq(eca_crlmemo_take(memo, url, t0 + i, &ref, NULL), ECA_CRLMEMO_DOWNLOAD);
        eca_crlmemo_put(memo, url, pem, strlen(pem), t0 + i, NULL, NULL);
    }
    /* The first (oldest) went; the others, and the newest, are there. */
    ck_assert_int_eq(eca_crlmemo_take(memo, "http://h/0.crl", t0 + 20, &ref, NULL),
                     ECA_CRLMEMO_DOWNLOAD);
    eca_crlmemo_put(memo, "http://h/0.crl", NULL, 0, t0 + 20, NULL, NULL);
    for (int i = 1; i <= ECA_CRLMEMO_MAX_ENTRIES; i++) {
        snprintf(url, sizeof url, "http://h/%d.crl", i);
        ck_assert_int_eq(eca_crlmemo_take(memo, url, t0 + 20, &ref, NULL), ECA_CRLMEMO_HIT);
        ck_assert_uint_eq(eca_crl_count(eca_crlmemo_crl(ref)), 1);
        eca_crlmemo_release(memo, ref);
    }
    free(pem);
}
END_TEST

/* ---- workers at once: one download, the others wait for it ---- */

struct slow {
    pthread_mutex_t mu;
    char *body; /* NULL: the server does not answer */
    int calls;
};

static enum eca_rc
slow_perform(void *ctx, const struct eca_http_req *req, struct eca_http_resp *resp,
             struct eca_err *err)
{
    struct slow *s = ctx;

    (void)req;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    pthread_mutex_unlock(&s->mu);
    usleep(200 * 1000); /* long enough for the other workers to ask meanwhile */
    if (s->body == NULL)
        return eca_err_set(err, ECA_ETIMEOUT, "timed out");
    resp->status = 200;
    return eca_buf_append(&resp->body, s->body, strlen(s->body), err);
}

static void
slow_free(void *ctx)
{
    (void)ctx; /* shared by the workers' transports; the test owns it */
}

struct worker {
    struct eca_http *http;
    X509 *leaf;
    enum eca_rc rc;
    struct eca_crlcheck_out out;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    const struct eca_chain *const sets[] = {bundle};
    struct eca_crlcheck_in in = {"w", URL, NULL, sets, 1, 86400, t0, memo};
    struct eca_err err = {0};

    w->rc = eca_crlcheck_run(&in, w->http, w->leaf, &w->out, &err);
    return NULL;
}

/* Six workers at once check certificates naming URL over transports answering body. */
static void
workers(struct slow *s, struct worker w[6])
{
    static const struct eca_http_ops ops = {slow_perform, slow_free};
    pthread_t t[6];

    for (int i = 0; i < 6; i++) {
        memset(&w[i], 0, sizeof w[i]);
        ck_assert_int_eq(eca_http_new(&ops, s, &w[i].http, NULL), ECA_OK);
        w[i].leaf = i % 2 ? leaf2 : leaf1;
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        eca_http_free(w[i].http);
    }
}

START_TEST(workers_at_once_download_once)
{
    const long listed[] = {0x2222};
    struct slow s = {.calls = 0};
    struct worker w[6];
    int memos = 0;

    pthread_mutex_init(&s.mu, NULL);
    s.body = pki_crl_pem(pki_crl(ca, ca_key, listed, 1, -60, REFRESH));
    workers(&s, w);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(w[i].rc, ECA_OK);
        ck_assert_int_eq(w[i].out.status, i % 2 ? ECA_CRLCHECK_REVOKED : ECA_CRLCHECK_GOOD);
        memos += w[i].out.from_memo;
    }
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(memos, 5);
    free(s.body);
    pthread_mutex_destroy(&s.mu);
}
END_TEST

/* A server that hangs costs the waiting workers one timeout together, not one each in turn;
 * the next check tries again. A download that does not verify is not shared: each tries. */
START_TEST(workers_at_once_share_a_failed_download_not_an_unverified_one)
{
    const long none[] = {99};
    struct slow s = {.calls = 0};
    struct worker w[6];

    pthread_mutex_init(&s.mu, NULL);
    s.body = NULL;
    workers(&s, w);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(w[i].rc, ECA_ETIMEOUT);
        ck_assert_int_eq(w[i].out.status, ECA_CRLCHECK_UNAVAILABLE);
    }
    ck_assert_int_eq(s.calls, 1);
    s.body = pki_crl_pem(pki_crl(forged_ca, other_key, none, 1, -60, REFRESH));
    workers(&s, w);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(w[i].rc, ECA_ECRYPTO);
    ck_assert_int_eq(s.calls, 1 + 6);
    free(s.body);
    pthread_mutex_destroy(&s.mu);
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
    tc = tcase_create("memo");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, memo_setup, memo_teardown);
    tcase_add_test(tc, two_certificates_naming_one_url_download_it_once);
    tcase_add_test(tc, a_shared_download_is_verified_again_for_another_issuer);
    tcase_add_test(tc, after_the_refresh_period_a_new_download_sees_a_newly_listed_serial);
    tcase_add_test(tc, a_cleared_memo_downloads_again);
    tcase_add_test(tc, past_next_update_a_new_download);
    tcase_add_test(tc, a_failed_download_is_not_kept_the_next_check_tries_again);
    tcase_add_test(tc, an_unverified_download_is_not_kept);
    tcase_add_test(tc, no_memo_or_a_zero_period_downloads_every_time);
    tcase_add_test(tc, more_urls_than_entries_evict_the_oldest);
    tcase_add_test(tc, workers_at_once_download_once);
    tcase_add_test(tc, workers_at_once_share_a_failed_download_not_an_unverified_one);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(crlcheck_suite)
