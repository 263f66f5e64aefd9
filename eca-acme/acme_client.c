/* SPDX-License-Identifier: MIT */
/* The ACME driver: the only ACME file that talks to a transport (nonces, retries, polling). */
#include "acme_client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme_account.h"
#include "acme_dir.h"
#include "acme_jws.h"
#include "acme_order.h"
#include "acme_problem.h"
#include "eca_clock.h"
#include "eca_log.h"
#include "eca_x509.h"

#define JOSE      "application/jose+json"
#define PEM_CHAIN "application/pem-certificate-chain"
/* RFC 8555 §6.5: retry with the new nonce. Bounded, but loose enough that a server rejecting
 * a fifth of all nonces (pebble's test mode) fails about one request in fifty million, not one in
 * 15,000. */
#define BAD_NONCE_RETRIES 10
#define RATE_RETRIES      10 /* bound on Retry-After rounds, whatever the budget */
#define MAX_ALTERNATES    8
/*
 * First re-poll of a pending resource without Retry-After: a CA on this host (pebble, a test
 * CA) validates and issues within a millisecond or two, so waiting longer is idle time. A CA
 * across a network gets a floor instead: at most four polls in its first second and a half.
 * Either way the backoff doubles to POLL_MAX_MS, and POLL_MAX_COUNT bounds the polls of one
 * resource in a pass (the order is resumed at the next pass).
 */
#define POLL_FIRST_MS        2
#define POLL_FIRST_REMOTE_MS 100
#define POLL_MAX_MS          1000
#define POLL_MAX_COUNT       40
#define PASS_TIMEOUT_MS      300000L /* a pass without a configured deadline */

struct acme_client {
    struct eca_http *http;
    const struct eca_key *key;
    const struct eca_secret *eab_hmac;
    char *eab_kid;
    char *kid;
    char *preferred_chain;
    const char *const *contact;
    size_t ncontact;
    int tos_agreed;
    int account_key_new;
    int account_created; /* the last account step created one (not found an existing one) */
    long max_wait_s;
    long pass_timeout_ms;
    long long deadline_ms; /* monotonic: the end of this pass */
    long poll_first_ms;    /* POLL_FIRST_MS on loopback, POLL_FIRST_REMOTE_MS elsewhere */
    int (*should_stop)(void);
    void (*account_changed)(void *ctx, const char *url);
    void *account_ctx;
    struct acme_dir *dir;
    char *nonce;
    long last_retry_after; /* of the last response, -1: none */
    /* dns-01 answers (acme_client_set_dns01); NULL: http-01 only */
    const struct acme_dns_responder *dns01;
};

/* One in-flight request. */
struct call {
    const char *method;
    const char *url;
    const char *payload; /* POST: JSON text; NULL: POST-as-GET */
    int use_jwk;         /* sign with the JWK instead of the kid (newAccount) */
    const char *what;    /* for errors: "newOrder" */
};

static long long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left of this pass (never below 0). */
static long
left_ms(const struct acme_client *c)
{
    long long left = c->deadline_ms - mono_ms();

    return left > 0 ? (long)left : 0;
}

void
acme_client_pass_start(struct acme_client *c)
{
    c->deadline_ms = mono_ms() + c->pass_timeout_ms;
}

/* 1 if the URL's host is this machine (localhost, 127.0.0.0/8, [::1]). */
static int
is_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    size_t n;

    h = h != NULL ? h + 3 : url;
    n = strcspn(h, ":/?#");
    if (*h == '[')
        return strncmp(h, "[::1]", 5) == 0;
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0) || strncmp(h, "127.", 4) == 0;
}

static int
stopped(const struct acme_client *c)
{
    return c->should_stop != NULL && c->should_stop();
}

/* Wait ms milliseconds; a stop request ends the wait early (eca_clock_sleep_ms). */
static enum eca_rc
wait_ms(struct acme_client *c, long ms, struct eca_err *err)
{
    if (eca_clock_sleep_ms(ms, c->should_stop))
        return eca_err_set(err, ECA_ESTOPPED, "stopped while waiting for the ACME server");
    return ECA_OK;
}

static long
resp_retry_after(const struct eca_http_resp *resp)
{
    char v[128];

    if (!eca_http_resp_header(resp, "Retry-After", v, sizeof v))
        return -1;
    return eca_http_retry_after(v, eca_clock_now());
}

/* Keep the Replay-Nonce of any response (RFC 8555 §6.5); a malformed one is ignored. */
static void
take_nonce(struct acme_client *c, const struct eca_http_resp *resp)
{
    char v[300];

    if (!eca_http_resp_header(resp, "Replay-Nonce", v, sizeof v) || !acme_token_is_valid(v))
        return;
    free(c->nonce);
    c->nonce = strdup(v);
}

static enum eca_rc
perform(struct acme_client *c, const struct eca_http_req *req, const char *what,
        struct eca_http_resp *resp, struct eca_err *err)
{
    struct eca_http_req timed = *req;
    long left = left_ms(c);
    enum eca_rc rc;

    eca_http_resp_free(resp);
    if (left <= 0)
        return eca_err_set(err, ECA_ETIMEOUT,
                           "%s %s: the pass deadline (pass_timeout_seconds = %ld) has passed", what,
                           req->url, c->pass_timeout_ms / 1000);
    /* No request outlives the pass, whatever the transport's own timeout. */
    timed.timeout_ms = left;
    rc = eca_http_perform(c->http, &timed, resp, err);
    if (rc != ECA_OK) {
        eca_err_prefix(err, "%s %s: ", what, req->url);
        return rc;
    }
    take_nonce(c, resp);
    c->last_retry_after = resp_retry_after(resp);
    eca_log(ECA_LOG_DEBUG, "acme_request", NULL,
            ECA_LOG_FIELDS(ECA_LS("method", req->method), ECA_LS("url", req->url),
                           ECA_LI("status", resp->status)),
            "%s", what);
    return ECA_OK;
}

/* newNonce (RFC 8555 §7.2): HEAD, any 2xx carrying a Replay-Nonce. */
static enum eca_rc
new_nonce(struct acme_client *c, struct eca_err *err)
{
    struct eca_http_req req = {.method = "HEAD", .url = c->dir->new_nonce};
    struct eca_http_resp resp;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    rc = perform(c, &req, "newNonce", &resp, err);
    if (rc == ECA_OK && (resp.status < 200 || resp.status > 299))
        rc = acme_problem_check(&resp, "newNonce", NULL, eca_clock_now(), err);
    if (rc == ECA_OK && c->nonce == NULL)
        rc = eca_err_set(err, ECA_EPROTO, "newNonce %s: no valid Replay-Nonce in the response",
                         req.url);
    eca_http_resp_free(&resp);
    return rc;
}

