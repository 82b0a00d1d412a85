/*
 * Issuing JWTs in MAA's form, and the base64url helpers shared with the
 * verifier. The header and payload are serialised with sorted keys, which
 * gives MAA's member order (alg, jku, kid, typ) and its sorted claims.
 */
#include <string.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "token/token_int.h"

#define JTI_BYTES 32u

vouch_err vouch__b64url_decode(const char *s, size_t len, size_t max, uint8_t **out,
                               size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_PARSE;
    uint8_t *bin = NULL;
    size_t blen = 0;
    char *again = NULL;

    *out = NULL;
    *len_out = 0;
    if (!s && len)
        return VOUCH_ERR_INVAL;
    /* Checked on the text first so an oversized input is never decoded. */
    if (len > vouch_base64_encoded_len(max, true))
        return VOUCH_ERR_TOO_LARGE;
    if ((rc = vouch_base64_decode(len ? s : "", len, true, &bin, &blen)) != VOUCH_OK) {
        rc = rc == VOUCH_ERR_NOMEM ? rc : VOUCH_ERR_PARSE;
        goto out;
    }
    if (blen > max) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((rc = vouch__b64url_encode(bin, blen, &again)) != VOUCH_OK)
        goto out;
    if (strlen(again) != len || memcmp(again, s, len) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *out = bin;
    *len_out = blen;
    bin = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(bin);
    vouch_free(again);
    return rc;
}

/* Tokens, JWKs and thumbprints are public: the table-driven encoder serves. */
vouch_err vouch__b64url_encode(const uint8_t *p, size_t len, char **out)
{
    char *s = vouch_malloc(vouch_base64_encoded_len(len, true) + 1);

    *out = NULL;
    if (!s)
        return VOUCH_ERR_NOMEM;
    vouch_base64_encode_public(len ? p : (const uint8_t *)"", len, true, s);
    *out = s;
    return VOUCH_OK;
}

/* Appends base64url(@p p) to @p b. */
static vouch_err append_b64(struct vouch_buf *b, const void *p, size_t len)
{
    char *s = NULL;
    vouch_err rc;

    if ((rc = vouch__b64url_encode(p, len, &s)) != VOUCH_OK)
        return rc;
    rc = vouch_buf_append(b, s, strlen(s));
    vouch_free(s);
    return rc;
}

static bool signer_ok(const struct vouch_token_signer *s)
{
    size_t kid_len;

    if (!s || !s->key || !s->kid)
        return false;
    kid_len = strlen(s->kid);
    if (kid_len == 0 || kid_len > VOUCH_MAX_KID_LEN)
        return false;
    if (!vouch_sig_alg_name(s->alg) || vouch_sig_alg_key_kind(s->alg) != vouch_pkey_kind(s->key))
        return false;
    return true;
}

/* Serialises @p header and @p payload and appends "h.p" to @p b. */
static vouch_err signing_input(struct vouch_buf *b, const json_t *header, const json_t *payload)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char *h = NULL;
    char *p = NULL;

    if ((rc = vouch_json_dump(header, 0, &h)) != VOUCH_OK ||
        (rc = vouch_json_dump(payload, 0, &p)) != VOUCH_OK)
        goto out;
    if ((rc = append_b64(b, h, strlen(h))) != VOUCH_OK ||
        (rc = vouch_buf_append(b, ".", 1)) != VOUCH_OK ||
        (rc = append_b64(b, p, strlen(p))) != VOUCH_OK)
        goto out;
    rc = VOUCH_OK;
out:
    vouch_free(h);
    vouch_free(p);
    return rc;
}

