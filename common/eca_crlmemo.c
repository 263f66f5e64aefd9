/* SPDX-License-Identifier: MIT */
/* One CRL download shared by the certificates naming its URL, for a bounded time. */
#include "eca_crlmemo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct eca_crlmemo_ref {
    char *url;
    unsigned char *der;
    size_t len;
    struct eca_crl *crl;
    time_t fetched;
    time_t next_update; /* 0: the CRL has none */
    X509 *signer;       /* whose key verified der; NULL: none known */
    int refs;           /* checks using it now: an entry evicted meanwhile is freed by the last */
    int gone;           /* no longer in the table */
};

/* A URL one thread is downloading: the others wait for its put, and share its failure. */
struct flight {
    char *url;
    struct flight *next;
    int waiters; /* checks waiting for it: the last one out of an ended flight frees it */
    int ended;   /* put: out of the list */
    int failed;  /* ...without a CRL: why is in err */
    struct eca_err err;
};

struct eca_crlmemo {
    pthread_mutex_t mu;
    pthread_cond_t landed; /* a flight ended */
    long refresh_s;
    struct eca_crlmemo_ref *e[ECA_CRLMEMO_MAX_ENTRIES];
    struct flight *flights;
};

static void
entry_free(struct eca_crlmemo_ref *e)
{
    if (e == NULL)
        return;
    eca_crl_free(e->crl);
    X509_free(e->signer);
    free(e->der);
    free(e->url);
    free(e);
}

/* Out of the table: freed now, or by the last check still using it. */
static void
entry_drop(struct eca_crlmemo_ref *e)
{
    if (e->refs > 0)
        e->gone = 1;
    else
        entry_free(e);
}

static void
flight_free(struct flight *f)
{
    free(f->url);
    free(f);
}

struct eca_crlmemo *
eca_crlmemo_new(long refresh_s)
{
    struct eca_crlmemo *m;

    if (refresh_s <= 0 || (m = calloc(1, sizeof *m)) == NULL)
        return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    if (pthread_cond_init(&m->landed, NULL) != 0) {
        pthread_mutex_destroy(&m->mu);
        free(m);
        return NULL;
    }
    m->refresh_s = refresh_s;
    return m;
}

void
eca_crlmemo_free(struct eca_crlmemo *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < ECA_CRLMEMO_MAX_ENTRIES; i++)
        entry_free(m->e[i]);
    while (m->flights) {
        struct flight *f = m->flights;

        m->flights = f->next;
        flight_free(f);
    }
    pthread_cond_destroy(&m->landed);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void
eca_crlmemo_clear(struct eca_crlmemo *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < ECA_CRLMEMO_MAX_ENTRIES; i++) {
        if (m->e[i] != NULL)
            entry_drop(m->e[i]);
        m->e[i] = NULL;
    }
    pthread_mutex_unlock(&m->mu);
}

static size_t
find(const struct eca_crlmemo *m, const char *url)
{
    for (size_t i = 0; i < ECA_CRLMEMO_MAX_ENTRIES; i++)
        if (m->e[i] && strcmp(m->e[i]->url, url) == 0)
            return i;
    return ECA_CRLMEMO_MAX_ENTRIES;
}

static struct flight **
flight_of(struct eca_crlmemo *m, const char *url)
{
    struct flight **p = &m->flights;

    while (*p && strcmp((*p)->url, url) != 0)
        p = &(*p)->next;
    return p;
}

/* Within the window: the refresh period either way (a clock stepped back must not stretch it
 * without bound), and never past the CRL's own nextUpdate. */
static int
usable(const struct eca_crlmemo *m, const struct eca_crlmemo_ref *e, time_t now)
{
    long long age = (long long)now - (long long)e->fetched;

    return age < m->refresh_s && -age < m->refresh_s &&
           (e->next_update == 0 || now < e->next_update);
}

enum eca_crlmemo_got
eca_crlmemo_take(struct eca_crlmemo *m, const char *url, time_t now, struct eca_crlmemo_ref **ref,
                 struct eca_err *err)
{
    struct flight *f;
    size_t i;