static enum eca_rc
send_once(struct acme_client *c, const struct call *call, struct eca_http_resp *resp,
          struct eca_err *err)
{
    struct eca_http_req req = {.method = call->method, .url = call->url};
    struct eca_buf jws;
    enum eca_rc rc = ECA_OK;

    eca_buf_init(&jws, 0);
    if (strcmp(call->method, "POST") == 0) {
        if (c->nonce == NULL && (rc = new_nonce(c, err)) != ECA_OK)
            goto out;
        rc = acme_jws_sign(c->key, call->use_jwk ? NULL : c->kid, c->nonce, call->url,
                           call->payload, &jws, err);
        /* A nonce is good for one request only. */
        free(c->nonce);
        c->nonce = NULL;
        if (rc != ECA_OK)
            goto out;
        req.content_type = JOSE;
        req.body = jws.data;
        req.body_len = jws.len;
    }
    rc = perform(c, &req, call->what, resp, err);
out:
    eca_buf_free(&jws);
    return rc;
}

/*
 * 1 if the response asks for the same request again: badNonce (RFC 8555 §6.5, up to
 * BAD_NONCE_RETRIES) or 429/503/rateLimited with a Retry-After that fits the budget.
 */
static int
want_retry(struct acme_client *c, const struct eca_http_resp *resp, int *bad_nonces, int *rounds,
           long *waited)
{
    struct acme_problem *p;
    int again = 0;
    long ra = c->last_retry_after;

    if (resp->status < 400)
        return 0;
    p = acme_problem_of(resp);
    if (acme_problem_is(p, "badNonce") && *bad_nonces < BAD_NONCE_RETRIES) {
        (*bad_nonces)++;
        again = 1;
    } else if ((resp->status == 429 || resp->status == 503 || acme_problem_is(p, "rateLimited")) &&
               ra >= 0 && *waited + ra <= c->max_wait_s && ra * 1000 < left_ms(c) &&
               *rounds < RATE_RETRIES) {
        (*rounds)++;
        *waited += ra;
        again = 2;
    }
    acme_problem_free(p);
    return again;
}

/* Send a request, retrying as the server asks; any final HTTP status is ECA_OK. */
static enum eca_rc
exchange(struct acme_client *c, const struct call *call, struct eca_http_resp *resp,
         struct eca_err *err)
{
    int bad_nonces = 0, rounds = 0, again;
    long waited = 0, before;
    enum eca_rc rc;

    for (;;) {
        if (stopped(c))
            return eca_err_set(err, ECA_ESTOPPED, "%s: stopped", call->what);
        if ((rc = send_once(c, call, resp, err)) != ECA_OK)
            return rc;
        before = waited;
        again = want_retry(c, resp, &bad_nonces, &rounds, &waited);
        if (again == 0)
            return ECA_OK;
        eca_log(ECA_LOG_INFO, "acme_retry", NULL,
                ECA_LOG_FIELDS(ECA_LS("url", call->url), ECA_LI("status", resp->status),
                               ECA_LI("wait_s", waited - before)),
                "%s: %s", call->what, again == 1 ? "badNonce, retrying" : "server busy");
        if (again == 2 && (rc = wait_ms(c, (waited - before) * 1000, err)) != ECA_OK)
            return rc;
    }
}

/*
 * A parser's verdict, with the HTTP-date Retry-After the pure gate could not compute, and
 * what the server asked for said in the message (an operator reads how long, not a header).
 */
static enum eca_rc
verdict(struct acme_client *c, enum eca_rc rc, struct eca_err *err)
{
    size_t n;

    if (rc != ECA_EAGAIN || err == NULL)
        return rc;
    if (err->retry_after < 0)
        err->retry_after = c->last_retry_after;
    n = strlen(err->msg);
    if (err->retry_after >= 0 && strstr(err->msg, "server asked") == NULL)
        snprintf(err->msg + n, sizeof err->msg - n, "; server asked to retry in %ld s",
                 err->retry_after);
    return rc;
}

static enum eca_rc
fetch_directory(struct acme_client *c, const char *url, struct eca_err *err)
{
    struct call call = {"GET", url, NULL, 0, "directory"};
    struct eca_http_resp resp;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    rc = exchange(c, &call, &resp, err);
    if (rc == ECA_OK)
        rc = verdict(c, acme_dir_parse(&resp, &c->dir, err), err);
    if (rc != ECA_OK && rc != ECA_ESTOPPED && strstr(err ? err->msg : "", url) == NULL)
        eca_err_prefix(err, "%s: ", url);
    eca_http_resp_free(&resp);
    return rc;
}

enum eca_rc
acme_client_new(const struct acme_client_opts *opts, struct acme_client **out, struct eca_err *err)
{
    struct acme_client *c;
    enum eca_rc rc;

    if (opts->directory_url == NULL || opts->http == NULL || opts->account_key == NULL)
        return eca_err_set(err, ECA_EINVAL,
                           "acme client: directory URL, transport and "
                           "account key are required");
    if ((opts->eab_kid == NULL) != (opts->eab_hmac == NULL))
        return eca_err_set(err, ECA_EINVAL, "acme client: EAB needs both the kid and the key");
    if (acme_jws_alg(opts->account_key) == NULL)
        return eca_err_set(err, ECA_EINVAL,
                           "acme client: account key type %s cannot sign JWS (use ec-p256, "
                           "ec-p384 or RSA)",
                           eca_key_type_name(eca_key_type_of(opts->account_key)));
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return eca_err_set(err, ECA_ENOMEM, "acme client: out of memory");
    c->http = opts->http;
    c->key = opts->account_key;
    c->eab_hmac = opts->eab_hmac;
    c->contact = opts->contact;
    c->ncontact = opts->ncontact;
    c->tos_agreed = opts->tos_agreed;
    c->account_key_new = opts->account_key_new;
    c->max_wait_s = opts->max_wait_s > 0 ? opts->max_wait_s : 300;
    c->pass_timeout_ms = opts->pass_timeout_s > 0 ? opts->pass_timeout_s * 1000 : PASS_TIMEOUT_MS;
    c->poll_first_ms = is_loopback(opts->directory_url) ? POLL_FIRST_MS : POLL_FIRST_REMOTE_MS;
    acme_client_pass_start(c);
    c->should_stop = opts->should_stop;
    c->account_changed = opts->account_changed;
    c->account_ctx = opts->account_ctx;
    c->last_retry_after = -1;
    if ((opts->account_url && !(c->kid = strdup(opts->account_url))) ||
        (opts->eab_kid && !(c->eab_kid = strdup(opts->eab_kid))) ||
        (opts->preferred_chain && !(c->preferred_chain = strdup(opts->preferred_chain)))) {
        rc = eca_err_set(err, ECA_ENOMEM, "acme client: out of memory");
        goto out;
    }
    rc = fetch_directory(c, opts->directory_url, err);
out:
    if (rc != ECA_OK)
        acme_client_free(c);
    else
        *out = c;
    return rc;
}

