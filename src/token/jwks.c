/*
 * JWKS: parsing a published key set into verification keys, building the one
 * we publish, and deriving kids.
 *
 * MAA publishes keys as {"kty":"RSA","kid":...,"x5c":[...]} with no n/e, so
 * the key may come from the certificate alone; when both are present they
 * must agree, otherwise a verifier that reads n/e and one that reads x5c
 * would trust different keys.
 */
#include <jose/jwk.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "token/token_int.h"

#define SHA1_LEN 20u

static void set_err(char *err, size_t cap, const char *fmt, ...) VOUCH_PRINTF(3, 4);

static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (!err || !cap)
        return;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static void jwk_clear(struct vouch__jwk *k)
{
    vouch_free(k->kid);
    vouch_pubkey_free(k->key);
    memset(k, 0, sizeof(*k));
}

void vouch_jwks_free(struct vouch_jwks *jwks)
{
    if (!jwks)
        return;
    for (size_t i = 0; i < jwks->n; i++)
        jwk_clear(&jwks->keys[i]);
    vouch_free(jwks->keys);
    vouch_free(jwks);
}

size_t vouch_jwks_count(const struct vouch_jwks *jwks)
{
    return jwks ? jwks->n : 0;
}

/* Compares base64url member @p key of @p jwk, if present, with @p digest. */
static vouch_err check_thumb(const json_t *jwk, const char *key, const uint8_t *digest, size_t n,
                             const char **why)
{
    const char *s = NULL;
    size_t slen = 0;
    uint8_t *bin = NULL;
    size_t blen = 0;
    vouch_err rc;

    if (!json_object_get(jwk, key))
        return VOUCH_OK;
    if (vouch_json_str(jwk, key, &s, &slen) != VOUCH_OK) {
        *why = "certificate thumbprint is not a string";
        return VOUCH_ERR_PARSE;
    }
    if ((rc = vouch__b64url_decode(s, slen, VOUCH_MAX_HASH_LEN, &bin, &blen)) != VOUCH_OK) {
        *why = "certificate thumbprint is not canonical base64url";
        return rc == VOUCH_ERR_NOMEM ? rc : VOUCH_ERR_PARSE;
    }
    rc = VOUCH_OK;
    if (blen != n || memcmp(bin, digest, n) != 0) {
        *why = "certificate thumbprint does not match x5c[0]";
        rc = VOUCH_ERR_MISMATCH;
    }
    vouch_free(bin);
    return rc;
}

/* Parses x5c (an array of standard base64 DER) and returns x5c[0]'s key. */
static vouch_err x5c_key(const json_t *jwk, struct vouch_pubkey **out, const char **why)
{
    vouch_err rc = VOUCH_ERR_PARSE;
    const json_t *arr = json_object_get(jwk, "x5c");
    struct vouch_x509 *cert = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    uint8_t sha1[SHA1_LEN];
    uint8_t sha256[VOUCH_SHA256_LEN];
    size_t i;
    json_t *v;

    *out = NULL;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        *why = "x5c is not a non-empty array";
        return VOUCH_ERR_PARSE;
    }
    if (json_array_size(arr) > VOUCH_MAX_X5C_CERTS) {
        *why = "x5c has too many certificates";
        return VOUCH_ERR_TOO_LARGE;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            *why = "x5c entry is not a non-empty string";
            return VOUCH_ERR_PARSE;
        }
    }
    v = json_array_get(arr, 0);
    /* RFC 7517 §4.7: standard base64 (not base64url) of the DER. */
    if (json_string_length(v) > vouch_base64_encoded_len(VOUCH_MAX_CERT_SIZE, false)) {
        *why = "x5c[0] is larger than a certificate may be";
        return VOUCH_ERR_TOO_LARGE;
    }
    if (vouch_base64_decode(json_string_value(v), json_string_length(v), false, &der, &der_len) !=
        VOUCH_OK) {
        *why = "x5c[0] is not standard base64";
        goto out;
    }
    if (vouch_x509_parse_der(der, der_len, &cert) != VOUCH_OK) {
        *why = "x5c[0] is not a DER certificate";
        goto out;
    }
    if ((rc = vouch_hash(VOUCH_HASH_SHA1, der, der_len, sha1)) != VOUCH_OK ||
        (rc = vouch_sha256(der, der_len, sha256)) != VOUCH_OK) {
        *why = "cannot hash x5c[0]";
        goto out;
    }
    if ((rc = check_thumb(jwk, "x5t", sha1, sizeof(sha1), why)) != VOUCH_OK ||
        (rc = check_thumb(jwk, "x5t#S256", sha256, sizeof(sha256), why)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_x509_pubkey(cert, out)) != VOUCH_OK) {
        *why = "x5c[0] has a public key we cannot read";
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_x509_free(cert);
    vouch_free(der);
    return rc;
}

