/* SPDX-License-Identifier: MIT */
/* http-01 challenge responders (RFC 8555 §8.3): a built-in listener or a webroot writer. */
#include "acme_http01.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acme_http01_os.h"
#include "eca_fs.h"

#define MAX_TOKENS 64
#define REQ_CAP    8192

enum kind { KIND_LISTENER, KIND_WEBROOT };

struct published {
    char *token;
    char *authz;
};

struct http01 {
    struct acme_responder pub; /* first: the responder handed out points here */
    enum kind kind;
    char *where; /* listen address or webroot */
    /* listener: the socket half (NULL until the first publish) and the tokens it serves */
    struct acme_http01_os *os;
    struct published toks[MAX_TOKENS];
};

int
acme_http01_token_is_valid(const char *token)
{
    size_t n = 0;

    if (token == NULL)
        return 0;
    for (const char *p = token; *p; p++, n++) {
        char ch = *p;

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return n > 0 && n <= ACME_HTTP01_MAX_TOKEN;
}

/* ---- built-in listener ---- */

static char *
response(int status, const char *body)
{
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    size_t cap = strlen(body) + 256;
    char *r = malloc(cap);

    if (r != NULL)
        snprintf(r, cap,
                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s",
                 status, reason, strlen(body), body);
    return r;
}

/* GET /.well-known/acme-challenge/<token> answers the key authorization, anything else 404. */
static char *
answer(void *ctx, const char *head)
{
    struct http01 *h = ctx;
    size_t plen = strlen(ACME_HTTP01_PREFIX), n;
    char tok[ACME_HTTP01_MAX_TOKEN + 1];
    const char *path, *sp;
    char *r = NULL;

    if (head == NULL || strncmp(head, "GET ", 4) != 0 || (sp = strchr(head + 4, ' ')) == NULL)
        return response(400, "bad request\n");
    path = head + 4;
    n = (size_t)(sp - path);
    if (n <= plen || n - plen > ACME_HTTP01_MAX_TOKEN || strncmp(path, ACME_HTTP01_PREFIX, plen))
        return response(404, "not found\n");
    memcpy(tok, path + plen, n - plen);
    tok[n - plen] = '\0';
    if (!acme_http01_token_is_valid(tok))
        return response(404, "not found\n");
    acme_http01_os_lock(h->os);
    for (size_t i = 0; i < MAX_TOKENS && r == NULL; i++)
        if (h->toks[i].token && strcmp(h->toks[i].token, tok) == 0)
            r = response(200, h->toks[i].authz);
    acme_http01_os_unlock(h->os);
    return r != NULL ? r : response(404, "not found\n");
}

/* Split "host:port" / "[v6]:port" into host and port strings. */
static enum eca_rc
split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen,
               struct eca_err *err)
{
    const char *colon = strrchr(s, ':');
    size_t n;

    if (colon == NULL || colon == s || colon[1] == '\0')
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': expected addr:port", s);
    n = (size_t)(colon - s);
    if (s[0] == '[' && colon[-1] == ']') {
        s++;
        n -= 2;
    }
    if (n >= hostlen || strlen(colon + 1) >= portlen)
        return eca_err_set(err, ECA_EINVAL, "http01 listen '%s': too long", s);
    memcpy(host, s, n);
    host[n] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return ECA_OK;
}

static enum eca_rc
start_listener(struct http01 *h, struct eca_err *err)
{
    char host[256], port[16];
    enum eca_rc rc;

    if ((rc = split_hostport(h->where, host, sizeof host, port, sizeof port, err)) != ECA_OK)
        return rc;
    return acme_http01_os_listen(h->where, host, port, REQ_CAP, answer, h, &h->os, err);
}

static enum eca_rc
listener_publish(void *ctx, const char *token, const char *key_authz, struct eca_err *err)
{
    struct http01 *h = ctx;
    struct published *slot = NULL;
    char *t = NULL, *a = NULL;
    enum eca_rc rc = ECA_OK;

    if (!acme_http01_token_is_valid(token))
        return eca_err_set(err, ECA_EPROTO, "http-01 token: not a base64url string");
    if (h->os == NULL && (rc = start_listener(h, err)) != ECA_OK)
        return rc;
    acme_http01_os_lock(h->os);
    for (size_t i = 0; i < MAX_TOKENS && slot == NULL; i++)
        if (h->toks[i].token == NULL || strcmp(h->toks[i].token, token) == 0)
            slot = &h->toks[i];
    if (slot == NULL) {
        rc = eca_err_set(err, ECA_ETOOBIG, "http01 listener: more than %d tokens", MAX_TOKENS);
    } else if ((t = strdup(token)) == NULL || (a = strdup(key_authz)) == NULL) {
        free(t);
        rc = eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    } else {
        free(slot->token);
        free(slot->authz);
        slot->token = t;
        slot->authz = a;
    }
    acme_http01_os_unlock(h->os);
    return rc;
}

