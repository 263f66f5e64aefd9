/* SPDX-License-Identifier: MIT */
/* libconfig and environment helpers whose errors name the setting and its file:line. */
#include "eca_conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eca_fs.h"
#include "eca_hook.h"
#include "eca_hostport.h"
#include "eca_http.h"

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

#define CONTROL_MSG "contains a control character (0x%02x at byte %ld)"

/* Names, paths and DNs end up in file names, headers, CSRs and log lines: no control bytes. */
static enum eca_rc
text_ok(const config_setting_t *s, const char *v, struct eca_err *err)
{
    long at = eca_conf_control_at(v);

    return at < 0 ? ECA_OK : conf_err(s, NULL, err, CONTROL_MSG, (unsigned char)v[at], at);
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
    if ((rc = text_ok(s, config_setting_get_string(s), err)) != ECA_OK)
        return rc;
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

/* ---- building blocks of the daemons' parsers: strings, lists, names, URLs ---- */

#define OOM(err) eca_err_set((err), ECA_ENOMEM, "config: out of memory")

char *
eca_conf_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

enum eca_rc
eca_conf_set_str(char **dst, const char *s, struct eca_err *err)
{
    char *d = strdup(s);

    if (d == NULL)
        return OOM(err);
    free(*dst);
    *dst = d;
    return ECA_OK;
}

void
eca_conf_vec_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

enum eca_rc
eca_conf_at(const config_setting_t *s, struct eca_err *err, const char *fmt, ...)
{
    char path[256], msg[ECA_ERR_MSG_MAX];
    const char *file = config_setting_source_file(s);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    eca_conf_path(s, path, sizeof path);
    return eca_err_set(err, ECA_ECONF, "%s:%u: %s: %s", file ? file : "config",
                       (unsigned)config_setting_source_line(s), path, msg);
}

/* Trim blanks around tok in place. */
static char *
trim(char *tok)
{
    char *end;

    while (isspace((unsigned char)*tok))
        tok++;
    end = tok + strlen(tok);
    while (end > tok && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return tok;
}

enum eca_rc
eca_conf_split_csv(const char *s, char ***out, size_t *nout, struct eca_err *err)
{
    char **v = NULL, **nv, *copy = strdup(s), *save = NULL, *tok;
    size_t n = 0;
    enum eca_rc rc = ECA_OK;

    if (copy == NULL)
        return OOM(err);
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (*tok == '\0')
            continue;
        if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
            rc = OOM(err);
            goto out;
        }
        v = nv;
        if ((v[n] = strdup(tok)) == NULL) {
            rc = OOM(err);
            goto out;
        }
        n++;
    }
    eca_conf_vec_free(*out, *nout);
    *out = v;
    *nout = n;
    v = NULL;
out:
    eca_conf_vec_free(v, n);
    free(copy);
    return rc;
}

enum eca_rc
eca_conf_str_list(const config_setting_t *g, const char *name, char ***out, size_t *nout,
                  struct eca_err *err)
{
    config_setting_t *s = config_setting_get_member(g, name);
    char **v;
    int n;

    if (s == NULL)
        return ECA_OK;
    if (config_setting_type(s) == CONFIG_TYPE_STRING &&
        text_ok(s, config_setting_get_string(s), err))
        return ECA_ECONF;
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return eca_conf_split_csv(config_setting_get_string(s), out, nout, err);
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return eca_conf_at(s, err, "expected a list of strings");
    n = config_setting_length(s);
    if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
        return OOM(err);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            eca_conf_vec_free(v, (size_t)n);
            return eca_conf_at(e, err, "expected string");
        }
        if (text_ok(e, config_setting_get_string(e), err) != ECA_OK) {
            eca_conf_vec_free(v, (size_t)n);
            return ECA_ECONF;
        }
        if ((v[i] = strdup(config_setting_get_string(e))) == NULL) {
            eca_conf_vec_free(v, (size_t)n);
            return OOM(err);
        }
    }
    eca_conf_vec_free(*out, *nout);
    *out = v;
    *nout = (size_t)n;
    return ECA_OK;
}

enum eca_rc
eca_conf_str(const config_setting_t *g, const char *name, char **dst, struct eca_err *err)
{
    const char *v = NULL;
    enum eca_rc rc = eca_conf_get_str(g, name, 0, &v, err);

    if (rc != ECA_OK || v == NULL)
        return rc;
    return eca_conf_set_str(dst, v, err);
}

