/*
 * Public keys and signature verification: ECDSA on P-256/P-384 (raw r||s,
 * AMD's little-endian fields, DER) and RSA PKCS#1 v1.5 / PSS, over a message
 * or over a digest that was computed elsewhere (TPM quotes).
 *
 * A signature that does not verify, including one that is malformed or has
 * the wrong length, is VOUCH_ERR_SIGNATURE; only a failure to set up the
 * verification itself is VOUCH_ERR_CRYPTO.
 */
#include "crypto/crypto_int.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

/* A DER ECDSA-Sig-Value for P-384 is at most 2 + 2 * (2 + 1 + 48) bytes. */
#define ECDSA_DER_MAX 104u
#define EC_FIELD_MAX  48u
/* AMD pads 48-byte values to 72; anything far larger is not a signature. */
#define EC_LE_FIELD_MAX 1024u
/* RSA public exponents are small (65537); 8 octets is already absurd. */
#define RSA_E_MAX_LEN 8u

static int curve_of(EVP_PKEY *pkey)
{
    char name[64];
    size_t n = 0;

    if (!EVP_PKEY_is_a(pkey, "EC"))
        return 0;
    /* Keys with explicit curve parameters have no group name and are refused
     * here on purpose: they let an attacker choose the curve. */
    if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &n) != 1)
        return 0;
    if (strcmp(name, "prime256v1") == 0)
        return VOUCH_CURVE_P256;
    if (strcmp(name, "secp384r1") == 0)
        return VOUCH_CURVE_P384;
    return 0;
}

static size_t field_len(int curve)
{
    switch (curve) {
    case VOUCH_CURVE_P256:
        return 32;
    case VOUCH_CURVE_P384:
        return 48;
    default:
        return 0;
    }
}

vouch_err vouch__pubkey_wrap(EVP_PKEY *pkey, struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *k = NULL;

    *out = NULL;
    k = vouch_calloc(1, sizeof(*k));
    if (!k) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    k->pkey = pkey;
    pkey = NULL;
    k->curve = curve_of(k->pkey);
    *out = k;
    k = NULL;
    rc = VOUCH_OK;
out:
    EVP_PKEY_free(pkey);
    vouch_pubkey_free(k);
    return rc;
}

/* Recently built EC keys, by curve and exact X||Y. An EVP_PKEY is only read
 * once built, so one may be shared by threads; each caller gets its own
 * reference. Only keys that passed the on-curve import are remembered. */
struct ec_slot {
    EVP_PKEY *pkey;
    int curve; /* the curve it was built on: curve_of(pkey) without asking */
    size_t len;
    uint8_t xy[2 * EC_FIELD_MAX];
};
static pthread_mutex_t ec_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ec_slot ec_cache[VOUCH_EC_PUBKEY_CACHE_SLOTS];
static size_t ec_cache_next;

/* A new wrapper around the cached key for (@p curve, @p xy): OK, NOT_FOUND
 * (not cached) or NOMEM. */
static vouch_err ec_cache_get(int curve, const uint8_t *xy, size_t len, struct vouch_pubkey **out)
{
    struct vouch_pubkey *k = NULL;
    EVP_PKEY *hit = NULL;

    pthread_mutex_lock(&ec_cache_lock);
    for (size_t i = 0; i < VOUCH_EC_PUBKEY_CACHE_SLOTS; i++) {
        struct ec_slot *s = &ec_cache[i];
        if (s->pkey && s->curve == curve && s->len == len && memcmp(s->xy, xy, len) == 0) {
            if (EVP_PKEY_up_ref(s->pkey) == 1)
                hit = s->pkey;
            break;
        }
    }
    pthread_mutex_unlock(&ec_cache_lock);
    if (!hit)
        return VOUCH_ERR_NOT_FOUND;
    if (!(k = vouch_calloc(1, sizeof(*k)))) {
        EVP_PKEY_free(hit);
        return VOUCH_ERR_NOMEM;
    }
    k->pkey = hit;
    k->curve = curve;
    *out = k;
    return VOUCH_OK;
}