static bool has_jwk_members(const json_t *jwk)
{
    return json_object_get(jwk, "n") || json_object_get(jwk, "e") || json_object_get(jwk, "x") ||
           json_object_get(jwk, "y") || json_object_get(jwk, "crv");
}

/* Notes why @p k cannot be used and drops its key. */
static void unusable(struct vouch__jwk *k, const char *fmt, ...) VOUCH_PRINTF(2, 3);

static void unusable(struct vouch__jwk *k, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(k->why, sizeof(k->why), fmt, ap);
    va_end(ap);
    vouch_pubkey_free(k->key);
    k->key = NULL;
}

/* Applies "use", "key_ops" and "alg": malformed values are PARSE, values
 * that exclude JWS verification make the key unusable. */
static vouch_err apply_restrictions(const json_t *jwk, struct vouch__jwk *k, const char **why)
{
    const json_t *use = json_object_get(jwk, "use");
    const json_t *ops = json_object_get(jwk, "key_ops");
    const json_t *alg = json_object_get(jwk, "alg");
    bool verify = false;
    size_t i;
    json_t *v;

    if (use && !json_is_string(use)) {
        *why = "use is not a string";
        return VOUCH_ERR_PARSE;
    }
    if (ops) {
        if (!json_is_array(ops)) {
            *why = "key_ops is not an array";
            return VOUCH_ERR_PARSE;
        }
        json_array_foreach(ops, i, v)
        {
            if (!json_is_string(v)) {
                *why = "key_ops entry is not a string";
                return VOUCH_ERR_PARSE;
            }
            if (strcmp(json_string_value(v), "verify") == 0)
                verify = true;
        }
    }
    if (alg && !json_is_string(alg)) {
        *why = "alg is not a string";
        return VOUCH_ERR_PARSE;
    }
    if (use && strcmp(json_string_value(use), "sig") != 0) {
        unusable(k, "key is for use \"%.32s\", not signatures", json_string_value(use));
        return VOUCH_OK;
    }
    if (ops && !verify) {
        unusable(k, "key_ops does not include \"verify\"");
        return VOUCH_OK;
    }
    if (alg) {
        if (vouch_sig_alg_from_name(json_string_value(alg), &k->alg) != VOUCH_OK) {
            unusable(k, "key is restricted to alg \"%.32s\", which we do not accept",
                     json_string_value(alg));
            return VOUCH_OK;
        }
        if (vouch_sig_alg_key_kind(k->alg) != k->kind) {
            unusable(k, "key alg \"%s\" does not fit its key type", vouch_sig_alg_name(k->alg));
            return VOUCH_OK;
        }
    }
    return VOUCH_OK;
}

