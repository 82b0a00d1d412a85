/*
 * JWT verification. The order is fixed: structure, header, algorithm
 * allow-list, key selection from the caller's JWKS, signature, then claims.
 * Nothing the token says about keys (jwk, jku, x5c, x5u) is ever used, so a
 * forged token cannot bring the key that verifies it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <vouch/crypto.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "token/token_int.h"

#define ES256_SIG_LEN 64u

void vouch_token_opts_init(struct vouch_token_opts *o, int64_t now)
{
    memset(o, 0, sizeof(*o));
    o->algs = VOUCH_TOKEN_ALGS_DEFAULT;
    o->now = now;
    o->skew = VOUCH_TOKEN_DEFAULT_SKEW;
    o->require_exp = true;
}

void vouch_token_result_free(struct vouch_token_result *res)
{
    if (!res)
        return;
    json_decref(res->header);
    json_decref(res->claims);
    memset(res, 0, sizeof(*res));
}

static vouch_err reject(struct vouch_token_result *res, vouch_err rc, const char *fmt, ...)
    VOUCH_PRINTF(3, 4);

static vouch_err reject(struct vouch_token_result *res, vouch_err rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    va_end(ap);
    return rc;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The three segments of a compact JWS, borrowed from the token text. */
struct segments {
    const char *part[3];
    size_t len[3];
};

static vouch_err split(const char *token, size_t len, struct segments *sg,
                       struct vouch_token_result *res)
{
    size_t dots = 0;
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (c == '.') {
            if (dots == 2)
                return reject(res, VOUCH_ERR_PARSE,
                              "more than three segments (JWE or extra data is not a JWS)");
            sg->part[dots] = token + start;
            sg->len[dots] = i - start;
            dots++;
            start = i + 1;
            continue;
        }
        if (!b64url_char(c)) {
            if (c == '=')
                return reject(res, VOUCH_ERR_PARSE,
                              "base64url padding '=' at offset %zu (JWS forbids padding)", i);
            return reject(res, VOUCH_ERR_PARSE, "character 0x%02x at offset %zu is not base64url",
                          (unsigned char)c, i);
        }
    }
    if (dots != 2)
        return reject(res, VOUCH_ERR_PARSE, "%zu segment%s, a JWS has exactly three", dots + 1,
                      dots ? "s" : "");
    sg->part[2] = token + start;
    sg->len[2] = len - start;
    return VOUCH_OK;
}

/* Decodes and parses one JSON segment; @p what names it in reasons. */
static vouch_err json_segment(const char *s, size_t len, size_t max, const char *what, json_t **out,
                              struct vouch_token_result *res)
{
    char jerr[160];
    uint8_t *bin = NULL;
    size_t blen = 0;
    vouch_err rc;

    *out = NULL;
    if (len == 0)
        return reject(res, VOUCH_ERR_PARSE, "%s is empty", what);
    rc = vouch__b64url_decode(s, len, max, &bin, &blen);
    if (rc == VOUCH_ERR_TOO_LARGE)
        return reject(res, rc, "%s is larger than %zu bytes", what, max);
    if (rc != VOUCH_OK)
        return reject(res, rc, "%s is not canonical base64url", what);
    rc = vouch_json_parse((const char *)bin, blen, out, jerr, sizeof(jerr));
    vouch_free(bin);
    if (rc != VOUCH_OK)
        return reject(res, rc, "%s is not valid JSON (duplicate keys are refused): %s", what, jerr);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return reject(res, VOUCH_ERR_PARSE, "%s is not a JSON object", what);
    }
    return VOUCH_OK;
}

/* Header checks that do not depend on the key. */
static vouch_err check_header(const json_t *h, const struct vouch_token_opts *opts, bool *is_none,
                              enum vouch_sig_alg *alg, struct vouch_token_result *res)
{
    const json_t *v;
    const char *name;

