/* SPDX-License-Identifier: MIT */
/* ACME Renewal Information (RFC 9773): certificate identifier, suggested window, chosen time. */
#include "acme_ari.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_problem.h"
#include "eca_b64.h"
#include "eca_json.h"
#include "eca_x509.h"

enum eca_rc
acme_ari_cert_id_of(const unsigned char *aki, size_t aki_len, const unsigned char *serial,
                    size_t serial_len, struct eca_buf *out, struct eca_err *err)
{
    struct eca_buf id;
    enum eca_rc rc;

    eca_buf_init(&id, 0);
    if ((rc = eca_b64url_encode(aki, aki_len, &id, err)) != ECA_OK ||
        (rc = eca_buf_append(&id, ".", 1, err)) != ECA_OK ||
        (rc = eca_b64url_encode(serial, serial_len, &id, err)) != ECA_OK)
        goto out;
    if (id.len > ACME_ARI_CERT_ID_MAX) {
        rc = eca_err_set(err, ECA_ETOOBIG, "certID: %zu characters (max %d)", id.len,
                         ACME_ARI_CERT_ID_MAX);
        goto out;
    }
    rc = eca_buf_append(out, id.data, id.len, err);
out:
    eca_buf_free(&id);
    return rc;
}

enum eca_rc
acme_ari_cert_id(X509 *cert, struct eca_buf *out, struct eca_err *err)
{
    struct eca_buf aki, serial;
    enum eca_rc rc;

    eca_buf_init(&aki, 0);
    eca_buf_init(&serial, 0);
    if ((rc = eca_x509_aki_keyid(cert, &aki, err)) == ECA_OK &&
        (rc = eca_x509_serial_der_content(cert, &serial, err)) == ECA_OK)
        rc = acme_ari_cert_id_of(aki.data, aki.len, serial.data, serial.len, out, err);
    eca_buf_free(&aki);
    eca_buf_free(&serial);
    return rc;
}

/* n decimal digits at *p into *v; advances *p. */
static int
digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* "Z", "z" or "+hh:mm"/"-hh:mm" at p, the whole rest of the string; offset in seconds. */
static int
zone(const char *p, long *offset)
{
    int hh, mm, sign;

    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        *offset = 0;
        return 0;
    }
    if (p[0] != '+' && p[0] != '-')
        return -1;
    sign = p[0] == '-' ? -1 : 1;
    p++;
    if (digits(&p, 2, &hh) != 0 || *p++ != ':' || digits(&p, 2, &mm) != 0 || *p != '\0' ||
        hh > 23 || mm > 59)
        return -1;
    *offset = sign * (hh * 3600L + mm * 60L);
    return 0;
}

