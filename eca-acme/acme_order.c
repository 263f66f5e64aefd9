/* SPDX-License-Identifier: MIT */
/* Orders, authorizations, challenges (RFC 8555 §7.1.3-7.1.5, §7.4-7.5) and the pure state machine.
 */
#include "acme_order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "eca_b64.h"
#include "eca_json.h"
#include "eca_x509.h"

static const char *const status_names[] = {
    [ACME_ST_PENDING] = "pending",       [ACME_ST_READY] = "ready",
    [ACME_ST_PROCESSING] = "processing", [ACME_ST_VALID] = "valid",
    [ACME_ST_INVALID] = "invalid",       [ACME_ST_DEACTIVATED] = "deactivated",
    [ACME_ST_EXPIRED] = "expired",       [ACME_ST_REVOKED] = "revoked",
};

#define ST_BIT(s) (1u << (s))
/* Which statuses each object may carry (RFC 8555 §7.1.6). */
#define ORDER_ST                                                                                   \
    (ST_BIT(ACME_ST_PENDING) | ST_BIT(ACME_ST_READY) | ST_BIT(ACME_ST_PROCESSING) |                \
     ST_BIT(ACME_ST_VALID) | ST_BIT(ACME_ST_INVALID))
#define AUTHZ_ST                                                                                   \
    (ST_BIT(ACME_ST_PENDING) | ST_BIT(ACME_ST_VALID) | ST_BIT(ACME_ST_INVALID) |                   \
     ST_BIT(ACME_ST_DEACTIVATED) | ST_BIT(ACME_ST_EXPIRED) | ST_BIT(ACME_ST_REVOKED))
#define CHALL_ST                                                                                   \
    (ST_BIT(ACME_ST_PENDING) | ST_BIT(ACME_ST_PROCESSING) | ST_BIT(ACME_ST_VALID) |                \
     ST_BIT(ACME_ST_INVALID))

const char *
acme_status_name(enum acme_status st)
{
    return (unsigned)st <= ACME_ST_REVOKED ? status_names[st] : "unknown";
}

static enum eca_rc
get_status(struct json_object *obj, const char *what, unsigned allowed, enum acme_status *out,
           struct eca_err *err)
{
    const char *s = NULL;
    enum eca_rc rc = eca_json_get_str(obj, what, "status", 1, &s, err);

    if (rc != ECA_OK)
        return rc;
    for (unsigned i = 0; i <= ACME_ST_REVOKED; i++) {
        if ((allowed & ST_BIT(i)) && strcmp(s, status_names[i]) == 0) {
            *out = (enum acme_status)i;
            return ECA_OK;
        }
    }
    return eca_err_set(err, ECA_EPROTO, "%s.status: unexpected value \"%.40s\"", what, s);
}

/* Copy an optional (or required) string member into *dst. */
static enum eca_rc
get_dup(struct json_object *obj, const char *what, const char *key, int required, char **dst,
        struct eca_err *err)
{
    const char *s = NULL;
    enum eca_rc rc = eca_json_get_str(obj, what, key, required, &s, err);

