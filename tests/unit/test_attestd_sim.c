/* vouch-attestd's /attest/SimEnclave: Vouch software TEE evidence verified
 * against the --sim-ca anchor, SGX-style claims, the runtime-data binding,
 * the default (deny) policy, and refusals. */
#include "testutil.h"

#include <dirent.h>
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
#include <vouch/sim.h>

#include "attestd/attestd_int.h"

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static char tmp[64];
static struct attestd *d;
static struct vouch_sim_platform *plat, *rogue;

static const char permit_policy[] =
    "version=1.0; authorizationrules { => permit(); };"
    "issuancerules { c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"mrenclave\", "
    "value=c.value); };";

static const struct vouch_sim_identity ident = {
    .measurement = {0xde, 0xad, [31] = 0x01}, .signer_id = {0x5e}, .product_id = 4, .svn = 9};

static void rm_tree(const char *path)
{
    DIR *dd = opendir(path);
    struct dirent *e;
    char buf[512];
    if (!dd) {
        (void)unlink(path);
        return;
    }
    while ((e = readdir(dd)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
            rm_tree(buf);
        }
    }
    closedir(dd);
    (void)rmdir(path);
}

static int setup(void **state)
{
    char path[128];
    const uint8_t *der;
    size_t len;
    char *pem = NULL;
    (void)state;

    strcpy(tmp, "/tmp/vouch-attestd-sim-XXXXXX");
    if (!mkdtemp(tmp) || !(d = calloc(1, sizeof(*d))))
        return -1;
    d->cfg.issuer = "https://attest.example";
    d->cfg.token_alg = VOUCH_SIG_ES256;
    d->cfg.token_lifetime = 3600;
    d->cfg.has_eval_time = true;
    d->cfg.eval_time = T0;
    d->cfg.allow_draft_policy = true;
    snprintf(path, sizeof(path), "%s/data", tmp);
    if (mkdir(path, 0700) != 0 || attestd_store_open(path, &d->store) != VOUCH_OK ||
        attestd_keys_load(d) != VOUCH_OK || attestd_policies_load(d) != VOUCH_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/platform", tmp);
    if (vouch_sim_platform_open(path, T0 - 3600, &plat) != VOUCH_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/rogue", tmp);
    if (vouch_sim_platform_open(path, T0 - 3600, &rogue) != VOUCH_OK)
        return -1;
    vouch_sim_platform_ca_der(plat, &der, &len);
    if (vouch_pkey_cert_pem(der, len, &pem) != VOUCH_OK)
        return -1;
    d->sim_ca = (uint8_t *)pem;
    d->sim_ca_len = strlen(pem);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int t = 0; t < ATTESTD_TYPE__COUNT; t++)
        attestd_policy_unref(d->policy[t]);
    attestd_keys_free(d);
    attestd_store_close(d->store);
    vouch_free(d->sim_ca);
    free(d);
    vouch_sim_platform_free(plat);
    vouch_sim_platform_free(rogue);
    rm_tree(tmp);
    return 0;
}

/* Evidence whose report data starts with SHA-256(@p runtime). */
static char *evidence_b64(const struct vouch_sim_platform *p, const char *runtime, bool flip)
{
    uint8_t rd[64] = {0}, *ev = NULL;
    size_t len = 0;
    char *b64;

    if (runtime)
        assert_int_equal(vouch_sha256(runtime, strlen(runtime), rd), VOUCH_OK);
    assert_int_equal(vouch_sim_report_sign(p, &ident, rd, T0, &ev, &len), VOUCH_OK);
    if (flip)
        ev[40] ^= 1;
    b64 = vouch_malloc(vouch_base64_encoded_len(len, true) + 1);
    assert_non_null(b64);
    vouch_base64_encode(ev, len, true, b64);
    vouch_free(ev);
    return b64;
}

static char *b64url(const char *s)
{
    char *b = vouch_malloc(vouch_base64_encoded_len(strlen(s), true) + 1);
    assert_non_null(b);
    vouch_base64_encode((const uint8_t *)s, strlen(s), true, b);
    return b;
}

/* POSTs @p body to /attest/@p type; returns the status, the parsed response in
 * *out (caller decrefs). */
static int post(enum attestd_type type, json_t *body, json_t **out)
{
    char note[ATTESTD_LOG_NOTE_MAX];
    struct vouch_http_request req;
    struct vouch_http_response res;
    char *text = json_dumps(body, JSON_COMPACT);
    int status;

    assert_non_null(text);
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.method = "POST";
    req.path = "/attest/SimEnclave";
    req.query = "";
    req.body = (const uint8_t *)text;
    req.body_len = strlen(text);
    strcpy(req.request_id, "test");
    vouch_buf_init(&res.body, 1 << 20);
    attestd_attest(d, type, &req, &res, note);
    assert_non_null(strstr(note, "decision="));
    status = res.status;
    assert_int_equal(vouch_json_parse((const char *)res.body.data, res.body.len, out, NULL, 0),
                     VOUCH_OK);
    vouch_buf_free(&res.body);
    free(text);
    json_decref(body);
    return status;
}

static const char *error_message(const json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "error"), "message"));
}

