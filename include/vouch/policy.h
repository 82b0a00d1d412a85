/*
 * Policy: the Microsoft Azure Attestation (MAA) policy language.
 *
 * Appraisal is separate from verification. Once evidence has been verified,
 * the attestation service turns what it says into a set of claims (type,
 * value, issuer) and runs the tenant's policy over them. The policy decides
 * whether a token is issued at all (authorizationrules: permit()/deny()),
 * which extra claims go into it (issuancerules: issue()), and how the engine
 * behaves (configurationrules: issueproperty()). This module parses policy
 * text into an immutable tree, evaluates it against a claim set, hands back
 * the decision, the issued and property claims and a one-line reason for the
 * service's log, and computes MAA's x-ms-policy-hash. Versions 1.0 and 1.1 are
 * complete; of 1.2 it implements the `!` (absence) condition and the functions
 * JsonToClaimValue, IsSubsetOf, AppendString, NegateBool and ContainsOnlyValue.
 * JmesPath is refused at parse time (VOUCH_ERR_UNSUPPORTED) rather than
 * approximated.
 *
 * Usage (the attestation service):
 *
 *     struct vouch_policy *pol;  struct vouch_policy_error perr;
 *     rc = vouch_policy_parse(text, len, 0, &pol, &perr);     // at upload; keep pol
 *     ...
 *     struct vouch_claims *in;
 *     rc = vouch_claims_new(&in);
 *     rc = vouch_claims_add_json_object(in, VOUCH_ISSUER_ATTESTATION_SERVICE, evidence_claims);
 *     struct vouch_policy_result res;
 *     rc = vouch_policy_eval(pol, in, &res);
 *     if (rc == VOUCH_OK && res.decision == VOUCH_POLICY_PERMIT)
 *         ... vouch_claims_to_json(res.issued, &x_ms_policy) ...
 *     else
 *         log res.explanation; answer 400 PolicyEvaluationError
 *     vouch_policy_result_free(&res);  vouch_claims_free(in);
 *
 * LANGUAGE ACCEPTED (strict mode, flags 0)
 *
 *     policy    := "version" "=" 1 "." (0|1|2) ";"
 *                  [ "configurationrules" "{" rule* "}" ";" ]     (1.1 and later)
 *                  "authorizationrules" "{" rule* "}" ";"
 *                  [ "issuancerules" "{" rule* "}" ";" ]
 *     rule      := [ cond ( "&&" cond )* ] "=>" action ";"
 *     cond      := [ "!" ] [ IDENT ":" ] "[" test ( "," test )* "]"
 *     test      := ( "type" | "value" | "issuer" | "valueType" ) OP expr
 *     action    := "permit" "(" ")" | "deny" "(" ")"
 *                | ( "add" | "issue" | "issueproperty" ) "(" args ")"
 *     args      := "claim" "=" IDENT | "type" "=" STRING "," "value" "=" expr   (either order)
 *     expr      := STRING | INTEGER | "true" | "false"
 *                | IDENT "." ( "value" | "type" | "issuer" | "valueType" )
 *                | FUNCTION "(" [ expr ( "," expr )* ] ")"                    (1.2)
 *
 * - Sections come in the order above. issuancerules may be omitted (MAA's own
 *   built-in SEV-SNP policy has none); configurationrules needs version 1.1.
 * - OP is ==, !=, <, <=, >, >=. The ordering operators apply to `value` only;
 *   `type`, `issuer` and `valueType` take == and != with a string. A literal
 *   compared with `issuer` must be AttestationService, AttestationPolicy or
 *   CustomClaim, and with `valueType` one of String, Integer, Boolean, so a
 *   typo cannot silently never match.
 * - permit() and deny() only in authorizationrules; issue() only in
 *   issuancerules; issueproperty() in configurationrules (where it is the only
 *   action) and issuancerules; add() in authorizationrules and issuancerules.
 * - `!` (1.2) cannot bind an identifier: an absent claim has nothing to bind.
 *   An identifier must be bound by an earlier condition of the same rule and
 *   may not be bound twice.
 * - STRING is "..." with the escapes \" \\ \/ \n \r \t; it must be valid UTF-8
 *   and stay on one line. INTEGER is decimal with an optional '-', within
 *   int64. `//` starts a comment to the end of the line (all versions).
 *   Whitespace is space, tab, CR and LF; a leading UTF-8 byte-order mark is
 *   skipped. Keywords, property names, actions and function names are
 *   case-sensitive. There is no `||`: write alternatives as separate rules.
 *
 * Lenient mode (VOUCH_POLICY_LENIENT) also accepts the quirks seen in
 * Microsoft's own documentation: a single `=` for `==` inside a condition,
 * keywords in any case ("Version", "Issuancerules"), curly double quotes
 * (U+201C/U+201D) around strings, and a missing `;` after a rule or a
 * section. Store policies parsed strictly; lenient mode is for importing.
 *
 * SEMANTICS
 *
 * - A claim is (type, value, issuer); the value is a string, an integer or a
 *   boolean, and its valueType ("String", "Integer", "Boolean") follows from
 *   it. A multi-valued claim type (1.2 "set") is several claims with the same
 *   type.
 * - A condition selects the claims that pass all of its tests; it holds when
 *   at least one claim passes (with `!`: when none does). An identifier binds
 *   the whole selection, as in MAA: `c.value` is the set of values of every
 *   selected claim. A rule fires at most once per evaluation.
 * - A test whose right side is a set (a bound property or a function result)
 *   holds for ==, <, <=, >, >= when it holds for at least one element, and
 *   for != when the value equals none of them (so != is exactly "not ==").
 * - Values compare only within one kind: a string never equals an integer
 *   ("5" != 5) and the ordering operators hold only between integers.
 *   Strings compare byte for byte (case-sensitive).
 * - issue(claim=c), add(claim=c), issueproperty(claim=c) copy every selected
 *   claim. issue(type=T, value=E) makes one claim per element of E (none when
 *   E is empty, e.g. JsonToClaimValue("null")). Claims made by the policy have
 *   issuer AttestationPolicy. add() extends the incoming set, issue() the
 *   incoming and issued sets, issueproperty() the incoming and property sets.
 *   A rule sees the incoming set as it was when the rule started.
 * - Order: configurationrules, then authorizationrules in order. The first
 *   deny() ends evaluation with DENY. Without any permit() the decision is
 *   DENY. Only after a permit do issuancerules run; they cannot change the
 *   decision.
 * - Functions (1.2) that take a single value fail when an argument holds
 *   several (e.g. `c.value` with two selected claims). Claims marked read-only
 *   (vouch_claims_mark_read_only, e.g. TPM "pcrs") and values derived from
 *   them by JsonToClaimValue, AppendString or NegateBool cannot be issued.
 * - A runtime failure (a function error, a limit) fails the whole evaluation:
 *   the decision is DENY, nothing is issued, and the explanation says why.
 *
 * LIMITS (vouch/limits.h): VOUCH_MAX_POLICY_SIZE, _RULES, _CONDITIONS, _TESTS,
 * _EXPR_DEPTH, _STRING at parse time; VOUCH_MAX_CLAIMS, VOUCH_MAX_CLAIM_TYPE_LEN,
 * VOUCH_MAX_CLAIM_VALUE_LEN, VOUCH_MAX_POLICY_STEPS and
 * VOUCH_MAX_POLICY_EVAL_MEMORY for claim sets and evaluation. Exceeding one is
 * VOUCH_ERR_TOO_LARGE.
 *
 * THREAD SAFETY: a parsed struct vouch_policy is immutable and may be
 * evaluated from many threads at once. A struct vouch_claims must not be
 * modified while another thread reads it.
 */
