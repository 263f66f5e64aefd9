/* SPDX-License-Identifier: MIT */
/* HTTP request/response types and the transport interface (libcurl in eca_http_curl.c). */
#ifndef ECA_HTTP_H
#define ECA_HTTP_H

#include <stddef.h>
#include <time.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_secret.h"

#define ECA_HTTP_MAX_HEADERS      64
#define ECA_HTTP_DEFAULT_MAX_BODY ((size_t)256 << 10)

/* A request. Borrowed pointers; nothing here is freed by the transport. */
struct eca_http_req {
    const char *method; /* "GET", "POST", "HEAD" */
    const char *url;
    const char *content_type; /* POST only */
    const void *body;
    size_t body_len;            /* always sent as Content-Length, never chunked */
    const char *const *headers; /* extra "Name: value" lines */
    size_t nheaders;
    const char *basic_user; /* HTTP Basic, with basic_pass */
    const struct eca_secret *basic_pass;
    int basic_after_challenge; /* 1: send credentials only after a 401 challenge */
    int digest_ok;   /* 1: answer a 401 Digest challenge (RFC 7616) with basic_user/basic_pass */
    long timeout_ms; /* this exchange, connect included, when shorter than the transport's
                        own (what is left of a caller's deadline); 0: the transport's */
};

/* The connection a response came on, as far as the transport knows (zeros otherwise). */
struct eca_http_conn_info {
    long new_connections;         /* connections opened for this exchange; 0: one was reused */
    char tls_version[16];         /* "TLSv1.2", "TLSv1.3"; "" for http:// or unknown */
    unsigned char tls_unique[64]; /* RFC 5929 §3.1: first Finished of the latest handshake */
    size_t tls_unique_len;        /* 0: none (TLS 1.3, plain http, unknown) */
};

/* A received response: owned, release with eca_http_resp_free(). */
struct eca_http_resp {
    long status;
    char *headers[ECA_HTTP_MAX_HEADERS]; /* raw "Name: value" lines of the final response */
    size_t nheaders;
    struct eca_buf body;
    struct eca_http_conn_info conn;
};

/* Transport settings, fixed when the transport is created. */
struct eca_http_opts {
    const char *user_agent;  /* "<agent>/<version>": always sent */
    const char *ca_bundle;   /* PEM trust anchors; NULL: the system store */
    int insecure;            /* allow http:// URLs; TLS verification stays on for https */
    const char *client_cert; /* PEM certificate (chain) for mTLS; NULL: none */
    const char *client_key;  /* PEM key for mTLS */
    long connect_timeout_s;  /* 0: 10 s */
    long timeout_s;          /* whole request; 0: 60 s */
    long low_speed_bytes;    /* a transfer slower than this many bytes/s ... */
    long low_speed_time_s;   /* ... for this long is cut (a trickling server); 0: 16 B/s, 10 s */
    size_t max_body;         /* 0: ECA_HTTP_DEFAULT_MAX_BODY */
    int tls12_max;           /* cap at TLS 1.2: tls-unique (RFC 5929) does not exist in 1.3 */
};

/* The transport behind the interface, so protocol drivers can be tested with canned replies. */
struct eca_http_ops {
    enum eca_rc (*perform)(void *ctx, const struct eca_http_req *req, struct eca_http_resp *resp,
                           struct eca_err *err);
    void (*free)(void *ctx);
};

struct eca_http;

/* Wrap ops+ctx as a transport (fake transports in tests). ctx is freed with ops->free. */
enum eca_rc eca_http_new(const struct eca_http_ops *ops, void *ctx, struct eca_http **out,
                         struct eca_err *err);

/*
 * The libcurl transport: TLS peer and host verification always on, https only (http:// too
 * with insecure), no redirects, response bodies capped. Errors: ECA_ETLS (handshake or
 * verification), ECA_ETIMEOUT, ECA_ENET (DNS, connect), ECA_ETOOBIG (body over the cap).
 */
enum eca_rc eca_http_curl_new(const struct eca_http_opts *opts, struct eca_http **out,
                              struct eca_err *err);

/*
 * Perform one request. A transport failure (DNS, TLS, timeout, cap) is an error; any HTTP
 * status, 4xx and 5xx included, is ECA_OK with resp->status set: the protocol decides.
 * resp is initialised by this call; free it with eca_http_resp_free() whatever the result.
 */
enum eca_rc eca_http_perform(struct eca_http *h, const struct eca_http_req *req,
                             struct eca_http_resp *resp, struct eca_err *err);

void eca_http_free(struct eca_http *h);

/* Cap response bodies of later requests at max_body bytes (0: ECA_HTTP_DEFAULT_MAX_BODY). */
void eca_http_set_max_body(struct eca_http *h, size_t max_body);
size_t eca_http_max_body(const struct eca_http *h);

void eca_http_resp_init(struct eca_http_resp *resp, size_t max_body);
/* Frees headers and body; resp is left initialised (same cap) and empty. NULL is a no-op. */
void eca_http_resp_free(struct eca_http_resp *resp);

/* Drop all header lines (a transport that sees a new status line starts over). */
void eca_http_resp_clear_headers(struct eca_http_resp *resp);

/* Append a raw "Name: value" header line (trailing CR/LF stripped); ECA_ETOOBIG past the max. */
enum eca_rc eca_http_resp_add_header(struct eca_http_resp *resp, const char *line, size_t len,
                                     struct eca_err *err);

/*
 * Value of the first header called name (case-insensitive), leading/trailing blanks trimmed
 * into out (at most outlen-1 bytes). Returns 1 if found, 0 if absent.
 */
int eca_http_resp_header(const struct eca_http_resp *resp, const char *name, char *out,
                         size_t outlen);

/* The idx-th (0-based) header called name, or NULL: a pointer to the value in resp. */
const char *eca_http_resp_header_nth(const struct eca_http_resp *resp, const char *name,
                                     size_t idx);

/* Media type of Content-Type, lower-cased, without parameters ("application/json"). */
int eca_http_resp_media_type(const struct eca_http_resp *resp, char *out, size_t outlen);

/* Longest wait eca_http_retry_after() returns: a day, so a bogus header cannot park us. */
#define ECA_HTTP_RETRY_AFTER_MAX 86400L

/*
 * Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3;
 * IMF-fixdate, RFC 850 and asctime forms) relative to now. -1 if the value is invalid
 * (negative numbers included); 0 for dates in the past; at most ECA_HTTP_RETRY_AFTER_MAX.
 */
long eca_http_retry_after(const char *value, time_t now);

/*
 * ECA_EINVAL naming the URL unless it is https:// (or http:// with insecure set) with a host.
 * Spaces, control characters and userinfo ("user:pass@") are refused too.
 */
enum eca_rc eca_http_check_url(const char *url, int insecure, struct eca_err *err);

/*
 * url without userinfo, query or fragment (which may carry credentials), for log lines and
 * error messages; written to out (truncated to outlen) and returned.
 */
const char *eca_http_url_for_log(const char *url, char *out, size_t outlen);

#endif