static vouch_err parse_key(const json_t *jwk, struct vouch__jwk *k, const char **why)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *from_jwk = NULL;
    struct vouch_pubkey *from_cert = NULL;
    const char *kty = NULL;
    const char *kid = NULL;
    size_t kid_len = 0;
    unsigned bits;

    if (!json_is_object(jwk)) {
        *why = "key is not an object";
        return VOUCH_ERR_PARSE;
    }
    if (json_object_get(jwk, "kid")) {
        if (vouch_json_str(jwk, "kid", &kid, &kid_len) != VOUCH_OK) {
            *why = "kid is not a string";
            return VOUCH_ERR_PARSE;
        }
        if (kid_len > VOUCH_MAX_KID_LEN) {
            *why = "kid is too long";
            return VOUCH_ERR_TOO_LARGE;
        }
        k->kid = vouch_strndup(kid, kid_len);
        if (!k->kid)
            return VOUCH_ERR_NOMEM;
    }
    if (vouch_json_str(jwk, "kty", &kty, NULL) != VOUCH_OK) {
        *why = "kty is missing or not a string";
        return VOUCH_ERR_PARSE;
    }
    if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) {
        unusable(k, "key type \"%.32s\" is not supported", kty);
        return VOUCH_OK;
    }
    if (strcmp(kty, "EC") == 0 && json_is_string(json_object_get(jwk, "crv")) &&
        strcmp(json_string_value(json_object_get(jwk, "crv")), "P-256") != 0) {
        unusable(k, "curve \"%.32s\" is not supported",
                 json_string_value(json_object_get(jwk, "crv")));
        return VOUCH_OK;
    }
    if (has_jwk_members(jwk)) {
        rc = vouch_pkey_pub_from_jwk(jwk, &from_jwk);
        if (rc != VOUCH_OK) {
            *why = rc == VOUCH_ERR_INVAL ? "JWK carries private key material"
                                         : "key members (n/e or crv/x/y) are malformed";
            rc = rc == VOUCH_ERR_NOMEM ? rc : VOUCH_ERR_PARSE;
            goto out;
        }
    }
    if (json_object_get(jwk, "x5c") && (rc = x5c_key(jwk, &from_cert, why)) != VOUCH_OK)
        goto out;
    if (!from_jwk && !from_cert) {
        *why = "key has neither key members nor x5c";
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (from_jwk && from_cert && !vouch_pkey_pub_eq(from_jwk, from_cert)) {
        *why = "the key in x5c[0] differs from the JWK's key";
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    k->key = from_jwk ? from_jwk : from_cert;
    if (from_jwk)
        from_jwk = NULL;
    else
        from_cert = NULL;
    k->kind = vouch_pkey_pub_kind(k->key);
    if ((strcmp(kty, "RSA") == 0) != (k->kind == VOUCH_KEY_RSA)) {
        *why = "kty does not match the key in x5c";
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    bits = vouch_pkey_pub_bits(k->key);
    if (k->kind == VOUCH_KEY_OTHER) {
        unusable(k, "the key in x5c is of a type or curve we do not support");
    } else if (k->kind == VOUCH_KEY_RSA && bits < VOUCH_MIN_RSA_BITS) {
        unusable(k, "RSA-%u is below the %u-bit minimum", bits, VOUCH_MIN_RSA_BITS);
    } else if (k->kind == VOUCH_KEY_RSA && bits > VOUCH_MAX_RSA_BITS) {
        unusable(k, "RSA-%u is above the %u-bit maximum", bits, VOUCH_MAX_RSA_BITS);
    }
    if (k->key && (rc = apply_restrictions(jwk, k, why)) != VOUCH_OK)
        goto out;
    rc = VOUCH_OK;
out:
    vouch_pubkey_free(from_jwk);
    vouch_pubkey_free(from_cert);
    return rc;
}

vouch_err vouch_jwks_from_json(const json_t *doc, struct vouch_jwks **out, char *err_out,
                               size_t err_cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_jwks *jwks = NULL;
    const json_t *keys;
    size_t n;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    set_err(err_out, err_cap, "%s", "");
    keys = json_is_object(doc) ? json_object_get(doc, "keys") : NULL;
    if (!json_is_array(keys)) {
        set_err(err_out, err_cap, "not a JWKS: no \"keys\" array");
        return VOUCH_ERR_PARSE;
    }
    n = json_array_size(keys);
    if (n > VOUCH_MAX_JWKS_KEYS) {
        set_err(err_out, err_cap, "JWKS has %zu keys, more than %u", n, VOUCH_MAX_JWKS_KEYS);
        return VOUCH_ERR_TOO_LARGE;
    }
    jwks = vouch_calloc(1, sizeof(*jwks));
    if (!jwks || (n && !(jwks->keys = vouch_calloc(n, sizeof(*jwks->keys))))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *why = "malformed";
        jwks->n = i + 1;
        rc = parse_key(json_array_get(keys, i), &jwks->keys[i], &why);
        if (rc != VOUCH_OK) {
            set_err(err_out, err_cap, "JWKS key %zu%s%.64s%s: %s", i,
                    jwks->keys[i].kid ? " (kid \"" : "", jwks->keys[i].kid ? jwks->keys[i].kid : "",
                    jwks->keys[i].kid ? "\")" : "", rc == VOUCH_ERR_NOMEM ? "out of memory" : why);
            goto out;
        }
    }
    *out = jwks;
    jwks = NULL;
    rc = VOUCH_OK;
out:
    vouch_jwks_free(jwks);
    return rc;
}

vouch_err vouch_jwks_parse(const char *text, size_t len, struct vouch_jwks **out, char *err_out,
                           size_t err_cap)
{
    char jerr[160];
    json_t *doc = NULL;
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    set_err(err_out, err_cap, "%s", "");
    if (!text && len)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_JWKS_SIZE) {
        set_err(err_out, err_cap, "JWKS is larger than %u bytes", VOUCH_MAX_JWKS_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    rc = vouch_json_parse(text ? text : "", len, &doc, jerr, sizeof(jerr));
    if (rc != VOUCH_OK) {
        set_err(err_out, err_cap, "JWKS is not valid JSON: %s", jerr);
        return rc;
    }
    rc = vouch_jwks_from_json(doc, out, err_out, err_cap);
    json_decref(doc);
    return rc;
}

vouch_err vouch_token_kid(const struct vouch_pubkey *key, char out[VOUCH_TOKEN_KID_LEN + 1])
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t thp[VOUCH_SHA256_LEN];
    json_t *jwk = NULL;
    char *s = NULL;

    out[0] = 0;
    if (!key)
        return VOUCH_ERR_INVAL;
    if ((rc = vouch_pkey_pub_to_jwk(key, &jwk)) != VOUCH_OK)
        return rc;
    /* libjose computes the RFC 7638 thumbprint over the required members in
     * lexicographic order; it only sees public key members. */
    if (jose_jwk_thp_buf(NULL, jwk, "S256", thp, sizeof(thp)) != sizeof(thp)) {
        rc = VOUCH_ERR_CRYPTO;
        goto out;
    }
    if ((rc = vouch__b64url_encode(thp, sizeof(thp), &s)) != VOUCH_OK)
        goto out;
    if (strlen(s) != VOUCH_TOKEN_KID_LEN) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    memcpy(out, s, VOUCH_TOKEN_KID_LEN + 1);
    rc = VOUCH_OK;
out:
    vouch_free(s);
    json_decref(jwk);
    return rc;
}

static vouch_err build_entry(const struct vouch_jwks_entry *e, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_x509 *cert = NULL;
    struct vouch_pubkey *cert_key = NULL;
    json_t *jwk = NULL;
    json_t *o = NULL;
    char *b64 = NULL;
    size_t kid_len;

    *out = NULL;
    if (!e->key || !e->kid)
        return VOUCH_ERR_INVAL;
    kid_len = strlen(e->kid);
    if (kid_len == 0 || kid_len > VOUCH_MAX_KID_LEN)
        return VOUCH_ERR_INVAL;
    if (e->alg && vouch_sig_alg_key_kind(e->alg) != vouch_pkey_pub_kind(e->key))
        return VOUCH_ERR_INVAL;
    if ((rc = vouch_pkey_pub_to_jwk(e->key, &jwk)) != VOUCH_OK)
        return rc;
    o = json_object();
    if (!o || json_object_set(o, "kty", json_object_get(jwk, "kty")) ||
        json_object_set_new(o, "kid", json_string(e->kid)) ||
        json_object_set_new(o, "use", json_string("sig")) ||
        (e->alg && json_object_set_new(o, "alg", json_string(vouch_sig_alg_name(e->alg)))) ||
        json_object_update_missing(o, jwk)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (e->cert_der) {
        if ((rc = vouch_x509_parse_der(e->cert_der, e->cert_len, &cert)) != VOUCH_OK ||
            (rc = vouch_x509_pubkey(cert, &cert_key)) != VOUCH_OK)
            goto out;
        if (!vouch_pkey_pub_eq(cert_key, e->key)) {
            rc = VOUCH_ERR_MISMATCH;
            goto out;
        }
        b64 = vouch_malloc(vouch_base64_encoded_len(e->cert_len, false) + 1);
        if (!b64) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        vouch_base64_encode(e->cert_der, e->cert_len, false, b64);
        if (json_object_set_new(o, "x5c", json_pack("[s]", b64))) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
    }
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(b64);
    vouch_pubkey_free(cert_key);
    vouch_x509_free(cert);
    json_decref(jwk);
    json_decref(o);
    return rc;
}

vouch_err vouch_jwks_build(const struct vouch_jwks_entry *entries, size_t n, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *keys = NULL;
    json_t *doc = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if ((n && !entries) || n > VOUCH_MAX_JWKS_KEYS)
        return VOUCH_ERR_INVAL;
    keys = json_array();
    if (!keys)
        return VOUCH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *o = NULL;
        for (size_t j = 0; j < i; j++) {
            if (entries[j].kid && entries[i].kid && strcmp(entries[j].kid, entries[i].kid) == 0) {
                rc = VOUCH_ERR_INVAL;
                goto out;
            }
        }
        if ((rc = build_entry(&entries[i], &o)) != VOUCH_OK)
            goto out;
        if (json_array_append_new(keys, o)) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
    }
    doc = json_object();
    if (!doc || json_object_set(doc, "keys", keys)) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    *out = doc;
    doc = NULL;
    rc = VOUCH_OK;
out:
    json_decref(keys);
    json_decref(doc);
    return rc;
}
