/* SPDX-License-Identifier: MIT */
/* HTTP response handling shared by every transport: headers, Retry-After, URLs. */
#include "eca_http.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eca_log.h"

struct eca_http {
    const struct eca_http_ops *ops;
    void *ctx;
    size_t max_body;
};

enum eca_rc
eca_http_new(const struct eca_http_ops *ops, void *ctx, struct eca_http **out, struct eca_err *err)
{
    struct eca_http *h;

    if (ops == NULL || ops->perform == NULL || out == NULL)
        return eca_err_set(err, ECA_EINVAL, "http transport: no perform operation");
    h = calloc(1, sizeof *h);
    if (h == NULL)
        return eca_err_set(err, ECA_ENOMEM, "http transport: out of memory");
    h->ops = ops;
    h->ctx = ctx;
    h->max_body = ECA_HTTP_DEFAULT_MAX_BODY;
    *out = h;
    return ECA_OK;
}

void
eca_http_set_max_body(struct eca_http *h, size_t max_body)
{
    if (h != NULL)
        h->max_body = max_body ? max_body : ECA_HTTP_DEFAULT_MAX_BODY;
}

size_t
eca_http_max_body(const struct eca_http *h)
{
    return h != NULL ? h->max_body : ECA_HTTP_DEFAULT_MAX_BODY;
}

/* The URL for a log line: no userinfo, query or fragment, which may carry credentials. */
const char *
eca_http_url_for_log(const char *url, char *out, size_t outlen)
{
    const char *host = strstr(url, "://");
    size_t scheme = host != NULL ? (size_t)(host - url) + 3 : 0;
    size_t auth = strcspn(url + scheme, "/?#");
    const char *at = memchr(url + scheme, '@', auth);
    const char *rest = at != NULL ? at + 1 : url + scheme;

    if (outlen > 0)
        snprintf(out, outlen, "%.*s%.*s", (int)scheme, url, (int)strcspn(rest, "?#"), rest);
    return out;
}

static void
log_url(const char *url, char *out, size_t outlen)
{
    (void)eca_http_url_for_log(url, out, outlen);
}

/* Debug record of one exchange: never request headers or bodies (credentials, CSRs). */
static void
log_exchange(const struct eca_http_req *req, const struct eca_http_resp *resp, enum eca_rc rc)
{
    char u[256], ct[96];

    log_url(req->url, u, sizeof u);
    if (!eca_http_resp_header(resp, "Content-Type", ct, sizeof ct))
        ct[0] = '\0';
    eca_log(ECA_LOG_DEBUG, "http_exchange", NULL,
            ECA_LOG_FIELDS(ECA_LS("method", req->method), ECA_LS("url", u),
                           ECA_LS("rc", eca_rc_name(rc)), ECA_LI("status", resp->status),
                           ECA_LS("content_type", ct), ECA_LI("length", resp->body.len)),
            NULL);
}

enum eca_rc
eca_http_perform(struct eca_http *h, const struct eca_http_req *req, struct eca_http_resp *resp,
                 struct eca_err *err)
{
    enum eca_rc rc;

    if (resp == NULL)
        return eca_err_set(err, ECA_EINVAL, "http: no response record");
    /* Transports (the test fake included) fill a response that is already initialised. */
    eca_http_resp_init(resp, h != NULL ? h->max_body : 0);
    if (h == NULL || req == NULL || req->method == NULL || req->url == NULL)
        return eca_err_set(err, ECA_EINVAL, "http: request without transport, method or URL");
    rc = h->ops->perform(h->ctx, req, resp, err);
    log_exchange(req, resp, rc);
    return rc;
}

void
eca_http_free(struct eca_http *h)
{
    if (h == NULL)
        return;
    if (h->ops->free != NULL)
        h->ops->free(h->ctx);
    free(h);
}

void
eca_http_resp_init(struct eca_http_resp *resp, size_t max_body)
{
    memset(resp, 0, sizeof *resp);
    eca_buf_init(&resp->body, max_body ? max_body : ECA_HTTP_DEFAULT_MAX_BODY);
}

void
eca_http_resp_clear_headers(struct eca_http_resp *resp)
{
    for (size_t i = 0; i < resp->nheaders && i < ECA_HTTP_MAX_HEADERS; i++) {
        free(resp->headers[i]);
        resp->headers[i] = NULL;
    }
    resp->nheaders = 0;
}

void
eca_http_resp_free(struct eca_http_resp *resp)
{
    size_t max;

    if (resp == NULL)
        return;
    max = resp->body.max;
    eca_http_resp_clear_headers(resp);
    eca_buf_free(&resp->body);
    eca_http_resp_init(resp, max);
}