#ifndef VOUCH_POLICY_H
#define VOUCH_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- claims ---- */

enum vouch_claim_value_type {
    VOUCH_CLAIM_STRING = 1,
    VOUCH_CLAIM_INTEGER = 2,
    VOUCH_CLAIM_BOOLEAN = 3,
};

/* Who asserted a claim. MAA: claims sent by the client are CustomClaim (the
 * default), claims parsed from evidence AttestationService, claims made by
 * the policy AttestationPolicy. */
enum vouch_claim_issuer {
    VOUCH_ISSUER_CUSTOM_CLAIM = 0,
    VOUCH_ISSUER_ATTESTATION_SERVICE = 1,
    VOUCH_ISSUER_ATTESTATION_POLICY = 2,
};

/* One claim, as returned by vouch_claims_at(). All pointers are borrowed from
 * the claim set and stay valid until it is freed. */
struct vouch_claim {
    const char *type;                       /* NUL-terminated, non-empty */
    enum vouch_claim_value_type value_type; /* which of the three fields below is set */
    const char *string;                     /* STRING: NUL-terminated (no interior NUL) */
    size_t string_len;                      /* STRING: length in bytes */
    int64_t integer;                        /* INTEGER */
    bool boolean;                           /* BOOLEAN */
    enum vouch_claim_issuer issuer;         /* who asserted it */
    bool read_only;                         /* may be tested but not issued */
};

