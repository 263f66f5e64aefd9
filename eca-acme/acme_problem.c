/* SPDX-License-Identifier: MIT */
/* RFC 8555 §6.7 problem documents and the response gate every ACME parser goes through. */
#include "acme_problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eca_json.h"

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static enum eca_rc
parse_sub(struct json_object *o, const char *what, struct acme_subproblem *sp, struct eca_err *err)
{
    const char *type = NULL, *detail = NULL, *itype = NULL, *ivalue = NULL;
    struct json_object *id = NULL;
    enum eca_rc rc;

    if (!json_object_is_type(o, json_type_object))
        return eca_err_set(err, ECA_EPROTO, "%s: expected object", what);
    if ((rc = eca_json_get_str(o, what, "type", 1, &type, err)) != ECA_OK ||
        (rc = eca_json_get_str(o, what, "detail", 0, &detail, err)) != ECA_OK ||
        (rc = eca_json_get_obj(o, what, "identifier", 0, &id, err)) != ECA_OK)
        return rc;
    if (id != NULL) {
        char path[128];

        snprintf(path, sizeof path, "%s.identifier", what);
        if ((rc = eca_json_get_str(id, path, "type", 1, &itype, err)) != ECA_OK ||
            (rc = eca_json_get_str(id, path, "value", 1, &ivalue, err)) != ECA_OK)
            return rc;
    }
    sp->type = strdup(type);
    sp->detail = dup_or_null(detail);
    sp->id_type = dup_or_null(itype);
    sp->id_value = dup_or_null(ivalue);
    if (sp->type == NULL || (detail && !sp->detail) || (itype && !sp->id_type) ||
        (ivalue && !sp->id_value))
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", what);
    return ECA_OK;
}

static enum eca_rc
parse_subs(struct json_object *obj, const char *what, struct acme_problem *p, struct eca_err *err)
{
    struct json_object *arr = NULL;
    enum eca_rc rc;
    size_t n;
    char path[96];

    if ((rc = eca_json_get_array(obj, what, "subproblems", 0, &arr, err)) != ECA_OK)
        return rc;
    if (arr == NULL)
        return ECA_OK;
    n = json_object_array_length(arr);
    if (n == 0)
        return ECA_OK;
    if (n > 1000)
        return eca_err_set(err, ECA_ETOOBIG, "%s.subproblems: %zu entries", what, n);
    p->sub = calloc(n, sizeof *p->sub);
    if (p->sub == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s.subproblems: out of memory", what);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s.subproblems[%zu]", what, i);
        p->nsub = i + 1;
        rc = parse_sub(json_object_array_get_idx(arr, i), path, &p->sub[i], err);
        if (rc != ECA_OK)
            return rc;
    }
    return ECA_OK;
}

enum eca_rc
acme_problem_from_json(struct json_object *obj, const char *what, struct acme_problem **out,
                       struct eca_err *err)
{
    struct acme_problem *p = NULL;
    const char *type = NULL, *detail = NULL;
    long long status = -1;
    enum eca_rc rc;

    if (!json_object_is_type(obj, json_type_object))
        return eca_err_set(err, ECA_EPROTO, "%s: expected object", what);
    if ((rc = eca_json_get_str(obj, what, "type", 0, &type, err)) != ECA_OK ||
        (rc = eca_json_get_str(obj, what, "detail", 0, &detail, err)) != ECA_OK ||
        (rc = eca_json_get_int(obj, what, "status", 0, &status, err)) != ECA_OK)
        return rc;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", what);
    p->status = (status >= 100 && status <= 599) ? (long)status : -1;
    /* RFC 7807 §4.2: a missing type means "about:blank". */
    p->type = strdup(type ? type : "about:blank");
    p->detail = dup_or_null(detail);
    if (p->type == NULL || (detail && p->detail == NULL)) {
        rc = eca_err_set(err, ECA_ENOMEM, "%s: out of memory", what);
        goto out;
    }
    rc = parse_subs(obj, what, p, err);
out:
    if (rc != ECA_OK)
        acme_problem_free(p);
    else
        *out = p;
    return rc;
}

enum eca_rc
acme_problem_parse(const void *body, size_t len, struct acme_problem **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc;

    rc = eca_json_parse("problem", body, len, &obj, err);
    if (rc == ECA_OK)
        rc = acme_problem_from_json(obj, "problem", out, err);
    json_object_put(obj);
    return rc;
}

const char *
acme_problem_short(const char *type)
{
    size_t n = strlen(ACME_ERROR_NS);

    if (type == NULL)
        return "";
    return strncmp(type, ACME_ERROR_NS, n) == 0 ? type + n : type;
}

int
acme_problem_is(const struct acme_problem *p, const char *name)
{
    size_t n = strlen(ACME_ERROR_NS);

    return p != NULL && p->type != NULL && strncmp(p->type, ACME_ERROR_NS, n) == 0 &&
           strcmp(p->type + n, name) == 0;
}

