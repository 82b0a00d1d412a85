/* Tokens: issue/verify round trips, a real Azure Attestation token with its
 * recorded JWKS, every forgery in PRODUCT.md §5, JWKS parsing and building,
 * kids and the OpenID document. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/token.h>

#define ISS "https://attest.example.com"
#define T0  1751328000 /* 2025-07-01T00:00:00Z */

#define MAA_ISS "https://sharedwus.wus.attest.azure.net"
#define MAA_KID "rPtBGRWTlPmzs5u35L0QRD9WdymeKPRxteTeTlwN0Ec="
#define MAA_IAT 1643413476
#define MAA_EXP 1643442276

static struct vouch_pkey *rsa_a;    /* kid "a" */
static struct vouch_pkey *rsa_b;    /* kid "b" */
static struct vouch_pkey *ec_c;     /* kid "c" */
static struct vouch_pkey *stranger; /* in no JWKS */
static struct vouch_jwks *jwks;     /* a, b, c */
static char *jwks_text;

/* ---- helpers ---- */

static char *b64url(const void *p, size_t len)
{
    char *s = malloc(vouch_base64_encoded_len(len, true) + 1);
    assert_non_null(s);
    vouch_base64_encode(p, len, true, s);
    return s;
}

static char *b64url_str(const char *s)
{
    return b64url(s, strlen(s));
}

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s.%s.%s", a, b, c);
    return s;
}

/* Signs arbitrary header and payload TEXT, so that a test can build tokens
 * the issuer would never produce (duplicate keys, crit, odd algs). */
static char *make_token(const char *header, const char *payload, struct vouch_pkey *k,
                        enum vouch_sig_alg alg)
{
    char *h = b64url_str(header);
    char *p = b64url_str(payload);
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = malloc(n);
    uint8_t sig[VOUCH_SIG_MAX_LEN];
    size_t sig_len = 0;
    char *s;
    char *tok;

    snprintf(input, n, "%s.%s", h, p);
    if (k) {
        assert_int_equal(vouch_pkey_sign(k, alg, input, strlen(input), sig, sizeof(sig), &sig_len),
                         VOUCH_OK);
    }
    s = b64url(sig, sig_len);
    tok = cat3(h, p, s);
    free(h);
    free(p);
    free(s);
    free(input);
    return tok;
}

static char *payload_text(int64_t iat, const char *iss)
{
    char *s = malloc(256);
    snprintf(s, 256, "{\"exp\":%lld,\"iat\":%lld,\"iss\":\"%s\",\"nbf\":%lld,\"x-ms-ver\":\"1.0\"}",
             (long long)(iat + 28800), (long long)iat, iss, (long long)iat);
    return s;
}

static char *issue(struct vouch_pkey *k, enum vouch_sig_alg alg, const char *kid, int64_t iat)
{
    struct vouch_token_signer s = {.key = k, .alg = alg, .kid = kid, .jku = ISS "/certs"};
    json_t *claims =
        json_pack("{s:s,s:s,s:s}", "iss", ISS, "x-ms-ver", "1.0", "x-ms-attestation-type", "sgx");
    char *tok = NULL;

    assert_int_equal(vouch_token_issue(&s, claims, iat, VOUCH_TOKEN_DEFAULT_LIFETIME, &tok),
                     VOUCH_OK);
    json_decref(claims);
    return tok;
}

static vouch_err verify_opts(const char *tok, const struct vouch_jwks *set,
                             const struct vouch_token_opts *o, struct vouch_token_result *res)
{
    return vouch_token_verify(tok, strlen(tok), set, o, res);
}

/* Verifies at @p now with issuer ISS and the default options; returns the
 * code and leaves the reason in @p reason (may be NULL). */
static vouch_err check(const char *tok, int64_t now, char *reason, size_t cap)
{
    struct vouch_token_opts o;
    struct vouch_token_result res;
    vouch_err rc;

    vouch_token_opts_init(&o, now);
    o.issuer = ISS;
    rc = verify_opts(tok, jwks, &o, &res);
    if (rc == VOUCH_OK) {
        assert_string_equal(res.reason, "");
        assert_non_null(res.claims);
    } else {
        /* A rejection always says why. */
        assert_true(res.reason[0] != 0);
    }
    if (reason)
        snprintf(reason, cap, "%s", res.reason);
    vouch_token_result_free(&res);
    return rc;
}

static void expect(const char *tok, int64_t now, vouch_err want, const char *reason_part)
{
    char reason[VOUCH_MAX_ERROR_DETAIL];
    vouch_err rc = check(tok, now, reason, sizeof(reason));

    if (rc != want || (reason_part && !strstr(reason, reason_part)))
        fail_msg("got %s (%s), want %s with \"%s\"", vouch_err_name(rc), reason,
                 vouch_err_name(want), reason_part ? reason_part : "");
}

static json_t *entry_json(struct vouch_pkey *k, const char *kid)
{
    struct vouch_pubkey *pub = NULL;
    struct vouch_jwks_entry e = {0};
    json_t *doc = NULL;
    json_t *one;

    assert_int_equal(vouch_pkey_public(k, &pub), VOUCH_OK);
    e.key = pub;
    e.kid = kid;
    assert_int_equal(vouch_jwks_build(&e, 1, &doc), VOUCH_OK);
    one = json_incref(json_array_get(json_object_get(doc, "keys"), 0));
    json_decref(doc);
    vouch_pubkey_free(pub);
    return one;
}

/* Parses a JWKS whose single key is @p key_json (text). */
static vouch_err jwks_of(const char *key_json, struct vouch_jwks **out, char *err, size_t cap)
{
    char *doc = malloc(strlen(key_json) + 16);
    vouch_err rc;

    sprintf(doc, "{\"keys\":[%s]}", key_json);
    rc = vouch_jwks_parse(doc, strlen(doc), out, err, cap);
    free(doc);
    return rc;
}

