/*
 * Checking a certificate chain as a signer presents it (a JWS x5c header), see
 * vouch_x509_chain_verify in vouch/crypto.h. OpenSSL's verifier does the
 * issuer checks (basicConstraints, keyUsage keyCertSign, path length, name
 * chaining, signatures); the last certificate is the anchor only for this
 * call, because the caller pins the leaf (or the anchor) itself.
 */
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <vouch/crypto.h>
#include <vouch/limits.h>

#include "crypto/crypto_int.h"

vouch_err vouch_x509_chain_verify(struct vouch_x509 *const *chain, size_t n, int64_t now, char *why,
                                  size_t cap)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_VERIFY_PARAM *param;
    const struct vouch_x509 *leaf;
    vouch_err rc = VOUCH_ERR_INVAL;

    if (cap)
        why[0] = 0;
    if (!chain || n == 0 || n > VOUCH_MAX_X5C_CERTS) {
        snprintf(why, cap, "a chain has 1 to %u certificates", VOUCH_MAX_X5C_CERTS);
        return VOUCH_ERR_INVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!chain[i])
            return VOUCH_ERR_INVAL;
        /* Checked here, with a clear message, before OpenSSL's own checks. */
        if (now < chain[i]->not_before || now > chain[i]->not_after) {
            snprintf(why, cap, "certificate %zu of the chain is not valid at the evaluation time",
                     i);
            return VOUCH_ERR_EXPIRED;
        }
    }
    leaf = chain[0];
    /* The leaf signs: with a keyUsage extension, digitalSignature must be in it. */
    if ((X509_get_extension_flags(leaf->x) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(leaf->x) & KU_DIGITAL_SIGNATURE)) {
        snprintf(why, cap, "the signer certificate's keyUsage does not allow digitalSignature");
        return VOUCH_ERR_CHAIN;
    }
    if (n == 1)
        return VOUCH_OK;

    vouch__ossl_begin();
    rc = VOUCH_ERR_NOMEM;
    if (!(store = X509_STORE_new()) || !(ctx = X509_STORE_CTX_new()) ||
        !(untrusted = sk_X509_new_null()))
        goto out;
    if (X509_STORE_add_cert(store, chain[n - 1]->x) != 1)
        goto out;
    for (size_t i = 1; i + 1 < n; i++)
        if (!sk_X509_push(untrusted, chain[i]->x))
            goto out;
    if (X509_STORE_CTX_init(ctx, store, leaf->x, untrusted) != 1)
        goto out;
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)now);
    /* The anchor need not be self-signed (the caller pins what it trusts), but
     * a self-signed one must carry a valid signature. */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_CHECK_SS_SIGNATURE);
    rc = VOUCH_ERR_CHAIN;
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        snprintf(why, cap, "the x5c chain does not verify at certificate %d: %s",
                 X509_STORE_CTX_get_error_depth(ctx), X509_verify_cert_error_string(e));
        rc = (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
                 ? VOUCH_ERR_EXPIRED
                 : VOUCH_ERR_CHAIN;
        goto out;
    }
    /* Every certificate the signer sent must be part of the verified path:
     * extras would be certificates nobody checked. */
    if ((size_t)X509_STORE_CTX_get_num_untrusted(ctx) + 1u != n) {
        snprintf(why, cap, "the x5c chain holds certificates that are not on the signer's path");
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (rc == VOUCH_ERR_NOMEM)
        snprintf(why, cap, "out of memory");
    vouch__ossl_drain("x509 chain");
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}
