/* SPDX-License-Identifier: MIT */
/* json-c helpers: parsing with a size cap and typed getters whose errors name the field path. */
#ifndef ECA_JSON_H
#define ECA_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "eca_err.h"

/*
 * Parse exactly one JSON value from data (trailing garbage is an error). `what` names the
 * document in errors: "order: invalid JSON at offset 17". Caller json_object_put()s *out.
 */
enum eca_rc eca_json_parse(const char *what, const void *data, size_t len, struct json_object **out,
                           struct eca_err *err);

/*
 * Typed getters: `what` is the parent's path ("order"), key the member. Missing and
 * required: ECA_EPROTO "order.finalize: missing"; wrong type: ECA_EPROTO
 * "order.finalize: expected string". Missing and optional: ECA_OK with *out untouched.
 * Borrowed results live as long as obj.
 */
enum eca_rc eca_json_get_str(struct json_object *obj, const char *what, const char *key,
                             int required, const char **out, struct eca_err *err);
enum eca_rc eca_json_get_obj(struct json_object *obj, const char *what, const char *key,
                             int required, struct json_object **out, struct eca_err *err);
enum eca_rc eca_json_get_array(struct json_object *obj, const char *what, const char *key,
                               int required, struct json_object **out, struct eca_err *err);
enum eca_rc eca_json_get_bool(struct json_object *obj, const char *what, const char *key,
                              int required, int *out, struct eca_err *err);
enum eca_rc eca_json_get_int(struct json_object *obj, const char *what, const char *key,
                             int required, long long *out, struct eca_err *err);

/* Serialise compactly (no spaces, "/" not escaped) into a new malloc'd string. */
char *eca_json_dump(struct json_object *obj);

#endif
