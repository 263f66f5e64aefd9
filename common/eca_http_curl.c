/* SPDX-License-Identifier: MIT */
/* libcurl transport: TLS verification always on, https only, no redirects, capped, timed out. */
#include "eca_http.h"
#include "eca_http_auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

struct curl_ctx {
    CURL *easy; /* one handle for the transport's life, so connections are reused */
    char *user_agent;
    char *ca_bundle;
    char *client_cert;
    char *client_key;
    int insecure;
    long connect_timeout_s;
    long timeout_s;
    long low_speed_bytes;
    long low_speed_time_s;
    size_t max_body;
    int tls12_max;
    char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, shared with the callbacks. */
struct xfer {
    CURL *easy;
    struct eca_http_resp *resp;
    int body_too_big;
    int too_many_headers;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;

    /* Returning less than given makes curl abort with CURLE_WRITE_ERROR. */
    if (eca_buf_append(&x->resp->body, p, n, NULL) != ECA_OK) {
        x->body_too_big = 1;
        return 0;
    }
    (void)size; /* always 1 */
    return n;
}

/* obs-fold continuation (RFC 9112 §5.2): a user agent replaces it with a space. */
static int
unfold(struct eca_http_resp *resp, const char *p, size_t n)
{
    char *prev, *joined;
    size_t plen;

    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (resp->nheaders == 0)
        return 1;
    prev = resp->headers[resp->nheaders - 1];
    plen = strlen(prev);
    joined = malloc(plen + 1 + n + 1);
    if (joined == NULL)
        return 0;
    memcpy(joined, prev, plen);
    joined[plen] = ' ';
    memcpy(joined + plen + 1, p, n);
    joined[plen + 1 + n] = '\0';
    free(prev);
    resp->headers[resp->nheaders - 1] = joined;
    return 1;
}

/*
 * The TLS connection carrying the transfer, read while it is attached to the handle (libcurl
 * detaches it when the transfer ends). tls-unique (RFC 5929 §3.1) is the first Finished message
 * of the latest handshake: ours in a full handshake, the server's in a resumed one.
 */
static void
tls_of(CURL *e, struct eca_http_conn_info *ci)
{
    const struct curl_tlssessioninfo *ti = NULL;
    SSL *ssl;
    size_t n;

    ci->tls_version[0] = '\0';
    ci->tls_unique_len = 0;
    if (curl_easy_getinfo(e, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || ti == NULL ||
        ti->backend != CURLSSLBACKEND_OPENSSL || ti->internals == NULL)
        return;
    ssl = ti->internals;
    snprintf(ci->tls_version, sizeof ci->tls_version, "%s", SSL_get_version(ssl));
    if (SSL_version(ssl) > TLS1_2_VERSION)
        return;
    n = SSL_session_reused(ssl) ? SSL_get_peer_finished(ssl, ci->tls_unique, sizeof ci->tls_unique)
                                : SSL_get_finished(ssl, ci->tls_unique, sizeof ci->tls_unique);
    ci->tls_unique_len = n <= sizeof ci->tls_unique ? n : 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;

    (void)size; /* always 1 */
    /* Every status line starts a new response (100 Continue, a 401 challenge): keep the last. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        eca_http_resp_clear_headers(x->resp);
        tls_of(x->easy, &x->resp->conn);
        return n;
    }
    if (n == 0 || p[0] == '\r' || p[0] == '\n')
        return n;
    if (p[0] == ' ' || p[0] == '\t')
        return unfold(x->resp, p, n) ? n : 0;
    if (eca_http_resp_add_header(x->resp, p, n, NULL) != ECA_OK) {
        x->too_many_headers = 1;
        return 0;
    }
    return n;
}

static int
is_tls_error(CURLcode c)
{
    switch (c) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CLIENTCERT:
        return 1;
    default:
        return 0;
    }
}

/* Map a failed transfer to an error naming the URL (never credentials: they are not in it). */
static enum eca_rc
map_error(struct curl_ctx *c, const struct xfer *x, CURLcode code, const struct eca_http_req *req,
          struct eca_err *err)
{
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(code);
    const char *url = req->url;

    if (x->body_too_big || code == CURLE_FILESIZE_EXCEEDED)
        return eca_err_set(err, ECA_ETOOBIG, "response body from %.200s exceeds %zu bytes", url,
                           x->resp->body.max);
    if (x->too_many_headers)
        return eca_err_set(err, ECA_ETOOBIG, "response from %.200s has more than %d header lines",
                           url, ECA_HTTP_MAX_HEADERS);
    /* A TLS 1.3 server refuses a client certificate after the handshake, as an alert on read. */
    if (is_tls_error(code) ||
        ((code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) &&
         strstr(c->errbuf, "SSL") != NULL && strstr(c->errbuf, "alert") != NULL))
        return eca_err_set(err, ECA_ETLS, "TLS with %.200s failed: %s", url, why);
    if (code == CURLE_OPERATION_TIMEDOUT)
        return eca_err_set(err, ECA_ETIMEOUT, "%s %.200s: timed out: %s", req->method, url, why);
    if (code == CURLE_WEIRD_SERVER_REPLY)
        return eca_err_set(err, ECA_EPROTO, "%s %.200s: malformed HTTP response: %s", req->method,
                           url, why);
    return eca_err_set(err, ECA_ENET, "%s %.200s: %s", req->method, url, why);
}

/* Options that hold for every request of this transport; set again after each reset. */
static int
set_fixed(struct curl_ctx *c)
{
    const char *protos = c->insecure ? "http,https" : "https";
    CURL *e = c->easy;
    int bad = 0;

    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protos) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    /* Verification stays on whatever "insecure" says: it only admits http:// URLs. */
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    if (c->tls12_max)
        bad |= curl_easy_setopt(e, CURLOPT_SSLVERSION,
                                (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2)) !=
               CURLE_OK;
    if (c->ca_bundle != NULL)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_bundle) != CURLE_OK;
    if (c->client_cert != NULL) {
        bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK;
    }
    if (c->client_key != NULL) {
        bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK;
    }
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent) != CURLE_OK;
    /* A server that accepts and then trickles would otherwise hold a pass for the whole
     * timeout; a real CA sends kilobytes in milliseconds. */
    bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, c->low_speed_bytes) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s) != CURLE_OK;
    /* Signals would break timeouts in a daemon with its own handlers. */
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
    return bad;
}