const char *
acme_client_account_url(const struct acme_client *c)
{
    return c->kid;
}

static enum eca_rc
new_account_payload(struct acme_client *c, struct eca_buf *payload, struct eca_err *err)
{
    struct acme_account_req req = {c->contact, c->ncontact, c->tos_agreed, 0, NULL};
    struct eca_buf eab;
    enum eca_rc rc = ECA_OK;

    eca_buf_init(&eab, 0);
    if (c->dir->eab_required && c->eab_kid == NULL) {
        rc = eca_err_set(err, ECA_ECONF,
                         "newAccount: the server requires external account "
                         "binding (EAB_KID, EAB_HMAC_KEY_FILE)");
        goto out;
    }
    if (c->eab_kid != NULL) {
        rc = acme_jws_eab(c->key, c->eab_kid, c->eab_hmac, c->dir->new_account, &eab, err);
        if (rc != ECA_OK)
            goto out;
        req.eab_jws = eca_buf_str(&eab);
    }
    rc = acme_account_build_new(&req, payload, err);
out:
    eca_buf_free(&eab);
    return rc;
}

/*
 * One newAccount request (RFC 8555 §7.3): a lookup with onlyReturnExisting (§7.3.1), or
 * a creation with contact, ToS and EAB. An unknown key on lookup is ECA_ENOTFOUND.
 */
static enum eca_rc
new_account(struct acme_client *c, int lookup, struct acme_account **out, struct eca_err *err)
{
    struct acme_account_req find = {NULL, 0, 0, 1, NULL};
    struct call call = {"POST", c->dir->new_account, NULL, 1, "newAccount"};
    struct eca_http_resp resp;
    struct eca_buf payload;
    enum eca_rc rc;

    eca_buf_init(&payload, 0);
    eca_http_resp_init(&resp, 0);
    rc = lookup ? acme_account_build_new(&find, &payload, err)
                : new_account_payload(c, &payload, err);
    if (rc != ECA_OK)
        goto out;
    call.payload = eca_buf_str(&payload);
    if ((rc = exchange(c, &call, &resp, err)) == ECA_OK)
        rc = verdict(c, acme_account_parse(&resp, out, err), err);
out:
    eca_buf_free(&payload);
    eca_http_resp_free(&resp);
    return rc;
}

/* A deactivated or revoked account takes no request (RFC 8555 §7.3.6): ECA_EAUTH. */
static enum eca_rc
account_usable(const struct acme_account *a, struct eca_err *err)
{
    if (a->status == ACME_ACCOUNT_VALID)
        return ECA_OK;
    return eca_err_set(err, ECA_EAUTH, "account %s is %s", a->url,
                       a->status == ACME_ACCOUNT_REVOKED ? "revoked" : "deactivated");
}

/*
 * Find or create the account of the key. With the URL lost but the key kept, look it up
 * first (onlyReturnExisting, RFC 8555 §7.3.1): that needs no EAB and never creates a second
 * account; only accountDoesNotExist leads to creation. A key just generated has no account.
 */
enum eca_rc
acme_client_account(struct acme_client *c, struct eca_err *err)
{
    struct acme_account *a = NULL;
    enum eca_rc rc = ECA_ENOTFOUND;

    if (c->kid != NULL)
        return ECA_OK;
    if (!c->account_key_new)
        rc = new_account(c, 1, &a, err);
    if (rc == ECA_ENOTFOUND) {
        eca_err_clear(err);
        rc = new_account(c, 0, &a, err);
    }
    if (rc != ECA_OK || (rc = account_usable(a, err)) != ECA_OK)
        goto out;
    c->kid = a->url;
    a->url = NULL;
    c->account_created = a->created;
    eca_log(ECA_LOG_INFO, "acme_account", NULL,
            ECA_LOG_FIELDS(ECA_LS("account", c->kid), ECA_LB("created", a->created)), "%s",
            a->created ? "account created" : "existing account found");
    if (c->account_changed != NULL)
        c->account_changed(c->account_ctx, c->kid);
out:
    acme_account_free(a);
    return rc;
}

/* An order in progress, and what must be undone (published tokens) at the end. */
struct issue {
    struct acme_order *order;
    struct acme_authz **authz;
    unsigned char *responded;
    char **published;
    int finalized;
    long polled_ms;         /* time spent waiting on this order so far */
    long backoff_ms;        /* the last wait on the resource in prev, 0: none yet */
    int polls;              /* polls of the resource in prev so far */
    const char *what_state; /* the status of the resource polled, for messages */
    int dead;               /* the order failed for good (invalid, refused): nothing to resume */
    int resumed;            /* taken up from an earlier pass (its tokens are no longer published) */
    char *prev;             /* the resource the previous step left us looking at */
    /* answers dns-01 challenges: those have responded[i] == ANSWERED_DNS */
    const struct acme_dns_responder *dns01;
};

#define ANSWERED_DNS 2 /* responded[i]: published through dns01, not the http-01 responder */

/* POST-as-GET (RFC 8555 §6.3) of a JSON resource. */
static enum eca_rc
post_as_get(struct acme_client *c, const char *url, const char *what, struct eca_http_resp *resp,
            struct eca_err *err)
{
    struct call call = {"POST", url, NULL, 0, what};

    return exchange(c, &call, resp, err);
}

static enum eca_rc
fetch_authz(struct acme_client *c, struct issue *is, size_t i, struct eca_err *err)
{
    struct eca_http_resp resp;
    struct acme_authz *a = NULL;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    rc = post_as_get(c, is->order->authz[i], "authz", &resp, err);
    if (rc == ECA_OK)
        rc = verdict(c, acme_authz_parse(&resp, &a, err), err);
    if (rc == ECA_OK) {
        acme_authz_free(is->authz[i]);
        is->authz[i] = a;
    }
    eca_http_resp_free(&resp);
    return rc;
}

