/* SPDX-License-Identifier: MIT */
/*
 * ACME accounts (RFC 8555 §7.3): newAccount payload, EAB embedding, account response, key
 * rollover (§7.3.5) and deactivation (§7.3.6).
 */
#include "acme_account.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "acme_jws.h"
#include "acme_problem.h"
#include "eca_json.h"

static enum eca_rc
add_eab(struct json_object *o, const char *eab_jws, struct eca_err *err)
{
    struct json_object *eab = NULL;
    enum eca_rc rc = eca_json_parse("externalAccountBinding", eab_jws, strlen(eab_jws), &eab, err);

    if (rc != ECA_OK)
        return rc;
    json_object_object_add(o, "externalAccountBinding", eab);
    return ECA_OK;
}

enum eca_rc
acme_account_build_new(const struct acme_account_req *req, struct eca_buf *out, struct eca_err *err)
{
    struct json_object *o = json_object_new_object();
    struct json_object *arr;
    enum eca_rc rc = ECA_OK;

    if (o == NULL)
        return eca_err_set(err, ECA_ENOMEM, "newAccount: out of memory");
    if (req->ncontact > 0) {
        arr = json_object_new_array();
        for (size_t i = 0; i < req->ncontact; i++)
            json_object_array_add(arr, json_object_new_string(req->contact[i]));
        json_object_object_add(o, "contact", arr);
    }
    if (req->tos_agreed)
        json_object_object_add(o, "termsOfServiceAgreed", json_object_new_boolean(1));
    if (req->only_return_existing)
        json_object_object_add(o, "onlyReturnExisting", json_object_new_boolean(1));
    if (req->eab_jws != NULL)
        rc = add_eab(o, req->eab_jws, err);
    if (rc == ECA_OK)
        rc = eca_buf_puts(out,
                          json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE),
                          err);
    json_object_put(o);
    return rc;
}

static enum eca_rc
parse_status(const char *s, enum acme_account_status *st, struct eca_err *err)
{
    if (strcmp(s, "valid") == 0)
        *st = ACME_ACCOUNT_VALID;
    else if (strcmp(s, "deactivated") == 0)
        *st = ACME_ACCOUNT_DEACTIVATED;
    else if (strcmp(s, "revoked") == 0)
        *st = ACME_ACCOUNT_REVOKED;
    else
        return eca_err_set(err, ECA_EPROTO, "account.status: unknown value \"%.40s\"", s);
    return ECA_OK;
}

/* The account object of resp; its URL is Location, or url (non-NULL) when none is sent. */
static enum eca_rc
parse(const struct eca_http_resp *resp, const char *url, struct acme_account **out,
      struct eca_err *err)
{
    struct json_object *obj = NULL;
    struct acme_account *a = NULL;
    const char *status = NULL;
    char loc[2048];
    int have_loc;
    enum eca_rc rc;

    rc = acme_problem_json(resp, "account", &obj, err);
    if (rc != ECA_OK)
        return rc;
    have_loc = eca_http_resp_header(resp, "Location", loc, sizeof loc) && loc[0] != '\0';
    if (!have_loc && url == NULL) {
        rc = eca_err_set(err, ECA_EPROTO, "account: no Location header (the account URL)");
        goto out;
    }
    if (have_loc && url != NULL && strcmp(loc, url) != 0) {
        rc = eca_err_set(err, ECA_EPROTO, "account %s: the answer names another account (%.200s)",
                         url, loc);
        goto out;
    }
    if ((rc = eca_json_get_str(obj, "account", "status", 1, &status, err)) != ECA_OK)
        goto out;
    a = calloc(1, sizeof *a);
    if (a == NULL || (a->url = strdup(have_loc ? loc : url)) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "account: out of memory");
        goto out;
    }
    a->created = resp->status == 201;
    rc = parse_status(status, &a->status, err);
out:
    json_object_put(obj);
    if (rc != ECA_OK)
        acme_account_free(a);
    else
        *out = a;
    return rc;
}

enum eca_rc
acme_account_parse(const struct eca_http_resp *resp, struct acme_account **out, struct eca_err *err)
{
    return parse(resp, NULL, out, err);
}