    *is_none = false;
    *alg = 0;
    v = json_object_get(h, "alg");
    if (!v)
        return reject(res, VOUCH_ERR_PARSE, "header has no alg");
    if (!json_is_string(v))
        return reject(res, VOUCH_ERR_PARSE, "header alg is not a string");
    name = json_string_value(v);
    /* RFC 7515 §4.1.11: extensions we do not understand must not be ignored,
     * and b64 (RFC 7797) would change what the signature covers. */
    if (json_object_get(h, "crit"))
        return reject(res, VOUCH_ERR_UNSUPPORTED, "header has crit; no extensions are supported");
    if (json_object_get(h, "b64"))
        return reject(res, VOUCH_ERR_UNSUPPORTED, "header has b64; unencoded payloads are refused");
    v = json_object_get(h, "typ");
    if (v && (!json_is_string(v) || strcasecmp(json_string_value(v), "JWT") != 0))
        return reject(res, VOUCH_ERR_UNSUPPORTED, "header typ is not \"JWT\"");
    v = json_object_get(h, "kid");
    if (v && !json_is_string(v))
        return reject(res, VOUCH_ERR_PARSE, "header kid is not a string");
    if (v && json_string_length(v) > VOUCH_MAX_KID_LEN)
        return reject(res, VOUCH_ERR_TOO_LARGE, "header kid is longer than %u characters",
                      VOUCH_MAX_KID_LEN);
    /* Case-sensitive on purpose: "None" and "NONE" are unknown names, not
     * spellings of none. */
    if (strcmp(name, "none") == 0) {
        if (!opts->allow_unsigned)
            return reject(res, VOUCH_ERR_UNSUPPORTED,
                          "unsigned token (alg \"none\") is not accepted");
        *is_none = true;
        return VOUCH_OK;
    }
    if (vouch_sig_alg_from_name(name, alg) != VOUCH_OK)
        return reject(res, VOUCH_ERR_UNSUPPORTED,
                      "alg \"%.32s\" is not accepted (allowed: RS256, PS256, ES256)", name);
    if ((opts->algs & VOUCH_TOKEN_ALG(*alg)) == 0)
        return reject(res, VOUCH_ERR_UNSUPPORTED, "alg \"%s\" is not on the allow-list", name);
    return VOUCH_OK;
}

static const char *kid_text(const struct vouch__jwk *k)
{
    return k->kid ? k->kid : "(none)";
}

/* Outcome of trying one key; higher ranks are more informative reasons. */
enum attempt {
    TRIED_NONE = 0,
    TRIED_UNUSABLE = 1,
    TRIED_MISMATCH = 2,
    TRIED_SIGNATURE = 3,
};

static vouch_err try_key(const struct vouch__jwk *k, enum vouch_sig_alg alg, const char *input,
                         size_t input_len, const uint8_t *sig, size_t sig_len, enum attempt *why,
                         char *msg, size_t cap)
{
    vouch_err rc;
    size_t want;

    if (!k->key) {
        *why = TRIED_UNUSABLE;
        snprintf(msg, cap, "key kid \"%.64s\" is unusable: %s", kid_text(k), k->why);
        return VOUCH_ERR_MISMATCH;
    }
    if (vouch_sig_alg_key_kind(alg) != k->kind) {
        *why = TRIED_MISMATCH;
        snprintf(msg, cap, "algorithm confusion: alg %s needs %s key, key kid \"%.64s\" is %s",
                 vouch_sig_alg_name(alg), alg == VOUCH_SIG_ES256 ? "an EC P-256" : "an RSA",
                 kid_text(k), k->kind == VOUCH_KEY_RSA ? "RSA" : "EC P-256");
        return VOUCH_ERR_MISMATCH;
    }
    if (k->alg && k->alg != alg) {
        *why = TRIED_MISMATCH;
        snprintf(msg, cap, "key kid \"%.64s\" is restricted to alg %s, token uses %s", kid_text(k),
                 vouch_sig_alg_name(k->alg), vouch_sig_alg_name(alg));
        return VOUCH_ERR_MISMATCH;
    }
    want = alg == VOUCH_SIG_ES256 ? ES256_SIG_LEN : (vouch_pkey_pub_bits(k->key) + 7u) / 8u;
    if (sig_len != want) {
        *why = TRIED_SIGNATURE;
        snprintf(msg, cap, "signature is %zu bytes, key kid \"%.64s\" makes %zu-byte signatures",
                 sig_len, kid_text(k), want);
        return VOUCH_ERR_SIGNATURE;
    }
    if (alg == VOUCH_SIG_ES256)
        rc = vouch_ecdsa_verify_raw(k->key, VOUCH_HASH_SHA256, input, input_len, sig, sig_len);
    else
        rc = vouch_rsa_verify(k->key, VOUCH_HASH_SHA256,
                              alg == VOUCH_SIG_PS256 ? VOUCH_RSA_PSS : VOUCH_RSA_PKCS1, input,
                              input_len, sig, sig_len);
    if (rc == VOUCH_OK)
        return VOUCH_OK;
    *why = TRIED_SIGNATURE;
    if (rc == VOUCH_ERR_SIGNATURE)
        snprintf(msg, cap, "signature does not verify with key kid \"%.64s\"", kid_text(k));
    else
        snprintf(msg, cap, "signature check with key kid \"%.64s\" failed: %s", kid_text(k),
                 vouch_strerror(rc));
    return rc == VOUCH_ERR_SIGNATURE || rc == VOUCH_ERR_INVAL ? VOUCH_ERR_SIGNATURE : rc;
}