static void
listener_unpublish(void *ctx, const char *token)
{
    struct http01 *h = ctx;

    if (h->os == NULL)
        return; /* never published: nothing served */
    acme_http01_os_lock(h->os);
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        if (h->toks[i].token && strcmp(h->toks[i].token, token) == 0) {
            free(h->toks[i].token);
            free(h->toks[i].authz);
            h->toks[i].token = h->toks[i].authz = NULL;
        }
    }
    acme_http01_os_unlock(h->os);
}

static struct http01 *
http01_alloc(enum kind kind, const char *where, struct eca_err *err)
{
    struct http01 *h = calloc(1, sizeof(*h));

    if (h == NULL || (h->where = strdup(where)) == NULL) {
        free(h);
        eca_err_set(err, ECA_ENOMEM, "http01: out of memory");
        return NULL;
    }
    h->kind = kind;
    h->pub.ctx = h;
    return h;
}

enum eca_rc
acme_http01_listener_new(const char *listen, struct acme_responder **out, struct eca_err *err)
{
    struct http01 *h;

    if (listen == NULL || *listen == '\0')
        return eca_err_set(err, ECA_EINVAL, "http01 listen: empty address");
    if ((h = http01_alloc(KIND_LISTENER, listen, err)) == NULL)
        return ECA_ENOMEM;
    h->pub.publish = listener_publish;
    h->pub.unpublish = listener_unpublish;
    *out = &h->pub;
    return ECA_OK;
}

/* ---- webroot ---- */

static enum eca_rc
webroot_publish(void *ctx, const char *token, const char *key_authz, struct eca_err *err)
{
    struct http01 *h = ctx;
    char dir[4096], path[4400];
    enum eca_rc rc;

    /* The token becomes a file name: refuse anything but base64url before touching disk. */
    if (!acme_http01_token_is_valid(token))
        return eca_err_set(err, ECA_EPROTO, "http-01 token: not a base64url string");
    /* A truncated path would be another file: too long is an error (dir + token fit path). */
    if (strlen(h->where) + sizeof ACME_HTTP01_PREFIX + 256 > sizeof dir)
        return eca_err_set(err, ECA_ECONF, "webroot %.200s...: path too long", h->where);
    snprintf(dir, sizeof dir, "%s/.well-known", h->where);
    if ((rc = acme_http01_os_mkdir_public(dir, err)) != ECA_OK)
        return rc;
    snprintf(dir, sizeof dir, "%s/.well-known/acme-challenge", h->where);
    if ((rc = acme_http01_os_mkdir_public(dir, err)) != ECA_OK ||
        (rc = acme_http01_os_webroot_ready(dir, err)) != ECA_OK)
        return rc;
    if (snprintf(path, sizeof path, "%s/%s", dir, token) >= (int)sizeof path)
        return eca_err_set(err, ECA_EPROTO, "http-01 token: too long for the webroot path");
    return eca_fs_write_atomic(path, key_authz, strlen(key_authz), ECA_FS_MODE_PUBLIC, err);
}

static void
webroot_unpublish(void *ctx, const char *token)
{
    struct http01 *h = ctx;
    char path[4400];

    if (!acme_http01_token_is_valid(token))
        return;
    snprintf(path, sizeof path, "%s%s%s", h->where, ACME_HTTP01_PREFIX, token);
    eca_fs_remove(path, NULL);
}

enum eca_rc
acme_http01_webroot_new(const char *webroot, struct acme_responder **out, struct eca_err *err)
{
    struct http01 *h;
    struct stat st;

    if (webroot == NULL || *webroot == '\0')
        return eca_err_set(err, ECA_EINVAL, "webroot: empty path");
    if (strlen(webroot) > 3000)
        return eca_err_set(err, ECA_EINVAL, "webroot: path too long");
    if (stat(webroot, &st) != 0 || !S_ISDIR(st.st_mode))
        return eca_err_set(err, ECA_ENOTFOUND, "webroot '%s': not a directory", webroot);
    if ((h = http01_alloc(KIND_WEBROOT, webroot, err)) == NULL)
        return ECA_ENOMEM;
    h->pub.publish = webroot_publish;
    h->pub.unpublish = webroot_unpublish;
    *out = &h->pub;
    return ECA_OK;
}

int
acme_http01_port(const struct acme_responder *r)
{
    const struct http01 *h = r ? r->ctx : NULL;

    return h && h->kind == KIND_LISTENER && h->os ? acme_http01_os_port(h->os) : 0;
}

void
acme_http01_free(struct acme_responder *r)
{
    struct http01 *h = r ? r->ctx : NULL;

    if (h == NULL)
        return;
    acme_http01_os_free(h->os); /* joins the service thread before the tokens go */
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        free(h->toks[i].token);
        free(h->toks[i].authz);
    }
    free(h->where);
    free(h);
}
