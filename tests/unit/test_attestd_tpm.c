/* /attest/Tpm driven in-process (no sockets): both protocol rounds with
 * quotes made in software. The AK is an OpenSSL RSA key whose TPMT_PUBLIC
 * we marshal ourselves; the verifier only needs the structure and the
 * signature, so a quote signed here is as good as one from a TPM. Checks the
 * three AK trust paths (certificate chain, EK credential activation, a
 * pre-registered Name), the token's claims, and that each broken input is
 * refused with its reason. The EK credential is opened with a software
 * ActivateCredential here; tests/cli/tpm_makecred.sh opens it with swtpm. */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/tpm.h>

#include "attestd/attestd_int.h"

#define T0       1751328000 /* 2025-07-01 */
#define ATTRS_AK 0x00050072u
#define ATTRS_EK 0x000300B2u
#define LOG_FILE "tpm/eventlogs/rhel8-uefi.bin"
#define QUOTED   0xffu /* PCRs 0-7 */

static const char policy_text[] =
    "version= 1.0;\n"
    "authorizationrules{\n"
    "\t=> permit();\n"
    "};\n"
    "issuancerules{\n"
    "\tc:[type==\"x-ms-tpm-ak-trust\"] => issue(type=\"ak-trust\", value=c.value);\n"
    "\tc:[type==\"secureBootEnabled\"] => issue(type=\"sb\", value=c.value);\n"
    "\tc:[type==\"my-claim\", issuer==\"CustomClaim\"] => issue(type=\"my-claim\", "
    "value=c.value);\n"
    "};\n";

static const char strict_policy_text[] = "version= 1.0;\n"
                                         "authorizationrules{\n"
                                         "\tc:[type==\"aikValidated\", value==true] => permit();\n"
                                         "};\n";

struct fx {
    char dir[64];
    char roots[128], ak_allow[128], ek_allow[128];
    struct attestd *d;
    EVP_PKEY *ak, *ak2, *ek, *ca;
    uint8_t ak_pub[600], ak2_pub[600], ak2_unres_pub[600], ek_pub[600];
    size_t ak_pub_len, ak2_pub_len, ak2_unres_pub_len, ek_pub_len;
    uint8_t ak_name[34], ak2_name[34], ak2_unres_name[34], ek_name[34];
    uint8_t *ak_cert;
    size_t ak_cert_len;
    struct vouch_pkey *req, *other;
    uint8_t *log;
    size_t log_len;
    struct vouch_tpm_pcr_bank sha256, sha1;
};
static struct fx F;

/* ---------------- TPM structures ---------------- */

static size_t put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    return k;
}

/* TPM2B_PUBLIC of an RSA-2048 key: an AK (RSASSA-SHA256, no symmetric) or an
 * EK (AES-128-CFB, no scheme), with its Name. */
static size_t rsa_public(EVP_PKEY *k, uint32_t attrs, bool ek, uint8_t *out, uint8_t name[34])
{
    BIGNUM *n = NULL;
    uint8_t *p = out + 2;
    size_t len;

    assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &n), 1);
    p += put16(p, VOUCH_TPM_ALG_RSA);
    p += put16(p, VOUCH_TPM_ALG_SHA256);
    p += put32(p, attrs);
    p += put16(p, 0); /* authPolicy */
    if (ek) {
        p += put16(p, 0x0006); /* AES */
        p += put16(p, 128);
        p += put16(p, 0x0043); /* CFB */
        p += put16(p, VOUCH_TPM_ALG_NULL);
    } else {
        p += put16(p, VOUCH_TPM_ALG_NULL);
        p += put16(p, VOUCH_TPM_ALG_RSASSA);
        p += put16(p, VOUCH_TPM_ALG_SHA256);
    }
    p += put16(p, 2048);
    p += put32(p, 0);
    p += put16(p, 256);
    assert_int_equal(BN_bn2binpad(n, p, 256), 256);
    p += 256;
    BN_free(n);
    len = (size_t)(p - out);
    put16(out, (unsigned)(len - 2));
    put16(name, VOUCH_TPM_ALG_SHA256);
    assert_int_equal(vouch_sha256(out + 2, len - 2, name + 2), VOUCH_OK);
    return len;
}

struct quote_spec {
    uint16_t bank;
    uint32_t mask;
    const struct vouch_tpm_pcr_bank *values;
    int tweak_pcr; /* >= 0: that PCR's value is changed (in digest and list) */
};

/* TPMS_ATTEST of a quote over @p q with @p nonce; PCR values hashed with
 * SHA-256 (the signature's hash). */
static size_t make_quote(const uint8_t *nonce, size_t nonce_len, const struct quote_spec *q,
                         struct vouch_tpm_pcr_bank *sent, uint8_t *out)
{
    uint8_t *p = out, cat[24 * 64];
    size_t dlen = vouch_tpm_digest_len(q->bank), n = 0;

    memset(sent, 0, sizeof(*sent));
    sent->alg = q->bank;
    sent->mask = q->mask;
    for (unsigned i = 0; i < 24; i++) {
        if (!(q->mask & (1u << i)))
            continue;
        memcpy(sent->values[i], q->values->values[i], dlen);
        if ((int)i == q->tweak_pcr)
            sent->values[i][0] ^= 0x5a;
        memcpy(cat + n, sent->values[i], dlen);
        n += dlen;
    }
    p += put32(p, VOUCH_TPM_GENERATED_VALUE);
    p += put16(p, VOUCH_TPM_ST_ATTEST_QUOTE);
    p += put16(p, 34); /* qualifiedSigner: any Name; not compared */
    memset(p, 0x11, 34);
    p += 34;
    p += put16(p, (unsigned)nonce_len);
    memcpy(p, nonce, nonce_len);
    p += nonce_len;
    p += put32(p, 0);
    p += put32(p, 123456); /* clock */
    p += put32(p, 1);      /* resetCount */
    p += put32(p, 0);      /* restartCount */
    *p++ = 1;              /* safe */
    p += put32(p, 0x20191023);
    p += put32(p, 0x00163636);
    p += put32(p, 1); /* one bank */
    p += put16(p, q->bank);
    *p++ = 3;
    *p++ = (uint8_t)q->mask;
    *p++ = (uint8_t)(q->mask >> 8);
    *p++ = (uint8_t)(q->mask >> 16);
    p += put16(p, 32);
    assert_int_equal(vouch_sha256(cat, n, p), VOUCH_OK);
    p += 32;
    return (size_t)(p - out);
}