/* Header list: the caller's extra lines, Content-Type, and no "Expect: 100-continue". */
static enum eca_rc
build_headers(const struct eca_http_req *req, struct curl_slist **out, struct eca_err *err)
{
    struct curl_slist *l = NULL, *t = NULL;
    char ct[512];
    enum eca_rc rc = ECA_ENOMEM;

    for (size_t i = 0; i < req->nheaders; i++) {
        if ((t = curl_slist_append(l, req->headers[i])) == NULL)
            goto out;
        l = t;
    }
    if (req->content_type != NULL) {
        if ((size_t)snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type) >= sizeof ct) {
            rc = ECA_EINVAL;
            goto out;
        }
        if ((t = curl_slist_append(l, ct)) == NULL)
            goto out;
        l = t;
    }
    /* Some servers never answer a 100-continue; the body is small, send it at once. */
    if ((t = curl_slist_append(l, "Expect:")) == NULL)
        goto out;
    l = t;
    rc = ECA_OK;
out:
    if (rc != ECA_OK) {
        curl_slist_free_all(l);
        l = NULL;
        eca_err_set(err, rc,
                    rc == ECA_EINVAL ? "http: Content-Type too long"
                                     : "http: out of memory for request headers");
    }
    *out = l;
    return rc;
}

/* Connect and total timeouts: the transport's, shortened to the request's own when it has one. */
static int
set_timeouts(const struct curl_ctx *c, const struct eca_http_req *req)
{
    long total = c->timeout_s * 1000L, conn = c->connect_timeout_s * 1000L;
    int bad = 0;

    if (req->timeout_ms > 0 && req->timeout_ms < total)
        total = req->timeout_ms;
    if (conn > total)
        conn = total;
    bad |= curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, conn) != CURLE_OK;
    bad |= curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, total) != CURLE_OK;
    return bad;
}

