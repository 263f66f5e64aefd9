/* SPDX-License-Identifier: MIT */
/* EST /csrattrs, pure: parse what the server asks the CSR to hold and merge it with the
 * configuration (RFC 7030 §4.5, RFC 8951 §4). */
#include "est_csrattrs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "eca_b64.h"
#include "eca_buf.h"
#include "est_cacerts.h"

#define CSRATTRS_MAX ((size_t)64 << 10)

/* Signature algorithms a server may name (RFC 7030 §4.5.2 example: ecdsa-with-SHA384). */
static const struct {
    int nid;
    enum est_key_family family;
    const char *md;
} sigalgs[] = {
    {NID_ecdsa_with_SHA256, EST_KEY_EC, "SHA256"},
    {NID_ecdsa_with_SHA384, EST_KEY_EC, "SHA384"},
    {NID_ecdsa_with_SHA512, EST_KEY_EC, "SHA512"},
    {NID_sha256WithRSAEncryption, EST_KEY_RSA, "SHA256"},
    {NID_sha384WithRSAEncryption, EST_KEY_RSA, "SHA384"},
    {NID_sha512WithRSAEncryption, EST_KEY_RSA, "SHA512"},
};

/* Bare curve OIDs (RFC 8951 §4; libest's default /csrattrs names secp384r1). */
static const int curves[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};

/* Bare hash OIDs: the digest to sign the CSR with, whatever the key (libest: sha384). */
static const struct {
    int nid;
    const char *md;
} hashes[] = {{NID_sha256, "SHA256"}, {NID_sha384, "SHA384"}, {NID_sha512, "SHA512"}};

/* Requests OpenSSL has no name for, so the log can still name them. */
static const struct {
    const char *oid, *name;
} names[] = {{"1.3.6.1.1.1.1.22", "macAddress"}};

static int
is_curve(int nid)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (curves[i] == nid)
            return 1;
    return 0;
}

static int
is_hash(int nid)
{
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
        if (hashes[i].nid == nid)
            return 1;
    return 0;
}

/* A readable name for a dotted OID: ours, OpenSSL's long name, or the OID itself. */
static const char *
oid_name(const char *dotted)
{
    int nid = OBJ_txt2nid(dotted);

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].oid, dotted) == 0)
            return names[i].name;
    return nid != NID_undef ? OBJ_nid2ln(nid) : dotted;
}

static int
is_sigalg(int nid)
{
    for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
        if (sigalgs[i].nid == nid)
            return 1;
    return 0;
}

static void
add_oid(char (*list)[EST_OID_MAX], size_t *n, const ASN1_OBJECT *obj)
{
    if (*n >= EST_CSRATTRS_MAX || obj == NULL)
        return;
    if (OBJ_obj2txt(list[*n], EST_OID_MAX, obj, 1) > 0)
        (*n)++;
}

/* Keep a DER value in the pool (dropped when list or pool is full). */
static void
keep_val(struct est_csrattrs *out, struct est_csrattrs_val *list, size_t *n, const ASN1_OBJECT *obj,
         const unsigned char *der, size_t len)
{
    if (*n >= EST_CSRATTRS_MAX || len > sizeof out->pool - out->pool_len ||
        OBJ_obj2txt(list[*n].oid, EST_OID_MAX, obj, 1) <= 0)
        return;
    memcpy(out->pool + out->pool_len, der, len);
    list[*n].off = out->pool_len;
    list[*n].len = len;
    out->pool_len += len;
    (*n)++;
}

/* A bare OID: a key algorithm, a signature algorithm, or something we only report. */
static void
bare_oid(const ASN1_OBJECT *obj, struct est_csrattrs *out)
{
    int nid = OBJ_obj2nid(obj);

    add_oid(out->oids, &out->noids, obj);
    if (nid == NID_pkcs9_challengePassword)
        out->challenge_password = 1;
    else if (nid == NID_X9_62_id_ecPublicKey)
        out->key_family = EST_KEY_EC;
    else if (nid == NID_rsaEncryption)
        out->key_family = EST_KEY_RSA;
    else if (is_curve(nid)) {
        out->key_family = EST_KEY_EC;
        snprintf(out->ec_curve, sizeof out->ec_curve, "%s", OBJ_nid2sn(nid));
    }
    for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++) {
        if (sigalgs[i].nid != nid)
            continue;
        out->sig_family = sigalgs[i].family;
        snprintf(out->sig_md, sizeof out->sig_md, "%s", sigalgs[i].md);
        snprintf(out->sig_name, sizeof out->sig_name, "%s", OBJ_nid2sn(nid));
    }
    /* A bare hash fits any key: no family, so a signature algorithm named too keeps its own. */
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        if (hashes[i].nid != nid || out->sig_family != EST_KEY_ANY)
            continue;
        snprintf(out->sig_md, sizeof out->sig_md, "%s", hashes[i].md);
        snprintf(out->sig_name, sizeof out->sig_name, "%s", OBJ_nid2sn(nid));
    }
}

