/* SPDX-License-Identifier: MIT */
/* Ask a TLS server which certificate it serves: the check that a reload took effect. */
#include "eca_tlsprobe.h"

#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "eca_hostport.h"
#include "eca_tlsprobe_os.h"
#include "eca_x509.h"

/* SNI carries host names only (RFC 6066 §3): never an address literal. */
static int
is_ip_literal(const char *h)
{
    return strchr(h, ':') != NULL || strspn(h, "0123456789.") == strlen(h);
}

static enum eca_rc
handshake(int fd, const char *sni, char *serial, size_t len, struct eca_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    X509 *peer = NULL;
    enum eca_rc rc = ECA_OK;

    if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "verify: TLS setup");
        goto out;
    }
    /* Identity only, no trust (see eca_tlsprobe.h): the probe sends nothing secret (no client
     * certificate, no request) and only compares the served serial with the one just
     * installed. Verifying would reject exactly what we must observe: a service still serving
     * an expired or self-signed certificate, or one for a name other than the probe address.
     * A forged answer can at worst make the reload look failed (or done), never leak a key. */
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    if (sni && SSL_set_tlsext_host_name(ssl, sni) != 1) {
        rc = eca_err_ssl(err, ECA_ECRYPTO, "verify: SNI '%s'", sni);
        goto out;
    }
    if (SSL_connect(ssl) != 1) {
        rc = eca_err_ssl(err, ECA_ETLS, "verify: TLS handshake failed");
        goto out;
    }
    if ((peer = SSL_get1_peer_certificate(ssl)) == NULL) {
        rc = eca_err_set(err, ECA_ETLS, "verify: the server sent no certificate");
        goto out;
    }
    eca_x509_serial_hex(peer, serial, len);
    SSL_shutdown(ssl);
out:
    X509_free(peer);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}

enum eca_rc
eca_tlsprobe_serial(const char *hostport, const char *sni, int timeout_ms, char *serial, size_t len,
                    struct eca_err *err)
{
    char host[256], port[16];
    enum eca_rc rc;
    int fd;

    rc = eca_hostport_split(hostport, host, sizeof host, port, sizeof port, err);
    if (rc == ECA_OK && host[0] == '\0')
        rc = eca_err_set(err, ECA_EINVAL, "'%s': expected host:port", hostport);
    if (rc != ECA_OK) {
        eca_err_prefix(err, "verify: ");
        return rc;
    }
    if (sni == NULL && !is_ip_literal(host))
        sni = host;
    if ((fd = eca_tlsprobe_os_connect(host, port, timeout_ms, err)) < 0)
        return err ? err->rc : ECA_ENET;
    rc = handshake(fd, sni, serial, len, err);
    eca_tlsprobe_os_close(fd);
    if (rc != ECA_OK)
        eca_err_prefix(err, "%s: ", hostport);
    return rc;
}
