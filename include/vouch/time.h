/*
 * Time as an input. Verifiers never read the clock; they take an evaluation
 * time in Unix seconds (int64_t). These helpers convert RFC 3339 / ISO 8601
 * UTC text (as in Intel collateral and on the command line) to and from it.
 */
#ifndef VOUCH_TIME_H
#define VOUCH_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Parses "YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)" into Unix seconds. Strict. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_time_parse_rfc3339(const char *s, size_t len,
                                                             int64_t *out);
/** Parses Unix seconds ("1751328000") or RFC 3339, as the CLI's --at accepts. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_time_parse(const char *s, int64_t *out);
/** Formats as "YYYY-MM-DDThh:mm:ssZ" into @p out (at least 21 bytes). */
VOUCH_API void vouch_time_format(int64_t t, char out[21]);
/** Days-from-civil conversion (UTC, proleptic Gregorian); no libc time zone. */
VOUCH_API int64_t vouch_time_from_civil(int64_t y, unsigned mon, unsigned d, unsigned h,
                                        unsigned mi, unsigned s);
/** The wall clock, for callers that want "now" (production). */
VOUCH_API int64_t vouch_time_now(void);

#ifdef __cplusplus
}
#endif
#endif
