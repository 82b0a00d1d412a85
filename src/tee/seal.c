/*
 * Sealing (include/vouch/seal.h): key derivation and the AES-256-GCM blob.
 */
#include <string.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/seal.h>

#define SEAL_MAGIC "VSEA"
#define SEAL_SALT  "vouch-seal-v1"
/* info = policy, backend, identity (<= 34 bytes), debug, svn, key_id */
#define SEAL_INFO_MAX (1u + 1u + 34u + 1u + 2u + VOUCH_SEAL_KEY_ID_LEN)

static bool policy_ok(enum vouch_seal_policy p)
{
    return p == VOUCH_SEAL_POLICY_UNIQUE || p == VOUCH_SEAL_POLICY_PRODUCT;
}

static bool backend_ok(enum vouch_tee_backend b)
{
    return b == VOUCH_TEE_BACKEND_SIM || b == VOUCH_TEE_BACKEND_SNP || b == VOUCH_TEE_BACKEND_TDX;
}

vouch_err vouch_seal_derive_key(const uint8_t secret[VOUCH_SIM_SEAL_SECRET_LEN],
                                const struct vouch_sim_identity *id,
                                const struct vouch_seal_key_request *req,
                                uint8_t key[VOUCH_SEAL_KEY_LEN])
{
    uint8_t info[SEAL_INFO_MAX];
    size_t n = 0;
    vouch_err rc;

    if (!secret || !id || !req || !key)
        return VOUCH_ERR_INVAL;
    if (!policy_ok(req->policy) || !backend_ok(req->backend))
        return VOUCH_ERR_INVAL;
    /* Like EGETKEY: keys of a newer security version are out of reach, so a
     * patched enclave's data cannot be read by the vulnerable old one. */
    if (req->svn > id->svn)
        return VOUCH_ERR_POLICY;
    info[n++] = (uint8_t)req->policy;
    info[n++] = (uint8_t)req->backend;
    if (req->policy == VOUCH_SEAL_POLICY_UNIQUE) {
        memcpy(info + n, id->measurement, 32);
        n += 32;
    } else {
        memcpy(info + n, id->signer_id, 32);
        n += 32;
        info[n++] = (uint8_t)id->product_id;
        info[n++] = (uint8_t)(id->product_id >> 8);
    }
    /* Like EGETKEY, which always mixes in ATTRIBUTES.DEBUG: a debug build of
     * the same product (whose state its host may inspect) must never derive
     * the production enclave's PRODUCT key. */
    info[n++] = id->debug ? 1u : 0u;
    info[n++] = (uint8_t)req->svn;
    info[n++] = (uint8_t)(req->svn >> 8);
    memcpy(info + n, req->key_id, VOUCH_SEAL_KEY_ID_LEN);
    n += VOUCH_SEAL_KEY_ID_LEN;
    rc = vouch_hkdf_sha256(secret, VOUCH_SIM_SEAL_SECRET_LEN, SEAL_SALT, sizeof(SEAL_SALT) - 1,
                           info, n, key, VOUCH_SEAL_KEY_LEN);
    vouch_wipe(info, sizeof(info));
    return rc;
}

vouch_err vouch_seal_blob_len(size_t plain_len, size_t *out)
{
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = 0;
    if (plain_len > VOUCH_MAX_SEAL_PLAINTEXT)
        return VOUCH_ERR_TOO_LARGE;
    *out = plain_len + VOUCH_SEAL_OVERHEAD;
    return VOUCH_OK;
}

static void write_header(uint8_t *h, const struct vouch_seal_header *hd)
{
    memcpy(h, SEAL_MAGIC, 4);
    h[4] = (uint8_t)hd->version;
    h[5] = (uint8_t)(hd->version >> 8);
    h[6] = (uint8_t)hd->policy;
    h[7] = (uint8_t)hd->backend;
    h[8] = (uint8_t)hd->svn;
    h[9] = (uint8_t)(hd->svn >> 8);
    h[10] = 0;
    h[11] = 0;
    memcpy(h + 12, hd->key_id, VOUCH_SEAL_KEY_ID_LEN);
    memcpy(h + 44, hd->nonce, VOUCH_SEAL_NONCE_LEN);
    for (int i = 0; i < 4; i++)
        h[56 + i] = (uint8_t)(hd->ciphertext_len >> (8 * i));
}

