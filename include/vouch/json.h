/*
 * JSON through jansson, with Vouch's limits: documents over
 * VOUCH_MAX_JSON_SIZE or nested deeper than VOUCH_MAX_JSON_DEPTH are rejected,
 * duplicate object keys are rejected (an attacker must not be able to give
 * two readers two different values), and NUL bytes inside strings are refused.
 * Typed getters return VOUCH_ERR_PARSE naming nothing; callers add context.
 */
#ifndef VOUCH_JSON_H
#define VOUCH_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Parses @p len bytes into a new reference (json_decref to free). On failure,
 *  if @p err_out is non-NULL, copies jansson's message (line/column) there. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_json_parse(const char *text, size_t len, json_t **out,
                                                     char *err_out, size_t err_cap);
/** Borrowed string member @p key of object @p o, with its length. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_json_str(const json_t *o, const char *key,
                                                   const char **out, size_t *len_out);
/** Integer member that must lie in [min, max]. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_json_int(const json_t *o, const char *key, int64_t min,
                                                   int64_t max, int64_t *out);
/** Hex string member decoded into exactly @p n bytes. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_json_hex_fixed(const json_t *o, const char *key,
                                                         uint8_t *out, size_t n);
/** Sets @p key to lowercase hex of @p n bytes. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_json_set_hex(json_t *o, const char *key, const uint8_t *p,
                                                       size_t n);
/** Serialises compactly with sorted keys; result owned (vouch_free). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_json_dump(const json_t *o, int flags, char **out);

#ifdef __cplusplus
}
#endif
#endif