    *ref = NULL;
    if (m == NULL || url == NULL)
        return ECA_CRLMEMO_DOWNLOAD;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        if ((i = find(m, url)) < ECA_CRLMEMO_MAX_ENTRIES && usable(m, m->e[i], now)) {
            m->e[i]->refs++;
            *ref = m->e[i];
            pthread_mutex_unlock(&m->mu);
            return ECA_CRLMEMO_HIT;
        }
        if ((f = *flight_of(m, url)) == NULL)
            break;
        f->waiters++;
        while (!f->ended)
            pthread_cond_wait(&m->landed, &m->mu);
        f->waiters--;
        if (f->failed) {
            /* Shared, not retried in turn: against a CRL server that hangs, checks waiting
             * for one download must not each wait for another after it. */
            if (err != NULL)
                *err = f->err;
            if (f->waiters == 0)
                flight_free(f);
            pthread_mutex_unlock(&m->mu);
            return ECA_CRLMEMO_FAILED;
        }
        if (f->waiters == 0)
            flight_free(f);
    }
    /* Ours to download. Without memory for the flight, others may download it too. */
    if ((f = calloc(1, sizeof *f)) != NULL && (f->url = strdup(url)) != NULL) {
        f->next = m->flights;
        m->flights = f;
    } else {
        free(f);
    }
    pthread_mutex_unlock(&m->mu);
    return ECA_CRLMEMO_DOWNLOAD;
}

/* A new entry for url (parsed outside the lock), or NULL when it cannot be had. */
static struct eca_crlmemo_ref *
entry_new(const char *url, const void *der, size_t len, time_t now, X509 *signer)
{
    struct eca_crlmemo_ref *e = calloc(1, sizeof *e);

    if (e == NULL || (e->url = strdup(url)) == NULL || (e->der = malloc(len)) == NULL ||
        eca_crl_parse(der, len, &e->crl, NULL) != ECA_OK) {
        entry_free(e);
        return NULL;
    }
    memcpy(e->der, der, len);
    /* OpenSSL sorts a CRL's entries at its first lookup: done here, before checks on other
     * threads share it read-only. */
    (void)eca_crl_is_serial_revoked(e->crl, "00");
    e->len = len;
    e->fetched = now;
    e->next_update = eca_crl_next_update(e->crl);
    if (signer != NULL && X509_up_ref(signer) == 1)
        e->signer = signer;
    return e;
}

void
eca_crlmemo_put(struct eca_crlmemo *m, const char *url, const void *der, size_t len, time_t now,
                X509 *signer, const struct eca_err *failure)
{
    struct eca_crlmemo_ref *e = NULL;
    struct flight **fp, *f;
    size_t i, oldest = 0;

    if (m == NULL || url == NULL)
        return;
    if (der != NULL && len > 0)
        e = entry_new(url, der, len, now, signer);
    pthread_mutex_lock(&m->mu);
    if (e != NULL) {
        /* The same URL's older download goes; otherwise a free slot, else the oldest. */
        if ((i = find(m, url)) == ECA_CRLMEMO_MAX_ENTRIES) {
            for (i = 0; i < ECA_CRLMEMO_MAX_ENTRIES && m->e[i]; i++)
                if (m->e[i]->fetched < m->e[oldest]->fetched)
                    oldest = i;
            if (i == ECA_CRLMEMO_MAX_ENTRIES)
                i = oldest;
        }
        if (m->e[i])
            entry_drop(m->e[i]);
        m->e[i] = e;
    }
    if ((f = *(fp = flight_of(m, url))) != NULL) {
        *fp = f->next;
        f->ended = 1;
        /* A download that failed is the waiters' failure too; one that did not verify (or
         * could not be kept) is not: they try for themselves. */
        if (der == NULL && failure != NULL) {
            f->failed = 1;
            f->err = *failure;
            if (f->err.rc == ECA_OK)
                f->err.rc = ECA_ENET;
        }
        if (f->waiters == 0)
            flight_free(f);
    }
    pthread_cond_broadcast(&m->landed);
    pthread_mutex_unlock(&m->mu);
}

void
eca_crlmemo_release(struct eca_crlmemo *m, struct eca_crlmemo_ref *ref)
{
    if (m == NULL || ref == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    if (--ref->refs == 0 && ref->gone)
        entry_free(ref);
    pthread_mutex_unlock(&m->mu);
}

const struct eca_crl *
eca_crlmemo_crl(const struct eca_crlmemo_ref *ref)
{
    return ref->crl;
}

const void *
eca_crlmemo_der(const struct eca_crlmemo_ref *ref, size_t *len)
{
    *len = ref->len;
    return ref->der;
}

time_t
eca_crlmemo_fetched(const struct eca_crlmemo_ref *ref)
{
    return ref->fetched;
}

X509 *
eca_crlmemo_signer(const struct eca_crlmemo_ref *ref)
{
    return ref->signer;
}
