/* SPDX-License-Identifier: MIT */
/* Test support: fixtures, a scripted fake transport, a log capture sink and temp dirs. */
#define _XOPEN_SOURCE 700
#include "eca_test.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eca_buf.h"
#include "eca_fs.h"
#include "eca_log.h"
#include "http_raw.h"

#define FAKE_MAX 64

const char *
fixture_path(const char *name)
{
    static char path[4096];
    const char *root = getenv("ECA_ROOT");

    snprintf(path, sizeof path, "%s/tests/fixtures/%s", root ? root : ".", name);
    return path;
}

static void
load_raw(const void *p, size_t n, struct eca_http_resp *resp, const char *what)
{
    struct eca_err err = {0};

    eca_http_resp_init(resp, 0);
    if (test_http_parse_raw(p, n, resp, &err) != ECA_OK)
        ck_abort_msg("fixture %s: %s", what, err.msg);
}

void
fixture_load_http(const char *name, struct eca_http_resp *resp)
{
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 4u << 20);
    if (eca_fs_read(fixture_path(name), 4u << 20, &b, &err) != ECA_OK)
        ck_abort_msg("fixture %s: %s", name, err.msg);
    load_raw(b.data, b.len, resp, name);
    eca_buf_free(&b);
}

void
fixture_free_http(struct eca_http_resp *resp)
{
    eca_http_resp_free(resp);
}

void
test_mkdtemp(char *out, size_t outlen)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(out, outlen, "%s/eca-test-XXXXXX", tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
test_rmdir(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct eca_buf logbuf;

static void
cap_sink(void *ctx, enum eca_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    eca_buf_puts(&logbuf, line, NULL);
    eca_buf_puts(&logbuf, "\n", NULL);
}

void
logcap_start(void)
{
    eca_buf_free(&logbuf);
    eca_buf_init(&logbuf, 16u << 20);
    eca_log_setup("test", ECA_LOG_DEBUG, ECA_LOG_JSON);
    eca_log_set_sink(cap_sink, NULL);
}

const char *
logcap_text(void)
{
    return eca_buf_str(&logbuf);
}

int
logcap_contains(const char *needle)
{
    return strstr(eca_buf_str(&logbuf), needle) != NULL;
}

void
logcap_stop(void)
{
    eca_log_set_sink(NULL, NULL);
    eca_buf_free(&logbuf);
}

struct fake_item {
    char *raw;
    size_t len;
    int rc;
    char *msg;
};

struct fake_http {
    struct fake_item q[FAKE_MAX];
    size_t head, tail;
    struct fake_req reqs[FAKE_MAX];
    size_t nreq;
    struct eca_http_conn_info conn; /* reported with every response */
};

static char *
dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static char *
dups(const char *s)
{
    return s ? dupn(s, strlen(s)) : NULL;
}

static void
record(struct fake_http *f, const struct eca_http_req *req)
{
    struct fake_req *r;
    struct eca_buf h;

    ck_assert_uint_lt(f->nreq, FAKE_MAX);
    r = &f->reqs[f->nreq++];
    r->method = dups(req->method);
    r->url = dups(req->url);
    r->content_type = dups(req->content_type);
    r->body = dupn(req->body ? req->body : "", req->body ? req->body_len : 0);
    r->body_len = req->body ? req->body_len : 0;
    r->basic_user = dups(req->basic_user);
    r->basic_after_challenge = req->basic_after_challenge;
    r->digest_ok = req->digest_ok;
    eca_buf_init(&h, 0);
    for (size_t i = 0; i < req->nheaders; i++) {
        eca_buf_puts(&h, req->headers[i], NULL);
        eca_buf_puts(&h, "\n", NULL);
    }
    r->headers = dups(eca_buf_str(&h));
    eca_buf_free(&h);
}

static enum eca_rc
fake_perform(void *ctx, const struct eca_http_req *req, struct eca_http_resp *resp,
             struct eca_err *err)
{
    struct fake_http *f = ctx;
    struct fake_item *it;
    enum eca_rc rc;

    record(f, req);
    if (f->head == f->tail)
        return eca_err_set(err, ECA_ENET, "fake transport: no response queued for %s %s",
                           req->method, req->url);
    it = &f->q[f->head++ % FAKE_MAX];
    if (it->raw == NULL) {
        rc = eca_err_set(err, (enum eca_rc)it->rc, "%s", it->msg);
        free(it->msg);
        return rc;
    }
    rc = test_http_parse_raw(it->raw, it->len, resp, err);
    resp->conn = f->conn;
    free(it->raw);
    return rc;
}

static void
fake_free(void *ctx)
{
    struct fake_http *f = ctx;

    for (size_t i = f->head; i < f->tail; i++) {
        free(f->q[i % FAKE_MAX].raw);
        free(f->q[i % FAKE_MAX].msg);
    }
    for (size_t i = 0; i < f->nreq; i++) {
        struct fake_req *r = &f->reqs[i];
        free(r->method);
        free(r->url);
        free(r->content_type);
        free(r->body);
        free(r->headers);
        free(r->basic_user);
    }
    free(f);
}

static const struct eca_http_ops fake_ops = {fake_perform, fake_free};

void
fake_http_set_conn(struct fake_http *f, const struct eca_http_conn_info *conn)
{
    f->conn = *conn;
}

struct eca_http *
fake_http_new(struct fake_http **fake)
{
    struct fake_http *f = calloc(1, sizeof *f);
    struct eca_http *h = NULL;
    struct eca_err err = {0};

    ck_assert_ptr_nonnull(f);
    if (eca_http_new(&fake_ops, f, &h, &err) != ECA_OK)
        ck_abort_msg("fake_http_new: %s", err.msg);
    *fake = f;
    return h;
}

static void
push(struct fake_http *f, char *raw, size_t len, int rc, char *msg)
{
    ck_assert_uint_lt(f->tail - f->head, FAKE_MAX);
    f->q[f->tail % FAKE_MAX] = (struct fake_item){raw, len, rc, msg};
    f->tail++;
}

void
fake_http_push_fixture(struct fake_http *f, const char *name)
{
    struct eca_buf b;
    struct eca_err err = {0};

    eca_buf_init(&b, 4u << 20);
    if (eca_fs_read(fixture_path(name), 4u << 20, &b, &err) != ECA_OK)
        ck_abort_msg("fixture %s: %s", name, err.msg);
    push(f, dupn(b.data, b.len), b.len, 0, NULL);
    eca_buf_free(&b);
}

void
fake_http_push_raw(struct fake_http *f, const char *raw)
{
    push(f, dups(raw), strlen(raw), 0, NULL);
}

void
fake_http_push_error(struct fake_http *f, int rc, const char *msg)
{
    push(f, NULL, 0, rc, dups(msg));
}

size_t
fake_http_nreq(const struct fake_http *f)
{
    return f->nreq;
}

const struct fake_req *
fake_http_req(const struct fake_http *f, size_t i)
{
    return i < f->nreq ? &f->reqs[i] : NULL;
}

size_t
fake_http_pending(const struct fake_http *f)
{
    return f->tail - f->head;
}