/* Publish the key authorization for authorization i's token (recorded, to come down later). */
static enum eca_rc
publish(struct acme_client *c, struct issue *is, size_t i, const char *type, const char *token,
        const struct acme_responder *r, struct eca_err *err)
{
    int dns = strcmp(type, "dns-01") == 0;
    struct eca_buf ka;
    enum eca_rc rc;

    eca_buf_init(&ka, 0);
    if ((rc = acme_jws_key_authz(c->key, token, &ka, err)) != ECA_OK)
        goto out;
    rc = dns ? is->dns01->publish(is->dns01->ctx, is->authz[i]->id_value, token, eca_buf_str(&ka),
                                  err)
             : r->publish(r->ctx, token, eca_buf_str(&ka), err);
    if (rc != ECA_OK) {
        eca_err_prefix(err, "%s for %s: ", type, is->authz[i]->id_value);
        goto out;
    }
    if ((is->published[i] = strdup(token)) == NULL) {
        if (dns)
            is->dns01->unpublish(is->dns01->ctx, token);
        else
            r->unpublish(r->ctx, token);
        rc = eca_err_set(err, ECA_ENOMEM, "challenge: out of memory");
        goto out;
    }
    is->responded[i] = dns ? ANSWERED_DNS : 1;
out:
    eca_buf_free(&ka);
    return rc;
}

/* Publish the key authorization, then tell the server to validate (RFC 8555 §7.5.1). */
static enum eca_rc
respond(struct acme_client *c, struct issue *is, const struct acme_action *act,
        const struct acme_responder *r, struct eca_err *err)
{
    struct call call = {"POST", act->url, "{}", 0, "challenge"};
    struct acme_challenge *ch = NULL;
    struct eca_http_resp resp;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    if ((rc = publish(c, is, act->index, act->challenge->type, act->challenge->token, r, err)) ==
            ECA_OK &&
        (rc = exchange(c, &call, &resp, err)) == ECA_OK)
        rc = verdict(c, acme_challenge_parse(&resp, &ch, err), err);
    acme_challenge_free(ch);
    eca_http_resp_free(&resp);
    return rc;
}

/*
 * A resumed order whose http-01 challenge the CA is still validating: the token came down with
 * the earlier pass, so it goes up again (without a second POST: the challenge was answered).
 */
static enum eca_rc
republish(struct acme_client *c, struct issue *is, size_t i, const struct acme_responder *r,
          struct eca_err *err)
{
    const struct acme_authz *a = is->authz[i];
    const struct acme_challenge *ch = acme_authz_challenge(a, "http-01");

    if (!is->resumed || is->published[i] != NULL || a->status != ACME_ST_PENDING || ch == NULL ||
        ch->status != ACME_ST_PROCESSING || ch->token == NULL)
        return ECA_OK;
    return publish(c, is, i, ch->type, ch->token, r, err);
}

/*
 * Wait before polling url again. A Retry-After is honoured (RFC 8555 §7.5.1, §7.4). Without
 * one, a resource we just saw is re-polled after poll_first_ms, doubling up to POLL_MAX_MS:
 * a CA validates and issues in milliseconds to seconds, so a fixed wait wastes most of it.
 * A fresh resource (the order once every authorization is valid) is fetched at once.
 * A wait the pass cannot afford (a Retry-After past its deadline, or past max_wait_s of
 * polling) ends the pass with ECA_EAGAIN and err->retry_after: the order stays open and the
 * next pass resumes it. More than POLL_MAX_COUNT polls of one resource is ECA_ETIMEOUT.
 */
static enum eca_rc
poll_wait(struct acme_client *c, struct issue *is, const char *url, const char *what,
          struct eca_err *err)
{
    int same = is->prev != NULL && strcmp(is->prev, url) == 0;
    long ms, ra = c->last_retry_after, left = left_ms(c);
    enum eca_rc rc;

    if (!same) {
        is->backoff_ms = 0;
        is->polls = 0;
    }
    if (++is->polls > POLL_MAX_COUNT)
        return eca_err_set(err, ECA_ETIMEOUT,
                           "%s still pending after %d polls in this pass; the order is resumed at "
                           "the next",
                           what, POLL_MAX_COUNT);
    if (ra > 0) {
        ms = ra * 1000;
    } else if (!same) {
        return ECA_OK;
    } else {
        ms = is->backoff_ms == 0 ? c->poll_first_ms : is->backoff_ms * 2;
        ms = ms > POLL_MAX_MS ? POLL_MAX_MS : ms;
        is->backoff_ms = ms;
    }
    if (ms >= left || is->polled_ms + ms > c->max_wait_s * 1000) {
        rc = eca_err_set(err, ECA_EAGAIN,
                         ra > 0 ? "%s still %s: server asked to retry in %ld s, more than this "
                                  "pass has left (%ld s); the order is resumed then"
                                : "%s still %s after %ld s of polling (limit %ld s); the order "
                                  "is resumed at the next pass",
                         what, is->what_state, ra > 0 ? ra : is->polled_ms / 1000,
                         ra > 0 ? left / 1000 : c->max_wait_s);
        if (err != NULL)
            err->retry_after = ra > 0 ? ra : (ms + 999) / 1000;
        return rc;
    }
    is->polled_ms += ms;
    eca_log(ECA_LOG_DEBUG, "acme_poll_wait", NULL,
            ECA_LOG_FIELDS(ECA_LS("url", url), ECA_LI("wait_ms", ms), ECA_LI("retry_after", ra)),
            NULL);
    return wait_ms(c, ms, err);
}

/* Replace the order with the response to a finalize or an order poll. */
static enum eca_rc
order_update(struct acme_client *c, struct issue *is, const struct call *call, struct eca_err *err)
{
    struct eca_http_resp resp;
    struct acme_order *o = NULL;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    rc = exchange(c, call, &resp, err);
    if (rc == ECA_OK)
        rc = verdict(c, acme_order_parse(&resp, &o, err), err);
    if (rc == ECA_OK && o->nauthz != is->order->nauthz)
        rc = eca_err_set(err, ECA_EPROTO, "order %s: authorizations changed", is->order->url);
    if (rc == ECA_OK) {
        free(o->url);
        o->url = is->order->url;
        is->order->url = NULL;
        acme_order_free(is->order);
        is->order = o;
        o = NULL;
    }
    acme_order_free(o);
    eca_http_resp_free(&resp);
    return rc;
}

