/*
 * Text encodings: hex, base64 and base64url. Decoders are strict (no
 * whitespace, no stray characters) unless a function says otherwise, and run
 * in time independent of the byte values so they may be used on keys.
 * Encoders write NUL-terminated text into a caller buffer.
 */
#ifndef VOUCH_ENCODING_H
#define VOUCH_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Writes 2*len lowercase hex digits and a NUL to @p out (size >= 2*len+1). */
VOUCH_API void vouch_hex_encode(const uint8_t *p, size_t len, char *out);
/** Decodes exactly @p hexlen hex digits (either case) into @p out (size out_cap).
 *  Fails with PARSE on an odd length or a non-hex digit, TOO_LARGE if it does
 *  not fit. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hex_decode(const char *hex, size_t hexlen, uint8_t *out,
                                                     size_t out_cap, size_t *len_out);
/** Like vouch_hex_decode into a newly allocated buffer (free with vouch_free). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_hex_decode_alloc(const char *hex, size_t hexlen,
                                                           uint8_t **out, size_t *len_out);

/** Length of the base64 text for @p len bytes, excluding the NUL. */
VOUCH_API size_t vouch_base64_encoded_len(size_t len, bool url);
/** Encodes; @p url selects base64url without padding, else standard with padding.
 *  @p out must hold vouch_base64_encoded_len()+1 bytes. */
VOUCH_API void vouch_base64_encode(const uint8_t *p, size_t len, bool url, char *out);
/** Decodes base64 or base64url text, with or without '=' padding (as Azure
 *  Attestation accepts). Mixed alphabets are rejected. Result owned by caller. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_base64_decode(const char *text, size_t textlen, bool url,
                                                        uint8_t **out, size_t *len_out);
/** vouch_base64_encode with the same output, through a lookup table: for
 *  data that is not secret (tokens, certificates), never for keys. */
VOUCH_API void vouch_base64_encode_public(const uint8_t *p, size_t len, bool url, char *out);
/** vouch_base64_decode with the same answers, through a lookup table: about
 *  five times faster, but its timing depends on the text. Only for text that
 *  is not secret (evidence in a request, certificates), never for keys. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_base64_decode_public(const char *text, size_t textlen,
                                                               bool url, uint8_t **out,
                                                               size_t *len_out);

#ifdef __cplusplus
}
#endif
#endif