/* An ordered set of claims that owns copies of its strings. */
struct vouch_claims;

/** Creates an empty claim set (free with vouch_claims_free).
 *  @return VOUCH_OK or VOUCH_ERR_NOMEM. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_new(struct vouch_claims **out);
/** Frees @p c and every string it owns; accepts NULL. */
VOUCH_API void vouch_claims_free(struct vouch_claims *c);

/** Appends a string claim; @p type and @p value are copied. @p value must not
 *  contain NUL and must be valid UTF-8 (it may end up in a JSON token).
 *  @return VOUCH_ERR_INVAL for an empty type, a bad issuer, NUL or invalid
 *  UTF-8; VOUCH_ERR_TOO_LARGE past VOUCH_MAX_CLAIMS, VOUCH_MAX_CLAIM_TYPE_LEN
 *  or VOUCH_MAX_CLAIM_VALUE_LEN; VOUCH_ERR_NOMEM. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_add_string(struct vouch_claims *c,
                                                            enum vouch_claim_issuer issuer,
                                                            const char *type, const char *value,
                                                            size_t value_len);
/** Appends an integer claim. Errors as vouch_claims_add_string. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_add_int(struct vouch_claims *c,
                                                         enum vouch_claim_issuer issuer,
                                                         const char *type, int64_t value);
/** Appends a boolean claim. Errors as vouch_claims_add_string. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_add_bool(struct vouch_claims *c,
                                                          enum vouch_claim_issuer issuer,
                                                          const char *type, bool value);
/**
 * Appends the claims for one JSON value (borrowed):
 * a string, integer or boolean gives one claim; null gives none (MAA's
 * "empty claim"); an array whose members are all strings, integers, booleans
 * or null gives one claim per non-null member (a multi-valued claim); any
 * other object or array gives one string claim holding its compact JSON text
 * (as MAA 1.2 presents raw JSON evidence). A real number is refused.
 * @return VOUCH_ERR_PARSE for a real number; otherwise as
 * vouch_claims_add_string. On failure the set is unchanged.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_add_json(struct vouch_claims *c,
                                                          enum vouch_claim_issuer issuer,
                                                          const char *type, const json_t *value);
/** Appends every member of JSON object @p obj (borrowed) as
 *  vouch_claims_add_json(member name, member value), in the object's order:
 *  the natural way to feed evidence claims (issuer AttestationService) or a
 *  client's runtime data (CustomClaim). On failure the set is unchanged. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_add_json_object(struct vouch_claims *c,
                                                                 enum vouch_claim_issuer issuer,
                                                                 const json_t *obj);
/**
 * Builds a claim set from the CLI/test format: a JSON array of objects
 * {"type": string, "value": any, "issuer": optional string, "valueType":
 * optional string}. "issuer" defaults to CustomClaim; "valueType", when given,
 * must agree with the JSON type of "value". Values convert as in
 * vouch_claims_add_json. Unknown members are refused so that typos show.
 * @param err_out if non-NULL, receives a message naming the bad element.
 * @return VOUCH_ERR_PARSE for a malformed element; others as above.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_from_json(const json_t *array,
                                                           struct vouch_claims **out, char *err_out,
                                                           size_t err_cap);
/** Marks every claim of @p type present now as read-only (the service does
 *  this for TPM "pcrs"). Does nothing if there is none. */
