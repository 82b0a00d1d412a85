/*
 * Certificate revocation lists, as Intel's PCS/PCCS (hex of DER) and AMD's
 * KDS (DER or PEM) serve them. Only complete, direct CRLs are accepted: a
 * delta CRL, an indirect CRL or one scoped to some revocation reasons does
 * not list every revoked certificate of its issuer, so treating it as the
 * full list would let a revoked certificate through.
 */
#include "crypto/crypto_int.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

static bool is_hex_digit(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_hex(const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!is_hex_digit(p[i]))
            return false;
    }
    return len > 0;
}

/* Rejects CRLs that are not a complete list from their issuer, and any with
 * a critical extension we do not understand (RFC 5280 5.2). */
static vouch_err check_scope(const X509_CRL *crl)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    ISSUING_DIST_POINT *idp = NULL;
    int n = X509_CRL_get_ext_count(crl);
    int crit = -1;
    int i;

    for (i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_CRL_get_ext(crl, i);
        int nid = ext ? OBJ_obj2nid(X509_EXTENSION_get_object(ext)) : NID_undef;

        if (!ext) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        if (nid == NID_delta_crl) {
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
        if (X509_EXTENSION_get_critical(ext) && nid != NID_issuing_distribution_point &&
            nid != NID_authority_key_identifier && nid != NID_crl_number) {
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
    }
    idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
    if (!idp && crit != -1) {
        /* Present but undecodable (-2: duplicated). */
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (idp && (idp->indirectCRL || idp->onlysomereasons)) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    rc = VOUCH_OK;
out:
    ISSUING_DIST_POINT_free(idp);
    return rc;
}

static vouch_err crl_from_der(const uint8_t *p, size_t len, struct vouch_crl **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_crl *crl = NULL;
    const unsigned char *q = p;
    const ASN1_TIME *next;
    X509_REVOKED *unused = NULL;
    ASN1_INTEGER *probe = NULL;

    *out = NULL;
    if (len == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (len > VOUCH_MAX_CRL_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    crl = vouch_calloc(1, sizeof(*crl));
    if (!crl) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    crl->crl = d2i_X509_CRL(NULL, &q, (long)len);
    if (!crl->crl || q != p + len) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((rc = check_scope(crl->crl)) != VOUCH_OK)
        goto out;
    if ((rc = vouch__asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl->crl), &crl->this_update)) !=
        VOUCH_OK)
        goto out;
    next = X509_CRL_get0_nextUpdate(crl->crl);
    crl->next_update = INT64_MAX;
    if (next && (rc = vouch__asn1_time_to_unix(next, &crl->next_update)) != VOUCH_OK)
        goto out;
    /* The first serial lookup sorts the revoked list under a write lock. Do
     * it now, so lookups on a shared CRL are pure reads and cannot fail. */
    probe = ASN1_INTEGER_new();
    if (!probe || ASN1_INTEGER_set(probe, 0) != 1) {
        rc = vouch__ossl_fail("crl_parse");
        goto out;
    }
    (void)X509_CRL_get0_by_serial(crl->crl, &unused, probe);
    *out = crl;
    crl = NULL;
    rc = VOUCH_OK;
out:
    ASN1_INTEGER_free(probe);
    vouch_crl_free(crl);
    return rc;
}

vouch_err vouch_crl_parse(const uint8_t *p, size_t len, struct vouch_crl **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    size_t start = 0;
    size_t end;

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
    /* Text forms may carry surrounding whitespace or a C string's NUL. */
    end = len;
    while (end > 0 && (p[end - 1] == 0 || vouch__pem_is_space(p[end - 1])))
        end--;
    while (start < end && vouch__pem_is_space(p[start]))
        start++;
    if (vouch__has_prefix(p + start, end - start, "-----BEGIN X509 CRL-----")) {
        size_t consumed = 0;

        rc = vouch__pem_decode(p + start, end - start, "X509 CRL", VOUCH_MAX_CRL_SIZE, &der,
                               &der_len, &consumed);
        if (rc != VOUCH_OK)
            goto out;
        if (start + consumed != end) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        rc = crl_from_der(der, der_len, out);
    } else if (all_hex(p + start, end - start)) {
        /* DER always contains bytes outside [0-9A-Fa-f] (its length and OID
         * octets), so all-hex input is unambiguous. */
        if ((end - start) / 2 > VOUCH_MAX_CRL_SIZE) {
            rc = VOUCH_ERR_TOO_LARGE;
            goto out;
        }
        rc = vouch_hex_decode_alloc((const char *)p + start, end - start, &der, &der_len);
        if (rc != VOUCH_OK)
            goto out;
        rc = crl_from_der(der, der_len, out);
    } else {
        rc = crl_from_der(p, len, out);
    }
out:
    vouch_free(der);
    vouch__ossl_drain("crl_parse");
    return rc;
}

void vouch_crl_free(struct vouch_crl *crl)
{
    if (!crl)
        return;
    X509_CRL_free(crl->crl);
    vouch_free(crl);
}

vouch_err vouch_crl_verify_signed_by(const struct vouch_crl *crl, const struct vouch_x509 *issuer)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *pk;

    vouch__ossl_begin();
    if (!crl || !issuer) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (!vouch__x509_name_der_eq(X509_CRL_get_issuer(crl->crl), X509_get_subject_name(issuer->x))) {
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    pk = X509_get0_pubkey(issuer->x);
    if (!pk) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (X509_CRL_verify(crl->crl, pk) != 1) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("crl_verify_signed_by");
    return rc;
}

void vouch_crl_validity(const struct vouch_crl *crl, int64_t *this_update, int64_t *next_update)
{
    /* A missing CRL gets an empty window, so it is never current. */
    if (this_update)
        *this_update = crl ? crl->this_update : INT64_MAX;
    if (next_update)
        *next_update = crl ? crl->next_update : INT64_MIN;
}

bool vouch_crl_lists(const struct vouch_crl *crl, const struct vouch_x509 *c)
{
    X509_REVOKED *rev = NULL;
    bool listed;

    if (!crl || !c)
        return false;
    vouch__ossl_begin();
    /* 1 is "revoked"; 2 is a removeFromCRL entry, which un-revokes. */
    listed = X509_CRL_get0_by_serial(crl->crl, &rev, X509_get0_serialNumber(c->x)) == 1;
    vouch__ossl_drain("crl_lists");
    return listed;
}

bool vouch_crl_issued_by_name(const struct vouch_crl *crl, const struct vouch_x509 *c)
{
    bool eq;

    if (!crl || !c)
        return false;
    vouch__ossl_begin();
    eq = vouch__x509_name_der_eq(X509_CRL_get_issuer(crl->crl), X509_get_subject_name(c->x));
    vouch__ossl_drain("crl_issued_by_name");
    return eq;
}

vouch_err vouch_crl_issuer_cn(const struct vouch_crl *crl, char *out, size_t cap)
{
    vouch_err rc;

    vouch__ossl_begin();
    rc = vouch__x509_name_cn(crl ? X509_CRL_get_issuer(crl->crl) : NULL, out, cap);
    vouch__ossl_drain("crl_issuer_cn");
    return rc;
}
