/*
 * The OpenID discovery document MAA serves at
 * /.well-known/openid-configuration. Clients read jwks_uri and issuer from
 * it (the Python SDK's live tests assert both, without a trailing slash), so
 * those two must be exact; the claim list is MAA's, as quoted in the
 * reference.
 */
#include <string.h>
#include <vouch/buf.h>
#include <vouch/mem.h>

#include "token/token_int.h"

/* Long enough for any real host name plus a path. */
#define ISSUER_MAX 1024u

static const char *const maa_claims[] = {
    "cnf",
    "nonce",
    "x-ms-ver",
    "x-ms-attestation-type",
    "x-ms-policy-hash",
    "x-ms-policy-signer",
    "x-ms-sgx-is-debuggable",
    "x-ms-sgx-mrenclave",
    "x-ms-sgx-mrsigner",
    "x-ms-sgx-svn",
    "x-ms-sgx-ehd",
    "x-ms-sgx-collateral",
    "is-debuggable",
    "sgx-mrsigner",
    "sgx-mrenclave",
    "product-id",
    "svn",
    "tee",
};

static bool issuer_ok(const char *iss)
{
    size_t n = strlen(iss);
    size_t scheme;

    if (strncmp(iss, "https://", 8) == 0)
        scheme = 8;
    else if (strncmp(iss, "http://", 7) == 0)
        scheme = 7;
    else
        return false;
    if (n <= scheme || n > ISSUER_MAX || iss[n - 1] == '/')
        return false;
    for (size_t i = scheme; i < n; i++) {
        unsigned char c = (unsigned char)iss[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '"' || c == '\\')
            return false;
    }
    return true;
}

static vouch_err url(const char *base, const char *path, json_t **out)
{
    struct vouch_buf b;
    vouch_err rc;

    *out = NULL;
    vouch_buf_init(&b, ISSUER_MAX + 64u);
    if ((rc = vouch_buf_printf(&b, "%s%s", base, path)) == VOUCH_OK) {
        *out = json_string((const char *)b.data);
        rc = *out ? VOUCH_OK : VOUCH_ERR_NOMEM;
    }
    vouch_buf_free(&b);
    return rc;
}

vouch_err vouch_token_openid_config(const char *issuer, unsigned algs, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *doc = NULL;
    json_t *arr = NULL;
    json_t *v = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!issuer || !issuer_ok(issuer))
        return VOUCH_ERR_INVAL;
    if (algs == 0)
        algs = VOUCH_TOKEN_ALGS_DEFAULT;
    if ((algs & VOUCH_TOKEN_ALGS_DEFAULT) == 0 || (algs & ~VOUCH_TOKEN_ALGS_DEFAULT) != 0)
        return VOUCH_ERR_INVAL;
    doc = json_object();
    if (!doc)
        return VOUCH_ERR_NOMEM;
    rc = VOUCH_ERR_NOMEM;
    if (json_object_set_new(doc, "response_types_supported", json_pack("[ss]", "token", "none")))
        goto out;
    arr = json_array();
    if (!arr)
        goto out;
    for (int a = VOUCH_SIG_RS256; a <= VOUCH_SIG_ES256; a++) {
        if ((algs & VOUCH_TOKEN_ALG(a)) &&
            json_array_append_new(arr, json_string(vouch_sig_alg_name((enum vouch_sig_alg)a))))
            goto out;
    }
    if (json_object_set_new(doc, "id_token_signing_alg_values_supported", arr)) {
        arr = NULL;
        goto out;
    }
    arr = NULL;
    if ((rc = url(issuer, "/revoke", &v)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (json_object_set_new(doc, "revocation_endpoint", v))
        goto out;
    if (json_object_set_new(doc, "issuer", json_string(issuer)))
        goto out;
    if ((rc = url(issuer, "/certs", &v)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (json_object_set_new(doc, "jwks_uri", v))
        goto out;
    arr = json_array();
    if (!arr)
        goto out;
    for (size_t i = 0; i < sizeof(maa_claims) / sizeof(maa_claims[0]); i++) {
        if (json_array_append_new(arr, json_string(maa_claims[i])))
            goto out;
    }
    if (json_object_set_new(doc, "claims_supported", arr)) {
        arr = NULL;
        goto out;
    }
    arr = NULL;
    *out = doc;
    doc = NULL;
    rc = VOUCH_OK;
out:
    json_decref(arr);
    json_decref(doc);
    return rc;
}