static int setup(void **state)
{
    struct vouch_pubkey *pubs[3] = {NULL, NULL, NULL};
    struct vouch_jwks_entry e[3];
    json_t *doc = NULL;
    char err[256];
    (void)state;

    if (vouch_pkey_generate(VOUCH_PKEY_RSA_2048, &rsa_a) ||
        vouch_pkey_generate(VOUCH_PKEY_RSA_2048, &rsa_b) ||
        vouch_pkey_generate(VOUCH_PKEY_EC_P256, &ec_c) ||
        vouch_pkey_generate(VOUCH_PKEY_EC_P256, &stranger))
        return -1;
    if (vouch_pkey_public(rsa_a, &pubs[0]) || vouch_pkey_public(rsa_b, &pubs[1]) ||
        vouch_pkey_public(ec_c, &pubs[2]))
        return -1;
    memset(e, 0, sizeof(e));
    e[0] = (struct vouch_jwks_entry){.key = pubs[0], .kid = "a"};
    e[1] = (struct vouch_jwks_entry){.key = pubs[1], .kid = "b"};
    e[2] = (struct vouch_jwks_entry){.key = pubs[2], .kid = "c"};
    if (vouch_jwks_build(e, 3, &doc) != VOUCH_OK)
        return -1;
    jwks_text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    for (int i = 0; i < 3; i++)
        vouch_pubkey_free(pubs[i]);
    if (vouch_jwks_parse(jwks_text, strlen(jwks_text), &jwks, err, sizeof(err)) != VOUCH_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vouch_jwks_free(jwks);
    free(jwks_text);
    vouch_pkey_free(rsa_a);
    vouch_pkey_free(rsa_b);
    vouch_pkey_free(ec_c);
    vouch_pkey_free(stranger);
    return 0;
}

/* ---- round trips ---- */

static void roundtrip(struct vouch_pkey *k, enum vouch_sig_alg alg, const char *kid)
{
    char *tok = issue(k, alg, kid, T0);
    struct vouch_token_opts o;
    struct vouch_token_result res;
    const char *dot = strchr(tok, '.');
    uint8_t *hdr = NULL;
    size_t hdr_len = 0;
    char want[256];
    const char *jti;

    /* MAA's header, members in MAA's order. */
    assert_non_null(dot);
    assert_int_equal(vouch_base64_decode(tok, (size_t)(dot - tok), true, &hdr, &hdr_len), VOUCH_OK);
    snprintf(want, sizeof(want), "{\"alg\":\"%s\",\"jku\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
             vouch_sig_alg_name(alg), ISS "/certs", kid);
    assert_int_equal(hdr_len, strlen(want));
    assert_memory_equal(hdr, want, hdr_len);
    vouch_free(hdr);

    vouch_token_opts_init(&o, T0 + 10);
    o.issuer = ISS;
    assert_int_equal(verify_opts(tok, jwks, &o, &res), VOUCH_OK);
    assert_int_equal(res.alg, alg);
    assert_false(res.is_unsigned);
    assert_string_equal(res.kid, kid);
    assert_int_equal(json_integer_value(json_object_get(res.claims, "iat")), T0);
    assert_int_equal(json_integer_value(json_object_get(res.claims, "nbf")), T0);
    assert_int_equal(json_integer_value(json_object_get(res.claims, "exp")), T0 + 28800);
    assert_string_equal(json_string_value(json_object_get(res.claims, "x-ms-ver")), "1.0");
    jti = json_string_value(json_object_get(res.claims, "jti"));
    assert_non_null(jti);
    assert_int_equal(strlen(jti), 64);
    assert_int_equal(strspn(jti, "0123456789abcdef"), 64);
    assert_string_equal(json_string_value(json_object_get(res.header, "typ")), "JWT");
    vouch_token_result_free(&res);
    assert_null(res.claims);

    /* The algorithm can be taken off the allow-list. */
    o.algs = VOUCH_TOKEN_ALG(alg == VOUCH_SIG_RS256 ? VOUCH_SIG_ES256 : VOUCH_SIG_RS256);
    assert_int_equal(verify_opts(tok, jwks, &o, &res), VOUCH_ERR_UNSUPPORTED);
    assert_non_null(strstr(res.reason, "allow-list"));
    /* Rejected tokens still show their claims, for display. */
    assert_non_null(res.claims);
    assert_int_equal(res.alg, 0);
    assert_string_equal(res.kid, "");
    vouch_token_result_free(&res);
    free(tok);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip(rsa_a, VOUCH_SIG_RS256, "a");
    roundtrip(rsa_b, VOUCH_SIG_PS256, "b");
    roundtrip(ec_c, VOUCH_SIG_ES256, "c");
}

static void test_issue_args(void **state)
{
    struct vouch_token_signer s = {.key = rsa_a, .alg = VOUCH_SIG_ES256, .kid = "a"};
    json_t *claims = json_object();
    json_t *arr = json_array();
    char *tok = (char *)1;
    (void)state;

    /* The algorithm must fit the key. */
    assert_int_equal(vouch_token_issue(&s, claims, T0, 10, &tok), VOUCH_ERR_INVAL);
    assert_null(tok);
    s.alg = VOUCH_SIG_RS256;
    s.kid = "";
    assert_int_equal(vouch_token_issue(&s, claims, T0, 10, &tok), VOUCH_ERR_INVAL);
    s.kid = "a";
    assert_int_equal(vouch_token_issue(&s, claims, T0, 0, &tok), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_token_issue(&s, claims, INT64_MAX - 5, 10, &tok), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_token_issue(&s, arr, T0, 10, &tok), VOUCH_ERR_INVAL);
    /* Caller claims named iat/exp/jti are replaced, not kept. */
    json_object_set_new(claims, "exp", json_integer(1));
    json_object_set_new(claims, "jti", json_string("mine"));
    assert_int_equal(vouch_token_issue(&s, claims, T0, 100, &tok), VOUCH_OK);
    {
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0);
        assert_int_equal(verify_opts(tok, jwks, &o, &res), VOUCH_OK);
        assert_int_equal(json_integer_value(json_object_get(res.claims, "exp")), T0 + 100);
        assert_int_equal(json_string_length(json_object_get(res.claims, "jti")), 64);
        vouch_token_result_free(&res);
    }
    vouch_free(tok);
    /* Two tokens for the same claims differ in jti. */
    {
        char *t1 = NULL;
        char *t2 = NULL;
        assert_int_equal(vouch_token_issue(&s, claims, T0, 100, &t1), VOUCH_OK);
        assert_int_equal(vouch_token_issue(&s, claims, T0, 100, &t2), VOUCH_OK);
        assert_string_not_equal(t1, t2);
        vouch_free(t1);
        vouch_free(t2);
    }
    /* vouch_token_sign signs the payload exactly as given. */
    assert_int_equal(vouch_token_sign(&s, claims, &tok), VOUCH_OK);
    {
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, 0);
        assert_int_equal(verify_opts(tok, jwks, &o, &res), VOUCH_OK);
        assert_true(json_equal(res.claims, claims));
        vouch_token_result_free(&res);
    }
    vouch_free(tok);
    json_decref(claims);
    json_decref(arr);
}

/* ---- the real Azure Attestation token ---- */

static char *maa_file(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/vectors/maa/%s", VOUCH_SOURCE_DIR, name);
    return (char *)vt_read_path(path, len);
}

