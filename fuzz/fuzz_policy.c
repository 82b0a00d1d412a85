/*
 * Fuzz target for the policy language: parse the input strictly and
 * leniently; whatever parses is evaluated against a fixed claim set (or, when
 * the input holds a "\n#CLAIMS\n" line, against the JSON claims after it) and
 * hashed. Nothing may crash, leak or run away.
 */
#include <stdint.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char default_claims[] =
    "[{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":false,\"issuer\":\"AttestationService\"},"
    "{\"type\":\"x-ms-sgx-mrsigner\",\"value\":\"2c1a\",\"issuer\":\"AttestationService\"},"
    "{\"type\":\"x-ms-sgx-svn\",\"value\":1,\"issuer\":\"AttestationService\"},"
    "{\"type\":\"a\",\"value\":[1,2,3]},{\"type\":\"s\",\"value\":\"[0,\\\"x\\\",true,null]\"},"
    "{\"type\":\"j\",\"value\":{\"k\":[1,2]}},{\"type\":\"b\",\"value\":true}]";

static struct vouch_claims *load_claims(const char *text, size_t len)
{
    struct vouch_claims *c = NULL;
    json_t *j = NULL;

    if (vouch_json_parse(text, len, &j, NULL, 0) != VOUCH_OK)
        return NULL;
    if (vouch_claims_from_json(j, &c, NULL, 0) != VOUCH_OK)
        c = NULL;
    json_decref(j);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n#CLAIMS\n";
    const char *text = (const char *)data;
    size_t policy_len = size;
    struct vouch_claims *claims = NULL;
    char hash[VOUCH_POLICY_HASH_LEN + 1];

    for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++) {
        if (memcmp(text + i, sep, sizeof(sep) - 1) == 0) {
            policy_len = i;
            claims = load_claims(text + i + sizeof(sep) - 1, size - i - (sizeof(sep) - 1));
            break;
        }
    }
    if (!claims)
        claims = load_claims(default_claims, strlen(default_claims));
    if (!claims)
        return 0;
    for (unsigned flags = 0; flags <= VOUCH_POLICY_LENIENT; flags++) {
        struct vouch_policy *p = NULL;
        struct vouch_policy_error err;
        struct vouch_policy_result res;
        struct vouch_claims *props = NULL;
        json_t *j = NULL;

        if (vouch_policy_parse(text, policy_len, flags, &p, &err) != VOUCH_OK)
            continue;
        if (vouch_policy_eval(p, claims, &res) == VOUCH_OK &&
            vouch_claims_to_json(res.issued, &j) == VOUCH_OK)
            json_decref(j);
        vouch_policy_result_free(&res);
        if (vouch_policy_properties(p, &props) == VOUCH_OK)
            vouch_claims_free(props);
        vouch_policy_free(p);
    }
    if (vouch_policy_hash(text, policy_len, hash) != VOUCH_OK)
        hash[0] = 0;
    vouch_claims_free(claims);
    return 0;
}
