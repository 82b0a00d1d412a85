/*
 * What an attestation key must be before any trust path (certificate,
 * credential activation, allow-list) may vouch for it (vouch/tpm.h).
 */
#include <stdio.h>
#include <vouch/tpm.h>

static vouch_err refuse(char *why, size_t cap, const char *msg)
{
    if (why && cap)
        snprintf(why, cap, "%s", msg);
    return VOUCH_ERR_POLICY;
}

vouch_err vouch_tpm_ak_check(const struct vouch_tpm_public *pub, char *why, size_t cap)
{
    static const struct {
        uint32_t bit;
        const char *missing;
    } need[] = {
        {VOUCH_TPMA_FIXED_TPM, "the AK is not fixedTPM: it may leave its TPM"},
        {VOUCH_TPMA_FIXED_PARENT, "the AK is not fixedParent: it may be duplicated"},
        {VOUCH_TPMA_SENSITIVE_DATA_ORIGIN,
         "the AK lacks sensitiveDataOrigin: its private key was imported"},
        {VOUCH_TPMA_RESTRICTED,
         "the AK is not restricted: it would sign outside data that looks like a quote"},
        {VOUCH_TPMA_SIGN_ENCRYPT, "the AK is not a signing key"},
    };

    if (why && cap)
        why[0] = 0;
    if (!pub)
        return VOUCH_ERR_INVAL;
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (!(pub->attributes & need[i].bit))
            return refuse(why, cap, need[i].missing);
    if (pub->attributes & VOUCH_TPMA_DECRYPT)
        return refuse(why, cap, "the AK can decrypt: an AK must be a pure signing key");
    if (pub->name_alg != VOUCH_TPM_ALG_SHA256 && pub->name_alg != VOUCH_TPM_ALG_SHA384 &&
        pub->name_alg != VOUCH_TPM_ALG_SHA512)
        return refuse(why, cap, "the AK's Name is not hashed with SHA-256 or stronger");
    return VOUCH_OK;
}
