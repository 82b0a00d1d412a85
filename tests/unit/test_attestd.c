/* vouch-attestd internals that can be tested without a network: the data
 * binding rule, the LMDB store (atomicity, persistence, file mode), the
 * error shape and the metrics text. The HTTP surface is covered by the
 * integration tests in tests/cli and tests/integration. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

/* A report-data field whose first bytes are hash(data) and the rest filler,
 * as an enclave that binds its runtime data would produce. */
static void make_field(const uint8_t *data, size_t len, enum vouch_hash_alg alg, size_t field_len,
                       char *hex_out)
{
    uint8_t field[64];
    assert_true(field_len <= sizeof(field));
    memset(field, 0xee, sizeof(field));
    assert_int_equal(vouch_hash(alg, data, len, field), VOUCH_OK);
    vouch_hex_encode(field, field_len, hex_out);
}

static void test_binding(void **state)
{
    static const uint8_t data[] = "{\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\"}}";
    char hex[129];
    (void)state;

    /* SGX/SNP: SHA-256 in the first 32 of 64 bytes. */
    make_field(data, sizeof(data) - 1, VOUCH_HASH_SHA256, 64, hex);
    assert_int_equal(
        attestd_binding_check(data, sizeof(data) - 1, VOUCH_HASH_SHA256, hex, strlen(hex)),
        VOUCH_OK);
    /* One bit of the data, or one digit of the field, changes the answer. */
    assert_int_equal(
        attestd_binding_check(data, sizeof(data) - 2, VOUCH_HASH_SHA256, hex, strlen(hex)),
        VOUCH_ERR_MISMATCH);
    hex[10] = hex[10] == '0' ? '1' : '0';
    assert_int_equal(
        attestd_binding_check(data, sizeof(data) - 1, VOUCH_HASH_SHA256, hex, strlen(hex)),
        VOUCH_ERR_MISMATCH);
    /* The upper 32 bytes are not part of the binding (as MAA). */
    make_field(data, sizeof(data) - 1, VOUCH_HASH_SHA256, 64, hex);
    hex[100] = hex[100] == '0' ? '1' : '0';
    assert_int_equal(
        attestd_binding_check(data, sizeof(data) - 1, VOUCH_HASH_SHA256, hex, strlen(hex)),
        VOUCH_OK);
    /* TDX init-time data: SHA-384 over the 48-byte MRCONFIGID. */
    make_field(data, sizeof(data) - 1, VOUCH_HASH_SHA384, 48, hex);
    assert_int_equal(
        attestd_binding_check(data, sizeof(data) - 1, VOUCH_HASH_SHA384, hex, strlen(hex)),
        VOUCH_OK);
    assert_int_equal(
        attestd_binding_check(data, sizeof(data) - 1, VOUCH_HASH_SHA256, hex, strlen(hex)),
        VOUCH_ERR_MISMATCH);
    /* A field shorter than the hash, or not hex, cannot bind anything. */
    assert_int_equal(attestd_binding_check(data, sizeof(data) - 1, VOUCH_HASH_SHA384, hex, 64),
                     VOUCH_ERR_PARSE);
    assert_int_equal(attestd_binding_check(data, 3, VOUCH_HASH_SHA256,
                                           "zz00000000000000000000000000000000000000000000000000"
                                           "00000000000000",
                                           66),
                     VOUCH_ERR_PARSE);
}

struct each_ctx {
    int n;
    char keys[8][32];
};

static vouch_err collect(void *arg, const char *key, const void *val, size_t len)
{
    struct each_ctx *c = arg;
    (void)val;
    (void)len;
    if (c->n < 8)
        snprintf(c->keys[c->n++], sizeof(c->keys[0]), "%s", key);
    return VOUCH_OK;
}

