/* Policy: the MAA policy language (parser, evaluator, claims, defaults, hash). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/policy.h>

/* ---- helpers ---- */

static struct vouch_policy *parse_flags(const char *text, unsigned flags)
{
    struct vouch_policy *p = NULL;
    struct vouch_policy_error err;
    vouch_err rc = vouch_policy_parse(text, strlen(text), flags, &p, &err);

    if (rc != VOUCH_OK)
        fail_msg("parse failed (%s) at %u:%u: %s\n--- policy ---\n%s", vouch_err_name(rc), err.line,
                 err.column, err.message, text);
    assert_non_null(p);
    assert_int_equal(err.line, 0);
    return p;
}

static struct vouch_policy *parse(const char *text)
{
    return parse_flags(text, 0);
}

static struct vouch_claims *claims(const char *json)
{
    json_t *j = NULL;
    struct vouch_claims *c = NULL;
    char err[256];

    assert_int_equal(vouch_json_parse(json, strlen(json), &j, err, sizeof(err)), VOUCH_OK);
    if (vouch_claims_from_json(j, &c, err, sizeof(err)) != VOUCH_OK)
        fail_msg("claims: %s", err);
    json_decref(j);
    return c;
}

/* Evaluates and returns the decision; the result stays in *res. */
static enum vouch_policy_decision eval(const struct vouch_policy *p, const struct vouch_claims *c,
                                       struct vouch_policy_result *res)
{
    vouch_err rc = vouch_policy_eval(p, c, res);

    if (rc != VOUCH_OK)
        fail_msg("eval failed (%s): %s", vouch_err_name(rc), res->explanation);
    assert_non_null(res->issued);
    assert_non_null(res->properties);
    return res->decision;
}

/* One-shot: policy text + claims JSON -> decision. */
static enum vouch_policy_decision decide(const char *policy, const char *claims_json)
{
    struct vouch_policy *p = parse(policy);
    struct vouch_claims *c = claims(claims_json);
    struct vouch_policy_result res;
    enum vouch_policy_decision d = eval(p, c, &res);

    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
    return d;
}

/* The @p nth claim of @p type in @p c, or NULL. */
static const struct vouch_claim *find(const struct vouch_claims *c, const char *type, size_t nth)
{
    for (size_t i = 0; i < vouch_claims_count(c); i++) {
        const struct vouch_claim *cl = vouch_claims_at(c, i);
        if (strcmp(cl->type, type) == 0 && nth-- == 0)
            return cl;
    }
    return NULL;
}

static size_t count_type(const struct vouch_claims *c, const char *type)
{
    size_t n = 0;

    while (find(c, type, n))
        n++;
    return n;
}

static void assert_str_claim(const struct vouch_claims *c, const char *type, const char *want)
{
    const struct vouch_claim *cl = find(c, type, 0);

    if (!cl)
        fail_msg("no claim %s", type);
    assert_int_equal(cl->value_type, VOUCH_CLAIM_STRING);
    assert_string_equal(cl->string, want);
    assert_int_equal(cl->string_len, strlen(want));
}

static void assert_int_claim(const struct vouch_claims *c, const char *type, int64_t want)
{
    const struct vouch_claim *cl = find(c, type, 0);

    if (!cl)
        fail_msg("no claim %s", type);
    assert_int_equal(cl->value_type, VOUCH_CLAIM_INTEGER);
    assert_true(cl->integer == want);
}

static void assert_bool_claim(const struct vouch_claims *c, const char *type, bool want)
{
    const struct vouch_claim *cl = find(c, type, 0);

    if (!cl)
        fail_msg("no claim %s", type);
    assert_int_equal(cl->value_type, VOUCH_CLAIM_BOOLEAN);
    assert_int_equal(cl->boolean, want);
}

static bool check_error(const char *text, unsigned flags, vouch_err want_rc, unsigned line,
                        unsigned column, const char *substr)
{
    struct vouch_policy *p = (struct vouch_policy *)1;
    struct vouch_policy_error err;
    vouch_err rc = vouch_policy_parse(text, strlen(text), flags, &p, &err);

    if (rc == VOUCH_OK)
        vouch_policy_free(p);
    if (rc != want_rc || err.line != line || err.column != column || !strstr(err.message, substr) ||
        p != NULL) {
        print_error("policy:\n%s\nwant %s at %u:%u containing \"%s\"\ngot  %s at %u:%u: %s\n", text,
                    vouch_err_name(want_rc), line, column, substr, vouch_err_name(rc), err.line,
                    err.column, err.message);
        return false;
    }
    return true;
}

static void expect_error(const char *text, unsigned flags, vouch_err want_rc, unsigned line,
                         unsigned column, const char *substr)
{
    if (!check_error(text, flags, want_rc, line, column, substr))
        fail();
}

/* SGX claims as the service produces them (values from the recorded MAA
 * sharedwus token). */
#define SGX_CLAIMS                                                                              \
    "[{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":false,\"issuer\":\"AttestationService\"}," \
    "{\"type\":\"x-ms-sgx-mrsigner\",\"value\":"                                                \
    "\"2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa\","                     \
    "\"issuer\":\"AttestationService\"},"                                                       \
    "{\"type\":\"x-ms-sgx-mrenclave\",\"value\":"                                               \
    "\"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2\","                     \
    "\"issuer\":\"AttestationService\"},"                                                       \
    "{\"type\":\"x-ms-sgx-product-id\",\"value\":1,\"issuer\":\"AttestationService\"},"         \
    "{\"type\":\"x-ms-sgx-svn\",\"value\":1,\"issuer\":\"AttestationService\"},"                \
    "{\"type\":\"x-ms-attestation-type\",\"value\":\"sgx\",\"issuer\":\"AttestationService\"}]"

#define MRSIGNER "2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa"

/* ---- §3.5 example policies ---- */

/* P1, as published in policy-examples.md (tabs and all). */
static const char p1_text[] =
    "version= 1.1;\n"
    "configurationrules{\n"
    "\t=> issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"azuredefault\");\n"
    "};\n"
    "authorizationrules{\n"
    "\t=> permit();\n"
    "};\n"
    "issuancerules{\n"
    "\tc:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
    "\tc:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);\n"
    "};\n";

static void test_p1_default_sgx(void **state)
{
    struct vouch_policy *p = parse(p1_text);
    struct vouch_claims *c = claims(SGX_CLAIMS);
    struct vouch_claims *props = NULL;
    struct vouch_policy_result res;
    json_t *j = NULL;
    char *dump = NULL;
    (void)state;

    assert_string_equal(vouch_policy_version(p), "1.1");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_equal(res.rule_line, 6);
    assert_int_equal(res.rule_column, 2);
    assert_non_null(strstr(res.explanation, "authorizationrules rule 1"));
    assert_int_equal(vouch_claims_count(res.issued), 6);
    assert_bool_claim(res.issued, "is-debuggable", false);
    assert_str_claim(res.issued, "sgx-mrsigner", MRSIGNER);
    assert_int_claim(res.issued, "product-id", 1);
    assert_int_claim(res.issued, "svn", 1);
    assert_str_claim(res.issued, "tee", "sgx");
    assert_int_equal(find(res.issued, "tee", 0)->issuer, VOUCH_ISSUER_ATTESTATION_POLICY);
    assert_int_equal(vouch_claims_count(res.properties), 1);
    assert_str_claim(res.properties, "x-ms-sgx-tcbidentifier", "azuredefault");
    /* The x-ms-policy object of the recorded MAA token, claim for claim. */
    assert_int_equal(vouch_claims_to_json(res.issued, &j), VOUCH_OK);
    assert_int_equal(vouch_json_dump(j, 0, &dump), VOUCH_OK);
    assert_string_equal(dump, "{\"is-debuggable\":false,\"product-id\":1,\"sgx-mrenclave\":"
                              "\"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2"
                              "\",\"sgx-mrsigner\":\"" MRSIGNER "\",\"svn\":1,\"tee\":\"sgx\"}");
    vouch_free(dump);
    json_decref(j);
    /* The service can read configuration properties before verifying. */
    assert_int_equal(vouch_policy_properties(p, &props), VOUCH_OK);
    assert_int_equal(vouch_claims_count(props), 1);
    assert_str_claim(props, "x-ms-sgx-tcbidentifier", "azuredefault");
    vouch_claims_free(props);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

static const char p2_text[] = "version= 1.0;\n"
                              "authorizationrules\n"
                              "{\n"
                              "       [ type==\"x-ms-sgx-is-debuggable\", value==false ]\n"
                              "        && [ type==\"x-ms-sgx-product-id\", value==1 ]\n"
                              "        && [ type==\"x-ms-sgx-svn\", value>= 0 ]\n"
                              "        && [ type==\"x-ms-sgx-mrsigner\", value==\"" MRSIGNER "\"]\n"
                              "    => permit();\n"
                              "};\n"
                              "issuancerules {\n"
                              "c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"my-signer\", "
                              "value=c.value);\n"
                              "};\n";

static char *sgx_claims_with(const char *type, const char *json_value)
{
    /* Rebuild SGX_CLAIMS with one value replaced. */
    json_t *arr = NULL;
    size_t i;
    json_t *el;
    char *out = NULL;

    assert_int_equal(vouch_json_parse(SGX_CLAIMS, strlen(SGX_CLAIMS), &arr, NULL, 0), VOUCH_OK);
    json_array_foreach(arr, i, el)
    {
        if (strcmp(json_string_value(json_object_get(el, "type")), type) == 0) {
            json_t *v = NULL;
            assert_int_equal(vouch_json_parse(json_value, strlen(json_value), &v, NULL, 0),
                             VOUCH_OK);
            json_object_set_new(el, "value", v);
        }
    }
    out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return out;
}

static enum vouch_policy_decision decide_with(const char *policy, const char *type,
                                              const char *json_value)
{
    char *c = sgx_claims_with(type, json_value);
    enum vouch_policy_decision d = decide(policy, c);

    free(c);
    return d;
}

static void test_p2_custom_sgx(void **state)
{
    struct vouch_policy *p = parse(p2_text);
    struct vouch_claims *c = claims(SGX_CLAIMS);
    struct vouch_policy_result res;
    (void)state;

    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_equal(vouch_claims_count(res.issued), 1);
    assert_str_claim(res.issued, "my-signer", MRSIGNER);
    assert_int_equal(vouch_claims_count(res.properties), 0);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);

    assert_int_equal(decide_with(p2_text, "x-ms-sgx-is-debuggable", "true"), VOUCH_POLICY_DENY);
    assert_int_equal(decide_with(p2_text, "x-ms-sgx-product-id", "2"), VOUCH_POLICY_DENY);
    assert_int_equal(decide_with(p2_text, "x-ms-sgx-mrsigner", "\"00\""), VOUCH_POLICY_DENY);
    assert_int_equal(decide_with(p2_text, "x-ms-sgx-svn", "0"), VOUCH_POLICY_PERMIT);
    assert_int_equal(decide_with(p2_text, "x-ms-sgx-svn", "-1"), VOUCH_POLICY_DENY);
    /* A string "1" is not the integer 1. */
    assert_int_equal(decide_with(p2_text, "x-ms-sgx-product-id", "\"1\""), VOUCH_POLICY_DENY);
}

