/*
 * DER SubjectPublicKeyInfo of a public key: what signer ids and key-binding
 * hashes are computed over. Kept apart from sig.c so the encoding used for
 * identities lives in one place.
 */
#include "crypto/crypto_int.h"

#include <limits.h>
#include <string.h>
#include <vouch/mem.h>

vouch_err vouch_pubkey_spki_der(const struct vouch_pubkey *k, uint8_t **der_out,
                                size_t *der_len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    unsigned char *der = NULL;
    uint8_t *copy = NULL;
    int len;

    if (!der_out || !der_len_out)
        return VOUCH_ERR_INVAL;
    *der_out = NULL;
    *der_len_out = 0;
    vouch__ossl_begin();
    if (!k || !k->pkey) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    len = i2d_PUBKEY(k->pkey, &der);
    if (len <= 0 || !der) {
        rc = vouch__ossl_fail("pubkey_spki_der");
        goto out;
    }
    /* Hand out vouch_malloc memory so callers free it like every other
     * libvouch buffer (and fault injection covers it). */
    copy = vouch_memdup(der, (size_t)len);
    if (!copy) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    *der_out = copy;
    *der_len_out = (size_t)len;
    rc = VOUCH_OK;
out:
    OPENSSL_free(der);
    vouch__ossl_drain("pubkey_spki_der");
    return rc;
}
