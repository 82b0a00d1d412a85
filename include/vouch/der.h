/*
 * A strict DER reader for the few structures libvouch decodes itself (the
 * Intel PCK certificate SGX extension, AMD VCEK extensions). Definite lengths
 * only, minimal length encodings only, single-byte tags only, and never more
 * than the enclosing length. Built on struct vouch_reader, so it cannot read
 * outside its input.
 */
#ifndef VOUCH_DER_H
#define VOUCH_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/buf.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_DER_BOOLEAN      0x01u
#define VOUCH_DER_INTEGER      0x02u
#define VOUCH_DER_OCTET_STRING 0x04u
#define VOUCH_DER_OID          0x06u
#define VOUCH_DER_ENUMERATED   0x0au
#define VOUCH_DER_IA5STRING    0x16u
#define VOUCH_DER_SEQUENCE     0x30u

/** Reads one TLV; @p value becomes a reader over its contents. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_der_next(struct vouch_reader *r, uint8_t *tag_out,
                                                   struct vouch_reader *value_out);
/** Reads one TLV and fails with PARSE unless its tag is @p tag. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_der_expect(struct vouch_reader *r, uint8_t tag,
                                                     struct vouch_reader *value_out);
/** Decodes the contents of a non-negative INTEGER/ENUMERATED that fits in 64 bits. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_der_uint(const struct vouch_reader *value, uint64_t *out);
/** Compares OID contents with the dotted text @p dotted (e.g. "1.2.840.113741.1.13.1.4"). */
VOUCH_API bool vouch_der_oid_eq(const struct vouch_reader *value, const char *dotted);
/** Whether OID contents are @p prefix (dotted text) plus exactly one more arc,
 *  and that arc. Walks the encoding without formatting it: the PCK extension
 *  parser asks this of every entry of every quote. PARSE for a malformed OID,
 *  INVAL for a malformed @p prefix. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_der_oid_child(const struct vouch_reader *value,
                                                        const char *prefix, bool *is_child,
                                                        uint64_t *arc);
/** Formats OID contents as dotted text into @p out (cap bytes). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_der_oid_text(const struct vouch_reader *value, char *out,
                                                       size_t cap);

#ifdef __cplusplus
}
#endif
#endif