    if (rc != ECA_OK || s == NULL)
        return rc;
    if ((*dst = strdup(s)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s.%s: out of memory", what, key);
    return ECA_OK;
}

static enum eca_rc
get_problem(struct json_object *obj, const char *what, struct acme_problem **out,
            struct eca_err *err)
{
    struct json_object *e = NULL;
    char path[128];
    enum eca_rc rc = eca_json_get_obj(obj, what, "error", 0, &e, err);

    if (rc != ECA_OK || e == NULL)
        return rc;
    snprintf(path, sizeof path, "%s.error", what);
    return acme_problem_from_json(e, path, out, err);
}

int
acme_token_is_valid(const char *token)
{
    size_t n;

    if (token == NULL)
        return 0;
    n = strlen(token);
    return n >= 1 && n <= 256 &&
           strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static enum eca_rc
put_json(struct json_object *o, struct eca_buf *out, struct eca_err *err)
{
    enum eca_rc rc = eca_buf_puts(
        out,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
        err);

    json_object_put(o);
    return rc;
}

/* 1 if s is base64url "." base64url, both halves non-empty (RFC 9773 §4.1). */
static int
is_cert_id(const char *s)
{
    static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t a = strspn(s, b64u);

    return a > 0 && s[a] == '.' && strspn(s + a + 1, b64u) > 0 &&
           s[a + 1 + strspn(s + a + 1, b64u)] == '\0';
}

static enum eca_rc
check_extra(const struct acme_order_extra *x, struct eca_err *err)
{
    if (x == NULL)
        return ECA_OK;
    if (x->profile != NULL && x->profile[0] == '\0')
        return eca_err_set(err, ECA_EINVAL, "newOrder: empty profile");
    if (x->replaces != NULL && !is_cert_id(x->replaces))
        return eca_err_set(err, ECA_EINVAL, "newOrder: replaces \"%.40s\" is not a certID",
                           x->replaces);
    return ECA_OK;
}

enum eca_rc
acme_order_build_new(const char *const *names, size_t n, struct eca_buf *out, struct eca_err *err)
{
    return acme_order_build_new_ex(names, n, NULL, out, err);
}

enum eca_rc
acme_order_build_new_ex(const char *const *names, size_t n, const struct acme_order_extra *extra,
                        struct eca_buf *out, struct eca_err *err)
{
    struct json_object *o, *ids, *id;
    enum eca_rc rc;

    if (n == 0 || n > ACME_ORDER_MAX_IDS)
        return eca_err_set(err, ECA_EINVAL, "newOrder: %zu identifiers (want 1..%d)", n,
                           ACME_ORDER_MAX_IDS);
    if ((rc = check_extra(extra, err)) != ECA_OK)
        return rc;
    o = json_object_new_object();
    ids = json_object_new_array();
    json_object_object_add(o, "identifiers", ids);
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL || names[i][0] == '\0') {
            json_object_put(o);
            return eca_err_set(err, ECA_EINVAL, "newOrder: identifier %zu is empty", i);
        }
        id = json_object_new_object();
        /* RFC 8738 §3: an address is an "ip" identifier, never a DNS name. */
        json_object_object_add(id, "type",
                               json_object_new_string(eca_x509_is_ip(names[i]) ? "ip" : "dns"));
        json_object_object_add(id, "value", json_object_new_string(names[i]));
        json_object_array_add(ids, id);
    }
    if (extra != NULL && extra->profile != NULL)
        json_object_object_add(o, "profile", json_object_new_string(extra->profile));
    if (extra != NULL && extra->replaces != NULL)
        json_object_object_add(o, "replaces", json_object_new_string(extra->replaces));
    return put_json(o, out, err);
}

/* {"<key>":"<base64url(der)>"} with an optional trailing "reason". */
static enum eca_rc
build_der(const char *key, const void *der, size_t len, int reason, struct eca_buf *out,
          struct eca_err *err)
{
    struct eca_buf b;
    struct json_object *o;
    enum eca_rc rc;

