/* SPDX-License-Identifier: MIT */
/* eca_hostport_split: the one host:port splitter (listeners and the TLS probe). */
#include <check.h>
#include <string.h>

#include "eca_conf.h"
#include "eca_hostport.h"
#include "eca_test.h"

static const struct {
    const char *in, *host, *port;
} good[] = {
    {"127.0.0.1:80", "127.0.0.1", "80"},
    {"[::1]:80", "::1", "80"},
    {"[fe80::1%eth0]:4231", "fe80::1%eth0", "4231"},
    {"name.example:443", "name.example", "443"},
    {":80", "", "80"}, /* every address (a listener decides whether it may) */
    {"h:0", "h", "0"},
    {"h:65535", "h", "65535"},
};

START_TEST(splits_host_and_port)
{
    char host[64], port[8];
    struct eca_err err = {0};

    ck_assert_int_eq(eca_hostport_split(good[_i].in, host, sizeof host, port, sizeof port, &err),
                     ECA_OK);
    ck_assert_str_eq(host, good[_i].host);
    ck_assert_str_eq(port, good[_i].port);
}
END_TEST

static const char *const bad[] = {
    "127.0.0.1",  /* missing port */
    "127.0.0.1:", /* empty port */
    "[::1]",      /* missing port */
    "[::1]80",    /* no colon after the bracket */
    "[::1:80",    /* unclosed bracket */
    "[]:80",      /* empty brackets */
    "::1:80",     /* IPv6 without brackets: which colon starts the port? */
    "h:http",     /* service names are not ports */
    "h:65536",    /* bad port: out of range */
    "h:123456",   /* bad port: too many digits */
    "h:-1",       /* bad port: sign */
    "h:8 0",      /* bad port: space */
    "",
};

START_TEST(refuses_malformed_addresses)
{
    char host[64], port[8];
    struct eca_err err = {0};

    ck_assert_int_eq(eca_hostport_split(bad[_i], host, sizeof host, port, sizeof port, &err),
                     ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "expected host:port or [v6]:port") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, bad[_i]) != NULL, "%s does not name %s", err.msg, bad[_i]);
}
END_TEST

START_TEST(refuses_what_does_not_fit)
{
    char host[8], port[8], small_port[3];
    struct eca_err err = {0};

    ck_assert_int_eq(eca_hostport_split("abcdefgh:80", host, sizeof host, port, sizeof port, &err),
                     ECA_EINVAL);
    ck_assert_int_eq(eca_hostport_split("abcdefg:80", host, sizeof host, port, sizeof port, &err),
                     ECA_OK);
    ck_assert_str_eq(host, "abcdefg");
    ck_assert_int_eq(
        eca_hostport_split("h:443", host, sizeof host, small_port, sizeof small_port, &err),
        ECA_EINVAL);
    ck_assert_int_eq(eca_hostport_split(NULL, host, sizeof host, port, sizeof port, &err),
                     ECA_EINVAL);
}
END_TEST

/* The configuration check takes what the splitter takes, with a host (a probe needs one). */
START_TEST(configuration_check_uses_the_splitter)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_conf_check_listen("http01_listen", "[::1]:80", &err), ECA_OK);
    ck_assert_int_eq(eca_conf_check_listen("http01_listen", "127.0.0.1:0", &err), ECA_OK);
    ck_assert_int_eq(eca_conf_check_listen("metrics_listen", "::1:4231", &err), ECA_ECONF);
    ck_assert_ptr_nonnull(strstr(err.msg, "metrics_listen: '::1:4231': expected addr:port"));
    ck_assert_int_eq(eca_conf_check_listen("verify", ":443", &err), ECA_ECONF);
    ck_assert_int_eq(eca_conf_check_listen("verify", "h:65536", &err), ECA_ECONF);
    ck_assert_int_eq(eca_conf_check_listen("verify", "h:+80", &err), ECA_ECONF);
}
END_TEST

static Suite *
hostport_suite(void)
{
    Suite *s = suite_create("hostport");
    TCase *tc = tcase_create("split");

    tcase_add_loop_test(tc, splits_host_and_port, 0, sizeof good / sizeof good[0]);
    tcase_add_loop_test(tc, refuses_malformed_addresses, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, refuses_what_does_not_fit);
    tcase_add_test(tc, configuration_check_uses_the_splitter);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(hostport_suite)
