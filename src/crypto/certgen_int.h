/*
 * Private to src/crypto: the EVP_PKEY behind a struct vouch_pkey (certgen.c),
 * for attested TLS, which must hand the key to an SSL_CTX.
 */
#ifndef VOUCH_CRYPTO_CERTGEN_INT_H
#define VOUCH_CRYPTO_CERTGEN_INT_H

#include <openssl/evp.h>
#include <vouch/pkey.h>

/** A new EVP_PKEY holding @p k's private key (EVP_PKEY_free). */
VOUCH_NODISCARD vouch_err vouch__pkey_to_evp(const struct vouch_pkey *k, EVP_PKEY **out);

#endif