static int
is_ows(int c)
{
    return c == ' ' || c == '\t';
}

enum eca_rc
eca_http_resp_add_header(struct eca_http_resp *resp, const char *line, size_t len,
                         struct eca_err *err)
{
    char *copy;

    /* Trailing whitespace is not part of a field value (RFC 9110 §5.5). */
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || is_ows(line[len - 1])))
        len--;
    if (resp->nheaders >= ECA_HTTP_MAX_HEADERS)
        return eca_err_set(err, ECA_ETOOBIG, "HTTP response has more than %d header lines",
                           ECA_HTTP_MAX_HEADERS);
    copy = malloc(len + 1);
    if (copy == NULL)
        return eca_err_set(err, ECA_ENOMEM, "HTTP header: out of memory");
    memcpy(copy, line, len);
    copy[len] = '\0';
    resp->headers[resp->nheaders++] = copy;
    return ECA_OK;
}

/* The value of line if its field name is name, leading blanks skipped; otherwise NULL. */
static const char *
header_value(const char *line, const char *name)
{
    size_t n = strlen(name);

    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    line += n + 1;
    while (is_ows(*line))
        line++;
    return line;
}

const char *
eca_http_resp_header_nth(const struct eca_http_resp *resp, const char *name, size_t idx)
{
    const char *v;

    for (size_t i = 0; i < resp->nheaders; i++) {
        if ((v = header_value(resp->headers[i], name)) != NULL && idx-- == 0)
            return v;
    }
    return NULL;
}

int
eca_http_resp_header(const struct eca_http_resp *resp, const char *name, char *out, size_t outlen)
{
    const char *v = eca_http_resp_header_nth(resp, name, 0);

    if (v == NULL)
        return 0;
    if (out != NULL && outlen > 0)
        snprintf(out, outlen, "%s", v);
    return 1;
}

int
eca_http_resp_media_type(const struct eca_http_resp *resp, char *out, size_t outlen)
{
    const char *v = eca_http_resp_header_nth(resp, "Content-Type", 0);
    size_t n = 0;

    if (v == NULL || out == NULL || outlen == 0)
        return 0;
    /* Parameters (";charset=...") are cut; type and subtype are case-insensitive (§8.3.1). */
    while (v[n] != '\0' && v[n] != ';')
        n++;
    while (n > 0 && is_ows(v[n - 1]))
        n--;
    if (n == 0 || n >= outlen)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)v[i]);
    out[n] = '\0';
    return 1;
}

/* ---- Retry-After (RFC 9110 §10.2.3) and HTTP-date (§5.6.7) ---- */

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wdays[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};

struct hdate {
    int year, mon, day, hour, min, sec; /* mon 1..12 */
};

/* Exactly n digits; -1 otherwise. */
static int
digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