static void test_maa_real(void **state)
{
    size_t tok_len = 0;
    size_t jwks_len = 0;
    char *tok = maa_file("sharedwus-sgx-2022-01-28.jwt", &tok_len);
    char *text = maa_file("sharedwus-certs.json", &jwks_len);
    struct vouch_jwks *maa = NULL;
    struct vouch_token_opts o;
    struct vouch_token_result res;
    char err[256];
    (void)state;

    assert_int_equal(vouch_jwks_parse(text, jwks_len, &maa, err, sizeof(err)), VOUCH_OK);
    assert_int_equal(vouch_jwks_count(maa), 2);

    /* Valid at its issue time, with MAA's issuer. */
    vouch_token_opts_init(&o, MAA_IAT);
    o.issuer = MAA_ISS;
    assert_int_equal(vouch_token_verify(tok, tok_len, maa, &o, &res), VOUCH_OK);
    assert_int_equal(res.alg, VOUCH_SIG_RS256);
    assert_string_equal(res.kid, MAA_KID);
    assert_string_equal(json_string_value(json_object_get(res.header, "jku")), MAA_ISS "/certs");
    /* Claims as documented in the reference (§2.3, §4.1). */
    assert_string_equal(json_string_value(json_object_get(res.claims, "x-ms-sgx-mrenclave")),
                        "b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2");
    assert_string_equal(json_string_value(json_object_get(res.claims, "x-ms-sgx-mrsigner")),
                        "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa");
    assert_string_equal(json_string_value(json_object_get(res.claims, "x-ms-attestation-type")),
                        "sgx");
    assert_int_equal(json_integer_value(json_object_get(res.claims, "exp")) -
                         json_integer_value(json_object_get(res.claims, "iat")),
                     28800);
    vouch_token_result_free(&res);

    /* Time window with the default 60 s skew. */
    o.now = MAA_EXP + 59;
    assert_int_equal(vouch_token_verify(tok, tok_len, maa, &o, &res), VOUCH_OK);
    vouch_token_result_free(&res);
    o.now = MAA_EXP + 60;
    assert_int_equal(vouch_token_verify(tok, tok_len, maa, &o, &res), VOUCH_ERR_EXPIRED);
    assert_non_null(strstr(res.reason, "expired"));
    vouch_token_result_free(&res);
    o.now = MAA_IAT - 61;
    assert_int_equal(vouch_token_verify(tok, tok_len, maa, &o, &res), VOUCH_ERR_EXPIRED);
    assert_non_null(strstr(res.reason, "not yet valid"));
    vouch_token_result_free(&res);
    o.now = MAA_IAT;

    /* Issuer: exact string equality (a trailing slash is a different issuer). */
    o.issuer = MAA_ISS "/";
    assert_int_equal(vouch_token_verify(tok, tok_len, maa, &o, &res), VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(res.reason, "wrong issuer"));
    vouch_token_result_free(&res);
    o.issuer = MAA_ISS;

    /* Our own key set does not verify Azure's token: kid unknown there. */
    assert_int_equal(vouch_token_verify(tok, tok_len, jwks, &o, &res), VOUCH_ERR_NOT_FOUND);
    vouch_token_result_free(&res);

    /* Every single-character change anywhere in the token is rejected. */
    for (size_t i = 0; i < tok_len; i++) {
        char orig = tok[i];
        if (orig == '.')
            continue;
        tok[i] = orig == 'A' ? 'B' : 'A';
        if (vouch_token_verify(tok, tok_len, maa, &o, &res) == VOUCH_OK)
            fail_msg("flip at offset %zu accepted", i);
        vouch_token_result_free(&res);
        tok[i] = orig;
    }

    /* Azure still lists an RSA-1024 key; a token naming it is refused
     * because of the key size, before any signature math. */
    {
        const char *dot = strchr(tok, '.');
        char *hdr =
            b64url_str("{\"alg\":\"RS256\",\"kid\":\"15N2MHoj9iAdkF/c5nRE3J2HB8JG6Vue3Uzvu3K/"
                       "Ses=\",\"typ\":\"JWT\"}");
        char *forged = malloc(tok_len + strlen(hdr) + 1);
        sprintf(forged, "%s%s", hdr, dot);
        assert_int_equal(vouch_token_verify(forged, strlen(forged), maa, &o, &res),
                         VOUCH_ERR_MISMATCH);
        assert_non_null(strstr(res.reason, "RSA-1024 is below the 2048-bit minimum"));
        vouch_token_result_free(&res);
        free(forged);
        free(hdr);
    }
    vouch_jwks_free(maa);
    free(tok);
    free(text);
}

/* ---- forgeries (PRODUCT.md §5) ---- */

static void test_alg_none(void **state)
{
    char *p = payload_text(T0, ISS);
    char *unsigned_tok = make_token("{\"alg\":\"none\"}", p, NULL, 0);
    char *signed_tok = issue(rsa_a, VOUCH_SIG_RS256, "a", T0);
    const char *variants[] = {"{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}", "{\"alg\":\"nOnE\"}",
                              "{\"alg\":\"none \"}"};
    struct vouch_token_opts o;
    struct vouch_token_result res;
    (void)state;

    /* Without a signature: refused by default ... */
    expect(unsigned_tok, T0, VOUCH_ERR_UNSUPPORTED, "unsigned token");
    /* ... accepted only when asked for, and then flagged. */
    vouch_token_opts_init(&o, T0);
    o.allow_unsigned = true;
    o.issuer = ISS;
    assert_int_equal(verify_opts(unsigned_tok, NULL, &o, &res), VOUCH_OK);
    assert_true(res.is_unsigned);
    assert_int_equal(res.alg, 0);
    vouch_token_result_free(&res);

    /* With a signature (a real one, taken from a signed token): refused
     * both ways; claims checks still apply to unsigned tokens. */
    {
        const char *sig = strrchr(signed_tok, '.') + 1;
        char *h = b64url_str("{\"alg\":\"none\",\"kid\":\"a\",\"typ\":\"JWT\"}");
        const char *pl = strchr(signed_tok, '.') + 1;
        size_t pl_len = (size_t)(strrchr(signed_tok, '.') - pl);
        char *pl_copy = strndup(pl, pl_len);
        char *t = cat3(h, pl_copy, sig);
        expect(t, T0, VOUCH_ERR_UNSUPPORTED, "alg \"none\"");
        assert_int_equal(verify_opts(t, jwks, &o, &res), VOUCH_ERR_SIGNATURE);
        assert_non_null(strstr(res.reason, "non-empty signature"));
        vouch_token_result_free(&res);
        free(t);
        free(h);
        free(pl_copy);
    }
    /* Case variants are unknown algorithms, even when unsigned is allowed. */
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        char *t = make_token(variants[i], p, NULL, 0);
        assert_int_equal(verify_opts(t, jwks, &o, &res), VOUCH_ERR_UNSUPPORTED);
        assert_non_null(strstr(res.reason, "is not accepted"));
        vouch_token_result_free(&res);
        free(t);
    }
    /* Issuing unsigned tokens is a separate, explicit call. */
    {
        json_t *claims = json_pack("{s:s}", "iss", ISS);
        char *t = NULL;
        assert_int_equal(vouch_token_issue_unsigned(claims, T0, 100, &t), VOUCH_OK);
        assert_int_equal(t[strlen(t) - 1], '.');
        assert_int_equal(strncmp(t, "eyJhbGciOiJub25lIn0.", 20), 0); /* {"alg":"none"} */
        expect(t, T0, VOUCH_ERR_UNSUPPORTED, "unsigned");
        assert_int_equal(verify_opts(t, NULL, &o, &res), VOUCH_OK);
        vouch_token_result_free(&res);
        o.now = T0 + 100 + VOUCH_TOKEN_DEFAULT_SKEW;
        assert_int_equal(verify_opts(t, NULL, &o, &res), VOUCH_ERR_EXPIRED);
        vouch_token_result_free(&res);
        json_decref(claims);
        vouch_free(t);
    }
    free(p);
    free(unsigned_tok);
    vouch_free(signed_tok);
}

/* HMAC-SHA256 (RFC 2104) over vouch_hash, for forging HS256 tokens. */
static void hmac_sha256(const uint8_t *key, size_t key_len, const char *msg, uint8_t out[32])
{
    uint8_t k[64] = {0};
    uint8_t pad[64];
    uint8_t inner[32];
    struct vouch_hash_ctx *c = NULL;

    if (key_len > 64)
        assert_int_equal(vouch_sha256(key, key_len, k), VOUCH_OK);
    else
        memcpy(k, key, key_len);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    assert_int_equal(vouch_hash_init(VOUCH_HASH_SHA256, &c), VOUCH_OK);
    assert_int_equal(vouch_hash_update(c, pad, 64), VOUCH_OK);
    assert_int_equal(vouch_hash_update(c, msg, strlen(msg)), VOUCH_OK);
    assert_int_equal(vouch_hash_final(c, inner), VOUCH_OK);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    assert_int_equal(vouch_hash_init(VOUCH_HASH_SHA256, &c), VOUCH_OK);
    assert_int_equal(vouch_hash_update(c, pad, 64), VOUCH_OK);
    assert_int_equal(vouch_hash_update(c, inner, 32), VOUCH_OK);
    assert_int_equal(vouch_hash_final(c, out), VOUCH_OK);
}

