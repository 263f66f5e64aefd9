/* SPDX-License-Identifier: MIT */
/* Configuration getters: libconfig and environment values, lists, names, URLs (file:line). */
#ifndef ECA_CONF_H
#define ECA_CONF_H

#include <stddef.h>

#include <libconfig.h>

#include "eca_err.h"
#include "eca_log.h"

/*
 * Read a libconfig file: config_init()s cfg, which the caller config_destroy()s on success
 * (on failure it is already destroyed). Syntax error: ECA_ECONF "file:line: message";
 * unreadable: ECA_ENOTFOUND or ECA_EIO naming the file.
 */
enum eca_rc eca_conf_load(const char *path, config_t *cfg, struct eca_err *err);

/*
 * Typed getters on a group setting. Missing and optional: ECA_OK, *out untouched.
 * Errors: ECA_ECONF "agent.conf:12: certificates.[0].key_type: expected string". A string
 * (or a string of a list) holding a control character is refused the same way
 * (eca_conf_control_at): every name, path, DN and command reaches files, headers or logs.
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

/* Where environment values are said to come from in messages. */
#define ECA_CONF_ENV "environment"

/* A new formatted string, or NULL when out of memory. */
char *eca_conf_printf(const char *fmt, ...) ECA_PRINTF(1, 2);

/* Replace *dst (freed) with a copy of s (non-NULL). ECA_ENOMEM only. */
enum eca_rc eca_conf_set_str(char **dst, const char *s, struct eca_err *err);

/* Free a vector of n strings (NULL is a no-op). */
void eca_conf_vec_free(char **v, size_t n);

/* ECA_ECONF "file:line: path: message" for a setting whose value is wrong. */
enum eca_rc eca_conf_at(const config_setting_t *s, struct eca_err *err, const char *fmt, ...)
    ECA_PRINTF(3, 4);

/*
 * Comma-separated list into a new vector that replaces *out (blanks around items trimmed,
 * empty items skipped). ECA_ENOMEM only.
 */
enum eca_rc eca_conf_split_csv(const char *s, char ***out, size_t *nout, struct eca_err *err);

/* Optional string list member `name` of g: a list/array of strings or one comma-separated
 * string; replaces *out when present. A wrong type: ECA_ECONF naming file:line. */
enum eca_rc eca_conf_str_list(const config_setting_t *g, const char *name, char ***out,
                              size_t *nout, struct eca_err *err);

/* Optional string member `name` of g into *dst (replaced when present). */
enum eca_rc eca_conf_str(const config_setting_t *g, const char *name, char **dst,
                         struct eca_err *err);

/* Environment variable `name` into *dst when set and non-empty; a control character in it:
 * ECA_ECONF "environment: NAME: contains a control character (...)". */
enum eca_rc eca_conf_env(const char *name, char **dst, struct eca_err *err);

/* 1 if s is usable as a certificate name (it becomes a file name): [A-Za-z0-9._-]{1,64}. */
int eca_conf_name_is_safe(const char *s);

/* 1 if d is a DNS name or "*." wildcard: LDH labels, no blanks, at most 253 bytes. */
int eca_conf_dns_is_valid(const char *d);

/* "file:line: name" of member `name` of g into out (left as is when absent). */
void eca_conf_where_file(const config_setting_t *g, const char *name, char *out, size_t outlen);

/* "environment: VAR" into out when VAR is set (left as is otherwise). */
void eca_conf_where_env(const char *var, char *out, size_t outlen);

/* log_level / log_format members of root; unknown values: ECA_ECONF naming file:line. */
enum eca_rc eca_conf_log_from_file(const config_setting_t *root, enum eca_log_level *level,
                                   enum eca_log_format *fmt, struct eca_err *err);

/* LOG_LEVEL / LOG_FORMAT from the environment; unknown values: ECA_ECONF naming the variable. */
enum eca_rc eca_conf_log_from_env(enum eca_log_level *level, enum eca_log_format *fmt,
                                  struct eca_err *err);

