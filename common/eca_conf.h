/* SPDX-License-Identifier: MIT */
/* libconfig and environment helpers: typed getters whose errors name the setting and file:line. */
#ifndef ECA_CONF_H
#define ECA_CONF_H

#include <libconfig.h>

#include "eca_err.h"

/*
 * Read a libconfig file: config_init()s cfg, which the caller config_destroy()s on success
 * (on failure it is already destroyed). Syntax error: ECA_ECONF "file:line: message";
 * unreadable: ECA_ENOTFOUND or ECA_EIO naming the file.
 */
enum eca_rc eca_conf_load(const char *path, config_t *cfg, struct eca_err *err);

/*
 * Typed getters on a group setting. Missing and optional: ECA_OK, *out untouched.
 * Errors: ECA_ECONF "agent.conf:12: certificates.[0].key_type: expected string".
 */
enum eca_rc eca_conf_get_str(const config_setting_t *group, const char *name, int required,
                             const char **out, struct eca_err *err);
enum eca_rc eca_conf_get_int(const config_setting_t *group, const char *name, int required,
                             long long min, long long max, long long *out, struct eca_err *err);
enum eca_rc eca_conf_get_bool(const config_setting_t *group, const char *name, int required,
                              int *out, struct eca_err *err);

/* Path of a setting for messages ("certificates.[0].domains"), into out. */
void eca_conf_path(const config_setting_t *s, char *out, size_t outlen);

/* Environment: value of name, or NULL when unset or empty. */
const char *eca_env_str(const char *name);

/* Integer/boolean from the environment; unset leaves *out; bad value: ECA_ECONF naming it. */
enum eca_rc eca_env_int(const char *name, long long min, long long max, long long *out,
                        struct eca_err *err);
enum eca_rc eca_env_bool(const char *name, int *out, struct eca_err *err);

/* Parse "true/false/yes/no/1/0/on/off" (case-insensitive); -1 when none of them. */
int eca_conf_parse_bool(const char *s);

#endif
