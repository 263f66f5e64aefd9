/* SPDX-License-Identifier: MIT */
/* Renewal policy, pure: reason to renew now, when the window opens, when to look again. */
#include "eca_renew.h"

#include <stdint.h>

#define DEFAULT_THRESHOLD_PCT 33
#define DEFAULT_INTERVAL_S    21600L
/* Look at a certificate at least this many times within its renewal window. */
#define CHECKS_PER_WINDOW 4

static const char *const names[ECA_RENEW_REASON_MAX] = {
    [ECA_RENEW_NONE] = "none",         [ECA_RENEW_MISSING] = "missing",
    [ECA_RENEW_MISMATCH] = "mismatch", [ECA_RENEW_NOT_YET_VALID] = "not_yet_valid",
    [ECA_RENEW_EXPIRED] = "expired",   [ECA_RENEW_REVOKED] = "revoked",
    [ECA_RENEW_FORCED] = "forced",     [ECA_RENEW_THRESHOLD] = "threshold",
    [ECA_RENEW_MAX_AGE] = "max_age",   [ECA_RENEW_SUGGESTED] = "suggested",
};

const char *
eca_renew_reason_name(enum eca_renew_reason r)
{
    if ((unsigned)r >= ECA_RENEW_REASON_MAX)
        return "unknown";
    return names[r];
}

/* splitmix64 finaliser: spreads a small seed over 64 bits so nearby seeds differ. */
static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A deterministic value in [0, span] from seed (0 when seed or span is 0). */
static int64_t
jitter(unsigned seed, uint64_t salt, int64_t span)
{
    if (seed == 0 || span <= 0)
        return 0;
    return (int64_t)(mix((uint64_t)seed ^ mix(salt)) % ((uint64_t)span + 1));
}

/* pct percent of v without overflowing for any v >= 0. */
static int64_t
percent(int64_t v, int pct)
{
    return v / 100 * pct + v % 100 * pct / 100;
}

static int
threshold(int pct)
{
    if (pct <= 0)
        return DEFAULT_THRESHOLD_PCT;
    return pct > 99 ? 99 : pct;
}

/* The time the renewal window opens: threshold share of lifetime left, minus jitter. */
static time_t
window_open(const struct eca_renew_in *in, int64_t *window)
{
    int pct = threshold(in->threshold_pct);
    int64_t life = 0, open;

    if (in->not_after > in->not_before)
        life = (int64_t)in->not_after - (int64_t)in->not_before;
    *window = percent(life, pct);
    /* Spread a fleet's renewals over the first 10% of the window, seeded per certificate and
     * per host: a certificate of the same name on many hosts must not renew in lockstep. */
    open = (int64_t)in->not_after - *window - jitter(in->jitter_seed, in->host_seed, *window / 10);
    if (in->max_age_s > 0 && (int64_t)in->not_before + in->max_age_s < open)
        open = (int64_t)in->not_before + in->max_age_s;
    if (open < (int64_t)in->not_before)
        open = in->not_before;
    return (time_t)open;
}

static enum eca_renew_reason
reason(const struct eca_renew_in *in, time_t renew_at)
{
    if (!in->present)
        return ECA_RENEW_MISSING;
    if (!in->matches)
        return ECA_RENEW_MISMATCH;
    if (in->now < in->not_before)
        return ECA_RENEW_NOT_YET_VALID;
    if (in->now >= in->not_after)
        return ECA_RENEW_EXPIRED;
    if (in->revoked)
        return ECA_RENEW_REVOKED;
    if (in->forced)
        return ECA_RENEW_FORCED;
    if (in->max_age_s > 0 && (int64_t)in->now - (int64_t)in->not_before >= in->max_age_s)
        return ECA_RENEW_MAX_AGE;
    if (in->now >= renew_at)
        return ECA_RENEW_THRESHOLD;
    return ECA_RENEW_NONE;
}

void
eca_renew_decide(const struct eca_renew_in *in, struct eca_renew_out *out)
{
    int64_t window = 0,
            interval = in->check_interval_s > 0 ? in->check_interval_s : DEFAULT_INTERVAL_S;
    time_t next;

    out->renew_at = in->present ? window_open(in, &window) : in->now;
    out->reason = reason(in, out->renew_at);
    if (out->reason != ECA_RENEW_NONE) {
        out->next_check = in->now; /* act now */
        return;
    }
    /* Short-lived certificates: sleep at most a quarter of the window, so a failed or late
     * check still leaves several chances to renew before expiry; the renewal itself comes at
     * renew_at whatever the interval, so the floor delays nothing. */
    if (window / CHECKS_PER_WINDOW < interval) {
        int64_t least = interval < ECA_RENEW_FLOOR_S ? interval : ECA_RENEW_FLOOR_S;

        interval = window / CHECKS_PER_WINDOW > least ? window / CHECKS_PER_WINDOW : least;
    }
    if (interval < 1)
        interval = 1;
    next = (time_t)((int64_t)in->now + interval);
    if (out->renew_at < next)
        next = out->renew_at;
    if (next < in->now + 1)
        next = in->now + 1;
    out->next_check = next;
}

long
eca_renew_retry_cap(long cap_s, int present, time_t not_before, time_t not_after, time_t now)
{
    int64_t left = (int64_t)not_after - (int64_t)now, life = (int64_t)not_after - not_before, lim;

    if (!present || life <= 0)
        return cap_s;
    /* Before expiry a retry must leave more chances; after it, the lifetime says how urgent a
     * certificate is: a 10-minute one is retried within minutes, not after the hour cap. */
    lim = left > 0 ? left / 4 : life / 4;
    if (lim < ECA_RENEW_FLOOR_S)
        lim = ECA_RENEW_FLOOR_S;
    return lim < cap_s ? (long)lim : cap_s;
}

long
eca_renew_per_window(long lifetime_s, int threshold_pct, long window_s)
{
    int64_t life = lifetime_s, early, period;

    if (life <= 0 || window_s <= 0)
        return 0;
    /* The earliest renewal: the threshold plus the largest jitter (a tenth of the window). */
    early = percent(life, threshold(threshold_pct));
    early += early / 10;
    period = life - early;
    if (period < 1)
        period = 1;
    if (period >= window_s)
        return 0;
    return (long)((window_s + period - 1) / period);
}

long
eca_renew_backoff(unsigned failures, long base_s, long cap_s, unsigned jitter_seed)
{
    int64_t d, cut;
    unsigned i;

    if (failures == 0)
        return 0;
    if (base_s < 1)
        base_s = 1;
    if (cap_s < base_s)
        cap_s = base_s;
    d = base_s;
    for (i = 1; i < failures && d < cap_s; i++)
        d *= 2;
    if (d > cap_s)
        d = cap_s;
    /* Up to 25% shorter, never longer, so the cap holds; salted by the attempt number so
     * consecutive delays do not move in lockstep across a fleet. */
    cut = jitter(jitter_seed, 0x6261636b6f6666ULL + failures, d / 4);
    d -= cut;
    return (long)(d < 1 ? 1 : d);
}
