/* SPDX-License-Identifier: MIT */
/* ACME accounts (RFC 8555 §7.3): newAccount payload, EAB embedding, account response. */
#include "acme_account.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

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

enum eca_rc
acme_account_parse(const struct eca_http_resp *resp, struct acme_account **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    struct acme_account *a = NULL;
    const char *status = NULL;
    char loc[2048];
    enum eca_rc rc;

    rc = acme_problem_json(resp, "account", &obj, err);
    if (rc != ECA_OK)
        return rc;
    if (!eca_http_resp_header(resp, "Location", loc, sizeof loc) || loc[0] == '\0') {
        rc = eca_err_set(err, ECA_EPROTO, "account: no Location header (the account URL)");
        goto out;
    }
    if ((rc = eca_json_get_str(obj, "account", "status", 1, &status, err)) != ECA_OK)
        goto out;
    a = calloc(1, sizeof *a);
    if (a == NULL || (a->url = strdup(loc)) == NULL) {
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

void
acme_account_free(struct acme_account *a)
{
    if (a == NULL)
        return;
    free(a->url);
    free(a);
}
