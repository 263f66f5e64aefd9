/* SPDX-License-Identifier: MIT */
/* The "check" step: the installed certificate and key, as facts for the renewal decision. */
#ifndef ECA_CERTSTATE_H
#define ECA_CERTSTATE_H

#include <stddef.h>
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
    /* eca_certstate_read_names(): the DNS and IP subjectAltNames are exactly the names given
     * (also 1 when none were given or the certificate does not parse). */
    int names_match;
    char aki[129]; /* authorityKeyIdentifier keyIdentifier, lower-case hex; "" when none */
    int crl_dp;    /* the leaf names an http(s) CRL distribution point: worth a CRL check */
};

/*
 * Read the installed certificate (leaf first) and key. Missing or unparsable files are
 * not errors: present=0 and problem says which file and why. Only a failure to examine
 * (out of memory) is returned as an error. The certificate's facts are filled whenever it
 * parses, even when the key is missing; problem names the first file that is not usable.
 */
enum eca_rc eca_certstate_read(const char *cert_path, const char *key_path,
                               struct eca_certstate *out, struct eca_err *err);

/*
 * eca_certstate_read() that also compares the certificate's DNS and IP subjectAltNames with
 * names[0..nnames) (out->names_match), so a caller needs no second read of the file for it.
 */
enum eca_rc eca_certstate_read_names(const char *cert_path, const char *key_path,
                                     const char *const *names, size_t nnames,
                                     struct eca_certstate *out, struct eca_err *err);

#endif