static void ec_cache_put(int curve, const uint8_t *xy, size_t len, EVP_PKEY *pkey)
{
    EVP_PKEY *old;
    struct ec_slot *s;

    if (EVP_PKEY_up_ref(pkey) != 1)
        return;
    pthread_mutex_lock(&ec_cache_lock);
    s = &ec_cache[ec_cache_next];
    ec_cache_next = (ec_cache_next + 1) % VOUCH_EC_PUBKEY_CACHE_SLOTS;
    old = s->pkey;
    s->pkey = pkey;
    s->curve = curve;
    s->len = len;
    memcpy(s->xy, xy, len);
    pthread_mutex_unlock(&ec_cache_lock);
    EVP_PKEY_free(old);
}

vouch_err vouch_pubkey_from_ec_xy(enum vouch_curve curve, const uint8_t *xy, size_t len,
                                  struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char p256[] = "prime256v1";
    char p384[] = "secp384r1";
    char *group = NULL;
    uint8_t point[1 + 2 * EC_FIELD_MAX];
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    size_t want;

    vouch__ossl_begin();
    if (!out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *out = NULL;
    if (curve == VOUCH_CURVE_P256) {
        group = p256;
    } else if (curve == VOUCH_CURVE_P384) {
        group = p384;
    } else {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    want = 2 * field_len((int)curve);
    if (!xy || len != want) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((rc = ec_cache_get((int)curve, xy, len, out)) != VOUCH_ERR_NOT_FOUND)
        goto out;
    point[0] = 0x04; /* uncompressed SEC1 point */
    memcpy(point + 1, xy, len);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, len + 1);
    params[2] = OSSL_PARAM_construct_end();

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
        rc = vouch__ossl_fail("pubkey_from_ec_xy");
        goto out;
    }
    /* The import decodes the point with a check that it lies on the curve,
     * so a failure here means the bytes are not a valid public key. */
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pkey) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    ec_cache_put((int)curve, xy, len, pkey);
    rc = vouch__pubkey_wrap(pkey, out);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    vouch__ossl_drain("pubkey_from_ec_xy");
    return rc;
}

/* Skips leading zero octets of a big-endian integer. */
static void strip_zeros(const uint8_t **p, size_t *len)
{
    while (*len > 0 && **p == 0) {
        (*p)++;
        (*len)--;
    }
}