static enum eca_rc
finalize(struct acme_client *c, struct issue *is, const void *csr, size_t len, struct eca_err *err)
{
    struct eca_buf payload;
    struct call call = {"POST", is->order->finalize, NULL, 0, "finalize"};
    enum eca_rc rc;

    eca_buf_init(&payload, 0);
    rc = acme_order_build_finalize(csr, len, &payload, err);
    call.payload = eca_buf_str(&payload);
    if (rc == ECA_OK)
        rc = order_update(c, is, &call, err);
    is->finalized = 1;
    eca_buf_free(&payload);
    return rc;
}

/* Download one certificate chain (RFC 8555 §7.4.2) into resp. */
static enum eca_rc
fetch_chain(struct acme_client *c, const char *url, struct eca_http_resp *resp, struct eca_err *err)
{
    enum eca_rc rc = post_as_get(c, url, "certificate", resp, err);

    if (rc == ECA_OK)
        rc = verdict(c, acme_problem_check(resp, "certificate", PEM_CHAIN, eca_clock_now(), err),
                     err);
    if (rc == ECA_OK && (resp->body.len == 0 ||
                         strstr(eca_buf_str(&resp->body), "-----BEGIN CERTIFICATE-----") == NULL))
        rc = eca_err_set(err, ECA_EPARSE, "certificate %s: no PEM certificate in the body", url);
    return rc;
}

/* 1 if the issuer of the chain's topmost certificate contains want. */
static int
chain_matches(const struct eca_http_resp *resp, const char *want)
{
    struct eca_chain *chain = NULL;
    char issuer[1024] = "";
    size_t n;

    if (eca_x509_chain_from_pem(resp->body.data, resp->body.len, &chain, NULL) != ECA_OK)
        return 0;
    n = eca_x509_chain_count(chain);
    if (n > 0)
        eca_x509_issuer(eca_x509_chain_get(chain, n - 1), issuer, sizeof issuer);
    eca_x509_chain_free(chain);
    return n > 0 && strstr(issuer, want) != NULL;
}

/* Try the alternate chains (Link rel="alternate") for one whose top issuer matches. */
static void
pick_alternate(struct acme_client *c, struct eca_http_resp *chosen)
{
    char *urls[MAX_ALTERNATES];
    size_t n = acme_order_links(chosen, "alternate", urls, MAX_ALTERNATES);
    struct eca_http_resp alt;
    struct eca_err aerr;
    int found = 0;

    for (size_t i = 0; i < n; i++) {
        eca_http_resp_init(&alt, 0);
        eca_err_clear(&aerr);
        if (!found && fetch_chain(c, urls[i], &alt, &aerr) == ECA_OK &&
            chain_matches(&alt, c->preferred_chain)) {
            eca_http_resp_free(chosen);
            *chosen = alt;
            found = 1;
        } else {
            if (aerr.rc != ECA_OK)
                eca_log(ECA_LOG_WARN, "acme_alternate_failed", NULL,
                        ECA_LOG_FIELDS(ECA_LS("url", urls[i])), "%s", aerr.msg);
            eca_http_resp_free(&alt);
        }
        free(urls[i]);
    }
    if (!found)
        eca_log(ECA_LOG_WARN, "acme_preferred_chain_missing", NULL,
                ECA_LOG_FIELDS(ECA_LS("preferred_chain", c->preferred_chain)),
                "no chain with that issuer offered; keeping the default chain");
}

static enum eca_rc
download(struct acme_client *c, const char *url, struct eca_buf *out, struct eca_err *err)
{
    struct eca_http_resp resp;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    rc = fetch_chain(c, url, &resp, err);
    if (rc == ECA_OK && c->preferred_chain != NULL && !chain_matches(&resp, c->preferred_chain))
        pick_alternate(c, &resp);
    if (rc == ECA_OK)
        rc = eca_buf_append(out, resp.body.data, resp.body.len, err);
    eca_http_resp_free(&resp);
    return rc;
}

/* 1 if a failed newOrder that carried "replaces" was refused because of it. */
static int
replaces_refused(const struct acme_order_extra *x, const struct eca_http_resp *resp)
{
    struct acme_problem *p;
    int refused;

    if (x == NULL || x->replaces == NULL || resp->status < 400)
        return 0;
    p = acme_problem_of(resp);
    refused = acme_ari_replaces_refused(p);
    acme_problem_free(p);
    return refused;
}

/* The per-authorization bookkeeping of an order just received. */
static enum eca_rc
issue_alloc(struct issue *is, struct eca_err *err)
{
    is->authz = calloc(is->order->nauthz + 1, sizeof *is->authz);
    is->responded = calloc(is->order->nauthz + 1, 1);
    is->published = calloc(is->order->nauthz + 1, sizeof *is->published);
    if (is->authz == NULL || is->responded == NULL || is->published == NULL)
        return eca_err_set(err, ECA_ENOMEM, "order: out of memory");
    return ECA_OK;
}

/*
 * Take up an order left open by an earlier pass (POST-as-GET, RFC 8555 §7.1.3): ECA_OK when it
 * can still lead to a certificate (pending, ready, processing, valid). ECA_ENOTFOUND when it
 * cannot (the server no longer has it, or it is invalid or expired): start afresh. Anything
 * else (the network, a busy server) is returned as it is, and the order stays for later.
 */
static enum eca_rc
resume_order(struct acme_client *c, struct issue *is, const char *url, struct eca_err *err)
{
    struct eca_http_resp resp;
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    rc = post_as_get(c, url, "order", &resp, err);
    if (rc == ECA_OK && resp.status >= 400 && resp.status != 429 && resp.status != 503) {
        acme_problem_check(&resp, "order", NULL, eca_clock_now(), err);
        rc = ECA_ENOTFOUND;
    } else if (rc == ECA_OK) {
        rc = verdict(c, acme_order_parse(&resp, &is->order, err), err);
    }
    if (rc == ECA_OK) {
        free(is->order->url);
        if ((is->order->url = strdup(url)) == NULL)
            rc = eca_err_set(err, ECA_ENOMEM, "order: out of memory");
    }
    if (rc == ECA_OK && is->order->status != ACME_ST_PENDING &&
        is->order->status != ACME_ST_READY && is->order->status != ACME_ST_PROCESSING &&
        is->order->status != ACME_ST_VALID)
        rc = eca_err_set(err, ECA_ENOTFOUND, "order is %s", acme_status_name(is->order->status));
    if (rc == ECA_OK)
        rc = issue_alloc(is, err);
    /* Finalized already when it is past ready: the CSR went with the earlier pass. */
    if (rc == ECA_OK)
        is->finalized = is->order->status == ACME_ST_PROCESSING;
    eca_http_resp_free(&resp);
    return rc;
}