static char *hs256_token(const char *header, const char *payload, const uint8_t *key,
                         size_t key_len)
{
    char *h = b64url_str(header);
    char *p = b64url_str(payload);
    char input[2048];
    uint8_t mac[32];
    char *s;
    char *t;

    snprintf(input, sizeof(input), "%s.%s", h, p);
    hmac_sha256(key, key_len, input, mac);
    s = b64url(mac, 32);
    t = cat3(h, p, s);
    free(h);
    free(p);
    free(s);
    return t;
}

static void test_alg_confusion(void **state)
{
    char *p = payload_text(T0, ISS);
    json_t *jwk = entry_json(rsa_a, "a");
    uint8_t *n = NULL;
    size_t n_len = 0;
    const char *n_text = json_string_value(json_object_get(jwk, "n"));
    char *t;
    (void)state;

    /* HS256 keyed with the RSA public key (modulus bytes, the JWK text and
     * the whole JWKS text): a verifier that let the token pick the algorithm
     * would accept these. */
    assert_int_equal(vouch_base64_decode(n_text, strlen(n_text), true, &n, &n_len), VOUCH_OK);
    t = hs256_token("{\"alg\":\"HS256\",\"kid\":\"a\",\"typ\":\"JWT\"}", p, n, n_len);
    expect(t, T0, VOUCH_ERR_UNSUPPORTED, "alg \"HS256\" is not accepted");
    free(t);
    {
        char *jwk_text = json_dumps(jwk, JSON_COMPACT);
        t = hs256_token("{\"alg\":\"HS256\",\"kid\":\"a\"}", p, (const uint8_t *)jwk_text,
                        strlen(jwk_text));
        expect(t, T0, VOUCH_ERR_UNSUPPORTED, "HS256");
        free(t);
        free(jwk_text);
    }
    t = hs256_token("{\"alg\":\"HS256\"}", p, (const uint8_t *)jwks_text, strlen(jwks_text));
    expect(t, T0, VOUCH_ERR_UNSUPPORTED, "HS256");
    free(t);
    /* The same with an "oct" key in the JWKS: still no HS256. */
    {
        struct vouch_jwks *set = NULL;
        struct vouch_token_opts o;
        struct vouch_token_result res;
        char err[256];
        assert_int_equal(
            jwks_of("{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}", &set, err, sizeof(err)),
            VOUCH_OK);
        t = hs256_token("{\"alg\":\"HS256\",\"kid\":\"h\"}", p, (const uint8_t *)"secret", 6);
        vouch_token_opts_init(&o, T0);
        assert_int_equal(verify_opts(t, set, &o, &res), VOUCH_ERR_UNSUPPORTED);
        vouch_token_result_free(&res);
        /* ... and an RS256 token pointing at the oct key is refused too. */
        free(t);
        t = make_token("{\"alg\":\"RS256\",\"kid\":\"h\"}", p, rsa_a, VOUCH_SIG_RS256);
        assert_int_equal(verify_opts(t, set, &o, &res), VOUCH_ERR_MISMATCH);
        assert_non_null(strstr(res.reason, "\"oct\" is not supported"));
        vouch_token_result_free(&res);
        free(t);
        vouch_jwks_free(set);
    }
    /* Cross-type: ES256 naming the RSA key, RS256/PS256 naming the EC key. */
    t = make_token("{\"alg\":\"ES256\",\"kid\":\"a\"}", p, ec_c, VOUCH_SIG_ES256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "algorithm confusion");
    free(t);
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"c\"}", p, rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "algorithm confusion");
    free(t);
    t = make_token("{\"alg\":\"PS256\",\"kid\":\"c\"}", p, rsa_a, VOUCH_SIG_PS256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "algorithm confusion");
    free(t);
    /* RS256 and PS256 are not interchangeable on the same RSA key. */
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, rsa_a, VOUCH_SIG_PS256);
    expect(t, T0, VOUCH_ERR_SIGNATURE, "does not verify");
    free(t);
    t = make_token("{\"alg\":\"PS256\",\"kid\":\"a\"}", p, rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_SIGNATURE, "does not verify");
    free(t);
    /* Other RSA/EC algorithm names are unknown. */
    t = make_token("{\"alg\":\"RS384\",\"kid\":\"a\"}", p, rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_UNSUPPORTED, "RS384");
    free(t);
    vouch_free(n);
    json_decref(jwk);
    free(p);
}

static void test_kid(void **state)
{
    char *p = payload_text(T0, ISS);
    char *t;
    (void)state;

    /* Wrong kid: signed by a, claims to be b (which is in the JWKS). */
    t = issue(rsa_a, VOUCH_SIG_RS256, "b", T0);
    expect(t, T0, VOUCH_ERR_SIGNATURE, "kid \"b\"");
    vouch_free(t);
    /* Unknown kid, even though the key that signed it is in the JWKS: no
     * fallback to other keys. */
    t = issue(rsa_a, VOUCH_SIG_RS256, "zz", T0);
    expect(t, T0, VOUCH_ERR_NOT_FOUND, "unknown kid \"zz\"");
    vouch_free(t);
    /* Kid case matters. */
    t = issue(rsa_a, VOUCH_SIG_RS256, "A", T0);
    expect(t, T0, VOUCH_ERR_NOT_FOUND, "unknown kid");
    vouch_free(t);
    /* No kid: every key is tried, so b's signature verifies ... */
    t = make_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", p, rsa_b, VOUCH_SIG_RS256);
    {
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0);
        assert_int_equal(verify_opts(t, jwks, &o, &res), VOUCH_OK);
        assert_string_equal(res.kid, "b");
        vouch_token_result_free(&res);
    }
    free(t);
    /* ... but a stranger's does not. */
    t = make_token("{\"alg\":\"ES256\"}", p, stranger, VOUCH_SIG_ES256);
    expect(t, T0, VOUCH_ERR_SIGNATURE, "candidates");
    free(t);
    /* A token carrying its own key (jwk, x5c, jku) is not believed. */
    {
        json_t *own = entry_json(stranger, "mine");
        char *own_text = json_dumps(own, JSON_COMPACT);
        char hdr[1024];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"mine\",\"jwk\":%s}", own_text);
        t = make_token(hdr, p, stranger, VOUCH_SIG_ES256);
        expect(t, T0, VOUCH_ERR_NOT_FOUND, "unknown kid");
        free(t);
        snprintf(hdr, sizeof(hdr),
                 "{\"alg\":\"ES256\",\"jwk\":%s,\"jku\":\"https://evil.example/certs\"}", own_text);
        t = make_token(hdr, p, stranger, VOUCH_SIG_ES256);
        expect(t, T0, VOUCH_ERR_SIGNATURE, NULL);
        free(t);
        free(own_text);
        json_decref(own);
    }
    /* kid must be a string. */
    t = make_token("{\"alg\":\"RS256\",\"kid\":1}", p, rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_PARSE, "kid");
    free(t);
    free(p);
}