enum eca_rc
acme_account_parse_update(const struct eca_http_resp *resp, const char *url,
                          struct acme_account **out, struct eca_err *err)
{
    if (url == NULL)
        return eca_err_set(err, ECA_EINVAL, "account update: no account URL");
    if (resp->status != 200 && resp->status >= 200 && resp->status < 300)
        return eca_err_set(err, ECA_EPROTO, "account %s: HTTP %ld, expected 200", url,
                           resp->status);
    return parse(resp, url, out, err);
}

enum eca_rc
acme_account_build_key_change(const char *account_url, const struct eca_key *old_key,
                              const struct eca_key *new_key, const char *key_change_url,
                              struct eca_buf *out, struct eca_err *err)
{
    struct json_object *o = NULL, *jwk = NULL;
    struct eca_buf old_jwk, new_jwk;
    enum eca_rc rc;

    eca_buf_init(&old_jwk, 0);
    eca_buf_init(&new_jwk, 0);
    if (account_url == NULL || key_change_url == NULL) {
        rc = eca_err_set(err, ECA_EINVAL, "keyChange: %s missing",
                         account_url ? "the keyChange URL" : "the account URL");
        goto out;
    }
    if ((rc = acme_jws_jwk(old_key, &old_jwk, err)) != ECA_OK ||
        (rc = acme_jws_jwk(new_key, &new_jwk, err)) != ECA_OK)
        goto out;
    /* The CA refuses it anyway (§7.3.5); a rollover to the same key is a caller's bug. */
    if (strcmp(eca_buf_str(&old_jwk), eca_buf_str(&new_jwk)) == 0) {
        rc = eca_err_set(err, ECA_EINVAL, "keyChange: the new key is the old key");
        goto out;
    }
    if ((rc = eca_json_parse("keyChange.oldKey", eca_buf_str(&old_jwk), old_jwk.len, &jwk, err)) !=
        ECA_OK)
        goto out;
    if ((o = json_object_new_object()) == NULL) {
        rc = eca_err_set(err, ECA_ENOMEM, "keyChange: out of memory");
        goto out;
    }
    json_object_object_add(o, "account", json_object_new_string(account_url));
    json_object_object_add(o, "oldKey", jwk);
    jwk = NULL;
    rc = acme_jws_sign_inner(
        new_key, key_change_url,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
        out, err);
out:
    json_object_put(jwk);
    json_object_put(o);
    eca_buf_free(&old_jwk);
    eca_buf_free(&new_jwk);
    return rc;
}

/* 409: the new key is another account's (§7.3.5); that account's URL is in Location. */
static enum eca_rc
key_conflict(const struct eca_http_resp *resp, char **conflict, struct eca_err *err)
{
    char loc[2048];
    enum eca_rc rc = acme_problem_check(resp, "keyChange", NULL, 0, err);

    if (!eca_http_resp_header(resp, "Location", loc, sizeof loc) || loc[0] == '\0')
        return rc;
    if (conflict != NULL && (*conflict = strdup(loc)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "keyChange: out of memory");
    eca_err_prefix(err, "the new key already belongs to account %.300s: ", loc);
    return rc;
}

enum eca_rc
acme_account_parse_key_change(const struct eca_http_resp *resp, char **conflict,
                              struct eca_err *err)
{
    struct json_object *obj = NULL;
    const char *status = NULL;
    enum acme_account_status st = ACME_ACCOUNT_VALID;
    enum eca_rc rc;

    if (conflict != NULL)
        *conflict = NULL;
    if (resp->status == 409)
        return key_conflict(resp, conflict, err);
    if ((rc = acme_problem_check(resp, "keyChange", NULL, 0, err)) != ECA_OK)
        return rc;
    if (resp->status != 200)
        return eca_err_set(err, ECA_EPROTO, "keyChange: HTTP %ld, expected 200", resp->status);
    /* RFC 8555 sends the updated account; pebble sends nothing. Either confirms the change. */
    if (resp->body.len == 0)
        return ECA_OK;
    if ((rc = acme_problem_json(resp, "keyChange", &obj, err)) == ECA_OK &&
        (rc = eca_json_get_str(obj, "keyChange", "status", 0, &status, err)) == ECA_OK &&
        status != NULL && (rc = parse_status(status, &st, err)) == ECA_OK &&
        st != ACME_ACCOUNT_VALID)
        rc = eca_err_set(err, ECA_EPROTO, "keyChange: the account is %s", status);
    json_object_put(obj);
    return rc;
}

void
acme_account_free(struct acme_account *a)
{
    if (a == NULL)
        return;
    free(a->url);
    free(a);
}