static enum eca_rc
new_order(struct acme_client *c, struct issue *is, const char *const *names, size_t n,
          const struct acme_order_extra *extra, int *refused, struct eca_err *err)
{
    struct eca_buf payload;
    struct eca_http_resp resp;
    struct call call = {"POST", c->dir->new_order, NULL, 0, "newOrder"};
    enum eca_rc rc;

    eca_buf_init(&payload, 0);
    eca_http_resp_init(&resp, 0);
    rc = acme_order_build_new_ex(names, n, extra, &payload, err);
    call.payload = eca_buf_str(&payload);
    if (rc == ECA_OK)
        rc = exchange(c, &call, &resp, err);
    if (rc == ECA_OK)
        *refused = replaces_refused(extra, &resp);
    if (rc == ECA_OK)
        rc = verdict(c, acme_order_parse(&resp, &is->order, err), err);
    if (rc == ECA_OK && is->order->url == NULL)
        rc = eca_err_set(err, ECA_EPROTO, "newOrder: no Location header (the order URL)");
    if (rc == ECA_OK)
        rc = issue_alloc(is, err);
    eca_buf_free(&payload);
    eca_http_resp_free(&resp);
    return rc;
}

/* Carry out one action of the state machine; *done is set after the download. */
static enum eca_rc
act_on(struct acme_client *c, struct issue *is, const struct acme_action act,
       const struct acme_responder *r, const void *csr, size_t csr_len, struct eca_buf *chain,
       int *done, struct eca_err *err)
{
    struct call poll = {"POST", is->order->url, NULL, 0, "order"};
    enum eca_rc rc;

    switch (act.kind) {
    case ACME_ACT_FETCH_AUTHZ:
        if ((rc = fetch_authz(c, is, act.index, err)) != ECA_OK)
            return rc;
        return republish(c, is, act.index, r, err);
    case ACME_ACT_RESPOND:
        return respond(c, is, &act, r, err);
    case ACME_ACT_POLL_AUTHZ:
        is->what_state = acme_status_name(is->authz[act.index]->status);
        if ((rc = poll_wait(c, is, act.url, is->authz[act.index]->id_value, err)) != ECA_OK)
            return rc;
        return fetch_authz(c, is, act.index, err);
    case ACME_ACT_FINALIZE:
        return finalize(c, is, csr, csr_len, err);
    case ACME_ACT_POLL_ORDER:
        is->what_state = acme_status_name(is->order->status);
        if ((rc = poll_wait(c, is, act.url, is->order->url, err)) != ECA_OK)
            return rc;
        return order_update(c, is, &poll, err);
    case ACME_ACT_DOWNLOAD:
        *done = 1;
        return download(c, act.url, chain, err);
    default:
        return eca_err_set(err, ECA_EPROTO, "order %s: no way forward", is->order->url);
    }
}

static enum eca_rc
step(struct acme_client *c, struct issue *is, const struct acme_responder *r, const void *csr,
     size_t csr_len, struct eca_buf *chain, int *done, struct eca_err *err)
{
    struct acme_order_state st = {is->order, is->authz, is->responded, is->finalized,
                                  (r != NULL && r->publish != NULL ? ACME_CH_HTTP01 : 0) |
                                      (is->dns01 != NULL ? ACME_CH_DNS01 : 0)};
    struct acme_action act;
    char *seen;
    enum eca_rc rc = acme_order_next(&st, &act, err);

    if (rc != ECA_OK) {
        is->dead = 1;
        return rc;
    }
    /* The resource this step leaves us looking at: polling it again means waiting first. */
    seen = strdup(act.kind <= ACME_ACT_POLL_AUTHZ ? is->order->authz[act.index] : is->order->url);
    rc = act_on(c, is, act, r, csr, csr_len, chain, done, err);
    free(is->prev);
    is->prev = seen;
    return rc;
}

static void
issue_free(struct issue *is, const struct acme_responder *r)
{
    size_t n = is->order ? is->order->nauthz : 0;

    for (size_t i = 0; i < n; i++) {
        /* Tokens come down whatever happened: nothing stays published (RFC 8555 §8.3). */
        if (is->published != NULL && is->published[i] != NULL) {
            if (is->responded[i] == ANSWERED_DNS)
                is->dns01->unpublish(is->dns01->ctx, is->published[i]);
            else
                r->unpublish(r->ctx, is->published[i]);
            free(is->published[i]);
        }
        if (is->authz != NULL)
            acme_authz_free(is->authz[i]);
    }
    free(is->published);
    free(is->authz);
    free(is->responded);
    acme_order_free(is->order);
}

/*
 * newOrder with opts; when the server refuses "replaces", once more without it (RFC 9773 §5:
 * the replacement is a hint, and a certificate must not go unrenewed because of it).
 */
static enum eca_rc
new_order_ex(struct acme_client *c, struct issue *is, const char *const *names, size_t n,
             const struct acme_issue_opts *opts, int *dropped, struct eca_err *err)
{
    struct acme_order_extra x = {opts ? opts->profile : NULL, opts ? opts->replaces : NULL};
    int refused = 0;
    enum eca_rc rc = new_order(c, is, names, n, &x, &refused, err);

    if (rc == ECA_OK || !refused)
        return rc;
    eca_log(ECA_LOG_WARN, "acme_replaces_refused", NULL,
            ECA_LOG_FIELDS(ECA_LS("replaces", x.replaces), ECA_LS("name", names[0])),
            "%s; ordering again without \"replaces\"", err ? err->msg : "");
    eca_err_clear(err);
    acme_order_free(is->order);
    is->order = NULL;
    x.replaces = NULL;
    *dropped = 1;
    return new_order(c, is, names, n, &x, &refused, err);
}

/*
 * After newOrder was refused for the account (first: ECA_ENOTFOUND for accountDoesNotExist,
 * ECA_EAUTH for unauthorized; err says it): look the key's account up again, or create it.
 * ECA_OK when the order is worth sending again (another account, or one created anew);
 * otherwise err keeps the first refusal (or says why recovery failed), nothing is retried.
 */
