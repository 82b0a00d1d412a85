/*
 * Evidence: parse and verify hardware attestation evidence.
 *
 * Formats: Intel SGX DCAP quotes (v3, v4, v5), Intel TDX quotes (v4, v5 with TD
 * report 1.0 or 1.5), AMD SEV-SNP attestation reports and Vouch software TEE
 * ("sim") evidence. The format is detected from the bytes.
 *
 * Verification is separate from appraisal. vouch_evidence_verify() answers
 * "is this evidence genuine, and what does it say?": signatures, certificate
 * chains to pinned vendor roots (never a root taken from the evidence), CRLs,
 * collateral signatures and validity at the caller's evaluation time, and the
 * TCB level the platform matches, following Intel's QVL. It never decides
 * whether a debug enclave or an out-of-date TCB is acceptable: that is policy.
 *
 * Time is an input: every verification takes @c now (Unix seconds). Collateral
 * that is expired or not yet valid at @c now still yields a full verdict (TCB
 * status, claims) with @c collateral_expired set, @c verified false and the
 * offending item named, as Intel's QvE does.
 *
 * Usage:
 *
 *     struct vouch_verify_opts o = { .now = t, .collateral = json, .collateral_len = n };
 *     struct vouch_verify_result res;
 *     vouch_err rc = vouch_evidence_verify(quote, quote_len, &o, &res);
 *     ... rc == VOUCH_OK iff res.verified; res.status, res.claims in either case ...
 *     vouch_verify_result_free(&res);
 */
#ifndef VOUCH_EVIDENCE_H
#define VOUCH_EVIDENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vouch_evidence_format {
    VOUCH_EVIDENCE_UNKNOWN = 0,
    VOUCH_EVIDENCE_SGX = 1, /* Intel SGX DCAP ECDSA quote */
    VOUCH_EVIDENCE_TDX = 2, /* Intel TDX DCAP ECDSA quote */
    VOUCH_EVIDENCE_SNP = 3, /* AMD SEV-SNP attestation report */
    VOUCH_EVIDENCE_SIM = 4, /* Vouch software TEE report (include/vouch/sim.h) */
};

/** "sgx", "tdx", "snp", "sim" or "unknown". */
VOUCH_API const char *vouch_evidence_format_name(enum vouch_evidence_format f);

/* TCB status, named as Intel names them (PRODUCT.md §3). NONE means no TCB
 * evaluation happened (e.g. verification failed before it, or SEV-SNP, which
 * has no vendor status: appraise its TCB claims with policy). */
enum vouch_tcb_status {
    VOUCH_TCB_NONE = 0,
    VOUCH_TCB_UP_TO_DATE,
    VOUCH_TCB_SW_HARDENING_NEEDED,
    VOUCH_TCB_CONFIGURATION_NEEDED,
    VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    VOUCH_TCB_OUT_OF_DATE,
    VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    VOUCH_TCB_TD_RELAUNCH_ADVISED,
    VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    VOUCH_TCB_REVOKED,
    VOUCH_TCB_NOT_SUPPORTED,
};

/** Intel's name ("UpToDate", "TcbNotSupported", ...); "None" for NONE. */
VOUCH_API const char *vouch_tcb_status_name(enum vouch_tcb_status s);
/** Parses an Intel tcbStatus string; NOT_FOUND if unrecognised. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tcb_status_parse(const char *s, size_t len,
                                                           enum vouch_tcb_status *out);

/* Parsed and verified DCAP collateral, reusable across quotes (see
 * vouch_collateral_parse). Opaque; immutable once built, so it may be shared
 * between threads. */
struct vouch_collateral;

/**
 * Parses collateral in the QuoteCollateralV3 JSON shape (see docs/evidence.md)
 * and verifies everything in it that does not depend on a quote or on time:
 * the TCB signing chain, TCB Info and QE Identity signatures over the exact
 * bytes received, and the CRL signatures. Those verdicts are kept in the object
 * and reported by every verification that uses it, so a quote verified with
 * cached collateral gets the same answer as with fresh collateral. Returns PARSE
 * for malformed input; signature failures are not errors here.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_collateral_parse(const uint8_t *json, size_t len,
                                                           struct vouch_collateral **out);
VOUCH_API void vouch_collateral_free(struct vouch_collateral *c);

/* SHA-256 of each collateral item exactly as received: the bytes of the
 * field's string value in the QuoteCollateralV3 JSON (a signed body as the
 * document carries it, a PEM chain, a CRL in whatever encoding it came). A token reports them
 * (x-ms-sgx-collateral) so a relying party can tell which collateral a verdict rests on. */
struct vouch_collateral_digests {
    uint8_t tcb_info[VOUCH_SHA256_LEN];
    uint8_t tcb_info_chain[VOUCH_SHA256_LEN];
    uint8_t qe_identity[VOUCH_SHA256_LEN];
    uint8_t qe_identity_chain[VOUCH_SHA256_LEN];
    uint8_t root_ca_crl[VOUCH_SHA256_LEN];
    uint8_t pck_crl[VOUCH_SHA256_LEN];
};
/** The digests of @p c's items, computed when it was parsed. */
VOUCH_API void vouch_collateral_digests(const struct vouch_collateral *c,
                                        struct vouch_collateral_digests *out);

