/* SPDX-License-Identifier: MIT */
/* OpenSSL BIO and PEM glue shared by the key, certificate, CRL and PKCS#12 modules. */
#ifndef ECA_PEM_H
#define ECA_PEM_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "eca_buf.h"
#include "eca_err.h"

/*
 * pem_password_cb that refuses: an encrypted PEM block fails to load instead of prompting
 * on a terminal that a daemon does not have.
 */
int eca_pem_no_password(char *buf, int size, int rwflag, void *u);

/* Append what a memory BIO holds to out (nothing for an empty BIO). */
enum eca_rc eca_pem_bio_append(BIO *bio, struct eca_buf *out, struct eca_err *err);

/* One line for a distinguished name (X509_NAME_print_ex with flags); "" on any failure. */
void eca_pem_name_line(const X509_NAME *name, unsigned long flags, char *out, size_t outlen);

#endif
