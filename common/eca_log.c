/* SPDX-License-Identifier: MIT */
/* Structured logger: JSON lines (or text for humans), escaped, capped and redacted. */
#include "eca_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define REDACTED     "[redacted]"
#define REDACTED_LEN (sizeof(REDACTED) - 1)
#define SECRET_MIN   4
#define ELLIPSIS     "..."

/* A registered secret, kept raw and in its JSON-escaped form (both are searched). */
struct redact {
    char *raw;
    size_t rawlen;
    char *esc;
    size_t esclen;
};

/*
 * The only mutable global state of libeca besides the clock seam (STYLE.md §1). Lines are
 * built and written under `mu`, as the secrets are registered and forgotten: an agent's
 * workers log at once (a secret loaded by one must be redacted in every other's lines, and a
 * sink is called by one thread at a time). agent, min and fmt are set before workers start.
 */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char agent[64];
    enum eca_log_level min;
    enum eca_log_format fmt;
    eca_log_sink_fn sink;
    void *ctx;
    struct redact *sec;
    size_t nsec;
} cfg = {"eca", ECA_LOG_INFO, ECA_LOG_JSON, NULL, NULL, NULL, 0};

/* How a string is written: JSON string, quoted text value, or bare text (message). */
enum smode { M_JSON, M_TEXTQ, M_TEXT };

/* A line under construction; every append keeps `reserve` bytes free for the closing. */
struct line {
    char p[ECA_LOG_LINE_MAX];
    size_t len;
    size_t reserve;
    int full;
};

static const char *const json_levels[] = {"debug", "info", "warn", "error"};
static const char *const text_levels[] = {"DEBUG", "INFO", "WARN", "ERROR"};

/* Field names whose string values are redacted whatever they say (second net, STYLE.md §5). */
static const char *const deny_exact[] = {"password", "token",       "authorization",
                                         "hmac",     "private_key", "secret"};
static const char *const deny_suffix[] = {"_password", "_token", "_hmac", "_secret", "_key_pem"};

/* Length of the valid UTF-8 sequence at p (RFC 3629 §4), 0 when invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0], cp, min;
    size_t len, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/*
 * Escape the unit at p into out (at most 12 bytes); returns its length and sets *used to the
 * input bytes consumed. Control bytes are always escaped so no value can start a new line.
 */
