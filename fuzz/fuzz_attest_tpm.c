/*
 * Fuzz target: /attest/Tpm (src/attestd/tpm.c), both rounds, without the
 * network. The first input byte picks how the rest becomes a request:
 *
 *   mode 0  the rest is the HTTP body as sent;
 *   mode 1  the rest is the protocol message: {"data": b64url(rest)};
 *   mode 2  the rest is the round-2 JWS payload (JSON). The harness first
 *           runs round 1 ("aikcert"), then replaces these string values
 *           anywhere in the JSON: "$SC" with the service context, "$CH" with
 *           the challenge, "$JWK" with the request key's JWK, "$AIK" with
 *           the AK's TPM2B_PUBLIC, and "$QUOTE"/"$SIG" with a quote over
 *           sha256 PCRs 0-7 (all zero) bound to the request key and the
 *           challenge, signed by the AK. It then signs the JWS with the
 *           request key (header {"alg":"ES256","typ":"attReqV2"}), so
 *           mutations get past the context, challenge and signature checks
 *           and reach AK trust, the quote, the PCR values, the log, custom
 *           claims, the policy and the token.
 *
 *   mode 3  the rest is an EK's TPM2B_PUBLIC: when it parses, MakeCredential
 *           runs on it (fixed Name and secret) and its output must fit the
 *           TPM2B bounds it declares.
 *
 * The service is built once, as vouch-attestd builds it, with a permissive
 * TPM policy and the harness's AK pre-registered (--tpm-ak-allow).
 *
 * Invariants checked on every answer: 200 carries {"data": b64url(JSON)}
 * whose JSON holds "payload" (round 1) or "report" (round 2); anything else
 * is a 4xx in MAA's {"error":{"code","message"}} shape. Bad input must never
 * be a 5xx.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/tpm.h>

#include "attestd/attestd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_EVAL_TIME 1751328000

static const char policy_text[] =
    "version= 1.0; authorizationrules{ => permit(); };"
    " issuancerules{ c:[type==\"x-ms-tpm-ak-trust\"] => issue(type=\"trust\", value=c.value);"
    " c:[type==\"tag\", issuer==\"CustomClaim\"] => issue(type=\"tag\", value=c.value); };";

static struct attestd *g_d;
static char g_dir[] = "/tmp/vouch-fuzz-tpm-XXXXXX";
static char g_allow[sizeof(g_dir) + 16];
static struct vouch_pkey *g_ak, *g_req;
static uint8_t g_ak_pub[128];
static size_t g_ak_pub_len;

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "fuzz_attest_tpm: %s\n", what);
    abort();
}

static void teardown(void)
{
    char path[sizeof(g_dir) + 32];
    static const char *const files[] = {"state.mdb", "state.mdb-lock", "tpm-context.key",
                                        "ak-allow"};

    if (!g_d)
        return;
    attestd_tpm_free(g_d);
    for (int t = 0; t < ATTESTD_TYPE__COUNT; t++)
        attestd_policy_unref(g_d->policy[t]);
    attestd_keys_free(g_d);
    attestd_store_close(g_d->store);
    pthread_mutex_destroy(&g_d->policy_lock);
    vouch_free(g_d);
    g_d = NULL;
    vouch_pkey_free(g_ak);
    vouch_pkey_free(g_req);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", g_dir, files[i]);
        unlink(path);
    }
    rmdir(g_dir);
}

static size_t put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
    return 4;
}

static bool b64_member(const json_t *o, const char *k, uint8_t *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    uint8_t *p = NULL;
    size_t l = 0;
    bool ok = s && vouch_base64_decode(s, strlen(s), true, &p, &l) == VOUCH_OK && l == n;
    if (ok)
        memcpy(out, p, n);
    vouch_free(p);
    return ok;
}

/* The AK: a P-256 restricted ECDSA-SHA256 signing key, as tpm2_createak -G ecc. */
static void make_ak(void)
{
    struct vouch_pubkey *pub = NULL;
    json_t *jwk = NULL;
    uint8_t x[32], y[32], *p = g_ak_pub + 2, name[34];
    char hex[69];
    FILE *f;

    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &g_ak) != VOUCH_OK ||
        vouch_pkey_public(g_ak, &pub) != VOUCH_OK || vouch_pkey_pub_to_jwk(pub, &jwk) != VOUCH_OK ||
        !b64_member(jwk, "x", x, 32) || !b64_member(jwk, "y", y, 32))
        die("cannot make the AK");
    p += put16(p, VOUCH_TPM_ALG_ECC);
    p += put16(p, VOUCH_TPM_ALG_SHA256);
    p += put32(p, 0x00050072u);
    p += put16(p, 0);                  /* authPolicy */
    p += put16(p, VOUCH_TPM_ALG_NULL); /* symmetric */
    p += put16(p, VOUCH_TPM_ALG_ECDSA);
    p += put16(p, VOUCH_TPM_ALG_SHA256);
    p += put16(p, VOUCH_TPM_ECC_NIST_P256);
    p += put16(p, VOUCH_TPM_ALG_NULL); /* kdf */
    p += put16(p, 32);
    memcpy(p, x, 32);
    p += 32;
    p += put16(p, 32);
    memcpy(p, y, 32);
    p += 32;
    g_ak_pub_len = (size_t)(p - g_ak_pub);
    put16(g_ak_pub, (unsigned)(g_ak_pub_len - 2));
    put16(name, VOUCH_TPM_ALG_SHA256);
    if (vouch_sha256(g_ak_pub + 2, g_ak_pub_len - 2, name + 2) != VOUCH_OK)
        die("hash");
    vouch_hex_encode(name, sizeof(name), hex);
    snprintf(g_allow, sizeof(g_allow), "%s/ak-allow", g_dir);
    if (!(f = fopen(g_allow, "w")) || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0)
        die("cannot write the allow-list");
    json_decref(jwk);
    vouch_pubkey_free(pub);
}

