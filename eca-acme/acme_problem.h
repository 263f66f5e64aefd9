/* SPDX-License-Identifier: MIT */
/* RFC 8555 §6.7 problem documents and the response gate every ACME parser goes through. */
#ifndef ACME_PROBLEM_H
#define ACME_PROBLEM_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "eca_err.h"
#include "eca_http.h"

#define ACME_ERROR_NS "urn:ietf:params:acme:error:"
/* Largest JSON document (directory, account, order, authz, problem) we agree to parse. */
#define ACME_JSON_MAX ((size_t)128 << 10)

/* One subproblem (RFC 8555 §6.7.1): what went wrong for one identifier. */
struct acme_subproblem {
    char *type;    /* full type URN */
    char *detail;  /* may be NULL */
    char *id_type; /* "dns"; NULL when the subproblem names no identifier */
    char *id_value;
};

/* A problem document. Strings are owned; free with acme_problem_free(). */
struct acme_problem {
    char *type;   /* full type URN, "about:blank" when absent (RFC 7807 §4.2) */
    char *detail; /* may be NULL */
    long status;  /* -1 when absent */
    struct acme_subproblem *sub;
    size_t nsub;
};

/*
 * Parse a problem document from JSON text. On success *out is a new problem (caller frees);
 * on failure *out is untouched and err names the field ("problem.type: expected string").
 */
enum eca_rc acme_problem_parse(const void *body, size_t len, struct acme_problem **out,
                               struct eca_err *err);

/* Same from an already parsed object (order.error, challenge.error); `what` is its path. */
enum eca_rc acme_problem_from_json(struct json_object *obj, const char *what,
                                   struct acme_problem **out, struct eca_err *err);

/* The type without the ACME namespace ("badNonce"), or the full type for foreign URIs. */
const char *acme_problem_short(const char *type);

/* 1 if p's type is ACME_ERROR_NS + name. */
int acme_problem_is(const struct acme_problem *p, const char *name);

/*
 * Append a readable one-line rendering to out (at most outlen bytes, always terminated):
 * "server problem rateLimited: detail; subproblems: dns:a.example: unauthorized: ...".
 * Control characters from the server are replaced by '?'.
 */
void acme_problem_format(const struct acme_problem *p, char *out, size_t outlen);

/*
 * The eca_rc a problem maps to: rateLimited and HTTP 429/503 -> ECA_EAGAIN,
 * accountDoesNotExist -> ECA_ENOTFOUND, unauthorized, externalAccountRequired and
 * userActionRequired -> ECA_EAUTH, anything else ECA_ESERVER.
 */
enum eca_rc acme_problem_rc(const struct acme_problem *p, long http_status);

/*
 * The gate in front of every ACME parser: a 4xx/5xx or problem+json response becomes the
 * mapped error ("what: HTTP 429: server problem rateLimited: ..."), with retry_after from
 * Retry-After (an HTTP-date only when now != 0); a success with a media type other than
 * `media` (NULL: any) is ECA_EPROTO; a body above ACME_JSON_MAX is ECA_ETOOBIG.
 */
enum eca_rc acme_problem_check(const struct eca_http_resp *resp, const char *what,
                               const char *media, time_t now, struct eca_err *err);

/*
 * acme_problem_check() for application/json, then parse the body as one JSON object.
 * On success the caller json_object_put()s *out.
 */
enum eca_rc acme_problem_json(const struct eca_http_resp *resp, const char *what,
                              struct json_object **out, struct eca_err *err);

/* Parse the problem document of a response, or NULL when it carries none (any reason). */
struct acme_problem *acme_problem_of(const struct eca_http_resp *resp);

void acme_problem_free(struct acme_problem *p);

#endif
