/* The claims of an SGX attestation token issued by vouch-attestd's attest
 * path, end to end without a network: the real SGX quote and its collateral
 * (testdata) go through attestd_attest at the vector's evaluation time, and
 * the token's x-ms-sgx-collateral digests are checked against SHA-256 values
 * computed here, independently, from the collateral file's fields and the
 * quote bytes; x-ms-sgx-tcbidentifier against the TCB Info's own
 * tcbEvaluationDataNumber. */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

#define EVAL_TIME 1751328000 /* the vector's evaluation time (testdata README) */

struct fixture {
    char dir[64];
    struct attestd *d;
    uint8_t *quote;
    size_t quote_len;
    json_t *coll; /* the collateral file, parsed here */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    size_t len = 0;
    uint8_t *text;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-attestd-claims-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_non_null(f->d = calloc(1, sizeof(*f->d)));
    f->d->cfg.issuer = "https://attest.example";
    f->d->cfg.token_alg = VOUCH_SIG_RS256;
    f->d->cfg.token_lifetime = 28800;
    f->d->cfg.has_eval_time = true;
    f->d->cfg.eval_time = EVAL_TIME;
    f->d->cfg.collateral_dir = vt_path("evidence/sgx");
    assert_int_equal(attestd_store_open(f->dir, &f->d->store), VOUCH_OK);
    assert_int_equal(attestd_keys_load(f->d), VOUCH_OK);
    assert_int_equal(attestd_policies_load(f->d), VOUCH_OK);
    assert_int_equal(attestd_collateral_load(f->d), VOUCH_OK);
    assert_int_equal(f->d->n_collateral, 1);
    f->quote = vt_read("evidence/sgx/v3_phala_quote.bin", &f->quote_len);
    text = vt_read("evidence/sgx/v3_phala_collateral.json", &len);
    f->coll = json_loadb((const char *)text, len, 0, NULL);
    free(text);
    assert_non_null(f->coll);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];

    for (size_t i = 0; i < f->d->n_collateral; i++)
        vouch_collateral_free(f->d->collateral[i].coll);
    for (int t = 0; t < ATTESTD_TYPE__COUNT; t++)
        attestd_policy_unref(f->d->policy[t]);
    attestd_keys_free(f->d);
    attestd_store_close(f->d->store);
    snprintf(path, sizeof(path), "%s/state.mdb", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.mdb-lock", f->dir);
    unlink(path);
    rmdir(f->dir);
    json_decref(f->coll);
    free(f->quote);
    free(f->d);
    free(f);
    return 0;
}

/* Runs one attest call with @p evidence under @p field; returns the token's
 * claims (status 200 asserted). */
static json_t *attest(struct fixture *f, enum attestd_type type, const char *field,
                      const uint8_t *evidence, size_t len)
{
    char note[ATTESTD_LOG_NOTE_MAX];
    struct vouch_http_request req;
    struct vouch_http_response res;
    char *b64 = malloc(vouch_base64_encoded_len(len, true) + 1), *body;
    json_t *answer, *claims;
    const char *tok, *dot1, *dot2;
    uint8_t *payload = NULL;
    size_t plen = 0, blen;

    assert_non_null(b64);
    vouch_base64_encode(evidence, len, true, b64);
    blen = strlen(b64) + 64;
    assert_non_null(body = malloc(blen));
    snprintf(body, blen, "{\"%s\":\"%s\"}", field, b64);
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.method = "POST";
    req.path = type == ATTESTD_SGX_ENCLAVE ? "/attest/SgxEnclave" : "/attest/OpenEnclave";
    req.query = "api-version=2022-08-01";
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    snprintf(req.request_id, sizeof(req.request_id), "claims-test");
    res.status = 500;
    vouch_buf_init(&res.body, VOUCH_MAX_HTTP_RESPONSE);
    attestd_attest(f->d, type, &req, &res, note);
    assert_non_null(strstr(note, "decision="));
    if (res.status != 200)
        fprintf(stderr, "attest answered %d: %.*s\n", res.status, (int)res.body.len,
                (const char *)res.body.data);
    assert_int_equal(res.status, 200);
    answer = json_loadb((const char *)res.body.data, res.body.len, 0, NULL);
    assert_non_null(answer);
    tok = json_string_value(json_object_get(answer, "token"));
    assert_non_null(tok);
    assert_non_null(dot1 = strchr(tok, '.'));
    assert_non_null(dot2 = strchr(dot1 + 1, '.'));
    assert_int_equal(
        vouch_base64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), true, &payload, &plen), VOUCH_OK);
    claims = json_loadb((const char *)payload, plen, 0, NULL);
    assert_non_null(claims);
    vouch_free(payload);
    json_decref(answer);
    vouch_buf_free(&res.body);
    for (size_t i = 0; i < res.n_headers; i++)
        vouch_free(res.headers[i].value);
    free(body);
    free(b64);
    return claims;
}