static void test_store(void **state)
{
    char dir[] = "/tmp/vouch-attestd-test-XXXXXX";
    char path[128];
    struct attestd_store *s = NULL;
    uint8_t *v = NULL;
    size_t n = 0;
    struct stat st;
    struct each_ctx ec;
    struct attestd_store_op ops[3] = {
        {.db = ATTESTD_DB_POLICIES, .key = "current/SgxEnclave", .val = "B", .len = 1},
        {.db = ATTESTD_DB_POLICIES, .key = "v/SgxEnclave/2", .val = "B", .len = 1},
        {.db = ATTESTD_DB_POLICIES, .key = "v/SgxEnclave/1", .del = true},
    };
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(attestd_store_open(dir, &s), VOUCH_OK);
    assert_int_equal(attestd_store_get(s, ATTESTD_DB_POLICIES, "current/SgxEnclave", &v, &n),
                     VOUCH_ERR_NOT_FOUND);
    assert_int_equal(attestd_store_put(s, ATTESTD_DB_POLICIES, "current/SgxEnclave", "A", 1),
                     VOUCH_OK);
    assert_int_equal(attestd_store_put(s, ATTESTD_DB_POLICIES, "v/SgxEnclave/1", "A", 1), VOUCH_OK);
    assert_int_equal(attestd_store_put(s, ATTESTD_DB_POLICIES, "v/TdxVm/1", "T", 1), VOUCH_OK);
    assert_int_equal(attestd_store_apply(s, ops, 3), VOUCH_OK);
    assert_int_equal(attestd_store_get(s, ATTESTD_DB_POLICIES, "current/SgxEnclave", &v, &n),
                     VOUCH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 'B');
    vouch_free(v);
    memset(&ec, 0, sizeof(ec));
    assert_int_equal(attestd_store_each(s, ATTESTD_DB_POLICIES, "v/SgxEnclave/", collect, &ec),
                     VOUCH_OK);
    assert_int_equal(ec.n, 1);
    assert_string_equal(ec.keys[0], "v/SgxEnclave/2");
    attestd_store_close(s);

    /* State survives a reopen, and the file holding keys is private. */
    assert_int_equal(attestd_store_open(dir, &s), VOUCH_OK);
    assert_int_equal(attestd_store_get(s, ATTESTD_DB_POLICIES, "v/TdxVm/1", &v, &n), VOUCH_OK);
    assert_int_equal(v[0], 'T');
    vouch_free(v);
    attestd_store_close(s);
    snprintf(path, sizeof(path), "%s/state.mdb", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.mdb-lock", dir);
    unlink(path);
    rmdir(dir);
}

static void test_error_shape(void **state)
{
    struct vouch_http_response res;
    json_t *o = NULL;
    (void)state;

    memset(&res, 0, sizeof(res));
    vouch_buf_init(&res.body, VOUCH_MAX_HTTP_RESPONSE);
    attestd_error(&res, 400, "InvalidParameter", "bad %s", "quote");
    assert_int_equal(res.status, 400);
    assert_int_equal(vouch_json_parse((const char *)res.body.data, res.body.len, &o, NULL, 0),
                     VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")),
                        "InvalidParameter");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "message")),
                        "bad quote");
    json_decref(o);
    /* A message that is not valid UTF-8 still yields the error. */
    attestd_error(&res, 401, "Unauthorized", "%s", "\xff\xfe");
    assert_int_equal(res.status, 401);
    assert_int_equal(vouch_json_parse((const char *)res.body.data, res.body.len, &o, NULL, 0),
                     VOUCH_OK);
    json_decref(o);
    vouch_buf_free(&res.body);
}

