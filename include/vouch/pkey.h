/*
 * Private signing keys and the public-key conversions a token issuer needs:
 * generate (RSA-2048/3072, EC P-256), load and save PEM files, sign with the
 * JWS algorithms RS256/PS256/ES256, export the public half as a JWK, build a
 * verification key from a JWK, and create the self-signed certificate that
 * carries a signing key in a JWKS x5c (and serves as a TLS certificate).
 *
 * A key file is PKCS#8 PEM, unencrypted, so its protection is the file mode:
 * vouch_pkey_save writes it with mode 0600 through a temporary file and an
 * atomic rename, and vouch_pkey_load refuses a file that the group or others
 * may read, or a symbolic link. Private key material never reaches the log.
 *
 * Time is an input: certificate validity is given by the caller.
 */
#ifndef VOUCH_PKEY_H
#define VOUCH_PKEY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vouch_pkey_type {
    VOUCH_PKEY_RSA_2048 = 1,
    VOUCH_PKEY_RSA_3072 = 2,
    VOUCH_PKEY_EC_P256 = 3,
};

/* JWS signature algorithms (RFC 7518 §3). */
enum vouch_sig_alg {
    VOUCH_SIG_RS256 = 1, /* RSASSA-PKCS1-v1_5 with SHA-256 */
    VOUCH_SIG_PS256 = 2, /* RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt */
    VOUCH_SIG_ES256 = 3, /* ECDSA on P-256 with SHA-256, raw r||s (64 bytes) */
};

/* What a public or private key can be used for. */
enum vouch_key_kind {
    VOUCH_KEY_OTHER = 0, /* anything we do not sign or verify tokens with */
    VOUCH_KEY_RSA = 1,
    VOUCH_KEY_EC_P256 = 2,
};

/* Largest signature any supported key produces (RSA at VOUCH_MAX_RSA_BITS). */
#define VOUCH_SIG_MAX_LEN (VOUCH_MAX_RSA_BITS / 8u)

/** The JWS name ("RS256", ...) of @p alg, or NULL when unknown. */
VOUCH_API const char *vouch_sig_alg_name(enum vouch_sig_alg alg);
/** Maps a JWS name to an algorithm; UNSUPPORTED for any other name (HS256,
 *  none, RS384 ...). The comparison is exact (case-sensitive), as RFC 7515. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_sig_alg_from_name(const char *name,
                                                            enum vouch_sig_alg *out);
/** The key kind @p alg needs. */
VOUCH_API enum vouch_key_kind vouch_sig_alg_key_kind(enum vouch_sig_alg alg);

/* ---- private keys ---- */

struct vouch_pkey;

/** Generates a new key from the OS-seeded CSPRNG. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_generate(enum vouch_pkey_type type,
                                                        struct vouch_pkey **out);
/** Parses an unencrypted PEM private key (PKCS#8, or traditional RSA/EC).
 *  Only RSA of VOUCH_MIN_RSA_BITS..VOUCH_MAX_RSA_BITS and EC P-256 are
 *  accepted (UNSUPPORTED otherwise). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_parse_pem(const uint8_t *p, size_t len,
                                                         struct vouch_pkey **out);
/**
 * Loads a key file. The file is opened with O_NOFOLLOW and must be a regular
 * file of at most VOUCH_MAX_KEY_FILE_SIZE bytes whose mode gives the group and
 * others no access at all (INVAL otherwise, before anything is read).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_load(const char *path, struct vouch_pkey **out);
/**
 * Saves @p k as PKCS#8 PEM: a new file "<path>.tmp-<random>" is created in the
 * same directory with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, written,
 * fsync'd and renamed over @p path, and the directory is fsync'd. On failure
 * the temporary file is removed and @p path is untouched.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_save(const struct vouch_pkey *k, const char *path);
/** The private key as PKCS#8 PEM text in a new buffer (NUL-terminated). The
 *  caller must vouch_wipe() it before vouch_free(): it is the secret key. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_to_pem(const struct vouch_pkey *k, char **pem_out,
                                                      size_t *len_out);
VOUCH_API void vouch_pkey_free(struct vouch_pkey *k);
VOUCH_API enum vouch_key_kind vouch_pkey_kind(const struct vouch_pkey *k);
/** Size of a signature by @p k in bytes (modulus size, or 64 for P-256). */
VOUCH_API size_t vouch_pkey_sig_len(const struct vouch_pkey *k);
/**
 * Signs @p msg with @p alg into @p sig (@p sig_cap bytes). INVAL when the key
 * kind does not fit @p alg (an RSA key cannot make ES256), TOO_LARGE when the
 * buffer is short. ES256 output is raw r||s as JWS requires, not DER.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_sign(const struct vouch_pkey *k,
                                                    enum vouch_sig_alg alg, const void *msg,
                                                    size_t msg_len, uint8_t *sig, size_t sig_cap,
                                                    size_t *sig_len_out);
/** The public half as a verification key (free with vouch_pubkey_free). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_public(const struct vouch_pkey *k,
                                                      struct vouch_pubkey **out);

/* ---- public keys and JWK (RFC 7517/7518 §6) ---- */

