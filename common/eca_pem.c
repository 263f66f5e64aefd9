/* SPDX-License-Identifier: MIT */
/* OpenSSL BIO and PEM glue shared by the key, certificate, CRL and PKCS#12 modules. */
#include "eca_pem.h"

#include <stdio.h>

int
eca_pem_no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

enum eca_rc
eca_pem_bio_append(BIO *bio, struct eca_buf *out, struct eca_err *err)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);

    return n > 0 ? eca_buf_append(out, p, (size_t)n, err) : ECA_OK;
}

void
eca_pem_name_line(const X509_NAME *name, unsigned long flags, char *out, size_t outlen)
{
    BIO *bio;
    char *p = NULL;
    long n;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if ((bio = BIO_new(BIO_s_mem())) == NULL)
        return;
    if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
        n = BIO_get_mem_data(bio, &p);
        snprintf(out, outlen, "%.*s", (int)n, p ? p : "");
    }
    BIO_free(bio);
}