static size_t
esc_unit(const unsigned char *p, size_t n, enum smode m, char *out, size_t *used)
{
    unsigned c = p[0];
    size_t u;

    *used = 1;
    if (c < 0x20 || c == 0x7f) {
        if (c == '\n')
            return (size_t)snprintf(out, 12, "\\n");
        if (c == '\r')
            return (size_t)snprintf(out, 12, "\\r");
        if (c == '\t')
            return (size_t)snprintf(out, 12, "\\t");
        return (size_t)snprintf(out, 12, "\\u%04x", c);
    }
    if ((c == '"' || c == '\\') && m != M_TEXT) {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if ((u = utf8_len(p, n)) == 0) {
        if (m == M_JSON)
            return (size_t)snprintf(out, 12, "\\ufffd");
        memcpy(out, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
        return 3;
    }
    memcpy(out, p, u);
    *used = u;
    return u;
}

/* Length of a registered secret starting at p, 0 if none does. */
static size_t
secret_at(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < cfg.nsec; i++)
        if (cfg.sec[i].rawlen <= n && memcmp(p, cfg.sec[i].raw, cfg.sec[i].rawlen) == 0)
            return cfg.sec[i].rawlen;
    return 0;
}

static int
fits(const struct line *l, size_t n)
{
    return l->len + n + l->reserve <= sizeof l->p - 1;
}

static void
put(struct line *l, const char *s, size_t n)
{
    if (l->full || !fits(l, n)) {
        l->full = 1;
        return;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Does a text value need quotes to be read back unambiguously? */
static int
needs_quotes(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '=' || c == '\\')
            return 1;
    }
    return 0;
}

/*
 * Append a string, escaped for mode m, with registered secrets replaced as they are met.
 * When the line is nearly full the string is cut (never inside a secret) and ends in "...".
 */
static void
put_str(struct line *l, const char *s, size_t n, enum smode m)
{
    const unsigned char *p = (const unsigned char *)s;
    int q = (m == M_JSON) || (m == M_TEXTQ && needs_quotes(s, n));
    size_t tail = sizeof(ELLIPSIS) - 1 + (size_t)q, i = 0, k, used;
    char u[12];

    if (l->full || !fits(l, (size_t)q + tail)) {
        l->full = 1;
        return;
    }
    if (q)
        put(l, "\"", 1);
    while (i < n) {
        if ((used = secret_at(p + i, n - i)) > 0) {
            k = REDACTED_LEN;
            memcpy(u, REDACTED, k);
        } else {
            k = esc_unit(p + i, n - i, m, u, &used);
        }
        if (!fits(l, k + tail)) {
            put(l, ELLIPSIS, sizeof(ELLIPSIS) - 1);
            break;
        }
        put(l, u, k);
        i += used;
    }
    if (q)
        put(l, "\"", 1);
}

static int
key_is_denied(const char *k)
{
    size_t i, kl = strlen(k), sl;

    for (i = 0; i < sizeof deny_exact / sizeof deny_exact[0]; i++)
        if (strcasecmp(k, deny_exact[i]) == 0)
            return 1;
    for (i = 0; i < sizeof deny_suffix / sizeof deny_suffix[0]; i++) {
        sl = strlen(deny_suffix[i]);
        if (kl >= sl && strcasecmp(k + kl - sl, deny_suffix[i]) == 0)
            return 1;
    }
    return 0;
}

/* Append one field: ,"key":value in JSON, " key=value" in text. */
static void
put_field(struct line *l, const struct eca_log_field *f, int json)
{
    char num[32];

    if (f->key == NULL)
        return;
    put(l, json ? "," : " ", 1);
    put_str(l, f->key, strlen(f->key), json ? M_JSON : M_TEXT);
    put(l, json ? ":" : "=", 1);
    /* Names are a net for string values; a yes/no or a count ("challenge_password": true
     * says the server asked for one) carries no secret and stays readable. */
    if (f->type == ECA_LF_SECRET || (f->type == ECA_LF_STR && key_is_denied(f->key))) {
        put_str(l, REDACTED, REDACTED_LEN, json ? M_JSON : M_TEXT);
    } else if (f->type == ECA_LF_INT) {
        snprintf(num, sizeof num, "%lld", f->i);
        puts_(l, num);
    } else if (f->type == ECA_LF_BOOL) {
        puts_(l, f->i ? "true" : "false");
    } else if (f->s == NULL) {
        puts_(l, json ? "null" : "-");
    } else {
        put_str(l, f->s, strlen(f->s), json ? M_JSON : M_TEXTQ);
    }
}

/* RFC 3339 UTC timestamp, with milliseconds for JSON. */
static void
put_ts(struct line *l, int json)
{
    struct timespec ts;
    struct tm tm;
    char b[64];
    size_t n;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        ts.tv_sec = time(NULL);
        ts.tv_nsec = 0;
    }
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    if (json)
        snprintf(b + n, sizeof b - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L) % 1000);
    else
        snprintf(b + n, sizeof b - n, "Z");
    puts_(l, b);
}

static void
build_json(struct line *l, enum eca_log_level lv, const char *event, const char *cert,
           const struct eca_log_field *fields, size_t nfields, const char *msg)
{
    size_t i;

    l->reserve = 1; /* the closing brace */
    puts_(l, "{\"ts\":\"");
    put_ts(l, 1);
    puts_(l, "\",\"level\":\"");
    puts_(l, json_levels[lv]);
    puts_(l, "\",\"agent\":");
    put_str(l, cfg.agent, strlen(cfg.agent), M_JSON);
    puts_(l, ",\"event\":");
    put_str(l, event ? event : "", event ? strlen(event) : 0, M_JSON);
    if (cert != NULL) {
        puts_(l, ",\"cert\":");
        put_str(l, cert, strlen(cert), M_JSON);
    }
    for (i = 0; i < nfields; i++)
        put_field(l, &fields[i], 1);
    if (msg != NULL) {
        puts_(l, ",\"msg\":");
        put_str(l, msg, strlen(msg), M_JSON);
    }
    l->reserve = 0;
    l->full = 0;
    puts_(l, "}");
}