vouch_err vouch_token_sign(const struct vouch_token_signer *s, const json_t *payload,
                           char **token_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_buf b;
    json_t *header = NULL;
    uint8_t sig[VOUCH_SIG_MAX_LEN];
    size_t sig_len = 0;

    if (!token_out)
        return VOUCH_ERR_INVAL;
    *token_out = NULL;
    vouch_buf_init(&b, VOUCH_MAX_TOKEN_SIZE);
    if (!signer_ok(s) || !json_is_object(payload)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    header = json_object();
    if (!header || json_object_set_new(header, "alg", json_string(vouch_sig_alg_name(s->alg))) ||
        (s->jku && json_object_set_new(header, "jku", json_string(s->jku))) ||
        json_object_set_new(header, "kid", json_string(s->kid)) ||
        json_object_set_new(header, "typ", json_string("JWT"))) {
        /* json_string returns NULL for invalid UTF-8 as well as on OOM. */
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if ((rc = signing_input(&b, header, payload)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_pkey_sign(s->key, s->alg, b.data, b.len, sig, sizeof(sig), &sig_len)) !=
        VOUCH_OK)
        goto out;
    if ((rc = vouch_buf_append(&b, ".", 1)) != VOUCH_OK ||
        (rc = append_b64(&b, sig, sig_len)) != VOUCH_OK)
        goto out;
    *token_out = (char *)vouch_buf_take(&b, NULL);
    rc = *token_out ? VOUCH_OK : VOUCH_ERR_NOMEM;
out:
    json_decref(header);
    vouch_buf_free(&b);
    return rc;
}

/* A copy of @p claims with iat, nbf, exp and a fresh jti. */
static vouch_err timed_claims(const json_t *claims, int64_t iat, int64_t lifetime, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t jti[JTI_BYTES];
    json_t *c = NULL;

    *out = NULL;
    if (!json_is_object(claims) || iat < 0 || lifetime <= 0 || iat > INT64_MAX - lifetime)
        return VOUCH_ERR_INVAL;
    if ((rc = vouch_random(jti, sizeof(jti))) != VOUCH_OK)
        return rc;
    /* Shallow: only top-level members are added, so the caller's object and
     * the values it shares with the copy are never changed. */
    c = json_copy((json_t *)claims);
    if (!c || json_object_set_new(c, "iat", json_integer((json_int_t)iat)) ||
        json_object_set_new(c, "nbf", json_integer((json_int_t)iat)) ||
        json_object_set_new(c, "exp", json_integer((json_int_t)(iat + lifetime)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = vouch_json_set_hex(c, "jti", jti, sizeof(jti))) != VOUCH_OK)
        goto out;
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    json_decref(c);
    return rc;
}

vouch_err vouch_token_issue(const struct vouch_token_signer *s, const json_t *claims, int64_t iat,
                            int64_t lifetime, char **token_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *payload = NULL;

    if (!token_out)
        return VOUCH_ERR_INVAL;
    *token_out = NULL;
    if (!signer_ok(s))
        return VOUCH_ERR_INVAL;
    if ((rc = timed_claims(claims, iat, lifetime, &payload)) != VOUCH_OK)
        return rc;
    rc = vouch_token_sign(s, payload, token_out);
    json_decref(payload);
    return rc;
}

vouch_err vouch_token_issue_unsigned(const json_t *claims, int64_t iat, int64_t lifetime,
                                     char **token_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_buf b;
    json_t *header = NULL;
    json_t *payload = NULL;

    if (!token_out)
        return VOUCH_ERR_INVAL;
    *token_out = NULL;
    vouch_buf_init(&b, VOUCH_MAX_TOKEN_SIZE);
    if ((rc = timed_claims(claims, iat, lifetime, &payload)) != VOUCH_OK)
        goto out;
    header = json_pack("{s:s}", "alg", "none");
    if (!header) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    /* The trailing '.' is the empty signature segment. */
    if ((rc = signing_input(&b, header, payload)) != VOUCH_OK ||
        (rc = vouch_buf_append(&b, ".", 1)) != VOUCH_OK)
        goto out;
    *token_out = (char *)vouch_buf_take(&b, NULL);
    rc = *token_out ? VOUCH_OK : VOUCH_ERR_NOMEM;
out:
    json_decref(header);
    json_decref(payload);
    vouch_buf_free(&b);
    return rc;
}