/* TPMT_SIGNATURE RSASSA-SHA256 by @p k over @p msg. */
static size_t sign_quote(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = 256;

    assert_non_null(c);
    put16(out, VOUCH_TPM_ALG_RSASSA);
    put16(out + 2, VOUCH_TPM_ALG_SHA256);
    assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(c, out + 6, &sl, msg, len), 1);
    put16(out + 4, (unsigned)sl);
    EVP_MD_CTX_free(c);
    return 6 + sl;
}

/* ---------------- certificates ---------------- */

static X509 *make_cert(EVP_PKEY *subject_key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
                       bool ca, long not_before, long not_after)
{
    X509 *x = X509_new();
    X509_NAME *n;
    X509V3_CTX v3;
    X509_EXTENSION *e;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
    {
        time_t t0 = T0;
        ASN1_TIME_adj(X509_getm_notBefore(x), t0, 0, not_before);
        ASN1_TIME_adj(X509_getm_notAfter(x), t0, 0, not_after);
    }
    X509_set_pubkey(x, subject_key);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (ca) {
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    return x;
}

static void write_names(const char *path, const uint8_t (*names)[34], size_t n)
{
    FILE *f = fopen(path, "w");
    char hex[69];
    assert_non_null(f);
    fprintf(f, "# pre-registered Names\n\n");
    for (size_t i = 0; i < n; i++) {
        vouch_hex_encode(names[i], 34, hex);
        fprintf(f, "%s\n", hex);
    }
    fclose(f);
}

/* ---------------- the service ---------------- */

static void set_policy(const char *text)
{
    struct attestd_policy *p = NULL;
    struct vouch_policy_error perr;

    attestd_policy_unref(F.d->policy[ATTESTD_TPM]);
    F.d->policy[ATTESTD_TPM] = NULL;
    if (!text)
        return;
    assert_int_equal(attestd_policy_build(text, strlen(text), &p, &perr), VOUCH_OK);
    F.d->policy[ATTESTD_TPM] = p;
}

static int setup(void **state)
{
    uint8_t names[3][34];
    X509 *cax, *akx;
    unsigned char *der = NULL;
    int der_len;
    FILE *f;
    (void)state;

    memset(&F, 0, sizeof(F));
    snprintf(F.dir, sizeof(F.dir), "/tmp/vouch-tpm-test-XXXXXX");
    assert_non_null(mkdtemp(F.dir));
    snprintf(F.roots, sizeof(F.roots), "%s/ak-roots.pem", F.dir);
    snprintf(F.ak_allow, sizeof(F.ak_allow), "%s/ak-allow.txt", F.dir);
    snprintf(F.ek_allow, sizeof(F.ek_allow), "%s/ek-allow.txt", F.dir);

    F.ak = rsa_key();
    F.ak2 = rsa_key();
    F.ek = rsa_key();
    F.ca = rsa_key();
    F.ak_pub_len = rsa_public(F.ak, ATTRS_AK, false, F.ak_pub, F.ak_name);
    F.ak2_pub_len = rsa_public(F.ak2, ATTRS_AK, false, F.ak2_pub, F.ak2_name);
    F.ak2_unres_pub_len = rsa_public(F.ak2, ATTRS_AK & ~VOUCH_TPMA_RESTRICTED, false,
                                     F.ak2_unres_pub, F.ak2_unres_name);
    F.ek_pub_len = rsa_public(F.ek, ATTRS_EK, true, F.ek_pub, F.ek_name);

    /* AK certificate: CA -> AK, valid around T0. */
    cax = make_cert(F.ca, F.ca, NULL, "Test TPM AK CA", true, -86400, 3650L * 86400);
    akx = make_cert(F.ak, F.ca, cax, "Test AK", false, -3600, 365L * 86400);
    f = fopen(F.roots, "w");
    assert_non_null(f);
    PEM_write_X509(f, cax);
    fclose(f);
    der_len = i2d_X509(akx, &der);
    assert_true(der_len > 0);
    F.ak_cert = malloc((size_t)der_len);
    memcpy(F.ak_cert, der, (size_t)der_len);
    F.ak_cert_len = (size_t)der_len;
    OPENSSL_free(der);
    X509_free(akx);
    X509_free(cax);

    memcpy(names[0], F.ak2_name, 34);
    memcpy(names[1], F.ak2_unres_name, 34);
    write_names(F.ak_allow, (const uint8_t(*)[34])names, 2);
    memcpy(names[0], F.ek_name, 34);
    write_names(F.ek_allow, (const uint8_t(*)[34])names, 1);

    assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_EC_P256, &F.req), VOUCH_OK);
    assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_EC_P256, &F.other), VOUCH_OK);

    /* A real boot log and its replayed PCRs. */
    {
        struct vouch_tpm_log log;
        assert_non_null(F.log = vt_read(LOG_FILE, &F.log_len));
        assert_int_equal(vouch_tpm_log_parse(F.log, F.log_len, &log), VOUCH_OK);
        assert_int_equal(vouch_tpm_log_replay(&log, VOUCH_TPM_ALG_SHA256, &F.sha256), VOUCH_OK);
        assert_int_equal(vouch_tpm_log_replay(&log, VOUCH_TPM_ALG_SHA1, &F.sha1), VOUCH_OK);
        vouch_tpm_log_free(&log);
    }

    assert_non_null(F.d = calloc(1, sizeof(*F.d)));
    F.d->cfg.issuer = "https://attest.example";
    F.d->cfg.data_dir = F.dir;
    F.d->cfg.token_alg = VOUCH_SIG_RS256;
    F.d->cfg.token_lifetime = 28800;
    F.d->cfg.has_eval_time = true;
    F.d->cfg.eval_time = T0;
    F.d->cfg.tpm_ak_roots = F.roots;
    F.d->cfg.tpm_ak_allow = F.ak_allow;
    F.d->cfg.tpm_ek_allow = F.ek_allow;
    assert_int_equal(attestd_store_open(F.dir, &F.d->store), VOUCH_OK);
    assert_int_equal(attestd_keys_load(F.d), VOUCH_OK);
    assert_int_equal(attestd_policies_load(F.d), VOUCH_OK);
    assert_null(F.d->policy[ATTESTD_TPM]); /* no TPM default, as MAA */
    assert_int_equal(attestd_tpm_init(F.d), VOUCH_OK);
    set_policy(policy_text);
    return 0;
}