/* Append s to out at *pos, replacing control bytes: server text must not forge log lines. */
static void
put(char *out, size_t outlen, size_t *pos, const char *s)
{
    for (; s != NULL && *s != '\0' && *pos + 1 < outlen; s++) {
        unsigned char ch = (unsigned char)*s;

        out[(*pos)++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[*pos] = '\0';
}

void
acme_problem_format(const struct acme_problem *p, char *out, size_t outlen)
{
    size_t pos = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    put(out, outlen, &pos, "server problem ");
    put(out, outlen, &pos, acme_problem_short(p->type));
    if (p->detail != NULL && p->detail[0] != '\0') {
        put(out, outlen, &pos, ": ");
        put(out, outlen, &pos, p->detail);
    }
    for (size_t i = 0; i < p->nsub; i++) {
        const struct acme_subproblem *s = &p->sub[i];

        put(out, outlen, &pos, i == 0 ? "; subproblems: " : ", ");
        if (s->id_type != NULL) {
            put(out, outlen, &pos, s->id_type);
            put(out, outlen, &pos, ":");
            put(out, outlen, &pos, s->id_value);
            put(out, outlen, &pos, ": ");
        }
        put(out, outlen, &pos, acme_problem_short(s->type));
        if (s->detail != NULL && s->detail[0] != '\0') {
            put(out, outlen, &pos, ": ");
            put(out, outlen, &pos, s->detail);
        }
    }
}

enum eca_rc
acme_problem_rc(const struct acme_problem *p, long http_status)
{
    if (http_status == 429 || http_status == 503 || acme_problem_is(p, "rateLimited"))
        return ECA_EAGAIN;
    if (acme_problem_is(p, "accountDoesNotExist"))
        return ECA_ENOTFOUND;
    if (acme_problem_is(p, "unauthorized") || acme_problem_is(p, "externalAccountRequired") ||
        acme_problem_is(p, "userActionRequired"))
        return ECA_EAUTH;
    return ECA_ESERVER;
}

static int
media_is(const struct eca_http_resp *resp, const char *media)
{
    char mt[128];

    return eca_http_resp_media_type(resp, mt, sizeof mt) && strcmp(mt, media) == 0;
}

struct acme_problem *
acme_problem_of(const struct eca_http_resp *resp)
{
    struct acme_problem *p = NULL;

    /* Some servers label problems application/json; the parse decides. */
    if (!media_is(resp, "application/problem+json") && !media_is(resp, "application/json"))
        return NULL;
    if (resp->body.len == 0 || resp->body.len > ACME_JSON_MAX)
        return NULL;
    if (acme_problem_parse(resp->body.data, resp->body.len, &p, NULL) != ECA_OK)
        return NULL;
    return p;
}

/* Retry-After in seconds; HTTP-dates need a "now" (pure callers may pass 0). */
static long
retry_after(const struct eca_http_resp *resp, time_t now)
{
    char v[128];

    if (!eca_http_resp_header(resp, "Retry-After", v, sizeof v))
        return -1;
    if (now == 0 && strspn(v, "0123456789") != strlen(v))
        return -1;
    return eca_http_retry_after(v, now);
}

static enum eca_rc
fail_status(const struct eca_http_resp *resp, const char *what, time_t now, struct eca_err *err)
{
    struct acme_problem *p = acme_problem_of(resp);
    char text[ECA_ERR_MSG_MAX];
    enum eca_rc rc = acme_problem_rc(p, resp->status);

    if (p != NULL) {
        acme_problem_format(p, text, sizeof text);
        eca_err_set(err, rc, "%s: HTTP %ld: %s", what, resp->status, text);
    } else {
        eca_err_set(err, rc, "%s: HTTP %ld without a problem document", what, resp->status);
    }
    if (err != NULL)
        err->retry_after = retry_after(resp, now);
    acme_problem_free(p);
    return rc;
}

enum eca_rc
acme_problem_check(const struct eca_http_resp *resp, const char *what, const char *media,
                   time_t now, struct eca_err *err)
{
    char mt[128];

    if (resp->status >= 400 || resp->status < 200 || media_is(resp, "application/problem+json"))
        return fail_status(resp, what, now, err);
    if (media != NULL && !(eca_http_resp_media_type(resp, mt, sizeof mt) && !strcmp(mt, media)))
        return eca_err_set(err, ECA_EPROTO, "%s: unexpected Content-Type \"%s\" (want %s)", what,
                           eca_http_resp_header(resp, "Content-Type", mt, sizeof mt) ? mt : "",
                           media);
    if (media != NULL && strcmp(media, "application/json") == 0 && resp->body.len > ACME_JSON_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "%s: body of %zu bytes exceeds %zu", what,
                           resp->body.len, ACME_JSON_MAX);
    return ECA_OK;
}

enum eca_rc
acme_problem_json(const struct eca_http_resp *resp, const char *what, struct json_object **out,
                  struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc;

    rc = acme_problem_check(resp, what, "application/json", 0, err);
    if (rc != ECA_OK)
        return rc;
    rc = eca_json_parse(what, resp->body.data ? (const char *)resp->body.data : "", resp->body.len,
                        &obj, err);
    if (rc != ECA_OK)
        return rc;
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return eca_err_set(err, ECA_EPROTO, "%s: expected a JSON object", what);
    }
    *out = obj;
    return ECA_OK;
}

void
acme_problem_free(struct acme_problem *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nsub; i++) {
        free(p->sub[i].type);
        free(p->sub[i].detail);
        free(p->sub[i].id_type);
        free(p->sub[i].id_value);
    }
    free(p->sub);
    free(p->type);
    free(p->detail);
    free(p);
}
