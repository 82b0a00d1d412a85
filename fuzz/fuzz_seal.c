/*
 * Fuzz target: sealed blobs. Header parsing and unsealing with a fixed
 * platform secret and identity (those the seed corpus was sealed with), so
 * the key derivation and GCM paths are reached as well as the refusals.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/seal.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vouch_err provider(void *ctx, const struct vouch_seal_key_request *req,
                          uint8_t key[VOUCH_SEAL_KEY_LEN])
{
    static const uint8_t secret[VOUCH_SIM_SEAL_SECRET_LEN] = {
        0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
        0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
        0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};
    return vouch_seal_derive_key(secret, ctx, req, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_sim_identity id = {.product_id = 1, .svn = 5};
    struct vouch_seal_header h;
    uint8_t *out;
    size_t out_len = 0;

    memset(id.measurement, 0xa1, sizeof(id.measurement));
    memset(id.signer_id, 0x5e, sizeof(id.signer_id));
    if (vouch_seal_parse(data, size, &h) != VOUCH_OK)
        return 0;
    out = vouch_malloc(h.ciphertext_len + 1u);
    if (!out)
        return 0;
    if (vouch_unseal(provider, &id, VOUCH_TEE_BACKEND_SIM, id.svn, data, size, NULL, 0, out,
                     h.ciphertext_len, &out_len) == VOUCH_OK &&
        out_len != h.ciphertext_len)
        __builtin_trap(); /* an accepted blob yields exactly its plaintext */
    vouch_free(out);
    return 0;
}
