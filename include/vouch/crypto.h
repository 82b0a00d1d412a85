/*
 * Crypto: the only doorway to OpenSSL 3. Hashes, ECDSA/RSA/RSA-PSS signature
 * verification, X.509 certificates and CRLs, keys and randomness.
 *
 * Objects are opaque and owned by the caller (free with the matching _free,
 * which accepts NULL). Verification functions return VOUCH_OK only when the
 * check passed; a signature that does not verify is VOUCH_ERR_SIGNATURE, and
 * VOUCH_ERR_CRYPTO means the library itself failed. The OpenSSL error queue is
 * cleared before and drained after every call, so no state leaks between
 * callers. Nothing here reads the clock: validity checks take @p now.
 *
 * Thread safety: objects may be shared read-only between threads once built.
 */
#ifndef VOUCH_CRYPTO_H
#define VOUCH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vouch_hash_alg {
    VOUCH_HASH_SHA1 = 1,
    VOUCH_HASH_SHA256 = 2,
    VOUCH_HASH_SHA384 = 3,
    VOUCH_HASH_SHA512 = 4,
};

#define VOUCH_SHA256_LEN   32u
#define VOUCH_SHA384_LEN   48u
#define VOUCH_SHA512_LEN   64u
#define VOUCH_MAX_HASH_LEN 64u

/** Digest length of @p alg, or 0 if unknown. */
VOUCH_API size_t vouch_hash_len(enum vouch_hash_alg alg);
/** One-shot digest of @p len bytes into @p out (vouch_hash_len(alg) bytes). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hash(enum vouch_hash_alg alg, const void *p, size_t len,
                                               uint8_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_sha256(const void *p, size_t len,
                                                 uint8_t out[VOUCH_SHA256_LEN]);

/*
 * A reusable digest context for hot loops such as PCR replay, where one
 * verification hashes hundreds of short inputs: the implementation is fetched
 * once at creation and nothing is allocated per digest. Not thread-safe; use
 * one per thread. Free with vouch_hasher_free (accepts NULL).
 */
struct vouch_hasher;
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hasher_new(enum vouch_hash_alg alg,
                                                     struct vouch_hasher **out);
VOUCH_API void vouch_hasher_free(struct vouch_hasher *h);
/** Digest length of @p h's algorithm. */
VOUCH_API size_t vouch_hasher_len(const struct vouch_hasher *h);
/** Writes H(@p a || @p b) (either may be empty) to @p out, vouch_hasher_len bytes. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hasher_digest2(struct vouch_hasher *h, const void *a,
                                                         size_t a_len, const void *b, size_t b_len,
                                                         uint8_t *out);

/* Incremental hashing over several pieces. */
struct vouch_hash_ctx;
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hash_init(enum vouch_hash_alg alg,
                                                    struct vouch_hash_ctx **out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hash_update(struct vouch_hash_ctx *c, const void *p,
                                                      size_t len);
/** Writes the digest and frees the context in every case. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hash_final(struct vouch_hash_ctx *c, uint8_t *out);
VOUCH_API void vouch_hash_ctx_free(struct vouch_hash_ctx *c);

/** Fills @p p with @p len bytes from the OS-seeded CSPRNG. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_random(void *p, size_t len);

/* ---- public keys and signature verification ---- */

enum vouch_curve {
    VOUCH_CURVE_P256 = 1,
    VOUCH_CURVE_P384 = 2,
};

struct vouch_pubkey;

/** Builds an EC public key from raw X||Y (64 bytes for P-256, 96 for P-384).
 *  The point must lie on the curve. Keys built recently are remembered (by
 *  their exact bytes, VOUCH_EC_PUBKEY_CACHE_SLOTS of them) and shared. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pubkey_from_ec_xy(enum vouch_curve curve,
                                                            const uint8_t *xy, size_t len,
                                                            struct vouch_pubkey **out);
/**
 * Builds an RSA public key from its raw big-endian modulus @p n and public
 * exponent @p e (as TPM2B_PUBLIC_KEY_RSA and JWK carry them). Leading zero
 * octets are ignored. The modulus must be odd and at most VOUCH_MAX_RSA_BITS
 * bits, the exponent odd, at least 3 and at most 8 octets: PARSE otherwise.
 * The minimum key size is the caller's policy.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pubkey_from_rsa_ne(const uint8_t *n, size_t n_len,
                                                             const uint8_t *e, size_t e_len,
                                                             struct vouch_pubkey **out);
/** Parses a DER SubjectPublicKeyInfo or a PEM "PUBLIC KEY". */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pubkey_parse(const uint8_t *p, size_t len,
                                                       struct vouch_pubkey **out);
VOUCH_API void vouch_pubkey_free(struct vouch_pubkey *k);
/** True when @p k is an EC key on @p curve. */
VOUCH_API bool vouch_pubkey_is_ec(const struct vouch_pubkey *k, enum vouch_curve curve);
/** The DER SubjectPublicKeyInfo of @p k in a new buffer (free with vouch_free):
 *  the canonical encoding signer ids and key-binding hashes are taken over. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_pubkey_spki_der(const struct vouch_pubkey *k,
                                                          uint8_t **der_out, size_t *der_len_out);

/**
 * Verifies an ECDSA signature given as raw big-endian r||s (2 * field size)
 * over @p msg hashed with @p alg. Returns SIGNATURE when it does not verify.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_ecdsa_verify_raw(const struct vouch_pubkey *k,
                                                           enum vouch_hash_alg alg, const void *msg,
                                                           size_t msg_len, const uint8_t *sig,
                                                           size_t sig_len);
/** Same with r and s given little-endian in @p rs_len-byte fields (AMD SEV-SNP). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_ecdsa_verify_le(const struct vouch_pubkey *k,
                                                          enum vouch_hash_alg alg, const void *msg,
                                                          size_t msg_len, const uint8_t *r_le,
                                                          const uint8_t *s_le, size_t rs_len);
/** Verifies a DER-encoded ECDSA signature. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_ecdsa_verify_der(const struct vouch_pubkey *k,
                                                           enum vouch_hash_alg alg, const void *msg,
                                                           size_t msg_len, const uint8_t *sig,
                                                           size_t sig_len);

enum vouch_rsa_padding {
    VOUCH_RSA_PKCS1 = 1,
    VOUCH_RSA_PSS = 2, /* MGF1 with the same hash; salt length from the signature */
};