vouch_err vouch_seal(vouch_seal_key_fn get_key, void *ctx, enum vouch_seal_policy policy,
                     enum vouch_tee_backend backend, uint16_t svn, const void *plain,
                     size_t plain_len, const void *aad, size_t aad_len, uint8_t *out,
                     size_t out_cap, size_t *out_len)
{
    struct vouch_seal_header hd;
    struct vouch_seal_key_request req;
    uint8_t key[VOUCH_SEAL_KEY_LEN];
    size_t total;
    vouch_err rc;

    if (!out_len)
        return VOUCH_ERR_INVAL;
    *out_len = 0;
    if (!get_key || !out || (plain_len && !plain) || (aad_len && !aad) || !policy_ok(policy) ||
        !backend_ok(backend))
        return VOUCH_ERR_INVAL;
    if (aad_len > VOUCH_MAX_SEAL_AAD)
        return VOUCH_ERR_TOO_LARGE;
    if ((rc = vouch_seal_blob_len(plain_len, &total)) != VOUCH_OK)
        return rc;
    if (out_cap < total)
        return VOUCH_ERR_TOO_LARGE;
    memset(&hd, 0, sizeof(hd));
    hd.version = VOUCH_SEAL_VERSION;
    hd.policy = policy;
    hd.backend = backend;
    hd.svn = svn;
    hd.ciphertext_len = (uint32_t)plain_len;
    /* A fresh key id per blob gives every blob its own key, so the random
     * 96-bit nonce is never reused under one key. */
    if ((rc = vouch_random(hd.key_id, sizeof(hd.key_id))) != VOUCH_OK ||
        (rc = vouch_random(hd.nonce, sizeof(hd.nonce))) != VOUCH_OK)
        return rc;
    memset(&req, 0, sizeof(req));
    req.policy = policy;
    req.backend = backend;
    req.svn = svn;
    memcpy(req.key_id, hd.key_id, sizeof(req.key_id));
    if ((rc = get_key(ctx, &req, key)) != VOUCH_OK)
        goto out;
    write_header(out, &hd);
    rc = vouch_aes256gcm_encrypt(key, hd.nonce, out, VOUCH_SEAL_HEADER_LEN, aad, aad_len, plain,
                                 plain_len, out + VOUCH_SEAL_HEADER_LEN,
                                 out + VOUCH_SEAL_HEADER_LEN + plain_len);
    if (rc != VOUCH_OK) {
        vouch_wipe(out, total);
        goto out;
    }
    *out_len = total;
out:
    vouch_wipe(key, sizeof(key));
    return rc;
}

vouch_err vouch_seal_parse(const uint8_t *blob, size_t len, struct vouch_seal_header *out)
{
    struct vouch_reader r;
    const uint8_t *magic = NULL;
    uint8_t policy = 0, backend = 0;
    uint16_t reserved = 0;
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if (!blob)
        return VOUCH_ERR_INVAL;
    vouch_reader_init(&r, blob, len);
    if (vouch_reader_view(&r, 4, &magic) != VOUCH_OK || vouch_reader_u16le(&r, &out->version) ||
        vouch_reader_u8(&r, &policy) || vouch_reader_u8(&r, &backend) ||
        vouch_reader_u16le(&r, &out->svn) || vouch_reader_u16le(&r, &reserved) ||
        vouch_reader_copy(&r, out->key_id, sizeof(out->key_id)) ||
        vouch_reader_copy(&r, out->nonce, sizeof(out->nonce)) ||
        vouch_reader_u32le(&r, &out->ciphertext_len)) {
        rc = VOUCH_ERR_TRUNCATED;
        goto fail;
    }
    if (memcmp(magic, SEAL_MAGIC, 4) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto fail;
    }
    if (out->version != VOUCH_SEAL_VERSION) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto fail;
    }
    out->policy = (enum vouch_seal_policy)policy;
    out->backend = (enum vouch_tee_backend)backend;
    if (!policy_ok(out->policy) || !backend_ok(out->backend) || reserved != 0) {
        rc = VOUCH_ERR_PARSE;
        goto fail;
    }
    if (out->ciphertext_len > VOUCH_MAX_SEAL_PLAINTEXT) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto fail;
    }
    /* Exact length: the declared ciphertext, the tag, nothing else. */
    if (vouch_reader_left(&r) != (size_t)out->ciphertext_len + VOUCH_SEAL_TAG_LEN) {
        rc = vouch_reader_left(&r) < (size_t)out->ciphertext_len + VOUCH_SEAL_TAG_LEN
                 ? VOUCH_ERR_TRUNCATED
                 : VOUCH_ERR_PARSE;
        goto fail;
    }
    return VOUCH_OK;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

vouch_err vouch_unseal(vouch_seal_key_fn get_key, void *ctx, enum vouch_tee_backend backend,
                       uint16_t own_svn, const uint8_t *blob, size_t blob_len, const void *aad,
                       size_t aad_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct vouch_seal_header hd;
    struct vouch_seal_key_request req;
    uint8_t key[VOUCH_SEAL_KEY_LEN];
    vouch_err rc;

    if (!out_len)
        return VOUCH_ERR_INVAL;
    *out_len = 0;
    if (!get_key || (aad_len && !aad) || (out_cap && !out))
        return VOUCH_ERR_INVAL;
    if (aad_len > VOUCH_MAX_SEAL_AAD)
        return VOUCH_ERR_TOO_LARGE;
    if ((rc = vouch_seal_parse(blob, blob_len, &hd)) != VOUCH_OK)
        return rc;
    /* A blob from another backend is never accepted, even if a key for it
     * could be derived: a software blob must not pass as a hardware one. */
    if (hd.backend != backend)
        return VOUCH_ERR_MISMATCH;
    if (hd.svn > own_svn)
        return VOUCH_ERR_POLICY;
    if (out_cap < hd.ciphertext_len)
        return VOUCH_ERR_TOO_LARGE;
    memset(&req, 0, sizeof(req));
    req.policy = hd.policy;
    req.backend = hd.backend;
    req.svn = hd.svn;
    memcpy(req.key_id, hd.key_id, sizeof(req.key_id));
    if ((rc = get_key(ctx, &req, key)) != VOUCH_OK)
        goto out;
    rc = vouch_aes256gcm_decrypt(key, hd.nonce, blob, VOUCH_SEAL_HEADER_LEN, aad, aad_len,
                                 blob + VOUCH_SEAL_HEADER_LEN, hd.ciphertext_len,
                                 blob + VOUCH_SEAL_HEADER_LEN + hd.ciphertext_len, out);
    if (rc == VOUCH_OK)
        *out_len = hd.ciphertext_len;
out:
    vouch_wipe(key, sizeof(key));
    return rc;
}
