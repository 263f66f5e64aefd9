/* SPDX-License-Identifier: MIT */
/* The "check" step: the installed certificate and key, as facts for the renewal decision. */
#ifndef ECA_CERTSTATE_H
#define ECA_CERTSTATE_H

#include <time.h>

#include "eca_err.h"

struct eca_certstate {
    int present; /* both files exist and parse */
    int matches; /* the key is the certificate's */
    time_t not_before;
    time_t not_after;
    char serial[130]; /* lower-case hex */
    char subject[512];
    char issuer[512];
    char dns[1024];                /* DNS SANs, comma-separated */
    char problem[ECA_ERR_MSG_MAX]; /* why present/matches is 0 ("key file missing", ...) */
};

/*
 * Read the installed certificate (leaf first) and key. Missing or unparsable files are
 * not errors: present=0 and problem says which file and why. Only a failure to examine
 * (out of memory) is returned as an error. The certificate's facts are filled whenever it
 * parses, even when the key is missing; problem names the first file that is not usable.
 */
enum eca_rc eca_certstate_read(const char *cert_path, const char *key_path,
                               struct eca_certstate *out, struct eca_err *err);

#endif
