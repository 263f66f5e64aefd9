/* SPDX-License-Identifier: MIT */
/* dns-01 challenge responder (RFC 8555 §8.4) that runs a hook to set and remove TXT records. */
#ifndef ACME_DNS01_H
#define ACME_DNS01_H

#include "acme_client.h"
#include "eca_buf.h"
#include "eca_err.h"

#define ACME_DNS01_DEFAULT_TIMEOUT 120 /* seconds a hook may run */

/*
 * The TXT record that answers a dns-01 challenge for domain (the authorization's identifier,
 * "*." dropped): name "_acme-challenge.<domain>." (fully qualified, as lego's exec provider
 * passes it) and value base64url(SHA-256(key_authz)) without padding. Appended to name/value.
 */
enum eca_rc acme_dns01_record(const char *domain, const char *key_authz, struct eca_buf *name,
                              struct eca_buf *value, struct eca_err *err);

struct acme_dns01_opts {
    const char *hook;         /* command line, split like reload commands (eca_hook_split) */
    long propagation_s;       /* extra wait after the hook's "present" succeeded; 0: none */
    int timeout_s;            /* per hook run; <= 0: ACME_DNS01_DEFAULT_TIMEOUT */
    const char *cert;         /* certificate name for the log */
    int (*should_stop)(void); /* cuts the propagation wait short; NULL: never */
};

/*
 * A responder that runs `<hook> present <name> <value>` to publish (exit 0: the record is in
 * place; then waits propagation_s) and `<hook> cleanup <name> <value>` to unpublish, with
 * ECA_DNS01_NAME, ECA_DNS01_VALUE and ECA_DNS01_DOMAIN in the environment (certbot-style
 * scripts). A hook that does not split is ECA_ECONF naming dns01_hook. Free with
 * acme_dns01_free(), which cleans up whatever is still published.
 */
enum eca_rc acme_dns01_new(const struct acme_dns01_opts *o, struct acme_dns_responder **out,
                           struct eca_err *err);

/* Clean up what is still published and free. NULL: no-op. */
void acme_dns01_free(struct acme_dns_responder *r);

#endif