/* An ASN1_TYPE holding a constructed value: its full encoding as a SEQUENCE/SET of ANY. */
static STACK_OF(ASN1_TYPE) * inner(const ASN1_TYPE *t, int set)
{
    const unsigned char *p;
    long n;

    if (t->type != (set ? V_ASN1_SET : V_ASN1_SEQUENCE))
        return NULL;
    p = ASN1_STRING_get0_data(t->value.sequence);
    n = ASN1_STRING_length(t->value.sequence);
    return set ? d2i_ASN1_SET_ANY(NULL, &p, n) : d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
}

/* One Extension (RFC 5280 §4.1) inside extensionRequest: its type, and its DER when valid. */
static void
ext_value(const ASN1_TYPE *e, struct est_csrattrs *out)
{
    const unsigned char *der = ASN1_STRING_get0_data(e->value.sequence), *p = der;
    long len = ASN1_STRING_length(e->value.sequence);
    X509_EXTENSION *x = d2i_X509_EXTENSION(NULL, &p, len);
    STACK_OF(ASN1_TYPE) *ext = inner(e, 0);

    if (x != NULL && p == der + len)
        keep_val(out, out->extvals, &out->nextvals, X509_EXTENSION_get_object(x), der, (size_t)len);
    if (ext != NULL && sk_ASN1_TYPE_num(ext) > 0 &&
        sk_ASN1_TYPE_value(ext, 0)->type == V_ASN1_OBJECT)
        add_oid(out->exts, &out->nexts, sk_ASN1_TYPE_value(ext, 0)->value.object);
    sk_ASN1_TYPE_pop_free(ext, ASN1_TYPE_free);
    X509_EXTENSION_free(x);
}

/* extensionRequest values: bare OIDs (the RFC 7030 §4.5.2 example) or real Extensions. */
static void
ext_request(const ASN1_TYPE *v, struct est_csrattrs *out)
{
    STACK_OF(ASN1_TYPE) * exts;

    if (v->type == V_ASN1_OBJECT) {
        add_oid(out->exts, &out->nexts, v->value.object);
        return;
    }
    if ((exts = inner(v, 0)) == NULL)
        return;
    for (int i = 0; i < sk_ASN1_TYPE_num(exts); i++) {
        const ASN1_TYPE *e = sk_ASN1_TYPE_value(exts, i);

        if (e->type == V_ASN1_OBJECT)
            add_oid(out->exts, &out->nexts, e->value.object);
        else if (e->type == V_ASN1_SEQUENCE)
            ext_value(e, out);
    }
    sk_ASN1_TYPE_pop_free(exts, ASN1_TYPE_free);
}

/* One value of an attribute whose meaning we know (key type, curve, size, extensions). */
static void
known_value(int nid, const ASN1_TYPE *v, struct est_csrattrs *out)
{
    if (nid == NID_ext_req)
        ext_request(v, out);
    else if (nid == NID_X9_62_id_ecPublicKey && v->type == V_ASN1_OBJECT)
        snprintf(out->ec_curve, sizeof out->ec_curve, "%s",
                 OBJ_nid2sn(OBJ_obj2nid(v->value.object)));
    else if (nid == NID_rsaEncryption && v->type == V_ASN1_INTEGER)
        out->rsa_bits = (int)ASN1_INTEGER_get(v->value.integer);
}

