/*
 * Policy engine internals shared by arena.c, claims.c, lexer.c, parser.c and
 * eval.c: a bump arena, the token stream, the parse tree and the claim set
 * layout. Nothing here is visible outside src/policy.
 */
#ifndef VOUCH_POLICY_POLICY_INT_H
#define VOUCH_POLICY_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/policy.h>

/* ---- arena: many small allocations freed together ---- */

struct vouch__arena_chunk;

struct vouch__arena {
    struct vouch__arena_chunk *head; /* newest chunk first */
    size_t total;                    /* bytes handed out so far */
    size_t cap;                      /* refuse allocations past this many bytes */
};

void vouch__arena_init(struct vouch__arena *a, size_t cap);
/** Zeroed, 8-byte aligned memory; TOO_LARGE past the cap, NOMEM. */
VOUCH_NODISCARD vouch_err vouch__arena_alloc(struct vouch__arena *a, size_t n, void **out);
/** NUL-terminated copy of @p n bytes. */
VOUCH_NODISCARD vouch_err vouch__arena_strndup(struct vouch__arena *a, const char *s, size_t n,
                                               char **out);
void vouch__arena_free(struct vouch__arena *a);

/* ---- claim sets ---- */

struct vouch_claims {
    struct vouch_claim *items; /* heap array (vouch_reallocarray) */
    size_t n;                  /* claims in use */
    size_t cap;                /* slots allocated */
    struct vouch__arena text;  /* owns every type and string value */
};

/** Appends @p cl, copying its strings into @p c (issuer and read_only kept).
 *  Checks the type/value limits and VOUCH_MAX_CLAIMS. */
VOUCH_NODISCARD vouch_err vouch__claims_push_copy(struct vouch_claims *c,
                                                  const struct vouch_claim *cl);
/** True when @p s (len bytes) is valid UTF-8 without NUL. */
bool vouch__utf8_valid(const char *s, size_t len);
/** The longest prefix of @p s (len bytes) of at most @p max bytes that does
 *  not split a UTF-8 sequence: for "%.*s" in messages that end up in JSON. */
int vouch__utf8_prefix(const char *s, size_t len, size_t max);
/** Cuts a trailing incomplete UTF-8 sequence left by snprintf truncation. */
void vouch__utf8_trim(char *s);

/* ---- tokens ---- */

enum vouch__tok_kind {
    VT_EOF = 0,
    VT_IDENT,
    VT_STRING,
    VT_INT,
    VT_LBRACE,
    VT_RBRACE,
    VT_LBRACK,
    VT_RBRACK,
    VT_LPAREN,
    VT_RPAREN,
    VT_COMMA,
    VT_SEMI,
    VT_COLON,
    VT_DOT,
    VT_ASSIGN, /* = */
    VT_EQ,     /* == */
    VT_NE,     /* != */
    VT_LT,
    VT_LE,
    VT_GT,
    VT_GE,
    VT_AND,   /* && */
    VT_NOT,   /* ! */
    VT_ARROW, /* => */
};

struct vouch__tok {
    enum vouch__tok_kind kind;
    const char *p;   /* raw text of the token in the source */
    size_t len;      /* raw length */
    unsigned line;   /* 1-based */
    unsigned column; /* 1-based, in characters */
    int64_t ival;    /* VT_INT */
    char *str;       /* VT_STRING: unescaped, NUL-terminated, in the policy arena */
    size_t str_len;  /* VT_STRING */
};

struct vouch__lexer {
    const char *src;                /* policy text (borrowed) */
    size_t len;                     /* its length */
    size_t off;                     /* next byte */
    unsigned line;                  /* position of src[off] */
    unsigned column;                /* position of src[off] */
    bool lenient;                   /* VOUCH_POLICY_LENIENT */
    struct vouch__arena *arena;     /* where string literals go */
    struct vouch_policy_error *err; /* filled on failure (never NULL) */
};

