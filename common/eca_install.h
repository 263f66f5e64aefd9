/* SPDX-License-Identifier: MIT */
/* Install a cert/key set atomically; a journal rolls an interrupted install forward. */
#ifndef ECA_INSTALL_H
#define ECA_INSTALL_H

#include <stddef.h>

#include "eca_err.h"
#include "eca_fs.h"

/* One file of the set. The caller lists keys before certificates: that is the rename order. */
struct eca_install_file {
    const char *path;
    const void *data;
    size_t len;
    unsigned mode; /* ECA_FS_MODE_PRIVATE for keys */
};

/*
 * Install the set: stage each file as "<path>.new" (a stale one is removed first; created
 * with its mode, fsynced), sync the directories, write the journal `journal_path` (the target
 * paths, one per line, 0600, atomically), then per file in order: copy the existing target to
 * "<path>.prev" (same mode) and rename the staged file into place; finally remove the journal.
 * A journal left by an earlier interrupted install is rolled forward first. A crash at any
 * point leaves either the old set or (after eca_install_recover) the new one. On failure after
 * the journal exists, the journal is kept and err says so; recovery finishes the job.
 */
enum eca_rc eca_install_files(const char *journal_path, const struct eca_install_file *files,
                              size_t n, struct eca_err *err);

/*
 * Finish an interrupted install: when the journal exists, every listed path whose
 * "<path>.new" is still there is rolled forward (old target copied to .prev, then renamed),
 * and the journal is removed; *rolled = 1 if anything was listed. Without a journal nothing
 * is done (*rolled = 0, ECA_OK): the journal is written only after all staged files are
 * durable, so before it the old set is intact, and stale .new files are replaced by the next
 * install.
 */
enum eca_rc eca_install_recover(const char *journal_path, int *rolled, struct eca_err *err);

/* Leftovers younger than this may belong to a writer at work (another run, `status`). */
#define ECA_INSTALL_SWEEP_AGE_S 60

/*
 * Sweep what a kill -9 leaves of the set paths[0..n) (NULL entries skipped): the temporary
 * files of each target and of its .prev copy, and, unless the journal exists (then they are
 * the set recovery installs), the staged "<path>.new" files; only those last modified at
 * least min_age_s ago. *removed is increased by their number. Best effort: ECA_OK.
 */
enum eca_rc eca_install_sweep(const char *journal_path, const char *const *paths, size_t n,
                              long min_age_s, int *removed, struct eca_err *err);

/* eca_install_sweep() listing each directory once per memo (eca_fs_sweep; NULL: none). */
enum eca_rc eca_install_sweep_memo(struct eca_fs_sweep *memo, const char *journal_path,
                                   const char *const *paths, size_t n, long min_age_s, int *removed,
                                   struct eca_err *err);

#endif