static void test_time_and_issuer(void **state)
{
    char *t;
    char *p;
    (void)state;

    /* Expired, with the skew boundary exact. */
    t = issue(ec_c, VOUCH_SIG_ES256, "c", T0);
    expect(t, T0 + 28800 + 59, VOUCH_OK, NULL);
    expect(t, T0 + 28800 + 60, VOUCH_ERR_EXPIRED, "expired: exp 2025-07-01T08:00:00Z");
    expect(t, T0 + 10 * 28800, VOUCH_ERR_EXPIRED, "expired");
    /* Not yet valid. */
    expect(t, T0 - 60, VOUCH_OK, NULL);
    expect(t, T0 - 61, VOUCH_ERR_EXPIRED, "not yet valid");
    /* Skew is the caller's. */
    {
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0 - 1);
        o.skew = 0;
        assert_int_equal(verify_opts(t, jwks, &o, &res), VOUCH_ERR_EXPIRED);
        vouch_token_result_free(&res);
        o.skew = -1;
        assert_int_equal(verify_opts(t, jwks, &o, &res), VOUCH_ERR_INVAL);
        vouch_token_result_free(&res);
    }
    vouch_free(t);

    /* exp is required (by default) and must be an integer. */
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"iss\":\"" ISS "\"}", rsa_a,
                   VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_VERIFY, "no exp");
    {
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0);
        o.require_exp = false;
        assert_int_equal(verify_opts(t, jwks, &o, &res), VOUCH_OK);
        vouch_token_result_free(&res);
    }
    free(t);
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"exp\":\"1751400000\"}", rsa_a,
                   VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_VERIFY, "exp is not an integer");
    free(t);
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"exp\":1751400000.5}", rsa_a,
                   VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_VERIFY, "exp is not an integer");
    free(t);
    /* Extreme values do not overflow. */
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}",
                   "{\"exp\":9223372036854775807,\"nbf\":-9223372036854775808,\"iss\":\"" ISS "\"}",
                   rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_OK, NULL);
    free(t);
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"exp\":-9223372036854775808}", rsa_a,
                   VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_EXPIRED, "-9223372036854775808");
    free(t);

    /* Wrong issuer, issuer that is a prefix, missing and non-string iss. */
    p = payload_text(T0, "https://attest.example.com.evil.example");
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "wrong issuer");
    free(t);
    free(p);
    p = payload_text(T0, "https://attest.example.co");
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", p, rsa_a, VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "wrong issuer");
    free(t);
    free(p);
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"exp\":1751400000}", rsa_a,
                   VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "no iss");
    free(t);
    t = make_token("{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"exp\":1751400000,\"iss\":[]}", rsa_a,
                   VOUCH_SIG_RS256);
    expect(t, T0, VOUCH_ERR_MISMATCH, "iss is not a string");
    free(t);
}

/* Replaces segment @p idx of @p tok with @p seg. */
static char *replace_segment(const char *tok, int idx, const char *seg)
{
    char *copy = strdup(tok);
    char *parts[3];
    char *out;

    parts[0] = copy;
    parts[1] = strchr(parts[0], '.');
    *parts[1]++ = 0;
    parts[2] = strchr(parts[1], '.');
    *parts[2]++ = 0;
    parts[idx] = (char *)seg;
    out = cat3(parts[0], parts[1], parts[2]);
    free(copy);
    return out;
}