int
acme_ari_time_parse(const char *s, time_t *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec;
    long off;

    if (s == NULL || digits(&p, 4, &y) != 0 || *p++ != '-' || digits(&p, 2, &mo) != 0 ||
        *p++ != '-' || digits(&p, 2, &d) != 0 || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) != 0 || *p++ != ':' || digits(&p, 2, &mi) != 0 || *p++ != ':' ||
        digits(&p, 2, &sec) != 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (*p == '.') {
        /* time-secfrac: at least one digit; a window is not that precise, so it is dropped. */
        if (!isdigit((unsigned char)*++p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (zone(p, &off) != 0)
        return -1;
    /* A leap second (60) counts as the last second of its minute. */
    *out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600L + mi * 60L +
                    (sec == 60 ? 59 : sec) - off);
    return 0;
}

static enum eca_rc
get_time(struct json_object *win, const char *key, time_t *out, struct eca_err *err)
{
    const char *s = NULL;
    enum eca_rc rc = eca_json_get_str(win, "renewalInfo.suggestedWindow", key, 1, &s, err);

    if (rc != ECA_OK)
        return rc;
    if (acme_ari_time_parse(s, out) != 0)
        return eca_err_set(err, ECA_EPROTO,
                           "renewalInfo.suggestedWindow.%s: not an RFC 3339 time \"%.40s\"", key,
                           s);
    return ECA_OK;
}

static enum eca_rc
ari_from_json(struct json_object *obj, struct acme_ari **out, struct eca_err *err)
{
    struct acme_ari *a = NULL;
    struct json_object *win = NULL;
    const char *expl = NULL;
    enum eca_rc rc;

    if (!json_object_is_type(obj, json_type_object))
        return eca_err_set(err, ECA_EPROTO, "renewalInfo: expected a JSON object");
    if ((a = calloc(1, sizeof *a)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "renewalInfo: out of memory");
    a->retry_after = ACME_ARI_RETRY_DEFAULT;
    if ((rc = eca_json_get_obj(obj, "renewalInfo", "suggestedWindow", 1, &win, err)) != ECA_OK ||
        (rc = get_time(win, "start", &a->start, err)) != ECA_OK ||
        (rc = get_time(win, "end", &a->end, err)) != ECA_OK ||
        (rc = eca_json_get_str(obj, "renewalInfo", "explanationURL", 0, &expl, err)) != ECA_OK)
        goto out;
    /* RFC 9773 §4.2: a window whose end precedes its start is invalid; the client carries on
     * as if there were no renewalInfo. A one-point window (a revoked certificate) is valid. */
    if (a->end < a->start) {
        rc = eca_err_set(err, ECA_EPROTO, "renewalInfo.suggestedWindow.end: before start");
        goto out;
    }
    if (expl != NULL && (a->explanation_url = strdup(expl)) == NULL)
        rc = eca_err_set(err, ECA_ENOMEM, "renewalInfo: out of memory");
out:
    if (rc == ECA_OK)
        *out = a;
    else
        acme_ari_free(a);
    return rc;
}

enum eca_rc
acme_ari_parse_json(const void *body, size_t len, struct acme_ari **out, struct eca_err *err)
{
    struct json_object *obj = NULL;
    enum eca_rc rc;

    if (len > ACME_JSON_MAX)
        return eca_err_set(err, ECA_ETOOBIG, "renewalInfo: body of %zu bytes exceeds %zu", len,
                           ACME_JSON_MAX);
    rc = eca_json_parse("renewalInfo", body, len, &obj, err);
    if (rc == ECA_OK)
        rc = ari_from_json(obj, out, err);
    json_object_put(obj);
    return rc;
}

enum eca_rc
acme_ari_parse(const struct eca_http_resp *resp, time_t now, struct acme_ari **out,
               struct eca_err *err)
{
    struct json_object *obj = NULL;
    struct acme_ari *a = NULL;
    enum eca_rc rc = acme_problem_json(resp, "renewalInfo", &obj, err);

    if (rc == ECA_OK)
        rc = ari_from_json(obj, &a, err);
    json_object_put(obj);
    if (rc != ECA_OK)
        return rc;
    a->retry_after = acme_ari_retry_after(resp, now);
    *out = a;
    return ECA_OK;
}

void
acme_ari_free(struct acme_ari *a)
{
    if (a == NULL)
        return;
    free(a->explanation_url);
    free(a);
}

long
acme_ari_retry_after(const struct eca_http_resp *resp, time_t now)
{
    char v[128];
    long s;

    if (resp == NULL || !eca_http_resp_header(resp, "Retry-After", v, sizeof v) ||
        (s = eca_http_retry_after(v, now)) < 0)
        return ACME_ARI_RETRY_DEFAULT;
    if (s < ACME_ARI_RETRY_MIN)
        return ACME_ARI_RETRY_MIN;
    return s > ACME_ARI_RETRY_MAX ? ACME_ARI_RETRY_MAX : s;
}

/* 1 if text mentions "replace" in any letter case. */
static int
mentions_replace(const char *text)
{
    static const char word[] = "replace";

    for (; *text; text++) {
        size_t i = 0;

        while (word[i] && tolower((unsigned char)text[i]) == word[i])
            i++;
        if (word[i] == '\0')
            return 1;
    }
    return 0;
}

int
acme_ari_replaces_refused(const struct acme_problem *p)
{
    if (p == NULL)
        return 0;
    if (acme_problem_is(p, "alreadyReplaced"))
        return 1;
    return (acme_problem_is(p, "malformed") || acme_problem_is(p, "unauthorized")) &&
           p->detail != NULL && mentions_replace(p->detail);
}

void
acme_ari_choose(const struct acme_ari *w, const char *cert_id, const struct acme_ari_choice *prev,
                uint64_t rnd, time_t now, struct acme_ari_choice *out)
{
    uint64_t span;

    memset(out, 0, sizeof *out);
    snprintf(out->cert_id, sizeof out->cert_id, "%s", cert_id);
    out->start = w->start;
    out->end = w->end;
    if (prev != NULL && strcmp(prev->cert_id, out->cert_id) == 0 && prev->start == w->start &&
        prev->end == w->end && prev->at >= w->start && prev->at <= w->end) {
        out->at = prev->at;
        return;
    }
    if (w->start <= now) {
        out->at = now;
        return;
    }
    span = (uint64_t)((int64_t)w->end - (int64_t)w->start);
    out->at = (time_t)((int64_t)w->start + (int64_t)(span == UINT64_MAX ? rnd : rnd % (span + 1)));
}

enum eca_rc
acme_ari_choice_build(const struct acme_ari_choice *c, struct eca_buf *out, struct eca_err *err)
{
    char line[ACME_ARI_CERT_ID_MAX + 96];
    int n = snprintf(line, sizeof line, "eca-ari 1 %s %lld %lld %lld\n", c->cert_id,
                     (long long)c->start, (long long)c->end, (long long)c->at);

    return eca_buf_append(out, line, (size_t)n, err);
}

static int
is_cert_id(const char *s)
{
    size_t n = strlen(s);

    return n > 0 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

enum eca_rc
acme_ari_choice_parse(const void *text, size_t len, struct acme_ari_choice *out,
                      struct eca_err *err)
{
    char buf[ACME_ARI_CERT_ID_MAX + 96], id[ACME_ARI_CERT_ID_MAX + 1];
    long long s, e, at;
    int used = 0;

    if (len >= sizeof buf)
        return eca_err_set(err, ECA_EPARSE, "renewal state: %zu bytes is too long", len);
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (sscanf(buf, "eca-ari 1 %256s %lld %lld %lld%n", id, &s, &e, &at, &used) != 4 ||
        (buf[used] != '\0' && strcmp(buf + used, "\n") != 0) || !is_cert_id(id) || e < s ||
        at < s || at > e)
        return eca_err_set(err, ECA_EPARSE, "renewal state: not an eca-ari record");
    memset(out, 0, sizeof *out);
    memcpy(out->cert_id, id, strlen(id) + 1);
    out->start = (time_t)s;
    out->end = (time_t)e;
    out->at = (time_t)at;
    return ECA_OK;
}