    if (der == NULL || len == 0)
        return eca_err_set(err, ECA_EINVAL, "%s: empty DER", key);
    eca_buf_init(&b, 0);
    rc = eca_b64url_encode(der, len, &b, err);
    if (rc != ECA_OK)
        goto out;
    o = json_object_new_object();
    json_object_object_add(o, key, json_object_new_string(eca_buf_str(&b)));
    if (reason >= 0)
        json_object_object_add(o, "reason", json_object_new_int(reason));
    rc = put_json(o, out, err);
out:
    eca_buf_free(&b);
    return rc;
}

enum eca_rc
acme_order_build_finalize(const void *csr_der, size_t len, struct eca_buf *out, struct eca_err *err)
{
    return build_der("csr", csr_der, len, -1, out, err);
}

enum eca_rc
acme_order_build_revoke(const void *cert_der, size_t len, int reason, struct eca_buf *out,
                        struct eca_err *err)
{
    /* RFC 5280 §5.3.1: 0..10 without 7; the server judges which it accepts. */
    if (reason > 10 || reason == 7)
        return eca_err_set(err, ECA_EINVAL, "revokeCert: reason %d is not an RFC 5280 code",
                           reason);
    return build_der("certificate", cert_der, len, reason, out, err);
}

static enum eca_rc
parse_authz_urls(struct json_object *obj, struct acme_order *o, struct eca_err *err)
{
    struct json_object *arr = NULL, *e;
    enum eca_rc rc = eca_json_get_array(obj, "order", "authorizations", 1, &arr, err);
    size_t n;

    if (rc != ECA_OK)
        return rc;
    n = json_object_array_length(arr);
    if (n > ACME_ORDER_MAX_IDS)
        return eca_err_set(err, ECA_ETOOBIG, "order.authorizations: %zu entries (max %d)", n,
                           ACME_ORDER_MAX_IDS);
    o->authz = calloc(n ? n : 1, sizeof *o->authz);
    if (o->authz == NULL)
        return eca_err_set(err, ECA_ENOMEM, "order.authorizations: out of memory");
    for (size_t i = 0; i < n; i++) {
        e = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(e, json_type_string))
            return eca_err_set(err, ECA_EPROTO, "order.authorizations[%zu]: expected string", i);
        if ((o->authz[i] = strdup(json_object_get_string(e))) == NULL)
            return eca_err_set(err, ECA_ENOMEM, "order.authorizations: out of memory");
        o->nauthz = i + 1;
    }
    return ECA_OK;
}

static enum eca_rc
order_from_json(struct json_object *obj, struct acme_order **out, struct eca_err *err)
{
    struct acme_order *o = calloc(1, sizeof *o);
    struct json_object *ids = NULL;
    enum eca_rc rc;

    if (o == NULL)
        return eca_err_set(err, ECA_ENOMEM, "order: out of memory");
    if ((rc = get_status(obj, "order", ORDER_ST, &o->status, err)) != ECA_OK ||
        (rc = eca_json_get_array(obj, "order", "identifiers", 1, &ids, err)) != ECA_OK ||
        (rc = parse_authz_urls(obj, o, err)) != ECA_OK ||
        (rc = get_dup(obj, "order", "finalize", 1, &o->finalize, err)) != ECA_OK ||
        (rc = get_dup(obj, "order", "certificate", 0, &o->certificate, err)) != ECA_OK ||
        (rc = get_problem(obj, "order", &o->error, err)) != ECA_OK ||
        (rc = get_dup(obj, "order", "profile", 0, &o->profile, err)) != ECA_OK ||
        (rc = get_dup(obj, "order", "replaces", 0, &o->replaces, err)) != ECA_OK)
        goto out;
    if (o->nauthz == 0 && o->status == ACME_ST_PENDING)
        rc = eca_err_set(err, ECA_EPROTO, "order.authorizations: empty on a pending order");
out:
    if (rc != ECA_OK)
        acme_order_free(o);
    else
        *out = o;
    return rc;
}

enum eca_rc
acme_order_parse_json(const void *body, size_t len, struct acme_order **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc;

    if (len > ACME_JSON_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "order: body of %zu bytes exceeds %zu", len,
                           ACME_JSON_MAX);
    rc = eca_json_parse("order", body, len, &obj, err);
    if (rc == ECA_OK && !json_object_is_type(obj, json_type_object))
        rc = eca_err_set(err, ECA_EPROTO, "order: expected a JSON object");
    if (rc == ECA_OK)
        rc = order_from_json(obj, out, err);
    json_object_put(obj);
    return rc;
}

enum eca_rc
acme_order_parse(const struct eca_http_resp *resp, struct acme_order **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    struct acme_order *o = NULL;
    char loc[2048];
    enum eca_rc rc = acme_problem_json(resp, "order", &obj, err);

    if (rc == ECA_OK)
        rc = order_from_json(obj, &o, err);
    json_object_put(obj);
    if (rc != ECA_OK)
        return rc;
    if (eca_http_resp_header(resp, "Location", loc, sizeof loc) && loc[0] != '\0' &&
        (o->url = strdup(loc)) == NULL) {
        acme_order_free(o);
        return eca_err_set(err, ECA_ENOMEM, "order: out of memory");
    }
    *out = o;
    return ECA_OK;
}