static void rm_dir(const char *dir)
{
    static const char *const files[] = {"state.mdb",    "state.mdb-lock", "tpm-context.key",
                                        "ak-roots.pem", "ak-allow.txt",   "ek-allow.txt"};
    char path[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int teardown(void **state)
{
    (void)state;
    set_policy(NULL);
    attestd_tpm_free(F.d);
    for (int t = 0; t < ATTESTD_TYPE__COUNT; t++)
        attestd_policy_unref(F.d->policy[t]);
    attestd_keys_free(F.d);
    attestd_store_close(F.d->store);
    free(F.d);
    rm_dir(F.dir);
    EVP_PKEY_free(F.ak);
    EVP_PKEY_free(F.ak2);
    EVP_PKEY_free(F.ek);
    EVP_PKEY_free(F.ca);
    vouch_pkey_free(F.req);
    vouch_pkey_free(F.other);
    free(F.ak_cert);
    free(F.log);
    return 0;
}

/* ---------------- protocol helpers ---------------- */

static char *b64u(const void *p, size_t n)
{
    char *s = malloc(vouch_base64_encoded_len(n, true) + 1);
    assert_non_null(s);
    vouch_base64_encode(p, n, true, s);
    return s;
}

static uint8_t *unb64(const char *s, size_t *n)
{
    uint8_t *p = NULL;
    assert_int_equal(vouch_base64_decode(s, strlen(s), true, &p, n), VOUCH_OK);
    return p;
}

struct answer {
    int status;
    json_t *payload; /* decoded data (200) */
    char message[600];
};

/* POSTs {"data": b64url(msg)} to the handler. */
static void call(json_t *msg, struct answer *a)
{
    char note[ATTESTD_LOG_NOTE_MAX];
    struct vouch_http_request req;
    struct vouch_http_response res;
    char *text = NULL, *body_text = NULL, *d64;
    json_t *body, *o = NULL;

    memset(a, 0, sizeof(*a));
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    assert_int_equal(vouch_json_dump(msg, 0, &text), VOUCH_OK);
    d64 = b64u(text, strlen(text));
    body = json_pack("{s:s}", "data", d64);
    assert_int_equal(vouch_json_dump(body, 0, &body_text), VOUCH_OK);
    req.method = "POST";
    req.path = "/attest/Tpm";
    req.query = "api-version=2022-08-01";
    req.body = (const uint8_t *)body_text;
    req.body_len = strlen(body_text);
    snprintf(req.request_id, sizeof(req.request_id), "test");
    vouch_buf_init(&res.body, VOUCH_MAX_HTTP_RESPONSE);
    attestd_attest(F.d, ATTESTD_TPM, &req, &res, note);
    assert_int_equal(strncmp(note, "type=Tpm round=", 15), 0);
    a->status = res.status;
    assert_int_equal(vouch_json_parse((const char *)res.body.data, res.body.len, &o, NULL, 0),
                     VOUCH_OK);
    if (res.status == 200) {
        size_t n;
        uint8_t *inner = unb64(json_string_value(json_object_get(o, "data")), &n);
        assert_int_equal(vouch_json_parse((const char *)inner, n, &a->payload, NULL, 0), VOUCH_OK);
        vouch_free(inner);
    } else {
        snprintf(a->message, sizeof(a->message), "%s",
                 json_string_value(json_object_get(json_object_get(o, "error"), "message")));
    }
    json_decref(o);
    json_decref(body);
    vouch_buf_free(&res.body);
    vouch_free(text);
    vouch_free(body_text);
    free(d64);
}

static void expect_reason(struct answer *a, int status, const char *reason)
{
    size_t n = strlen(reason);
    if (a->status != status || strncmp(a->message, reason, n) != 0 || a->message[n] != ':')
        fail_msg("expected %d %s, got %d '%s'", status, reason, a->status, a->message);
    json_decref(a->payload);
}

/* Round 1: returns the challenge (aikcert) and the service context. */
static void round1_aikcert(uint8_t challenge[32], char **sc)
{
    struct answer a;
    json_t *msg = json_pack("{s:{s:s}}", "payload", "type", "aikcert");
    uint8_t *c;
    size_t n;

    call(msg, &a);
    json_decref(msg);
    assert_int_equal(a.status, 200);
    c = unb64(
        json_string_value(json_object_get(json_object_get(a.payload, "payload"), "challenge")), &n);
    assert_int_equal(n, 32);
    memcpy(challenge, c, 32);
    vouch_free(c);
    *sc = strdup(json_string_value(
        json_object_get(json_object_get(a.payload, "payload"), "service_context")));
    json_decref(a.payload);
}

struct attempt {
    EVP_PKEY *ak;          /* signs the quote */
    const uint8_t *ak_pub; /* sent as aik_public */
    size_t ak_pub_len;
    bool with_cert; /* send aik_cert */
    bool with_log;
    struct quote_spec q;
    const uint8_t *challenge;      /* the one sent in att_data */
    const uint8_t *bind_challenge; /* the one the quote binds (NULL: challenge) */
    struct vouch_pkey *bind_key;   /* key whose thumbprint the quote binds (NULL: req) */
    struct vouch_pkey *jws_key;    /* signs the JWS (NULL: req) */
    const char *sc;
    int flip_quote, flip_sig; /* >= 0: flip that byte */
    int tweak_sent;           /* >= 0: that PCR's sent value differs from the quoted one */
    const char *custom;       /* value of custom claim "my-claim" */
};

static void attempt_init(struct attempt *t, const uint8_t *challenge, const char *sc)
{
    memset(t, 0, sizeof(*t));
    t->ak = F.ak;
    t->ak_pub = F.ak_pub;
    t->ak_pub_len = F.ak_pub_len;
    t->with_cert = true;
    t->with_log = true;
    t->q.bank = VOUCH_TPM_ALG_SHA256;
    t->q.mask = QUOTED;
    t->q.values = &F.sha256;
    t->q.tweak_pcr = -1;
    t->challenge = challenge;
    t->sc = sc;
    t->flip_quote = -1;
    t->flip_sig = -1;
    t->tweak_sent = -1;
}

static void binding_nonce(struct vouch_pkey *k, const uint8_t *challenge, uint8_t out[32])
{
    struct vouch_pubkey *pub = NULL;
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    uint8_t buf[65], *th;
    size_t tn;

    assert_int_equal(vouch_pkey_public(k, &pub), VOUCH_OK);
    assert_int_equal(vouch_token_kid(pub, kid), VOUCH_OK);
    th = unb64(kid, &tn);
    assert_int_equal(tn, 32);
    memcpy(buf, th, 32);
    buf[32] = 0;
    memcpy(buf + 33, challenge, 32);
    assert_int_equal(vouch_sha256(buf, sizeof(buf), out), VOUCH_OK);
    vouch_free(th);
    vouch_pubkey_free(pub);
}

/* Builds and sends a round-2 message; returns the decoded answer. */
static void round2(const struct attempt *t, struct answer *a)
{
    struct vouch_pubkey *pub = NULL;
    json_t *jwk = NULL, *pcr_values, *cur, *att, *payload, *msg, *hdr;
    uint8_t nonce[32], quote[512], sig[300], jsig[300];
    struct vouch_tpm_pcr_bank sent;
    size_t ql, sl, jl, dlen = vouch_tpm_digest_len(t->q.bank);
    char *s_quote, *s_sig, *s_pub, *s_chal, *s_log, *s_cert, *s_rp, *htext = NULL, *ptext = NULL;
    char *h64, *p64, *sig64, *jws, *sig_input;

    binding_nonce(t->bind_key ? t->bind_key : F.req,
                  t->bind_challenge ? t->bind_challenge : t->challenge, nonce);
    ql = make_quote(nonce, 32, &t->q, &sent, quote);
    sl = sign_quote(t->ak, quote, ql, sig);
    if (t->flip_quote >= 0)
        quote[t->flip_quote] ^= 1;
    if (t->flip_sig >= 0)
        sig[t->flip_sig] ^= 1;
    if (t->tweak_sent >= 0)
        sent.values[t->tweak_sent][9] ^= 1;
    assert_int_equal(vouch_pkey_public(F.req, &pub), VOUCH_OK);
    assert_int_equal(vouch_pkey_pub_to_jwk(pub, &jwk), VOUCH_OK);
    vouch_pubkey_free(pub);

    pcr_values = json_array();
    for (unsigned i = 0; i < 24; i++) {
        if (sent.mask & (1u << i)) {
            char *v = b64u(sent.values[i], dlen);
            json_array_append_new(pcr_values, json_pack("{s:i,s:s}", "index", i, "digest", v));
            free(v);
        }
    }
    s_quote = b64u(quote, ql);
    s_sig = b64u(sig, sl);
    s_pub = b64u(t->ak_pub, t->ak_pub_len);
    s_chal = b64u(t->challenge, 32);
    s_log = b64u(F.log, F.log_len);
    s_cert = b64u(F.ak_cert, F.ak_cert_len);
    s_rp = b64u("relying-party-nonce", 19);
    cur = json_pack("{s:s,s:s,s:s,s:[{s:i,s:o}]}", "aik_public", s_pub, "quote", s_quote,
                    "signature", s_sig, "pcrs", "algorithm", t->q.bank, "values", pcr_values);
    assert_non_null(cur);
    if (t->with_cert)
        json_object_set_new(cur, "aik_cert", json_string(s_cert));
    if (t->with_log)
        json_object_set_new(cur, "logs", json_pack("[{s:s,s:s}]", "type", "TCG", "log", s_log));
    att =
        json_pack("{s:s,s:s,s:s,s:s,s:{s:O,s:{s:{s:s}}},s:{s:o}}", "rp_id", "test", "rp_data", s_rp,
                  "challenge", s_chal, "service_context", t->sc, "request_key", "jwk", jwk, "info",
                  "tpm_quote", "hash_alg", "sha-256", "tpm_att_data", "current_attestation", cur);
    assert_non_null(att);
    if (t->custom)
        json_object_set_new(att, "custom_claims",
                            json_pack("[{s:s,s:s,s:s}]", "name", "my-claim", "value", t->custom,
                                      "value_type", "string"));
    payload = json_pack("{s:s,s:o}", "att_type", "basic", "att_data", att);
    hdr = json_pack("{s:s,s:s}", "alg", "ES256", "typ", "attReqV2");
    assert_int_equal(vouch_json_dump(hdr, 0, &htext), VOUCH_OK);
    assert_int_equal(vouch_json_dump(payload, 0, &ptext), VOUCH_OK);
    h64 = b64u(htext, strlen(htext));
    p64 = b64u(ptext, strlen(ptext));
    sig_input = malloc(strlen(h64) + strlen(p64) + 2);
    sprintf(sig_input, "%s.%s", h64, p64);
    assert_int_equal(vouch_pkey_sign(t->jws_key ? t->jws_key : F.req, VOUCH_SIG_ES256, sig_input,
                                     strlen(sig_input), jsig, sizeof(jsig), &jl),
                     VOUCH_OK);
    sig64 = b64u(jsig, jl);
    jws = malloc(strlen(sig_input) + strlen(sig64) + 2);
    sprintf(jws, "%s.%s", sig_input, sig64);
    msg = json_pack("{s:{s:s}}", "payload", "request", jws);
    call(msg, a);

    json_decref(msg);
    json_decref(payload);
    json_decref(hdr);
    json_decref(jwk);
    free(jws);
    free(sig64);
    free(sig_input);
    free(h64);
    free(p64);
    vouch_free(htext);
    vouch_free(ptext);
    free(s_quote);
    free(s_sig);
    free(s_pub);
    free(s_chal);
    free(s_log);
    free(s_cert);
    free(s_rp);
}

/* The claims of a token answer (payload {"report": JWT}); checks the
 * signature with the service's JWKS. */
static json_t *token_claims(struct answer *a)
{
    const char *tok = json_string_value(json_object_get(a->payload, "report"));
    struct vouch_jwks *jwks = NULL;
    struct vouch_token_opts o;
    struct vouch_token_result r;
    const char *dot1, *dot2;
    uint8_t *p;
    size_t n;
    json_t *claims = NULL;

    assert_non_null(tok);
    assert_int_equal(vouch_jwks_parse(F.d->jwks_text, strlen(F.d->jwks_text), &jwks, NULL, 0),
                     VOUCH_OK);
    vouch_token_opts_init(&o, attestd_now(F.d));
    o.issuer = F.d->cfg.issuer;
    assert_int_equal(vouch_token_verify(tok, strlen(tok), jwks, &o, &r), VOUCH_OK);
    vouch_token_result_free(&r);
    vouch_jwks_free(jwks);
    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');
    assert_int_equal(vouch_base64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), true, &p, &n),
                     VOUCH_OK);
    assert_int_equal(vouch_json_parse((const char *)p, n, &claims, NULL, 0), VOUCH_OK);
    vouch_free(p);
    json_decref(a->payload);
    a->payload = NULL;
    return claims;
}