static void sha256_hex(const void *p, size_t len, char out[2 * VOUCH_SHA256_LEN + 1])
{
    uint8_t h[VOUCH_SHA256_LEN];
    assert_int_equal(vouch_sha256(p, len, h), VOUCH_OK);
    vouch_hex_encode(h, sizeof(h), out);
}

/* The digest of collateral field @p name, computed from the file here. */
static void field_hex(const struct fixture *f, const char *name, char out[2 * VOUCH_SHA256_LEN + 1])
{
    const json_t *v = json_object_get(f->coll, name);
    assert_true(json_is_string(v));
    sha256_hex(json_string_value(v), json_string_length(v), out);
}

static void check_collateral_claims(const struct fixture *f, const json_t *claims)
{
    static const struct {
        const char *claim, *field;
    } map[] = {
        {"qeidcertshash", "qe_identity_issuer_chain"},
        {"qeidcrlhash", "root_ca_crl"},
        {"qeidhash", "qe_identity"},
        {"tcbinfocertshash", "tcb_info_issuer_chain"},
        {"tcbinfocrlhash", "pck_crl"},
        {"tcbinfohash", "tcb_info"},
    };
    const json_t *c = json_object_get(claims, "x-ms-sgx-collateral");
    char want[2 * VOUCH_SHA256_LEN + 1];

    assert_true(json_is_object(c));
    /* Exactly MAA's seven members. */
    assert_int_equal(json_object_size(c), 7);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        const char *got = json_string_value(json_object_get(c, map[i].claim));
        assert_non_null(got);
        field_hex(f, map[i].field, want);
        assert_string_equal(got, want);
    }
    sha256_hex(f->quote, f->quote_len, want);
    assert_string_equal(json_string_value(json_object_get(c, "quotehash")), want);
    /* The legacy copy is identical. */
    assert_true(json_equal(json_object_get(claims, "maa-attestationcollateral"), c));
    /* The two CRL digests differ (different CRLs), so neither is a stand-in. */
    assert_string_not_equal(json_string_value(json_object_get(c, "qeidcrlhash")),
                            json_string_value(json_object_get(c, "tcbinfocrlhash")));
}

/* tcbEvaluationDataNumber of the collateral's TCB Info, read here. */
static json_int_t tcb_eval_number(const struct fixture *f)
{
    const json_t *v = json_object_get(f->coll, "tcb_info");
    json_t *ti = json_loadb(json_string_value(v), json_string_length(v), 0, NULL);
    json_int_t n;
    assert_non_null(ti);
    /* The field is the TCB Info body, or {"tcbInfo": body, "signature"} as PCS sends it. */
    if (json_object_get(ti, "tcbInfo"))
        n = json_integer_value(
            json_object_get(json_object_get(ti, "tcbInfo"), "tcbEvaluationDataNumber"));
    else
        n = json_integer_value(json_object_get(ti, "tcbEvaluationDataNumber"));
    assert_true(n > 0);
    json_decref(ti);
    return n;
}

static void test_sgx_enclave(void **state)
{
    struct fixture *f = *state;
    json_t *claims = attest(f, ATTESTD_SGX_ENCLAVE, "quote", f->quote, f->quote_len);
    char want[32];

    check_collateral_claims(f, claims);
    snprintf(want, sizeof(want), "%" JSON_INTEGER_FORMAT, tcb_eval_number(f));
    assert_string_equal(json_string_value(json_object_get(claims, "x-ms-sgx-tcbidentifier")), want);
    /* The identity claims are still there beside them. */
    assert_non_null(json_object_get(claims, "x-ms-sgx-mrenclave"));
    assert_string_equal(json_string_value(json_object_get(claims, "x-ms-attestation-type")), "sgx");
    json_decref(claims);
}

static void test_open_enclave(void **state)
{
    struct fixture *f = *state;
    size_t len = 16 + f->quote_len;
    uint8_t *report = malloc(len);
    json_t *claims;

    /* An OE remote report: {u32 1, u32 2, u64 size} then the quote. The
     * quotehash covers the quote, not the header. */
    assert_non_null(report);
    memset(report, 0, 16);
    report[0] = 1;
    report[4] = 2;
    for (int i = 0; i < 8; i++)
        report[8 + i] = (uint8_t)((uint64_t)f->quote_len >> (8 * i));
    memcpy(report + 16, f->quote, f->quote_len);
    claims = attest(f, ATTESTD_OPEN_ENCLAVE, "report", report, len);
    check_collateral_claims(f, claims);
    assert_non_null(json_object_get(claims, "x-ms-sgx-tcbidentifier"));
    json_decref(claims);
    free(report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sgx_enclave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_enclave, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
