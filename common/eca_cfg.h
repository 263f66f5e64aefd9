/* SPDX-License-Identifier: MIT */
/* Building blocks shared by the daemons' configuration parsers: strings, lists, names, URLs. */
#ifndef ECA_CFG_H
#define ECA_CFG_H

#include <stddef.h>

#include <libconfig.h>

#include "eca_err.h"
#include "eca_log.h"

/* Where environment values are said to come from in messages. */
#define ECA_CFG_ENV "environment"

/* A new formatted string, or NULL when out of memory. */
char *eca_cfg_printf(const char *fmt, ...) ECA_PRINTF(1, 2);

/* Replace *dst (freed) with a copy of s (non-NULL). ECA_ENOMEM only. */
enum eca_rc eca_cfg_set_str(char **dst, const char *s, struct eca_err *err);

/* Free a vector of n strings (NULL is a no-op). */
void eca_cfg_vec_free(char **v, size_t n);

/* ECA_ECONF "file:line: path: message" for a setting whose value is wrong. */
enum eca_rc eca_cfg_at(const config_setting_t *s, struct eca_err *err, const char *fmt, ...)
    ECA_PRINTF(3, 4);

/*
 * Comma-separated list into a new vector that replaces *out (blanks around items trimmed,
 * empty items skipped). ECA_ENOMEM only.
 */
enum eca_rc eca_cfg_split_csv(const char *s, char ***out, size_t *nout, struct eca_err *err);

/* Optional string list member `name` of g: a list/array of strings or one comma-separated
 * string; replaces *out when present. A wrong type: ECA_ECONF naming file:line. */
enum eca_rc eca_cfg_str_list(const config_setting_t *g, const char *name, char ***out, size_t *nout,
                             struct eca_err *err);

/* Optional string member `name` of g into *dst (replaced when present). */
enum eca_rc eca_cfg_str(const config_setting_t *g, const char *name, char **dst,
                        struct eca_err *err);

/* Environment variable `name` into *dst when set and non-empty. */
enum eca_rc eca_cfg_env(const char *name, char **dst, struct eca_err *err);

/* 1 if s is usable as a certificate name (it becomes a file name): [A-Za-z0-9._-]{1,64}. */
int eca_cfg_name_is_safe(const char *s);

/* 1 if d is a DNS name or "*." wildcard: LDH labels, no blanks, at most 253 bytes. */
int eca_cfg_dns_is_valid(const char *d);

/* "file:line: name" of member `name` of g into out (left as is when absent). */
void eca_cfg_where_file(const config_setting_t *g, const char *name, char *out, size_t outlen);

/* "environment: VAR" into out when VAR is set (left as is otherwise). */
void eca_cfg_where_env(const char *var, char *out, size_t outlen);

/* log_level / log_format members of root; unknown values: ECA_ECONF naming file:line. */
enum eca_rc eca_cfg_log_from_file(const config_setting_t *root, enum eca_log_level *level,
                                  enum eca_log_format *fmt, struct eca_err *err);

/* LOG_LEVEL / LOG_FORMAT from the environment; unknown values: ECA_ECONF naming the variable. */
enum eca_rc eca_cfg_log_from_env(enum eca_log_level *level, enum eca_log_format *fmt,
                                 struct eca_err *err);

/*
 * A CA URL must be present and https:// (or http:// when insecure). `where` names the
 * setting that gave it, `src` the file (or "environment") when it is missing.
 */
enum eca_rc eca_cfg_check_url(const char *url, int insecure, const char *where, const char *src,
                              struct eca_err *err);

/* Length of url without its trailing slashes, for appending a path ("%.*s/..."). */
int eca_cfg_url_len(const char *url);

/* "addr:port" with a port 0..65535; `where` names the setting. */
enum eca_rc eca_cfg_check_listen(const char *where, const char *v, struct eca_err *err);

#endif