static int
lit(const char **p, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(*p, s, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* A day name: the 3-letter form, or with full set, the long form of RFC 850. */
static int
day_name(const char **p, int full)
{
    for (int i = 0; i < 7; i++) {
        size_t n = full ? strlen(wdays[i]) : 3;
        if (strncmp(*p, wdays[i], n) == 0) {
            *p += n;
            return 1;
        }
    }
    return 0;
}

static int
month_name(const char **p)
{
    for (int i = 0; i < 12; i++) {
        if (strncmp(*p, months[i], 3) == 0) {
            *p += 3;
            return i + 1;
        }
    }
    return -1;
}

/* time-of-day = hour ":" minute ":" second */
static int
time_of_day(const char **p, struct hdate *d)
{
    d->hour = digits(p, 2);
    if (d->hour < 0 || !lit(p, ":") || (d->min = digits(p, 2)) < 0 || !lit(p, ":") ||
        (d->sec = digits(p, 2)) < 0)
        return 0;
    return 1;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
imf_fixdate(const char *p, struct hdate *d)
{
    return day_name(&p, 0) && lit(&p, ", ") && (d->day = digits(&p, 2)) >= 0 && lit(&p, " ") &&
           (d->mon = month_name(&p)) > 0 && lit(&p, " ") && (d->year = digits(&p, 4)) >= 0 &&
           lit(&p, " ") && time_of_day(&p, d) && lit(&p, " GMT") && *p == '\0';
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT", year completed below. */
static int
rfc850_date(const char *p, struct hdate *d)
{
    return day_name(&p, 1) && lit(&p, ", ") && (d->day = digits(&p, 2)) >= 0 && lit(&p, "-") &&
           (d->mon = month_name(&p)) > 0 && lit(&p, "-") && (d->year = digits(&p, 2)) >= 0 &&
           lit(&p, " ") && time_of_day(&p, d) && lit(&p, " GMT") && *p == '\0';
}

/* asctime: "Sun Nov  6 08:49:37 1994" (day as two digits or space + digit). */
static int
asctime_date(const char *p, struct hdate *d)
{
    if (!day_name(&p, 0) || !lit(&p, " ") || (d->mon = month_name(&p)) < 0 || !lit(&p, " "))
        return 0;
    d->day = lit(&p, " ") ? digits(&p, 1) : digits(&p, 2);
    return d->day >= 0 && lit(&p, " ") && time_of_day(&p, d) && lit(&p, " ") &&
           (d->year = digits(&p, 4)) >= 0 && *p == '\0';
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long
days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
hdate_valid(const struct hdate *d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (d->year % 4 == 0 && d->year % 100 != 0) || d->year % 400 == 0;

    if (d->mon < 1 || d->mon > 12 || d->day < 1 || d->day > mdays[d->mon - 1])
        return 0;
    if (d->mon == 2 && d->day == 29 && !leap)
        return 0;
    /* Second 60 allows a leap second. */
    return d->hour < 24 && d->min < 60 && d->sec <= 60;
}

/* Seconds since the epoch of an HTTP-date in any of its three forms; 0 when invalid. */
static int
http_date(const char *s, time_t now, long long *out)
{
    struct hdate d = {0};

    if (!imf_fixdate(s, &d) && !asctime_date(s, &d)) {
        int year = 1970;
        if (!rfc850_date(s, &d))
            return 0;
        while (year < 9999 && days_from_civil(year + 1, 1, 1) * 86400 <= (long long)now)
            year++;
        /*
         * A two-digit year more than 50 years in the future is the most recent past year
         * with the same last two digits (RFC 9110 §5.6.7).
         */
        d.year += year / 100 * 100;
        if (d.year > year + 50)
            d.year -= 100;
    }
    if (!hdate_valid(&d))
        return 0;
    *out = days_from_civil(d.year, d.mon, d.day) * 86400 + d.hour * 3600 + d.min * 60 + d.sec;
    return 1;
}

long
eca_http_retry_after(const char *value, time_t now)
{
    char v[64];
    size_t n;
    long long at, secs = 0;

    if (value == NULL)
        return -1;
    while (is_ows(*value))
        value++;
    n = strlen(value);
    while (n > 0 && is_ows(value[n - 1]))
        n--;
    if (n == 0 || n >= sizeof v)
        return -1;
    memcpy(v, value, n);
    v[n] = '\0';
    if (isdigit((unsigned char)v[0])) {
        /* delta-seconds = 1*DIGIT; past the cap the exact value no longer matters. */
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)v[i]))
                return -1;
            if (secs <= ECA_HTTP_RETRY_AFTER_MAX)
                secs = secs * 10 + (v[i] - '0');
        }
    } else {
        if (!http_date(v, now, &at))
            return -1;
        secs = at - (long long)now;
    }
    if (secs < 0)
        return 0;
    return secs > ECA_HTTP_RETRY_AFTER_MAX ? ECA_HTTP_RETRY_AFTER_MAX : (long)secs;
}

/* ---- URLs ---- */

enum eca_rc
eca_http_check_url(const char *url, int insecure, struct eca_err *err)
{
    char shown[256];
    const char *rest, *at;

    if (url == NULL || *url == '\0')
        return eca_err_set(err, ECA_EINVAL, "URL is empty");
    /* Messages reach the log: echo the URL without userinfo, query or fragment. */
    log_url(url, shown, sizeof shown);
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return eca_err_set(err, ECA_EINVAL,
                               "URL '%.200s' contains a space or control character", shown);
    }
    if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0 && insecure)
        rest = url + 7;
    else if (strncasecmp(url, "http://", 7) == 0)
        return eca_err_set(err, ECA_EINVAL,
                           "URL '%.200s': plain http:// is refused unless insecure is set", shown);
    else
        return eca_err_set(err, ECA_EINVAL, "URL '%.200s': only https:// URLs are allowed", shown);
    if (*rest == '\0' || *rest == '/' || *rest == '?' || *rest == '#' || *rest == ':')
        return eca_err_set(err, ECA_EINVAL, "URL '%.200s' has no host", shown);
    /* Credentials in a URL would end up in logs and error messages: refuse, without echoing. */
    at = strchr(rest, '@');
    if (at != NULL && at < rest + strcspn(rest, "/?#"))
        return eca_err_set(err, ECA_EINVAL, "URL '%.200s' carries user credentials (user:pass@)",
                           shown);
    return ECA_OK;
}
