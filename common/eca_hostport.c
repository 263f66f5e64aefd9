/* SPDX-License-Identifier: MIT */
/* The one "host:port" / "[v6]:port" splitter, for listen and connect addresses alike. */
#include "eca_hostport.h"

#include <string.h>

enum eca_rc
eca_hostport_split(const char *s, char *host, size_t hostlen, char *port, size_t portlen,
                   struct eca_err *err)
{
    const char *h = s, *colon;
    size_t n, plen;
    long v = 0;

    if (s == NULL)
        return eca_err_set(err, ECA_EINVAL, "no address: expected host:port or [v6]:port");
    if (s[0] == '[') {
        const char *close_br = strchr(s, ']');

        if (close_br == NULL || close_br[1] != ':' || close_br == s + 1)
            goto bad;
        h = s + 1;
        n = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        if ((colon = strchr(s, ':')) == NULL || strchr(colon + 1, ':') != NULL)
            goto bad; /* none, or an unbracketed IPv6 address */
        n = (size_t)(colon - s);
    }
    plen = strlen(colon + 1);
    if (n >= hostlen || plen == 0 || plen > 5 || plen >= portlen ||
        strspn(colon + 1, "0123456789") != plen)
        goto bad;
    for (size_t i = 0; i < plen; i++)
        v = v * 10 + (colon[1 + i] - '0');
    if (v > 65535)
        goto bad;
    memcpy(host, h, n);
    host[n] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return ECA_OK;
bad:
    return eca_err_set(err, ECA_EINVAL, "'%s': expected host:port or [v6]:port", s);
}