static enum eca_rc
recover_account(struct acme_client *c, enum eca_rc first, struct eca_err *err)
{
    /* accountDoesNotExist is certain: the URL is dropped at once, whatever follows. An
     * unauthorized may be about something else: the URL goes only once another is found. */
    int certain = first == ECA_ENOTFOUND;
    char *old = c->kid;
    struct eca_err rerr = {0};
    enum eca_rc rc;

    if (old == NULL)
        return first;
    eca_log(ECA_LOG_WARN, "acme_account_lost", NULL, ECA_LOG_FIELDS(ECA_LS("account", old)),
            "the server refused the account (%s); looking it up again for the same key",
            err ? err->msg : "");
    c->kid = NULL;
    c->account_key_new = 0; /* the key is not new: its account may exist under another URL */
    if (certain && c->account_changed != NULL)
        c->account_changed(c->account_ctx, NULL);
    if ((rc = acme_client_account(c, &rerr)) != ECA_OK) {
        if (!certain) {
            c->kid = old;
            old = NULL;
        }
        free(old);
        eca_err_prefix(&rerr, "account recovery after '%s': ", err ? err->msg : "");
        if (err != NULL)
            *err = rerr;
        return rc;
    }
    if (!certain && !c->account_created && strcmp(old, c->kid) == 0) {
        /* The same, valid account: the refusal was about something else; keep it. */
        free(old);
        return first;
    }
    eca_log(ECA_LOG_WARN, "acme_account_recovered", NULL,
            ECA_LOG_FIELDS(ECA_LS("old_account", old), ECA_LS("account", c->kid)),
            "ordering again with the recovered account");
    free(old);
    eca_err_clear(err);
    return ECA_OK;
}

/*
 * The order of this call: the one to resume, or, when there is none or it cannot be resumed
 * (logged), a new one (with account recovery, acme_client_issue). *resumed: 1 resumed, 0 a
 * new order, -1 the order to resume could not be reached (it is kept for later).
 */
static enum eca_rc
open_order(struct acme_client *c, struct issue *is, const char *const *names, size_t n,
           const struct acme_issue_opts *opts, const struct acme_responder *r, int *resumed,
           int *dropped, struct eca_err *err)
{
    const char *url = opts != NULL ? opts->resume : NULL;
    enum eca_rc rc;

    *resumed = 0;
    if (url != NULL) {
        rc = resume_order(c, is, url, err);
        if (rc == ECA_OK) {
            *resumed = is->resumed = 1;
            eca_log(ECA_LOG_INFO, "acme_order_resumed", NULL,
                    ECA_LOG_FIELDS(ECA_LS("order", url),
                                   ECA_LS("status", acme_status_name(is->order->status)),
                                   ECA_LS("name", names[0])),
                    "taking up the order left open by an earlier pass");
            return ECA_OK;
        }
        if (rc != ECA_ENOTFOUND) {
            *resumed = -1;
            return rc;
        }
        eca_log(ECA_LOG_WARN, "acme_order_resume_dropped", NULL,
                ECA_LOG_FIELDS(ECA_LS("order", url), ECA_LS("name", names[0])),
                "%s; ordering afresh", err ? err->msg : "");
        eca_err_clear(err);
        issue_free(is, r);
        memset(is, 0, sizeof *is);
        is->dns01 = c->dns01;
    }
    rc = new_order_ex(c, is, names, n, opts, dropped, err);
    if ((rc == ECA_ENOTFOUND || rc == ECA_EAUTH) && (rc = recover_account(c, rc, err)) == ECA_OK) {
        issue_free(is, r);
        memset(is, 0, sizeof *is);
        is->dns01 = c->dns01;
        *dropped = 0;
        rc = new_order_ex(c, is, names, n, opts, dropped, err);
    }
    return rc;
}

/*
 * 1 if the order of a failed call can still lead to a certificate at a later pass: it exists,
 * did not fail for good, and is not one the server said is over.
 */
static int
order_open(const struct issue *is)
{
    enum acme_status st = is->order != NULL ? is->order->status : ACME_ST_INVALID;

    return is->order != NULL && is->order->url != NULL && !is->dead &&
           (st == ACME_ST_PENDING || st == ACME_ST_READY || st == ACME_ST_PROCESSING ||
            st == ACME_ST_VALID);
}

enum eca_rc
acme_client_issue(struct acme_client *c, const char *const *names, size_t n,
                  const struct acme_responder *responder, const void *csr_der, size_t csr_len,
                  struct eca_buf *chain_pem, struct eca_err *err)
{
    return acme_client_issue_ex(c, names, n, responder, csr_der, csr_len, NULL, chain_pem, NULL,
                                err);
}

enum eca_rc
acme_client_issue_ex(struct acme_client *c, const char *const *names, size_t n,
                     const struct acme_responder *responder, const void *csr_der, size_t csr_len,
                     const struct acme_issue_opts *opts, struct eca_buf *chain_pem,
                     struct acme_issue_info *info, struct eca_err *err)
{
    struct issue is = {0};
    int done = 0, dropped = 0, resumed = 0;
    enum eca_rc rc;

    if (info != NULL)
        memset(info, 0, sizeof *info);
    if ((responder == NULL || responder->publish == NULL || responder->unpublish == NULL) &&
        c->dns01 == NULL)
        return eca_err_set(err, ECA_EINVAL, "issue: an http-01 or dns-01 responder is required");
    is.dns01 = c->dns01;
    rc = acme_client_account(c, err);
    if (rc != ECA_OK)
        resumed = -1; /* the order to resume (if any) was not even looked at */
    else
        rc = open_order(c, &is, names, n, opts, responder, &resumed, &dropped, err);
    /* The server's echo of the profile, before polling replaces the order object. */
    if (rc == ECA_OK && info != NULL) {
        info->resumed = resumed;
        info->replaces_dropped = dropped;
        if (is.order->profile != NULL && (info->profile = strdup(is.order->profile)) == NULL)
            rc = eca_err_set(err, ECA_ENOMEM, "newOrder: out of memory");
    }
    while (rc == ECA_OK && !done)
        rc = step(c, &is, responder, csr_der, csr_len, chain_pem, &done, err);
    free(is.prev);
    if (rc != ECA_OK && info != NULL) {
        free(info->profile);
        info->profile = NULL;
        if (order_open(&is))
            info->pending = strdup(is.order->url);
        else if (resumed < 0 && opts != NULL && opts->resume != NULL)
            info->pending = strdup(opts->resume); /* not reached: try it again later */
    }
    if (rc == ECA_OK)
        eca_log(ECA_LOG_INFO, "acme_order_valid", NULL,
                ECA_LOG_FIELDS(ECA_LS("order", is.order->url), ECA_LS("name", names[0])),
                "certificate downloaded");
    issue_free(&is, responder);
    return rc;
}

