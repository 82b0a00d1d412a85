/*
 * EDL: the enclave's call interface, and the stubs generated from it.
 *
 * An enclave and its host talk through functions declared in an interface
 * file written in a subset of Open Enclave's (and Intel's) Enclave Definition
 * Language:
 *
 *     enclave {
 *         include "types.h"                      // copied into the generated headers
 *         trusted {                              // ecalls: the enclave implements them
 *             public int add(int a, int b);
 *             public uint64_t sum([in, count=n] const uint32_t *v, size_t n)
 *                 transition_using_threads;      // switchless call
 *             public void greet([in, string] const char *name);
 *             public int fill([out, size=len] void *buf, size_t len);
 *         };
 *         untrusted {                            // ocalls: the host implements them
 *             void log_line([in, string] const char *line);
 *         };
 *     };
 *
 * Types are C scalars only: void (return type only), char, bool, int,
 * unsigned [int], int8_t..int64_t, uint8_t..uint64_t, size_t, float and
 * double. A parameter may be one pointer to such a type (not to bool), and a
 * pointer must say which way its data travels: [in] (copied into the callee),
 * [out] (the callee fills a zeroed buffer that is copied back) or [in, out].
 * Its length is one element unless it carries count=N (elements) or size=N
 * (bytes), where N is a positive constant or the name of an integer
 * parameter of the same function; a void pointer needs size=. [in, string]
 * marks a NUL-terminated char array whose length the stub measures. Not
 * supported, each refused with an error at its line and column: user_check,
 * isptr/isary, wstring, fixed arrays, structs/enums/unions, private ecalls,
 * allow(...), propagate_errno, pointer return values and `from ... import`.
 *
 * vouch_edl_parse() reads the text (untrusted input: bounded by the
 * VOUCH_MAX_EDL_* limits, no recursion) into a struct vouch_edl;
 * vouch_edl_emit() writes the four generated files from it. The
 * vouch-edger8r tool and cmake's vouch_edl_generate() drive both; the call
 * ABI and the marshalled buffer format are described in docs/enclave-sdk.md ("The call interface").
 */
#ifndef VOUCH_EDL_H
#define VOUCH_EDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/buf.h>
#include <vouch/err.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vouch_edl_type {
    VOUCH_EDL_VOID,
    VOUCH_EDL_CHAR,
    VOUCH_EDL_BOOL,
    VOUCH_EDL_INT,
    VOUCH_EDL_UNSIGNED,
    VOUCH_EDL_INT8,
    VOUCH_EDL_INT16,
    VOUCH_EDL_INT32,
    VOUCH_EDL_INT64,
    VOUCH_EDL_UINT8,
    VOUCH_EDL_UINT16,
    VOUCH_EDL_UINT32,
    VOUCH_EDL_UINT64,
    VOUCH_EDL_SIZE,
    VOUCH_EDL_FLOAT,
    VOUCH_EDL_DOUBLE,
    VOUCH_EDL_TYPE__COUNT
};

/* Directions of a pointer parameter (bit set). */
#define VOUCH_EDL_IN  1u
#define VOUCH_EDL_OUT 2u

enum vouch_edl_bound_kind {
    VOUCH_EDL_BOUND_NONE,  /* one element */
    VOUCH_EDL_BOUND_CONST, /* value */
    VOUCH_EDL_BOUND_PARAM, /* the value of parameter number param */
};

struct vouch_edl_bound {
    enum vouch_edl_bound_kind kind;
    uint64_t value; /* BOUND_CONST: > 0 */
    size_t param;   /* BOUND_PARAM: index into the function's params */
};

struct vouch_edl_param {
    char name[VOUCH_MAX_EDL_IDENT + 1];
    enum vouch_edl_type type; /* the pointee type for a pointer */
    bool pointer;
    bool is_const;                /* only [in] pointers may be const */
    bool string;                  /* [in, string] const char * */
    unsigned dir;                 /* VOUCH_EDL_IN | VOUCH_EDL_OUT; 0 for scalars */
    struct vouch_edl_bound size;  /* bytes; exclusive with count */
    struct vouch_edl_bound count; /* elements */
    unsigned line, column;
};

struct vouch_edl_func {
    char name[VOUCH_MAX_EDL_IDENT + 1];
    enum vouch_edl_type ret;
    bool switchless; /* transition_using_threads */
    size_t param_count;
    struct vouch_edl_param params[VOUCH_MAX_EDL_PARAMS];
    unsigned line, column;
};

struct vouch_edl {
    struct vouch_edl_func *trusted; /* ecalls; the index is the call number */
    size_t trusted_count;
    struct vouch_edl_func *untrusted; /* ocalls; the index is the call number */
    size_t untrusted_count;
    size_t include_count;
    char includes[VOUCH_MAX_EDL_INCLUDES][VOUCH_MAX_EDL_INCLUDE_PATH + 1];
};

struct vouch_edl_error {
    unsigned line;   /* 1-based; 0 when not about a place */
    unsigned column; /* 1-based byte column; 0 when not about a place */
    char message[VOUCH_MAX_ERROR_DETAIL];
};

/**
 * Parses @p len bytes of EDL text (need not be NUL-terminated).
 * @param out receives the interface (free with vouch_edl_free); NULL on error.
 * @param err if non-NULL, cleared and, on failure, filled with the place and
 *        a message such as "expected ';' after the parameter list, found 'int'".
 * @return VOUCH_ERR_PARSE for a syntax or semantic error, VOUCH_ERR_UNSUPPORTED
 *         for EDL features outside the subset, VOUCH_ERR_TOO_LARGE when a
 *         VOUCH_MAX_EDL_* limit is exceeded, VOUCH_ERR_NOMEM.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_edl_parse(const char *text, size_t len,
                                                    struct vouch_edl **out,
                                                    struct vouch_edl_error *err);
/** Frees an interface; accepts NULL. */
VOUCH_API void vouch_edl_free(struct vouch_edl *edl);

/** Returns the C spelling of @p t ("uint32_t", "unsigned int"); never NULL. */
VOUCH_API const char *vouch_edl_type_c(enum vouch_edl_type t);
/** Returns the bytes @p t occupies in a marshalled buffer (0 for void). */
VOUCH_API size_t vouch_edl_type_size(enum vouch_edl_type t);

enum vouch_edl_file {
    VOUCH_EDL_HOST_HEADER,    /* <name>_u.h */
    VOUCH_EDL_HOST_SOURCE,    /* <name>_u.c */
    VOUCH_EDL_ENCLAVE_HEADER, /* <name>_t.h */
    VOUCH_EDL_ENCLAVE_SOURCE, /* <name>_t.c */
};

/**
 * Appends generated file @p which for interface @p edl to @p out (initialise
 * it with a cap of VOUCH_MAX_EDL_OUTPUT). @p name is the base name used for
 * the file names, include guards and the ocall table; it must be a C
 * identifier of at most VOUCH_MAX_EDL_IDENT bytes (VOUCH_ERR_INVAL otherwise).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_edl_emit(const struct vouch_edl *edl, const char *name,
                                                   enum vouch_edl_file which,
                                                   struct vouch_buf *out);

#ifdef __cplusplus
}
#endif
#endif