static const char *cstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

/* ---------------- tests ---------------- */

static void test_certificate_path(void **state)
{
    uint8_t chal[32];
    char *sc, hex[65];
    struct attempt t;
    struct answer a;
    json_t *c, *jwk = NULL;
    struct vouch_pubkey *pub = NULL;
    (void)state;

    round1_aikcert(chal, &sc);
    attempt_init(&t, chal, sc);
    t.custom = "hello";
    round2(&t, &a);
    if (a.status != 200)
        fail_msg("round 2: %d %s", a.status, a.message);
    c = token_claims(&a);
    assert_string_equal(cstr(c, "x-ms-attestation-type"), "tpm");
    assert_string_equal(cstr(c, "x-ms-tpm-ak-trust"), "certificate");
    assert_string_equal(cstr(c, "ak-trust"), "certificate");
    assert_true(json_is_true(json_object_get(c, "aikValidated")));
    assert_int_equal(json_integer_value(json_object_get(c, "tpmVersion")), 2);
    assert_string_equal(cstr(c, "rp_data"), "cmVseWluZy1wYXJ0eS1ub25jZQ");
    assert_string_equal(cstr(c, "my-claim"), "hello"); /* through the policy only */
    assert_non_null(json_object_get(c, "x-ms-policy-hash"));
    assert_non_null(json_object_get(c, "jti"));
    vouch_hex_encode(F.sha256.values[0], 32, hex);
    assert_string_equal(cstr(json_object_get(json_object_get(c, "x-ms-tpm-pcrs"), "sha256"), "0"),
                        hex);
    /* secureBootEnabled comes from the verified log (rhel8: off), and the
     * policy copies it. */
    assert_non_null(json_object_get(c, "secureBootEnabled"));
    assert_true(json_equal(json_object_get(c, "sb"), json_object_get(c, "secureBootEnabled")));
    /* cnf is the request key. */
    assert_int_equal(vouch_pkey_public(F.req, &pub), VOUCH_OK);
    assert_int_equal(vouch_pkey_pub_to_jwk(pub, &jwk), VOUCH_OK);
    assert_true(json_equal(json_object_get(json_object_get(c, "cnf"), "jwk"), jwk));
    /* aikPubHash: base64 SHA-256 of the AK's DER SubjectPublicKeyInfo. */
    {
        unsigned char *der = NULL;
        int dl = i2d_PUBKEY(F.ak, &der);
        uint8_t h[32];
        char b64[48];
        assert_true(dl > 0);
        assert_int_equal(vouch_sha256(der, (size_t)dl, h), VOUCH_OK);
        vouch_base64_encode(h, 32, false, b64);
        assert_string_equal(cstr(c, "aikPubHash"), b64);
        OPENSSL_free(der);
    }
    json_decref(jwk);
    vouch_pubkey_free(pub);
    json_decref(c);

    /* The same context again: replayed. */
    round2(&t, &a);
    expect_reason(&a, 400, "ContextReplayed");
    free(sc);
}

