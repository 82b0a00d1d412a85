/*
 * Private to src/token: the parsed form of a JWKS and the base64url helpers
 * shared by issuing and verifying.
 */
#ifndef VOUCH_TOKEN_TOKEN_INT_H
#define VOUCH_TOKEN_TOKEN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/pkey.h>
#include <vouch/token.h>

#define VOUCH__JWK_WHY_LEN 128u

struct vouch__jwk {
    char *kid;                    /* owned; NULL when the JWK has none */
    struct vouch_pubkey *key;     /* owned; NULL when the key is unusable */
    enum vouch_key_kind kind;     /* meaningful when key != NULL */
    enum vouch_sig_alg alg;       /* the JWK's "alg" restriction; 0 = any */
    char why[VOUCH__JWK_WHY_LEN]; /* why the key is unusable; "" when usable */
};

struct vouch_jwks {
    struct vouch__jwk *keys;
    size_t n;
};

/**
 * Decodes canonical base64url without padding: decoding then re-encoding must
 * reproduce the input exactly, so padding, whitespace, the standard alphabet
 * and non-zero trailing bits are all PARSE. Empty input decodes to zero bytes.
 * A decoded size over @p max is TOO_LARGE. Result owned (vouch_free).
 */
VOUCH_NODISCARD vouch_err vouch__b64url_decode(const char *s, size_t len, size_t max, uint8_t **out,
                                               size_t *len_out);
/** base64url without padding, NUL-terminated, owned (vouch_free). */
VOUCH_NODISCARD vouch_err vouch__b64url_encode(const uint8_t *p, size_t len, char **out);

#endif
