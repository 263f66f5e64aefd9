/* SPDX-License-Identifier: MIT */
/* json-c helpers: one-value strict parsing and typed getters whose errors name the field path. */
#include "eca_json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum eca_rc
eca_json_parse(const char *what, const void *data, size_t len, struct json_object **out,
               struct eca_err *err)
{
    const char *s = data;
    struct json_tokener *tok = NULL;
    struct json_object *o = NULL;
    enum json_tokener_error jerr;
    enum eca_rc rc = ECA_OK;
    size_t end;

    if (len > INT_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "%s: JSON document too large", what);
    if ((tok = json_tokener_new()) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", what);
    /* Strict RFC 8259 grammar and UTF-8; we check what follows the value ourselves. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                    JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, s, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* A bare number or literal at the very end is only complete once the tokener sees a
         * terminator: feed one NUL; if the value is still open, the input was truncated. */
        o = json_tokener_parse_ex(tok, "", 1);
        if ((jerr = json_tokener_get_error(tok)) != json_tokener_success) {
            rc = eca_err_set(err, ECA_EPARSE, "%s: invalid JSON at offset %zu: truncated", what,
                             len);
            goto out;
        }
        end = len;
    }
    if (jerr != json_tokener_success) {
        rc = eca_err_set(err, ECA_EPARSE, "%s: invalid JSON at offset %zu: %s", what, end,
                         json_tokener_error_desc(jerr));
        goto out;
    }
    while (end < len && is_ws((unsigned char)s[end]))
        end++;
    if (end < len) {
        rc = eca_err_set(err, ECA_EPARSE, "%s: invalid JSON at offset %zu: trailing data", what,
                         end);
        goto out;
    }
    *out = o;
    o = NULL;
out:
    json_object_put(o);
    json_tokener_free(tok);
    return rc;
}

/*
 * Member lookup shared by the getters: ECA_OK with *v NULL when absent (JSON null counts as
 * absent), ECA_EPROTO when required and absent or when obj is no object.
 */
static enum eca_rc
member(struct json_object *obj, const char *what, const char *key, int required,
       struct json_object **v, struct eca_err *err)
{
    *v = NULL;
    if (!json_object_is_type(obj, json_type_object))
        return eca_err_set(err, ECA_EPROTO, "%s: expected object", what);
    if (!json_object_object_get_ex(obj, key, v) || *v == NULL) {
        *v = NULL;
        if (required)
            return eca_err_set(err, ECA_EPROTO, "%s.%s: missing", what, key);
    }
    return ECA_OK;
}

static enum eca_rc
typed(struct json_object *obj, const char *what, const char *key, int required, enum json_type want,
      const char *wname, struct json_object **v, struct eca_err *err)
{
    enum eca_rc rc = member(obj, what, key, required, v, err);

    if (rc != ECA_OK || *v == NULL)
        return rc;
    if (!json_object_is_type(*v, want)) {
        *v = NULL;
        return eca_err_set(err, ECA_EPROTO, "%s.%s: expected %s", what, key, wname);
    }
    return ECA_OK;
}

enum eca_rc
eca_json_get_str(struct json_object *obj, const char *what, const char *key, int required,
                 const char **out, struct eca_err *err)
{
    struct json_object *v;
    enum eca_rc rc = typed(obj, what, key, required, json_type_string, "string", &v, err);

    if (rc == ECA_OK && v != NULL)
        *out = json_object_get_string(v);
    return rc;
}

enum eca_rc
eca_json_get_obj(struct json_object *obj, const char *what, const char *key, int required,
                 struct json_object **out, struct eca_err *err)
{
    struct json_object *v;
    enum eca_rc rc = typed(obj, what, key, required, json_type_object, "object", &v, err);

    if (rc == ECA_OK && v != NULL)
        *out = v;
    return rc;
}

enum eca_rc
eca_json_get_array(struct json_object *obj, const char *what, const char *key, int required,
                   struct json_object **out, struct eca_err *err)
{
    struct json_object *v;
    enum eca_rc rc = typed(obj, what, key, required, json_type_array, "array", &v, err);

    if (rc == ECA_OK && v != NULL)
        *out = v;
    return rc;
}

enum eca_rc
eca_json_get_bool(struct json_object *obj, const char *what, const char *key, int required,
                  int *out, struct eca_err *err)
{
    struct json_object *v;
    enum eca_rc rc = typed(obj, what, key, required, json_type_boolean, "boolean", &v, err);

    if (rc == ECA_OK && v != NULL)
        *out = json_object_get_boolean(v) ? 1 : 0;
    return rc;
}

enum eca_rc
eca_json_get_int(struct json_object *obj, const char *what, const char *key, int required,
                 long long *out, struct eca_err *err)
{
    struct json_object *v;
    enum eca_rc rc = typed(obj, what, key, required, json_type_int, "integer", &v, err);

    if (rc == ECA_OK && v != NULL)
        *out = (long long)json_object_get_int64(v);
    return rc;
}

char *
eca_json_dump(struct json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);

    return s ? strdup(s) : NULL;
}