static void test_metrics(void **state)
{
    struct attestd *d = calloc(1, sizeof(*d));
    struct vouch_buf b;
    (void)state;

    assert_non_null(d);
    attestd_metrics_request(d, 200);
    attestd_metrics_request(d, 404);
    attestd_metrics_attest(d, ATTESTD_SGX_ENCLAVE, 0, 800);
    attestd_metrics_attest(d, ATTESTD_SGX_ENCLAVE, 1, 3000000);
    vouch_buf_init(&b, 1 << 16);
    assert_int_equal(attestd_metrics_render(d, &b), VOUCH_OK);
    assert_non_null(strstr((char *)b.data, "vouch_http_requests_total{class=\"2xx\"} 1\n"));
    assert_non_null(strstr((char *)b.data, "vouch_http_requests_total{class=\"4xx\"} 1\n"));
    assert_non_null(
        strstr((char *)b.data, "vouch_attest_total{type=\"SgxEnclave\",result=\"permit\"} 1\n"));
    assert_non_null(
        strstr((char *)b.data, "vouch_attest_total{type=\"SgxEnclave\",result=\"deny\"} 1\n"));
    /* 800 us lands in the 1 ms bucket; 3 s only in +Inf. */
    assert_non_null(
        strstr((char *)b.data, "vouch_attest_duration_seconds_bucket{le=\"0.001\"} 1\n"));
    assert_non_null(strstr((char *)b.data, "vouch_attest_duration_seconds_bucket{le=\"1\"} 1\n"));
    assert_non_null(
        strstr((char *)b.data, "vouch_attest_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr((char *)b.data, "vouch_attest_duration_seconds_count 2\n"));
    vouch_buf_free(&b);
    free(d);
}

static void rm_store(const char *dir)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/state.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.mdb-lock", dir);
    unlink(path);
    rmdir(dir);
}

/* Signs a token with the service's current key; verifies it with the JWKS the
 * service publishes at that moment. */
static vouch_err token_verifies(struct attestd *d, const char *token, const char *jwks_text)
{
    struct vouch_jwks *jwks = NULL;
    struct vouch_token_opts o;
    struct vouch_token_result r;
    vouch_err rc;

    assert_int_equal(vouch_jwks_parse(jwks_text, strlen(jwks_text), &jwks, NULL, 0), VOUCH_OK);
    vouch_token_opts_init(&o, attestd_now(d));
    o.issuer = d->cfg.issuer;
    rc = vouch_token_verify(token, strlen(token), jwks, &o, &r);
    vouch_token_result_free(&r);
    vouch_jwks_free(jwks);
    return rc;
}

/* Key rollover: a key older than 90 days is replaced at start; the old one
 * stays in /certs for the token lifetime plus a day after the new one took
 * over (so its tokens still verify), then it is dropped. */
static void test_key_rollover(void **state)
{
    char dir[] = "/tmp/vouch-attestd-keys-XXXXXX";
    struct attestd *d = calloc(1, sizeof(*d));
    const int64_t t0 = 1751328000, day = 86400;
    char kid0[VOUCH_TOKEN_KID_LEN + 1], *tok0 = NULL, *jwks1 = NULL;
    json_t *claims;
    (void)state;

    assert_non_null(d);
    assert_non_null(mkdtemp(dir));
    d->cfg.issuer = "https://attest.example";
    d->cfg.token_alg = VOUCH_SIG_RS256;
    d->cfg.token_lifetime = 28800;
    d->cfg.has_eval_time = true;
    d->cfg.eval_time = t0;
    assert_int_equal(attestd_store_open(dir, &d->store), VOUCH_OK);

    /* First start: one key, and a token signed with it. */
    assert_int_equal(attestd_keys_load(d), VOUCH_OK);
    assert_int_equal(d->n_keys, 1);
    memcpy(kid0, d->keys[0].kid, sizeof(kid0));
    assert_non_null(claims = json_object());
    assert_int_equal(attestd_issue_token(d, claims, &tok0), VOUCH_OK);
    json_decref(claims);
    assert_int_equal(token_verifies(d, tok0, d->jwks_text), VOUCH_OK);

    /* A restart a month later keeps the same key. */
    attestd_keys_free(d);
    d->cfg.eval_time = t0 + 30 * day;
    assert_int_equal(attestd_keys_load(d), VOUCH_OK);
    assert_int_equal(d->n_keys, 1);
    assert_string_equal(d->keys[0].kid, kid0);

    /* After 90 days: a new key signs, the old one is still published. */
    attestd_keys_free(d);
    d->cfg.eval_time = t0 + 91 * day;
    assert_int_equal(attestd_keys_load(d), VOUCH_OK);
    assert_int_equal(d->n_keys, 2);
    assert_string_not_equal(d->keys[0].kid, kid0);
    assert_string_equal(d->keys[1].kid, kid0);
    assert_non_null(strstr(d->jwks_text, kid0));
    jwks1 = strdup(d->jwks_text);
    assert_non_null(jwks1);
    {
        /* An old token checked at the switch-over (it would have expired by
         * now on the clock; here only its key matters). */
        struct vouch_jwks *jwks = NULL;
        struct vouch_token_opts o;
        struct vouch_token_result r;
        assert_int_equal(vouch_jwks_parse(jwks1, strlen(jwks1), &jwks, NULL, 0), VOUCH_OK);
        vouch_token_opts_init(&o, t0);
        assert_int_equal(vouch_token_verify(tok0, strlen(tok0), jwks, &o, &r), VOUCH_OK);
        vouch_token_result_free(&r);
        vouch_jwks_free(jwks);
    }

    /* Two days later the old key has left /certs; the new one remains. */
    attestd_keys_free(d);
    d->cfg.eval_time = t0 + 93 * day;
    assert_int_equal(attestd_keys_load(d), VOUCH_OK);
    assert_int_equal(d->n_keys, 1);
    assert_null(strstr(d->jwks_text, kid0));

    free(jwks1);
    vouch_free(tok0);
    attestd_keys_free(d);
    attestd_store_close(d->store);
    rm_store(dir);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binding),      cmocka_unit_test(test_store),
        cmocka_unit_test(test_error_shape),  cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_key_rollover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
