/*
 * Built-in policies per attestation type, and MAA's x-ms-policy-hash.
 *
 * The SGX and SEV-SNP texts are byte for byte what Azure Attestation's shared
 * providers run: hashing them as below reproduces the x-ms-policy-hash of a
 * recorded MAA SGX token (azure-sdk-for-js recording, 2022-01-28:
 * bROrN897ZfWmWY2V0FLUlu3uwk5xatGnKYHn3zBbSlw) and of MAA's sample SEV-SNP
 * token (9NY0VnTQ-IiBriBplVUpFbczcDaEBUwsiFYAzHu_gco). Keeping them exact lets
 * a relying party that pins MAA's default-policy hash accept our tokens.
 */
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/policy.h>

#include "policy/policy_int.h"

static const char sgx_default[] =
    "version= 1.0;authorizationrules{=> permit();};issuancerules{"
    "c:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);"
    "c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);"
    "c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);"
    "c:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);"
    "c:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);"
    "c:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);};";

static const char permit_default[] = "version= 1.0;authorizationrules{=> permit();};";

static const char sim_default[] =
    "version=1.0;\n"
    "// Software-TEE evidence gives no protection from the host. Accepting it\n"
    "// must be a deliberate choice: set a policy for SimEnclave to do so.\n"
    "authorizationrules {\n"
    "    => deny();\n"
    "};\n"
    "issuancerules {\n"
    "};\n";

struct default_policy {
    const char *type; /* attestation type as in the REST path */
    const char *text; /* NULL: no default */
};

static const struct default_policy defaults[] = {
    {"SgxEnclave", sgx_default}, {"OpenEnclave", sgx_default}, {"SevSnpVm", permit_default},
    {"TdxVm", permit_default},   {"SimEnclave", sim_default},  {"Tpm", NULL},
};

vouch_err vouch_policy_default(const char *attestation_type, const char **out)
{
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!attestation_type)
        return VOUCH_ERR_INVAL;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        if (strcmp(defaults[i].type, attestation_type) == 0) {
            if (!defaults[i].text)
                return VOUCH_ERR_NOT_FOUND;
            *out = defaults[i].text;
            return VOUCH_OK;
        }
    }
    return VOUCH_ERR_INVAL;
}

vouch_err vouch_policy_hash(const char *text, size_t len, char out[VOUCH_POLICY_HASH_LEN + 1])
{
    uint8_t digest[VOUCH_SHA256_LEN];
    char *b64 = NULL;
    size_t b64_len;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    out[0] = 0;
    if (!text && len)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_POLICY_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    /* MAA hashes the base64url form that travels inside the policy JWS. */
    b64_len = vouch_base64_encoded_len(len, true);
    b64 = vouch_malloc(b64_len + 1);
    if (!b64)
        return VOUCH_ERR_NOMEM;
    vouch_base64_encode((const uint8_t *)(text ? text : ""), len, true, b64);
    if ((rc = vouch_sha256(b64, b64_len, digest)) != VOUCH_OK)
        goto out;
    if (vouch_base64_encoded_len(sizeof(digest), true) != VOUCH_POLICY_HASH_LEN) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    vouch_base64_encode(digest, sizeof(digest), true, out);
    rc = VOUCH_OK;
out:
    vouch_free(b64);
    return rc;
}