VOUCH_API void vouch_claims_mark_read_only(struct vouch_claims *c, const char *type);

/** Number of claims in @p c (0 for NULL). */
VOUCH_API size_t vouch_claims_count(const struct vouch_claims *c);
/** The @p i-th claim (borrowed), or NULL when out of range. */
VOUCH_API const struct vouch_claim *vouch_claims_at(const struct vouch_claims *c, size_t i);
/**
 * Converts to a JSON object (new reference): each claim type maps to its
 * value, or to an array of values in order when the type occurs more than
 * once. This is the shape of MAA's x-ms-policy token claim.
 * @return VOUCH_ERR_NOMEM, or VOUCH_OK.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_claims_to_json(const struct vouch_claims *c,
                                                         json_t **out);

/** "AttestationService", "AttestationPolicy" or "CustomClaim"; "?" otherwise. */
VOUCH_API const char *vouch_claim_issuer_name(enum vouch_claim_issuer issuer);
/** "String", "Integer" or "Boolean"; "?" otherwise. */
VOUCH_API const char *vouch_claim_value_type_name(enum vouch_claim_value_type t);

/* ---- policies ---- */

struct vouch_policy;

/* Flags for vouch_policy_parse. */
#define VOUCH_POLICY_LENIENT 0x1u /* accept the documentation quirks listed above */

/* Where and why a policy failed to parse. Line and column are 1-based and
 * point at the first character of the offending token; columns count Unicode
 * characters (a tab is one). */
struct vouch_policy_error {
    unsigned line;                        /* 1-based; 0 when not about a place */
    unsigned column;                      /* 1-based; 0 when not about a place */
    char message[VOUCH_MAX_ERROR_DETAIL]; /* e.g. "expected ';' after the action, found 'permit'" */
};

/**
 * Parses @p len bytes of policy text (not NUL-terminated; borrowed only
 * during the call).
 * @param flags 0 or VOUCH_POLICY_LENIENT.
 * @param out receives the policy (free with vouch_policy_free); NULL on error.
 * @param err_out if non-NULL, cleared and, on failure, filled in.
 * @return VOUCH_ERR_PARSE for a syntax error; VOUCH_ERR_UNSUPPORTED for a
 * version other than 1.0/1.1/1.2 or the JmesPath function; VOUCH_ERR_TOO_LARGE
 * for a parse-time limit; VOUCH_ERR_NOMEM; VOUCH_ERR_INVAL for bad arguments.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_policy_parse(const char *text, size_t len, unsigned flags,
                                                       struct vouch_policy **out,
                                                       struct vouch_policy_error *err_out);
/** Frees a policy; accepts NULL. */
VOUCH_API void vouch_policy_free(struct vouch_policy *p);
/** The declared version: "1.0", "1.1" or "1.2". */
VOUCH_API const char *vouch_policy_version(const struct vouch_policy *p);

enum vouch_policy_decision {
    VOUCH_POLICY_DENY = 0,
    VOUCH_POLICY_PERMIT = 1,
};

/* What an evaluation produced. vouch_policy_eval resets it on entry. The
 * rule position names the deny() that fired, the first permit() when
 * permitted, or the rule that failed; it is 0 when nothing permitted. */
struct vouch_policy_result {
    enum vouch_policy_decision decision;      /* DENY unless a rule permitted and none denied */
    struct vouch_claims *issued;              /* owned: outgoing claims (empty unless PERMIT) */
    struct vouch_claims *properties;          /* owned: issueproperty() claims */
    unsigned rule_line;                       /* the deciding rule's line (1-based) or 0 */
    unsigned rule_column;                     /* its column (1-based) or 0 */
    char explanation[VOUCH_MAX_ERROR_DETAIL]; /* one line for the service's log */
};

