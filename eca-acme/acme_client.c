/* SPDX-License-Identifier: MIT */
/* The ACME driver: the only ACME file that talks to a transport (nonces, retries, polling). */
#include "acme_client.h"

#include <stdlib.h>
#include <string.h>
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
#define POLL_FIRST_MS     25   /* first re-poll of a pending resource without Retry-After */
#define POLL_MAX_MS       1000 /* the backoff doubles up to this */
#define SLICE_MS          100  /* a stop request is noticed within this */

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
    int (*should_stop)(void);
    void (*sleep_ms)(void *ctx, long ms);
    void *sleep_ctx;
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

static int
stopped(const struct acme_client *c)
{
    return c->should_stop != NULL && c->should_stop();
}

/* Wait ms milliseconds in slices so a stop request is noticed within SLICE_MS. */
static enum eca_rc
wait_ms(struct acme_client *c, long ms, struct eca_err *err)
{
    struct timespec slice = {0, 0};

    if (c->sleep_ms != NULL) {
        c->sleep_ms(c->sleep_ctx, ms);
    } else {
        for (long left = ms; left > 0 && !stopped(c); left -= SLICE_MS) {
            slice.tv_nsec = (left < SLICE_MS ? left : SLICE_MS) * 1000L * 1000L;
            nanosleep(&slice, NULL);
        }
    }
    if (stopped(c))
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
    enum eca_rc rc;

    eca_http_resp_free(resp);
    rc = eca_http_perform(c->http, req, resp, err);
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
               ra >= 0 && *waited + ra <= c->max_wait_s && *rounds < RATE_RETRIES) {
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

/* A parser's verdict, with the HTTP-date Retry-After the pure gate could not compute. */
static enum eca_rc
verdict(struct acme_client *c, enum eca_rc rc, struct eca_err *err)
{
    if (rc == ECA_EAGAIN && err != NULL && err->retry_after < 0)
        err->retry_after = c->last_retry_after;
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
        return eca_err_set(err, ECA_EINVAL, "acme client: unsupported account key type");
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

void
acme_client_set_sleep(struct acme_client *c, void (*sleep_ms)(void *ctx, long ms), void *ctx)
{
    c->sleep_ms = sleep_ms;
    c->sleep_ctx = ctx;
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
    if (rc != ECA_OK)
        goto out;
    if (a->status != ACME_ACCOUNT_VALID) {
        rc = eca_err_set(err, ECA_EAUTH, "account %s is %s", a->url,
                         a->status == ACME_ACCOUNT_REVOKED ? "revoked" : "deactivated");
        goto out;
    }
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
    long polled_ms;  /* time spent waiting on this order so far */
    long backoff_ms; /* the last wait on the resource in prev, 0: none yet */
    char *prev;      /* the resource the previous step left us looking at */
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

/* Publish the key authorization, then tell the server to validate (RFC 8555 §7.5.1). */
static enum eca_rc
respond(struct acme_client *c, struct issue *is, const struct acme_action *act,
        const struct acme_responder *r, struct eca_err *err)
{
    const struct acme_authz *a = is->authz[act->index];
    struct call call = {"POST", act->url, "{}", 0, "challenge"};
    struct acme_challenge *ch = NULL;
    struct eca_http_resp resp;
    struct eca_buf ka;
    enum eca_rc rc;
    int dns = strcmp(act->challenge->type, "dns-01") == 0;

    eca_buf_init(&ka, 0);
    eca_http_resp_init(&resp, 0);
    if ((rc = acme_jws_key_authz(c->key, act->challenge->token, &ka, err)) != ECA_OK)
        goto out;
    rc = dns ? is->dns01->publish(is->dns01->ctx, a->id_value, act->challenge->token,
                                  eca_buf_str(&ka), err)
             : r->publish(r->ctx, act->challenge->token, eca_buf_str(&ka), err);
    if (rc != ECA_OK) {
        eca_err_prefix(err, "%s for %s: ", act->challenge->type, a->id_value);
        goto out;
    }
    is->responded[act->index] = dns ? ANSWERED_DNS : 1;
    if ((is->published[act->index] = strdup(act->challenge->token)) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "challenge: out of memory");
        if (dns)
            is->dns01->unpublish(is->dns01->ctx, act->challenge->token);
        else
            r->unpublish(r->ctx, act->challenge->token);
        goto out;
    }
    if ((rc = exchange(c, &call, &resp, err)) == ECA_OK)
        rc = verdict(c, acme_challenge_parse(&resp, &ch, err), err);
out:
    acme_challenge_free(ch);
    eca_buf_free(&ka);
    eca_http_resp_free(&resp);
    return rc;
}

/*
 * Wait before polling url again. A Retry-After is honoured (RFC 8555 §7.5.1, §7.4). Without
 * one, a resource we just saw is re-polled after POLL_FIRST_MS, doubling up to POLL_MAX_MS:
 * a CA validates and issues in milliseconds to seconds, so a fixed 1 s wastes most of it.
 * A fresh resource (the order once every authorization is valid) is fetched at once.
 * The total is bounded by max_wait_s.
 */
static enum eca_rc
poll_wait(struct acme_client *c, struct issue *is, const char *url, const char *what,
          struct eca_err *err)
{
    int same = is->prev != NULL && strcmp(is->prev, url) == 0;
    long ms;

    if (!same)
        is->backoff_ms = 0;
    if (c->last_retry_after > 0) {
        ms = c->last_retry_after * 1000;
    } else if (!same) {
        return ECA_OK;
    } else {
        ms = is->backoff_ms == 0 ? POLL_FIRST_MS : is->backoff_ms * 2;
        ms = ms > POLL_MAX_MS ? POLL_MAX_MS : ms;
        is->backoff_ms = ms;
    }
    if (is->polled_ms + ms > c->max_wait_s * 1000)
        return eca_err_set(err, ECA_ETIMEOUT, "%s still pending after %ld ms (limit %ld s)", what,
                           is->polled_ms, c->max_wait_s);
    is->polled_ms += ms;
    eca_log(ECA_LOG_DEBUG, "acme_poll_wait", NULL,
            ECA_LOG_FIELDS(ECA_LS("url", url), ECA_LI("wait_ms", ms),
                           ECA_LI("retry_after", c->last_retry_after)),
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
    if (rc == ECA_OK) {
        is->authz = calloc(is->order->nauthz + 1, sizeof *is->authz);
        is->responded = calloc(is->order->nauthz + 1, 1);
        is->published = calloc(is->order->nauthz + 1, sizeof *is->published);
        if (is->authz == NULL || is->responded == NULL || is->published == NULL)
            rc = eca_err_set(err, ECA_ENOMEM, "newOrder: out of memory");
    }
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
        return fetch_authz(c, is, act.index, err);
    case ACME_ACT_RESPOND:
        return respond(c, is, &act, r, err);
    case ACME_ACT_POLL_AUTHZ:
        if ((rc = poll_wait(c, is, act.url, is->authz[act.index]->id_value, err)) != ECA_OK)
            return rc;
        return fetch_authz(c, is, act.index, err);
    case ACME_ACT_FINALIZE:
        return finalize(c, is, csr, csr_len, err);
    case ACME_ACT_POLL_ORDER:
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

    if (rc != ECA_OK)
        return rc;
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
    int done = 0, dropped = 0;
    enum eca_rc rc;

    if ((responder == NULL || responder->publish == NULL || responder->unpublish == NULL) &&
        c->dns01 == NULL)
        return eca_err_set(err, ECA_EINVAL, "issue: an http-01 or dns-01 responder is required");
    if ((rc = acme_client_account(c, err)) != ECA_OK)
        return rc;
    is.dns01 = c->dns01;
    rc = new_order_ex(c, &is, names, n, opts, &dropped, err);
    if ((rc == ECA_ENOTFOUND || rc == ECA_EAUTH) && (rc = recover_account(c, rc, err)) == ECA_OK) {
        issue_free(&is, responder);
        memset(&is, 0, sizeof is);
        is.dns01 = c->dns01;
        dropped = 0;
        rc = new_order_ex(c, &is, names, n, opts, &dropped, err);
    }
    /* The server's echo of the profile, before polling replaces the order object. */
    if (rc == ECA_OK && info != NULL) {
        memset(info, 0, sizeof *info);
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
