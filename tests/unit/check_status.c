/* SPDX-License-Identifier: MIT */
/* Tests for eca_status: exact JSON, text report, the atomically written status file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eca_fs.h"
#include "eca_status.h"
#include "eca_test.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static void
two(struct eca_status_cert *v)
{
    memset(v, 0, 2 * sizeof(*v));
    snprintf(v[0].name, sizeof v[0].name, "web");
    v[0].present = 1;
    snprintf(v[0].subject, sizeof v[0].subject, "CN=a.example/x \"q\"");
    snprintf(v[0].serial, sizeof v[0].serial, "0a1b");
    v[0].not_before = T0 - 86400;
    v[0].not_after = T0 + 3 * 86400;
    v[0].next_action = T0 + 3600;
    v[0].next_reason = "check";
    v[0].renew_at = T0 + 86400;
    v[0].last_success = T0 - 86400;
    snprintf(v[1].name, sizeof v[1].name, "mqtt");
    snprintf(v[1].problem, sizeof v[1].problem, "certificate file missing");
    v[1].next_action = T0 + 60;
    v[1].next_reason = "retry";
    v[1].failures = 2;
    snprintf(v[1].last_rc, sizeof v[1].last_rc, "ENET");
    snprintf(v[1].last_error, sizeof v[1].last_error, "connect: refused");
}

START_TEST(json_is_exact)
{
    struct eca_status_cert v[2];
    struct eca_buf b;
    static const char want[] =
        "{\"agent\":\"eca-test\",\"version\":\"1.0\",\"generated\":\"2026-01-01T00:00:00Z\","
        "\"certificates\":[{\"name\":\"web\",\"present\":true,\"subject\":\"CN=a.example/x "
        "\\\"q\\\"\",\"serial\":\"0a1b\",\"not_before\":\"2025-12-31T00:00:00Z\",\"not_after\":"
        "\"2026-01-04T00:00:00Z\",\"lifetime_left_pct\":75,\"next_action\":"
        "\"2026-01-01T01:00:00Z\",\"next_reason\":\"check\",\"renew_at\":"
        "\"2026-01-02T00:00:00Z\",\"failures\":0,\"last_error_rc\":null,\"last_error\":null,"
        "\"last_success\":\"2025-12-31T00:00:00Z\",\"problem\":null,\"pending_since\":null,"
        "\"pending_next\":null,\"revoked\":true,\"profile\":\"tlsserver\"},{\"name\":\"mqtt\","
        "\"present\":false,\"subject\":null,\"serial\":null,\"not_before\":null,\"not_after\":"
        "null,\"lifetime_left_pct\":0,\"next_action\":\"2026-01-01T00:01:00Z\",\"next_reason\":"
        "\"retry\",\"renew_at\":null,\"failures\":2,\"last_error_rc\":\"ENET\",\"last_error\":"
        "\"connect: refused\",\"last_success\":null,\"problem\":\"certificate file missing\","
        "\"pending_since\":\"2025-12-31T00:00:00Z\",\"pending_next\":\"2026-01-01T01:00:00Z\","
        "\"revoked\":false,\"profile\":null}]}\n";

    two(v);
    v[0].revoked = 1;
    snprintf(v[0].profile, sizeof v[0].profile, "tlsserver");
    v[1].revoked = 1; /* not installed: nothing to be revoked */
    v[1].pending_since = T0 - 86400;
    v[1].pending_next = T0 + 3600;
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_status_render_json("eca-test", "1.0", v, 2, T0, &b, NULL), ECA_OK);
    ck_assert_uint_eq(b.len, strlen(want));
    ck_assert(memcmp(b.data, want, b.len) == 0);
    eca_buf_free(&b);
}
END_TEST

START_TEST(text_names_every_fact)
{
    struct eca_status_cert v[2];
    struct eca_buf b;
    char *t;

    two(v);
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_status_render_text(v, 2, T0, &b, NULL), ECA_OK);
    ck_assert_int_eq(eca_buf_append(&b, "", 1, NULL), ECA_OK);
    t = (char *)b.data;
    ck_assert_ptr_nonnull(strstr(t, "web:\n"));
    ck_assert_ptr_nonnull(strstr(t, "  serial:    0a1b\n"));
    ck_assert_ptr_nonnull(strstr(t, "  not after: 2026-01-04T00:00:00Z\n"));
    ck_assert_ptr_nonnull(strstr(t, "(75% of the lifetime)"));
    ck_assert_ptr_nonnull(strstr(t, "  next:      renew at 2026-01-02T00:00:00Z"));
    ck_assert_ptr_nonnull(strstr(t, "  state:     not installed (certificate file missing)"));
    ck_assert_ptr_nonnull(strstr(t, "  next:      retry at 2026-01-01T00:01:00Z"));
    ck_assert_ptr_nonnull(strstr(t, "  failures:  2, last error ENET: connect: refused"));
    ck_assert_ptr_null(strstr(t, "revoked:"));
    ck_assert_ptr_null(strstr(t, "profile:"));
    eca_buf_free(&b);
    v[0].revoked = 1;
    snprintf(v[0].profile, sizeof v[0].profile, "shortlived");
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_status_render_text(v, 1, T0, &b, NULL), ECA_OK);
    ck_assert_int_eq(eca_buf_append(&b, "", 1, NULL), ECA_OK);
    t = (char *)b.data;
    ck_assert_ptr_nonnull(strstr(t, "  revoked:   yes"));
    ck_assert_ptr_nonnull(strstr(t, "  profile:   shortlived\n"));
    eca_buf_free(&b);
}
END_TEST

