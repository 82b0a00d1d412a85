/*
 * X.509 certificates. A parsed certificate keeps its exact DER, its SHA-256
 * fingerprint, its validity window and its CA flag, all computed once at
 * parse time: pinning and chain checks run on every verification and should
 * cost a compare, not a re-encode. After parsing the object is never
 * modified, so it may be shared read-only between threads.
 */
#include "crypto/crypto_int.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/time.h>

vouch_err vouch__asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    *out = 0;
    /* ASN1_TIME_to_tm reads the clock when given NULL; never let it. */
    if (!t)
        return VOUCH_ERR_PARSE;
    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return VOUCH_ERR_PARSE;
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
        return VOUCH_ERR_PARSE;
    *out = vouch_time_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1u,
                                 (unsigned)tm.tm_mday, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
                                 (unsigned)tm.tm_sec);
    return VOUCH_OK;
}

bool vouch__x509_name_der_eq(const X509_NAME *a, const X509_NAME *b)
{
    const unsigned char *da = NULL;
    const unsigned char *db = NULL;
    size_t la = 0;
    size_t lb = 0;

    if (!a || !b)
        return false;
    if (X509_NAME_get0_der(a, &da, &la) != 1 || X509_NAME_get0_der(b, &db, &lb) != 1)
        return false;
    return la == lb && vouch_ct_eq(da, db, la) == 1;
}

vouch_err vouch__x509_name_cn(const X509_NAME *name, char *out, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const X509_NAME_ENTRY *e;
    const ASN1_STRING *s;
    unsigned char *utf8 = NULL;
    int idx;
    int n;

    if (!out || cap == 0) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    out[0] = '\0';
    if (!name) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0) {
        rc = VOUCH_ERR_NOT_FOUND;
        goto out;
    }
    e = X509_NAME_get_entry(name, idx);
    s = e ? X509_NAME_ENTRY_get_data(e) : NULL;
    n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1;
    /* An embedded NUL would let "a\0b" pass as "a" in later compares. */
    if (n < 0 || memchr(utf8, 0, (size_t)n) != NULL) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((size_t)n > cap - 1) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    memcpy(out, utf8, (size_t)n);
    out[n] = '\0';
    rc = VOUCH_OK;
out:
    OPENSSL_free(utf8);
    return rc;
}

