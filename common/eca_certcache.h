/* SPDX-License-Identifier: MIT */
/*
 * The facts of one installed certificate and key kept between passes, so that files whose
 * identity (eca_fs_identity) is unchanged are not read and parsed again.
 */
#ifndef ECA_CERTCACHE_H
#define ECA_CERTCACHE_H

#include <stddef.h>

#include "eca_certstate.h"
#include "eca_err.h"

/*
 * One certificate's cache: the identities of its two files when they were last read and the
 * facts read then (no certificate or key objects: a few hundred bytes). Not shared: one per
 * managed certificate, used by one thread at a time.
 */
struct eca_certcache;

/* A new, empty cache; NULL when out of memory. Free with eca_certcache_free() (NULL: no-op). */
struct eca_certcache *eca_certcache_new(void);
void eca_certcache_free(struct eca_certcache *c);

/*
 * eca_certstate_read_names() through the cache (c NULL: no cache). The files are read when the
 * identity of either changed since the last read, when names (not NULL) differ from those of
 * the last read (NULL: out->names_match is not asked for), after
 * eca_certcache_forget(), and while a file is younger than ECA_CERTCACHE_SETTLE_S (a rewrite
 * within the file system's timestamp granularity could keep its identity); otherwise out is
 * the facts of the last read. A missing or unusable file is never cached.
 */
enum eca_rc eca_certcache_read(struct eca_certcache *c, const char *cert_path, const char *key_path,
                               const char *const *names, size_t nnames, struct eca_certstate *out,
                               struct eca_err *err);

/* Seconds a file must be older than its read for its identity to be trusted (FAT: 2 s). */
#define ECA_CERTCACHE_SETTLE_S 2

/* Drop what c holds: the next read reads the files (after an install by the agent itself). */
void eca_certcache_forget(struct eca_certcache *c);

/* How many times c has read the files (tests and benchmarks). */
unsigned long eca_certcache_reads(const struct eca_certcache *c);

#endif
