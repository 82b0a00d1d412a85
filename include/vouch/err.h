/*
 * Errors. Every fallible libvouch function returns a vouch_err and is marked
 * VOUCH_NODISCARD, so a caller cannot silently ignore a failed verification.
 * VOUCH_OK is zero; every other value names a class of failure that a caller
 * may act on. Detail (which field, which certificate) travels in the result
 * structures or in the log, never in the code itself. Native error numbers
 * (errno, OpenSSL, jansson) are translated at the module boundary.
 */
#ifndef VOUCH_ERR_H
#define VOUCH_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_NODISCARD    __attribute__((warn_unused_result))
#define VOUCH_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define VOUCH_API          __attribute__((visibility("default")))
#define VOUCH_PRINTF(f, a) __attribute__((format(printf, f, a)))

typedef enum vouch_err {
    VOUCH_OK = 0,
    VOUCH_ERR_NOMEM,       /* allocation failed */
    VOUCH_ERR_INVAL,       /* caller passed an invalid argument */
    VOUCH_ERR_PARSE,       /* input is malformed */
    VOUCH_ERR_TRUNCATED,   /* input ends before a declared length */
    VOUCH_ERR_TOO_LARGE,   /* input exceeds a named limit (vouch/limits.h) */
    VOUCH_ERR_UNSUPPORTED, /* well-formed but a version/type we do not handle */
    VOUCH_ERR_CRYPTO,      /* the crypto library failed (not a bad signature) */
    VOUCH_ERR_SIGNATURE,   /* a signature does not verify */
    VOUCH_ERR_CHAIN,       /* a certificate chain does not lead to the pinned root */
    VOUCH_ERR_REVOKED,     /* a certificate is listed on a CRL */
    VOUCH_ERR_EXPIRED,     /* an object is outside its validity window */
    VOUCH_ERR_MISMATCH,    /* two objects that must agree do not */
    VOUCH_ERR_VERIFY,      /* verification failed for another stated reason */
    VOUCH_ERR_POLICY,      /* appraisal rejected the evidence */
    VOUCH_ERR_NOT_FOUND,   /* a looked-up item does not exist */
    VOUCH_ERR_IO,          /* a file or socket operation failed */
    VOUCH_ERR_STORE,       /* the persistent store failed */
    VOUCH_ERR_BUSY,        /* try again later */
    VOUCH_ERR_INTERNAL,    /* a bug: an invariant did not hold */
    VOUCH_ERR_ENCLAVE,     /* the enclave died, was killed or broke the call protocol */
    VOUCH_ERR_DENIED,      /* the caller is not authorised for this operation */
    VOUCH_ERR__COUNT
} vouch_err;

/** Returns a static, human-readable description of @p err; never NULL. */
VOUCH_API const char *vouch_strerror(vouch_err err);

/** Returns a stable identifier such as "signature" for @p err; never NULL. */
VOUCH_API const char *vouch_err_name(vouch_err err);

#ifdef __cplusplus
}
#endif
#endif
