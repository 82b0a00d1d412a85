/*
 * Sealing: encrypting data so that only the same enclave (policy UNIQUE) or
 * any enclave of the same signer and product (policy PRODUCT) on the same
 * platform can decrypt it, like SGX's EGETKEY-based sealing.
 *
 * Keys. A seal key is HKDF-SHA256 (RFC 5869) with
 *     IKM  = the platform seal secret (32 bytes, sim.h; never leaves the agent)
 *     salt = "vouch-seal-v1"
 *     info = u8 policy || u8 backend || identity || u8 debug || u16le svn || key_id[32]
 * where identity is the measurement (UNIQUE) or signer_id || u16le product_id
 * (PRODUCT) and debug is 1 for a debug enclave, else 0 (so a debug build never
 * gets a production enclave's keys, as with SGX's ATTRIBUTES.DEBUG).
 * vouch_seal_derive_key computes it and refuses an svn above the enclave's
 * own, so an enclave can derive the keys of its own and older security
 * versions but never of newer ones. In the software backend the
 * loader's platform agent derives keys on the enclave's request; the enclave
 * passes them in through the key-provider callback.
 *
 * Blob format (little-endian), VOUCH_SEAL_HEADER_LEN bytes of header:
 *
 *     off len  field
 *       0   4  magic "VSEA"
 *       4   2  version (VOUCH_SEAL_VERSION; any other value is refused)
 *       6   1  policy (enum vouch_seal_policy)
 *       7   1  backend (enum vouch_tee_backend)
 *       8   2  svn the blob was sealed under
 *      10   2  reserved, must be zero
 *      12  32  key_id (random per blob: every blob has its own key)
 *      44  12  AES-GCM nonce (random)
 *      56   4  ciphertext length N (<= VOUCH_MAX_SEAL_PLAINTEXT)
 *      60   N  ciphertext
 *   60+N   16  GCM tag
 *
 * Total length is exactly 76 + N. The AAD is the whole 60-byte header followed
 * by the caller's optional additional data, so policy, key id, svn and backend
 * cannot be changed without the tag failing. Unsealing derives the key for the
 * blob's svn, which the key provider refuses when it is above the enclave's
 * own: a newer enclave reads older blobs, an older one never reads newer blobs.
 * Blobs are not protected against rollback (a host may hand back an old blob).
 *
 * Output buffers are the caller's (no allocation), so the enclave runtime can
 * pass memory from its own heap. Every key is wiped after use.
 */
#ifndef VOUCH_SEAL_H
#define VOUCH_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_SEAL_VERSION    1u
#define VOUCH_SEAL_KEY_LEN    32u
#define VOUCH_SEAL_KEY_ID_LEN 32u
#define VOUCH_SEAL_NONCE_LEN  12u
#define VOUCH_SEAL_TAG_LEN    16u
#define VOUCH_SEAL_HEADER_LEN 60u
/* Bytes a blob adds to its plaintext. */
#define VOUCH_SEAL_OVERHEAD (VOUCH_SEAL_HEADER_LEN + VOUCH_SEAL_TAG_LEN)

enum vouch_seal_policy {
    VOUCH_SEAL_POLICY_UNIQUE = 1,  /* bound to the measurement */
    VOUCH_SEAL_POLICY_PRODUCT = 2, /* bound to signer_id + product_id */
};

/* What a key provider is asked for. */
struct vouch_seal_key_request {
    enum vouch_seal_policy policy;
    enum vouch_tee_backend backend;
    uint16_t svn;
    uint8_t key_id[VOUCH_SEAL_KEY_ID_LEN];
};

/**
 * Derives the seal key for @p req from @p secret and @p id (see above) into
 * @p key. POLICY when req->svn > id->svn; INVAL for an unknown policy or
 * backend.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_seal_derive_key(
    const uint8_t secret[VOUCH_SIM_SEAL_SECRET_LEN], const struct vouch_sim_identity *id,
    const struct vouch_seal_key_request *req, uint8_t key[VOUCH_SEAL_KEY_LEN]);

/**
 * A key provider: writes the key for @p req to @p key or returns an error
 * (which vouch_seal/vouch_unseal pass on). In the enclave it asks the platform
 * agent; on the host side it can call vouch_seal_derive_key.
 */