START_TEST(left_pct_bounds)
{
    struct eca_status_cert c;

    memset(&c, 0, sizeof c);
    ck_assert_int_eq(eca_status_left_pct(&c, T0), 0);
    c.not_before = T0;
    c.not_after = T0 + 100;
    ck_assert_int_eq(eca_status_left_pct(&c, T0 - 5), 100);
    ck_assert_int_eq(eca_status_left_pct(&c, T0 + 33), 67);
    ck_assert_int_eq(eca_status_left_pct(&c, T0 + 100), 0);
}
END_TEST

START_TEST(healthy_only_when_valid_and_not_due)
{
    struct eca_status_cert v[2];
    struct eca_status_cert c;

    two(v);
    ck_assert_int_eq(eca_status_healthy(&v[0], T0), 1);
    /* missing and failing */
    ck_assert_int_eq(eca_status_healthy(&v[1], T0), 0);
    /* past its renewal point, and expired */
    ck_assert_int_eq(eca_status_healthy(&v[0], T0 + 86400), 0);
    ck_assert_int_eq(eca_status_healthy(&v[0], T0 + 3 * 86400), 0);
    /* the last pass failed, although the certificate in place is fine */
    c = v[0];
    c.failures = 1;
    ck_assert_int_eq(eca_status_healthy(&c, T0), 0);
    /* a renewal due now for another reason (the key does not match) */
    c = v[0];
    c.next_reason = "mismatch";
    ck_assert_int_eq(eca_status_healthy(&c, T0), 0);
    c.next_reason = "renew";
    ck_assert_int_eq(eca_status_healthy(&c, T0), 1);
    /* revoked: never healthy, whatever the lifetime left */
    c.revoked = 1;
    ck_assert_int_eq(eca_status_healthy(&c, T0), 0);
    /* a renewal pending approval at the CA: healthy while the installed one is valid */
    c = v[0];
    c.pending_since = T0;
    c.pending_next = T0 + 3600;
    c.next_reason = "pending";
    ck_assert_int_eq(eca_status_healthy(&c, T0 + 86400), 1);
    ck_assert_int_eq(eca_status_healthy(&c, T0 + 3 * 86400), 0);
    c.failures = 1;
    ck_assert_int_eq(eca_status_healthy(&c, T0 + 86400), 0);
    /* a first enrollment pending: nothing installed, not healthy */
    c = v[1];
    c.failures = 0;
    c.pending_since = T0;
    ck_assert_int_eq(eca_status_healthy(&c, T0), 0);
}
END_TEST

START_TEST(text_shows_pending)
{
    struct eca_status_cert v[2];
    struct eca_buf b;

    two(v);
    v[0].pending_since = T0 - 60;
    v[0].pending_next = T0 + 3600;
    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_status_render_text(v, 2, T0, &b, NULL), ECA_OK);
    ck_assert_int_eq(eca_buf_append(&b, "", 1, NULL), ECA_OK);
    ck_assert_ptr_nonnull(strstr((char *)b.data, "  pending:   approval since "
                                                 "2025-12-31T23:59:00Z, next try "
                                                 "2026-01-01T01:00:00Z\n"));
    eca_buf_free(&b);
}
END_TEST