VOUCH_API enum vouch_key_kind vouch_pkey_pub_kind(const struct vouch_pubkey *k);
/** Key size in bits (RSA modulus or curve order), 0 when unknown. */
VOUCH_API unsigned vouch_pkey_pub_bits(const struct vouch_pubkey *k);
/** True when both keys are the same public key. */
VOUCH_API bool vouch_pkey_pub_eq(const struct vouch_pubkey *a, const struct vouch_pubkey *b);
/** The public JWK: {"kty":"RSA","n","e"} or {"kty":"EC","crv":"P-256","x","y"},
 *  values base64url without padding (new reference; json_decref). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_pub_to_jwk(const struct vouch_pubkey *k,
                                                          json_t **out);
/**
 * Builds a verification key from the key members of a JWK: kty "RSA" with n
 * and e, or kty "EC" with crv "P-256", x and y (32 bytes each, on the curve).
 * Values must be canonical base64url without padding; n must have no leading
 * zero octet and at most VOUCH_MAX_RSA_BITS bits; e must be odd and > 1.
 * A JWK carrying private members (d, p, q, dp, dq, qi, oth, k) is refused
 * (INVAL): a published key set must not leak a private key. Other kty or crv
 * values are UNSUPPORTED; malformed members are PARSE. Other JWK members
 * (kid, use, alg, x5c ...) are ignored here.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_pub_from_jwk(const json_t *jwk,
                                                            struct vouch_pubkey **out);

/* ---- self-signed certificates ---- */

struct vouch_cert_spec {
    const char *common_name;      /* subject and issuer CN; 1..64 characters */
    const char *const *dns_names; /* subjectAltName dNSName entries */
    size_t n_dns;
    const char *const *ip_addrs; /* subjectAltName iPAddress entries, IPv4 or IPv6 text */
    size_t n_ip;
    int64_t not_before; /* Unix seconds */
    int64_t not_after;  /* Unix seconds, > not_before */
    bool ca;            /* basicConstraints CA:TRUE and keyCertSign */
    bool server_auth;   /* extendedKeyUsage serverAuth (a TLS server cert) */
};

/**
 * Creates a self-signed X.509 v3 certificate for @p k (SHA-256 with RSA
 * PKCS#1 v1.5 or ECDSA) with a random 128-bit serial, subject = issuer = CN,
 * subjectKeyIdentifier and authorityKeyIdentifier, keyUsage, and the SANs of
 * @p spec. Returns the DER encoding (free with vouch_free).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_self_signed_cert(const struct vouch_pkey *k,
                                                                const struct vouch_cert_spec *spec,
                                                                uint8_t **der_out,
                                                                size_t *der_len_out);
/** PEM "CERTIFICATE" text for a DER certificate (NUL-terminated; vouch_free). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pkey_cert_pem(const uint8_t *der, size_t len,
                                                        char **pem_out);

#ifdef __cplusplus
}
#endif
#endif