static const char p3_text[] =
    "version= 1.0;\n"
    "authorizationrules\n"
    "{\n"
    "\t[ type==\"x-ms-sgx-is-debuggable\", value==false ]&&\n"
    "\t[ type==\"x-ms-sgx-mrsigner\", value==\"mrsigner1\"] => permit();\n"
    "\t[ type==\"x-ms-sgx-is-debuggable\", value==false ]&&\n"
    "\t[ type==\"x-ms-sgx-mrsigner\", value==\"mrsigner2\"] => permit();\n"
    "};\n";

static void test_p3_key_rotation(void **state)
{
    struct vouch_policy *p = parse(p3_text);
    struct vouch_claims *c;
    struct vouch_policy_result res;
    char *js;
    (void)state;

    /* No issuancerules section: accepted (MAA's own SNP default has none). */
    js = sgx_claims_with("x-ms-sgx-mrsigner", "\"mrsigner2\"");
    c = claims(js);
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_equal(res.rule_line, 6);
    assert_int_equal(vouch_claims_count(res.issued), 0);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    free(js);
    vouch_policy_free(p);

    assert_int_equal(decide_with(p3_text, "x-ms-sgx-mrsigner", "\"mrsigner1\""),
                     VOUCH_POLICY_PERMIT);
    assert_int_equal(decide_with(p3_text, "x-ms-sgx-mrsigner", "\"mrsigner3\""), VOUCH_POLICY_DENY);
    assert_int_equal(decide(p3_text, "[{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":true},"
                                     "{\"type\":\"x-ms-sgx-mrsigner\",\"value\":\"mrsigner1\"}]"),
                     VOUCH_POLICY_DENY);
}

static const char p4_text[] =
    "version=1.1;\n"
    "\n"
    "configurationrules{\n"
    "=> issueproperty(type = \"required_pcr_mask\", value = 15);\n"
    "=> issueproperty(type = \"require_valid_aik_cert\", value = false);\n"
    "};\n"
    "\n"
    "authorizationrules { \n"
    "    => permit();\n"
    "};\n"
    "\n"
    "\n"
    "issuancerules\n"
    "{\n"
    "[type==\"aikValidated\", value==true]&& \n"
    "[type==\"secureBootEnabled\", value==true] &&\n"
    "[type==\"bootDebuggingDisabled\", value==true] && \n"
    "[type==\"notSafeMode\", value==true] => issue(type=\"PlatformAttested\", value=true);\n"
    "\n"
    "[type==\"aikValidated\", value==false]&& \n"
    "[type==\"secureBootEnabled\", value==true] &&\n"
    "[type==\"bootDebuggingDisabled\", value==true] && \n"
    "[type==\"notSafeMode\", value==true] => issue(type=\"PlatformAttested\", value=false);\n"
    "};\n";

static void p4_case(const char *aik, const char *secure_boot, int want /* -1 none */)
{
    struct vouch_policy *p = parse(p4_text);
    struct vouch_policy_result res;
    struct vouch_claims *c;
    char js[512];

    snprintf(js, sizeof(js),
             "[{\"type\":\"aikValidated\",\"value\":%s},{\"type\":\"secureBootEnabled\","
             "\"value\":%s},{\"type\":\"bootDebuggingDisabled\",\"value\":true},"
             "{\"type\":\"notSafeMode\",\"value\":true}]",
             aik, secure_boot);
    c = claims(js);
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_claim(res.properties, "required_pcr_mask", 15);
    assert_bool_claim(res.properties, "require_valid_aik_cert", false);
    if (want < 0) {
        assert_int_equal(vouch_claims_count(res.issued), 0);
    } else {
        assert_int_equal(vouch_claims_count(res.issued), 1);
        assert_bool_claim(res.issued, "PlatformAttested", want == 1);
    }
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

static void test_p4_tpm_config(void **state)
{
    (void)state;
    p4_case("true", "true", 1);
    p4_case("false", "true", 0);
    p4_case("true", "false", -1);
}

static void test_p5_deny_all(void **state)
{
    static const char text[] = "version=1.0;\n"
                               "authorizationrules\n"
                               "{\n"
                               "    =>deny();\n"
                               "};\n"
                               "\n"
                               "issuancerules\n"
                               "{\n"
                               "};\n";
    struct vouch_policy *p = parse(text);
    struct vouch_claims *c = claims(SGX_CLAIMS);
    struct vouch_policy_result res;
    (void)state;

    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_DENY);
    assert_int_equal(res.rule_line, 4);
    assert_int_equal(res.rule_column, 5);
    assert_string_equal(res.explanation, "deny() in authorizationrules rule 1 (line 4, column 5)");
    assert_int_equal(vouch_claims_count(res.issued), 0);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

static const char p6_text[] = "version=1.0;\n"
                              "authorizationrules {\n"
                              "    [type==\"secureBootEnabled\", value==true, "
                              "issuer==\"AttestationService\"]=>permit();\n"
                              "};\n"
                              "issuancerules {\n"
                              "    => issue(type=\"SecurityLevelValue\", value=100);\n"
                              "};\n";

static void test_p6_custom_claim(void **state)
{
    struct vouch_policy *p = parse(p6_text);
    struct vouch_claims *c = claims("[{\"type\":\"secureBootEnabled\",\"value\":true,"
                                    "\"issuer\":\"AttestationService\"}]");
    struct vouch_policy_result res;
    (void)state;

    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_claim(res.issued, "SecurityLevelValue", 100);
    assert_int_equal(find(res.issued, "SecurityLevelValue", 0)->issuer,
                     VOUCH_ISSUER_ATTESTATION_POLICY);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);

    /* The same claim sent by the client (CustomClaim, the default) is not enough. */
    c = claims("[{\"type\":\"secureBootEnabled\",\"value\":true}]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_DENY);
    assert_string_equal(res.explanation, "no authorization rule permitted");
    assert_int_equal(res.rule_line, 0);
    assert_int_equal(vouch_claims_count(res.issued), 0);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);

    /* SGX evidence has no secureBootEnabled claim. */
    c = claims(SGX_CLAIMS);
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_DENY);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

static void test_extra_examples(void **state)
{
    (void)state;
    /* The SDK test suites' minimal permissive policy. */
    assert_int_equal(
        decide("version=1.0; authorizationrules{=> permit();}; issuancerules{};", "[]"),
        VOUCH_POLICY_PERMIT);
    /* The 2020 default with $-prefixed claim names. */
    assert_int_equal(decide("version=1.0; authorizationrules{c:[type==\"$is-debuggable\"] => "
                            "permit();}; issuancerules{};",
                            "[{\"type\":\"$is-debuggable\",\"value\":false}]"),
                     VOUCH_POLICY_PERMIT);
    /* Empty authorizationrules: nothing permits. */
    assert_int_equal(decide("version=1.0; authorizationrules{}; issuancerules{};", SGX_CLAIMS),
                     VOUCH_POLICY_DENY);
}