static vouch_err check_signature(const json_t *header, enum vouch_sig_alg alg,
                                 const struct vouch_jwks *jwks, const struct segments *sg,
                                 struct vouch_token_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    vouch_err best_rc = VOUCH_ERR_NOT_FOUND;
    enum attempt best = TRIED_NONE;
    const char *kid = json_string_value(json_object_get(header, "kid"));
    char msg[VOUCH_MAX_ERROR_DETAIL];
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    size_t input_len = sg->len[0] + 1 + sg->len[1];
    size_t candidates = 0;

    if (!jwks || jwks->n == 0)
        return reject(res, VOUCH_ERR_NOT_FOUND, "no verification keys (empty JWKS)");
    if (sg->len[2] == 0)
        return reject(res, VOUCH_ERR_SIGNATURE, "signature segment is empty");
    rc = vouch__b64url_decode(sg->part[2], sg->len[2], VOUCH_SIG_MAX_LEN, &sig, &sig_len);
    if (rc == VOUCH_ERR_TOO_LARGE)
        return reject(res, VOUCH_ERR_SIGNATURE, "signature is longer than any key makes");
    if (rc != VOUCH_OK)
        return reject(res, rc, "signature is not canonical base64url");
    for (size_t i = 0; i < jwks->n; i++) {
        const struct vouch__jwk *k = &jwks->keys[i];
        enum attempt why = TRIED_NONE;
        char this_msg[VOUCH_MAX_ERROR_DETAIL];

        /* With a kid only that kid is a candidate: falling back to other
         * keys would let a token claim one signer and be checked by another. */
        if (kid && (!k->kid || strcmp(k->kid, kid) != 0))
            continue;
        candidates++;
        rc =
            try_key(k, alg, sg->part[0], input_len, sig, sig_len, &why, this_msg, sizeof(this_msg));
        if (rc == VOUCH_OK) {
            snprintf(res->kid, sizeof(res->kid), "%s", k->kid ? k->kid : "");
            goto out;
        }
        if (why >= best) {
            best = why;
            best_rc = rc;
            memcpy(msg, this_msg, sizeof(msg));
        }
    }
    if (candidates == 0) {
        rc = reject(res, VOUCH_ERR_NOT_FOUND, "unknown kid \"%.64s\": no such key in the JWKS",
                    kid ? kid : "");
        goto out;
    }
    if (candidates == 1)
        rc = reject(res, best_rc, "%s", msg);
    else
        rc = reject(res, best_rc, "no key among %zu candidates verifies; %s", candidates, msg);
out:
    vouch_free(sig);
    return rc;
}

/* Reads an optional integer NumericDate claim. */
static vouch_err time_claim(const json_t *claims, const char *name, bool *present, int64_t *out,
                            struct vouch_token_result *res)
{
    const json_t *v = json_object_get(claims, name);

    *present = false;
    *out = 0;
    if (!v)
        return VOUCH_OK;
    if (!json_is_integer(v))
        return reject(res, VOUCH_ERR_VERIFY, "%s is not an integer NumericDate", name);
    *present = true;
    *out = (int64_t)json_integer_value(v);
    return VOUCH_OK;
}

/* RFC 3339 when representable, else the raw number (a hostile exp may be
 * any 64-bit value). */
