/*
 * HKDF-SHA256 and AES-256-GCM for sealing (declared in include/vouch/seal.h).
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <string.h>
#include <vouch/mem.h>
#include <vouch/seal.h>

#include "crypto/crypto_int.h"

vouch_err vouch_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                            const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;
    OSSL_PARAM params[5], *p = params;
    vouch_err rc = VOUCH_ERR_CRYPTO;

    if (!ikm || ikm_len == 0 || !out || out_len == 0 || (salt_len && !salt) || (info_len && !info))
        return VOUCH_ERR_INVAL;
    vouch__ossl_begin();
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (!ctx)
        goto out;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
        rc = VOUCH_OK;
    else
        vouch_wipe(out, out_len);
out:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    vouch__ossl_drain("hkdf");
    return rc;
}

static bool len_ok(size_t n)
{
    return n <= INT32_MAX;
}

static bool add_aad(EVP_CIPHER_CTX *c, const void *aad, size_t len, bool enc)
{
    int n;
    if (len == 0)
        return true;
    return aad && len_ok(len) &&
           (enc ? EVP_EncryptUpdate(c, NULL, &n, aad, (int)len)
                : EVP_DecryptUpdate(c, NULL, &n, aad, (int)len)) == 1;
}

vouch_err vouch_aes256gcm_encrypt(const uint8_t key[32], const uint8_t nonce[12], const void *aad,
                                  size_t aad_len, const void *aad2, size_t aad2_len,
                                  const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = NULL;
    vouch_err rc = VOUCH_ERR_CRYPTO;
    int n = 0, fin = 0;

    if (!key || !nonce || !tag || (len && (!pt || !ct)) || !len_ok(len))
        return VOUCH_ERR_INVAL;
    vouch__ossl_begin();
    c = EVP_CIPHER_CTX_new();
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
        EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) != 1 || !add_aad(c, aad, aad_len, true) ||
        !add_aad(c, aad2, aad2_len, true))
        goto out;
    if (len && EVP_EncryptUpdate(c, ct, &n, pt, (int)len) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(c, ct + n, &fin) != 1 || (size_t)(n + fin) != len ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
        goto out;
    rc = VOUCH_OK;
out:
    EVP_CIPHER_CTX_free(c); /* clears the key schedule */
    vouch__ossl_drain("aes_gcm_encrypt");
    return rc;
}

vouch_err vouch_aes256gcm_decrypt(const uint8_t key[32], const uint8_t nonce[12], const void *aad,
                                  size_t aad_len, const void *aad2, size_t aad2_len,
                                  const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt)
{
    EVP_CIPHER_CTX *c = NULL;
    vouch_err rc = VOUCH_ERR_CRYPTO;
    uint8_t tagcopy[16];
    int n = 0, fin = 0;

    if (!key || !nonce || !tag || (len && (!pt || !ct)) || !len_ok(len))
        return VOUCH_ERR_INVAL;
    memcpy(tagcopy, tag, sizeof(tagcopy));
    vouch__ossl_begin();
    c = EVP_CIPHER_CTX_new();
    if (!c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
        EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) != 1 || !add_aad(c, aad, aad_len, false) ||
        !add_aad(c, aad2, aad2_len, false))
        goto out;
    if (len && EVP_DecryptUpdate(c, pt, &n, ct, (int)len) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tagcopy) != 1)
        goto out;
    /* The final call checks the tag; a mismatch is a forged or damaged blob. */
    if (EVP_DecryptFinal_ex(c, pt + n, &fin) != 1) {
        rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    rc = (size_t)(n + fin) == len ? VOUCH_OK : VOUCH_ERR_CRYPTO;
out:
    if (rc != VOUCH_OK && len && pt)
        vouch_wipe(pt, len);
    EVP_CIPHER_CTX_free(c);
    vouch__ossl_drain("aes_gcm_decrypt");
    return rc;
}