static void test_preregistered_path(void **state)
{
    uint8_t chal[32];
    char *sc;
    struct attempt t;
    struct answer a;
    json_t *c;
    (void)state;

    round1_aikcert(chal, &sc);
    attempt_init(&t, chal, sc);
    t.ak = F.ak2;
    t.ak_pub = F.ak2_pub;
    t.ak_pub_len = F.ak2_pub_len;
    t.with_cert = false;
    round2(&t, &a);
    if (a.status != 200)
        fail_msg("round 2: %d %s", a.status, a.message);
    c = token_claims(&a);
    assert_string_equal(cstr(c, "x-ms-tpm-ak-trust"), "preregistered-insecure");
    assert_true(json_is_false(json_object_get(c, "aikValidated")));
    assert_null(json_object_get(c, "my-claim"));
    json_decref(c);
    free(sc);

    /* A policy that wants a validated AK denies it. */
    set_policy(strict_policy_text);
    round1_aikcert(chal, &sc);
    attempt_init(&t, chal, sc);
    t.ak = F.ak2;
    t.ak_pub = F.ak2_pub;
    t.ak_pub_len = F.ak2_pub_len;
    t.with_cert = false;
    round2(&t, &a);
    expect_reason(&a, 400, "PolicyDenied");
    set_policy(policy_text);
    free(sc);
}

/* The verifier's inverse of MakeCredential: what TPM2_ActivateCredential
 * does with the EK's private key. Returns the credential length or -1. */