static void
build_text(struct line *l, enum eca_log_level lv, const char *event, const char *cert,
           const struct eca_log_field *fields, size_t nfields, const char *msg)
{
    size_t i;

    l->reserve = 0;
    put_ts(l, 0);
    puts_(l, " ");
    puts_(l, text_levels[lv]);
    puts_(l, " ");
    put_str(l, event ? event : "-", event ? strlen(event) : 1, M_TEXT);
    if (cert != NULL) {
        puts_(l, " cert=");
        put_str(l, cert, strlen(cert), M_TEXTQ);
    }
    for (i = 0; i < nfields; i++)
        put_field(l, &fields[i], 0);
    if (msg != NULL && *msg != '\0') {
        puts_(l, " ");
        put_str(l, msg, strlen(msg), M_TEXT);
    }
}

/*
 * Second net over the finished line: replace every raw or escaped occurrence of a registered
 * secret. Returns the new length, or 0 if the result does not fit in out (outlen bytes).
 */
static size_t
redact_line(const char *in, size_t n, char *out, size_t outlen)
{
    size_t i = 0, o = 0, s, len;
    const char *pat;

    while (i < n) {
        len = 0;
        for (s = 0; s < cfg.nsec && len == 0; s++) {
            pat = cfg.sec[s].raw;
            len = cfg.sec[s].rawlen;
            if (len > n - i || memcmp(in + i, pat, len) != 0) {
                pat = cfg.sec[s].esc;
                len = cfg.sec[s].esclen;
                if (len > n - i || memcmp(in + i, pat, len) != 0)
                    len = 0;
            }
        }
        if (o + (len > 0 ? REDACTED_LEN : 1) >= outlen)
            return 0;
        if (len > 0) {
            memcpy(out + o, REDACTED, REDACTED_LEN);
            o += REDACTED_LEN;
            i += len;
        } else {
            out[o++] = in[i++];
        }
    }
    out[o] = '\0';
    return o;
}

static void
emit_stderr(const char *line, size_t n)
{
    struct iovec iov[2];
    ssize_t w;

    iov[0].iov_base = (void *)(uintptr_t)line;
    iov[0].iov_len = n;
    iov[1].iov_base = (void *)(uintptr_t) "\n";
    iov[1].iov_len = 1;
    /* One writev per line so concurrent writers do not interleave within a line. */
    while ((w = writev(STDERR_FILENO, iov, 2)) < 0 && errno == EINTR)
        ;
    if (w < 0 || (size_t)w >= n + 1)
        return;
    /* Short write (full pipe): finish the line, best effort. */
    if ((size_t)w < n)
        (void)!write(STDERR_FILENO, line + w, n - (size_t)w);
    (void)!write(STDERR_FILENO, "\n", 1);
}

static size_t
build(struct line *l, enum eca_log_level lv, const char *event, const char *cert,
      const struct eca_log_field *fields, size_t nfields, const char *msg, char *out, size_t outlen)
{
    l->len = 0;
    l->full = 0;
    if (cfg.fmt == ECA_LOG_TEXT)
        build_text(l, lv, event, cert, fields, nfields, msg);
    else
        build_json(l, lv, event, cert, fields, nfields, msg);
    return redact_line(l->p, l->len, out, outlen);
}

void
eca_log(enum eca_log_level level, const char *event, const char *cert,
        const struct eca_log_field *fields, size_t nfields, const char *fmt, ...)
{
    struct line l;
    char msg[ECA_LOG_LINE_MAX];
    char out[ECA_LOG_LINE_MAX];
    va_list ap;
    size_t n;

    if ((int)level < ECA_LOG_DEBUG)
        level = ECA_LOG_DEBUG;
    if (level > ECA_LOG_ERROR)
        level = ECA_LOG_ERROR;
    if (level < cfg.min)
        return;
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&mu);
    n = build(&l, level, event, cert, fields, nfields, fmt ? msg : NULL, out, sizeof out);
    if (n == 0) /* redaction grew the line past the cap */
        n = build(&l, level, event, cert, NULL, 0, "log line dropped: too long after redaction",
                  out, sizeof out);
    if (n > 0 && cfg.sink != NULL)
        cfg.sink(cfg.ctx, level, out);
    else if (n > 0)
        emit_stderr(out, n);
    pthread_mutex_unlock(&mu);
    /* The unredacted text may hold secrets the caller did not register. */
    OPENSSL_cleanse(msg, sizeof msg);
    OPENSSL_cleanse(&l, sizeof l);
}