/* The Intel CA that issued a PCK certificate: it selects the PCK CRL
 * (PCS pckcrl?ca=processor|platform). */
enum vouch_pck_ca {
    VOUCH_PCK_CA_UNKNOWN = 0,
    VOUCH_PCK_CA_PROCESSOR = 1, /* "Intel SGX PCK Processor CA" */
    VOUCH_PCK_CA_PLATFORM = 2,  /* "Intel SGX PCK Platform CA" */
};

/* The platform a DCAP quote comes from, or a collateral set is for: enough
 * to pick the right collateral out of a cache before verifying. */
struct vouch_dcap_platform {
    enum vouch_evidence_format tee; /* SGX or TDX */
    uint8_t fmspc[6];
    int64_t not_after;        /* collateral only: end of its validity window */
    enum vouch_pck_ca pck_ca; /* quote only: issuer of the PCK leaf */
    int64_t not_before;       /* collateral only: start of its validity window */
};

/**
 * Reads the TEE type and the FMSPC (from the PCK certificate's SGX extension)
 * of a DCAP quote, without verifying anything. For cache lookups only: the
 * answer is untrusted until vouch_evidence_verify checks the chain.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_evidence_dcap_platform(const uint8_t *p, size_t len,
                                                                 struct vouch_dcap_platform *out);
/** The TEE type and FMSPC that collateral @p c is for (from its TCB Info). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_collateral_platform(const struct vouch_collateral *c,
                                                              struct vouch_dcap_platform *out);

struct vouch_verify_opts {
    int64_t now; /* evaluation time, Unix seconds (required) */

    /* Intel: either pre-parsed collateral or the JSON bytes. */
    const struct vouch_collateral *collateral_obj;
    const uint8_t *collateral;
    size_t collateral_len;

    /* AMD: the VCEK (DER or PEM). ASK/ARK are built in and pinned. */
    const uint8_t *vcek;
    size_t vcek_len;
    /* AMD: optional KDS CRL (DER/PEM) signed by the ARK. */
    const uint8_t *snp_crl;
    size_t snp_crl_len;

    /* Vouch software TEE: the trusted local CA certificate(s), DER or a PEM
     * bundle. Sim evidence never verifies without it (include/vouch/sim.h). */
    const uint8_t *sim_ca;
    size_t sim_ca_len;
};

struct vouch_verify_result {
    enum vouch_evidence_format format;
    bool verified;                /* every signature, chain, CRL and collateral check passed */
    bool collateral_expired;      /* some dated item is outside its window at now */
    enum vouch_tcb_status status; /* converged TCB status */
    enum vouch_tcb_status platform_status; /* from the TCB level alone */
    enum vouch_tcb_status qe_status;       /* QE identity TCB status */
    enum vouch_tcb_status module_status;   /* TDX module identity status */
    size_t n_advisories;
    char advisories[VOUCH_MAX_ADVISORIES][VOUCH_MAX_ADVISORY_LEN];
    int64_t tcb_date;                          /* matched platform TCB level date (0 if none) */
    int64_t tcb_eval_number;                   /* tcbEvaluationDataNumber (-1 if none) */
    vouch_err error;                           /* first failure, VOUCH_OK when verified */
    char error_detail[VOUCH_MAX_ERROR_DETAIL]; /* human-readable reason */
    char expired_item[64];                     /* which item was outside its window */
    json_t *claims; /* owned: format-specific claims (see docs/evidence.md) */
};

/** Releases the claims; the struct may then be reused. Safe on a zeroed struct. */
VOUCH_API void vouch_verify_result_free(struct vouch_verify_result *r);

/** Detects the format from the bytes (no verification). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_evidence_detect(const uint8_t *p, size_t len,
                                                          enum vouch_evidence_format *out);

/**
 * Parses without verifying and returns every field as claims (a new JSON
 * object owned by the caller). Hashes and identities are lowercase hex.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_evidence_inspect(const uint8_t *p, size_t len,
                                                           enum vouch_evidence_format *fmt_out,
                                                           json_t **claims_out);

/**
 * Verifies evidence. Always fills @p res (free it with vouch_verify_result_free
 * whatever the return value). Returns VOUCH_OK exactly when res->verified is
 * true; otherwise the error class of the first failure, with res->error_detail
 * saying what failed. A TCB status other than UpToDate does not make the
 * evidence unverified: appraisal decides.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_evidence_verify(const uint8_t *p, size_t len,
                                                          const struct vouch_verify_opts *opts,
                                                          struct vouch_verify_result *res);

/** The result as the JSON object of `vouch evidence verify --json` (new reference). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_verify_result_json(const struct vouch_verify_result *r,
                                                             json_t **out);

#ifdef __cplusplus
}
#endif
#endif