void vouch__lexer_init(struct vouch__lexer *lx, const char *src, size_t len, bool lenient,
                       struct vouch__arena *arena, struct vouch_policy_error *err);
/** Reads the next token; on a lexical error fills lx->err and returns PARSE
 *  (or TOO_LARGE for an over-long string). */
VOUCH_NODISCARD vouch_err vouch__lexer_next(struct vouch__lexer *lx, struct vouch__tok *t);
/** Fills @p err with a position and a printf-style message. */
void vouch__policy_error_set(struct vouch_policy_error *err, unsigned line, unsigned column,
                             const char *fmt, ...) VOUCH_PRINTF(4, 5);

/* ---- parse tree ---- */

enum vouch__prop {
    VP_TYPE = 0,
    VP_VALUE,
    VP_ISSUER,
    VP_VALUE_TYPE,
};

enum vouch__op {
    VO_EQ = 0,
    VO_NE,
    VO_LT,
    VO_LE,
    VO_GT,
    VO_GE,
};

enum vouch__expr_kind {
    VE_STRING = 0,
    VE_INT,
    VE_BOOL,
    VE_REF,  /* ident.prop: the property of every claim the binding selected */
    VE_CALL, /* 1.2 function */
};

enum vouch__func {
    VF_JSON_TO_CLAIM_VALUE = 0,
    VF_IS_SUBSET_OF,
    VF_APPEND_STRING,
    VF_NEGATE_BOOL,
    VF_CONTAINS_ONLY_VALUE,
};

#define VOUCH__MAX_FUNC_ARGS 2u

struct vouch__expr {
    enum vouch__expr_kind kind;
    unsigned line, column;     /* of the expression's first token */
    const char *s;             /* VE_STRING (arena) */
    size_t s_len;              /* VE_STRING */
    int64_t i;                 /* VE_INT */
    bool b;                    /* VE_BOOL */
    unsigned ref;              /* VE_REF: index of the binding condition in the rule */
    enum vouch__prop ref_prop; /* VE_REF */
    enum vouch__func fn;       /* VE_CALL */
    unsigned nargs;            /* VE_CALL */
    struct vouch__expr *args[VOUCH__MAX_FUNC_ARGS]; /* VE_CALL */
};

struct vouch__test {
    enum vouch__prop prop;   /* left side: a property of the candidate claim */
    enum vouch__op op;       /* comparison */
    struct vouch__expr *rhs; /* right side */
};

struct vouch__cond {
    bool negated;              /* `!`: holds when nothing matches */
    bool bound;                /* `id:` present */
    unsigned ntests;           /* entries in tests */
    struct vouch__test *tests; /* arena array */
};

enum vouch__action {
    VA_PERMIT = 0,
    VA_DENY,
    VA_ADD,
    VA_ISSUE,
    VA_ISSUEPROPERTY,
};

enum vouch__section {
    VS_CONFIG = 0,
    VS_AUTH,
    VS_ISSUANCE,
    VS__COUNT,
};

struct vouch__rule {
    struct vouch__rule *next;  /* next rule of the same section */
    unsigned index;            /* 1-based within its section */
    unsigned line, column;     /* of the rule's first token */
    unsigned ncond;            /* entries in conds */
    struct vouch__cond *conds; /* arena array */
    enum vouch__action action; /* what fires */
    bool claim_form;           /* action(claim=ident) rather than (type=, value=) */
    unsigned claim_ref;        /* claim_form: binding condition index */
    const char *type;          /* !claim_form: claim type to create */
    struct vouch__expr *value; /* !claim_form: its value(s) */
};

struct vouch_policy {
    struct vouch__arena arena;               /* owns the whole tree and its strings */
    unsigned minor;                          /* 0, 1 or 2 (version 1.minor) */
    struct vouch__rule *sections[VS__COUNT]; /* first rule of each section, or NULL */
    unsigned nrules[VS__COUNT];              /* rules per section */
};

/** Section keyword as written in a policy ("authorizationrules" ...). */
const char *vouch__section_name(enum vouch__section s);

#endif