static int activate(EVP_PKEY *ek, const uint8_t *name, const uint8_t *blob, size_t blob_len,
                    const uint8_t *secret, size_t secret_len, uint8_t *out)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(ek, NULL);
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    uint8_t seed[256], sym[16], hkey[32], mac[32], iv[16] = {0}, plain[80], buf[200];
    size_t seed_len = sizeof(seed), hlen, enc_len;
    unsigned int ml = 0;
    int ol = 0, ret = -1;
    unsigned char *lab = OPENSSL_memdup("IDENTITY", 9);

    assert_non_null(pc);
    assert_non_null(cc);
    assert_int_equal(EVP_PKEY_decrypt_init(pc), 1);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256());
    EVP_PKEY_CTX_set0_rsa_oaep_label(pc, lab, 9);
    if ((size_t)((secret[0] << 8) | secret[1]) != secret_len - 2 ||
        EVP_PKEY_decrypt(pc, seed, &seed_len, secret + 2, secret_len - 2) != 1 || seed_len != 32)
        goto out;
    if ((size_t)((blob[0] << 8) | blob[1]) != blob_len - 2)
        goto out;
    hlen = (size_t)((blob[2] << 8) | blob[3]);
    if (hlen != 32 || blob_len < 4 + hlen + 2)
        goto out;
    enc_len = blob_len - 4 - hlen;
    assert_int_equal(
        vouch_tpm_kdfa(VOUCH_TPM_ALG_SHA256, seed, 32, "INTEGRITY", NULL, 0, NULL, 0, 256, hkey),
        VOUCH_OK);
    memcpy(buf, blob + 4 + hlen, enc_len);
    memcpy(buf + enc_len, name, 34);
    HMAC(EVP_sha256(), hkey, 32, buf, enc_len + 34, mac, &ml);
    if (CRYPTO_memcmp(mac, blob + 4, 32) != 0)
        goto out; /* the TPM's TPM_RC_INTEGRITY */
    assert_int_equal(
        vouch_tpm_kdfa(VOUCH_TPM_ALG_SHA256, seed, 32, "STORAGE", name, 34, NULL, 0, 128, sym),
        VOUCH_OK);
    assert_int_equal(EVP_DecryptInit_ex(cc, EVP_aes_128_cfb128(), NULL, sym, iv), 1);
    assert_int_equal(EVP_DecryptUpdate(cc, plain, &ol, blob + 4 + hlen, (int)enc_len), 1);
    if ((size_t)((plain[0] << 8) | plain[1]) != enc_len - 2)
        goto out;
    memcpy(out, plain + 2, enc_len - 2);
    ret = (int)(enc_len - 2);
out:
    EVP_PKEY_CTX_free(pc);
    EVP_CIPHER_CTX_free(cc);
    return ret;
}

static void ekcred_round1(const uint8_t *ak_pub, size_t ak_pub_len, struct answer *a)
{
    char *ek = b64u(F.ek_pub, F.ek_pub_len), *ak = b64u(ak_pub, ak_pub_len);
    json_t *msg =
        json_pack("{s:{s:s,s:s,s:s}}", "payload", "type", "ekcred", "ek_pub", ek, "ak_pub", ak);
    call(msg, a);
    json_decref(msg);
    free(ek);
    free(ak);
}

static void test_ekcred_path(void **state)
{
    struct answer a;
    struct attempt t;
    uint8_t *blob, *secret, chal[64];
    size_t bl, sl;
    char *sc;
    json_t *p, *c;
    int n;
    (void)state;

    ekcred_round1(F.ak_pub, F.ak_pub_len, &a);
    if (a.status != 200)
        fail_msg("round 1: %d %s", a.status, a.message);
    p = json_object_get(a.payload, "payload");
    /* The challenge is only inside the credential. */
    assert_null(json_object_get(p, "challenge"));
    blob = unb64(cstr(p, "credential_blob"), &bl);
    secret = unb64(cstr(p, "encrypted_secret"), &sl);
    sc = strdup(cstr(p, "service_context"));
    json_decref(a.payload);

    /* Only the AK the credential names can open it. */
    assert_int_equal(activate(F.ek, F.ak2_name, blob, bl, secret, sl, chal), -1);
    n = activate(F.ek, F.ak_name, blob, bl, secret, sl, chal);
    assert_int_equal(n, 32);

    /* Round 2 with the activated challenge, no AK certificate. */
    attempt_init(&t, chal, sc);
    t.with_cert = false;
    round2(&t, &a);
    if (a.status != 200)
        fail_msg("round 2: %d %s", a.status, a.message);
    c = token_claims(&a);
    assert_string_equal(cstr(c, "x-ms-tpm-ak-trust"), "ek-activation");
    assert_true(json_is_true(json_object_get(c, "aikValidated")));
    json_decref(c);
    free(sc);
    vouch_free(blob);
    vouch_free(secret);

    /* Another AK cannot use a context made for the first, even with its
     * challenge (the second AK is pre-registered, which does not matter on
     * this path). */
    ekcred_round1(F.ak_pub, F.ak_pub_len, &a);
    assert_int_equal(a.status, 200);
    p = json_object_get(a.payload, "payload");
    blob = unb64(cstr(p, "credential_blob"), &bl);
    secret = unb64(cstr(p, "encrypted_secret"), &sl);
    sc = strdup(cstr(p, "service_context"));
    json_decref(a.payload);
    assert_int_equal(activate(F.ek, F.ak_name, blob, bl, secret, sl, chal), 32);
    attempt_init(&t, chal, sc);
    t.ak = F.ak2;
    t.ak_pub = F.ak2_pub;
    t.ak_pub_len = F.ak2_pub_len;
    t.with_cert = false;
    round2(&t, &a);
    expect_reason(&a, 400, "UntrustedAik");
    free(sc);
    vouch_free(blob);
    vouch_free(secret);

    /* Round 1 refuses an AK that is not restricted, and an unknown EK. */
    ekcred_round1(F.ak2_unres_pub, F.ak2_unres_pub_len, &a);
    expect_reason(&a, 400, "AikAttributesInvalid");
    {
        char *ek = b64u(F.ak2_pub, F.ak2_pub_len), *ak = b64u(F.ak_pub, F.ak_pub_len);
        json_t *msg =
            json_pack("{s:{s:s,s:s,s:s}}", "payload", "type", "ekcred", "ek_pub", ek, "ak_pub", ak);
        call(msg, &a);
        expect_reason(&a, 400, "UntrustedEk");
        json_decref(msg);
        free(ek);
        free(ak);
    }
}

/* One fresh aikcert context per case; @p mutate breaks one thing. */
typedef void (*mutate_fn)(struct attempt *t, uint8_t *scratch);

static void run_reject(mutate_fn mutate, int status, const char *reason)
{
    uint8_t chal[32], scratch[64];
    char *sc;
    struct attempt t;
    struct answer a;

    round1_aikcert(chal, &sc);
    attempt_init(&t, chal, sc);
    mutate(&t, scratch);
    round2(&t, &a);
    expect_reason(&a, status, reason);
    if (t.sc != sc)
        free((char *)t.sc);
    free(sc);
}