/* The 1.2 absence idiom from claim-rule-functions.md. */
static void test_absence(void **state)
{
    static const char text[] =
        "version=1.2;\n"
        "authorizationrules { => permit(); };\n"
        "issuancerules {\n"
        "  c:[type==\"sb\", issuer==\"AttestationService\"] => issue(type=\"secureBootEnabled\", "
        "value=c.value);\n"
        "  ![type==\"secureBootEnabled\", issuer==\"AttestationPolicy\"] => "
        "issue(type=\"secureBootEnabled\", value=false);\n"
        "};\n";
    struct vouch_policy *p = parse(text);
    struct vouch_claims *c = claims("[]");
    struct vouch_policy_result res;
    (void)state;

    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_equal(vouch_claims_count(res.issued), 1);
    assert_bool_claim(res.issued, "secureBootEnabled", false);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);

    c = claims("[{\"type\":\"sb\",\"value\":true,\"issuer\":\"AttestationService\"}]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_equal(vouch_claims_count(res.issued), 1);
    assert_bool_claim(res.issued, "secureBootEnabled", true);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

/* ---- operators and comparisons ---- */

struct op_case {
    const char *cond;  /* inside [type=="x", ...] */
    const char *value; /* JSON value of claim x */
    enum vouch_policy_decision want;
};

static void test_operators(void **state)
{
    static const struct op_case cases[] = {
        {"value==5", "5", VOUCH_POLICY_PERMIT},
        {"value==5", "6", VOUCH_POLICY_DENY},
        {"value!=5", "6", VOUCH_POLICY_PERMIT},
        {"value!=5", "5", VOUCH_POLICY_DENY},
        {"value<5", "4", VOUCH_POLICY_PERMIT},
        {"value<5", "5", VOUCH_POLICY_DENY},
        {"value<=5", "5", VOUCH_POLICY_PERMIT},
        {"value<=5", "6", VOUCH_POLICY_DENY},
        {"value>5", "6", VOUCH_POLICY_PERMIT},
        {"value>5", "5", VOUCH_POLICY_DENY},
        {"value>=5", "5", VOUCH_POLICY_PERMIT},
        {"value>=5", "4", VOUCH_POLICY_DENY},
        {"value>=-3", "-3", VOUCH_POLICY_PERMIT},
        {"value<-9223372036854775807", "-9223372036854775808", VOUCH_POLICY_PERMIT},
        {"value==9223372036854775807", "9223372036854775807", VOUCH_POLICY_PERMIT},
        /* Strings and booleans: == and != only; order never holds. */
        {"value==\"abc\"", "\"abc\"", VOUCH_POLICY_PERMIT},
        {"value==\"abc\"", "\"ABC\"", VOUCH_POLICY_DENY},
        {"value!=\"abc\"", "\"abd\"", VOUCH_POLICY_PERMIT},
        {"value==\"\"", "\"\"", VOUCH_POLICY_PERMIT},
        {"value>\"a\"", "\"b\"", VOUCH_POLICY_DENY},
        {"value==true", "true", VOUCH_POLICY_PERMIT},
        {"value==true", "false", VOUCH_POLICY_DENY},
        {"value!=true", "false", VOUCH_POLICY_PERMIT},
        {"value>=true", "true", VOUCH_POLICY_DENY},
        /* Integer versus string versus boolean: never equal. */
        {"value==5", "\"5\"", VOUCH_POLICY_DENY},
        {"value==\"5\"", "5", VOUCH_POLICY_DENY},
        {"value!=5", "\"5\"", VOUCH_POLICY_PERMIT},
        {"value>=0", "\"5\"", VOUCH_POLICY_DENY},
        {"value==1", "true", VOUCH_POLICY_DENY},
        {"value==\"true\"", "true", VOUCH_POLICY_DENY},
        /* valueType */
        {"valueType==\"Integer\"", "5", VOUCH_POLICY_PERMIT},
        {"valueType==\"Integer\"", "\"5\"", VOUCH_POLICY_DENY},
        {"valueType==\"String\"", "\"5\"", VOUCH_POLICY_PERMIT},
        {"valueType==\"Boolean\"", "false", VOUCH_POLICY_PERMIT},
        {"valueType!=\"Boolean\"", "false", VOUCH_POLICY_DENY},
        /* Several tests on one claim: a range. */
        {"value>=3, value<=7", "5", VOUCH_POLICY_PERMIT},
        {"value>=3, value<=7", "8", VOUCH_POLICY_DENY},
        /* type != */
        {"type!=\"y\"", "1", VOUCH_POLICY_PERMIT},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char pol[256], cl[128];
        snprintf(pol, sizeof(pol),
                 "version=1.0; authorizationrules { [type==\"x\", %s] => permit(); };",
                 cases[i].cond);
        snprintf(cl, sizeof(cl), "[{\"type\":\"x\",\"value\":%s}]", cases[i].value);
        if (decide(pol, cl) != cases[i].want)
            fail_msg("case %zu: [%s] with value %s: want %s", i, cases[i].cond, cases[i].value,
                     cases[i].want == VOUCH_POLICY_PERMIT ? "permit" : "deny");
    }
}

static void test_issuer_conditions(void **state)
{
    static const char text[] =
        "version=1.0; authorizationrules {\n"
        " [type==\"a\", issuer==\"AttestationService\"] => permit();\n"
        " [type==\"a\", issuer==\"CustomClaim\", value==\"bad\"] => deny();\n"
        "};";
    (void)state;

    assert_int_equal(
        decide(text, "[{\"type\":\"a\",\"value\":1,\"issuer\":\"AttestationService\"}]"),
        VOUCH_POLICY_PERMIT);
    assert_int_equal(decide(text, "[{\"type\":\"a\",\"value\":1}]"), VOUCH_POLICY_DENY);
    assert_int_equal(decide(text, "[{\"type\":\"a\",\"value\":1,\"issuer\":\"AttestationService\"},"
                                  "{\"type\":\"a\",\"value\":\"bad\"}]"),
                     VOUCH_POLICY_DENY);
    /* issuer != */
    assert_int_equal(decide("version=1.0; authorizationrules { [type==\"a\", "
                            "issuer!=\"CustomClaim\"] => permit(); };",
                            "[{\"type\":\"a\",\"value\":1,\"issuer\":\"AttestationPolicy\"}]"),
                     VOUCH_POLICY_PERMIT);
}

/* ---- bindings ---- */

static void test_bindings(void **state)
{
    static const char cross[] = "version=1.0; authorizationrules {\n"
                                " c1:[type==\"a\"] && [type==\"b\", value==c1.value] => permit();\n"
                                "};";
    static const char into[] =
        "version=1.0; authorizationrules { => permit(); };\n"
        "issuancerules {\n"
        " c:[type==\"a\"] => issue(type=\"a-type\", value=c.type);\n"
        " c:[type==\"a\"] => issue(type=\"a-issuer\", value=c.issuer);\n"
        " c:[type==\"a\"] => issue(type=\"a-vt\", value=c.valueType);\n"
        " x:[type==\"a\"] && y:[type==\"b\"] => issue(type=\"pair\", value=y.value);\n"
        " [type==\"nothing\"] => issue(type=\"never\", value=1);\n"
        " c:[type==\"nothing\"] => issue(claim=c);\n"
        " c:[type==\"a\"] => issue(claim=c);\n"
        " c:[type==\"a\", issuer==\"AttestationPolicy\"] => issue(type=\"copies\", "
        "value=c.value);\n"
        "};";
    struct vouch_policy *p;
    struct vouch_claims *c;
    struct vouch_policy_result res;
    (void)state;

    assert_int_equal(decide(cross, "[{\"type\":\"a\",\"value\":1},{\"type\":\"b\",\"value\":1}]"),
                     VOUCH_POLICY_PERMIT);
    assert_int_equal(decide(cross, "[{\"type\":\"a\",\"value\":1},{\"type\":\"b\",\"value\":2}]"),
                     VOUCH_POLICY_DENY);
    /* c1 binds every "a": b matches if it equals any of them. */
    assert_int_equal(decide(cross, "[{\"type\":\"a\",\"value\":1},{\"type\":\"a\",\"value\":2},"
                                   "{\"type\":\"b\",\"value\":2}]"),
                     VOUCH_POLICY_PERMIT);
    /* != against a bound set means "equals none of them". */
    assert_int_equal(decide("version=1.0; authorizationrules { c:[type==\"a\"] && "
                            "[type==\"b\", value!=c.value] => permit(); };",
                            "[{\"type\":\"a\",\"value\":1},{\"type\":\"a\",\"value\":2},"
                            "{\"type\":\"b\",\"value\":2}]"),
                     VOUCH_POLICY_DENY);

    p = parse(into);
    c = claims("[{\"type\":\"a\",\"value\":7,\"issuer\":\"AttestationService\"},"
               "{\"type\":\"b\",\"value\":\"bee\"}]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_claim(res.issued, "a", 7);
    /* Copies made by the policy are the policy's claims. */
    assert_int_equal(find(res.issued, "a", 0)->issuer, VOUCH_ISSUER_ATTESTATION_POLICY);
    assert_str_claim(res.issued, "a-type", "a");
    assert_str_claim(res.issued, "a-issuer", "AttestationService");
    assert_str_claim(res.issued, "a-vt", "Integer");
    assert_str_claim(res.issued, "pair", "bee");
    assert_null(find(res.issued, "never", 0));
    assert_null(find(res.issued, "nothing", 0));
    /* issue() also adds to the incoming set: the last rule sees the copy. */
    assert_int_claim(res.issued, "copies", 7);
    assert_int_equal(vouch_claims_count(res.issued), 6);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);

    /* Multi-valued: issue(claim=c) and value=c.value issue every selected claim. */
    c = claims("[{\"type\":\"a\",\"value\":[1,2,3]}]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_equal(count_type(res.issued, "a"), 3);
    assert_int_equal(count_type(res.issued, "a-type"), 3);
    assert_true(find(res.issued, "a", 2)->integer == 3);
    assert_null(find(res.issued, "pair", 0)); /* no "b" */
    {
        json_t *j = NULL;
        char *dump = NULL;
        assert_int_equal(vouch_claims_to_json(res.issued, &j), VOUCH_OK);
        assert_int_equal(vouch_json_dump(j, 0, &dump), VOUCH_OK);
        assert_string_equal(dump, "{\"a\":[1,2,3],\"a-issuer\":[\"CustomClaim\",\"CustomClaim\","
                                  "\"CustomClaim\"],\"a-type\":[\"a\",\"a\",\"a\"],\"a-vt\":["
                                  "\"Integer\",\"Integer\",\"Integer\"],\"copies\":[1,2,3]}");
        vouch_free(dump);
        json_decref(j);
    }
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

/* ---- actions and rule order ---- */

static void test_permit_deny_order(void **state)
{
    static const char permit_then_deny[] = "version=1.0; authorizationrules {\n"
                                           " => permit();\n"
                                           " [type==\"bad\"] => deny();\n"
                                           " => permit();\n"
                                           "}; issuancerules { => issue(type=\"t\", value=1); };";
    struct vouch_policy *p = parse(permit_then_deny);
    struct vouch_claims *c;
    struct vouch_policy_result res;
    (void)state;

    c = claims("[]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    /* The first permit decides. */
    assert_int_equal(res.rule_line, 2);
    assert_int_claim(res.issued, "t", 1);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);

    c = claims("[{\"type\":\"bad\",\"value\":true}]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_DENY);
    assert_int_equal(res.rule_line, 3);
    assert_string_equal(res.explanation, "deny() in authorizationrules rule 2 (line 3, column 2)");
    /* Issuance never runs after a deny. */
    assert_int_equal(vouch_claims_count(res.issued), 0);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);

    assert_int_equal(decide("version=1.0; authorizationrules { => deny(); => permit(); };", "[]"),
                     VOUCH_POLICY_DENY);
    assert_int_equal(decide("version=1.0; authorizationrules { => deny(); => deny(); };", "[]"),
                     VOUCH_POLICY_DENY);
}

static void test_add_and_properties(void **state)
{
    static const char text[] =
        "version=1.1;\n"
        "configurationrules { => issueproperty(type=\"omit_x5c\", value=true); };\n"
        "authorizationrules {\n"
        " [type==\"x\"] => add(type=\"seen-x\", value=\"yes\");\n"
        " [type==\"seen-x\", issuer==\"AttestationPolicy\"] => permit();\n"
        "};\n"
        "issuancerules {\n"
        " c:[type==\"x\"] => add(type=\"x\", value=c.value);\n"
        " c:[type==\"x\"] => issue(type=\"x-count\", value=c.value);\n"
        " c:[type==\"omit_x5c\"] => issue(type=\"prop-seen\", value=c.value);\n"
        " => issueproperty(type=\"report_validity_in_minutes\", value=60);\n"
        "};";
    struct vouch_policy *p = parse(text);
    struct vouch_claims *c = claims("[{\"type\":\"x\",\"value\":1}]");
    struct vouch_policy_result res;
    (void)state;

    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    /* add() reaches later rules but not the token. */
    assert_null(find(res.issued, "seen-x", 0));
    /* The rule that adds "x" saw one "x"; the next rule sees two. */
    assert_int_equal(count_type(res.issued, "x-count"), 2);
    /* issueproperty() claims join the incoming set too. */
    assert_bool_claim(res.issued, "prop-seen", true);
    assert_bool_claim(res.properties, "omit_x5c", true);
    assert_int_claim(res.properties, "report_validity_in_minutes", 60);
    assert_int_equal(vouch_claims_count(res.properties), 2);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);

    c = claims("[]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_DENY);
    /* Configuration properties stand even when authorization fails. */
    assert_bool_claim(res.properties, "omit_x5c", true);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

/* ---- 1.2 functions ---- */

static void test_functions(void **state)
{
    static const char text[] =
        "version=1.2; authorizationrules { => permit(); };\n"
        "issuancerules {\n"
        " c:[type==\"JsonIntegerData\"] => issue(type=\"IntegerResult\", "
        "value=JsonToClaimValue(c.value));\n"
        " c:[type==\"JsonBooleanData\"] => issue(type=\"BooleanResult\", "
        "value=JsonToClaimValue(c.value));\n"
        " c:[type==\"JsonStringData\"] => issue(type=\"StringResult\", "
        "value=JsonToClaimValue(c.value));\n"
        " c:[type==\"JsonArray\"] => issue(type=\"ArrayResult\", "
        "value=JsonToClaimValue(c.value));\n"
        " c:[type==\"JsonNull\"] => issue(type=\"NullResult\", value=JsonToClaimValue(c.value));\n"
        " c1:[type==\"Subset\"] && c2:[type==\"Superset\"] => issue(type=\"IsSubset\", "
        "value=IsSubsetOf(c1.value, c2.value));\n"
        " c1:[type==\"Superset\"] && c2:[type==\"Subset\"] => issue(type=\"IsSuperSubset\", "
        "value=IsSubsetOf(c1.value, c2.value));\n"
        " c:[type==\"String1\"] && c2:[type==\"String2\"] => issue(type=\"Appended\", "
        "value=AppendString(c.value, c2.value));\n"
        " c:[type==\"Input\"] => issue(type=\"Negated\", value=NegateBool(c.value));\n"
        " c:[type==\"Set\"] => issue(type=\"Only100\", value=ContainsOnlyValue(c.value, 100));\n"
        " c:[type==\"Same\"] => issue(type=\"OnlyTrue\", value=ContainsOnlyValue(c.value, true));\n"
        " => issue(type=\"Literal\", value=AppendString(\"a\", NegateBool(true) ));\n"
        "};";
    /* The last rule is a type error (AppendString of a boolean): test it alone. */
    const char *ok_text_end = strstr(text, " => issue(type=\"Literal\"");
    char *ok_text = NULL;
    struct vouch_policy *p;
    struct vouch_claims *c;
    struct vouch_policy_result res;
    (void)state;

    ok_text = strdup(text);
    assert_non_null(ok_text);
    strcpy(ok_text + (ok_text_end - text), "};");
    p = parse(ok_text);
    c = claims("["
               "{\"type\":\"JsonIntegerData\",\"value\":\"100\"},"
               "{\"type\":\"JsonBooleanData\",\"value\":\"true\"},"
               "{\"type\":\"JsonStringData\",\"value\":\"\\\"abc\\\"\"},"
               "{\"type\":\"JsonArray\",\"value\":\"[0, \\\"abc\\\", true, null]\"},"
               "{\"type\":\"JsonNull\",\"value\":\"null\"},"
               "{\"type\":\"Subset\",\"value\":[\"abc\",100]},"
               "{\"type\":\"Superset\",\"value\":[true,\"abc\",100]},"
               "{\"type\":\"String1\",\"value\":\"abc\"},"
               "{\"type\":\"String2\",\"value\":\"xyz\"},"
               "{\"type\":\"Input\",\"value\":true},"
               "{\"type\":\"Set\",\"value\":[100,101]},"
               "{\"type\":\"Same\",\"value\":[true,true]}"
               "]");
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_int_claim(res.issued, "IntegerResult", 100);
    assert_bool_claim(res.issued, "BooleanResult", true);
    assert_str_claim(res.issued, "StringResult", "abc");
    /* An array becomes a set: one claim per non-null member. */
    assert_int_equal(count_type(res.issued, "ArrayResult"), 3);
    assert_true(find(res.issued, "ArrayResult", 0)->integer == 0);
    assert_string_equal(find(res.issued, "ArrayResult", 1)->string, "abc");
    assert_true(find(res.issued, "ArrayResult", 2)->boolean);
    /* null is an empty value: issuing it is a no-op. */
    assert_null(find(res.issued, "NullResult", 0));
    assert_bool_claim(res.issued, "IsSubset", true);
    assert_bool_claim(res.issued, "IsSuperSubset", false);
    assert_str_claim(res.issued, "Appended", "abcxyz");
    assert_bool_claim(res.issued, "Negated", false);
    assert_bool_claim(res.issued, "Only100", false);
    assert_bool_claim(res.issued, "OnlyTrue", true);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
    free(ok_text);

    /* A type error fails the whole evaluation, closed. */
    p = parse(text);
    c = claims("[]");
    assert_int_equal(vouch_policy_eval(p, c, &res), VOUCH_ERR_POLICY);
    assert_int_equal(res.decision, VOUCH_POLICY_DENY);
    assert_null(res.issued);
    assert_non_null(strstr(res.explanation, "AppendString: argument 2 is not a string"));
    assert_non_null(strstr(res.explanation, "issuancerules rule 12"));
    assert_int_equal(res.rule_line, 14);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
}

static vouch_err eval_rc(const char *policy, const char *claims_json, char *why, size_t cap)
{
    struct vouch_policy *p = parse(policy);
    struct vouch_claims *c = claims(claims_json);
    struct vouch_policy_result res;
    vouch_err rc = vouch_policy_eval(p, c, &res);

    if (rc != VOUCH_OK) {
        assert_int_equal(res.decision, VOUCH_POLICY_DENY);
        assert_null(res.issued);
        assert_null(res.properties);
    }
    snprintf(why, cap, "%s", res.explanation);
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
    return rc;
}

static void test_function_errors(void **state)
{
    static const struct {
        const char *expr;
        const char *claims;
        const char *msg;
    } cases[] = {
        {"JsonToClaimValue(c.value)", "[{\"type\":\"a\",\"value\":\"1.5\"}]", "fractional"},
        {"JsonToClaimValue(c.value)", "[{\"type\":\"a\",\"value\":\"{}\"}]", "objects"},
        {"JsonToClaimValue(c.value)", "[{\"type\":\"a\",\"value\":\"[[1]]\"}]", "arrays may hold"},
        {"JsonToClaimValue(c.value)", "[{\"type\":\"a\",\"value\":\"nope\"}]", "not valid JSON"},
        {"JsonToClaimValue(c.value)", "[{\"type\":\"a\",\"value\":5}]", "not a string"},
        {"NegateBool(c.value)", "[{\"type\":\"a\",\"value\":5}]", "not a boolean"},
        {"NegateBool(c.value)", "[{\"type\":\"a\",\"value\":[true,false]}]",
         "argument 1 has 2 values"},
        {"AppendString(c.value, \"x\")", "[{\"type\":\"a\",\"value\":[\"p\",\"q\"]}]",
         "a single value is required"},
        {"ContainsOnlyValue(c.value, c.value)", "[{\"type\":\"a\",\"value\":[1,2]}]",
         "ContainsOnlyValue: argument 2 has 2 values"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char pol[256], why[VOUCH_MAX_ERROR_DETAIL];
        snprintf(pol, sizeof(pol),
                 "version=1.2; authorizationrules { c:[type==\"a\"] => permit(); };"
                 " issuancerules { c:[type==\"a\"] => issue(type=\"r\", value=%s); };",
                 cases[i].expr);
        assert_int_equal(eval_rc(pol, cases[i].claims, why, sizeof(why)), VOUCH_ERR_POLICY);
        if (!strstr(why, cases[i].msg))
            fail_msg("case %zu: explanation \"%s\" lacks \"%s\"", i, why, cases[i].msg);
    }
    /* A function in a condition that never runs costs nothing. */
    {
        char why[VOUCH_MAX_ERROR_DETAIL];
        assert_int_equal(eval_rc("version=1.2; authorizationrules { => permit(); "
                                 "c:[type==\"none\"] && [type==\"a\", value==NegateBool(c.value)] "
                                 "=> deny(); };",
                                 "[{\"type\":\"a\",\"value\":1}]", why, sizeof(why)),
                         VOUCH_OK);
    }
}

static void test_read_only(void **state)
{
    static const char text[] =
        "version=1.2; authorizationrules { => permit(); };\n"
        "issuancerules {\n"
        " c:[type==\"pcrs\"] => add(type=\"pcr-copy\", value=c.value);\n"
        " c:[type==\"pcrs\"] => issue(type=\"pcr-known\", value=IsSubsetOf(c.value, \"abc\"));\n"
        "};";
    struct vouch_policy *p = parse(text);
    struct vouch_claims *c = claims("[{\"type\":\"pcrs\",\"value\":\"abc\","
                                    "\"issuer\":\"AttestationService\"}]");
    struct vouch_policy_result res;
    char pol[256];
    (void)state;

    vouch_claims_mark_read_only(c, "pcrs");
    vouch_claims_mark_read_only(c, "absent");
    assert_true(vouch_claims_at(c, 0)->read_only);
    /* add() of a read-only value and a boolean derived from it are fine. */
    assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
    assert_bool_claim(res.issued, "pcr-known", true);
    vouch_policy_result_free(&res);
    vouch_policy_free(p);

    static const char *const forbidden[] = {
        "c:[type==\"pcrs\"] => issue(claim=c);",
        "c:[type==\"pcrs\"] => issue(type=\"x\", value=c.value);",
        "c:[type==\"pcrs\"] => issue(type=\"x\", value=AppendString(c.value, \"\"));",
        "c:[type==\"pcrs\"] => issueproperty(type=\"x\", value=c.value);",
        ("c:[type==\"pcrs\"] => add(claim=c); c:[type==\"pcrs\", issuer==\"AttestationPolicy\"] "
         "=> issue(claim=c);"),
    };
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        snprintf(pol, sizeof(pol),
                 "version=1.2; authorizationrules { => permit(); }; issuancerules { %s };",
                 forbidden[i]);
        p = parse(pol);
        assert_int_equal(vouch_policy_eval(p, c, &res), VOUCH_ERR_POLICY);
        assert_non_null(strstr(res.explanation, "read-only"));
        vouch_policy_result_free(&res);
        vouch_policy_free(p);
    }
    vouch_claims_free(c);
}

/* ---- parse errors ---- */

struct perr_case {
    const char *text;
    unsigned flags;
    vouch_err rc;
    unsigned line, column;
    const char *msg;
};

static void test_parse_errors(void **state)
{
    static const struct perr_case cases[] = {
        /* version */
        {"", 0, VOUCH_ERR_PARSE, 1, 1, "expected 'version' at the start of the policy, found end"},
        {"authorizationrules{};", 0, VOUCH_ERR_PARSE, 1, 1, "expected 'version'"},
        {"Version= 1.0; authorizationrules{};", 0, VOUCH_ERR_PARSE, 1, 1, "found 'Version'"},
        {"version=2.0; authorizationrules{};", 0, VOUCH_ERR_UNSUPPORTED, 1, 9,
         "unsupported policy version 2.0"},
        {"version=1.3;", 0, VOUCH_ERR_UNSUPPORTED, 1, 9, "supported: 1.0, 1.1, 1.2"},
        {"version=1;", 0, VOUCH_ERR_PARSE, 1, 10, "expected '.' in the version number"},
        {"version 1.0;", 0, VOUCH_ERR_PARSE, 1, 9, "expected '=' after 'version'"},
        {"version=1.0 authorizationrules{};", 0, VOUCH_ERR_PARSE, 1, 13,
         "expected ';' after the version"},
        /* sections */
        {"version=1.0;\nrules { };", 0, VOUCH_ERR_PARSE, 2, 1, "unknown section 'rules'"},
        {"version=1.0;\n", 0, VOUCH_ERR_PARSE, 2, 1,
         "expected an 'authorizationrules' section, found end of input"},
        {"version=1.0;\nissuancerules{};\nauthorizationrules{};", 0, VOUCH_ERR_PARSE, 2, 1,
         "expected 'authorizationrules' before 'issuancerules'"},
        {"version=1.1;\nauthorizationrules{};\nconfigurationrules{};", 0, VOUCH_ERR_PARSE, 3, 1,
         "'configurationrules' must come before 'authorizationrules'"},
        {"version=1.0;\nconfigurationrules{};\nauthorizationrules{};", 0, VOUCH_ERR_PARSE, 2, 1,
         "configurationrules needs policy version 1.1"},
        {"version=1.0;\nauthorizationrules{};\nauthorizationrules{};", 0, VOUCH_ERR_PARSE, 3, 1,
         "appears twice"},
        {"version=1.0;\nauthorizationrules{}", 0, VOUCH_ERR_PARSE, 2, 21,
         "expected ';' after the '}' that closes 'authorizationrules'"},
        {"version=1.0;\nauthorizationrules\n{\n => permit();\n", 0, VOUCH_ERR_PARSE, 5, 1,
         "expected '}' to close 'authorizationrules' (opened at line 3, column 1)"},
        {"version=1.0;\nauthorizationrules => permit(); };", 0, VOUCH_ERR_PARSE, 2, 20,
         "expected '{' after 'authorizationrules'"},
        {"version=1.0; authorizationrules{}; issuancerules{}; extra", 0, VOUCH_ERR_PARSE, 1, 53,
         "unknown section 'extra'"},
        {"version=1.0; authorizationrules{}; ;", 0, VOUCH_ERR_PARSE, 1, 36, "expected a section"},
        /* rules */
        {"version=1.0;\nauthorizationrules {\n  => permit()\n};", 0, VOUCH_ERR_PARSE, 4, 1,
         "expected ';' after the action, found '}'"},
        {"version=1.0;\nauthorizationrules {\n  => permit();\n  => permit()\n  => deny();\n};", 0,
         VOUCH_ERR_PARSE, 5, 3, "expected ';' after the action, found '=>'"},
        {"version=1.0; authorizationrules { => allow(); };", 0, VOUCH_ERR_PARSE, 1, 38,
         "unknown action 'allow'"},
        {"version=1.0; authorizationrules { => ; };", 0, VOUCH_ERR_PARSE, 1, 38,
         "expected an action"},
        {"version=1.0; authorizationrules { => permit(1); };", 0, VOUCH_ERR_PARSE, 1, 45,
         "permit() takes no arguments"},
        {"version=1.0; authorizationrules { [type==\"a\"] permit(); };", 0, VOUCH_ERR_PARSE, 1, 47,
         "expected '&&' or '=>' after a condition, found 'permit'"},
        {"version=1.0; authorizationrules { permit(); };", 0, VOUCH_ERR_PARSE, 1, 41,
         "expected ':' after identifier 'permit'"},
        {"version=1.0; authorizationrules { ; };", 0, VOUCH_ERR_PARSE, 1, 35, "expected a rule"},
        {"version=1.0; authorizationrules { => issue(type=\"a\", value=1); };", 0, VOUCH_ERR_PARSE,
         1, 38, "issue() is not allowed in authorizationrules"},
        {"version=1.0; authorizationrules { }; issuancerules { => permit(); };", 0, VOUCH_ERR_PARSE,
         1, 57, "permit() is allowed only in authorizationrules"},
        {"version=1.1; configurationrules { => add(type=\"a\", value=1); }; "
         "authorizationrules{};",
         0, VOUCH_ERR_PARSE, 1, 38, "only issueproperty() is allowed in configurationrules"},
        {"version=1.0; authorizationrules { }; issuancerules { => issue(type=\"a\"); };", 0,
         VOUCH_ERR_PARSE, 1, 71, "expected ',' and 'value=' in issue()"},
        {"version=1.0; authorizationrules { }; issuancerules { => issue(type=a, value=1); };", 0,
         VOUCH_ERR_PARSE, 1, 68, "expected a string literal for the claim type"},
        {"version=1.0; authorizationrules { }; issuancerules { => issue(type=\"\", value=1); };", 0,
         VOUCH_ERR_PARSE, 1, 68, "a claim type is 1 to"},
        {"version=1.0; authorizationrules { }; issuancerules { => issue(claim=c); };", 0,
         VOUCH_ERR_PARSE, 1, 69, "unknown identifier 'c'"},
        {"version=1.0; authorizationrules { }; issuancerules { => issue(kind=\"x\"); };", 0,
         VOUCH_ERR_PARSE, 1, 63, "expected 'claim=', 'type=' or 'value=' in issue()"},
        {"version=1.0; authorizationrules { }; issuancerules { => issue(type=\"a\", type=\"b\"); "
         "};",
         0, VOUCH_ERR_PARSE, 1, 73, "'type' given twice"},
        /* conditions */
        {"version=1.0;\nauthorizationrules {\n  [type=\"a\"] => permit();\n};", 0, VOUCH_ERR_PARSE,
         3, 8, "use '=='"},
        {"version=1.0; authorizationrules { [type==\"a\", value ~ 5] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 53, "unexpected character '~'"},
        {"version=1.0; authorizationrules { [type==\"a\", value 5] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 53, "expected a comparison operator"},
        {"version=1.0; authorizationrules { [type<\"a\"] => permit(); };", 0, VOUCH_ERR_PARSE, 1,
         40, "operator '<' applies only to 'value'"},
        {"version=1.0; authorizationrules { [kind==\"a\"] => permit(); };", 0, VOUCH_ERR_PARSE, 1,
         36, "expected a claim property (type, value, issuer or valueType), found 'kind'"},
        {"version=1.0; authorizationrules { [type==\"a\" value==1] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 46, "expected ',' or ']' in a condition, found 'value'"},
        {"version=1.0; authorizationrules { [] => permit(); };", 0, VOUCH_ERR_PARSE, 1, 36,
         "expected a claim property"},
        {"version=1.0; authorizationrules { [type==\"a\"] || [type==\"b\"] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 47, "'||' is not supported"},
        {"version=1.0; authorizationrules { [type==\"a\"] & [type==\"b\"] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 47, "expected '&&'"},
        {"version=1.0; authorizationrules { [type==5] => permit(); };", 0, VOUCH_ERR_PARSE, 1, 42,
         "'type' is compared with a string"},
        {"version=1.0; authorizationrules { [type==\"a\", issuer==\"Attestationservice\"] => "
         "permit(); };",
         0, VOUCH_ERR_PARSE, 1, 55, "unknown issuer \"Attestationservice\""},
        {"version=1.0; authorizationrules { [valueType==\"Int\"] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 47, "unknown valueType \"Int\""},
        {"version=1.0; authorizationrules { [type==\"a\", value==c.value] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 54, "unknown identifier 'c'"},
        {"version=1.0; authorizationrules { c:[type==\"a\", value==c.value] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 56, "unknown identifier 'c'"},
        {"version=1.0; authorizationrules { c:[type==\"a\"] && c:[type==\"b\"] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 52, "identifier 'c' is already bound"},
        {"version=1.0; authorizationrules { c[type==\"a\"] => permit(); };", 0, VOUCH_ERR_PARSE, 1,
         36, "expected ':' after identifier 'c'"},
        {"version=1.0; authorizationrules { [type==\"a\", value==foo] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 54, "expected a value"},
        {"version=1.0; authorizationrules { c:[type==\"a\"] && [value==c.size] => permit(); };", 0,
         VOUCH_ERR_PARSE, 1, 62,
         "expected a claim property (value, type, issuer or "
         "valueType) after '.'"},
        {"version=1.1; authorizationrules { ![type==\"a\"] => permit(); };", 0, VOUCH_ERR_PARSE, 1,
         35, "the '!' (absence) condition needs policy version 1.2"},
        {"version=1.2; authorizationrules { !c:[type==\"a\"] => permit(); };", 0, VOUCH_ERR_PARSE,
         1, 36, "cannot bind an identifier"},
        {"version=1.0; authorizationrules { true:[type==\"a\"] => permit(); };", 0, VOUCH_ERR_PARSE,
         1, 35, "cannot be used as an identifier"},
        /* functions */
        {"version=1.2; authorizationrules { }; issuancerules { => issue(type=\"a\", "
         "value=Upper(\"x\")); };",
         0, VOUCH_ERR_PARSE, 1, 79, "unknown function 'Upper'"},
        {"version=1.2; authorizationrules { }; issuancerules { c:[type==\"e\"] => "
         "add(type=\"a\", value=JmesPath(c.value, \"foo\")); };",
         0, VOUCH_ERR_UNSUPPORTED, 1, 91, "JmesPath function is not supported"},
        {"version=1.1; authorizationrules { }; issuancerules { => issue(type=\"a\", "
         "value=NegateBool(true)); };",
         0, VOUCH_ERR_PARSE, 1, 79, "function NegateBool needs policy version 1.2"},
        {"version=1.2; authorizationrules { }; issuancerules { => issue(type=\"a\", "
         "value=NegateBool()); };",
         0, VOUCH_ERR_PARSE, 1, 79, "NegateBool takes 1 argument, found 0"},
        {"version=1.2; authorizationrules { }; issuancerules { => issue(type=\"a\", "
         "value=ContainsOnlyValue(100)); };",
         0, VOUCH_ERR_PARSE, 1, 79, "ContainsOnlyValue takes 2 arguments, found 1"},
        {"version=1.2; authorizationrules { }; issuancerules { => issue(type=\"a\", "
         "value=NegateBool(true, false)); };",
         0, VOUCH_ERR_PARSE, 1, 79, "NegateBool takes 1 argument, found more"},
        {"version=1.2; authorizationrules { }; issuancerules { => issue(type=\"a\", "
         "value=NegateBool(true; };",
         0, VOUCH_ERR_PARSE, 1, 94, "expected ',' or ')' in the argument list"},
        /* lexical */
        {"version=1.0;\nauthorizationrules {\n  [type==\"abc] => permit();\n};", 0, VOUCH_ERR_PARSE,
         3, 10, "unterminated string"},
        {"version=1.0; authorizationrules { [type==\"a\\qb\"] => permit(); };", 0, VOUCH_ERR_PARSE,
         1, 44, "unknown escape"},
        {"version=1.0; authorizationrules { [type==\"a\xff\"] => permit(); };", 0, VOUCH_ERR_PARSE,
         1, 42, "not valid UTF-8"},
        {"version=1.0; authorizationrules { [type==\xe2\x80\x9c"
         "a\xe2\x80\x9d] => permit(); };",
         0, VOUCH_ERR_PARSE, 1, 42, "curly quotation mark"},
        {"version=1.0; authorizationrules { [type==\"a\", value==99999999999999999999] => "
         "permit(); };",
         0, VOUCH_ERR_PARSE, 1, 54, "integer out of range"},
        {"version=1.0; authorizationrules { / };", 0, VOUCH_ERR_PARSE, 1, 35,
         "comments start with //"},
        {"version=1.0; authorizationrules { \x01 };", 0, VOUCH_ERR_PARSE, 1, 35,
         "unexpected byte 0x01"},
        /* Columns count characters: é and the tab are one column each. */
        {"version=1.0;\nauthorizationrules {\n\t[type==\"\xc3\xa9\xc3\xa9\", value ~ 1] => "
         "permit();\n};",
         0, VOUCH_ERR_PARSE, 3, 21, "unexpected character '~'"},
        /* Messages quote at most 40 bytes of a string and never split a character. */
        {"version=1.0; authorizationrules { [issuer==\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9x\"] => permit(); };",
         0, VOUCH_ERR_PARSE, 1, 44,
         "unknown issuer "
         "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" "
         "("},
        {"version=1.0; authorizationrules { [type==\"a\"] => permit(); }; \"x\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"",
         0, VOUCH_ERR_PARSE, 1, 63,
         "found string "
         "\"x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\""},
        /* Comments do not hide errors on the next line. */
        {"version=1.0; // a comment\n// another\nauthorizationrules { => permit() // no semi\n};",
         0, VOUCH_ERR_PARSE, 4, 1, "expected ';' after the action"},
    };
    size_t failed = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        failed += !check_error(cases[i].text, cases[i].flags, cases[i].rc, cases[i].line,
                               cases[i].column, cases[i].msg);
    assert_int_equal(failed, 0);
}

/* ---- lenient mode ---- */

static void test_lenient(void **state)
{
    static const char *const quirks[] = {
        /* single '=' in conditions (policy-version-1-2.md, author-sign-policy.md) */
        "version=1.2; authorizationrules { c:[type=\"a\", issuer=\"CustomClaim\"] => permit(); "
        "};",
        /* capitalised keywords */
        "Version= 1.0; Authorizationrules { => Permit(); }; Issuancerules { };",
        /* curly quotes */
        "version=1.0; authorizationrules { [type==\xe2\x80\x9d"
        "a\xe2\x80\x9d] => permit(); };",
        /* missing ';' after rules and sections */
        "version=1.0; authorizationrules { [type==\"a\"] => permit() } issuancerules { }",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
        struct vouch_policy *p = NULL;
        struct vouch_policy_error err;
        struct vouch_claims *c = claims("[{\"type\":\"a\",\"value\":1}]");
        struct vouch_policy_result res;

        assert_int_not_equal(vouch_policy_parse(quirks[i], strlen(quirks[i]), 0, &p, &err),
                             VOUCH_OK);
        assert_null(p);
        assert_true(err.line >= 1);
        p = parse_flags(quirks[i], VOUCH_POLICY_LENIENT);
        assert_int_equal(eval(p, c, &res), VOUCH_POLICY_PERMIT);
        vouch_policy_result_free(&res);
        vouch_claims_free(c);
        vouch_policy_free(p);
    }
    /* Lenient mode is not a free-for-all. */
    expect_error("version=1.0; authorizationrules { [type=\"a\"] => permit() ; ; };",
                 VOUCH_POLICY_LENIENT, VOUCH_ERR_PARSE, 1, 60, "expected a rule");
    expect_error("version=1.0; authorizationrules { => permit(); };", 0x80u, VOUCH_ERR_INVAL, 0, 0,
                 "invalid arguments");
}

static void test_lexical_accepts(void **state)
{
    (void)state;
    /* BOM, comments, CRLF, escapes, negative numbers, UTF-8 strings. */
    assert_int_equal(
        decide("\xef\xbb\xbfversion=1.0;\r\n// comment \xff with any bytes\r\n"
               "authorizationrules {\r\n"
               "  [type==\"q\\\"uote\\\\ \\/\\t\", value==-7] => permit(); // trailing\r\n"
               "  [type==\"\xc3\xa9t\xc3\xa9\", value==\"\xe2\x9c\x93\"] => permit();\r\n"
               "};",
               "[{\"type\":\"q\\\"uote\\\\ /\\t\",\"value\":-7}]"),
        VOUCH_POLICY_PERMIT);
    assert_int_equal(decide("version=1.0; authorizationrules { [type==\"\xc3\xa9t\xc3\xa9\", "
                            "value==\"\xe2\x9c\x93\"] => permit(); };",
                            "[{\"type\":\"\xc3\xa9t\xc3\xa9\",\"value\":\"\xe2\x9c\x93\"}]"),
                     VOUCH_POLICY_PERMIT);
    /* action arguments in either order; spaces around '=' */
    assert_int_equal(
        decide("version = 1.0 ; authorizationrules { => permit ( ) ; } ; issuancerules "
               "{ => issue ( value = 1 , type = \"a\" ) ; } ;",
               "[]"),
        VOUCH_POLICY_PERMIT);
}

/* ---- limits ---- */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
    char *s = malloc(len);
    char *w = s;

    assert_non_null(s);
    w += sprintf(w, "%s", head);
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s", unit);
    sprintf(w, "%s", tail);
    return s;
}

static void test_parse_limits(void **state)
{
    char *s;
    struct vouch_policy *p = NULL;
    struct vouch_policy_error err;
    (void)state;

    /* Size. */
    s = repeat("version=1.0; authorizationrules { => permit(); };", " ", VOUCH_MAX_POLICY_SIZE, "");
    assert_int_equal(vouch_policy_parse(s, strlen(s), 0, &p, &err), VOUCH_ERR_TOO_LARGE);
    assert_null(p);
    assert_non_null(strstr(err.message, "larger than"));
    free(s);

    /* Rules: the limit itself parses, one more fails at that rule. */
    s = repeat("version=1.0; authorizationrules {", "=>permit();", VOUCH_MAX_POLICY_RULES, "};");
    p = parse(s);
    vouch_policy_free(p);
    free(s);
    s = repeat("version=1.0; authorizationrules {", "=>permit();", VOUCH_MAX_POLICY_RULES + 1,
               "};");
    expect_error(s, 0, VOUCH_ERR_TOO_LARGE, 1,
                 (unsigned)(strlen("version=1.0; authorizationrules {") +
                            VOUCH_MAX_POLICY_RULES * strlen("=>permit();") + 1),
                 "more than 512 rules");
    free(s);

    /* Conditions per rule. */
    s = repeat("version=1.0; authorizationrules {[type==\"a\"]", "&&[type==\"a\"]",
               VOUCH_MAX_POLICY_CONDITIONS - 1, "=>permit();};");
    p = parse(s);
    vouch_policy_free(p);
    free(s);
    s = repeat("version=1.0; authorizationrules {[type==\"a\"]", "&&[type==\"a\"]",
               VOUCH_MAX_POLICY_CONDITIONS, "=>permit();};");
    assert_int_equal(vouch_policy_parse(s, strlen(s), 0, &p, &err), VOUCH_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, "conditions in one rule"));
    assert_int_equal(err.line, 1);
    free(s);

    /* Tests per condition. */
    s = repeat("version=1.0; authorizationrules {[type==\"a\"", ",value!=1", VOUCH_MAX_POLICY_TESTS,
               "]=>permit();};");
    assert_int_equal(vouch_policy_parse(s, strlen(s), 0, &p, &err), VOUCH_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, "property tests"));
    free(s);

    /* Nesting of function calls. */
    {
        char buf[1024];
        char inner[512];
        size_t off = 0;
        for (unsigned d = 0; d < VOUCH_MAX_POLICY_EXPR_DEPTH; d++)
            off += (size_t)sprintf(inner + off, "NegateBool(");
        off += (size_t)sprintf(inner + off, "true");
        for (unsigned d = 0; d < VOUCH_MAX_POLICY_EXPR_DEPTH; d++)
            off += (size_t)sprintf(inner + off, ")");
        sprintf(buf,
                "version=1.2; authorizationrules{=>permit();}; issuancerules{ => "
                "issue(type=\"a\", value=%s); };",
                inner);
        p = parse(buf);
        vouch_policy_free(p);
        sprintf(buf,
                "version=1.2; authorizationrules{=>permit();}; issuancerules{ => "
                "issue(type=\"a\", value=NegateBool(%s)); };",
                inner);
        assert_int_equal(vouch_policy_parse(buf, strlen(buf), 0, &p, &err), VOUCH_ERR_TOO_LARGE);
        assert_non_null(strstr(err.message, "nested more than"));
    }

    /* String literal length. */
    s = repeat("version=1.0; authorizationrules {[type==\"", "x", VOUCH_MAX_POLICY_STRING + 1,
               "\"]=>permit();};");
    expect_error(s, 0, VOUCH_ERR_TOO_LARGE, 1, 41, "string literal longer");
    free(s);
    s = repeat("version=1.0; authorizationrules {[type==\"", "x", VOUCH_MAX_POLICY_STRING,
               "\"]=>permit();};");
    p = parse(s);
    vouch_policy_free(p);
    free(s);
}

static void test_eval_limits(void **state)
{
    struct vouch_policy *p;
    struct vouch_claims *c;
    struct vouch_policy_result res;
    char *s;
    (void)state;

    /* Doubling the incoming set hits VOUCH_MAX_CLAIMS cleanly. */
    s = repeat("version=1.0; authorizationrules {", "c:[type==\"a\"] => add(claim=c);", 11,
               "=>permit();};");
    p = parse(s);
    c = claims("[{\"type\":\"a\",\"value\":1}]");
    assert_int_equal(vouch_policy_eval(p, c, &res), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(res.decision, VOUCH_POLICY_DENY);
    assert_null(res.issued);
    assert_non_null(strstr(res.explanation, "authorizationrules rule 11"));
    assert_non_null(strstr(res.explanation, "more than 1024 claims"));
    vouch_policy_result_free(&res);
    vouch_claims_free(c);
    vouch_policy_free(p);
    free(s);

    /* A quadratic join runs out of steps instead of time. */
    {
        struct vouch_claims *big = NULL;
        assert_int_equal(vouch_claims_new(&big), VOUCH_OK);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(vouch_claims_add_int(big, VOUCH_ISSUER_CUSTOM_CLAIM, "n", i),
                             VOUCH_OK);
        p = parse("version=1.0; authorizationrules {"
                  " a:[type==\"n\"] && [type==\"n\", value!=a.value] => deny();"
                  " a:[type==\"n\"] && [type==\"n\", value!=a.value] => deny();"
                  " => permit(); };");
        assert_int_equal(vouch_policy_eval(p, big, &res), VOUCH_ERR_TOO_LARGE);
        assert_non_null(strstr(res.explanation, "steps"));
        assert_int_equal(res.decision, VOUCH_POLICY_DENY);
        vouch_policy_result_free(&res);
        vouch_policy_free(p);
        /* One such join fits the budget. */
        p = parse("version=1.0; authorizationrules {"
                  " a:[type==\"n\"] && [type==\"n\", value==a.value] => permit(); };");
        assert_int_equal(eval(p, big, &res), VOUCH_POLICY_PERMIT);
        vouch_policy_result_free(&res);
        vouch_policy_free(p);
        vouch_claims_free(big);
    }

    /* AppendString cannot grow a value past VOUCH_MAX_CLAIM_VALUE_LEN. */
    s = repeat("version=1.2; authorizationrules {=>permit();}; issuancerules { => add(type=\"s\", "
               "value=\"0123456789abcdef0123456789abcdef\");",
               "c:[type==\"s\"] => add(type=\"s\", value=AppendString(c.value, c.value));", 12,
               "};");
    p = parse(s);
    c = claims("[]");
    /* 32 bytes doubled 11 times is 64 KiB; the rule that needs more fails. */
    assert_int_equal(vouch_policy_eval(p, c, &res), VOUCH_ERR_POLICY);
    assert_non_null(strstr(res.explanation, "single value"));
    vouch_policy_result_free(&res);
    vouch_policy_free(p);
    free(s);
    s = repeat("version=1.2; authorizationrules {=>permit();}; issuancerules { => add(type=\"s0\", "
               "value=\"0123456789abcdef0123456789abcdef\");",
               "", 0, "");
    {
        size_t cap = strlen(s) + 12 * 128 + 16;
        char *t = malloc(cap);
        size_t off;
        assert_non_null(t);
        off = (size_t)sprintf(t, "%s", s);
        for (int i = 0; i < 12; i++)
            off += (size_t)sprintf(t + off,
                                   "c:[type==\"s%d\"] => add(type=\"s%d\", "
                                   "value=AppendString(c.value, c.value));",
                                   i, i + 1);
        sprintf(t + off, "};");
        p = parse(t);
        assert_int_equal(vouch_policy_eval(p, c, &res), VOUCH_ERR_TOO_LARGE);
        assert_non_null(strstr(res.explanation, "AppendString: result longer than 65536"));
        assert_non_null(strstr(res.explanation, "issuancerules rule 13"));
        vouch_policy_result_free(&res);
        vouch_policy_free(p);
        free(t);
    }
    free(s);
    vouch_claims_free(c);
}

/* ---- claims API ---- */

static void test_claims_json(void **state)
{
    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"{}", "must be a JSON array"},
        {"[1]", "claims[0]: not an object"},
        {"[{\"type\":\"a\"}]", "missing \"value\""},
        {"[{\"value\":1}]", "\"type\" must be a non-empty string"},
        {"[{\"type\":\"\",\"value\":1}]", "\"type\" must be a non-empty string"},
        {"[{\"type\":\"a\",\"value\":1,\"isuer\":\"CustomClaim\"}]", "unknown member \"isuer\""},
        {"[{\"type\":\"a\",\"value\":1,\"issuer\":\"Nobody\"}]", "\"issuer\" must be"},
        {"[{\"type\":\"a\",\"value\":1.5}]", "fractional"},
        {"[{\"type\":\"a\",\"value\":[1,2.5]}]", "fractional"},
        {"[{\"type\":\"a\",\"value\":1,\"valueType\":\"String\"}]", "\"valueType\" must"},
        {"[{\"type\":\"a\",\"value\":\"x\",\"valueType\":\"Bool\"}]", "\"valueType\" must"},
    };
    json_t *j, *out;
    struct vouch_claims *c = NULL;
    char err[256];
    char *dump = NULL;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(vouch_json_parse(bad[i].json, strlen(bad[i].json), &j, NULL, 0), VOUCH_OK);
        assert_int_not_equal(vouch_claims_from_json(j, &c, err, sizeof(err)), VOUCH_OK);
        assert_null(c);
        if (!strstr(err, bad[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, err, bad[i].msg);
        json_decref(j);
    }

    c = claims("[{\"type\":\"s\",\"value\":\"x\",\"valueType\":\"String\"},"
               "{\"type\":\"i\",\"value\":2,\"valueType\":\"Integer\",\"issuer\":"
               "\"AttestationPolicy\"},"
               "{\"type\":\"n\",\"value\":null},"
               "{\"type\":\"m\",\"value\":[true,null,false],\"valueType\":\"Boolean\"},"
               "{\"type\":\"o\",\"value\":{\"k\":[1,{\"z\":null}]}},"
               "{\"type\":\"mixed\",\"value\":[1,{\"a\":2}]}]");
    assert_int_equal(vouch_claims_count(c), 6);
    assert_null(find(c, "n", 0));
    assert_int_equal(count_type(c, "m"), 2);
    assert_int_equal(find(c, "i", 0)->issuer, VOUCH_ISSUER_ATTESTATION_POLICY);
    assert_int_equal(find(c, "s", 0)->issuer, VOUCH_ISSUER_CUSTOM_CLAIM);
    /* Structured values reach the policy as their JSON text. */
    assert_str_claim(c, "o", "{\"k\":[1,{\"z\":null}]}");
    assert_str_claim(c, "mixed", "[1,{\"a\":2}]");
    assert_int_equal(vouch_claims_to_json(c, &out), VOUCH_OK);
    assert_int_equal(vouch_json_dump(out, 0, &dump), VOUCH_OK);
    assert_string_equal(dump, "{\"i\":2,\"m\":[true,false],\"mixed\":\"[1,{\\\"a\\\":2}]\",\"o\":"
                              "\"{\\\"k\\\":[1,{\\\"z\\\":null}]}\",\"s\":\"x\"}");
    vouch_free(dump);
    json_decref(out);
    assert_null(vouch_claims_at(c, 6));
    vouch_claims_free(c);

    /* Evidence claims as an object, the service's path. */
    assert_int_equal(vouch_claims_new(&c), VOUCH_OK);
    assert_int_equal(vouch_json_parse("{\"mrenclave\":\"ab\",\"isvsvn\":3,\"debug\":false,"
                                      "\"advisories\":[\"INTEL-SA-00334\",\"INTEL-SA-00615\"]}",
                                      92, &j, err, sizeof(err)),
                     VOUCH_OK);
    assert_int_equal(vouch_claims_add_json_object(c, VOUCH_ISSUER_ATTESTATION_SERVICE, j),
                     VOUCH_OK);
    json_decref(j);
    assert_int_equal(vouch_claims_count(c), 5);
    assert_int_equal(count_type(c, "advisories"), 2);
    assert_int_equal(find(c, "isvsvn", 0)->issuer, VOUCH_ISSUER_ATTESTATION_SERVICE);
    /* A failing object leaves the set unchanged. */
    assert_int_equal(vouch_json_parse("{\"a\":1,\"b\":2.5}", 15, &j, NULL, 0), VOUCH_OK);
    assert_int_equal(vouch_claims_add_json_object(c, VOUCH_ISSUER_ATTESTATION_SERVICE, j),
                     VOUCH_ERR_PARSE);
    json_decref(j);
    assert_int_equal(vouch_claims_count(c), 5);
    {
        /* A multi-valued claim type tested by a deny rule. */
        struct vouch_policy *p = parse("version=1.0; authorizationrules { [type==\"advisories\", "
                                       "value==\"INTEL-SA-00615\"] => deny(); => permit(); };");
        struct vouch_policy_result res;
        assert_int_equal(eval(p, c, &res), VOUCH_POLICY_DENY);
        vouch_policy_result_free(&res);
        vouch_policy_free(p);
    }
    vouch_claims_free(c);
}

static void test_claims_limits(void **state)
{
    struct vouch_claims *c = NULL;
    char type[VOUCH_MAX_CLAIM_TYPE_LEN + 2];
    char *big;
    (void)state;

    assert_int_equal(vouch_claims_new(&c), VOUCH_OK);
    memset(type, 't', sizeof(type) - 1);
    type[sizeof(type) - 1] = 0;
    assert_int_equal(vouch_claims_add_int(c, VOUCH_ISSUER_CUSTOM_CLAIM, type, 1),
                     VOUCH_ERR_TOO_LARGE);
    type[VOUCH_MAX_CLAIM_TYPE_LEN] = 0;
    assert_int_equal(vouch_claims_add_int(c, VOUCH_ISSUER_CUSTOM_CLAIM, type, 1), VOUCH_OK);
    assert_int_equal(vouch_claims_add_int(c, VOUCH_ISSUER_CUSTOM_CLAIM, "", 1), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_claims_add_int(c, (enum vouch_claim_issuer)7, "x", 1), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_claims_add_string(c, VOUCH_ISSUER_CUSTOM_CLAIM, "x", "a\0b", 3),
                     VOUCH_ERR_INVAL);
    assert_int_equal(vouch_claims_add_string(c, VOUCH_ISSUER_CUSTOM_CLAIM, "x", "\xc0\x80", 2),
                     VOUCH_ERR_INVAL);
    assert_int_equal(vouch_claims_add_string(c, VOUCH_ISSUER_CUSTOM_CLAIM, "x", "\xed\xa0\x80", 3),
                     VOUCH_ERR_INVAL);
    assert_int_equal(vouch_claims_add_string(c, VOUCH_ISSUER_CUSTOM_CLAIM, "\xff", "x", 1),
                     VOUCH_ERR_INVAL);
    big = calloc(1, VOUCH_MAX_CLAIM_VALUE_LEN + 2);
    assert_non_null(big);
    memset(big, 'v', VOUCH_MAX_CLAIM_VALUE_LEN + 1);
    assert_int_equal(vouch_claims_add_string(c, VOUCH_ISSUER_CUSTOM_CLAIM, "x", big,
                                             VOUCH_MAX_CLAIM_VALUE_LEN + 1),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(
        vouch_claims_add_string(c, VOUCH_ISSUER_CUSTOM_CLAIM, "x", big, VOUCH_MAX_CLAIM_VALUE_LEN),
        VOUCH_OK);
    free(big);
    for (size_t i = vouch_claims_count(c); i < VOUCH_MAX_CLAIMS; i++)
        assert_int_equal(vouch_claims_add_bool(c, VOUCH_ISSUER_CUSTOM_CLAIM, "b", true), VOUCH_OK);
    assert_int_equal(vouch_claims_add_bool(c, VOUCH_ISSUER_CUSTOM_CLAIM, "b", true),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(vouch_claims_count(c), VOUCH_MAX_CLAIMS);
    vouch_claims_free(c);
    vouch_claims_free(NULL);
}

/* ---- defaults and hash ---- */

static void test_defaults(void **state)
{
    static const struct {
        const char *type;
        const char *hash; /* NULL: ours, not MAA's */
        enum vouch_policy_decision sgx_decision;
        size_t issued;
    } cases[] = {
        {"SgxEnclave", "bROrN897ZfWmWY2V0FLUlu3uwk5xatGnKYHn3zBbSlw", VOUCH_POLICY_PERMIT, 6},
        {"OpenEnclave", "bROrN897ZfWmWY2V0FLUlu3uwk5xatGnKYHn3zBbSlw", VOUCH_POLICY_PERMIT, 6},
        {"SevSnpVm", "9NY0VnTQ-IiBriBplVUpFbczcDaEBUwsiFYAzHu_gco", VOUCH_POLICY_PERMIT, 0},
        {"TdxVm", "9NY0VnTQ-IiBriBplVUpFbczcDaEBUwsiFYAzHu_gco", VOUCH_POLICY_PERMIT, 0},
        {"SimEnclave", NULL, VOUCH_POLICY_DENY, 0},
    };
    const char *text = NULL;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_policy *p;
        struct vouch_claims *c = claims(SGX_CLAIMS);
        struct vouch_policy_result res;
        char hash[VOUCH_POLICY_HASH_LEN + 1];

        assert_int_equal(vouch_policy_default(cases[i].type, &text), VOUCH_OK);
        assert_non_null(text);
        p = parse(text);
        assert_int_equal(eval(p, c, &res), cases[i].sgx_decision);
        assert_int_equal(vouch_claims_count(res.issued), cases[i].issued);
        assert_int_equal(vouch_policy_hash(text, strlen(text), hash), VOUCH_OK);
        assert_int_equal(strlen(hash), VOUCH_POLICY_HASH_LEN);
        if (cases[i].hash)
            assert_string_equal(hash, cases[i].hash);
        vouch_policy_result_free(&res);
        vouch_claims_free(c);
        vouch_policy_free(p);
    }
    /* SNP claims under the SNP default: permitted, nothing issued. */
    assert_int_equal(vouch_policy_default("SevSnpVm", &text), VOUCH_OK);
    assert_int_equal(decide(text, "[{\"type\":\"x-ms-sevsnpvm-is-debuggable\",\"value\":false,"
                                  "\"issuer\":\"AttestationService\"}]"),
                     VOUCH_POLICY_PERMIT);
    assert_int_equal(vouch_policy_default("Tpm", &text), VOUCH_ERR_NOT_FOUND);
    assert_null(text);
    assert_int_equal(vouch_policy_default("sgxenclave", &text), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_policy_default(NULL, &text), VOUCH_ERR_INVAL);
}

static void test_hash(void **state)
{
    char hash[VOUCH_POLICY_HASH_LEN + 1];
    char *big;
    (void)state;

    /* b64url("") is "", and SHA-256("") is e3b0c442...: */
    assert_int_equal(vouch_policy_hash("", 0, hash), VOUCH_OK);
    assert_string_equal(hash, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    /* The hash is over the exact text: one more space changes it. */
    assert_int_equal(vouch_policy_hash("version= 1.0;authorizationrules{=> permit();}; ", 48, hash),
                     VOUCH_OK);
    assert_string_not_equal(hash, "9NY0VnTQ-IiBriBplVUpFbczcDaEBUwsiFYAzHu_gco");
    big = calloc(1, VOUCH_MAX_POLICY_SIZE + 1);
    assert_non_null(big);
    assert_int_equal(vouch_policy_hash(big, VOUCH_MAX_POLICY_SIZE + 1, hash), VOUCH_ERR_TOO_LARGE);
    free(big);
}

/* ---- robustness ---- */

static void test_api_misuse(void **state)
{
    struct vouch_policy *p = parse("version=1.0; authorizationrules { => permit(); };");
    struct vouch_policy_result res;
    struct vouch_claims *props = NULL;
    (void)state;

    assert_int_equal(vouch_policy_eval(p, NULL, &res), VOUCH_ERR_INVAL);
    assert_int_equal(res.decision, VOUCH_POLICY_DENY);
    assert_int_equal(vouch_policy_eval(NULL, NULL, &res), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_policy_eval(p, NULL, NULL), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_policy_properties(NULL, &props), VOUCH_ERR_INVAL);
    {
        struct vouch_policy *q = (struct vouch_policy *)1;
        assert_int_equal(vouch_policy_parse(NULL, 5, 0, &q, NULL), VOUCH_ERR_INVAL);
        assert_null(q);
    }
    assert_string_equal(vouch_policy_version(NULL), "?");
    vouch_policy_free(NULL);
    vouch_policy_result_free(NULL);
    vouch_policy_result_free(&res);
    vouch_policy_free(p);
    /* Not NUL-terminated: the parser reads exactly len bytes. */
    {
        static const char text[] = "version=1.0; authorizationrules { => permit(); };GARBAGE";
        assert_int_equal(vouch_policy_parse(text, strlen(text) - 7, 0, &p, NULL), VOUCH_OK);
        vouch_policy_free(p);
    }
}

/* Every allocation failure is reported as NOMEM and leaks nothing. */
static void test_nomem(void **state)
{
    bool done = false;
    (void)state;

    for (unsigned long n = 1; !done && n < 5000; n++) {
        struct vouch_policy *p = NULL;
        struct vouch_claims *c = NULL, *props = NULL;
        struct vouch_policy_result res = {0};
        json_t *j = NULL;
        vouch_err rc;

        vouch_fault_after(n);
        rc = vouch_policy_parse(p1_text, strlen(p1_text), 0, &p, NULL);
        if (rc == VOUCH_OK)
            rc = vouch_claims_new(&c);
        if (rc == VOUCH_OK)
            rc = vouch_claims_add_string(c, VOUCH_ISSUER_ATTESTATION_SERVICE, "x-ms-sgx-mrsigner",
                                         "ab", 2);
        if (rc == VOUCH_OK)
            rc = vouch_claims_add_int(c, VOUCH_ISSUER_ATTESTATION_SERVICE, "x-ms-sgx-svn", 3);
        if (rc == VOUCH_OK) {
            rc = vouch_policy_eval(p, c, &res);
            /* A failed evaluation hands back nothing. */
            if (rc != VOUCH_OK) {
                assert_null(res.issued);
                assert_int_equal(res.decision, VOUCH_POLICY_DENY);
            }
        }
        if (rc == VOUCH_OK)
            rc = vouch_policy_properties(p, &props);
        if (rc == VOUCH_OK)
            rc = vouch_claims_to_json(res.issued, &j);
        vouch_fault_after(0);
        if (rc == VOUCH_OK) {
            assert_int_equal(res.decision, VOUCH_POLICY_PERMIT);
            assert_int_equal(vouch_claims_count(res.issued), 2);
            assert_int_equal(vouch_claims_count(props), 1);
            assert_int_equal(json_object_size(j), 2);
            done = true;
        } else {
            assert_int_equal(rc, VOUCH_ERR_NOMEM);
        }
        json_decref(j);
        vouch_policy_result_free(&res);
        vouch_claims_free(props);
        vouch_claims_free(c);
        vouch_policy_free(p);
    }
    assert_true(done);
}

/* Deterministic mutations of the example policies never crash the parser,
 * and whatever parses also evaluates. */
static void test_mutations(void **state)
{
    const char *seeds[] = {p1_text, p2_text, p3_text, p4_text, p6_text};
    struct vouch_claims *c = claims(SGX_CLAIMS);
    uint32_t x = 12345;
    (void)state;

    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        size_t len = strlen(seeds[s]);
        char *buf = malloc(len);
        assert_non_null(buf);
        for (int round = 0; round < 400; round++) {
            struct vouch_policy *p = NULL;
            struct vouch_policy_error err;
            size_t cut = len;
            memcpy(buf, seeds[s], len);
            for (int k = 0; k < 1 + round % 4; k++) {
                x = x * 1103515245u + 12345u;
                buf[(x >> 8) % len] = (char)(x >> 24);
            }
            if (round % 5 == 0) {
                x = x * 1103515245u + 12345u;
                cut = (x >> 8) % len;
            }
            if (vouch_policy_parse(buf, cut, round % 2 ? VOUCH_POLICY_LENIENT : 0, &p, &err) ==
                VOUCH_OK) {
                struct vouch_policy_result res;
                vouch_err rc = vouch_policy_eval(p, c, &res);
                assert_true(rc == VOUCH_OK || rc == VOUCH_ERR_POLICY || rc == VOUCH_ERR_TOO_LARGE);
                vouch_policy_result_free(&res);
                vouch_policy_free(p);
            } else {
                assert_true(err.message[0] != 0);
                assert_true(err.line >= 1 && err.column >= 1);
            }
        }
        free(buf);
    }
    vouch_claims_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p1_default_sgx),
        cmocka_unit_test(test_p2_custom_sgx),
        cmocka_unit_test(test_p3_key_rotation),
        cmocka_unit_test(test_p4_tpm_config),
        cmocka_unit_test(test_p5_deny_all),
        cmocka_unit_test(test_p6_custom_claim),
        cmocka_unit_test(test_extra_examples),
        cmocka_unit_test(test_absence),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_issuer_conditions),
        cmocka_unit_test(test_bindings),
        cmocka_unit_test(test_permit_deny_order),
        cmocka_unit_test(test_add_and_properties),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_function_errors),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_lenient),
        cmocka_unit_test(test_lexical_accepts),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_eval_limits),
        cmocka_unit_test(test_claims_json),
        cmocka_unit_test(test_claims_limits),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