typedef vouch_err (*vouch_seal_key_fn)(void *ctx, const struct vouch_seal_key_request *req,
                                       uint8_t key[VOUCH_SEAL_KEY_LEN]);

/* A parsed blob header (untrusted until the tag verifies). */
struct vouch_seal_header {
    uint16_t version;
    enum vouch_seal_policy policy;
    enum vouch_tee_backend backend;
    uint16_t svn;
    uint8_t key_id[VOUCH_SEAL_KEY_ID_LEN];
    uint8_t nonce[VOUCH_SEAL_NONCE_LEN];
    uint32_t ciphertext_len;
};

/** Length of the blob for @p plain_len bytes; TOO_LARGE above the limit. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_seal_blob_len(size_t plain_len, size_t *out);

/**
 * Seals @p plain under @p policy for an enclave of security version @p svn on
 * @p backend, with a fresh random key id and nonce, and the optional @p aad
 * (not stored; the same bytes must be given to unseal). Writes the blob to
 * @p out (@p out_cap bytes; TOO_LARGE when short).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_seal(vouch_seal_key_fn get_key, void *ctx,
                                               enum vouch_seal_policy policy,
                                               enum vouch_tee_backend backend, uint16_t svn,
                                               const void *plain, size_t plain_len, const void *aad,
                                               size_t aad_len, uint8_t *out, size_t out_cap,
                                               size_t *out_len);

/** Parses a blob's header and checks its exact length (no decryption). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_seal_parse(const uint8_t *blob, size_t len,
                                                     struct vouch_seal_header *out);

/**
 * Unseals @p blob for an enclave of security version @p own_svn on @p backend:
 * the blob's backend must equal @p backend (MISMATCH), its svn must be
 * <= @p own_svn (POLICY), the key comes from @p get_key for the blob's policy,
 * key id and svn, and the tag must verify over header, @p aad and ciphertext
 * (SIGNATURE otherwise: tampering, wrong key, wrong policy or identity). The
 * plaintext is written to @p out (@p out_cap bytes, at least the ciphertext
 * length; TOO_LARGE before any work otherwise); when the tag does not verify,
 * the bytes decrypted into @p out are wiped before returning.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_unseal(vouch_seal_key_fn get_key, void *ctx,
                                                 enum vouch_tee_backend backend, uint16_t own_svn,
                                                 const uint8_t *blob, size_t blob_len,
                                                 const void *aad, size_t aad_len, uint8_t *out,
                                                 size_t out_cap, size_t *out_len);

/* ---- AEAD and KDF primitives (src/crypto) used above ---- */

/** HKDF-SHA256 (RFC 5869) extract-and-expand into @p out_len bytes. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hkdf_sha256(const void *ikm, size_t ikm_len,
                                                      const void *salt, size_t salt_len,
                                                      const void *info, size_t info_len,
                                                      uint8_t *out, size_t out_len);
/** AES-256-GCM encryption with a 12-byte nonce and 16-byte tag; @p ct may equal @p pt. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_aes256gcm_encrypt(
    const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
    const void *aad2, size_t aad2_len, const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]);
/** AES-256-GCM decryption; SIGNATURE when the tag does not verify (then @p pt
 *  is wiped). @p aad and @p aad2 are concatenated as the additional data. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_aes256gcm_decrypt(const uint8_t key[32],
                                                            const uint8_t nonce[12],
                                                            const void *aad, size_t aad_len,
                                                            const void *aad2, size_t aad2_len,
                                                            const uint8_t *ct, size_t len,
                                                            const uint8_t tag[16], uint8_t *pt);

#ifdef __cplusplus
}
#endif
#endif