static void m_wrong_challenge(struct attempt *t, uint8_t *s)
{
    memcpy(s, t->challenge, 32);
    s[5] ^= 0x40;
    t->challenge = s;
    t->bind_challenge = s; /* even a quote made for it does not help */
}
static void m_jws_other_key(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->jws_key = F.other;
}
static void m_nonce_other_key(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->bind_key = F.other;
}
static void m_untrusted_ak(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->with_cert = false; /* F.ak is not pre-registered */
}
static void m_cert_other_key(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->ak = F.ak2; /* aik_cert is for F.ak */
    t->ak_pub = F.ak2_pub;
    t->ak_pub_len = F.ak2_pub_len;
}
static void m_unrestricted(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->ak = F.ak2;
    t->ak_pub = F.ak2_unres_pub;
    t->ak_pub_len = F.ak2_unres_pub_len;
    t->with_cert = false;
}
static void m_flip_quote(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->flip_quote = 60; /* inside clockInfo */
}
static void m_flip_sig(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->flip_sig = 100;
}
static void m_flip_nonce_byte(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->flip_quote = 50; /* inside extraData: the signature no longer matches */
}
static void m_log_mismatch(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->q.tweak_pcr = 4; /* signed and digested consistently, but not the log's value */
}
static void m_pcr_value(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->tweak_sent = 3;
    t->with_log = false; /* only pcrDigest can catch it */
}
static void m_pcr_value_with_log(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->tweak_sent = 3;
}
static void m_sha1_bank(struct attempt *t, uint8_t *s)
{
    (void)s;
    t->q.bank = VOUCH_TPM_ALG_SHA1;
    t->q.values = &F.sha1;
    t->with_log = false;
}
static void m_tamper_context(struct attempt *t, uint8_t *s)
{
    size_t n;
    uint8_t *outer = unb64(t->sc, &n);
    json_t *o = NULL;
    char *prot, *text = NULL;
    (void)s;
    assert_int_equal(vouch_json_parse((const char *)outer, n, &o, NULL, 0), VOUCH_OK);
    prot = strdup(cstr(o, "ProtectedContext"));
    prot[20] = prot[20] == 'A' ? 'B' : 'A';
    json_object_set_new(o, "ProtectedContext", json_string(prot));
    assert_int_equal(vouch_json_dump(o, 0, &text), VOUCH_OK);
    t->sc = b64u(text, strlen(text));
    vouch_free(text);
    free(prot);
    json_decref(o);
    vouch_free(outer);
}
static void m_expired(struct attempt *t, uint8_t *s)
{
    (void)t;
    (void)s;
    F.d->cfg.eval_time = T0 + 301;
}

static void test_rejections(void **state)
{
    (void)state;
    run_reject(m_wrong_challenge, 400, "ChallengeMismatch");
    run_reject(m_jws_other_key, 400, "RequestSignatureInvalid");
    run_reject(m_nonce_other_key, 400, "QuoteNonceMismatch");
    run_reject(m_untrusted_ak, 400, "UntrustedAik");
    run_reject(m_cert_other_key, 400, "UntrustedAik");
    run_reject(m_unrestricted, 400, "AikAttributesInvalid");
    run_reject(m_flip_quote, 400, "QuoteSignatureInvalid");
    run_reject(m_flip_nonce_byte, 400, "QuoteSignatureInvalid");
    run_reject(m_flip_sig, 400, "QuoteSignatureInvalid");
    run_reject(m_log_mismatch, 400, "EventLogMismatch");
    run_reject(m_pcr_value, 400, "PcrDigestMismatch");
    run_reject(m_pcr_value_with_log, 400, "PcrDigestMismatch");
    run_reject(m_sha1_bank, 400, "Sha1NotAllowed");
    run_reject(m_tamper_context, 400, "ContextInvalid");
    run_reject(m_expired, 400, "ContextExpired");
    F.d->cfg.eval_time = T0;
}

/* Per-PCR claims: a policy that pins PCR7 permits with the quoted value and
 * denies with any other; an issue rule copies a PCR claim into the token. */
static void attest_with_policy(const char *pcr7_hex, struct answer *a)
{
    char policy[1024], *sc;
    uint8_t chal[32];
    struct attempt t;

    snprintf(policy, sizeof(policy),
             "version= 1.0;\n"
             "authorizationrules{\n"
             "\t[type==\"tpm-pcr-sha256-7\", value==\"%s\"] => permit();\n"
             "};\n"
             "issuancerules{\n"
             "\tc:[type==\"tpm-pcr-sha256-0\"] => issue(type=\"pcr0\", value=c.value);\n"
             "\tc:[type==\"secureBootDbx\"] => issue(type=\"dbx\", value=c.value);\n"
             "};\n",
             pcr7_hex);
    set_policy(policy);
    round1_aikcert(chal, &sc);
    attempt_init(&t, chal, sc);
    round2(&t, a);
    free(sc);
}