/** Verifies an RSA signature over @p msg hashed with @p alg. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_rsa_verify(const struct vouch_pubkey *k,
                                                     enum vouch_hash_alg alg,
                                                     enum vouch_rsa_padding pad, const void *msg,
                                                     size_t msg_len, const uint8_t *sig,
                                                     size_t sig_len);
/** Verifies over an already computed digest (TPM quotes sign a digest). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_rsa_verify_digest(const struct vouch_pubkey *k,
                                                            enum vouch_hash_alg alg,
                                                            enum vouch_rsa_padding pad,
                                                            const uint8_t *digest,
                                                            const uint8_t *sig, size_t sig_len);

/* ---- X.509 certificates ---- */

struct vouch_x509;

/** Parses one DER certificate (at most VOUCH_MAX_CERT_SIZE bytes). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_parse_der(const uint8_t *p, size_t len,
                                                         struct vouch_x509 **out);
/** Parses one DER or PEM certificate (the first in a PEM bundle). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_parse(const uint8_t *p, size_t len,
                                                     struct vouch_x509 **out);
/**
 * Parses a PEM bundle into up to @p max certificates, in file order. Trailing
 * NUL bytes are ignored; any other trailing content is PARSE. Zero certificates
 * is PARSE; more than @p max is TOO_LARGE. Free each with vouch_x509_free.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_parse_pem_chain(const uint8_t *p, size_t len,
                                                               struct vouch_x509 **certs,
                                                               size_t max, size_t *n_out);
/**
 * Like vouch_x509_parse_pem_chain, but a certificate whose DER equals that of
 * one of the @p n_known certificates in @p known (NULL entries are skipped)
 * comes back as a new reference to that object instead of being parsed again.
 * Under OpenSSL 3.0 parsing a certificate costs about three P-256 signature
 * verifications, so verifiers pass the CA certificates they already hold.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_parse_pem_chain_reuse(
    const uint8_t *p, size_t len, struct vouch_x509 *const *known, size_t n_known,
    struct vouch_x509 **certs, size_t max, size_t *n_out);
VOUCH_API void vouch_x509_free(struct vouch_x509 *c);
/** Adds a reference; the object is freed when the last reference goes. */
VOUCH_API struct vouch_x509 *vouch_x509_ref(struct vouch_x509 *c);