START_TEST(file_is_written_public)
{
    struct eca_status_cert v[2];
    char dir[256], path[512];
    struct eca_buf b;
    struct stat st;

    two(v);
    test_mkdtemp(dir, sizeof dir);
    ck_assert_int_eq(eca_status_write(dir, "eca-test", "1.0", v, 2, T0, NULL), ECA_OK);
    snprintf(path, sizeof path, "%s/status.json", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    eca_buf_init(&b, 1 << 20);
    ck_assert_int_eq(eca_fs_read(path, 1 << 20, &b, NULL), ECA_OK);
    ck_assert(b.len > 0 && b.data[b.len - 1] == '\n');
    eca_buf_free(&b);
    test_rmdir(dir);
}
END_TEST

/* The daemon's table gives back exactly what was set, and writes the same file as the array. */
START_TEST(table_keeps_every_field)
{
    struct eca_status_cert v[2], got;
    struct eca_status_table *t = eca_status_table_new(3);
    struct eca_buf a, b;
    char dir[256], path[512];

    two(v);
    v[1].pending_since = T0 - 5;
    v[1].pending_next = T0 + 5;
    v[1].revoked = 1;
    snprintf(v[1].profile, sizeof v[1].profile, "shortlived");
    memset(v[1].last_error, 'e', sizeof v[1].last_error - 1); /* a string at its longest */
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(eca_status_table_set(t, 0, &v[0], NULL), ECA_OK);
    ck_assert_int_eq(eca_status_table_set(t, 1, &v[1], NULL), ECA_OK);
    ck_assert_int_eq(eca_status_table_set(t, 1, &v[1], NULL), ECA_OK); /* replaced, not leaked */
    for (int i = 0; i < 2; i++) {
        eca_status_table_get(t, (size_t)i, &got);
        ck_assert_int_eq(memcmp(&got, &v[i], sizeof got), 0);
    }
    eca_status_table_get(t, 2, &got); /* never set */
    ck_assert_str_eq(got.name, "");
    ck_assert_int_eq(got.next_action, 0);
    /* A record set again in place, shorter then longer, gives back exactly the last one. */
    ck_assert_int_eq(eca_status_table_set(t, 1, &v[0], NULL), ECA_OK);
    eca_status_table_get(t, 1, &got);
    ck_assert_int_eq(memcmp(&got, &v[0], sizeof got), 0);
    ck_assert_int_eq(eca_status_table_set(t, 1, &v[1], NULL), ECA_OK);
    eca_status_table_get(t, 1, &got);
    ck_assert_int_eq(memcmp(&got, &v[1], sizeof got), 0);

    test_mkdtemp(dir, sizeof dir);
    eca_buf_init(&a, 1 << 20);
    eca_buf_init(&b, 1 << 20);
    ck_assert_int_eq(eca_status_render_json("eca-test", "1.0", v, 2, T0, &a, NULL), ECA_OK);
    eca_status_table_free(t);
    t = eca_status_table_new(2);
    ck_assert_int_eq(eca_status_table_set(t, 0, &v[0], NULL), ECA_OK);
    ck_assert_int_eq(eca_status_table_set(t, 1, &v[1], NULL), ECA_OK);
    ck_assert_int_eq(eca_status_table_write(t, dir, "eca-test", "1.0", T0, NULL), ECA_OK);
    snprintf(path, sizeof path, "%s/status.json", dir);
    ck_assert_int_eq(eca_fs_read(path, 1 << 20, &b, NULL), ECA_OK);
    ck_assert_int_eq(b.len, a.len);
    ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
    eca_buf_free(&a);
    eca_buf_free(&b);
    eca_status_table_free(t);
    eca_status_table_free(NULL);
    test_rmdir(dir);
}
END_TEST

/* 12,000 certificates still make a status file (a flat 4 MiB cap refused about 8,000). */
START_TEST(file_of_twelve_thousand_certificates)
{
    size_t n = 12000;
    struct eca_status_cert *v = calloc(n, sizeof *v);
    char dir[256], path[512];
    struct stat st;

    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++) {
        snprintf(v[i].name, sizeof v[i].name, "c%zu", i);
        snprintf(v[i].subject, sizeof v[i].subject, "CN=c%zu.bench.test", i);
        snprintf(v[i].serial, sizeof v[i].serial, "%040zx", i);
        v[i].present = 1;
        v[i].not_before = T0;
        v[i].not_after = T0 + 3650 * 86400;
        v[i].next_action = T0 + 21600;
        v[i].next_reason = "check";
    }
    test_mkdtemp(dir, sizeof dir);
    ck_assert_int_eq(eca_status_write(dir, "eca-test", "1.0", v, n, T0, NULL), ECA_OK);
    snprintf(path, sizeof path, "%s/status.json", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_gt(st.st_size, (off_t)4 << 20);
    free(v);
    test_rmdir(dir);
}
END_TEST

static Suite *
status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, json_is_exact);
    tcase_add_test(tc, text_names_every_fact);
    tcase_add_test(tc, text_shows_pending);
    tcase_add_test(tc, left_pct_bounds);
    tcase_add_test(tc, healthy_only_when_valid_and_not_due);
    tcase_add_test(tc, file_is_written_public);
    tcase_add_test(tc, table_keeps_every_field);
    tcase_add_test(tc, file_of_twelve_thousand_certificates);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(status_suite)