void
acme_order_free(struct acme_order *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->nauthz; i++)
        free(o->authz[i]);
    free(o->authz);
    free(o->url);
    free(o->finalize);
    free(o->certificate);
    acme_problem_free(o->error);
    free(o->profile);
    free(o->replaces);
    free(o);
}

static void
challenge_clear(struct acme_challenge *c)
{
    free(c->type);
    free(c->url);
    free(c->token);
    acme_problem_free(c->error);
    memset(c, 0, sizeof *c);
}

void
acme_challenge_free(struct acme_challenge *c)
{
    if (c == NULL)
        return;
    challenge_clear(c);
    free(c);
}

static enum eca_rc
challenge_from_json(struct json_object *obj, const char *what, struct acme_challenge *c,
                    struct eca_err *err)
{
    enum eca_rc rc;

    if (!json_object_is_type(obj, json_type_object))
        return eca_err_set(err, ECA_EPROTO, "%s: expected object", what);
    if ((rc = get_dup(obj, what, "type", 1, &c->type, err)) != ECA_OK ||
        (rc = get_dup(obj, what, "url", 1, &c->url, err)) != ECA_OK ||
        (rc = get_status(obj, what, CHALL_ST, &c->status, err)) != ECA_OK ||
        (rc = get_dup(obj, what, "token", 0, &c->token, err)) != ECA_OK ||
        (rc = get_problem(obj, what, &c->error, err)) != ECA_OK)
        return rc;
    /* The token becomes a file name and a URL path segment: a hostile server must not be
     * able to climb out of .well-known/acme-challenge/ (RFC 8555 §8.3, §10.2). */
    if (c->token != NULL && !acme_token_is_valid(c->token))
        return eca_err_set(err, ECA_EPROTO, "%s.token: not 1..256 base64url characters", what);
    if (c->token == NULL && (strcmp(c->type, "http-01") == 0 || strcmp(c->type, "dns-01") == 0))
        return eca_err_set(err, ECA_EPROTO, "%s.token: missing", what);
    return ECA_OK;
}

enum eca_rc
acme_challenge_parse(const struct eca_http_resp *resp, struct acme_challenge **out,
                     struct eca_err *err)
{
    struct json_object *obj = NULL;
    struct acme_challenge *c = NULL;
    enum eca_rc rc = acme_problem_json(resp, "challenge", &obj, err);

    if (rc != ECA_OK)
        return rc;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        rc = eca_err_set(err, ECA_ENOMEM, "challenge: out of memory");
    else
        rc = challenge_from_json(obj, "challenge", c, err);
    json_object_put(obj);
    if (rc != ECA_OK)
        acme_challenge_free(c);
    else
        *out = c;
    return rc;
}

static enum eca_rc
parse_challenges(struct json_object *obj, struct acme_authz *a, struct eca_err *err)
{
    struct json_object *arr = NULL;
    char path[64];
    size_t n;
    enum eca_rc rc = eca_json_get_array(obj, "authz", "challenges", 1, &arr, err);

    if (rc != ECA_OK)
        return rc;
    n = json_object_array_length(arr);
    if (n > 64)
        return eca_err_set(err, ECA_ETOOBIG, "authz.challenges: %zu entries", n);
    a->ch = calloc(n ? n : 1, sizeof *a->ch);
    if (a->ch == NULL)
        return eca_err_set(err, ECA_ENOMEM, "authz.challenges: out of memory");
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "authz.challenges[%zu]", i);
        a->nch = i + 1;
        rc = challenge_from_json(json_object_array_get_idx(arr, i), path, &a->ch[i], err);
        if (rc != ECA_OK)
            return rc;
    }
    return ECA_OK;
}

