/* Error names and messages. */
#include <vouch/err.h>
#include <vouch/version.h>

static const struct {
    const char *name;
    const char *msg;
} errs[VOUCH_ERR__COUNT] = {
    [VOUCH_OK] = {"ok", "success"},
    [VOUCH_ERR_NOMEM] = {"nomem", "out of memory"},
    [VOUCH_ERR_INVAL] = {"inval", "invalid argument"},
    [VOUCH_ERR_PARSE] = {"parse", "malformed input"},
    [VOUCH_ERR_TRUNCATED] = {"truncated", "input is truncated"},
    [VOUCH_ERR_TOO_LARGE] = {"too_large", "input exceeds a size limit"},
    [VOUCH_ERR_UNSUPPORTED] = {"unsupported", "unsupported version or type"},
    [VOUCH_ERR_CRYPTO] = {"crypto", "cryptographic library failure"},
    [VOUCH_ERR_SIGNATURE] = {"signature", "signature does not verify"},
    [VOUCH_ERR_CHAIN] = {"chain", "certificate chain does not lead to a trusted root"},
    [VOUCH_ERR_REVOKED] = {"revoked", "certificate is revoked"},
    [VOUCH_ERR_EXPIRED] = {"expired", "outside its validity window"},
    [VOUCH_ERR_MISMATCH] = {"mismatch", "objects that must agree do not"},
    [VOUCH_ERR_VERIFY] = {"verify", "verification failed"},
    [VOUCH_ERR_POLICY] = {"policy", "rejected by policy"},
    [VOUCH_ERR_NOT_FOUND] = {"not_found", "not found"},
    [VOUCH_ERR_IO] = {"io", "input/output error"},
    [VOUCH_ERR_STORE] = {"store", "persistent store failure"},
    [VOUCH_ERR_BUSY] = {"busy", "busy, try again"},
    [VOUCH_ERR_INTERNAL] = {"internal", "internal error"},
    [VOUCH_ERR_ENCLAVE] = {"enclave", "the enclave died or broke the call protocol"},
    [VOUCH_ERR_DENIED] = {"denied", "not authorised"},
};

const char *vouch_strerror(vouch_err err)
{
    if ((unsigned)err >= VOUCH_ERR__COUNT)
        return "unknown error";
    return errs[err].msg;
}

const char *vouch_err_name(vouch_err err)
{
    if ((unsigned)err >= VOUCH_ERR__COUNT)
        return "unknown";
    return errs[err].name;
}

unsigned vouch_version_num(void)
{
    return VOUCH_VERSION_NUM;
}

const char *vouch_version_string(void)
{
    return VOUCH_VERSION_STRING;
}