static void test_tampering(void **state)
{
    char *tok = issue(rsa_a, VOUCH_SIG_RS256, "a", T0);
    char *t;
    char *seg;
    (void)state;

    expect(tok, T0, VOUCH_OK, NULL);
    /* Payload: different claims under the original signature. */
    seg = b64url_str("{\"exp\":1751356800,\"iat\":1751328000,\"iss\":\"" ISS
                     "\",\"nbf\":1751328000,\"x-ms-sgx-is-debuggable\":false}");
    t = replace_segment(tok, 1, seg);
    expect(t, T0, VOUCH_ERR_SIGNATURE, "does not verify");
    free(t);
    free(seg);
    /* Header: one member added. */
    seg = b64url_str("{\"alg\":\"RS256\",\"jku\":\"" ISS "/certs\",\"kid\":\"a\",\"typ\":\"JWT\","
                     "\"x\":1}");
    t = replace_segment(tok, 0, seg);
    expect(t, T0, VOUCH_ERR_SIGNATURE, "does not verify");
    free(t);
    free(seg);
    /* Signature: one bit, and the signature of another token. */
    {
        const char *s = strrchr(tok, '.') + 1;
        uint8_t *sig = NULL;
        size_t sig_len = 0;
        char *other = issue(rsa_a, VOUCH_SIG_RS256, "a", T0);
        assert_int_equal(vouch_base64_decode(s, strlen(s), true, &sig, &sig_len), VOUCH_OK);
        sig[17] ^= 0x04;
        seg = b64url(sig, sig_len);
        t = replace_segment(tok, 2, seg);
        expect(t, T0, VOUCH_ERR_SIGNATURE, "does not verify");
        free(t);
        free(seg);
        t = replace_segment(tok, 2, strrchr(other, '.') + 1);
        expect(t, T0, VOUCH_ERR_SIGNATURE, "does not verify");
        free(t);
        /* Truncated or extended signature. */
        seg = b64url(sig, sig_len - 1);
        t = replace_segment(tok, 2, seg);
        expect(t, T0, VOUCH_ERR_SIGNATURE, "255 bytes");
        free(t);
        free(seg);
        vouch_free(sig);
        vouch_free(other);
    }
    /* ES256 signatures are raw r||s: a DER-shaped or short one is refused. */
    {
        char *et = issue(ec_c, VOUCH_SIG_ES256, "c", T0);
        uint8_t der_like[70] = {0x30, 0x44, 0x02, 0x20};
        seg = b64url(der_like, sizeof(der_like));
        t = replace_segment(et, 2, seg);
        expect(t, T0, VOUCH_ERR_SIGNATURE, "70 bytes");
        free(t);
        free(seg);
        /* r = s = 0 is never valid. */
        seg = b64url((const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                      "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                      "\0\0\0\0\0",
                     64);
        t = replace_segment(et, 2, seg);
        expect(t, T0, VOUCH_ERR_SIGNATURE, NULL);
        free(t);
        free(seg);
        vouch_free(et);
    }
    vouch_free(tok);
}

static void test_malformed(void **state)
{
    char *tok = issue(rsa_a, VOUCH_SIG_RS256, "a", T0);
    size_t len = strlen(tok);
    char *t = malloc(len + 64);
    char *p = payload_text(T0, ISS);
    (void)state;

    /* Truncations at every length. */
    for (size_t n = 0; n < len; n++) {
        memcpy(t, tok, n);
        t[n] = 0;
        if (check(t, T0, NULL, 0) == VOUCH_OK)
            fail_msg("truncation to %zu bytes accepted", n);
    }
    /* Extra segments (JWE has five), and trailing data. */
    snprintf(t, len + 64, "%s.AAAA", tok);
    expect(t, T0, VOUCH_ERR_PARSE, "more than three segments");
    snprintf(t, len + 64, "%s.", tok);
    expect(t, T0, VOUCH_ERR_PARSE, "more than three segments");
    snprintf(t, len + 64, "%s\n", tok);
    expect(t, T0, VOUCH_ERR_PARSE, "not base64url");
    snprintf(t, len + 64, " %s", tok);
    expect(t, T0, VOUCH_ERR_PARSE, "not base64url");
    expect("a.b", T0, VOUCH_ERR_PARSE, "2 segments");
    expect("abc", T0, VOUCH_ERR_PARSE, "1 segment,");
    expect("", T0, VOUCH_ERR_PARSE, "empty");
    expect("..", T0, VOUCH_ERR_PARSE, "header is empty");
    expect("\xff\xfe.\x01.", T0, VOUCH_ERR_PARSE, "not base64url");
    /* Padding anywhere. */
    snprintf(t, len + 64, "%s=", tok);
    expect(t, T0, VOUCH_ERR_PARSE, "padding");
    {
        /* A header whose base64 needs padding, written with it. */
        char *s2;
        char *h = b64url_str("{\"alg\":\"RS256\",\"kid\":\"a\"}"); /* 25 bytes: 34 chars + "==" */
        s2 = malloc(strlen(h) + 2);
        sprintf(s2, "%s=", h);
        {
            char *t2 = replace_segment(tok, 0, s2);
            expect(t2, T0, VOUCH_ERR_PARSE, "padding");
            free(t2);
        }
        free(h);
        free(s2);
    }
    /* The standard base64 alphabet is not base64url. */
    {
        char *t2 = strdup(tok);
        char *c = strchr(t2, '-');
        if (!c)
            c = strchr(t2, '_');
        if (c) {
            *c = *c == '-' ? '+' : '/';
            expect(t2, T0, VOUCH_ERR_PARSE, "not base64url");
        }
        free(t2);
    }
    /* Non-canonical base64url: the last character's unused bits set. */
    {
        char *seg = b64url_str("{\"alg\":\"RS256\",\"kid\":\"a\"}");
        size_t n = strlen(seg);
        char *t2;
        assert_int_not_equal(n % 4, 0);
        seg[n - 1] = (char)(seg[n - 1] + 1); /* still base64url, low bits now non-zero */
        t2 = replace_segment(tok, 0, seg);
        expect(t2, T0, VOUCH_ERR_PARSE, "canonical");
        free(t2);
        free(seg);
    }
    /* Header and payload must be JSON objects, without duplicate keys. */
    {
        struct {
            const char *hdr;
            const char *pl;
            vouch_err rc;
            const char *why;
        } cases[] = {
            {"{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"a\"}", NULL, VOUCH_ERR_PARSE,
             "duplicate"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\",\"kid\":\"b\"}", NULL, VOUCH_ERR_PARSE, "duplicate"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\"}",
             "{\"iss\":\"" ISS "\",\"exp\":1751400000,\"iss\":\"https://evil\"}", VOUCH_ERR_PARSE,
             "duplicate"},
            {"[\"RS256\"]", NULL, VOUCH_ERR_PARSE, "not a JSON object"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\"}", "null", VOUCH_ERR_PARSE, "not a JSON object"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\"", NULL, VOUCH_ERR_PARSE, "not valid JSON"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\"}", "{\"iss\":\"a\\u0000b\"}", VOUCH_ERR_PARSE,
             "not valid JSON"},
            {"{\"kid\":\"a\"}", NULL, VOUCH_ERR_PARSE, "no alg"},
            {"{\"alg\":256,\"kid\":\"a\"}", NULL, VOUCH_ERR_PARSE, "alg is not a string"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\",\"crit\":[\"exp\"],\"exp\":1}", NULL,
             VOUCH_ERR_UNSUPPORTED, "crit"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\",\"b64\":false}", NULL, VOUCH_ERR_UNSUPPORTED, "b64"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\",\"typ\":\"JOSE+JSON\"}", NULL, VOUCH_ERR_UNSUPPORTED,
             "typ"},
            {"{\"alg\":\"RS256\",\"kid\":\"a\",\"typ\":\"jwt\"}", NULL, VOUCH_OK, NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char *t2 =
                make_token(cases[i].hdr, cases[i].pl ? cases[i].pl : p, rsa_a, VOUCH_SIG_RS256);
            expect(t2, T0, cases[i].rc, cases[i].why);
            free(t2);
        }
    }
    /* Size limit. */
    {
        size_t big = VOUCH_MAX_TOKEN_SIZE + 1;
        char *huge = malloc(big + 1);
        memset(huge, 'A', big);
        huge[big] = 0;
        expect(huge, T0, VOUCH_ERR_TOO_LARGE, "larger");
        free(huge);
    }
    /* Random bytes never verify and never crash. */
    {
        uint8_t rnd[512];
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0);
        for (int i = 0; i < 64; i++) {
            assert_int_equal(vouch_random(rnd, sizeof(rnd)), VOUCH_OK);
            assert_int_not_equal(
                vouch_token_verify((const char *)rnd, (size_t)(rnd[0] + 1) * 2, jwks, &o, &res),
                VOUCH_OK);
            vouch_token_result_free(&res);
        }
    }
    free(p);
    free(t);
    vouch_free(tok);
}

/* ---- JWKS ---- */

static void test_jwks_parse(void **state)
{
    struct vouch_jwks *set = NULL;
    char err[256];
    json_t *e = entry_json(rsa_a, "k");
    json_t *ec = entry_json(ec_c, "k");
    char *txt;
    (void)state;

    /* Document shape. */
    assert_int_equal(vouch_jwks_parse("[]", 2, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
    assert_non_null(strstr(err, "keys"));
    assert_int_equal(vouch_jwks_parse("{\"keys\":{}}", 11, &set, err, sizeof(err)),
                     VOUCH_ERR_PARSE);
    assert_int_equal(vouch_jwks_parse("{\"keys\":[", 9, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
    assert_non_null(strstr(err, "not valid JSON"));
    assert_int_equal(vouch_jwks_parse("{\"keys\":[],\"keys\":[]}", 21, &set, err, sizeof(err)),
                     VOUCH_ERR_PARSE);
    assert_int_equal(vouch_jwks_parse("{\"keys\":[]}", 11, &set, err, sizeof(err)), VOUCH_OK);
    assert_int_equal(vouch_jwks_count(set), 0);
    {
        /* An empty set verifies nothing. */
        char *tok = issue(rsa_a, VOUCH_SIG_RS256, "a", T0);
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0);
        assert_int_equal(verify_opts(tok, set, &o, &res), VOUCH_ERR_NOT_FOUND);
        vouch_token_result_free(&res);
        assert_int_equal(verify_opts(tok, NULL, &o, &res), VOUCH_ERR_NOT_FOUND);
        vouch_token_result_free(&res);
        vouch_free(tok);
    }
    vouch_jwks_free(set);
    set = NULL;
    {
        /* Too many keys. */
        char *big = malloc(16 + (VOUCH_MAX_JWKS_KEYS + 1) * 3);
        strcpy(big, "{\"keys\":[");
        for (unsigned i = 0; i <= VOUCH_MAX_JWKS_KEYS; i++)
            strcat(big, i ? ",{}" : "{}");
        strcat(big, "]}");
        assert_int_equal(vouch_jwks_parse(big, strlen(big), &set, err, sizeof(err)),
                         VOUCH_ERR_TOO_LARGE);
        free(big);
    }

    /* Malformed keys make the whole document fail, naming the key. */
    assert_int_equal(jwks_of("{\"kid\":\"x\"}", &set, err, sizeof(err)), VOUCH_ERR_PARSE);
    assert_non_null(strstr(err, "key 0 (kid \"x\")"));
    assert_int_equal(jwks_of("1", &set, err, sizeof(err)), VOUCH_ERR_PARSE);
    assert_int_equal(jwks_of("{\"kty\":\"RSA\",\"kid\":\"x\"}", &set, err, sizeof(err)),
                     VOUCH_ERR_PARSE);
    assert_non_null(strstr(err, "neither"));
    assert_int_equal(jwks_of("{\"kty\":\"RSA\",\"kid\":7,\"n\":\"AQAB\",\"e\":\"AQAB\"}", &set, err,
                             sizeof(err)),
                     VOUCH_ERR_PARSE);
    json_object_set_new(e, "d", json_string("AQAB"));
    txt = json_dumps(e, JSON_COMPACT);
    assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
    assert_non_null(strstr(err, "private"));
    free(txt);
    json_object_del(e, "d");
    json_object_set_new(e, "key_ops", json_string("verify"));
    txt = json_dumps(e, JSON_COMPACT);
    assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
    free(txt);
    json_object_del(e, "key_ops");
    assert_null(set);

    /* Unusable keys are kept (they count) but never verify, with the reason. */
    {
        struct {
            const char *member;
            json_t *value;
            const char *why;
        } cases[] = {
            {"use", json_string("enc"), "use \"enc\""},
            {"key_ops", json_pack("[s]", "sign"), "key_ops"},
            {"alg", json_string("RS512"), "RS512"},
            {"alg", json_string("ES256"), "does not fit"},
        };
        char *tok = issue(rsa_a, VOUCH_SIG_RS256, "k", T0);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            json_t *c = json_deep_copy(e);
            struct vouch_token_opts o;
            struct vouch_token_result res;
            json_object_set_new(c, cases[i].member, cases[i].value);
            txt = json_dumps(c, JSON_COMPACT);
            assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_OK);
            assert_int_equal(vouch_jwks_count(set), 1);
            vouch_token_opts_init(&o, T0);
            assert_int_equal(verify_opts(tok, set, &o, &res), VOUCH_ERR_MISMATCH);
            if (!strstr(res.reason, cases[i].why))
                fail_msg("reason \"%s\" lacks \"%s\"", res.reason, cases[i].why);
            vouch_token_result_free(&res);
            vouch_jwks_free(set);
            set = NULL;
            free(txt);
            json_decref(c);
        }
        /* A JWK alg restriction that matches is fine; one that differs
         * excludes the key for the other algorithm. */
        json_object_set_new(e, "alg", json_string("PS256"));
        txt = json_dumps(e, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_OK);
        {
            struct vouch_token_opts o;
            struct vouch_token_result res;
            char *ps = issue(rsa_a, VOUCH_SIG_PS256, "k", T0);
            vouch_token_opts_init(&o, T0);
            assert_int_equal(verify_opts(tok, set, &o, &res), VOUCH_ERR_MISMATCH);
            assert_non_null(strstr(res.reason, "restricted to alg PS256"));
            vouch_token_result_free(&res);
            assert_int_equal(verify_opts(ps, set, &o, &res), VOUCH_OK);
            vouch_token_result_free(&res);
            vouch_free(ps);
        }
        vouch_jwks_free(set);
        set = NULL;
        free(txt);
        json_object_del(e, "alg");
        vouch_free(tok);
    }
    /* Curves and types we do not support are unusable, not errors. */
    assert_int_equal(
        jwks_of("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}", &set, err, sizeof(err)),
        VOUCH_OK);
    vouch_jwks_free(set);
    set = NULL;
    json_object_set_new(ec, "crv", json_string("P-384"));
    txt = json_dumps(ec, JSON_COMPACT);
    assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_OK);
    vouch_jwks_free(set);
    set = NULL;
    free(txt);
    json_decref(e);
    json_decref(ec);
}

static uint8_t *cert_for(struct vouch_pkey *k, size_t *len)
{
    struct vouch_cert_spec spec = {
        .common_name = ISS, .not_before = T0, .not_after = T0 + 86400 * 365};
    uint8_t *der = NULL;
    assert_int_equal(vouch_pkey_self_signed_cert(k, &spec, &der, len), VOUCH_OK);
    return der;
}

static void test_jwks_x5c(void **state)
{
    struct vouch_pubkey *pa = NULL;
    struct vouch_pubkey *pc = NULL;
    size_t la = 0;
    size_t lb = 0;
    uint8_t *ca = cert_for(rsa_a, &la);
    uint8_t *cb = cert_for(rsa_b, &lb);
    struct vouch_jwks_entry e[2];
    struct vouch_jwks *set = NULL;
    json_t *doc = NULL;
    json_t *k0;
    char err[256];
    char *txt;
    (void)state;

    assert_int_equal(vouch_pkey_public(rsa_a, &pa), VOUCH_OK);
    assert_int_equal(vouch_pkey_public(ec_c, &pc), VOUCH_OK);
    memset(e, 0, sizeof(e));
    e[0] = (struct vouch_jwks_entry){
        .key = pa, .kid = "a", .alg = VOUCH_SIG_RS256, .cert_der = ca, .cert_len = la};
    e[1] = (struct vouch_jwks_entry){.key = pc, .kid = "c"};
    assert_int_equal(vouch_jwks_build(e, 2, &doc), VOUCH_OK);
    k0 = json_array_get(json_object_get(doc, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k0, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(k0, "use")), "sig");
    assert_string_equal(json_string_value(json_object_get(k0, "alg")), "RS256");
    assert_non_null(json_object_get(k0, "n"));
    assert_null(json_object_get(json_array_get(json_object_get(doc, "keys"), 1), "alg"));
    {
        /* x5c is standard base64 of the DER (MAA's form). */
        const char *x5c = json_string_value(json_array_get(json_object_get(k0, "x5c"), 0));
        uint8_t *der = NULL;
        size_t dl = 0;
        assert_int_equal(vouch_base64_decode(x5c, strlen(x5c), false, &der, &dl), VOUCH_OK);
        assert_int_equal(dl, la);
        assert_memory_equal(der, ca, la);
        vouch_free(der);
    }
    txt = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(vouch_jwks_parse(txt, strlen(txt), &set, err, sizeof(err)), VOUCH_OK);
    free(txt);
    {
        char *tok = issue(rsa_a, VOUCH_SIG_RS256, "a", T0);
        struct vouch_token_opts o;
        struct vouch_token_result res;
        vouch_token_opts_init(&o, T0);
        assert_int_equal(verify_opts(tok, set, &o, &res), VOUCH_OK);
        vouch_token_result_free(&res);
        vouch_free(tok);
    }
    vouch_jwks_free(set);
    set = NULL;

    /* x5c only (as MAA publishes): the key comes from the certificate. */
    {
        json_t *c = json_deep_copy(k0);
        json_object_del(c, "n");
        json_object_del(c, "e");
        txt = json_dumps(c, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_OK);
        vouch_jwks_free(set);
        set = NULL;
        free(txt);
        /* x5t#S256 must match the certificate. */
        {
            uint8_t fp[32];
            char *s;
            assert_int_equal(vouch_sha256(ca, la, fp), VOUCH_OK);
            s = b64url(fp, 32);
            json_object_set_new(c, "x5t#S256", json_string(s));
            txt = json_dumps(c, JSON_COMPACT);
            assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_OK);
            vouch_jwks_free(set);
            set = NULL;
            free(txt);
            fp[0] ^= 1;
            free(s);
            s = b64url(fp, 32);
            json_object_set_new(c, "x5t#S256", json_string(s));
            txt = json_dumps(c, JSON_COMPACT);
            assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_MISMATCH);
            assert_non_null(strstr(err, "thumbprint"));
            free(txt);
            free(s);
            json_object_del(c, "x5t#S256");
        }
        /* Certificate text in base64url or garbage is refused. */
        json_object_set_new(c, "x5c", json_pack("[s]", "not base64!"));
        txt = json_dumps(c, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
        free(txt);
        json_object_set_new(c, "x5c", json_pack("[s]", "AAAA"));
        txt = json_dumps(c, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
        assert_non_null(strstr(err, "certificate"));
        free(txt);
        json_object_set_new(c, "x5c", json_array());
        txt = json_dumps(c, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_PARSE);
        free(txt);
        json_decref(c);
    }
    /* n/e and x5c naming different keys: both readers must agree. */
    {
        json_t *c = json_deep_copy(k0);
        char *b64 = malloc(vouch_base64_encoded_len(lb, false) + 1);
        vouch_base64_encode(cb, lb, false, b64);
        json_object_set_new(c, "x5c", json_pack("[s]", b64));
        txt = json_dumps(c, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_MISMATCH);
        assert_non_null(strstr(err, "differs"));
        free(txt);
        /* kty must match the certificate's key type. */
        json_object_set_new(c, "kty", json_string("EC"));
        json_object_del(c, "n");
        json_object_del(c, "e");
        txt = json_dumps(c, JSON_COMPACT);
        assert_int_equal(jwks_of(txt, &set, err, sizeof(err)), VOUCH_ERR_MISMATCH);
        free(txt);
        free(b64);
        json_decref(c);
    }
    json_decref(doc);
    doc = NULL;

    /* Building: a certificate for another key, duplicate kids. */
    e[0].cert_der = cb;
    e[0].cert_len = lb;
    assert_int_equal(vouch_jwks_build(e, 2, &doc), VOUCH_ERR_MISMATCH);
    assert_null(doc);
    e[0].cert_der = NULL;
    e[1].kid = "a";
    assert_int_equal(vouch_jwks_build(e, 2, &doc), VOUCH_ERR_INVAL);
    e[1].kid = "c";
    e[1].alg = VOUCH_SIG_RS256; /* an EC key cannot be RS256 */
    assert_int_equal(vouch_jwks_build(e, 2, &doc), VOUCH_ERR_INVAL);
    vouch_pubkey_free(pa);
    vouch_pubkey_free(pc);
    vouch_free(ca);
    vouch_free(cb);
}

static void test_kid_thumbprint(void **state)
{
    /* RFC 7638 §3.1: this key's SHA-256 thumbprint is given in the RFC. */
    const char *jwk_text =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86z"
        "wu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5"
        "w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpb"
        "ISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8aw"
        "apJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
    json_t *jwk = NULL;
    struct vouch_pubkey *pub = NULL;
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    char kid2[VOUCH_TOKEN_KID_LEN + 1];
    (void)state;

    assert_int_equal(vouch_json_parse(jwk_text, strlen(jwk_text), &jwk, NULL, 0), VOUCH_OK);
    assert_int_equal(vouch_pkey_pub_from_jwk(jwk, &pub), VOUCH_OK);
    assert_int_equal(vouch_token_kid(pub, kid), VOUCH_OK);
    assert_string_equal(kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    vouch_pubkey_free(pub);
    json_decref(jwk);
    /* Stable per key, different between keys, EC keys too. */
    assert_int_equal(vouch_pkey_public(ec_c, &pub), VOUCH_OK);
    assert_int_equal(vouch_token_kid(pub, kid), VOUCH_OK);
    assert_int_equal(vouch_token_kid(pub, kid2), VOUCH_OK);
    assert_string_equal(kid, kid2);
    assert_int_equal(strlen(kid), VOUCH_TOKEN_KID_LEN);
    vouch_pubkey_free(pub);
    assert_int_equal(vouch_pkey_public(stranger, &pub), VOUCH_OK);
    assert_int_equal(vouch_token_kid(pub, kid2), VOUCH_OK);
    assert_string_not_equal(kid, kid2);
    vouch_pubkey_free(pub);
}

static void test_openid(void **state)
{
    json_t *doc = NULL;
    json_t *algs;
    (void)state;

    assert_int_equal(vouch_token_openid_config(ISS, 0, &doc), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "issuer")), ISS);
    assert_string_equal(json_string_value(json_object_get(doc, "jwks_uri")), ISS "/certs");
    assert_string_equal(json_string_value(json_object_get(doc, "revocation_endpoint")),
                        ISS "/revoke");
    algs = json_object_get(doc, "id_token_signing_alg_values_supported");
    assert_int_equal(json_array_size(algs), 3);
    assert_string_equal(json_string_value(json_array_get(algs, 0)), "RS256");
    assert_int_equal(json_array_size(json_object_get(doc, "response_types_supported")), 2);
    assert_true(json_array_size(json_object_get(doc, "claims_supported")) >= 18);
    json_decref(doc);
    assert_int_equal(vouch_token_openid_config(ISS, VOUCH_TOKEN_ALG(VOUCH_SIG_RS256), &doc),
                     VOUCH_OK);
    assert_int_equal(json_array_size(json_object_get(doc, "id_token_signing_alg_values_supported")),
                     1);
    json_decref(doc);
    assert_int_equal(vouch_token_openid_config(ISS "/", 0, &doc), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_token_openid_config("attest.example.com", 0, &doc), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_token_openid_config(ISS "?x=1", 0, &doc), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_token_openid_config("https://", 0, &doc), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_token_openid_config(ISS, 1u << 9, &doc), VOUCH_ERR_INVAL);
    assert_null(doc);
}