static void fmt_time(int64_t t, char out[24])
{
    if (t >= 0 && t <= 253402300799LL)
        vouch_time_format(t, out);
    else
        snprintf(out, 24, "%lld", (long long)t);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static vouch_err check_claims(const json_t *claims, const struct vouch_token_opts *opts,
                              struct vouch_token_result *res)
{
    vouch_err rc;
    bool has_exp;
    bool has_nbf;
    bool has_iat;
    int64_t exp;
    int64_t nbf;
    int64_t iat;
    char t1[24];
    char t2[24];

    if ((rc = time_claim(claims, "exp", &has_exp, &exp, res)) != VOUCH_OK ||
        (rc = time_claim(claims, "nbf", &has_nbf, &nbf, res)) != VOUCH_OK ||
        (rc = time_claim(claims, "iat", &has_iat, &iat, res)) != VOUCH_OK)
        return rc;
    (void)iat;
    if (!has_exp && opts->require_exp)
        return reject(res, VOUCH_ERR_VERIFY, "token has no exp claim");
    /* RFC 7519 §4.1.4: valid only strictly before exp. */
    if (has_exp && opts->now >= sat_add(exp, opts->skew)) {
        fmt_time(exp, t1);
        fmt_time(opts->now, t2);
        return reject(res, VOUCH_ERR_EXPIRED, "expired: exp %s is before %s (skew %llds)", t1, t2,
                      (long long)opts->skew);
    }
    if (has_nbf && opts->now < sat_add(nbf, -opts->skew)) {
        fmt_time(nbf, t1);
        fmt_time(opts->now, t2);
        return reject(res, VOUCH_ERR_EXPIRED, "not yet valid: nbf %s is after %s (skew %llds)", t1,
                      t2, (long long)opts->skew);
    }
    if (opts->issuer) {
        const json_t *iss = json_object_get(claims, "iss");
        size_t want = strlen(opts->issuer);
        if (!iss)
            return reject(res, VOUCH_ERR_MISMATCH, "token has no iss claim, expected \"%.96s\"",
                          opts->issuer);
        if (!json_is_string(iss))
            return reject(res, VOUCH_ERR_MISMATCH, "iss is not a string");
        if (json_string_length(iss) != want ||
            memcmp(json_string_value(iss), opts->issuer, want) != 0)
            return reject(res, VOUCH_ERR_MISMATCH,
                          "wrong issuer: iss \"%.96s\", expected \"%.96s\"", json_string_value(iss),
                          opts->issuer);
    }
    return VOUCH_OK;
}

vouch_err vouch_token_verify(const char *token, size_t len, const struct vouch_jwks *jwks,
                             const struct vouch_token_opts *opts, struct vouch_token_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct segments sg;
    enum vouch_sig_alg alg = 0;
    bool is_none = false;

    if (!res)
        return VOUCH_ERR_INVAL;
    memset(res, 0, sizeof(*res));
    if (!opts || (!token && len))
        return reject(res, VOUCH_ERR_INVAL, "invalid arguments");
    if (opts->skew < 0)
        return reject(res, VOUCH_ERR_INVAL, "negative skew");
    if (len > VOUCH_MAX_TOKEN_SIZE)
        return reject(res, VOUCH_ERR_TOO_LARGE, "token is larger than %u bytes",
                      VOUCH_MAX_TOKEN_SIZE);
    if (len == 0)
        return reject(res, VOUCH_ERR_PARSE, "token is empty");
    memset(&sg, 0, sizeof(sg));
    if ((rc = split(token, len, &sg, res)) != VOUCH_OK)
        goto out;
    if ((rc = json_segment(sg.part[0], sg.len[0], VOUCH_MAX_JWS_HEADER_SIZE, "header", &res->header,
                           res)) != VOUCH_OK)
        goto out;
    /* The payload is parsed before the signature is checked only so that a
     * rejected token can still be shown; nothing in it is acted on. */
    if ((rc = json_segment(sg.part[1], sg.len[1], VOUCH_MAX_TOKEN_SIZE, "payload", &res->claims,
                           res)) != VOUCH_OK)
        goto out;
    if (opts->algs == 0) {
        struct vouch_token_opts o = *opts;
        o.algs = VOUCH_TOKEN_ALGS_DEFAULT;
        rc = check_header(res->header, &o, &is_none, &alg, res);
    } else {
        rc = check_header(res->header, opts, &is_none, &alg, res);
    }
    if (rc != VOUCH_OK)
        goto out;
    if (is_none) {
        if (sg.len[2] != 0) {
            rc = reject(res, VOUCH_ERR_SIGNATURE, "alg \"none\" with a non-empty signature");
            goto out;
        }
    } else if ((rc = check_signature(res->header, alg, jwks, &sg, res)) != VOUCH_OK) {
        goto out;
    }
    if ((rc = check_claims(res->claims, opts, res)) != VOUCH_OK)
        goto out;
    res->alg = alg;
    res->is_unsigned = is_none;
    res->reason[0] = 0;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK) {
        res->kid[0] = 0;
        res->alg = 0;
        res->is_unsigned = false;
    }
    return rc;
}