static struct attestd *service(void)
{
    struct attestd *d;
    struct attestd_policy *pol = NULL;
    struct vouch_policy_error perr;

    if (g_d)
        return g_d;
    vouch_log_set_level(VOUCH_LOG_ERROR);
    if (!mkdtemp(g_dir) || !(d = vouch_calloc(1, sizeof(*d))))
        die("cannot set up a temporary service");
    make_ak();
    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &g_req) != VOUCH_OK)
        die("cannot make the request key");
    d->cfg.listen = "127.0.0.1:0";
    d->cfg.data_dir = g_dir;
    d->cfg.issuer = "https://fuzz.invalid";
    d->cfg.has_eval_time = true;
    d->cfg.eval_time = FUZZ_EVAL_TIME;
    d->cfg.token_alg = VOUCH_SIG_ES256;
    d->cfg.token_lifetime = VOUCH_TOKEN_DEFAULT_LIFETIME;
    d->cfg.tpm_ak_allow = g_allow;
    if (attestd_store_open(g_dir, &d->store) != VOUCH_OK || attestd_keys_load(d) != VOUCH_OK ||
        attestd_policies_load(d) != VOUCH_OK || attestd_tpm_init(d) != VOUCH_OK ||
        attestd_policy_build(policy_text, strlen(policy_text), &pol, &perr) != VOUCH_OK)
        die("the service did not start");
    d->policy[ATTESTD_TPM] = pol;
    g_d = d;
    atexit(teardown);
    return d;
}

static char *b64u(const void *p, size_t n)
{
    char *s = vouch_malloc(vouch_base64_encoded_len(n, true) + 1);
    if (!s)
        die("out of memory");
    vouch_base64_encode(p, n, true, s);
    return s;
}

/* Runs one request; checks the answer's shape; returns the decoded data of a
 * 200 (new reference) or NULL. */
static json_t *post(const uint8_t *body, size_t len)
{
    char note[ATTESTD_LOG_NOTE_MAX];
    struct vouch_http_request req;
    struct vouch_http_response res;
    json_t *o = NULL, *inner = NULL;
    bool ok = false;

    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.method = "POST";
    req.path = "/attest/Tpm";
    req.query = "api-version=2022-08-01";
    req.body = body;
    req.body_len = len;
    snprintf(req.request_id, sizeof(req.request_id), "fuzz");
    vouch_buf_init(&res.body, VOUCH_MAX_HTTP_RESPONSE);
    attestd_attest(service(), ATTESTD_TPM, &req, &res, note);
    if (vouch_json_parse((const char *)res.body.data, res.body.len, &o, NULL, 0) == VOUCH_OK &&
        json_is_object(o)) {
        if (res.status == 200) {
            const char *s = json_string_value(json_object_get(o, "data"));
            uint8_t *p = NULL;
            size_t n = 0;
            ok = s && vouch_base64_decode(s, strlen(s), true, &p, &n) == VOUCH_OK &&
                 vouch_json_parse((const char *)p, n, &inner, NULL, 0) == VOUCH_OK &&
                 (json_is_object(json_object_get(inner, "payload")) ||
                  json_is_string(json_object_get(inner, "report")));
            vouch_free(p);
        } else if (res.status >= 400 && res.status < 500) {
            const json_t *e = json_object_get(o, "error");
            ok = json_is_object(e) && json_string_length(json_object_get(e, "code")) > 0 &&
                 json_string_length(json_object_get(e, "message")) > 0;
        }
    }
    if (!ok) {
        fprintf(stderr, "fuzz_attest_tpm: answered %d with: %.*s\n", res.status,
                (int)(res.body.len < 2000 ? res.body.len : 2000),
                res.body.data ? (const char *)res.body.data : "");
        abort();
    }
    json_decref(o);
    vouch_buf_free(&res.body);
    return inner;
}

