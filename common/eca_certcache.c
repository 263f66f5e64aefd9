/* SPDX-License-Identifier: MIT */
/* The facts of one installed certificate and key, kept while their files keep their identity. */
#include "eca_certcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eca_clock.h"
#include "eca_fs.h"
#include "eca_strpack.h"

/* The strings of a certstate, in this order, in one allocation ("\0"-separated). */
#define NSTR 6

struct eca_certcache {
    struct eca_fs_id cert_id, key_id;
    uint64_t names_hash;
    int valid; /* the facts below are those of cert_id and key_id */
    int present, matches, names_match, crl_dp;
    time_t not_before, not_after;
    char *strs; /* serial, subject, issuer, dns, aki, problem */
    unsigned long reads;
};

struct eca_certcache *
eca_certcache_new(void)
{
    return calloc(1, sizeof(struct eca_certcache));
}

void
eca_certcache_forget(struct eca_certcache *c)
{
    if (c == NULL)
        return;
    free(c->strs);
    c->strs = NULL;
    c->valid = 0;
}

void
eca_certcache_free(struct eca_certcache *c)
{
    eca_certcache_forget(c);
    free(c);
}

unsigned long
eca_certcache_reads(const struct eca_certcache *c)
{
    return c ? c->reads : 0;
}

/* FNV-1a over the names (and their boundaries): a change of configuration is a miss. */
static uint64_t
names_hash(const char *const *names, size_t n)
{
    uint64_t h = names ? 14695981039346656037ULL : 0;

    for (size_t i = 0; names && i < n; i++) {
        for (const char *p = names[i] ? names[i] : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL;
    }
    return h;
}

/* The string fields of st, in the order of c->strs. */
static void
fields(struct eca_certstate *st, char *f[NSTR], size_t len[NSTR])
{
    f[0] = st->serial;
    len[0] = sizeof st->serial;
    f[1] = st->subject;
    len[1] = sizeof st->subject;
    f[2] = st->issuer;
    len[2] = sizeof st->issuer;
    f[3] = st->dns;
    len[3] = sizeof st->dns;
    f[4] = st->aki;
    len[4] = sizeof st->aki;
    f[5] = st->problem;
    len[5] = sizeof st->problem;
}

/* Keep the facts of st (read with these identities); nothing is kept when memory is short. */
static void
keep(struct eca_certcache *c, struct eca_certstate *st, const struct eca_fs_id *cid,
     const struct eca_fs_id *kid, uint64_t nh)
{
    char *f[NSTR];
    size_t len[NSTR];

    eca_certcache_forget(c);
    fields(st, f, len);
    if ((c->strs = malloc(eca_strpack_size(f, len, NSTR))) == NULL)
        return;
    eca_strpack_put(c->strs, f, len, NSTR);
    c->cert_id = *cid;
    c->key_id = *kid;
    c->names_hash = nh;
    c->present = st->present;
    c->matches = st->matches;
    c->names_match = st->names_match;
    c->crl_dp = st->crl_dp;
    c->not_before = st->not_before;
    c->not_after = st->not_after;
    c->valid = 1;
}

static void
give(const struct eca_certcache *c, struct eca_certstate *out)
{
    char *f[NSTR];
    size_t len[NSTR];

    memset(out, 0, sizeof *out);
    fields(out, f, len);
    eca_strpack_get(c->strs, f, len, NSTR);
    out->present = c->present;
    out->matches = c->matches;
    out->names_match = c->names_match;
    out->crl_dp = c->crl_dp;
    out->not_before = c->not_before;
    out->not_after = c->not_after;
}

enum eca_rc
eca_certcache_read(struct eca_certcache *c, const char *cert_path, const char *key_path,
                   const char *const *names, size_t nnames, struct eca_certstate *out,
                   struct eca_err *err)
{
    struct eca_fs_id cid, kid;
    uint64_t nh = names_hash(names, nnames);
    int known;
    time_t now;
    enum eca_rc rc;

    if (c == NULL)
        return eca_certstate_read_names(cert_path, key_path, names, nnames, out, err);
    /* The identities are taken before the read: a file replaced in between is read again at
     * the next call (its identity then differs), never kept stale. */
    known = eca_fs_identity(cert_path, &cid, NULL) == ECA_OK &&
            eca_fs_identity(key_path, &kid, NULL) == ECA_OK;
    /* Without names the caller does not ask about them: any entry will do. */
    if (known && c->valid && (names == NULL || nh == c->names_hash) &&
        eca_fs_id_equal(&cid, &c->cert_id) && eca_fs_id_equal(&kid, &c->key_id)) {
        give(c, out);
        return ECA_OK;
    }
    eca_certcache_forget(c);
    c->reads++;
    rc = eca_certstate_read_names(cert_path, key_path, names, nnames, out, err);
    now = eca_clock_now();
    if (rc == ECA_OK && known && out->present && cid.changed < now - ECA_CERTCACHE_SETTLE_S &&
        kid.changed < now - ECA_CERTCACHE_SETTLE_S)
        keep(c, out, &cid, &kid, nh);
    return rc;
}