static int
set_method(CURL *e, const struct eca_http_req *req)
{
    int bad = 0;

    if (strcmp(req->method, "GET") == 0)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    if (strcmp(req->method, "HEAD") == 0)
        return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
    /* POST always carries Content-Length, never chunked encoding. */
    bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t)(req->body ? req->body_len : 0)) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "") != CURLE_OK;
    return bad;
}

/* Credentials for the schemes in `auth` (libcurl's CURLAUTH_ bits: Basic, Digest). */
static int
set_auth(CURL *e, const struct eca_http_req *req, unsigned long auth)
{
    const char *pass = req->basic_pass ? eca_secret_str(req->basic_pass) : "";
    int bad = 0;

    bad |= curl_easy_setopt(e, CURLOPT_HTTPAUTH, auth) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERNAME, req->basic_user) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, pass) != CURLE_OK;
    return bad;
}

/* One exchange with the options set so far. */
static enum eca_rc
run(struct curl_ctx *c, const struct eca_http_req *req, struct eca_http_resp *resp,
    struct eca_err *err)
{
    struct xfer x = {c->easy, resp, 0, 0};
    CURLcode code;
    CURL *e = c->easy;
    long conns = 0;

    eca_http_resp_clear_headers(resp);
    eca_buf_reset(&resp->body);
    resp->status = 0;
    resp->conn.tls_version[0] = '\0';
    resp->conn.tls_unique_len = 0;
    c->errbuf[0] = '\0';
    if (curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &x) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &x) != CURLE_OK)
        return eca_err_set(err, ECA_ENET, "%s %.200s: libcurl refused an option", req->method,
                           req->url);
    code = curl_easy_perform(e);
    if (code != CURLE_OK)
        return map_error(c, &x, code, req, err);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
    if (curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK)
        resp->conn.new_connections += conns;
    return ECA_OK;
}

/*
 * The scheme to answer a 401 with: Digest (RFC 7616) when offered and allowed, else Basic (RFC
 * 7617) when offered and not sent already; 0: none.
 */
static unsigned long
answer_scheme(const struct eca_http_req *req, const struct eca_http_resp *resp, int basic_sent)
{
    unsigned offered = eca_http_auth_offered(resp);

    if (resp->status != 401)
        return 0;
    if (req->digest_ok && (offered & ECA_HTTP_AUTH_DIGEST))
        return CURLAUTH_DIGEST;
    if (!basic_sent && (offered & ECA_HTTP_AUTH_BASIC))
        return CURLAUTH_BASIC;
    return 0;
}

static enum eca_rc
curl_perform(void *ctx, const struct eca_http_req *req, struct eca_http_resp *resp,
             struct eca_err *err)
{
    struct curl_ctx *c = ctx;
    struct curl_slist *hdrs = NULL;
    int with_creds = req->basic_user != NULL;
    int pre = with_creds && !req->basic_after_challenge;
    unsigned long scheme;
    enum eca_rc rc;