/* Attribute ::= SEQUENCE { type OID, values SET OF ANY } (RFC 7030 §4.5.2, RFC 8951 §4). */
static int
attribute(const ASN1_TYPE *t, struct est_csrattrs *out)
{
    STACK_OF(ASN1_TYPE) *seq = inner(t, 0), *vals = NULL;
    const ASN1_TYPE *type;
    int nid, ok = 0;

    if (seq == NULL || sk_ASN1_TYPE_num(seq) != 2 ||
        (type = sk_ASN1_TYPE_value(seq, 0))->type != V_ASN1_OBJECT ||
        (vals = inner(sk_ASN1_TYPE_value(seq, 1), 1)) == NULL)
        goto out;
    ok = 1;
    add_oid(out->attrs, &out->nattrs, type->value.object);
    nid = OBJ_obj2nid(type->value.object);
    if (nid == NID_X9_62_id_ecPublicKey)
        out->key_family = EST_KEY_EC;
    else if (nid == NID_rsaEncryption)
        out->key_family = EST_KEY_RSA;
    else if (nid == NID_pkcs9_challengePassword)
        out->challenge_password = 1;
    else if (nid != NID_ext_req && sk_ASN1_TYPE_num(vals) > 0)
        /* An attribute with values we do not interpret: the server's template, kept as is. */
        keep_val(out, out->attrvals, &out->nattrvals, type->value.object,
                 ASN1_STRING_get0_data(t->value.sequence),
                 (size_t)ASN1_STRING_length(t->value.sequence));
    for (int i = 0; i < sk_ASN1_TYPE_num(vals); i++)
        known_value(nid, sk_ASN1_TYPE_value(vals, i), out);
out:
    sk_ASN1_TYPE_pop_free(vals, ASN1_TYPE_free);
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return ok;
}

static enum eca_rc
csrattrs_der(const unsigned char *der, size_t len, struct est_csrattrs *out, struct eca_err *err)
{
    const unsigned char *p = der;
    STACK_OF(ASN1_TYPE) *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
    enum eca_rc rc = ECA_OK;

    if (seq == NULL || (size_t)(p - der) != len) {
        rc = eca_err_ssl(err, ECA_EPARSE, "csrattrs: not a DER SEQUENCE of attributes or OIDs");
        goto out;
    }
    for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
        const ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, i);

        if (t->type == V_ASN1_OBJECT) {
            bare_oid(t->value.object, out);
        } else if (!attribute(t, out)) {
            rc = eca_err_set(err, ECA_EPARSE, "csrattrs[%d]: neither an OID nor an Attribute", i);
            goto out;
        }
    }
    for (size_t i = 0; i < out->nexts; i++)
        if (strcmp(out->exts[i], "2.5.29.17") == 0)
            out->wants_san = 1;
out:
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    ERR_clear_error();
    return rc;
}

enum eca_rc
est_csrattrs_parse_body(const void *body, size_t len, struct est_csrattrs *out, struct eca_err *err)
{
    const unsigned char *b = body;
    struct est_csrattrs tmp;
    struct eca_buf der;
    enum eca_rc rc = ECA_OK;

    memset(&tmp, 0, sizeof tmp);
    eca_buf_init(&der, CSRATTRS_MAX);
    /* Some servers end the body with a NUL or a newline; neither is data. */
    while (len > 0 && (b[len - 1] == '\0' || b[len - 1] == '\n' || b[len - 1] == '\r' ||
                       b[len - 1] == ' ' || b[len - 1] == '\t'))
        len--;
    if (len > CSRATTRS_MAX) {
        rc = eca_err_set(err, ECA_ETOOBIG, "csrattrs: %zu bytes is over the cap", len);
        goto out;
    }
    if (len > 0 && b[0] == 0x30 && csrattrs_der(b, len, &tmp, NULL) == ECA_OK)
        goto done;
    memset(&tmp, 0, sizeof tmp);
    if (len > 0 && (rc = eca_b64_decode(body, len, &der, err)) != ECA_OK) {
        eca_err_prefix(err, "csrattrs: body is neither DER nor base64: ");
        rc = ECA_EPARSE;
        goto out;
    }
    if (der.len > 0 && (rc = csrattrs_der(der.data, der.len, &tmp, err)) != ECA_OK)
        goto out;
done:
    *out = tmp;
out:
    eca_buf_free(&der);
    return rc;
}

