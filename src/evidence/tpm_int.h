/*
 * Private to the TPM evidence files (tpm_quote.c, tpm_eventlog.c): algorithm
 * mapping and the JSON helpers both use.
 */
#ifndef VOUCH_EVIDENCE_TPM_INT_H
#define VOUCH_EVIDENCE_TPM_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/tpm.h>

/** Maps a hash TPM_ALG_ID to the crypto module's algorithm; false if unknown. */
bool vouch__tpm_hash_alg(uint16_t tpm_alg, enum vouch_hash_alg *out);

/** Preference among banks when one must be chosen: higher is stronger, 0 for
 *  a bank we cannot compute. */
int vouch__tpm_bank_rank(uint16_t tpm_alg);

/** Sets @p key of @p o to @p v, taking the reference even on failure. */
VOUCH_NODISCARD vouch_err vouch__tpm_json_set(json_t *o, const char *key, json_t *v);

/** A new JSON string holding the lowercase hex of @p n bytes, or NULL. */
json_t *vouch__tpm_hex_string(const uint8_t *p, size_t n);

#endif