static enum eca_rc
authz_from_json(struct json_object *obj, struct acme_authz **out, struct eca_err *err)
{
    struct acme_authz *a = calloc(1, sizeof *a);
    struct json_object *id = NULL;
    enum eca_rc rc;

    if (a == NULL)
        return eca_err_set(err, ECA_ENOMEM, "authz: out of memory");
    if (!json_object_is_type(obj, json_type_object)) {
        rc = eca_err_set(err, ECA_EPROTO, "authz: expected a JSON object");
        goto out;
    }
    if ((rc = eca_json_get_obj(obj, "authz", "identifier", 1, &id, err)) != ECA_OK ||
        (rc = get_dup(id, "authz.identifier", "type", 1, &a->id_type, err)) != ECA_OK ||
        (rc = get_dup(id, "authz.identifier", "value", 1, &a->id_value, err)) != ECA_OK ||
        (rc = get_status(obj, "authz", AUTHZ_ST, &a->status, err)) != ECA_OK ||
        (rc = eca_json_get_bool(obj, "authz", "wildcard", 0, &a->wildcard, err)) != ECA_OK)
        goto out;
    rc = parse_challenges(obj, a, err);
out:
    if (rc != ECA_OK)
        acme_authz_free(a);
    else
        *out = a;
    return rc;
}

enum eca_rc
acme_authz_parse_json(const void *body, size_t len, struct acme_authz **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc;

    if (len > ACME_JSON_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "authz: body of %zu bytes exceeds %zu", len,
                           ACME_JSON_MAX);
    rc = eca_json_parse("authz", body, len, &obj, err);
    if (rc == ECA_OK)
        rc = authz_from_json(obj, out, err);
    json_object_put(obj);
    return rc;
}

enum eca_rc
acme_authz_parse(const struct eca_http_resp *resp, struct acme_authz **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc = acme_problem_json(resp, "authz", &obj, err);

    if (rc == ECA_OK)
        rc = authz_from_json(obj, out, err);
    json_object_put(obj);
    return rc;
}

void
acme_authz_free(struct acme_authz *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->nch; i++)
        challenge_clear(&a->ch[i]);
    free(a->ch);
    free(a->id_type);
    free(a->id_value);
    free(a);
}

const struct acme_challenge *
acme_authz_challenge(const struct acme_authz *a, const char *type)
{
    for (size_t i = 0; a != NULL && i < a->nch; i++)
        if (strcmp(a->ch[i].type, type) == 0)
            return &a->ch[i];
    return NULL;
}

