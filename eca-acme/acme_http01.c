/* SPDX-License-Identifier: MIT */
/* http-01 challenge responders (RFC 8555 §8.3): a built-in listener or a webroot writer. */
#include "acme_http01.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acme_http01_os.h"
#include "acme_order.h"
#include "eca_fs.h"
#include "eca_listen.h"

#define MAX_TOKENS 64
/* A CA's validation request has no business being slow; one that is, is dropped. */
#define CONN_TIMEOUT_MS 5000

enum kind { KIND_LISTENER, KIND_WEBROOT };

/* A token published; refs: the orders that published it (a CA hands two orders of one account
 * for the same name the same pending authorization, and so the same token). The listener
 * serves authz; a webroot keeps only the count (its file holds the answer). */
struct published {
    char *token;
    char *authz;
    int refs;
};

struct http01 {
    struct acme_responder pub; /* first: the responder handed out points here */
    enum kind kind;
    char *where; /* listen address or webroot */
    /* listener (NULL until the first publish): the socket, the thread serving it and the
     * lock between that thread and publish/unpublish, and the tokens it serves */
    struct eca_listen *listen;
    struct acme_http01_os *os;
    struct published toks[MAX_TOKENS];
};

/* ---- built-in listener ---- */

/* GET /.well-known/acme-challenge/<token> answers the key authorization, anything else 404. */
static void
answer(struct http01 *h, struct eca_listen_req *req)
{
    size_t plen = strlen(ACME_HTTP01_PREFIX);
    const char *tok = strncmp(req->path, ACME_HTTP01_PREFIX, plen) == 0 ? req->path + plen : NULL;
    char *authz = NULL;

    if (tok != NULL && acme_token_is_valid(tok)) {
        acme_http01_os_lock(h->os);
        for (size_t i = 0; i < MAX_TOKENS && authz == NULL; i++)
            if (h->toks[i].token && strcmp(h->toks[i].token, tok) == 0)
                authz = strdup(h->toks[i].authz);
        acme_http01_os_unlock(h->os);
    }
    if (authz != NULL)
        eca_listen_respond(h->listen, req, 200, "text/plain", authz, strlen(authz));
    else
        eca_listen_respond(h->listen, req, 404, NULL, NULL, 0);
    free(authz);
}

/* The service thread: answer requests until acme_http01_free() interrupts the listener. */
static void
serve(void *arg)
{
    struct http01 *h = arg;
    struct eca_listen_req req;
    enum eca_rc rc;

    while ((rc = eca_listen_next(h->listen, -1, &req, NULL)) == ECA_OK || rc == ECA_ETIMEOUT)
        if (rc == ECA_OK)
            answer(h, &req);
}

static enum eca_rc
start_listener(struct http01 *h, struct eca_err *err)
{
    enum eca_rc rc;

    if ((rc = eca_listen_open(h->where, 0, CONN_TIMEOUT_MS, &h->listen, err)) != ECA_OK) {
        eca_err_prefix(err, "http01 ");
        return rc;
    }
    if ((rc = acme_http01_os_start(serve, h, &h->os, err)) != ECA_OK) {
        eca_listen_close(h->listen);
        h->listen = NULL;
    }
    return rc;
}

/* The slot serving token, else a free one; NULL when every slot holds another token. */
static struct published *
slot_for(struct http01 *h, const char *token)
{
    struct published *free_slot = NULL;

    for (size_t i = 0; i < MAX_TOKENS; i++) {
        if (h->toks[i].token != NULL && strcmp(h->toks[i].token, token) == 0)
            return &h->toks[i];
        if (h->toks[i].token == NULL && free_slot == NULL)
            free_slot = &h->toks[i];
    }
    return free_slot;
}

/* One order less for slot's token: 1 when it was the last (the slot is then emptied). */
static int
slot_release(struct published *slot)
{
    if (--slot->refs > 0)
        return 0;
    free(slot->token);
    free(slot->authz);
    slot->token = slot->authz = NULL;
    slot->refs = 0;
    return 1;
}

static enum eca_rc
listener_publish(void *ctx, const char *token, const char *key_authz, struct eca_err *err)
{
    struct http01 *h = ctx;
    struct published *slot = NULL;
    char *t = NULL, *a = NULL;
    enum eca_rc rc = ECA_OK;

    if (!acme_token_is_valid(token))
        return eca_err_set(err, ECA_EPROTO, "http-01 token: not a base64url string");
    if (h->os == NULL && (rc = start_listener(h, err)) != ECA_OK)
        return rc;
    acme_http01_os_lock(h->os);
    if ((slot = slot_for(h, token)) == NULL) {
        rc = eca_err_set(err, ECA_ETOOBIG, "http01 listener: more than %d tokens", MAX_TOKENS);
    } else if ((t = strdup(token)) == NULL || (a = strdup(key_authz)) == NULL) {
        free(t);
        rc = eca_err_set(err, ECA_ENOMEM, "http01 listener: out of memory");
    } else {
        slot->refs = slot->token != NULL ? slot->refs + 1 : 1;
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
    struct published *slot;

    if (h->os == NULL)
        return; /* never published: nothing served */
    acme_http01_os_lock(h->os);
    if ((slot = slot_for(h, token)) != NULL && slot->token != NULL)
        slot_release(slot);
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
    struct published *slot;
    char dir[4096], path[4400];
    enum eca_rc rc;

    /* The token becomes a file name: refuse anything but base64url before touching disk. */
    if (!acme_token_is_valid(token))
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
    if ((rc = eca_fs_write_atomic(path, key_authz, strlen(key_authz), ECA_FS_MODE_PUBLIC, err)) !=
        ECA_OK)
        return rc;
    /* Counted like the listener's: two orders in flight for one name share its token, and the
     * first done must not remove the file the other's validation still needs. Not counted
     * (table full, out of memory): removed at the first unpublish, as before. */
    if ((slot = slot_for(h, token)) != NULL && slot->token != NULL)
        slot->refs++;
    else if (slot != NULL && (slot->token = strdup(token)) != NULL)
        slot->refs = 1;
    return ECA_OK;
}

static void
webroot_unpublish(void *ctx, const char *token)
{
    struct http01 *h = ctx;
    struct published *slot;
    char path[4400];

    if (!acme_token_is_valid(token))
        return;
    if ((slot = slot_for(h, token)) != NULL && slot->token != NULL && !slot_release(slot))
        return; /* another order in flight still needs it */
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

    return h && h->kind == KIND_LISTENER && h->listen ? (int)eca_listen_port(h->listen) : 0;
}

void
acme_http01_free(struct acme_responder *r)
{
    struct http01 *h = r ? r->ctx : NULL;

    if (h == NULL)
        return;
    if (h->listen != NULL) {
        eca_listen_interrupt(h->listen);
        acme_http01_os_join(h->os); /* the service thread ends before the tokens go */
        eca_listen_close(h->listen);
    }
    for (size_t i = 0; i < MAX_TOKENS; i++) {
        free(h->toks[i].token);
        free(h->toks[i].authz);
    }
    free(h->where);
    free(h);
}