/*
 * A CA URL must be present and https:// (or http:// when insecure). `where` names the
 * setting that gave it, `src` the file (or "environment") when it is missing.
 */
enum eca_rc eca_conf_check_url(const char *url, int insecure, const char *where, const char *src,
                               struct eca_err *err);

/* Length of url without its trailing slashes, for appending a path ("%.*s/..."). */
int eca_conf_url_len(const char *url);

/* "addr:port" or "[v6]:port" (eca_hostport_split) with a host; `where` names the setting. */
enum eca_rc eca_conf_check_listen(const char *where, const char *v, struct eca_err *err);

/* ---- checks made before any request: names, text, paths, commands ---- */

/*
 * Optimal-string-alignment distance between a and b (insertions, deletions, substitutions,
 * adjacent transpositions), ASCII case ignored; capped at ECA_CONF_DIST_CAP.
 */
#define ECA_CONF_DIST_CAP 64
size_t eca_conf_distance(const char *a, const char *b);

/* The name of lists (NULL-ended arrays of NULL-ended name lists) closest to name when a typo
 * is likely (distance at most 2, 3 for long names, and less than the name's length); else NULL. */
const char *eca_conf_closest(const char *name, const char *const *const *lists);

/*
 * Every member of group must be one of the names in lists (see eca_conf_closest). Otherwise
 * ECA_ECONF "file:line: certificates.[0].renewal_treshold_percent: unknown setting (did you
 * mean renewal_threshold_percent?)". Members of nested groups are the caller's to check.
 */
enum eca_rc eca_conf_check_known(const config_setting_t *group, const char *const *const *lists,
                                 struct eca_err *err);

/* Offset of the first control character (below 0x20, or 0x7f) in s; -1 when none. */
long eca_conf_control_at(const char *s);

/* ECA_ECONF "<where>: contains a control character (0x0a at byte 5)" when s holds one. */
enum eca_rc eca_conf_no_control_chars(const char *where, const char *s, struct eca_err *err);

/*
 * "file:line: path.member" when member of g holds the string value (any value when value is
 * NULL), else "environment: VAR" when VAR holds value, else "member (VAR)": where a final
 * value came from, whichever source won. g and var may be NULL.
 */
void eca_conf_where_value(const config_setting_t *g, const char *member, const char *var,
                          const char *value, char *out, size_t outlen);

/*
 * A file the agent writes (atomically, beside it): its directory exists, is a directory and
 * is writable, and path itself is absent or a regular file (not a directory or FIFO).
 * ECA_ECONF "<where>: ..." otherwise. The directory is never created: a certificate path in
 * a directory that does not exist is a typo more often than a wish.
 */
enum eca_rc eca_conf_check_out_file(const char *where, const char *path, struct eca_err *err);

/*
 * A directory the agent owns: it is a writable directory, or it does not exist yet and its
 * deepest existing ancestor is a writable directory (the agent creates it at start).
 */
enum eca_rc eca_conf_check_dir_writable(const char *where, const char *dir, struct eca_err *err);

/* An existing directory the agent does not create itself (a web server's document root). */
enum eca_rc eca_conf_check_dir(const char *where, const char *dir, struct eca_err *err);

/* A file the agent reads: a regular file; an absent one is ECA_ECONF only when required. */
enum eca_rc eca_conf_check_in_file(const char *where, const char *path, int required,
                                   struct eca_err *err);

/* A command line that eca_hook_split accepts; else ECA_ECONF "<where>: unbalanced ' quote". */
enum eca_rc eca_conf_check_cmdline(const char *where, const char *cmdline, struct eca_err *err);

/*
 * A command line (eca_hook_split rules): ECA_ECONF "<where>: unbalanced ' quote" when it does
 * not parse; ECA_ECONF when its program is an absolute path that is missing or not an
 * executable file. A program not found otherwise (a bare name not in PATH now, a relative
 * path) is only a warning: *warn gets the message (warn->rc != ECA_OK), the result is ECA_OK.
 */
enum eca_rc eca_conf_check_command(const char *where, const char *cmdline, struct eca_err *warn,
                                   struct eca_err *err);

#endif