enum eca_rc
est_csrattrs_parse(const struct eca_http_resp *resp, struct est_csrattrs *out, struct eca_err *err)
{
    char snip[160];

    /* RFC 7030 §4.5.2: 204 or 404 when the server has no attributes to ask for. */
    if (resp->status == 204 || resp->status == 404) {
        memset(out, 0, sizeof *out);
        return ECA_OK;
    }
    if (resp->status != 200) {
        est_body_snippet(resp, snip, sizeof snip);
        return eca_err_set(err, ECA_ESERVER, "csrattrs: server answered HTTP %ld%s%s", resp->status,
                           snip[0] ? ": " : "", snip);
    }
    return est_csrattrs_parse_body(resp->body.data, resp->body.len, out, err);
}

/* ---- merging with the configuration ---- */

static void
note(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    if (used + 3 >= len)
        return;
    if (used > 0) {
        memcpy(buf + used, "; ", 3);
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static enum est_key_family
family_of(enum eca_key_type t)
{
    return t == ECA_KEY_EC_P256 || t == ECA_KEY_EC_P384 || t == ECA_KEY_EC_P521 ? EST_KEY_EC
                                                                                : EST_KEY_RSA;
}

/* The key type the server asks for; ECA_KEY_TYPE_MAX when it names none we can make. */
static enum eca_key_type
wanted_ec(const struct est_csrattrs *a, enum eca_key_type cfg, struct est_csrattrs_plan *out)
{
    if (strcmp(a->ec_curve, "prime256v1") == 0)
        return ECA_KEY_EC_P256;
    if (strcmp(a->ec_curve, "secp384r1") == 0)
        return ECA_KEY_EC_P384;
    if (strcmp(a->ec_curve, "secp521r1") == 0)
        return ECA_KEY_EC_P521;
    if (a->ec_curve[0] != '\0') {
        note(out->ignored, sizeof out->ignored, "curve %s: not supported (P-256, P-384, P-521)",
             a->ec_curve);
        return ECA_KEY_TYPE_MAX;
    }
    return family_of(cfg) == EST_KEY_EC ? cfg : ECA_KEY_EC_P256;
}

static enum eca_key_type
wanted_rsa(const struct est_csrattrs *a, enum eca_key_type cfg, struct est_csrattrs_plan *out)
{
    if (a->rsa_bits <= 0)
        return family_of(cfg) == EST_KEY_RSA ? cfg : ECA_KEY_RSA_2048;
    /* The smallest size we make that is at least the one asked for (never under 2048). */
    if (a->rsa_bits <= 2048)
        return ECA_KEY_RSA_2048;
    if (a->rsa_bits <= 3072)
        return ECA_KEY_RSA_3072;
    if (a->rsa_bits <= 4096)
        return ECA_KEY_RSA_4096;
    note(out->ignored, sizeof out->ignored, "rsa %d bits: not supported (at most 4096)",
         a->rsa_bits);
    return ECA_KEY_TYPE_MAX;
}

static void
plan_key(const struct est_csrattrs *a, enum eca_key_type cfg, int cfg_explicit,
         struct est_csrattrs_plan *out)
{
    enum est_key_family fam = a->key_family != EST_KEY_ANY ? a->key_family : a->sig_family;
    enum eca_key_type want;

    out->key_type = cfg;
    if (fam == EST_KEY_ANY)
        return;
    want = fam == EST_KEY_EC ? wanted_ec(a, cfg, out) : wanted_rsa(a, cfg, out);
    if (want == ECA_KEY_TYPE_MAX || want == cfg) {
        if (want == cfg)
            note(out->applied, sizeof out->applied, "key_type %s", eca_key_type_name(cfg));
        return;
    }
    if (cfg_explicit) {
        note(out->ignored, sizeof out->ignored, "key_type %s: configured %s kept",
             eca_key_type_name(want), eca_key_type_name(cfg));
        return;
    }
    out->key_type = want;
    note(out->applied, sizeof out->applied, "key_type %s", eca_key_type_name(want));
}

static void
plan_sig(const struct est_csrattrs *a, struct est_csrattrs_plan *out)
{
    if (a->sig_md[0] == '\0')
        return;
    if (a->sig_family != EST_KEY_ANY && a->sig_family != family_of(out->key_type)) {
        note(out->ignored, sizeof out->ignored, "signature %s: does not fit a %s key", a->sig_name,
             eca_key_type_name(out->key_type));
        return;
    }
    out->extra.md = a->sig_md;
    note(out->applied, sizeof out->applied, "signature %s", a->sig_name);
}

static const struct est_csrattrs_val *
find_val(const struct est_csrattrs_val *list, size_t n, const char *oid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].oid, oid) == 0)
            return &list[i];
    return NULL;
}

