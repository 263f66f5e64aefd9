/* SPDX-License-Identifier: MIT */
/* libconfig and environment helpers whose errors name the setting and its file:line. */
#include "eca_conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "eca_fs.h"

enum eca_rc
eca_conf_load(const char *path, config_t *cfg, struct eca_err *err)
{
    char dir[4096];
    const char *f;

    config_init(cfg);
    /* @include paths are relative to the including file, not to our working directory. */
    eca_fs_dirname(path, dir, sizeof dir);
    config_set_include_dir(cfg, dir);
    if (config_read_file(cfg, path) == CONFIG_TRUE)
        return ECA_OK;
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
        int e = access(path, R_OK) == 0 ? EIO : errno;

        config_destroy(cfg);
        return eca_err_set(err, e == ENOENT ? ECA_ENOTFOUND : ECA_EIO, "%s: cannot read: %s", path,
                           strerror(e));
    }
    f = config_error_file(cfg);
    eca_err_set(err, ECA_ECONF, "%s:%d: %s", f ? f : path, config_error_line(cfg),
                config_error_text(cfg));
    config_destroy(cfg);
    return ECA_ECONF;
}

void
eca_conf_path(const config_setting_t *s, char *out, size_t outlen)
{
    const config_setting_t *chain[64];
    size_t n = 0, len = 0;
    const char *name;
    int w;

    if (outlen == 0)
        return;
    out[0] = '\0';
    /* Walk up to (not including) the unnamed root, then print from the top down. */
    for (; s != NULL && config_setting_parent(s) != NULL && n < 64; s = config_setting_parent(s))
        chain[n++] = s;
    while (n-- > 0) {
        name = config_setting_name(chain[n]);
        if (name != NULL)
            w = snprintf(out + len, outlen - len, "%s%s", len ? "." : "", name);
        else
            w = snprintf(out + len, outlen - len, "%s[%d]", len ? "." : "",
                         config_setting_index(chain[n]));
        if (w < 0 || (size_t)w >= outlen - len)
            return; /* cut: still NUL-terminated */
        len += (size_t)w;
    }
}

/* Fill err with "file:line: path[.name]: <what>" for setting s. */
static enum eca_rc conf_err(const config_setting_t *s, const char *name, struct eca_err *err,
                            const char *fmt, ...) ECA_PRINTF(4, 5);

static enum eca_rc
conf_err(const config_setting_t *s, const char *name, struct eca_err *err, const char *fmt, ...)
{
    char path[256], what[256];
    const char *file = config_setting_source_file(s);
    va_list ap;

    eca_conf_path(s, path, sizeof path);
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return eca_err_set(err, ECA_ECONF, "%s:%u: %s%s%s: %s", file ? file : "config",
                       config_setting_source_line(s), path, name && *path ? "." : "",
                       name ? name : "", what);
}

/* The member, or NULL; ECA_ECONF when required and absent or when group is no group. */
static enum eca_rc
member(const config_setting_t *group, const char *name, int required, config_setting_t **out,
       struct eca_err *err)
{
    *out = NULL;
    if (group == NULL)
        return required ? eca_err_set(err, ECA_ECONF, "config: %s: missing", name) : ECA_OK;
    if (!config_setting_is_group(group))
        return conf_err(group, NULL, err, "expected a group { ... }");
    *out = config_setting_get_member(group, name);
    if (*out == NULL && required)
        return conf_err(group, name, err, "missing");
    return ECA_OK;
}

enum eca_rc
eca_conf_get_str(const config_setting_t *group, const char *name, int required, const char **out,
                 struct eca_err *err)
{
    config_setting_t *s;
    enum eca_rc rc = member(group, name, required, &s, err);

    if (rc != ECA_OK || s == NULL)
        return rc;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return conf_err(s, NULL, err, "expected string");
    *out = config_setting_get_string(s);
    return ECA_OK;
}

enum eca_rc
eca_conf_get_int(const config_setting_t *group, const char *name, int required, long long min,
                 long long max, long long *out, struct eca_err *err)
{
    config_setting_t *s;
    enum eca_rc rc = member(group, name, required, &s, err);
    long long v;

    if (rc != ECA_OK || s == NULL)
        return rc;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return conf_err(s, NULL, err, "expected integer");
    v = config_setting_get_int64(s);
    if (v < min || v > max)
        return conf_err(s, NULL, err, "%lld is out of range [%lld, %lld]", v, min, max);
    *out = v;
    return ECA_OK;
}

enum eca_rc
eca_conf_get_bool(const config_setting_t *group, const char *name, int required, int *out,
                  struct eca_err *err)
{
    config_setting_t *s;
    enum eca_rc rc = member(group, name, required, &s, err);

    if (rc != ECA_OK || s == NULL)
        return rc;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return conf_err(s, NULL, err, "expected boolean (true or false)");
    *out = config_setting_get_bool(s) ? 1 : 0;
    return ECA_OK;
}

const char *
eca_env_str(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

enum eca_rc
eca_env_int(const char *name, long long min, long long max, long long *out, struct eca_err *err)
{
    const char *v = eca_env_str(name);
    char *end;
    long long n;

    if (v == NULL)
        return ECA_OK;
    errno = 0;
    n = strtoll(v, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == v || *end != '\0' || errno == ERANGE)
        return eca_err_set(err, ECA_ECONF, "environment %s: '%.64s' is not an integer", name, v);
    if (n < min || n > max)
        return eca_err_set(err, ECA_ECONF, "environment %s: %lld is out of range [%lld, %lld]",
                           name, n, min, max);
    *out = n;
    return ECA_OK;
}

enum eca_rc
eca_env_bool(const char *name, int *out, struct eca_err *err)
{
    const char *v = eca_env_str(name);
    int b;

    if (v == NULL)
        return ECA_OK;
    if ((b = eca_conf_parse_bool(v)) < 0)
        return eca_err_set(err, ECA_ECONF,
                           "environment %s: '%.64s' is not a boolean (true/false, yes/no, 1/0, "
                           "on/off)",
                           name, v);
    *out = b;
    return ECA_OK;
}

int
eca_conf_parse_bool(const char *s)
{
    static const char *const t[] = {"true", "yes", "1", "on"};
    static const char *const f[] = {"false", "no", "0", "off"};
    size_t i;

    if (s == NULL)
        return -1;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcasecmp(s, t[i]) == 0)
            return 1;
        if (strcasecmp(s, f[i]) == 0)
            return 0;
    }
    return -1;
}