static json_t *post_message(const uint8_t *msg, size_t len)
{
    char *d64 = b64u(msg, len);
    json_t *body = json_pack("{s:s}", "data", d64), *ans;
    char *text = NULL;

    if (!body || vouch_json_dump(body, 0, &text) != VOUCH_OK)
        die("out of memory");
    ans = post((const uint8_t *)text, strlen(text));
    vouch_free(text);
    json_decref(body);
    vouch_free(d64);
    return ans;
}

struct subst {
    json_t *sc, *ch, *jwk, *aik, *quote, *sig;
};

/* Replaces placeholder strings anywhere in @p v (depth-bounded). */
static void substitute(json_t *v, const struct subst *s, int depth)
{
    const char *k;
    json_t *m;
    size_t i;

    if (depth > 16)
        return;
    if (json_is_object(v)) {
        json_object_foreach(v, k, m)
        {
            const char *t = json_string_value(m);
            json_t *r = !t                         ? NULL
                        : strcmp(t, "$SC") == 0    ? s->sc
                        : strcmp(t, "$CH") == 0    ? s->ch
                        : strcmp(t, "$JWK") == 0   ? s->jwk
                        : strcmp(t, "$AIK") == 0   ? s->aik
                        : strcmp(t, "$QUOTE") == 0 ? s->quote
                        : strcmp(t, "$SIG") == 0   ? s->sig
                                                   : NULL;
            if (r)
                json_object_set(v, k, r);
            else
                substitute(m, s, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) substitute(m, s, depth + 1);
    }
}

/* A quote over sha256 PCRs 0-7 (zero) with extraData bound to the request
 * key and @p challenge, and its TPMT_SIGNATURE by the AK. */
static void make_quote(const uint8_t *challenge, size_t clen, json_t **quote, json_t **sig)
{
    struct vouch_pubkey *pub = NULL;
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    uint8_t *th = NULL, bind[32 + 1 + 64], nonce[32], zeros[8 * 32] = {0}, q[160], s[80], rs[64];
    size_t tl = 0, rl = 0, n = 0;
    char *t;

    if (clen > 64 || vouch_pkey_public(g_req, &pub) != VOUCH_OK ||
        vouch_token_kid(pub, kid) != VOUCH_OK ||
        vouch_base64_decode(kid, strlen(kid), true, &th, &tl) != VOUCH_OK || tl != 32)
        die("thumbprint");
    memcpy(bind, th, 32);
    bind[32] = 0;
    memcpy(bind + 33, challenge, clen);
    if (vouch_sha256(bind, 33 + clen, nonce) != VOUCH_OK)
        die("hash");
    n += put32(q + n, VOUCH_TPM_GENERATED_VALUE);
    n += put16(q + n, VOUCH_TPM_ST_ATTEST_QUOTE);
    n += put16(q + n, 0); /* qualifiedSigner */
    n += put16(q + n, 32);
    memcpy(q + n, nonce, 32);
    n += 32;
    memset(q + n, 0, 17); /* clockInfo */
    q[n + 16] = 1;        /* safe */
    n += 17;
    memset(q + n, 0, 8); /* firmwareVersion */
    n += 8;
    n += put32(q + n, 1);
    n += put16(q + n, VOUCH_TPM_ALG_SHA256);
    q[n++] = 3;
    q[n++] = 0xff;
    q[n++] = 0;
    q[n++] = 0;
    n += put16(q + n, 32);
    if (vouch_sha256(zeros, sizeof(zeros), q + n) != VOUCH_OK)
        die("hash");
    n += 32;
    if (vouch_pkey_sign(g_ak, VOUCH_SIG_ES256, q, n, rs, sizeof(rs), &rl) != VOUCH_OK || rl != 64)
        die("sign");
    put16(s, VOUCH_TPM_ALG_ECDSA);
    put16(s + 2, VOUCH_TPM_ALG_SHA256);
    put16(s + 4, 32);
    memcpy(s + 6, rs, 32);
    put16(s + 38, 32);
    memcpy(s + 40, rs + 32, 32);
    t = b64u(q, n);
    *quote = json_string(t);
    vouch_free(t);
    t = b64u(s, 72);
    *sig = json_string(t);
    vouch_free(t);
    vouch_free(th);
    vouch_pubkey_free(pub);
}

static void mode2(const uint8_t *p, size_t len)
{
    static const uint8_t round1[] = "{\"payload\":{\"type\":\"aikcert\"}}";
    struct subst s = {0};
    struct vouch_pubkey *pub = NULL;
    json_t *ans, *tmpl = NULL, *msg;
    const char *chal, *sc;
    uint8_t *cb = NULL, sig[80];
    size_t cl = 0, sl = 0;
    char *ptext = NULL, *h64, *p64, *s64, *input, *jws, *text = NULL;
    static const char hdr[] = "{\"alg\":\"ES256\",\"typ\":\"attReqV2\"}";

    /* The service time moves on, so consumed contexts expire and the bounded
     * replay set never fills up over a long run (which would answer 503). */
    g_d->cfg.eval_time++;
    ans = post_message(round1, sizeof(round1) - 1);
    if (!ans)
        die("round 1 failed");
    chal = json_string_value(json_object_get(json_object_get(ans, "payload"), "challenge"));
    sc = json_string_value(json_object_get(json_object_get(ans, "payload"), "service_context"));
    if (!chal || !sc || vouch_base64_decode(chal, strlen(chal), true, &cb, &cl) != VOUCH_OK)
        die("round 1 answer");
    s.sc = json_string(sc);
    s.ch = json_string(chal);
    {
        char *a = b64u(g_ak_pub, g_ak_pub_len);
        s.aik = json_string(a);
        vouch_free(a);
    }
    if (vouch_pkey_public(g_req, &pub) != VOUCH_OK ||
        vouch_pkey_pub_to_jwk(pub, &s.jwk) != VOUCH_OK)
        die("jwk");
    make_quote(cb, cl, &s.quote, &s.sig);

    /* Not JSON: signed as it is, which the service must refuse cleanly. */
    if (vouch_json_parse((const char *)p, len, &tmpl, NULL, 0) == VOUCH_OK) {
        substitute(tmpl, &s, 0);
        if (vouch_json_dump(tmpl, 0, &ptext) != VOUCH_OK)
            die("dump");
        p64 = b64u(ptext, strlen(ptext));
    } else {
        p64 = b64u(p, len);
    }
    h64 = b64u(hdr, sizeof(hdr) - 1);
    input = vouch_malloc(strlen(h64) + strlen(p64) + 2);
    if (!input)
        die("out of memory");
    sprintf(input, "%s.%s", h64, p64);
    if (vouch_pkey_sign(g_req, VOUCH_SIG_ES256, input, strlen(input), sig, sizeof(sig), &sl) !=
        VOUCH_OK)
        die("sign");
    s64 = b64u(sig, sl);
    jws = vouch_malloc(strlen(input) + strlen(s64) + 2);
    if (!jws)
        die("out of memory");
    sprintf(jws, "%s.%s", input, s64);
    msg = json_pack("{s:{s:s}}", "payload", "request", jws);
    if (!msg || vouch_json_dump(msg, 0, &text) != VOUCH_OK)
        die("dump");
    json_decref(post_message((const uint8_t *)text, strlen(text)));

    vouch_free(text);
    json_decref(msg);
    vouch_free(jws);
    vouch_free(s64);
    vouch_free(input);
    vouch_free(h64);
    vouch_free(p64);
    vouch_free(ptext);
    json_decref(tmpl);
    vouch_pubkey_free(pub);
    vouch_free(cb);
    json_decref(ans);
    json_decref(s.sc);
    json_decref(s.ch);
    json_decref(s.jwk);
    json_decref(s.aik);
    json_decref(s.quote);
    json_decref(s.sig);
}

static void mode3(const uint8_t *p, size_t len)
{
    static const uint8_t name[34] = {0x00, 0x0b, 1, 2, 3};
    static const uint8_t secret[32] = {7};
    struct vouch_tpm_public ek;
    struct vouch_tpm_credential cred;

    if (vouch_tpm_public_parse(p, len, &ek) != VOUCH_OK)
        return;
    if (vouch_tpm_make_credential(&ek, name, sizeof(name), secret, sizeof(secret), &cred) !=
        VOUCH_OK)
        return;
    if (cred.id_object_len < 4 || cred.id_object_len > sizeof(cred.id_object) ||
        ((size_t)cred.id_object[0] << 8 | cred.id_object[1]) != cred.id_object_len - 2 ||
        cred.enc_secret_len < 2 || cred.enc_secret_len > sizeof(cred.enc_secret) ||
        ((size_t)cred.enc_secret[0] << 8 | cred.enc_secret[1]) != cred.enc_secret_len - 2)
        die("MakeCredential produced malformed structures");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > VOUCH_MAX_HTTP_BODY / 2)
        return 0;
    service();
    switch (data[0] % 4) {
    case 0:
        json_decref(post(data + 1, size - 1));
        break;
    case 1:
        json_decref(post_message(data + 1, size - 1));
        break;
    case 2:
        mode2(data + 1, size - 1);
        break;
    default:
        mode3(data + 1, size - 1);
        break;
    }
    return 0;
}