void
acme_client_set_dns01(struct acme_client *c, const struct acme_dns_responder *r)
{
    c->dns01 = r;
}

const struct acme_dir *
acme_client_dir(const struct acme_client *c)
{
    return c->dir;
}

enum eca_rc
acme_client_renewal_info(struct acme_client *c, const char *cert_id, struct acme_ari **out,
                         long *retry_after, struct eca_err *err)
{
    struct call call = {"GET", NULL, NULL, 0, "renewalInfo"};
    struct eca_http_resp resp;
    char *url = NULL;
    size_t len;
    enum eca_rc rc;

    if (retry_after != NULL)
        *retry_after = ACME_ARI_RETRY_DEFAULT;
    if (c->dir->renewal_info == NULL)
        return eca_err_set(err, ECA_ENOTFOUND, "renewalInfo: the directory offers none");
    /* RFC 9773 §4.1: the certID is a path segment appended to the renewalInfo URL. */
    len = strlen(c->dir->renewal_info);
    if ((url = malloc(len + strlen(cert_id) + 2)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "renewalInfo: out of memory");
    snprintf(url, len + strlen(cert_id) + 2, "%s%s%s", c->dir->renewal_info,
             len > 0 && c->dir->renewal_info[len - 1] == '/' ? "" : "/", cert_id);
    call.url = url;
    eca_http_resp_init(&resp, 0);
    /* One request, no waiting on 429/503: a busy CA must not hold up the renewal decision,
     * which goes on by the lifetime threshold (ARI never blocks renewal). */
    rc = send_once(c, &call, &resp, err);
    if (rc == ECA_OK) {
        if (retry_after != NULL)
            *retry_after = acme_ari_retry_after(&resp, eca_clock_now());
        rc = acme_ari_parse(&resp, eca_clock_now(), out, err);
        if (rc != ECA_OK)
            eca_err_prefix(err, "%s: ", url);
    }
    eca_http_resp_free(&resp);
    free(url);
    return rc;
}

/* revokeCert (RFC 8555 §7.6), signed with the account's kid. */
enum eca_rc
acme_client_revoke(struct acme_client *c, const void *cert_der, size_t len, int reason,
                   struct eca_err *err)
{
    struct eca_buf payload;
    struct eca_http_resp resp;
    struct call call = {"POST", c->dir->revoke_cert, NULL, 0, "revokeCert"};
    enum eca_rc rc;

    eca_buf_init(&payload, 0);
    eca_http_resp_init(&resp, 0);
    if ((rc = acme_client_account(c, err)) != ECA_OK)
        goto out;
    if ((rc = acme_order_build_revoke(cert_der, len, reason, &payload, err)) != ECA_OK)
        goto out;
    call.payload = eca_buf_str(&payload);
    if ((rc = exchange(c, &call, &resp, err)) == ECA_OK)
        rc = verdict(c, acme_problem_check(&resp, "revokeCert", NULL, eca_clock_now(), err), err);
out:
    eca_buf_free(&payload);
    eca_http_resp_free(&resp);
    return rc;
}

enum eca_rc
acme_client_find_account(struct acme_client *c, struct eca_err *err)
{
    struct acme_account *a = NULL;
    enum eca_rc rc;

    if (c->kid != NULL)
        return ECA_OK;
    if ((rc = new_account(c, 1, &a, err)) == ECA_OK && (rc = account_usable(a, err)) == ECA_OK) {
        c->kid = a->url;
        a->url = NULL;
    }
    acme_account_free(a);
    return rc;
}

/* keyChange (RFC 8555 §7.3.5): the inner JWS by the new key, wrapped by the old one's kid. */
enum eca_rc
acme_client_key_change(struct acme_client *c, const struct eca_key *new_key, struct eca_err *err)
{
    struct eca_buf inner;
    struct eca_http_resp resp;
    struct call call = {"POST", c->dir->key_change, NULL, 0, "keyChange"};
    enum eca_rc rc;

    if (c->dir->key_change == NULL)
        return eca_err_set(err, ECA_ENOTFOUND, "keyChange: the directory offers none");
    eca_buf_init(&inner, 0);
    eca_http_resp_init(&resp, 0);
    /* Never create an account only to roll its key: an unknown key is an error. */
    if ((rc = acme_client_find_account(c, err)) != ECA_OK ||
        (rc = acme_account_build_key_change(c->kid, c->key, new_key, c->dir->key_change, &inner,
                                            err)) != ECA_OK)
        goto out;
    call.payload = eca_buf_str(&inner);
    if ((rc = exchange(c, &call, &resp, err)) == ECA_OK)
        rc = verdict(c, acme_account_parse_key_change(&resp, NULL, err), err);
    if (rc != ECA_OK && rc != ECA_ESTOPPED && strstr(err ? err->msg : "", c->kid) == NULL)
        eca_err_prefix(err, "account %s: ", c->kid);
    if (rc == ECA_OK)
        c->key = new_key; /* the old key is refused from now on */
out:
    eca_buf_free(&inner);
    eca_http_resp_free(&resp);
    return rc;
}

/* Deactivation (RFC 8555 §7.3.6): final; the CA refuses the account from then on. */
enum eca_rc
acme_client_deactivate(struct acme_client *c, struct eca_err *err)
{
    struct acme_account *a = NULL;
    struct eca_http_resp resp;
    struct call call = {"POST", NULL, ACME_ACCOUNT_DEACTIVATE, 0, "account"};
    enum eca_rc rc;

    eca_http_resp_init(&resp, 0);
    /* Never create an account only to deactivate it. */
    if ((rc = acme_client_find_account(c, err)) != ECA_OK)
        goto out;
    call.url = c->kid;
    if ((rc = exchange(c, &call, &resp, err)) == ECA_OK)
        rc = verdict(c, acme_account_parse_update(&resp, c->kid, &a, err), err);
    if (rc == ECA_OK && a->status != ACME_ACCOUNT_DEACTIVATED)
        rc = eca_err_set(err, ECA_EPROTO, "account %s: still %s after the deactivation", c->kid,
                         a->status == ACME_ACCOUNT_VALID ? "valid" : "revoked");
out:
    acme_account_free(a);
    eca_http_resp_free(&resp);
    return rc;
}

void
acme_client_free(struct acme_client *c)
{
    if (c == NULL)
        return;
    acme_dir_free(c->dir);
    free(c->nonce);
    free(c->kid);
    free(c->eab_kid);
    free(c->preferred_chain);
    free(c);
}
