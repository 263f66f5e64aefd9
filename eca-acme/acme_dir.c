/* SPDX-License-Identifier: MIT */
/* The ACME directory document (RFC 8555 §7.1.1): where each resource lives. */
#include "acme_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_problem.h"
#include "eca_json.h"

/* A resource URL: a string starting with http(s)://, copied into *dst. */
static enum eca_rc
get_url(struct json_object *obj, const char *what, const char *key, int required, char **dst,
        struct eca_err *err)
{
    const char *s = NULL;
    enum eca_rc rc = eca_json_get_str(obj, what, key, required, &s, err);

    if (rc != ECA_OK || s == NULL)
        return rc;
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return eca_err_set(err, ECA_EPROTO, "%s.%s: not an http(s) URL", what, key);
    *dst = strdup(s);
    if (*dst == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s.%s: out of memory", what, key);
    return ECA_OK;
}

/* meta.profiles: an object of name -> description strings. */
static enum eca_rc
parse_profiles(struct json_object *meta, struct acme_dir *d, struct eca_err *err)
{
    struct json_object *prof = NULL;
    size_t n;
    enum eca_rc rc = eca_json_get_obj(meta, "directory.meta", "profiles", 0, &prof, err);

    if (rc != ECA_OK || prof == NULL)
        return rc;
    n = (size_t)json_object_object_length(prof);
    if (n > ACME_DIR_MAX_PROFILES)
        return eca_err_set(err, ECA_ETOOBIG, "directory.meta.profiles: %zu entries (max %d)", n,
                           ACME_DIR_MAX_PROFILES);
    d->profile_names = calloc(n + 1, sizeof *d->profile_names);
    d->profile_descs = calloc(n + 1, sizeof *d->profile_descs);
    if (d->profile_names == NULL || d->profile_descs == NULL)
        return eca_err_set(err, ECA_ENOMEM, "directory.meta.profiles: out of memory");
    json_object_object_foreach(prof, name, desc)
    {
        if (name[0] == '\0' || !json_object_is_type(desc, json_type_string))
            return eca_err_set(err, ECA_EPROTO,
                               "directory.meta.profiles.%.40s: expected a name and a string", name);
        d->profile_names[d->nprofiles] = strdup(name);
        d->profile_descs[d->nprofiles] = strdup(json_object_get_string(desc));
        d->nprofiles++;
        if (d->profile_names[d->nprofiles - 1] == NULL ||
            d->profile_descs[d->nprofiles - 1] == NULL)
            return eca_err_set(err, ECA_ENOMEM, "directory.meta.profiles: out of memory");
    }
    return ECA_OK;
}

static enum eca_rc
parse_meta(struct json_object *obj, struct acme_dir *d, struct eca_err *err)
{
    struct json_object *meta = NULL;
    const char *tos = NULL;
    enum eca_rc rc;

    rc = eca_json_get_obj(obj, "directory", "meta", 0, &meta, err);
    if (rc != ECA_OK || meta == NULL)
        return rc;
    if ((rc = eca_json_get_str(meta, "directory.meta", "termsOfService", 0, &tos, err)) != ECA_OK ||
        (rc = eca_json_get_bool(meta, "directory.meta", "externalAccountRequired", 0,
                                &d->eab_required, err)) != ECA_OK ||
        (rc = parse_profiles(meta, d, err)) != ECA_OK)
        return rc;
    if (tos != NULL && (d->terms_of_service = strdup(tos)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "directory.meta: out of memory");
    return ECA_OK;
}

static enum eca_rc
parse_obj(struct json_object *obj, struct acme_dir **out, struct eca_err *err)
{
    struct acme_dir *d = calloc(1, sizeof *d);
    enum eca_rc rc;

    if (d == NULL)
        return eca_err_set(err, ECA_ENOMEM, "directory: out of memory");
    if (!json_object_is_type(obj, json_type_object)) {
        rc = eca_err_set(err, ECA_EPROTO, "directory: expected a JSON object");
        goto out;
    }
    if ((rc = get_url(obj, "directory", "newNonce", 1, &d->new_nonce, err)) != ECA_OK ||
        (rc = get_url(obj, "directory", "newAccount", 1, &d->new_account, err)) != ECA_OK ||
        (rc = get_url(obj, "directory", "newOrder", 1, &d->new_order, err)) != ECA_OK ||
        (rc = get_url(obj, "directory", "revokeCert", 1, &d->revoke_cert, err)) != ECA_OK ||
        (rc = get_url(obj, "directory", "keyChange", 0, &d->key_change, err)) != ECA_OK ||
        (rc = get_url(obj, "directory", "renewalInfo", 0, &d->renewal_info, err)) != ECA_OK)
        goto out;
    rc = parse_meta(obj, d, err);
out:
    if (rc != ECA_OK)
        acme_dir_free(d);
    else
        *out = d;
    return rc;
}

enum eca_rc
acme_dir_parse_json(const void *body, size_t len, struct acme_dir **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc;

    if (len > ACME_JSON_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "directory: body of %zu bytes exceeds %zu", len,
                           ACME_JSON_MAX);
    rc = eca_json_parse("directory", body, len, &obj, err);
    if (rc == ECA_OK)
        rc = parse_obj(obj, out, err);
    json_object_put(obj);
    return rc;
}

enum eca_rc
acme_dir_parse(const struct eca_http_resp *resp, struct acme_dir **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc = acme_problem_json(resp, "directory", &obj, err);

    if (rc == ECA_OK)
        rc = parse_obj(obj, out, err);
    json_object_put(obj);
    return rc;
}

int
acme_dir_has_profile(const struct acme_dir *d, const char *name)
{
    for (size_t i = 0; d != NULL && name != NULL && i < d->nprofiles; i++)
        if (strcmp(d->profile_names[i], name) == 0)
            return 1;
    return 0;
}

void
acme_dir_profile_list(const struct acme_dir *d, char *out, size_t outlen)
{
    size_t pos = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; d != NULL && i < d->nprofiles && pos < outlen; i++) {
        int n = snprintf(out + pos, outlen - pos, "%s%s", i ? ", " : "", d->profile_names[i]);

        if (n < 0)
            break;
        pos += (size_t)n;
    }
}

void
acme_dir_free(struct acme_dir *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nprofiles; i++) {
        free(d->profile_names[i]);
        free(d->profile_descs[i]);
    }
    free(d->profile_names);
    free(d->profile_descs);
    free(d->new_nonce);
    free(d->new_account);
    free(d->new_order);
    free(d->revoke_cert);
    free(d->key_change);
    free(d->renewal_info);
    free(d->terms_of_service);
    free(d);
}