static void test_pcr_claims(void **state)
{
    char hex7[65], hex0[65], wrong[65];
    struct answer a;
    json_t *c;
    (void)state;

    vouch_hex_encode(F.sha256.values[7], 32, hex7);
    vouch_hex_encode(F.sha256.values[0], 32, hex0);
    attest_with_policy(hex7, &a);
    if (a.status != 200)
        fail_msg("round 2 with the right PCR7: %d %s", a.status, a.message);
    c = token_claims(&a);
    assert_string_equal(cstr(c, "pcr0"), hex0);
    /* Per-PCR claims are policy input only: the token has x-ms-tpm-pcrs. */
    assert_null(json_object_get(c, "tpm-pcr-sha256-7"));
    assert_string_equal(cstr(json_object_get(json_object_get(c, "x-ms-tpm-pcrs"), "sha256"), "7"),
                        hex7);
    /* The Secure Boot databases from the verified PCR7 events, in the
     * quoted bank (SHA-256), reach the token and the policy. */
    assert_int_equal(strlen(cstr(c, "secureBootDbx")), 64);
    /* docs/tpm.md's example pins this value (rhel8-uefi.bin, SHA-256). */
    assert_string_equal(cstr(c, "secureBootDbx"),
                        "84a36b5691b9738d407b09a009221eb9ac5ecc5181d1fae45ff43ae540c9bc9b");
    assert_string_equal(cstr(c, "dbx"), cstr(c, "secureBootDbx"));
    assert_int_equal(strlen(cstr(c, "secureBootPK")), 64);
    json_decref(c);

    /* Any other PCR7 value: denied. */
    memcpy(wrong, hex7, sizeof(wrong));
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    attest_with_policy(wrong, &a);
    expect_reason(&a, 400, "PolicyDenied");
    /* Upper-case hex is another string: the claims are lowercase. */
    for (char *p = hex7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_non_null(strpbrk(hex7, "ABCDEF"));
    attest_with_policy(hex7, &a);
    expect_reason(&a, 400, "PolicyDenied");
    set_policy(policy_text);
}

/* A policy that tests a PCR the quote does not select (it selects sha256
 * 0-7) is not evaluated: a deny rule over PCR8 would otherwise be passed by
 * leaving PCR8 out of the quote. */
static void expect_selection_refused(const char *policy)
{
    uint8_t chal[32];
    char *sc;
    struct attempt t;
    struct answer a;

    set_policy(policy);
    round1_aikcert(chal, &sc);
    attempt_init(&t, chal, sc);
    round2(&t, &a);
    expect_reason(&a, 400, "PcrSelectionInsufficient");
    free(sc);
}

static void test_pcr_selection(void **state)
{
    (void)state;
    expect_selection_refused("version= 1.0;\n"
                             "authorizationrules{\n"
                             "\t[type==\"tpm-pcr-sha256-8\", value!=\"00\"] => deny();\n"
                             "\t=> permit();\n"
                             "};\n");
    /* Named only in an issue rule, or in another bank: still refused. */
    expect_selection_refused("version= 1.0;\n"
                             "authorizationrules{ => permit(); };\n"
                             "issuancerules{\n"
                             "\tc:[type==\"tpm-pcr-sha1-0\"] => issue(type=\"p\", value=c.value);\n"
                             "};\n");
    /* A name no quote can supply (leading zero, PCR 24, unknown bank). */
    expect_selection_refused("version= 1.0;\n"
                             "authorizationrules{ [type==\"tpm-pcr-sha256-07\"] => permit(); };\n");
    expect_selection_refused("version= 1.0;\n"
                             "authorizationrules{ [type==\"tpm-pcr-sha256-24\"] => permit(); };\n");
    expect_selection_refused("version= 1.0;\n"
                             "authorizationrules{ [type==\"tpm-pcr-md5-0\"] => permit(); };\n");
    /* Every PCR named is quoted: evaluated (and here denied by the rule). */
    {
        uint8_t chal[32];
        char *sc;
        struct attempt t;
        struct answer a;
        set_policy("version= 1.0;\n"
                   "authorizationrules{\n"
                   "\t[type==\"tpm-pcr-sha256-0\", value==\"00\"] => permit();\n"
                   "};\n");
        round1_aikcert(chal, &sc);
        attempt_init(&t, chal, sc);
        round2(&t, &a);
        expect_reason(&a, 400, "PolicyDenied");
        free(sc);
    }
    set_policy(policy_text);
}

static void test_no_policy_and_bad_requests(void **state)
{
    struct answer a;
    json_t *msg;
    (void)state;

    set_policy(NULL);
    msg = json_pack("{s:{s:s}}", "payload", "type", "aikcert");
    call(msg, &a);
    expect_reason(&a, 400, "NoPolicy");
    set_policy(policy_text);
    call(msg, &a);
    assert_int_equal(a.status, 200);
    json_decref(a.payload);
    json_decref(msg);

    msg = json_pack("{s:{s:s}}", "payload", "type", "tpm-please");
    call(msg, &a);
    expect_reason(&a, 400, "RequestInvalid");
    json_decref(msg);
    msg = json_pack("{s:{s:s}}", "payload", "request", "not.a.jws");
    call(msg, &a);
    expect_reason(&a, 400, "RequestInvalid");
    json_decref(msg);
}

/* The context key is created once, private, and reused. */
static void test_context_key(void **state)
{
    char path[160];
    struct stat st;
    (void)state;

    snprintf(path, sizeof(path), "%s/tpm-context.key", F.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(st.st_mode & 077, 0);
    /* A restart keeps the key: a context issued before it still opens. */
    {
        uint8_t chal[32];
        char *sc;
        struct attempt t;
        struct answer a;
        json_t *c;
        round1_aikcert(chal, &sc);
        attestd_tpm_free(F.d);
        assert_int_equal(attestd_tpm_init(F.d), VOUCH_OK);
        attempt_init(&t, chal, sc);
        round2(&t, &a);
        if (a.status != 200)
            fail_msg("after restart: %d %s", a.status, a.message);
        c = token_claims(&a);
        json_decref(c);
        free(sc);
    }
}

/* KDFa known answers, computed independently (Python hmac/hashlib) from the
 * SP 800-108 construction of TPM 2.0 Part 1 §11.4.10.2. */
static void test_kdfa(void **state)
{
    static const char want256[] =
        "d2218ae98a94cb94995b040b2ffaaa9cdebef2fb43d2afebbf7dc5dc5097f561";
    static const char want384[] = "c4838c645de4936ec2616c1979b1fba223acb05c362c05b7b7eb4497c567"
                                  "1869f277cc4ad4036a5bbb57290e6291f8a3";
    uint8_t out[48];
    char hex[97];
    (void)state;
    assert_int_equal(vouch_tpm_kdfa(VOUCH_TPM_ALG_SHA256, (const uint8_t *)"key", 3, "STORAGE",
                                    (const uint8_t *)"u", 1, NULL, 0, 256, out),
                     VOUCH_OK);
    vouch_hex_encode(out, 32, hex);
    assert_string_equal(hex, want256);
    /* Two blocks, truncated. */
    assert_int_equal(vouch_tpm_kdfa(VOUCH_TPM_ALG_SHA256, (const uint8_t *)"key", 3, "INTEGRITY",
                                    NULL, 0, NULL, 0, 384, out),
                     VOUCH_OK);
    vouch_hex_encode(out, 48, hex);
    assert_string_equal(hex, want384);
    assert_int_equal(vouch_tpm_kdfa(VOUCH_TPM_ALG_SHA256, (const uint8_t *)"key", 3, "STORAGE",
                                    NULL, 0, NULL, 0, 12, out),
                     VOUCH_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certificate_path),
        cmocka_unit_test(test_preregistered_path),
        cmocka_unit_test(test_ekcred_path),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_pcr_claims),
        cmocka_unit_test(test_pcr_selection),
        cmocka_unit_test(test_no_policy_and_bad_requests),
        cmocka_unit_test(test_context_key),
        cmocka_unit_test(test_kdfa),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