void
eca_log_setup(const char *agent, enum eca_log_level min, enum eca_log_format fmt)
{
    if (agent != NULL)
        snprintf(cfg.agent, sizeof cfg.agent, "%s", agent);
    cfg.min = min <= ECA_LOG_ERROR ? min : ECA_LOG_ERROR;
    cfg.fmt = fmt == ECA_LOG_TEXT ? ECA_LOG_TEXT : ECA_LOG_JSON;
}

void
eca_log_set_sink(eca_log_sink_fn sink, void *ctx)
{
    pthread_mutex_lock(&mu);
    cfg.sink = sink;
    cfg.ctx = sink ? ctx : NULL;
    pthread_mutex_unlock(&mu);
}

/* JSON-escaped copy of s (the same escaping the logger applies), malloc'd. */
static char *
escape_copy(const char *s, size_t n, size_t *outlen)
{
    char *e = malloc(n * 6 + 1), u[12];
    size_t i = 0, o = 0, k, used;

    if (e == NULL)
        return NULL;
    while (i < n) {
        k = esc_unit((const unsigned char *)s + i, n - i, M_JSON, u, &used);
        memcpy(e + o, u, k);
        o += k;
        i += used;
    }
    e[o] = '\0';
    *outlen = o;
    return e;
}

static void
redact_free(struct redact *r)
{
    OPENSSL_clear_free(r->raw, r->rawlen);
    OPENSSL_clear_free(r->esc, r->esclen);
    r->raw = r->esc = NULL;
}

void
eca_log_redact_add(const char *secret)
{
    struct redact r = {NULL, 0, NULL, 0}, *grown;

    if (secret == NULL || (r.rawlen = strlen(secret)) < SECRET_MIN)
        return;
    r.raw = OPENSSL_strdup(secret);
    r.esc = escape_copy(secret, r.rawlen, &r.esclen);
    pthread_mutex_lock(&mu);
    grown = realloc(cfg.sec, (cfg.nsec + 1) * sizeof *grown);
    if (r.raw == NULL || r.esc == NULL || grown == NULL) {
        /* Out of memory: nothing sensible left; keep what is registered. */
        if (grown != NULL)
            cfg.sec = grown;
        pthread_mutex_unlock(&mu);
        OPENSSL_clear_free(r.raw, r.rawlen);
        free(r.esc);
        return;
    }
    cfg.sec = grown;
    cfg.sec[cfg.nsec++] = r;
    pthread_mutex_unlock(&mu);
}

void
eca_log_redact_forget(const char *secret)
{
    size_t i, n;

    if (secret == NULL)
        return;
    n = strlen(secret);
    pthread_mutex_lock(&mu);
    for (i = 0; i < cfg.nsec; i++) {
        if (cfg.sec[i].rawlen == n && memcmp(cfg.sec[i].raw, secret, n) == 0) {
            redact_free(&cfg.sec[i]);
            cfg.sec[i] = cfg.sec[--cfg.nsec];
            break;
        }
    }
    pthread_mutex_unlock(&mu);
}

void
eca_log_reset(void)
{
    size_t i;

    pthread_mutex_lock(&mu);
    for (i = 0; i < cfg.nsec; i++)
        redact_free(&cfg.sec[i]);
    free(cfg.sec);
    cfg.sec = NULL;
    cfg.nsec = 0;
    snprintf(cfg.agent, sizeof cfg.agent, "eca");
    cfg.min = ECA_LOG_INFO;
    cfg.fmt = ECA_LOG_JSON;
    cfg.sink = NULL;
    cfg.ctx = NULL;
    pthread_mutex_unlock(&mu);
}

int
eca_log_level_parse(const char *s, enum eca_log_level *out)
{
    size_t i;

    if (s == NULL)
        return -1;
    for (i = 0; i < sizeof json_levels / sizeof json_levels[0]; i++) {
        if (strcasecmp(s, json_levels[i]) == 0) {
            *out = (enum eca_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = ECA_LOG_WARN;
        return 0;
    }
    return -1;
}

int
eca_log_format_parse(const char *s, enum eca_log_format *out)
{
    if (s != NULL && strcasecmp(s, "json") == 0) {
        *out = ECA_LOG_JSON;
        return 0;
    }
    if (s != NULL && strcasecmp(s, "text") == 0) {
        *out = ECA_LOG_TEXT;
        return 0;
    }
    return -1;
}
