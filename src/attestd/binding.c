/* Runtime and init-time data binding: the evidence commits to the client's
 * data by carrying its hash in a report field (MAA: SHA-256 in the first 32
 * bytes of REPORTDATA; we use SHA-384 for TDX's 48-byte MRCONFIGID). */
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

vouch_err attestd_binding_check(const uint8_t *data, size_t len, enum vouch_hash_alg alg,
                                const char *field_hex, size_t hexlen)
{
    uint8_t want[VOUCH_MAX_HASH_LEN], have[VOUCH_MAX_HASH_LEN];
    size_t hl = vouch_hash_len(alg), got = 0;
    vouch_err rc;

    if (hl == 0 || hexlen < 2 * hl ||
        vouch_hex_decode(field_hex, 2 * hl, have, sizeof(have), &got) != VOUCH_OK || got != hl)
        return VOUCH_ERR_PARSE;
    if ((rc = vouch_hash(alg, data, len, want)) != VOUCH_OK)
        return rc;
    return vouch_ct_eq(want, have, hl) ? VOUCH_OK : VOUCH_ERR_MISMATCH;
}
