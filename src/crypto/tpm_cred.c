/*
 * The crypto of TPM AK trust (vouch/tpm.h): KDFa, the verifier's side of
 * TPM2_MakeCredential for RSA and ECC endorsement keys, the public key of a
 * TPMT_PUBLIC, and AK/EK certificate verification against configured anchors.
 */
#include "crypto/crypto_int.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#define TPM_ALG_AES 0x0006u
#define TPM_ALG_CFB 0x0043u
#define P256_FIELD  32u
#define P384_FIELD  48u
/* Context fields of KDFa/KDFe are Names or ECC coordinates. */
#define KDF_MAX_CONTEXT 128u
#define KDF_MAX_LABEL   32u

static const EVP_MD *tpm_md(uint16_t alg)
{
    switch (alg) {
    case VOUCH_TPM_ALG_SHA1:
        return EVP_sha1();
    case VOUCH_TPM_ALG_SHA256:
        return EVP_sha256();
    case VOUCH_TPM_ALG_SHA384:
        return EVP_sha384();
    case VOUCH_TPM_ALG_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

static void put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---------------- KDFa / KDFe ---------------- */

vouch_err vouch_tpm_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_len, const char *label,
                         const uint8_t *context_u, size_t u_len, const uint8_t *context_v,
                         size_t v_len, size_t bits, uint8_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const EVP_MD *md = tpm_md(hash_alg);
    uint8_t msg[4 + KDF_MAX_LABEL + 1 + 2 * KDF_MAX_CONTEXT + 4];
    uint8_t block[EVP_MAX_MD_SIZE];
    size_t label_len, n = 0, done = 0, want = bits / 8, hlen;
    unsigned int blen = 0;

    vouch__ossl_begin();
    if (!key || !label || !out || bits == 0 || bits % 8 != 0 || bits > UINT32_MAX ||
        (!context_u && u_len) || (!context_v && v_len) || u_len > KDF_MAX_CONTEXT ||
        v_len > KDF_MAX_CONTEXT || key_len > INT32_MAX)
        return VOUCH_ERR_INVAL;
    if (!md)
        return VOUCH_ERR_UNSUPPORTED;
    label_len = strlen(label);
    if (label_len > KDF_MAX_LABEL)
        return VOUCH_ERR_INVAL;
    hlen = (size_t)EVP_MD_get_size(md);
    /* counter || label || 00 || contextU || contextV || bits */
    n = 4;
    memcpy(msg + n, label, label_len);
    n += label_len;
    msg[n++] = 0;
    if (u_len)
        memcpy(msg + n, context_u, u_len);
    n += u_len;
    if (v_len)
        memcpy(msg + n, context_v, v_len);
    n += v_len;
    put_u32(msg + n, (uint32_t)bits);
    n += 4;
    for (uint32_t i = 1; done < want; i++) {
        size_t take = want - done < hlen ? want - done : hlen;
        put_u32(msg, i);
        if (!HMAC(md, key, (int)key_len, msg, n, block, &blen) || blen != hlen) {
            rc = vouch__ossl_fail("kdfa");
            goto out;
        }
        memcpy(out + done, block, take);
        done += take;
    }
    rc = VOUCH_OK;
out:
    vouch_wipe(block, sizeof(block));
    if (rc != VOUCH_OK)
        vouch_wipe(out, want);
    return rc;
}

/* KDFe (TPM 2.0 Part 1 §11.4.10.3, SP 800-56A concatenation KDF):
 * H(counter || Z || label incl. its NUL || partyU || partyV). */
static vouch_err kdfe(const EVP_MD *md, const uint8_t *z, size_t z_len, const char *label,
                      const uint8_t *u, size_t u_len, const uint8_t *v, size_t v_len, uint8_t *out,
                      size_t out_len)
{
    vouch_err rc = VOUCH_ERR_CRYPTO;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t block[EVP_MAX_MD_SIZE], ctr[4];
    size_t hlen = (size_t)EVP_MD_get_size(md), done = 0;
    unsigned int blen = 0;

    if (!c)
        return VOUCH_ERR_NOMEM;
    for (uint32_t i = 1; done < out_len; i++) {
        size_t take = out_len - done < hlen ? out_len - done : hlen;
        put_u32(ctr, i);
        if (EVP_DigestInit_ex(c, md, NULL) != 1 || EVP_DigestUpdate(c, ctr, 4) != 1 ||
            EVP_DigestUpdate(c, z, z_len) != 1 ||
            EVP_DigestUpdate(c, label, strlen(label) + 1) != 1 ||
            EVP_DigestUpdate(c, u, u_len) != 1 || EVP_DigestUpdate(c, v, v_len) != 1 ||
            EVP_DigestFinal_ex(c, block, &blen) != 1)
            goto out;
        memcpy(out + done, block, take);
        done += take;
    }
    rc = VOUCH_OK;
out:
    vouch_wipe(block, sizeof(block));
    EVP_MD_CTX_free(c);
    return rc;
}

/* ---------------- keys ---------------- */

/* Copies a big-endian value into a fixed-width field, accepting the leading
 * zeros a TPM may add or omit. */
static bool fit_be(const uint8_t *v, size_t n, uint8_t *field, size_t width)
{
    while (n > width && *v == 0) {
        v++;
        n--;
    }
    if (n > width)
        return false;
    memset(field, 0, width - n);
    memcpy(field + (width - n), v, n);
    return true;
}

static size_t ecc_field(uint16_t curve, enum vouch_curve *c)
{
    if (curve == VOUCH_TPM_ECC_NIST_P256) {
        *c = VOUCH_CURVE_P256;
        return P256_FIELD;
    }
    if (curve == VOUCH_TPM_ECC_NIST_P384) {
        *c = VOUCH_CURVE_P384;
        return P384_FIELD;
    }
    return 0;
}

vouch_err vouch_tpm_public_key(const struct vouch_tpm_public *pub, struct vouch_pubkey **out)
{
    uint8_t xy[2 * P384_FIELD], e[4];
    enum vouch_curve curve;
    size_t field;

    if (!pub || !out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (pub->type == VOUCH_TPM_ALG_RSA) {
        if ((size_t)pub->rsa_bits != 8 * pub->rsa_n_len || pub->rsa_bits < VOUCH_MIN_RSA_BITS ||
            pub->rsa_bits > VOUCH_MAX_RSA_BITS)
            return VOUCH_ERR_UNSUPPORTED;
        put_u32(e, pub->rsa_exponent);
        return vouch_pubkey_from_rsa_ne(pub->rsa_n, pub->rsa_n_len, e, sizeof(e), out);
    }
    if (pub->type != VOUCH_TPM_ALG_ECC || !(field = ecc_field(pub->ecc_curve, &curve)))
        return VOUCH_ERR_UNSUPPORTED;
    if (!fit_be(pub->ecc_x, pub->ecc_x_len, xy, field) ||
        !fit_be(pub->ecc_y, pub->ecc_y_len, xy + field, field))
        return VOUCH_ERR_PARSE;
    return vouch_pubkey_from_ec_xy(curve, xy, 2 * field, out);
}

/* ---------------- certificates ---------------- */

static void say(char *why, size_t cap, const char *msg)
{
    if (why && cap)
        snprintf(why, cap, "%s", msg);
}

vouch_err vouch_tpm_cert_verify(const uint8_t *der, size_t len, struct vouch_x509 *const *roots,
                                size_t n_roots, struct vouch_x509 *const *chain, size_t n_chain,
                                int64_t now, struct vouch_pubkey **key_out, char *why, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const unsigned char *q = der;
    X509 *leaf = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_VERIFY_PARAM *param;
    EVP_PKEY *pk;
    int err;

    vouch__ossl_begin();
    if (!der || !key_out || (!roots && n_roots) || (!chain && n_chain))
        return VOUCH_ERR_INVAL;
    *key_out = NULL;
    say(why, cap, "");
    if (len > VOUCH_MAX_CERT_SIZE) {
        say(why, cap, "the certificate is too large");
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (!(leaf = d2i_X509(NULL, &q, (long)len)) || q != der + len) {
        say(why, cap, "the certificate does not parse");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (!(store = X509_STORE_new()) || !(ctx = X509_STORE_CTX_new()) ||
        !(untrusted = sk_X509_new_null())) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_roots; i++) {
        if (X509_STORE_add_cert(store, roots[i]->x) != 1) {
            rc = vouch__ossl_fail("tpm_cert_verify: add root");
            goto out;
        }
    }
    for (size_t i = 0; i < n_chain; i++) {
        if (!sk_X509_push(untrusted, chain[i]->x)) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        rc = vouch__ossl_fail("tpm_cert_verify: init");
        goto out;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    /* Every listed certificate is an anchor (vendor intermediates included);
     * time is the caller's. */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(param, (time_t)now);
    if (X509_verify_cert(ctx) != 1) {
        err = X509_STORE_CTX_get_error(ctx);
        if (why && cap)
            snprintf(why, cap, "certificate chain: %s", X509_verify_cert_error_string(err));
        rc = (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
                 ? VOUCH_ERR_EXPIRED
                 : VOUCH_ERR_CHAIN;
        goto out;
    }
    if (!(pk = X509_get_pubkey(leaf))) {
        say(why, cap, "the certificate's public key is unusable");
        rc = vouch__ossl_fail("tpm_cert_verify: key");
        goto out;
    }
    rc = vouch__pubkey_wrap(pk, key_out);
out:
    vouch__ossl_drain("tpm_cert_verify");
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(leaf);
    return rc;
}

/* ---------------- MakeCredential ---------------- */

/* RSA EK: seed = random; secret = RSA-OAEP(nameAlg, label "IDENTITY\0")(seed). */
static vouch_err seed_rsa(const struct vouch_pubkey *ek, const EVP_MD *md, uint8_t *seed,
                          size_t seed_len, struct vouch_tpm_credential *out)
{
    static const char label[] = "IDENTITY"; /* the NUL is part of the label */
    vouch_err rc = VOUCH_ERR_CRYPTO;
    EVP_PKEY_CTX *pc = NULL;
    unsigned char *lab = NULL;
    size_t ct_len = sizeof(out->enc_secret) - 2;

    if ((rc = vouch_random(seed, seed_len)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_CRYPTO;
    if (!(pc = EVP_PKEY_CTX_new(ek->pkey, NULL)) || EVP_PKEY_encrypt_init(pc) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pc, md) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1)
        goto out;
    if (!(lab = OPENSSL_memdup(label, sizeof(label)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(pc, lab, (int)sizeof(label)) != 1)
        goto out;
    lab = NULL; /* owned by the context now */
    if (EVP_PKEY_encrypt(pc, out->enc_secret + 2, &ct_len, seed, seed_len) != 1)
        goto out;
    put_u16(out->enc_secret, ct_len);
    out->enc_secret_len = 2 + ct_len;
    rc = VOUCH_OK;
out:
    if (rc == VOUCH_ERR_CRYPTO)
        rc = vouch__ossl_fail("make_credential: oaep");
    OPENSSL_free(lab);
    EVP_PKEY_CTX_free(pc);
    return rc;
}

/* ECC EK: one-pass ECDH with an ephemeral key; seed = KDFe(nameAlg, Z,
 * "IDENTITY", ephemeral.x, EK.x); secret = the ephemeral TPMS_ECC_POINT. */
static vouch_err seed_ecc(const struct vouch_tpm_public *pub, const struct vouch_pubkey *ek,
                          const EVP_MD *md, uint8_t *seed, size_t seed_len,
                          struct vouch_tpm_credential *out)
{
    vouch_err rc = VOUCH_ERR_CRYPTO;
    EVP_PKEY_CTX *kc = NULL, *dc = NULL;
    EVP_PKEY *eph = NULL;
    BIGNUM *x = NULL, *y = NULL;
    uint8_t z[P384_FIELD], ex[P384_FIELD], ey[P384_FIELD], ekx[P384_FIELD];
    size_t z_len = sizeof(z), field;
    enum vouch_curve curve;
    uint8_t *p = out->enc_secret;

    if (!(field = ecc_field(pub->ecc_curve, &curve)) ||
        !fit_be(pub->ecc_x, pub->ecc_x_len, ekx, field))
        return VOUCH_ERR_UNSUPPORTED;
    if (!(kc = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey, NULL)) || EVP_PKEY_keygen_init(kc) != 1 ||
        EVP_PKEY_keygen(kc, &eph) != 1)
        goto out;
    if (!(dc = EVP_PKEY_CTX_new(eph, NULL)) || EVP_PKEY_derive_init(dc) != 1 ||
        EVP_PKEY_derive_set_peer(dc, ek->pkey) != 1 || EVP_PKEY_derive(dc, z, &z_len) != 1 ||
        z_len != field)
        goto out;
    if (EVP_PKEY_get_bn_param(eph, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(eph, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
        BN_bn2binpad(x, ex, (int)field) != (int)field ||
        BN_bn2binpad(y, ey, (int)field) != (int)field)
        goto out;
    if ((rc = kdfe(md, z, field, "IDENTITY", ex, field, ekx, field, seed, seed_len)) != VOUCH_OK)
        goto out;
    /* TPM2B_ENCRYPTED_SECRET { TPMS_ECC_POINT { TPM2B x, TPM2B y } } */
    put_u16(p, 4 + 2 * field);
    put_u16(p + 2, field);
    memcpy(p + 4, ex, field);
    put_u16(p + 4 + field, field);
    memcpy(p + 6 + field, ey, field);
    out->enc_secret_len = 6 + 2 * field;
    rc = VOUCH_OK;
out:
    if (rc == VOUCH_ERR_CRYPTO)
        rc = vouch__ossl_fail("make_credential: ecdh");
    vouch_wipe(z, sizeof(z));
    BN_free(x);
    BN_free(y);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_CTX_free(kc);
    EVP_PKEY_free(eph);
    return rc;
}

vouch_err vouch_tpm_make_credential(const struct vouch_tpm_public *ek, const uint8_t *name,
                                    size_t name_len, const uint8_t *secret, size_t secret_len,
                                    struct vouch_tpm_credential *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint32_t need = VOUCH_TPMA_RESTRICTED | VOUCH_TPMA_DECRYPT;
    const EVP_MD *md;
    const EVP_CIPHER *cipher;
    struct vouch_pubkey *key = NULL;
    EVP_CIPHER_CTX *cc = NULL;
    uint8_t seed[EVP_MAX_MD_SIZE], sym[32], hkey[EVP_MAX_MD_SIZE], iv[16] = {0};
    uint8_t plain[2 + VOUCH_TPM_MAX_DIGEST], *enc, mac[EVP_MAX_MD_SIZE];
    size_t hlen, enc_len;
    unsigned int mac_len = 0;
    int outl = 0, fin = 0;

    vouch__ossl_begin();
    if (!ek || !name || !secret || !out || name_len < 2 || name_len > VOUCH_TPM_MAX_NAME)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if ((ek->attributes & need) != need || (ek->attributes & VOUCH_TPMA_SIGN_ENCRYPT)) {
        rc = VOUCH_ERR_POLICY;
        goto out;
    }
    if (!(md = tpm_md(ek->name_alg)) || ek->name_alg == VOUCH_TPM_ALG_SHA1 ||
        ek->sym_alg != TPM_ALG_AES || ek->sym_mode != TPM_ALG_CFB ||
        (ek->sym_bits != 128 && ek->sym_bits != 256)) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    hlen = (size_t)EVP_MD_get_size(md);
    if (secret_len == 0 || secret_len > hlen) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    cipher = ek->sym_bits == 128 ? EVP_aes_128_cfb128() : EVP_aes_256_cfb128();
    if ((rc = vouch_tpm_public_key(ek, &key)) != VOUCH_OK)
        goto out;
    rc = ek->type == VOUCH_TPM_ALG_RSA ? seed_rsa(key, md, seed, hlen, out)
                                       : seed_ecc(ek, key, md, seed, hlen, out);
    if (rc != VOUCH_OK)
        goto out;

    /* encIdentity = AES-CFB(KDFa(seed, "STORAGE", Name))(TPM2B secret) */
    if ((rc = vouch_tpm_kdfa(ek->name_alg, seed, hlen, "STORAGE", name, name_len, NULL, 0,
                             ek->sym_bits, sym)) != VOUCH_OK)
        goto out;
    put_u16(plain, secret_len);
    memcpy(plain + 2, secret, secret_len);
    enc_len = 2 + secret_len;
    /* id_object: u16 size || u16 hlen || HMAC || encIdentity */
    enc = out->id_object + 4 + hlen;
    rc = VOUCH_ERR_CRYPTO;
    if (!(cc = EVP_CIPHER_CTX_new()) || EVP_EncryptInit_ex(cc, cipher, NULL, sym, iv) != 1 ||
        EVP_EncryptUpdate(cc, enc, &outl, plain, (int)enc_len) != 1 ||
        EVP_EncryptFinal_ex(cc, enc + outl, &fin) != 1 || (size_t)(outl + fin) != enc_len) {
        rc = vouch__ossl_fail("make_credential: cfb");
        goto out;
    }
    /* integrity = HMAC(KDFa(seed, "INTEGRITY"), encIdentity || Name) */
    if ((rc = vouch_tpm_kdfa(ek->name_alg, seed, hlen, "INTEGRITY", NULL, 0, NULL, 0, 8 * hlen,
                             hkey)) != VOUCH_OK)
        goto out;
    {
        uint8_t buf[2 + VOUCH_TPM_MAX_DIGEST + VOUCH_TPM_MAX_NAME];
        memcpy(buf, enc, enc_len);
        memcpy(buf + enc_len, name, name_len);
        if (!HMAC(md, hkey, (int)hlen, buf, enc_len + name_len, mac, &mac_len) || mac_len != hlen) {
            rc = vouch__ossl_fail("make_credential: hmac");
            goto out;
        }
    }
    put_u16(out->id_object, 2 + hlen + enc_len);
    put_u16(out->id_object + 2, hlen);
    memcpy(out->id_object + 4, mac, hlen);
    out->id_object_len = 4 + hlen + enc_len;
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("make_credential");
    vouch_wipe(seed, sizeof(seed));
    vouch_wipe(sym, sizeof(sym));
    vouch_wipe(hkey, sizeof(hkey));
    vouch_wipe(plain, sizeof(plain));
    EVP_CIPHER_CTX_free(cc);
    vouch_pubkey_free(key);
    if (rc != VOUCH_OK && out)
        vouch_wipe(out, sizeof(*out));
    return rc;
}

vouch_err vouch_tpm_credential_file(const struct vouch_tpm_credential *c, uint8_t *out, size_t cap,
                                    size_t *len_out)
{
    size_t n;

    if (!c || !out || !len_out || c->id_object_len > sizeof(c->id_object) ||
        c->enc_secret_len > sizeof(c->enc_secret))
        return VOUCH_ERR_INVAL;
    *len_out = 0;
    n = 8 + c->id_object_len + c->enc_secret_len;
    if (n > cap)
        return VOUCH_ERR_TOO_LARGE;
    put_u32(out, VOUCH_TPM_CRED_FILE_MAGIC);
    put_u32(out + 4, VOUCH_TPM_CRED_FILE_VERSION);
    memcpy(out + 8, c->id_object, c->id_object_len);
    memcpy(out + 8 + c->id_object_len, c->enc_secret, c->enc_secret_len);
    *len_out = n;
    return VOUCH_OK;
}
