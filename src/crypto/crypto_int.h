/*
 * Private to src/crypto: the concrete forms of the opaque crypto objects and
 * the OpenSSL error-queue helpers every file shares. Only src/crypto/ may
 * include this header (it pulls in OpenSSL).
 */
#ifndef VOUCH_CRYPTO_CRYPTO_INT_H
#define VOUCH_CRYPTO_CRYPTO_INT_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>

struct vouch_pubkey {
    EVP_PKEY *pkey;
    /* Resolved once at construction so the hot verify path never asks the
     * provider for the group name; 0 when not an EC key on P-256/P-384. */
    int curve;
};

struct vouch_x509 {
    X509 *x;
    atomic_uint refs;
    /* Everything below is computed at parse time: pinning and validity checks
     * run on every verification and must not re-encode or re-hash. */
    uint8_t *der;
    size_t der_len;
    uint8_t fp[VOUCH_SHA256_LEN];
    int64_t not_before;
    int64_t not_after;
    bool is_ca;
};

struct vouch_crl {
    X509_CRL *crl;
    int64_t this_update;
    int64_t next_update;
};

/** Starts an OpenSSL call sequence with an empty error queue. */
void vouch__ossl_begin(void);
/** Drains the error queue into the debug log, prefixed with @p what. */
void vouch__ossl_drain(const char *what);
/** Drains like vouch__ossl_drain and returns VOUCH_ERR_CRYPTO. */
vouch_err vouch__ossl_fail(const char *what);

/** The OpenSSL digest for @p alg, or NULL when unknown. */
const EVP_MD *vouch__crypto_md(enum vouch_hash_alg alg);

/** Converts an ASN1_TIME to Unix seconds without consulting the time zone. */
VOUCH_NODISCARD vouch_err vouch__asn1_time_to_unix(const ASN1_TIME *t, int64_t *out);

/** True when the two names have identical DER encodings. */
bool vouch__x509_name_der_eq(const X509_NAME *a, const X509_NAME *b);

/** Copies the first commonName of @p name as UTF-8, NUL-terminated. */
VOUCH_NODISCARD vouch_err vouch__x509_name_cn(const X509_NAME *name, char *out, size_t cap);

/* PEM framing helpers (pem.c). */
bool vouch__pem_is_space(uint8_t c);
bool vouch__has_prefix(const uint8_t *p, size_t len, const char *lit);
/** Offset of the first occurrence of @p lit in @p p, or @p len when absent. */
size_t vouch__find(const uint8_t *p, size_t len, const char *lit);
/**
 * Decodes the PEM block labelled @p label that must start at @p p. On success
 * @p der_out is owned by the caller (vouch_free) and @p consumed_out counts
 * the bytes through the END line's closing dashes. A decoded size over
 * @p max_der is TOO_LARGE; anything malformed is PARSE.
 */
VOUCH_NODISCARD vouch_err vouch__pem_decode(const uint8_t *p, size_t len, const char *label,
                                            size_t max_der, uint8_t **der_out, size_t *der_len_out,
                                            size_t *consumed_out);

/** Wraps @p pkey (taking the reference) in a new vouch_pubkey. */
VOUCH_NODISCARD vouch_err vouch__pubkey_wrap(EVP_PKEY *pkey, struct vouch_pubkey **out);

/* tls_peer.c: the info callback of server contexts with a client CA; files a
 * connection under its transport when its handshake completes. */
void vouch_tls_peer_on_info(const SSL *ssl, int where, int ret);

/* atls.c, for atls_mem.c: the verify callback of a verifying attested TLS
 * context records its result in a struct vouch_atls_conn found as the SSL's
 * app data. attach makes one that does not own @p ssl (vouch_atls_conn_free
 * releases it); status is VOUCH_OK once a verifier accepted the peer (or the
 * context has none), else the verifier's error with @p detail saying why. */
struct vouch_atls_ctx;
struct vouch_atls_conn;
VOUCH_NODISCARD vouch_err vouch__atls_conn_attach(struct vouch_atls_ctx *ctx, SSL *ssl,
                                                  struct vouch_atls_conn **out);
VOUCH_NODISCARD vouch_err vouch__atls_conn_status(const struct vouch_atls_conn *c,
                                                  const char **detail);

#endif