/* Builds the object from exactly @p len bytes of DER (copied). */
static vouch_err x509_from_der(const uint8_t *p, size_t len, struct vouch_x509 **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_x509 *c = NULL;
    const unsigned char *q;
    unsigned int fp_len = 0;
    uint32_t flags;

    *out = NULL;
    if (!p || len == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (len > VOUCH_MAX_CERT_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    c = vouch_calloc(1, sizeof(*c));
    if (!c) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    atomic_init(&c->refs, 1u);
    c->der = vouch_memdup(p, len);
    if (!c->der) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    c->der_len = len;
    q = c->der;
    c->x = d2i_X509(NULL, &q, (long)len);
    if (!c->x || q != c->der + len) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    /* Decoding the extensions now also makes later reads lock-free; OpenSSL
     * flags certificates whose extensions are malformed or duplicated, which
     * its own chain verification would reject, so reject them here too. */
    flags = X509_get_extension_flags(c->x);
    if (flags & EXFLAG_INVALID) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    c->is_ca = (flags & EXFLAG_CA) != 0;
    if ((rc = vouch__asn1_time_to_unix(X509_get0_notBefore(c->x), &c->not_before)) != VOUCH_OK ||
        (rc = vouch__asn1_time_to_unix(X509_get0_notAfter(c->x), &c->not_after)) != VOUCH_OK)
        goto out;
    if (EVP_Digest(c->der, len, c->fp, &fp_len, EVP_sha256(), NULL) != 1 ||
        fp_len != VOUCH_SHA256_LEN) {
        rc = vouch__ossl_fail("x509_parse");
        goto out;
    }
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    vouch_x509_free(c);
    return rc;
}

/* Parses the CERTIFICATE block that starts at @p p; @p consumed_out says
 * where it ended. */
static vouch_err x509_from_pem(const uint8_t *p, size_t len, struct vouch_x509 **out,
                               size_t *consumed_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *der = NULL;
    size_t der_len = 0;

    *out = NULL;
    rc =
        vouch__pem_decode(p, len, "CERTIFICATE", VOUCH_MAX_CERT_SIZE, &der, &der_len, consumed_out);
    if (rc != VOUCH_OK)
        goto out;
    rc = x509_from_der(der, der_len, out);
out:
    vouch_free(der);
    return rc;
}

vouch_err vouch_x509_parse_der(const uint8_t *p, size_t len, struct vouch_x509 **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    vouch__ossl_begin();
    if (!out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    rc = x509_from_der(p, len, out);
out:
    vouch__ossl_drain("x509_parse_der");
    return rc;
}

vouch_err vouch_x509_parse(const uint8_t *p, size_t len, struct vouch_x509 **out)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    vouch_err rc = VOUCH_ERR_INTERNAL;
    size_t i = 0;
    size_t consumed = 0;

    vouch__ossl_begin();
    if (!out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *out = NULL;
    if (!p || len == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    while (i < len && vouch__pem_is_space(p[i]))
        i++;
    /* A DER certificate starts with a SEQUENCE tag, which no PEM file does. */
    if (i < len && p[i] == 0x30) {
        rc = x509_from_der(p, len, out);
        goto out;
    }
    i = vouch__find(p, len, begin);
    if (i == len) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = x509_from_pem(p + i, len - i, out, &consumed);
out:
    vouch__ossl_drain("x509_parse");
    return rc;
}

/* A new reference to the certificate in @p known whose DER is @p der, if any. */
static struct vouch_x509 *find_known(const uint8_t *der, size_t len,
                                     struct vouch_x509 *const *known, size_t n_known)
{
    uint8_t fp[VOUCH_SHA256_LEN];
    unsigned int fp_len = 0;
    size_t k;

    if (n_known == 0 || EVP_Digest(der, len, fp, &fp_len, EVP_sha256(), NULL) != 1 ||
        fp_len != VOUCH_SHA256_LEN)
        return NULL;
    for (k = 0; k < n_known; k++) {
        const struct vouch_x509 *c = known[k];
        /* The full DER compare makes reuse independent of SHA-256 collisions. */
        if (c && c->der_len == len && vouch_ct_eq(c->fp, fp, sizeof(fp)) &&
            vouch_ct_eq(c->der, der, len))
            return vouch_x509_ref(known[k]);
    }
    return NULL;
}

static vouch_err parse_chain(const uint8_t *p, size_t len, struct vouch_x509 *const *known,
                             size_t n_known, struct vouch_x509 **certs, size_t max, size_t *n_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *der = NULL;
    size_t n = 0;
    size_t i = 0;
    size_t k;

    if (!n_out || (!certs && max) || (!known && n_known)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *n_out = 0;
    for (k = 0; k < max; k++)
        certs[k] = NULL;
    if (!p) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    /* Intel DCAP certification data ends with a NUL terminator. */
    while (len > 0 && p[len - 1] == 0)
        len--;
    for (;;) {
        size_t der_len = 0;
        size_t consumed = 0;

        while (i < len && vouch__pem_is_space(p[i]))
            i++;
        if (i == len)
            break;
        if (!vouch__has_prefix(p + i, len - i, "-----BEGIN CERTIFICATE-----")) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        if (n == max) {
            rc = VOUCH_ERR_TOO_LARGE;
            goto out;
        }
        rc = vouch__pem_decode(p + i, len - i, "CERTIFICATE", VOUCH_MAX_CERT_SIZE, &der, &der_len,
                               &consumed);
        if (rc != VOUCH_OK)
            goto out;
        certs[n] = find_known(der, der_len, known, n_known);
        if (!certs[n] && (rc = x509_from_der(der, der_len, &certs[n])) != VOUCH_OK)
            goto out;
        VOUCH_FREE(der);
        n++;
        i += consumed;
    }
    if (n == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *n_out = n;
    rc = VOUCH_OK;
out:
    vouch_free(der);
    if (rc != VOUCH_OK) {
        for (k = 0; k < n; k++) {
            vouch_x509_free(certs[k]);
            certs[k] = NULL;
        }
    }
    return rc;
}

vouch_err vouch_x509_parse_pem_chain(const uint8_t *p, size_t len, struct vouch_x509 **certs,
                                     size_t max, size_t *n_out)
{
    vouch_err rc;

    vouch__ossl_begin();
    rc = parse_chain(p, len, NULL, 0, certs, max, n_out);
    vouch__ossl_drain("x509_parse_pem_chain");
    return rc;
}

vouch_err vouch_x509_parse_pem_chain_reuse(const uint8_t *p, size_t len,
                                           struct vouch_x509 *const *known, size_t n_known,
                                           struct vouch_x509 **certs, size_t max, size_t *n_out)
{
    vouch_err rc;

    vouch__ossl_begin();
    rc = parse_chain(p, len, known, n_known, certs, max, n_out);
    vouch__ossl_drain("x509_parse_pem_chain_reuse");
    return rc;
}

void vouch_x509_free(struct vouch_x509 *c)
{
    if (!c)
        return;
    /* Only the holder of the last reference frees; acq_rel orders every
     * other holder's reads before the free. */
    if (atomic_fetch_sub_explicit(&c->refs, 1u, memory_order_acq_rel) != 1u)
        return;
    X509_free(c->x);
    vouch_free(c->der);
    vouch_free(c);
}

struct vouch_x509 *vouch_x509_ref(struct vouch_x509 *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1u, memory_order_relaxed);
    return c;
}

void vouch_x509_der(const struct vouch_x509 *c, const uint8_t **p, size_t *len)
{
    if (p)
        *p = c ? c->der : NULL;
    if (len)
        *len = c ? c->der_len : 0;
}

void vouch_x509_fingerprint(const struct vouch_x509 *c, uint8_t out[VOUCH_SHA256_LEN])
{
    if (!out)
        return;
    if (c)
        memcpy(out, c->fp, VOUCH_SHA256_LEN);
    else
        memset(out, 0, VOUCH_SHA256_LEN);
}

vouch_err vouch_x509_subject_cn(const struct vouch_x509 *c, char *out, size_t cap)
{
    vouch_err rc;

    vouch__ossl_begin();
    rc = vouch__x509_name_cn(c ? X509_get_subject_name(c->x) : NULL, out, cap);
    vouch__ossl_drain("x509_subject_cn");
    return rc;
}

vouch_err vouch_x509_issuer_cn(const struct vouch_x509 *c, char *out, size_t cap)
{
    vouch_err rc;

    vouch__ossl_begin();
    rc = vouch__x509_name_cn(c ? X509_get_issuer_name(c->x) : NULL, out, cap);
    vouch__ossl_drain("x509_issuer_cn");
    return rc;
}

bool vouch_x509_issued_by_name(const struct vouch_x509 *c, const struct vouch_x509 *issuer)
{
    bool eq;

    if (!c || !issuer)
        return false;
    vouch__ossl_begin();
    eq = vouch__x509_name_der_eq(X509_get_issuer_name(c->x), X509_get_subject_name(issuer->x));
    vouch__ossl_drain("x509_issued_by_name");
    return eq;
}

vouch_err vouch_x509_serial(const struct vouch_x509 *c, uint8_t *out, size_t cap, size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const ASN1_INTEGER *s;
    const unsigned char *d;
    int n;

    if (!len_out || !out || cap == 0 || !c) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *len_out = 0;
    s = X509_get0_serialNumber(c->x);
    d = s ? ASN1_STRING_get0_data(s) : NULL;
    n = s ? ASN1_STRING_length(s) : -1;
    if (!d || n < 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    while (n > 0 && d[0] == 0) {
        d++;
        n--;
    }
    /* Zero (AMD's VCEK uses it) is one zero byte, not an empty string. */
    if (n == 0) {
        out[0] = 0;
        *len_out = 1;
        rc = VOUCH_OK;
        goto out;
    }
    if ((size_t)n > cap) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    memcpy(out, d, (size_t)n);
    *len_out = (size_t)n;
    rc = VOUCH_OK;
out:
    return rc;
}

void vouch_x509_validity(const struct vouch_x509 *c, int64_t *not_before, int64_t *not_after)
{
    /* A missing certificate gets an empty window, so it is never "valid". */
    if (not_before)
        *not_before = c ? c->not_before : INT64_MAX;
    if (not_after)
        *not_after = c ? c->not_after : INT64_MIN;
}

bool vouch_x509_is_ca(const struct vouch_x509 *c)
{
    return c && c->is_ca;
}

vouch_err vouch_x509_verify_signed_by(const struct vouch_x509 *c, const struct vouch_x509 *issuer)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *pk;

    vouch__ossl_begin();
    if (!c || !issuer) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    pk = X509_get0_pubkey(issuer->x);
    if (!pk) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    /* X509_verify checks that the outer and inner signature algorithms agree
     * and dispatches on them, which covers ECDSA, RSA and RSA-PSS. A malformed
     * signature is as bad as a wrong one. */
    if (X509_verify(c->x, pk) != 1) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("x509_verify_signed_by");
    return rc;
}

vouch_err vouch_x509_pubkey(const struct vouch_x509 *c, struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *pk;

    vouch__ossl_begin();
    if (!out || !c) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *out = NULL;
    pk = X509_get0_pubkey(c->x);
    if (!pk) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (EVP_PKEY_up_ref(pk) != 1) {
        rc = vouch__ossl_fail("x509_pubkey");
        goto out;
    }
    rc = vouch__pubkey_wrap(pk, out);
out:
    vouch__ossl_drain("x509_pubkey");
    return rc;
}

vouch_err vouch_x509_extension(const struct vouch_x509 *c, const char *oid, const uint8_t **p,
                               size_t *len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    ASN1_OBJECT *obj = NULL;
    X509_EXTENSION *ext;
    const ASN1_OCTET_STRING *val;
    int idx;

    vouch__ossl_begin();
    if (!p || !len) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *p = NULL;
    *len = 0;
    if (!c || !oid) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    /* no_name = 1: only dotted numbers, never a short or long name. */
    obj = OBJ_txt2obj(oid, 1);
    if (!obj) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    idx = X509_get_ext_by_OBJ(c->x, obj, -1);
    if (idx < 0) {
        rc = VOUCH_ERR_NOT_FOUND;
        goto out;
    }
    /* Two copies of one extension would let two readers see two values. */
    if (X509_get_ext_by_OBJ(c->x, obj, idx) >= 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    ext = X509_get_ext(c->x, idx);
    val = ext ? X509_EXTENSION_get_data(ext) : NULL;
    if (!val || ASN1_STRING_length(val) < 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *p = ASN1_STRING_get0_data(val);
    *len = (size_t)ASN1_STRING_length(val);
    rc = VOUCH_OK;
out:
    ASN1_OBJECT_free(obj);
    vouch__ossl_drain("x509_extension");
    return rc;
}