/** Borrowed DER encoding of the certificate. */
VOUCH_API void vouch_x509_der(const struct vouch_x509 *c, const uint8_t **p, size_t *len);
/** SHA-256 of the DER certificate (the pinning fingerprint). */
VOUCH_API void vouch_x509_fingerprint(const struct vouch_x509 *c, uint8_t out[VOUCH_SHA256_LEN]);
/** The subject (or issuer) commonName, NUL-terminated; TOO_LARGE if > cap-1. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_subject_cn(const struct vouch_x509 *c, char *out,
                                                          size_t cap);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_issuer_cn(const struct vouch_x509 *c, char *out,
                                                         size_t cap);
/** True when @p c's issuer name equals @p issuer's subject name (DER compare). */
VOUCH_API bool vouch_x509_issued_by_name(const struct vouch_x509 *c,
                                         const struct vouch_x509 *issuer);
/** Serial number as big-endian magnitude bytes. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_serial(const struct vouch_x509 *c, uint8_t *out,
                                                      size_t cap, size_t *len_out);
/** notBefore / notAfter as Unix seconds. */
VOUCH_API void vouch_x509_validity(const struct vouch_x509 *c, int64_t *not_before,
                                   int64_t *not_after);
/** True when basicConstraints says CA:TRUE. */
VOUCH_API bool vouch_x509_is_ca(const struct vouch_x509 *c);
/** Verifies @p c's signature with @p issuer's public key (ECDSA, RSA, RSA-PSS). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_verify_signed_by(const struct vouch_x509 *c,
                                                                const struct vouch_x509 *issuer);
/** New reference to the subject public key (free with vouch_pubkey_free). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_pubkey(const struct vouch_x509 *c,
                                                      struct vouch_pubkey **out);
/**
 * Finds the extension with dotted OID @p oid and returns a borrowed view of its
 * extnValue contents (the DER inside the OCTET STRING). NOT_FOUND if absent.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_extension(const struct vouch_x509 *c,
                                                         const char *oid, const uint8_t **p,
                                                         size_t *len);

/**
 * Checks a chain as a signer presents it (a JWS x5c array): @p chain[0] is
 * the signing certificate, each next one issued it. Every certificate must be
 * valid at @p now; the leaf's keyUsage (when present) must allow
 * digitalSignature; each issuer must be a CA (basicConstraints CA:TRUE,
 * keyCertSign when keyUsage is present, path lengths honoured) whose
 * signature verifies; every certificate must be on the path. The last one is
 * the anchor for this call only (the caller pins what it trusts); a
 * self-signed anchor's signature is checked too. One certificate: only its
 * validity and keyUsage. EXPIRED, CHAIN or INVAL, with @p why filled.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_chain_verify(struct vouch_x509 *const *chain,
                                                            size_t n, int64_t now, char *why,
                                                            size_t cap);

/* ---- CRLs ---- */

struct vouch_crl;

/** Parses a CRL given as DER, PEM, or hex of DER (as Intel's PCCS serves it). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_crl_parse(const uint8_t *p, size_t len,
                                                    struct vouch_crl **out);
VOUCH_API void vouch_crl_free(struct vouch_crl *crl);
/** Verifies the CRL's signature with @p issuer's key and that its issuer name
 *  equals @p issuer's subject. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_crl_verify_signed_by(const struct vouch_crl *crl,
                                                               const struct vouch_x509 *issuer);
/** thisUpdate / nextUpdate as Unix seconds (next is INT64_MAX when absent). */
VOUCH_API void vouch_crl_validity(const struct vouch_crl *crl, int64_t *this_update,
                                  int64_t *next_update);
/** True when @p c's serial is listed on @p crl (issuer names must be checked separately). */
VOUCH_API bool vouch_crl_lists(const struct vouch_crl *crl, const struct vouch_x509 *c);
/** True when the CRL's issuer name equals @p c's subject name. */
VOUCH_API bool vouch_crl_issued_by_name(const struct vouch_crl *crl, const struct vouch_x509 *c);
/** The CRL issuer's commonName. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_crl_issuer_cn(const struct vouch_crl *crl, char *out,
                                                        size_t cap);

#ifdef __cplusplus
}
#endif
#endif