/* The token's claims (payload decoded without verifying: tested elsewhere). */
static json_t *token_claims(const json_t *o)
{
    const char *tok = json_string_value(json_object_get(o, "token"));
    const char *a, *b;
    uint8_t *payload = NULL;
    size_t plen = 0;
    json_t *c = NULL;

    assert_non_null(tok);
    a = strchr(tok, '.');
    assert_non_null(a);
    b = strchr(a + 1, '.');
    assert_non_null(b);
    assert_int_equal(vouch_base64_decode(a + 1, (size_t)(b - a - 1), true, &payload, &plen),
                     VOUCH_OK);
    assert_int_equal(vouch_json_parse((const char *)payload, plen, &c, NULL, 0), VOUCH_OK);
    vouch_free(payload);
    return c;
}

static void test_default_policy_denies(void **state)
{
    char *q = evidence_b64(plat, NULL, false);
    json_t *o = NULL;
    (void)state;

    assert_int_equal(post(ATTESTD_SIM_ENCLAVE, json_pack("{s:s}", "quote", q), &o), 400);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")),
                        "PolicyEvaluationError");
    json_decref(o);
    vouch_free(q);
}

static void test_permit_claims_and_binding(void **state)
{
    static const char runtime[] = "{\"pub\":\"enclave key\"}";
    char *q = evidence_b64(plat, runtime, false);
    char *rt = b64url(runtime);
    json_t *o = NULL, *c;
    char hex[65];
    (void)state;

    assert_int_equal(post(ATTESTD_SIM_ENCLAVE,
                          json_pack("{s:s,s:{s:s,s:s},s:s}", "quote", q, "runtimeData", "data", rt,
                                    "dataType", "JSON", "draftPolicyForAttestation", permit_policy),
                          &o),
                     200);
    c = token_claims(o);
    vouch_hex_encode(ident.measurement, 32, hex);
    assert_string_equal(json_string_value(json_object_get(c, "x-ms-attestation-type")), "sim");
    assert_true(json_is_true(json_object_get(c, "x-ms-sgx-is-debuggable")));
    assert_string_equal(json_string_value(json_object_get(c, "x-ms-sgx-mrenclave")), hex);
    assert_string_equal(json_string_value(json_object_get(c, "mrenclave")), hex);
    vouch_hex_encode(ident.signer_id, 32, hex);
    assert_string_equal(json_string_value(json_object_get(c, "x-ms-sgx-mrsigner")), hex);
    assert_int_equal(json_integer_value(json_object_get(c, "x-ms-sgx-product-id")), 4);
    assert_int_equal(json_integer_value(json_object_get(c, "x-ms-sgx-svn")), 9);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c, "x-ms-runtime"), "pub")),
        "enclave key");
    /* No SGX TCB status is invented for software evidence. */
    assert_null(json_object_get(c, "attester_tcb_status"));
    json_decref(c);
    json_decref(o);

    /* Runtime data that is not the one bound in the report. */
    assert_int_equal(post(ATTESTD_SIM_ENCLAVE,
                          json_pack("{s:s,s:{s:s},s:s}", "quote", q, "runtimeData", "data",
                                    "b3RoZXI", "draftPolicyForAttestation", permit_policy),
                          &o),
                     400);
    assert_non_null(strstr(error_message(o), "SuppliedRuntimeDataDigest"));
    json_decref(o);

    /* Init-time data has nothing to bind to in a sim report. */
    assert_int_equal(post(ATTESTD_SIM_ENCLAVE,
                          json_pack("{s:s,s:{s:s},s:s}", "quote", q, "initTimeData", "data", rt,
                                    "draftPolicyForAttestation", permit_policy),
                          &o),
                     400);
    assert_non_null(strstr(error_message(o), "initTimeData"));
    json_decref(o);
    vouch_free(q);
    vouch_free(rt);
}

static void test_refusals(void **state)
{
    char *rogue_q = evidence_b64(rogue, NULL, false);
    char *bad_q = evidence_b64(plat, NULL, true);
    char *q = evidence_b64(plat, NULL, false);
    json_t *o = NULL;
    uint8_t *saved;
    (void)state;

    /* Evidence from a software TEE whose CA the service does not trust. */
    assert_int_equal(
        post(ATTESTD_SIM_ENCLAVE,
             json_pack("{s:s,s:s}", "quote", rogue_q, "draftPolicyForAttestation", permit_policy),
             &o),
        400);
    assert_non_null(strstr(error_message(o), "invalid"));
    json_decref(o);
    /* A tampered report. */
    assert_int_equal(
        post(ATTESTD_SIM_ENCLAVE,
             json_pack("{s:s,s:s}", "quote", bad_q, "draftPolicyForAttestation", permit_policy),
             &o),
        400);
    assert_non_null(strstr(error_message(o), "signature"));
    json_decref(o);
    /* Sim evidence sent as an SGX quote. */
    assert_int_equal(
        post(ATTESTD_SGX_ENCLAVE,
             json_pack("{s:s,s:s}", "quote", q, "draftPolicyForAttestation", permit_policy), &o),
        400);
    json_decref(o);
    /* Without --sim-ca the type is not enabled at all. */
    saved = d->sim_ca;
    d->sim_ca = NULL;
    assert_int_equal(
        post(ATTESTD_SIM_ENCLAVE,
             json_pack("{s:s,s:s}", "quote", q, "draftPolicyForAttestation", permit_policy), &o),
        400);
    assert_non_null(strstr(error_message(o), "--sim-ca"));
    json_decref(o);
    d->sim_ca = saved;
    vouch_free(rogue_q);
    vouch_free(bad_q);
    vouch_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy_denies),
        cmocka_unit_test(test_permit_claims_and_binding),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
