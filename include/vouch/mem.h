/*
 * Memory: allocation wrappers, secret wiping and constant-time comparison.
 *
 * All libvouch allocations go through vouch_malloc/vouch_calloc/vouch_free so
 * that tests can fail the N-th allocation (environment VOUCH_FAULT_AFTER=N)
 * and check that every out-of-memory path returns VOUCH_ERR_NOMEM cleanly.
 * Array sizes are overflow-checked. vouch_free accepts NULL.
 *
 * vouch_wipe() must be used for every buffer that held a secret, on every exit
 * path; the compiler may not elide it. vouch_ct_eq() compares in time that
 * depends only on the length, for MACs, tokens, measurements and bindings.
 */
#ifndef VOUCH_MEM_H
#define VOUCH_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

VOUCH_API void *vouch_malloc(size_t n);
VOUCH_API void *vouch_calloc(size_t count, size_t size);
/** Resizes @p p to count*size bytes (overflow-checked); on failure @p p is untouched. */
VOUCH_API void *vouch_reallocarray(void *p, size_t count, size_t size);
VOUCH_API void vouch_free(void *p);
/** Returns an owned copy of @p s (NUL-terminated), or NULL. */
VOUCH_API char *vouch_strdup(const char *s);
/** Returns an owned NUL-terminated copy of @p len bytes of @p s, or NULL. */
VOUCH_API char *vouch_strndup(const char *s, size_t len);
/** Returns an owned copy of @p len bytes, or NULL (len 0 gives a 1-byte block). */
VOUCH_API void *vouch_memdup(const void *p, size_t len);

#define VOUCH_FREE(p)  \
    do {               \
        vouch_free(p); \
        (p) = NULL;    \
    } while (0)

/** Overwrites @p len bytes at @p p with zeros in a way the compiler keeps. */
VOUCH_API void vouch_wipe(void *p, size_t len);

/** Returns 1 when the @p len bytes at @p a and @p b are equal, else 0, in
 *  constant time with respect to the contents. */
VOUCH_API int vouch_ct_eq(const void *a, const void *b, size_t len);
/** Returns 1 when all @p len bytes are zero, in constant time. */
VOUCH_API int vouch_ct_is_zero(const void *p, size_t len);

/** Fault injection for tests: fail the n-th allocation from now (0 disables). */
VOUCH_API void vouch_fault_after(unsigned long n);

#ifdef __cplusplus
}
#endif
#endif