/* 1 if the link-params in p[0..n) contain rel="...want..." (RFC 8288 §3.3). */
static int
has_rel(const char *p, size_t n, const char *want)
{
    size_t wl = strlen(want);

    for (size_t i = 0; i + 4 <= n; i++) {
        const char *v;
        size_t vl;

        if (strncasecmp(p + i, "rel=", 4) != 0)
            continue;
        v = p + i + 4;
        vl = n - i - 4;
        if (vl > 0 && *v == '"') {
            v++;
            vl--;
        }
        /* rel may be a space-separated list; compare each member. */
        while (vl > 0 && *v != '"' && *v != ';') {
            size_t tl = strcspn(v, " \";");

            if (tl > vl)
                tl = vl;
            if (tl == wl && strncasecmp(v, want, wl) == 0)
                return 1;
            v += tl;
            vl -= tl;
            while (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
        }
    }
    return 0;
}

/* Scan one Link header value: <url>; params, <url>; params ... */
static size_t
scan_links(const char *v, const char *rel, char **urls, size_t count, size_t max)
{
    while (count < max && (v = strchr(v, '<')) != NULL) {
        const char *end = strchr(v, '>');
        const char *next;

        if (end == NULL)
            break;
        next = strchr(end, ',');
        if (has_rel(end + 1, next ? (size_t)(next - end - 1) : strlen(end + 1), rel) &&
            (urls[count] = strndup(v + 1, (size_t)(end - v - 1))) != NULL)
            count++;
        if (next == NULL)
            break;
        v = next + 1;
    }
    return count;
}

size_t
acme_order_links(const struct eca_http_resp *resp, const char *rel, char **urls, size_t max)
{
    const char *v;
    size_t count = 0;

    for (size_t i = 0; count < max && (v = eca_http_resp_header_nth(resp, "Link", i)); i++)
        count = scan_links(v, rel, urls, count, max);
    return count;
}

/* Append "; " + text to the failure message being built. */
static void
add_msg(char *msg, size_t len, const char *text)
{
    size_t pos = strlen(msg);
    size_t n;

    if (pos > 0 && pos + 2 < len) {
        memcpy(msg + pos, "; ", 2);
        pos += 2;
    }
    n = strlen(text);
    if (n > len - pos - 1)
        n = len - pos - 1;
    memcpy(msg + pos, text, n);
    msg[pos + n] = '\0';
}

/* Describe why one authorization failed: its challenge's problem, or its status. */
static void
describe_authz(const struct acme_authz *a, char *msg, size_t len, int *rate_limited)
{
    char text[ECA_ERR_MSG_MAX], prob[ECA_ERR_MSG_MAX];
    const struct acme_challenge *bad = NULL;
    size_t skip = strlen("server problem ");

    for (size_t i = 0; i < a->nch && bad == NULL; i++)
        if (a->ch[i].error != NULL)
            bad = &a->ch[i];
    if (bad != NULL) {
        acme_problem_format(bad->error, prob, sizeof prob);
        snprintf(text, sizeof text, "%s:%s%s: %s (%s)", a->id_type, a->wildcard ? "*." : "",
                 a->id_value, prob + skip, bad->type);
        *rate_limited |= acme_problem_is(bad->error, "rateLimited");
    } else {
        snprintf(text, sizeof text, "%s:%s%s: authorization %s", a->id_type,
                 a->wildcard ? "*." : "", a->id_value, acme_status_name(a->status));
    }
    add_msg(msg, len, text);
}

static int
authz_failed(const struct acme_authz *a)
{
    return a != NULL && a->status != ACME_ST_PENDING && a->status != ACME_ST_VALID;
}

/* Build the failure: the order's own problem first, then every failed identifier. */
static enum eca_rc
fail(const struct acme_order_state *st, struct acme_action *act, struct eca_err *err)
{
    const struct acme_order *o = st->order;
    char msg[ECA_ERR_MSG_MAX] = "";
    char prob[ECA_ERR_MSG_MAX];
    int rate_limited = 0;

    act->kind = ACME_ACT_FAIL;
    if (o->error != NULL) {
        acme_problem_format(o->error, prob, sizeof prob);
        add_msg(msg, sizeof msg, prob);
        rate_limited = acme_problem_is(o->error, "rateLimited");
    }
    for (size_t i = 0; st->authz != NULL && i < o->nauthz; i++)
        if (authz_failed(st->authz[i]))
            describe_authz(st->authz[i], msg, sizeof msg, &rate_limited);
    return eca_err_set(err, rate_limited ? ECA_EAGAIN : ECA_ESERVER, "order %s %s: %s",
                       o->url ? o->url : "(no URL)", acme_status_name(o->status),
                       msg[0] ? msg : "no problem document");
}

/* ---- challenge choice (http-01, dns-01; RFC 8555 §8.3-8.4, RFC 8738 §7) ---- */

enum eca_rc
acme_authz_choose(const struct acme_authz *a, unsigned can, const struct acme_challenge **out,
                  struct eca_err *err)
{
    int ip = strcmp(a->id_type, "ip") == 0;
    const struct acme_challenge *dns = acme_authz_challenge(a, "dns-01");
    const struct acme_challenge *http = acme_authz_challenge(a, "http-01");

    if (can == 0)
        can = ACME_CH_HTTP01;
    /* dns-01 proves control of a name, not of an address (RFC 8738 §7), and is the only way
     * to a wildcard (§7.1.3); with a hook at hand it goes first for every name. */
    *out = !ip && (can & ACME_CH_DNS01) ? dns : NULL;
    if (*out == NULL && !a->wildcard && (can & ACME_CH_HTTP01))
        *out = http;
    if (*out != NULL)
        return ECA_OK;
    if (a->wildcard && !(can & ACME_CH_DNS01))
        return eca_err_set(err, ECA_EPROTO,
                           "authz %s:*.%s: no http-01 challenge offered (wildcards need dns-01); "
                           "set dns01_hook",
                           a->id_type, a->id_value);
    if (ip && !(can & ACME_CH_HTTP01))
        return eca_err_set(err, ECA_ECONF,
                           "authz ip:%s: an address needs http-01 (http01_listen or webroot)",
                           a->id_value);
    return eca_err_set(err, ECA_EPROTO, "authz %s:%s%s: no %s challenge offered", a->id_type,
                       a->wildcard ? "*." : "", a->id_value,
                       a->wildcard || !(can & ACME_CH_HTTP01) ? "dns-01"
                       : ip || !(can & ACME_CH_DNS01)         ? "http-01"
                                                              : "dns-01 or http-01");
}

/* ---- end of challenge choice ---- */

/* A pending order: fetch, answer, then poll its authorizations (RFC 8555 §7.5). */
static enum eca_rc
next_pending(const struct acme_order_state *st, struct acme_action *act, struct eca_err *err)
{
    const struct acme_order *o = st->order;
    const struct acme_challenge *ch;
    enum eca_rc rc;

    for (size_t i = 0; i < o->nauthz; i++) {
        if (st->authz[i] == NULL) {
            *act = (struct acme_action){ACME_ACT_FETCH_AUTHZ, i, o->authz[i], NULL};
            return ECA_OK;
        }
    }
    for (size_t i = 0; i < o->nauthz; i++)
        if (authz_failed(st->authz[i]))
            return fail(st, act, err);
    for (size_t i = 0; i < o->nauthz; i++) {
        const struct acme_authz *a = st->authz[i];

        if (a->status != ACME_ST_PENDING || st->responded[i])
            continue;
        if ((rc = acme_authz_choose(a, st->challenges, &ch, err)) != ECA_OK) {
            act->kind = ACME_ACT_FAIL;
            return rc;
        }
        /* A challenge already processing (or valid) needs no second answer. */
        if (ch->status == ACME_ST_PENDING) {
            *act = (struct acme_action){ACME_ACT_RESPOND, i, ch->url, ch};
            return ECA_OK;
        }
    }
    for (size_t i = 0; i < o->nauthz; i++) {
        if (st->authz[i]->status == ACME_ST_PENDING) {
            *act = (struct acme_action){ACME_ACT_POLL_AUTHZ, i, o->authz[i], NULL};
            return ECA_OK;
        }
    }
    /* Every authorization is valid; the order turns ready shortly (§7.1.6). */
    *act = (struct acme_action){ACME_ACT_POLL_ORDER, 0, o->url, NULL};
    return ECA_OK;
}

enum eca_rc
acme_order_next(const struct acme_order_state *st, struct acme_action *act, struct eca_err *err)
{
    const struct acme_order *o = st->order;

    memset(act, 0, sizeof *act);
    switch (o->status) {
    case ACME_ST_PENDING:
        return next_pending(st, act, err);
    case ACME_ST_READY:
        *act = (struct acme_action){st->finalized ? ACME_ACT_POLL_ORDER : ACME_ACT_FINALIZE, 0,
                                    st->finalized ? o->url : o->finalize, NULL};
        return ECA_OK;
    case ACME_ST_PROCESSING:
        *act = (struct acme_action){ACME_ACT_POLL_ORDER, 0, o->url, NULL};
        return ECA_OK;
    case ACME_ST_VALID:
        if (o->certificate == NULL) {
            act->kind = ACME_ACT_FAIL;
            return eca_err_set(err, ECA_EPROTO, "order.certificate: missing on a valid order");
        }
        *act = (struct acme_action){ACME_ACT_DOWNLOAD, 0, o->certificate, NULL};
        return ECA_OK;
    default:
        return fail(st, act, err);
    }
}
