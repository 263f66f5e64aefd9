/* SPDX-License-Identifier: MIT */
/* Tests for est_pending: the state file (parse, format, refusals), the next try, and the files
 * kept in STATE_DIR (modes, load with key and CSR, removal). */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eca_fs.h"
#include "eca_test.h"
#include "est_pending.h"

START_TEST(parse_reads_what_format_writes)
{
    struct est_pending p = {1, 1767225600, 1767229200, 3600}, q;
    char text[128];
    size_t n = est_pending_format(&p, text, sizeof text);

    ck_assert_str_eq(text, "eca-est-pending 1 reenroll 1767225600 1767229200 3600\n");
    ck_assert_int_eq(est_pending_parse(text, n, &q), 0);
    ck_assert_int_eq(q.reenroll, 1);
    ck_assert_int_eq(q.since, 1767225600);
    ck_assert_int_eq(q.next, 1767229200);
    ck_assert_int_eq(q.retry_after, 3600);
    /* no trailing newline, and no Retry-After (-1) */
    ck_assert_int_eq(est_pending_parse("eca-est-pending 1 enroll 5 6 -1", 31, &q), 0);
    ck_assert_int_eq(q.reenroll, 0);
    ck_assert_int_eq(q.retry_after, -1);
}
END_TEST

static const char *const bad_states[] = {
    "",
    "eca-est-pending 2 enroll 5 6 7\n",
    "eca-est-pending 1 renew 5 6 7\n",
    "eca-est-pending 1 enroll 0 6 7\n",
    "eca-est-pending 1 enroll 5 0 7\n",
    "eca-est-pending 1 enroll 5 6 -2\n",
    "eca-est-pending 1 enroll 5 6\n",
    "eca-est-pending 1 enroll 5 6 7 trailing\n",
    "eca-est-pending 1 enroll 5 6 7\nmore\n",
    "eca-sched 1 0 0 0 -\n",
    "eca-est-pending 1 enroll x 6 7\n",
};

START_TEST(parse_refuses_anything_else)
{
    struct est_pending p;

    ck_assert_int_eq(est_pending_parse(bad_states[_i], strlen(bad_states[_i]), &p), -1);
}
END_TEST

START_TEST(parse_refuses_embedded_nul_and_huge_input)
{
    static const char nul[] = "eca-est-pending 1 enroll 5 6 7\n\0x";
    char big[1024];
    struct est_pending p;

    ck_assert_int_eq(est_pending_parse(nul, sizeof nul - 1, &p), -1);
    memset(big, ' ', sizeof big);
    ck_assert_int_eq(est_pending_parse(big, sizeof big, &p), -1);
}
END_TEST

START_TEST(next_try_follows_the_server_within_the_age_cap)
{
    const time_t since = 1000000, now = since + 100;

    ck_assert_int_eq(est_pending_next(since, now, 3600, 300, 72 * 3600), now + 3600);
    /* "retry now" (0, or a date gone by) must not become a request at every pass */
    ck_assert_int_eq(est_pending_next(since, now, 0, 300, 72 * 3600), now + 300);
    /* no (usable) Retry-After: the default */
    ck_assert_int_eq(est_pending_next(since, now, -1, 300, 72 * 3600), now + 300);
    /* never past the moment the request is given up */
    ck_assert_int_eq(est_pending_next(since, now, 86400, 300, 3600), since + 3600);
}
END_TEST

START_TEST(files_are_private_and_load_back)
{
    struct est_pending p = {0, 1767225600, 1767229200, 3600}, q;
    struct eca_key *key = NULL, *back = NULL;
    struct eca_buf csr, csr2;
    char dir[256], path[512];
    static const char *const suffixes[] = {".pending", ".pending.key", ".pending.csr"};
    struct eca_err err = {0};

    test_mkdtemp(dir, sizeof dir);
    eca_buf_init(&csr, 0);
    eca_buf_init(&csr2, 0);
    ck_assert_int_eq(eca_buf_append(&csr, "\x30\x03\x02\x01\x00", 5, NULL), ECA_OK);
    ck_assert_int_eq(est_pending_load(dir, "dev", &q, NULL, NULL, &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_key_generate(ECA_KEY_EC_P256, &key, NULL), ECA_OK);
    ck_assert_int_eq(est_pending_save(dir, "dev", &p, key, &csr, &err), ECA_OK);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/dev%s", dir, suffixes[i]);
        test_assert_private(path);
    }
    ck_assert_int_eq(est_pending_load(dir, "dev", &q, &back, &csr2, &err), ECA_OK);
    ck_assert_int_eq(q.next, p.next);
    ck_assert_uint_eq(csr2.len, 5);
    ck_assert_mem_eq(csr2.data, csr.data, 5);
    ck_assert_int_eq(EVP_PKEY_eq(eca_key_pkey(key), eca_key_pkey(back)), 1);
    /* the state alone can be updated; the key and CSR stay */
    p.next += 60;
    ck_assert_int_eq(est_pending_save(dir, "dev", &p, NULL, NULL, &err), ECA_OK);
    ck_assert_int_eq(est_pending_load(dir, "dev", &q, NULL, NULL, &err), ECA_OK);
    ck_assert_int_eq(q.next, p.next);
    /* a state without its key is unusable, said so */
    snprintf(path, sizeof path, "%s/dev.pending.key", dir);
    ck_assert_int_eq(eca_fs_remove(path, NULL), ECA_OK);
    eca_key_free(back);
    back = NULL;
    ck_assert_int_eq(est_pending_load(dir, "dev", &q, &back, &csr2, &err), ECA_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "dev.pending.key"));
    est_pending_remove(dir, "dev");
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/dev%s", dir, suffixes[i]);
        ck_assert(!eca_fs_exists(path));
    }
    /* a state file that is not one */
    snprintf(path, sizeof path, "%s/dev.pending", dir);
    ck_assert_int_eq(eca_fs_write_atomic(path, "junk\n", 5, 0600, NULL), ECA_OK);
    ck_assert_int_eq(est_pending_load(dir, "dev", &q, NULL, NULL, &err), ECA_EPARSE);
    est_pending_remove(dir, "dev");
    eca_key_free(key);
    eca_buf_free(&csr);
    eca_buf_free(&csr2);
    test_rmdir(dir);
}
END_TEST

static Suite *
est_pending_suite(void)
{
    Suite *s = suite_create("est_pending");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, parse_reads_what_format_writes);
    tcase_add_loop_test(tc, parse_refuses_anything_else, 0,
                        (int)(sizeof bad_states / sizeof bad_states[0]));
    tcase_add_test(tc, parse_refuses_embedded_nul_and_huge_input);
    tcase_add_test(tc, next_try_follows_the_server_within_the_age_cap);
    tcase_add_test(tc, files_are_private_and_load_back);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(est_pending_suite)
