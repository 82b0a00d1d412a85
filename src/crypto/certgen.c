/*
 * Certificate issuance (include/vouch/certgen.h) and SubjectPublicKeyInfo
 * helpers, for the software TEE's local CA and attested TLS certificates.
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <vouch/certgen.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "crypto/certgen_int.h"
#include "crypto/crypto_int.h"

#define SERIAL_LEN 16u
#define MAX_CN_LEN 64u

/* struct vouch_pkey is private to pkey.c; its PKCS#8 PEM is the one interface
 * that exposes the key, so it is read back into an EVP_PKEY here. The text is
 * wiped on every path. Issuance is rare (platform creation, one TLS
 * certificate per enclave session), so the round trip costs nothing. */
vouch_err vouch__pkey_to_evp(const struct vouch_pkey *k, EVP_PKEY **out)
{
    char *pem = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    vouch_err rc;

    *out = NULL;
    if ((rc = vouch_pkey_to_pem(k, &pem, &len)) != VOUCH_OK)
        return rc;
    rc = VOUCH_ERR_CRYPTO;
    if (len > INT32_MAX)
        goto out;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio && (*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL)
        rc = VOUCH_OK;
out:
    BIO_free(bio);
    vouch_wipe(pem, len);
    vouch_free(pem);
    return rc;
}

static vouch_err set_serial(X509 *x)
{
    uint8_t serial[SERIAL_LEN];
    BIGNUM *bn = NULL;
    vouch_err rc;

    if ((rc = vouch_random(serial, sizeof(serial))) != VOUCH_OK)
        return rc;
    serial[0] = (uint8_t)((serial[0] & 0x7fu) | 0x40u); /* positive, 16 bytes */
    bn = BN_bin2bn(serial, (int)sizeof(serial), NULL);
    rc = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? VOUCH_OK : VOUCH_ERR_CRYPTO;
    BN_free(bn);
    return rc;
}

static bool add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    bool ok = ext && X509_add_ext(x, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    return ok;
}

static bool add_raw_ext(X509 *x, const char *oid, const uint8_t *p, size_t len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    bool ok = false;

    if (!obj || !os || len > INT32_MAX || ASN1_OCTET_STRING_set(os, p, (int)len) != 1)
        goto out;
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    ok = ext && X509_add_ext(x, ext, -1) == 1;
out:
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ok;
}

static vouch_err spec_check(const struct vouch_cert_issue_spec *s)
{
    size_t cn_len;

    if (!s->subject_cn)
        return VOUCH_ERR_INVAL;
    cn_len = strlen(s->subject_cn);
    if (cn_len == 0 || cn_len > MAX_CN_LEN || s->not_after <= s->not_before || s->not_before < 0)
        return VOUCH_ERR_INVAL;
    if (s->ext_oid && (!s->ext_value || s->ext_len == 0 || s->ext_len > VOUCH_MAX_CERT_SIZE))
        return VOUCH_ERR_INVAL;
    return VOUCH_OK;
}

vouch_err vouch_cert_issue(const struct vouch_pubkey *subject, const struct vouch_pkey *issuer_key,
                           const struct vouch_x509 *issuer,
                           const struct vouch_cert_issue_spec *spec, uint8_t **der_out,
                           size_t *der_len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *signer = NULL;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    X509V3_CTX v3;
    unsigned char *der = NULL;
    char eku[32] = "";
    int len;

    if (!der_out || !der_len_out)
        return VOUCH_ERR_INVAL;
    *der_out = NULL;
    *der_len_out = 0;
    if (!subject || !subject->pkey || !issuer_key || !spec)
        return VOUCH_ERR_INVAL;
    if ((rc = spec_check(spec)) != VOUCH_OK)
        return rc;
    vouch__ossl_begin();
    if ((rc = vouch__pkey_to_evp(issuer_key, &signer)) != VOUCH_OK)
        goto out;
    /* A self-signed certificate must be signed by its own key. */
    if (!issuer && EVP_PKEY_eq(signer, subject->pkey) != 1) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    x = X509_new();
    name = X509_NAME_new();
    if (!x || !name || X509_set_version(x, X509_VERSION_3) != 1) {
        rc = vouch__ossl_fail("cert_issue");
        goto out;
    }
    if ((rc = set_serial(x)) != VOUCH_OK)
        goto out;
    if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)spec->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)spec->not_after) ||
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)spec->subject_cn, -1, -1, 0) != 1 ||
        X509_set_subject_name(x, name) != 1 ||
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->x) : name) != 1 ||
        X509_set_pubkey(x, subject->pkey) != 1) {
        rc = vouch__ossl_fail("cert_issue");
        goto out;
    }
    X509V3_set_ctx(&v3, issuer ? issuer->x : x, x, NULL, NULL, 0);
    X509V3_set_ctx_nodb(&v3);
    if (spec->tls_server || spec->tls_client)
        snprintf(eku, sizeof(eku), "%s%s%s", spec->tls_server ? "serverAuth" : "",
                 spec->tls_server && spec->tls_client ? "," : "",
                 spec->tls_client ? "clientAuth" : "");
    if (!add_conf_ext(x, &v3, NID_basic_constraints, spec->ca ? "critical,CA:TRUE" : "CA:FALSE") ||
        !add_conf_ext(x, &v3, NID_key_usage,
                      spec->ca ? "critical,digitalSignature,keyCertSign,cRLSign"
                               : "critical,digitalSignature") ||
        !add_conf_ext(x, &v3, NID_subject_key_identifier, "hash") ||
        !add_conf_ext(x, &v3, NID_authority_key_identifier, "keyid:always") ||
        (eku[0] && !add_conf_ext(x, &v3, NID_ext_key_usage, eku)) ||
        (spec->ext_oid && !add_raw_ext(x, spec->ext_oid, spec->ext_value, spec->ext_len))) {
        rc = vouch__ossl_fail("cert_issue");
        goto out;
    }
    if (X509_sign(x, signer, EVP_sha256()) <= 0) {
        rc = vouch__ossl_fail("cert_issue");
        goto out;
    }
    len = i2d_X509(x, &der);
    if (len <= 0 || !der) {
        rc = vouch__ossl_fail("cert_issue");
        goto out;
    }
    if ((size_t)len > VOUCH_MAX_CERT_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (!(*der_out = vouch_memdup(der, (size_t)len))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    *der_len_out = (size_t)len;
    rc = VOUCH_OK;
out:
    OPENSSL_free(der);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(signer);
    vouch__ossl_drain("cert_issue");
    return rc;
}

vouch_err vouch_x509_spki_sha256(const struct vouch_x509 *c, uint8_t out[VOUCH_SHA256_LEN])
{
    X509_PUBKEY *pk;
    unsigned char *der = NULL;
    int len;
    vouch_err rc = VOUCH_ERR_CRYPTO;

    if (!c || !c->x || !out)
        return VOUCH_ERR_INVAL;
    vouch__ossl_begin();
    /* The SPKI exactly as encoded in the certificate, not a re-encoding of
     * the decoded key. */
    pk = X509_get_X509_PUBKEY(c->x);
    len = pk ? i2d_X509_PUBKEY(pk, &der) : -1;
    if (len > 0 && der)
        rc = vouch_sha256(der, (size_t)len, out);
    OPENSSL_free(der);
    vouch__ossl_drain("spki_sha256");
    return rc;
}
