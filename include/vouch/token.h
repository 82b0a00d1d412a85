/*
 * Attestation tokens: JWTs in JWS compact form (RFC 7515/7519), the JWKS that
 * publishes their verification keys (RFC 7517), and the OpenID discovery
 * document, all in the shape Microsoft Azure Attestation (MAA) uses, so that
 * tokens from our service and from Azure verify the same way.
 *
 * Issuing: the header is {"alg","jku","kid","typ":"JWT"} in that order, as MAA
 * emits it; the payload is the caller's claims plus iat, nbf (= iat), exp and
 * jti (32 random bytes as 64 lowercase hex), serialised with sorted keys. Time
 * is an input. Unsigned tokens ({"alg":"none"}, empty signature) exist only
 * for MAA's draft-policy calls and have their own function.
 *
 * Verifying is strict, and every check runs before anything in the token is
 * trusted:
 *  - exactly three segments of canonical base64url without padding, within
 *    VOUCH_MAX_TOKEN_SIZE; header and payload are JSON objects without
 *    duplicate keys (vouch_json_parse);
 *  - the header alg must be on the caller's allow-list (default RS256, PS256,
 *    ES256; names are case-sensitive); "none" only with allow_unsigned, and
 *    then only with an empty signature; a "crit" or "b64" header is refused;
 *  - the key comes from the caller's JWKS only. Header members that carry or
 *    point at keys (jwk, jku, x5c, x5u) are never used: a token cannot
 *    introduce its own key. With a kid, only JWKS keys with exactly that kid
 *    are candidates, and an unknown kid is rejected (no fallback to other
 *    keys). Without a kid every JWKS key is tried, as MAA's clients do;
 *  - the key type must fit the algorithm (RS256/PS256 need RSA of at least
 *    VOUCH_MIN_RSA_BITS, ES256 needs EC P-256); a JWK "alg", "use" or
 *    "key_ops" that excludes the token's algorithm excludes the key. This is
 *    what defeats algorithm confusion (for example HS256 keyed with the RSA
 *    public key bytes: HS256 is not an algorithm we know);
 *  - exp is required (by default) and nbf honoured, both integer NumericDates
 *    compared with the caller's time and skew; iss, when the caller names an
 *    issuer, must be exactly equal.
 * The result carries the parsed header and claims even when the token is
 * rejected (for display), and a precise reason for the rejection. Claims are
 * only trustworthy when vouch_token_verify returned VOUCH_OK.
 */
#ifndef VOUCH_TOKEN_H
#define VOUCH_TOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/limits.h>
#include <vouch/pkey.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MAA's token lifetime (exp - iat), which it documents as fixed. */
#define VOUCH_TOKEN_DEFAULT_LIFETIME 28800
/* Allowed clock difference between issuer and verifier, in seconds. */
#define VOUCH_TOKEN_DEFAULT_SKEW 60

/* Allow-list bits for struct vouch_token_opts.algs. */
#define VOUCH_TOKEN_ALG(a) (1u << (unsigned)(a))
#define VOUCH_TOKEN_ALGS_DEFAULT                                           \
    (VOUCH_TOKEN_ALG(VOUCH_SIG_RS256) | VOUCH_TOKEN_ALG(VOUCH_SIG_PS256) | \
     VOUCH_TOKEN_ALG(VOUCH_SIG_ES256))

/* An RFC 7638 SHA-256 thumbprint in base64url: 43 characters. */
#define VOUCH_TOKEN_KID_LEN 43u

/* ---- issuing ---- */

struct vouch_token_signer {
    const struct vouch_pkey *key; /* borrowed */
    enum vouch_sig_alg alg;       /* must fit the key */
    const char *kid;              /* required, 1..VOUCH_MAX_KID_LEN characters */
    const char *jku;              /* "<issuer>/certs"; NULL leaves the member out */
};

/**
 * Issues a signed JWT: the claims in @p claims (an object; not modified) plus
 * iat = @p iat, nbf = @p iat, exp = @p iat + @p lifetime and a fresh jti,
 * which replace any claims of those names. @p lifetime must be positive.
 * The token is NUL-terminated text (free with vouch_free).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_token_issue(const struct vouch_token_signer *s,
                                                      const json_t *claims, int64_t iat,
                                                      int64_t lifetime, char **token_out);
/** Like vouch_token_issue but signs @p payload exactly as given (no time
 *  claims or jti are added), for callers that control every claim. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_token_sign(const struct vouch_token_signer *s,
                                                     const json_t *payload, char **token_out);
/**
 * Issues an UNSIGNED token, header {"alg":"none"} and an empty signature, as
 * MAA does for draftPolicyForAttestation. Anyone can forge such a token; a
 * service must only produce it when the caller explicitly asked for a draft.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_token_issue_unsigned(const json_t *claims, int64_t iat,
                                                               int64_t lifetime, char **token_out);

/* ---- key sets ---- */

struct vouch_jwks;