/**
 * Evaluates @p p over the incoming claims @p in (borrowed, not modified).
 * @param out reset on entry; free with vouch_policy_result_free in every case.
 * @return VOUCH_OK when evaluation ran to its end (read out->decision);
 * VOUCH_ERR_POLICY when an expression failed at run time (a function error,
 * issuing a read-only value); VOUCH_ERR_TOO_LARGE when a claim set, the step
 * budget or the memory cap was exceeded; VOUCH_ERR_NOMEM; VOUCH_ERR_INVAL for
 * NULL arguments. On every error the decision is DENY, no claims are
 * returned, and out->explanation says what failed.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_policy_eval(const struct vouch_policy *p,
                                                      const struct vouch_claims *in,
                                                      struct vouch_policy_result *out);
/** Releases the claim sets in @p r; safe on a zeroed or already freed result. */
VOUCH_API void vouch_policy_result_free(struct vouch_policy_result *r);

/**
 * Runs only the configurationrules over an empty claim set and returns the
 * property claims (new set; free with vouch_claims_free), so the service can
 * learn e.g. x-ms-sgx-tcbidentifier or required_pcr_mask before it verifies
 * the evidence. vouch_policy_eval runs the same rules over the real claims.
 * Errors as vouch_policy_eval.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_policy_properties(const struct vouch_policy *p,
                                                            struct vouch_claims **out);

/**
 * Calls @p fn for every claim type that a condition of @p p tests with
 * `type == "<literal>"` (any section, negated conditions too), in rule order,
 * with the literal (@p len bytes, not NUL-terminated). A type named twice is
 * reported twice. Lets a service check before evaluation that the evidence
 * can supply what the policy asks about (the TPM service refuses a quote that
 * does not select every PCR a policy names). Stops at @p fn's first non-OK
 * result and returns it; INVAL for NULL arguments.
 */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_policy_claim_types(const struct vouch_policy *p,
                         vouch_err (*fn)(void *ctx, const char *type, size_t len), void *ctx);

/**
 * The built-in policy text for an attestation type ("SgxEnclave",
 * "OpenEnclave", "TdxVm", "SevSnpVm", "Tpm", "SimEnclave"; case-sensitive),
 * as a static string that vouch_policy_parse accepts strictly.
 *  - SgxEnclave, OpenEnclave: MAA's default SGX policy, byte for byte as the
 *    shared provider ran it (its x-ms-policy-hash, bROrN897...Slw, matches a
 *    recorded MAA token): permit, and issue the legacy claims is-debuggable,
 *    sgx-mrsigner, sgx-mrenclave, product-id, svn and tee.
 *  - SevSnpVm: MAA's default SEV-SNP policy byte for byte (hash 9NY0VnTQ...gco,
 *    as in MAA's sample token): permit, issue nothing.
 *  - TdxVm: the same text as SevSnpVm (MAA publishes no TDX default).
 *  - SimEnclave: deny everything. Software-TEE evidence protects nothing from
 *    the host, so accepting it must be an explicit administrator decision.
 *  - Tpm: none (MAA has none either; the service must refuse until a policy
 *    is set).
 * @return VOUCH_OK; VOUCH_ERR_NOT_FOUND for Tpm (no default);
 * VOUCH_ERR_INVAL for an unknown type. *out is NULL on error.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_policy_default(const char *attestation_type,
                                                         const char **out);

/* Length of an x-ms-policy-hash (base64url of 32 bytes, no padding). */
#define VOUCH_POLICY_HASH_LEN 43u

/**
 * MAA's x-ms-policy-hash of a policy text: base64url(SHA-256(base64url(text)))
 * with unpadded base64url, over the exact bytes (whitespace included).
 * Checked against two real MAA tokens (see vouch_policy_default).
 * @param out receives VOUCH_POLICY_HASH_LEN characters and a NUL.
 * @return VOUCH_ERR_TOO_LARGE over VOUCH_MAX_POLICY_SIZE; VOUCH_ERR_NOMEM;
 * VOUCH_ERR_CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_policy_hash(const char *text, size_t len,
                                                      char out[VOUCH_POLICY_HASH_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