static int
listed_before(const char (*list)[EST_OID_MAX], size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(list[j], list[i]) == 0)
            return 1;
    return 0;
}

/* Extensions: names come from the configuration when set; other values are the server's. */
static void
plan_exts(const struct est_csrattrs *a, size_t nsans, struct est_csrattrs_plan *out)
{
    for (size_t i = 0; i < a->nexts; i++) {
        const struct est_csrattrs_val *v = find_val(a->extvals, a->nextvals, a->exts[i]);
        int san = strcmp(a->exts[i], "2.5.29.17") == 0;

        if (listed_before(a->exts, i))
            continue;
        if (san && nsans > 0) {
            note(out->applied, sizeof out->applied, "subjectAltName (configured names)");
        } else if (v == NULL) {
            note(out->ignored, sizeof out->ignored, "extension %s%s: no value known",
                 oid_name(a->exts[i]), san ? " (subjectAltName; no names configured)" : "");
        } else if (out->extra.nexts < EST_CSRATTRS_MAX) {
            out->server_san |= san;
            out->exts[out->extra.nexts].der = a->pool + v->off;
            out->exts[out->extra.nexts++].len = v->len;
            note(out->applied, sizeof out->applied, "extension %s (server's value)", a->exts[i]);
        }
    }
}

/* Attributes and bare OIDs we neither applied above nor can fill in. */
static void
plan_rest(const struct est_csrattrs *a, int pop, struct est_csrattrs_plan *out)
{
    for (size_t i = 0; i < a->nattrvals; i++) {
        out->attrs[out->extra.nattrs].der = a->pool + a->attrvals[i].off;
        out->attrs[out->extra.nattrs++].len = a->attrvals[i].len;
        note(out->applied, sizeof out->applied, "attribute %s (server's value)",
             a->attrvals[i].oid);
    }
    /* RFC 7030 §3.5: the challenge password is the TLS connection's tls-unique (PoP). */
    if (a->challenge_password && !pop)
        note(out->ignored, sizeof out->ignored,
             "challengePassword: proof-of-possession is off (EST_POP)");
    else if (a->challenge_password)
        note(out->applied, sizeof out->applied, "challengePassword (tls-unique)");
    for (size_t i = 0; i < a->noids; i++) {
        int nid = OBJ_txt2nid(a->oids[i]);
        int used = nid == NID_pkcs9_challengePassword || nid == NID_X9_62_id_ecPublicKey ||
                   nid == NID_rsaEncryption || is_sigalg(nid) || is_curve(nid) || is_hash(nid);

        if (!used)
            note(out->ignored, sizeof out->ignored, "%s: not honoured (no value to give)",
                 oid_name(a->oids[i]));
    }
    for (size_t i = 0; i < a->nattrs; i++) {
        int nid = OBJ_txt2nid(a->attrs[i]);

        if (nid != NID_ext_req && nid != NID_X9_62_id_ecPublicKey && nid != NID_rsaEncryption &&
            nid != NID_pkcs9_challengePassword &&
            find_val(a->attrvals, a->nattrvals, a->attrs[i]) == NULL)
            note(out->ignored, sizeof out->ignored, "attribute %s: no value known",
                 oid_name(a->attrs[i]));
    }
}

void
est_csrattrs_plan(const struct est_csrattrs *a, enum eca_key_type key_type, int key_type_explicit,
                  size_t nsans, int pop, struct est_csrattrs_plan *out)
{
    memset(out, 0, sizeof *out);
    out->key_type = key_type;
    out->extra.exts = out->exts;
    out->extra.attrs = out->attrs;
    if (a == NULL)
        return;
    plan_key(a, key_type, key_type_explicit, out);
    plan_sig(a, out);
    plan_exts(a, nsans, out);
    plan_rest(a, pop, out);
}