/**
 * Parses a JWKS document {"keys":[...]} (at most VOUCH_MAX_JWKS_SIZE bytes and
 * VOUCH_MAX_JWKS_KEYS keys). Each key takes its public key from its JWK
 * members (n/e or crv/x/y), from x5c[0] (standard base64 DER, as MAA
 * publishes keys), or both, and then both must be the same key; x5t and
 * x5t#S256, when present, must match x5c[0]. Keys of a type we cannot use
 * (kty "oct" or "OKP", curves other than P-256, RSA below VOUCH_MIN_RSA_BITS,
 * use "enc") are kept but never selected, so a token naming one is rejected
 * with that reason; a key that is malformed makes the whole document PARSE.
 * The certificate in x5c is only a key container: its validity dates and
 * chain are not checked (the JWKS itself is the trust anchor). On failure
 * @p err_out (if given) says which key and why.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_jwks_parse(const char *text, size_t len,
                                                     struct vouch_jwks **out, char *err_out,
                                                     size_t err_cap);
/** Same, from an already parsed document. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_jwks_from_json(const json_t *doc, struct vouch_jwks **out,
                                                         char *err_out, size_t err_cap);
VOUCH_API void vouch_jwks_free(struct vouch_jwks *jwks);
/** Number of keys listed, usable or not. */
VOUCH_API size_t vouch_jwks_count(const struct vouch_jwks *jwks);

/* One key to publish. */
struct vouch_jwks_entry {
    const struct vouch_pubkey *key; /* borrowed */
    const char *kid;                /* required */
    enum vouch_sig_alg alg;         /* 0 leaves "alg" out, as MAA does */
    const uint8_t *cert_der;        /* self-signed certificate for x5c; NULL leaves x5c out */
    size_t cert_len;
};

/**
 * Builds {"keys":[{"kty","kid","use":"sig","alg"?, n,e | crv,x,y, "x5c"?}]}
 * with x5c as standard base64 DER (MAA's form). A certificate whose key is
 * not @p key is a MISMATCH. Kids must be unique (INVAL).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_jwks_build(const struct vouch_jwks_entry *entries,
                                                     size_t n, json_t **out);
/**
 * The kid we give a key: its RFC 7638 JWK thumbprint (SHA-256, base64url,
 * VOUCH_TOKEN_KID_LEN characters). MAA's kids are opaque values taken from its
 * enclave report, so there is no Azure formula to follow; clients only
 * compare kids as strings.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_token_kid(const struct vouch_pubkey *key,
                                                    char out[VOUCH_TOKEN_KID_LEN + 1]);

/**
 * The /.well-known/openid-configuration document for @p issuer (an http(s)
 * URL without a trailing slash, query or fragment): issuer, jwks_uri =
 * issuer + "/certs", revocation_endpoint, response_types_supported,
 * id_token_signing_alg_values_supported (from @p algs, a VOUCH_TOKEN_ALG mask)
 * and MAA's claims_supported list.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_token_openid_config(const char *issuer, unsigned algs,
                                                              json_t **out);

/* ---- verifying ---- */

struct vouch_token_opts {
    unsigned algs;       /* VOUCH_TOKEN_ALG mask; 0 means VOUCH_TOKEN_ALGS_DEFAULT */
    bool allow_unsigned; /* accept alg "none" (draft-policy tokens); default false */
    const char *issuer;  /* exact iss to require; NULL does not check iss */
    int64_t now;         /* evaluation time, Unix seconds */
    int64_t skew;        /* seconds of tolerance on exp and nbf (>= 0) */
    bool require_exp;    /* a token without exp is rejected; default true */
};

/** Defaults: the three signature algorithms, no unsigned tokens, no issuer
 *  check, VOUCH_TOKEN_DEFAULT_SKEW, exp required, evaluated at @p now. */
VOUCH_API void vouch_token_opts_init(struct vouch_token_opts *o, int64_t now);

struct vouch_token_result {
    json_t *header;                  /* owned; NULL when the header did not parse */
    json_t *claims;                  /* owned; NULL when the payload did not parse. NOT trusted
                                      * unless vouch_token_verify returned VOUCH_OK */
    enum vouch_sig_alg alg;          /* the verified algorithm; 0 for an accepted unsigned token */
    bool is_unsigned;                /* accepted as alg "none" (allow_unsigned) */
    char kid[VOUCH_MAX_KID_LEN + 1]; /* kid of the key that verified ("" if it had none) */
    char reason[VOUCH_MAX_ERROR_DETAIL]; /* why the token was rejected; "" on success */
};

/**
 * Verifies the compact JWS @p token (@p len bytes, no surrounding whitespace)
 * against @p jwks (may be NULL only when allow_unsigned is set and the token is
 * unsigned). Returns VOUCH_OK only for a valid token. Rejections: PARSE or
 * TOO_LARGE (malformed), UNSUPPORTED (algorithm not allowed, crit), NOT_FOUND
 * (unknown kid), MISMATCH (key type or restrictions do not fit the algorithm,
 * wrong issuer), SIGNATURE, EXPIRED (exp or nbf), VERIFY (other claim
 * problems); @p res->reason says precisely which. @p res is reset on entry and
 * must be released with vouch_token_result_free in every case.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_token_verify(const char *token, size_t len,
                                                       const struct vouch_jwks *jwks,
                                                       const struct vouch_token_opts *opts,
                                                       struct vouch_token_result *res);
VOUCH_API void vouch_token_result_free(struct vouch_token_result *res);

#ifdef __cplusplus
}
#endif
#endif