    if ((rc = eca_http_check_url(req->url, c->insecure, err)) != ECA_OK)
        return rc;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        strcmp(req->method, "POST") != 0)
        return eca_err_set(err, ECA_EINVAL, "http: method '%.20s' not supported", req->method);
    if ((rc = build_headers(req, &hdrs, err)) != ECA_OK)
        return rc;
    /* Reset clears options but keeps live connections, so they are still reused. */
    curl_easy_reset(c->easy);
    if (set_fixed(c) || set_timeouts(c, req) || set_method(c->easy, req) ||
        curl_easy_setopt(c->easy, CURLOPT_URL, req->url) != CURLE_OK ||
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
        curl_easy_setopt(c->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)resp->body.max) !=
            CURLE_OK ||
        (pre && set_auth(c->easy, req, CURLAUTH_BASIC))) {
        rc = eca_err_set(err, ECA_EINVAL, "%s %.200s: libcurl refused an option", req->method,
                         req->url);
        goto out;
    }
    resp->conn.new_connections = 0;
    rc = run(c, req, resp, err);
    /*
     * Credentials only in the scheme the server asked for (RFC 9110 §11.6.1). No reset in
     * between: libcurl keeps the Digest nonce it read from the 401 and answers it directly.
     */
    if (rc == ECA_OK && with_creds && (scheme = answer_scheme(req, resp, pre)) != 0) {
        if (set_auth(c->easy, req, scheme)) {
            rc = eca_err_set(err, ECA_EINVAL, "%s %.200s: libcurl refused the credentials",
                             req->method, req->url);
            goto out;
        }
        rc = run(c, req, resp, err);
    }
out:
    /* Do not leave the password in the handle between requests. */
    curl_easy_setopt(c->easy, CURLOPT_PASSWORD, NULL);
    curl_slist_free_all(hdrs);
    return rc;
}

static void
curl_ctx_free(void *ctx)
{
    struct curl_ctx *c = ctx;

    if (c == NULL)
        return;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    free(c->user_agent);
    free(c->ca_bundle);
    free(c->client_cert);
    free(c->client_key);
    free(c);
}

static const struct eca_http_ops curl_ops = {curl_perform, curl_ctx_free};

static int
dup_opt(char **dst, const char *src)
{
    if (src == NULL)
        return 1;
    *dst = strdup(src);
    return *dst != NULL;
}

enum eca_rc
eca_http_curl_new(const struct eca_http_opts *opts, struct eca_http **out, struct eca_err *err)
{
    struct curl_ctx *c;
    enum eca_rc rc;

    if (opts == NULL || opts->user_agent == NULL || *opts->user_agent == '\0')
        return eca_err_set(err, ECA_EINVAL, "http: a User-Agent is required");
    if ((opts->client_cert == NULL) != (opts->client_key == NULL))
        return eca_err_set(err, ECA_EINVAL, "http: client certificate and key go together");
    if ((c = calloc(1, sizeof *c)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "http: out of memory");
    rc = ECA_ENOMEM;
    if (!dup_opt(&c->user_agent, opts->user_agent) || !dup_opt(&c->ca_bundle, opts->ca_bundle) ||
        !dup_opt(&c->client_cert, opts->client_cert) ||
        !dup_opt(&c->client_key, opts->client_key)) {
        eca_err_set(err, rc, "http: out of memory");
        goto out;
    }
    c->insecure = opts->insecure;
    c->tls12_max = opts->tls12_max;
    c->connect_timeout_s = opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 10;
    c->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 60;
    c->low_speed_bytes = opts->low_speed_bytes > 0 ? opts->low_speed_bytes : 16;
    c->low_speed_time_s = opts->low_speed_time_s > 0 ? opts->low_speed_time_s : 10;
    c->max_body = opts->max_body ? opts->max_body : ECA_HTTP_DEFAULT_MAX_BODY;
    if ((c->easy = curl_easy_init()) == NULL) {
        eca_err_set(err, rc, "http: curl_easy_init failed");
        goto out;
    }
    if ((rc = eca_http_new(&curl_ops, c, out, err)) != ECA_OK)
        goto out;
    eca_http_set_max_body(*out, c->max_body);
    c = NULL; /* owned by the transport now */
out:
    curl_ctx_free(c);
    return rc;
}