enum eca_rc
eca_conf_env(const char *name, char **dst, struct eca_err *err)
{
    const char *v = eca_env_str(name);
    char where[128];

    if (v == NULL)
        return ECA_OK;
    snprintf(where, sizeof where, "%s: %s", ECA_CONF_ENV, name);
    if (eca_conf_no_control_chars(where, v, err) != ECA_OK)
        return ECA_ECONF;
    return eca_conf_set_str(dst, v, err);
}

int
eca_conf_name_is_safe(const char *s)
{
    if (*s == '\0' || *s == '.' || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return 0;
    return 1;
}

int
eca_conf_dns_is_valid(const char *d)
{
    size_t len = strlen(d);

    if (len == 0 || len > 253 || d[0] == '.' || d[len - 1] == '.')
        return 0;
    if (strncmp(d, "*.", 2) == 0)
        d += 2;
    for (; *d; d++)
        if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.')
            return 0;
    return 1;
}

void
eca_conf_where_file(const config_setting_t *g, const char *name, char *out, size_t outlen)
{
    const config_setting_t *s = config_setting_get_member(g, name);
    const char *file;

    if (s == NULL)
        return;
    file = config_setting_source_file(s);
    snprintf(out, outlen, "%s:%u: %s", file ? file : "config",
             (unsigned)config_setting_source_line(s), name);
}

void
eca_conf_where_env(const char *var, char *out, size_t outlen)
{
    if (eca_env_str(var))
        snprintf(out, outlen, "%s: %s", ECA_CONF_ENV, var);
}

enum eca_rc
eca_conf_log_from_file(const config_setting_t *root, enum eca_log_level *level,
                       enum eca_log_format *fmt, struct eca_err *err)
{
    const char *v = NULL;
    enum eca_rc rc;

    if ((rc = eca_conf_get_str(root, "log_level", 0, &v, err)) != ECA_OK)
        return rc;
    if (v && eca_log_level_parse(v, level) != 0)
        return eca_conf_at(config_setting_get_member(root, "log_level"), err,
                           "'%s' (debug, info, warn, error)", v);
    v = NULL;
    if ((rc = eca_conf_get_str(root, "log_format", 0, &v, err)) != ECA_OK)
        return rc;
    if (v && eca_log_format_parse(v, fmt) != 0)
        return eca_conf_at(config_setting_get_member(root, "log_format"), err, "'%s' (json, text)",
                           v);
    return ECA_OK;
}

enum eca_rc
eca_conf_log_from_env(enum eca_log_level *level, enum eca_log_format *fmt, struct eca_err *err)
{
    const char *v;

    if ((v = eca_env_str("LOG_LEVEL")) && eca_log_level_parse(v, level) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: LOG_LEVEL: '%s' (debug, info, warn, error)",
                           ECA_CONF_ENV, v);
    if ((v = eca_env_str("LOG_FORMAT")) && eca_log_format_parse(v, fmt) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: LOG_FORMAT: '%s' (json, text)", ECA_CONF_ENV, v);
    return ECA_OK;
}

enum eca_rc
eca_conf_check_url(const char *url, int insecure, const char *where, const char *src,
                   struct eca_err *err)
{
    char shown[256];

    if (url == NULL)
        return eca_err_set(err, ECA_ECONF, "%s: ca_url (CA_URL): required", src);
    if (strncmp(url, "https://", 8) != 0 && !(insecure && strncmp(url, "http://", 7) == 0)) {
        /* The error is logged: never echo a "user:pass@" or query that may hold a secret. */
        return eca_err_set(err, ECA_ECONF, "%s: '%.200s': must be an https:// URL%s", where,
                           eca_http_url_for_log(url, shown, sizeof shown),
                           insecure ? " (or http://)" : "");
    }
    /* Refused again per request, but a config error names the setting up front. */
    if (eca_http_check_url(url, insecure, err) != ECA_OK) {
        eca_err_prefix(err, "%s: ", where);
        if (err != NULL)
            err->rc = ECA_ECONF;
        return ECA_ECONF;
    }
    return ECA_OK;
}

enum eca_rc
eca_conf_check_listen(const char *where, const char *v, struct eca_err *err)
{
    char host[256], port[8];

    /* The splitter the listener and the TLS probe use, so what passes here binds there. */
    if (eca_hostport_split(v, host, sizeof host, port, sizeof port, NULL) != ECA_OK ||
        host[0] == '\0')
        return eca_err_set(err, ECA_ECONF,
                           "%s: '%s': expected addr:port or [v6]:port (port 0..65535)", where, v);
    return ECA_OK;
}

int
eca_conf_url_len(const char *url)
{
    size_t n = strlen(url);

    while (n > 0 && url[n - 1] == '/')
        n--;
    return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

/* ---- checks made before any request: names, text, paths, commands ---- */

size_t
eca_conf_distance(const char *a, const char *b)
{
    /* Three rows of the optimal-string-alignment table; names longer than the cap are cut. */
    size_t row[3][ECA_CONF_DIST_CAP + 1], la = strlen(a), lb = strlen(b);
    size_t *prev2 = row[0], *prev = row[1], *cur = row[2], *t;

    la = la > ECA_CONF_DIST_CAP ? ECA_CONF_DIST_CAP : la;
    lb = lb > ECA_CONF_DIST_CAP ? ECA_CONF_DIST_CAP : lb;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t v = prev[j - 1] + (ca != cb);

            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *
eca_conf_closest(const char *name, const char *const *const *lists)
{
    size_t len = strlen(name), max = len >= 12 ? 3 : 2, best_d = (size_t)-1;
    const char *best = NULL;

    for (; lists && *lists; lists++)
        for (const char *const *n = *lists; *n; n++) {
            size_t d = eca_conf_distance(name, *n);

            if (d < best_d) {
                best_d = d;
                best = *n;
            }
        }
    return best_d <= max && best_d < len ? best : NULL;
}

static int
is_known(const char *name, const char *const *const *lists)
{
    for (; lists && *lists; lists++)
        for (const char *const *n = *lists; *n; n++)
            if (strcmp(name, *n) == 0)
                return 1;
    return 0;
}

enum eca_rc
eca_conf_check_known(const config_setting_t *group, const char *const *const *lists,
                     struct eca_err *err)
{
    int n;

    if (group == NULL || !config_setting_is_group(group))
        return ECA_OK;
    n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s), *near;

        if (name == NULL || is_known(name, lists))
            continue;
        near = eca_conf_closest(name, lists);
        return eca_conf_at(s, err, "unknown setting%s%s%s", near ? " (did you mean " : "",
                           near ? near : "", near ? "?)" : "");
    }
    return ECA_OK;
}

long
eca_conf_control_at(const char *s)
{
    for (const char *p = s; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return (long)(p - s);
    return -1;
}

enum eca_rc
eca_conf_no_control_chars(const char *where, const char *s, struct eca_err *err)
{
    long at = eca_conf_control_at(s);

    /* The value itself is not echoed: a terminal or a log line would act on it. */
    if (at >= 0)
        return eca_err_set(err, ECA_ECONF, "%s: " CONTROL_MSG, where, (unsigned char)s[at], at);
    return ECA_OK;
}

void
eca_conf_where_value(const config_setting_t *g, const char *member, const char *var,
                     const char *value, char *out, size_t outlen)
{
    const config_setting_t *s = g && member ? config_setting_get_member(g, member) : NULL;
    const char *file, *v;
    char path[256];

    if (s != NULL && (value == NULL || ((v = config_setting_get_string(s)) && !strcmp(v, value)))) {
        file = config_setting_source_file(s);
        eca_conf_path(s, path, sizeof path);
        snprintf(out, outlen, "%s:%u: %s", file ? file : "config",
                 (unsigned)config_setting_source_line(s), path);
    } else if (var && (v = eca_env_str(var)) && (value == NULL || strcmp(v, value) == 0)) {
        snprintf(out, outlen, "%s: %s", ECA_CONF_ENV, var);
    } else {
        snprintf(out, outlen, "%s%s%s%s", member ? member : "", var ? " (" : "", var ? var : "",
                 var ? ")" : "");
    }
}

/* dir is a directory this agent may write into; messages are "<where>: <lead><dir> ...". */
static enum eca_rc
dir_writable(const char *where, const char *lead, const char *dir, struct eca_err *err)
{
    struct stat st;

    if (stat(dir, &st) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: %s%s: %s", where, lead, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return eca_err_set(err, ECA_ECONF, "%s: %s%s is not a directory", where, lead, dir);
    if (access(dir, W_OK) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: %s%s is not writable by this agent: %s", where,
                           lead, dir, strerror(errno));
    return ECA_OK;
}

enum eca_rc
eca_conf_check_out_file(const char *where, const char *path, struct eca_err *err)
{
    char dir[4096];
    struct stat st;

    if (*path == '\0')
        return eca_err_set(err, ECA_ECONF, "%s: empty path", where);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return eca_err_set(err, ECA_ECONF, "%s: %s exists and is not a regular file%s", where, path,
                           S_ISDIR(st.st_mode) ? " (a directory)" : "");
    eca_fs_dirname(path, dir, sizeof dir);
    if (stat(dir, &st) != 0 && errno == ENOENT)
        return eca_err_set(err, ECA_ECONF,
                           "%s: directory %s does not exist (create it, or fix the path)", where,
                           dir);
    return dir_writable(where, "directory ", dir, err);
}

/* Absent, or under something that is not a directory: mkdir -p would be asked to make it. */
static int
absent(const char *path)
{
    struct stat st;

    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

enum eca_rc
eca_conf_check_dir_writable(const char *where, const char *dir, struct eca_err *err)
{
    char up[4096], parent[4096], lead[4200];

    if (*dir == '\0')
        return eca_err_set(err, ECA_ECONF, "%s: empty path", where);
    if (!absent(dir))
        return dir_writable(where, "directory ", dir, err);
    /* Not there yet: the agent creates it, so the deepest existing ancestor must let it. */
    snprintf(up, sizeof up, "%s", dir);
    for (;;) {
        eca_fs_dirname(up, parent, sizeof parent);
        if (strcmp(parent, up) == 0 || !absent(parent))
            break;
        snprintf(up, sizeof up, "%s", parent);
    }
    snprintf(lead, sizeof lead, "%s cannot be created: ", dir);
    return dir_writable(where, lead, parent, err);
}

enum eca_rc
eca_conf_check_dir(const char *where, const char *dir, struct eca_err *err)
{
    struct stat st;

    if (stat(dir, &st) != 0)
        return eca_err_set(err, ECA_ECONF, "%s: directory %s: %s", where, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return eca_err_set(err, ECA_ECONF, "%s: %s is not a directory", where, dir);
    return ECA_OK;
}

enum eca_rc
eca_conf_check_in_file(const char *where, const char *path, int required, struct eca_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT && !required)
            return ECA_OK;
        return eca_err_set(err, ECA_ECONF, "%s: %s: %s", where, path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return eca_err_set(err, ECA_ECONF, "%s: %s is not a regular file%s", where, path,
                           S_ISDIR(st.st_mode) ? " (a directory)" : "");
    return ECA_OK;
}

/* "/usr/sbin/nginx", "\\srv\\x.exe" or "C:\\x.exe"; not "nginx" or "./reload.sh". */
static int
is_absolute(const char *p)
{
    return p[0] == '/' || p[0] == '\\' || (isalpha((unsigned char)p[0]) && p[1] == ':');
}

/* "reload command: unbalanced ' quote" -> "unbalanced ' quote": the caller names the setting. */
static const char *
after_prefix(const char *msg)
{
    static const char pfx[] = "reload command: ";

    return strncmp(msg, pfx, sizeof pfx - 1) == 0 ? msg + sizeof pfx - 1 : msg;
}

enum eca_rc
eca_conf_check_cmdline(const char *where, const char *cmdline, struct eca_err *err)
{
    struct eca_err e = {0};
    char **argv = NULL;

    if (eca_hook_split(cmdline, &argv, &e) != ECA_OK)
        return eca_err_set(err, ECA_ECONF, "%s: %s", where, after_prefix(e.msg));
    eca_hook_argv_free(argv);
    return ECA_OK;
}

enum eca_rc
eca_conf_check_command(const char *where, const char *cmdline, struct eca_err *warn,
                       struct eca_err *err)
{
    struct eca_err e = {0};
    char **argv = NULL;
    enum eca_rc rc;

    if (eca_hook_split(cmdline, &argv, &e) != ECA_OK)
        return eca_err_set(err, ECA_ECONF, "%s: %s", where, after_prefix(e.msg));
    rc = eca_hook_find_program(argv[0], &e);
    if (rc != ECA_OK && is_absolute(argv[0])) {
        rc = eca_err_set(err, ECA_ECONF, "%s: %s", where, e.msg);
    } else if (rc != ECA_OK) {
        /* PATH and the working directory may differ when the reload runs (a service manager). */
        eca_err_set(warn, rc, "%s: %s (the reload will fail unless it appears)", where, e.msg);
        rc = ECA_OK;
    }
    eca_hook_argv_free(argv);
    return rc;
}