vouch_err vouch_pubkey_from_rsa_ne(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                                   struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    BIGNUM *bn_n = NULL;
    BIGNUM *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    vouch__ossl_begin();
    if (!out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *out = NULL;
    if ((!n && n_len) || (!e && e_len)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    strip_zeros(&n, &n_len);
    strip_zeros(&e, &e_len);
    if (n_len == 0 || n_len > VOUCH_MAX_RSA_BITS / 8u || (n[n_len - 1] & 1u) == 0 || e_len == 0 ||
        e_len > RSA_E_MAX_LEN || (e[e_len - 1] & 1u) == 0 || (e_len == 1 && e[0] < 3)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
        !(params = OSSL_PARAM_BLD_to_param(bld))) {
        rc = vouch__ossl_fail("pubkey_from_rsa_ne");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
        rc = vouch__ossl_fail("pubkey_from_rsa_ne");
        goto out;
    }
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pkey) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = vouch__pubkey_wrap(pkey, out);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    vouch__ossl_drain("pubkey_from_rsa_ne");
    return rc;
}

vouch_err vouch_pubkey_parse(const uint8_t *p, size_t len, struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *pkey = NULL;
    uint8_t *der = NULL;
    const unsigned char *q;
    size_t der_len = 0;
    size_t i = 0;

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
    if (vouch__has_prefix(p + i, len - i, "-----BEGIN")) {
        size_t consumed = 0;
        size_t end = len;

        /* A key is smaller than a certificate, so the certificate cap bounds it. */
        rc = vouch__pem_decode(p + i, len - i, "PUBLIC KEY", VOUCH_MAX_CERT_SIZE, &der, &der_len,
                               &consumed);
        if (rc != VOUCH_OK)
            goto out;
        while (end > i + consumed && (p[end - 1] == 0 || vouch__pem_is_space(p[end - 1])))
            end--;
        if (end != i + consumed) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        p = der;
        len = der_len;
    } else if (len > VOUCH_MAX_CERT_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    q = p;
    pkey = d2i_PUBKEY(NULL, &q, (long)len);
    if (!pkey || q != p + len) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = vouch__pubkey_wrap(pkey, out);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    vouch_free(der);
    vouch__ossl_drain("pubkey_parse");
    return rc;
}

void vouch_pubkey_free(struct vouch_pubkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    vouch_free(k);
}

bool vouch_pubkey_is_ec(const struct vouch_pubkey *k, enum vouch_curve curve)
{
    return k && k->curve != 0 && k->curve == (int)curve;
}

/* ---- verification core ---- */

/* Configures RSA padding on a verify context; PSS takes MGF1 with the same
 * hash and recovers the salt length from the signature. */
static bool set_rsa_padding(EVP_PKEY_CTX *pctx, enum vouch_rsa_padding pad, const EVP_MD *md)
{
    if (pad == VOUCH_RSA_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
}

/* Verifies @p sig over @p msg; @p pad is 0 for ECDSA. */
static vouch_err verify_msg(const struct vouch_pubkey *k, enum vouch_hash_alg alg, int pad,
                            const void *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
                            const char *what)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const EVP_MD *md = vouch__crypto_md(alg);
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    int r;

    if (!md) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) != 1) {
        rc = vouch__ossl_fail(what);
        goto out;
    }
    if (pad && !set_rsa_padding(pctx, (enum vouch_rsa_padding)pad, md)) {
        rc = vouch__ossl_fail(what);
        goto out;
    }
    /* EVP_DigestVerify needs a non-NULL pointer even for an empty message. */
    r = EVP_DigestVerify(ctx, sig, sig_len, msg_len ? msg : (const void *)"", msg_len);
    if (r != 1) {
        vouch__ossl_drain(what);
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Appends a DER INTEGER holding the unsigned big-endian @p v (@p n bytes). */
static size_t der_uint(const uint8_t *v, size_t n, uint8_t *out)
{
    size_t i = 0;
    size_t o = 0;
    size_t body;

    while (i + 1 < n && v[i] == 0)
        i++;
    body = n - i;
    out[o++] = 0x02;
    out[o++] = (uint8_t)(body + ((v[i] & 0x80) ? 1u : 0u));
    if (v[i] & 0x80)
        out[o++] = 0x00;
    memcpy(out + o, v + i, body);
    return o + body;
}

/* Encodes fixed-width big-endian r and s as an ECDSA-Sig-Value. */
static size_t ecdsa_der(const uint8_t *r, const uint8_t *s, size_t n, uint8_t out[ECDSA_DER_MAX])
{
    size_t o = 2;

    o += der_uint(r, n, out + o);
    o += der_uint(s, n, out + o);
    out[0] = 0x30;
    out[1] = (uint8_t)(o - 2);
    return o;
}

static vouch_err check_ec_args(const struct vouch_pubkey *k, const void *msg, size_t msg_len)
{
    if (!k || !k->pkey || (!msg && msg_len))
        return VOUCH_ERR_INVAL;
    if (k->curve == 0)
        return VOUCH_ERR_INVAL;
    return VOUCH_OK;
}

vouch_err vouch_ecdsa_verify_raw(const struct vouch_pubkey *k, enum vouch_hash_alg alg,
                                 const void *msg, size_t msg_len, const uint8_t *sig,
                                 size_t sig_len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t der[ECDSA_DER_MAX];
    size_t n;

    vouch__ossl_begin();
    if ((rc = check_ec_args(k, msg, msg_len)) != VOUCH_OK)
        goto out;
    n = field_len(k->curve);
    if (!sig || sig_len != 2 * n) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = verify_msg(k, alg, 0, msg, msg_len, der, ecdsa_der(sig, sig + n, n, der),
                    "ecdsa_verify_raw");
out:
    vouch__ossl_drain("ecdsa_verify_raw");
    return rc;
}

vouch_err vouch_ecdsa_verify_le(const struct vouch_pubkey *k, enum vouch_hash_alg alg,
                                const void *msg, size_t msg_len, const uint8_t *r_le,
                                const uint8_t *s_le, size_t rs_len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t r[EC_FIELD_MAX];
    uint8_t s[EC_FIELD_MAX];
    uint8_t der[ECDSA_DER_MAX];
    uint8_t high = 0;
    size_t n;
    size_t i;

    vouch__ossl_begin();
    if ((rc = check_ec_args(k, msg, msg_len)) != VOUCH_OK)
        goto out;
    n = field_len(k->curve);
    if (!r_le || !s_le || rs_len < n || rs_len > EC_LE_FIELD_MAX) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    /* The fields are zero-extended; a set bit above the field size would make
     * the value out of range, so such a signature cannot be valid. */
    for (i = n; i < rs_len; i++)
        high |= r_le[i] | s_le[i];
    if (high) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    for (i = 0; i < n; i++) {
        r[i] = r_le[n - 1 - i];
        s[i] = s_le[n - 1 - i];
    }
    rc = verify_msg(k, alg, 0, msg, msg_len, der, ecdsa_der(r, s, n, der), "ecdsa_verify_le");
out:
    vouch__ossl_drain("ecdsa_verify_le");
    return rc;
}

vouch_err vouch_ecdsa_verify_der(const struct vouch_pubkey *k, enum vouch_hash_alg alg,
                                 const void *msg, size_t msg_len, const uint8_t *sig,
                                 size_t sig_len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    vouch__ossl_begin();
    if ((rc = check_ec_args(k, msg, msg_len)) != VOUCH_OK)
        goto out;
    if (!sig || sig_len == 0 || sig_len > ECDSA_DER_MAX) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = verify_msg(k, alg, 0, msg, msg_len, sig, sig_len, "ecdsa_verify_der");
out:
    vouch__ossl_drain("ecdsa_verify_der");
    return rc;
}

static vouch_err check_rsa_args(const struct vouch_pubkey *k, enum vouch_rsa_padding pad)
{
    if (!k || !k->pkey)
        return VOUCH_ERR_INVAL;
    if (pad == VOUCH_RSA_PKCS1 && EVP_PKEY_is_a(k->pkey, "RSA"))
        return VOUCH_OK;
    if (pad == VOUCH_RSA_PSS &&
        (EVP_PKEY_is_a(k->pkey, "RSA") || EVP_PKEY_is_a(k->pkey, "RSA-PSS")))
        return VOUCH_OK;
    return VOUCH_ERR_INVAL;
}

vouch_err vouch_rsa_verify(const struct vouch_pubkey *k, enum vouch_hash_alg alg,
                           enum vouch_rsa_padding pad, const void *msg, size_t msg_len,
                           const uint8_t *sig, size_t sig_len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    vouch__ossl_begin();
    if ((rc = check_rsa_args(k, pad)) != VOUCH_OK)
        goto out;
    if (!msg && msg_len) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (!sig || sig_len == 0) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = verify_msg(k, alg, (int)pad, msg, msg_len, sig, sig_len, "rsa_verify");
out:
    vouch__ossl_drain("rsa_verify");
    return rc;
}

vouch_err vouch_rsa_verify_digest(const struct vouch_pubkey *k, enum vouch_hash_alg alg,
                                  enum vouch_rsa_padding pad, const uint8_t *digest,
                                  const uint8_t *sig, size_t sig_len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const EVP_MD *md = vouch__crypto_md(alg);
    EVP_PKEY_CTX *pctx = NULL;

    vouch__ossl_begin();
    if ((rc = check_rsa_args(k, pad)) != VOUCH_OK)
        goto out;
    if (!md || !digest) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (!sig || sig_len == 0) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (!pctx || EVP_PKEY_verify_init(pctx) != 1 || EVP_PKEY_CTX_set_signature_md(pctx, md) != 1 ||
        !set_rsa_padding(pctx, pad, md)) {
        rc = vouch__ossl_fail("rsa_verify_digest");
        goto out;
    }
    if (EVP_PKEY_verify(pctx, sig, sig_len, digest, vouch_hash_len(alg)) != 1) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    EVP_PKEY_CTX_free(pctx);
    vouch__ossl_drain("rsa_verify_digest");
    return rc;
}
