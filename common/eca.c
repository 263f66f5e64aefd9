/* SPDX-License-Identifier: MIT */
/* Process-wide set-up and tear-down of libeca: libcurl and OpenSSL, once, from main. */
#include "eca.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

enum eca_rc
eca_init(struct eca_err *err)
{
    CURLcode cc;

    /* OpenSSL first: error strings make eca_err_ssl() messages readable. */
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_ADD_ALL_CIPHERS |
                                OPENSSL_INIT_ADD_ALL_DIGESTS | OPENSSL_INIT_LOAD_CONFIG,
                            NULL) != 1)
        return eca_err_ssl(err, ECA_ECRYPTO, "OpenSSL crypto initialisation failed");
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL) != 1)
        return eca_err_ssl(err, ECA_ETLS, "OpenSSL TLS initialisation failed");
    /* Not thread-safe by libcurl's contract: hence once, from main, before any thread. */
    if ((cc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
        return eca_err_set(err, ECA_ENET, "libcurl initialisation failed: %s",
                           curl_easy_strerror(cc));
    return ECA_OK;
}

void
eca_fini(void)
{
    curl_global_cleanup();
    /* OpenSSL 3 cleans up at exit by itself (OPENSSL_cleanup is implicit). */
}