static void test_nomem(void **state)
{
    size_t tok_len = 0;
    size_t jwks_len = 0;
    char *tok = maa_file("sharedwus-sgx-2022-01-28.jwt", &tok_len);
    char *text = maa_file("sharedwus-certs.json", &jwks_len);
    struct vouch_token_signer s = {.key = ec_c, .alg = VOUCH_SIG_ES256, .kid = "c"};
    json_t *claims = json_pack("{s:s}", "iss", ISS);
    bool done_parse = false;
    bool done_verify = false;
    bool done_issue = false;
    (void)state;

    /* Fail each allocation in turn: no crash, no leak (ASan), and once the
     * failure point is past the end, success. */
    for (unsigned long f = 1; f < 400 && !(done_parse && done_verify && done_issue); f++) {
        struct vouch_jwks *set = NULL;
        struct vouch_token_opts o;
        struct vouch_token_result res;
        char *t = NULL;
        vouch_err rc;

        vouch_fault_after(f);
        rc = vouch_jwks_parse(text, jwks_len, &set, NULL, 0);
        vouch_fault_after(0);
        if (rc == VOUCH_OK)
            done_parse = true;
        else
            assert_null(set);
        if (set) {
            vouch_token_opts_init(&o, MAA_IAT);
            vouch_fault_after(f);
            rc = vouch_token_verify(tok, tok_len, set, &o, &res);
            vouch_fault_after(0);
            if (rc == VOUCH_OK)
                done_verify = true;
            vouch_token_result_free(&res);
            vouch_jwks_free(set);
        }
        vouch_fault_after(f);
        rc = vouch_token_issue(&s, claims, T0, 100, &t);
        vouch_fault_after(0);
        if (rc == VOUCH_OK)
            done_issue = true;
        else
            assert_null(t);
        vouch_free(t);
    }
    assert_true(done_parse && done_verify && done_issue);
    json_decref(claims);
    free(tok);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_issue_args),
        cmocka_unit_test(test_maa_real),        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_confusion),   cmocka_unit_test(test_kid),
        cmocka_unit_test(test_time_and_issuer), cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_malformed),       cmocka_unit_test(test_jwks_parse),
        cmocka_unit_test(test_jwks_x5c),        cmocka_unit_test(test_kid_thumbprint),
        cmocka_unit_test(test_openid),          cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
