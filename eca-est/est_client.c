/* SPDX-License-Identifier: MIT */
/* The EST driver: the only EST file that talks to a transport (RFC 7030 §4; RFC 8951). */
#include "est_client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eca_clock.h"
#include "est_cacerts.h"

#define DEFAULT_MAX_PENDING 300L
#define DEFAULT_RETRY       10L

static enum eca_rc
op_url(const struct est_client_opts *o, const char *op, char *out, size_t outlen,
       struct eca_err *err)
{
    if (o->base_url == NULL || (size_t)snprintf(out, outlen, "%s/%s", o->base_url, op) >= outlen)
        return eca_err_set(err, ECA_EINVAL, "%s: base URL missing or too long", op);
    return ECA_OK;
}

static enum eca_rc
get(struct eca_http *http, const char *url, struct eca_http_resp *resp, struct eca_err *err)
{
    struct eca_http_req req = {.method = "GET", .url = url};
    enum eca_rc rc = eca_http_perform(http, &req, resp, err);

    if (rc != ECA_OK)
        eca_err_prefix(err, "GET %s: ", url);
    return rc;
}

enum eca_rc
est_client_cacerts(const struct est_client_opts *o, struct eca_http *http, struct eca_chain **out,
                   struct eca_err *err)
{
    struct eca_http_resp resp;
    char url[1024];
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    if ((rc = op_url(o, "cacerts", url, sizeof url, err)) == ECA_OK &&
        (rc = get(http, url, &resp, err)) == ECA_OK)
        rc = est_cacerts_parse(&resp, out, err);
    eca_http_resp_free(&resp);
    return rc;
}

enum eca_rc
est_client_csrattrs(const struct est_client_opts *o, struct eca_http *http,
                    struct est_csrattrs *out, struct eca_http_conn_info *conn, struct eca_err *err)
{
    struct eca_http_resp resp;
    char url[1024];
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    if ((rc = op_url(o, "csrattrs", url, sizeof url, err)) == ECA_OK &&
        (rc = get(http, url, &resp, err)) == ECA_OK)
        rc = est_csrattrs_parse(&resp, out, err);
    if (conn != NULL)
        *conn = resp.conn;
    eca_http_resp_free(&resp);
    return rc;
}

/* One POST; the transport answers a Basic or Digest challenge with the credentials. */
static enum eca_rc
post_once(const struct est_client_auth *a, struct eca_http_req *req, struct eca_http_resp *resp,
          struct eca_err *err)
{
    enum eca_rc rc;

    if (a->username && a->password) {
        req->basic_user = a->username;
        req->basic_pass = a->password;
        req->basic_after_challenge = !a->basic_preemptive;
        req->digest_ok = 1;
    }
    eca_http_resp_free(resp);
    if ((rc = eca_http_perform(a->http, req, resp, err)) != ECA_OK)
        eca_err_prefix(err, "POST %s: ", req->url);
    return rc;
}

/* The POST did not ride on the connection the CSR's tls-unique came from. */
static int
pop_conn_changed(const struct est_client_auth *a, const struct eca_http_resp *resp)
{
    const struct eca_http_conn_info *c = &resp->conn;

    if (a->pop == NULL || c->tls_version[0] == '\0')
        return 0; /* not a transport that knows */
    return c->new_connections > 0 || c->tls_unique_len != a->pop->tls_unique_len ||
           memcmp(c->tls_unique, a->pop->tls_unique, c->tls_unique_len) != 0;
}

enum eca_rc
est_client_wait(const struct est_client_opts *o, long secs, struct eca_err *err)
{
    if (eca_clock_sleep_ms(secs * 1000, o->should_stop))
        return eca_err_set(err, ECA_ESTOPPED, "stopped while waiting for the certificate");
    return ECA_OK;
}

static long
pending_wait(const struct est_client_opts *o, const struct eca_err *err)
{
    /* "0" or a date gone by would turn into a busy loop of POSTs: the default instead. */
    return err->retry_after > 0 ? err->retry_after
                                : (o->default_retry_s > 0 ? o->default_retry_s : DEFAULT_RETRY);
}

/* A wait beyond what this call may spend: the request stays pending, the caller schedules. */
static enum eca_rc
pending_beyond(const char *what, long waited, long ra, struct eca_err *err)
{
    char asked[64];
    enum eca_rc rc;

    if (ra >= 0)
        snprintf(asked, sizeof asked, "server asked to retry in %ld s", ra);
    else
        snprintf(asked, sizeof asked, "server gave no Retry-After");
    rc = eca_err_set(err, ECA_EAGAIN, "%s: certificate pending approval (HTTP 202) after %ld s; %s",
                     what, waited, asked);
    if (err != NULL)
        err->retry_after = ra;
    return rc;
}

enum eca_rc
est_client_enroll(const struct est_client_opts *o, const struct est_client_auth *a, int reenroll,
                  const void *csr_der, size_t csr_len, struct eca_chain **issued,
                  struct eca_err *err)
{
    const char *what = reenroll ? "simplereenroll" : "simpleenroll";
    const char *hdrs[] = {EST_CTE_HEADER};
    long cap = o->max_pending_s > 0 ? o->max_pending_s : DEFAULT_MAX_PENDING, waited = 0, w;
    struct eca_http_req req = {
        .method = "POST", .content_type = EST_PKCS10_TYPE, .headers = hdrs, .nheaders = 1};
    struct eca_http_resp resp;
    struct eca_buf body;
    char url[1024];
    enum eca_rc rc;

    eca_buf_init(&body, 0);
    eca_http_resp_init(&resp, 0);
    if ((rc = op_url(o, what, url, sizeof url, err)) != ECA_OK ||
        (rc = est_enroll_build_body(csr_der, csr_len, &body, err)) != ECA_OK)
        goto out;
    req.url = url;
    req.body = body.data;
    req.body_len = body.len;
    for (;;) {
        if ((rc = post_once(a, &req, &resp, err)) != ECA_OK)
            goto out;
        rc = est_enroll_parse_response(what, &resp, eca_clock_now(), issued, err);
        if (rc == ECA_EAUTH && a->anonymous)
            est_enroll_no_credentials(what, &resp, a->token_gone, err);
        if (rc == ECA_EAUTH && a->pop != NULL)
            est_enroll_pop_refused(err, pop_conn_changed(a, &resp));
        if (rc != ECA_EAGAIN)
            goto out;
        /* RFC 7030 §4.2.3: resend the same request after the Retry-After delay. */
        w = pending_wait(o, err);
        if (o->pending)
            o->pending(o->pending_ctx, err->retry_after, waited + w > cap ? 0 : w);
        if (waited + w > cap) {
            rc = pending_beyond(what, waited, err->retry_after, err);
            goto out;
        }
        if ((rc = est_client_wait(o, w, err)) != ECA_OK)
            goto out;
        waited += w;
    }
out:
    eca_http_resp_free(&resp);
    eca_buf_free(&body);
    return rc;
}
