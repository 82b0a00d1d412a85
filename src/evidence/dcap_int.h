/*
 * Private to the DCAP verifier (collateral.c, tcb_info.c, dcap_verify.c):
 * parsed Intel collateral and the TCB evaluation that follows Intel's QVL
 * (QuoteVerifier.cpp, Checks/TcbLevelCheck.cpp, TdxModuleCheck.cpp,
 * TDRelaunchCheck.cpp, EnclaveReportVerifier.cpp).
 *
 * Everything here is built once per collateral object and then only read, so
 * a struct vouch_collateral can be shared between threads. TCB levels are kept
 * in the order QVL walks them (a descending std::set keyed by SGX components,
 * then PCESVN, then TDX components); TDX module identity levels descend by
 * ISVSVN; QE identity levels stay in JSON order, because QVL keeps them in a
 * vector and takes the first level whose ISVSVN is not above the report's.
 */
#ifndef VOUCH_EVIDENCE_DCAP_INT_H
#define VOUCH_EVIDENCE_DCAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/evidence.h>
#include <vouch/limits.h>

#include "evidence_int.h"

#define VOUCH_DCAP_TCB_COMPS     16u
#define VOUCH_DCAP_FMSPC_LEN     6u
#define VOUCH_DCAP_PCEID_LEN     2u
#define VOUCH_DCAP_MODULE_ID_LEN 16u

/* SHA-256 of the DER Intel SGX Root CA certificate: the one trust anchor. */
extern const uint8_t vouch__intel_root_fp[VOUCH_SHA256_LEN];

/* Advisory IDs of one level: a slice [off, off + n) of the owner's pool. */
struct vouch__adv_ref {
    size_t off;
    size_t n;
};

struct vouch__tcb_level {
    uint8_t sgx[VOUCH_DCAP_TCB_COMPS]; /* sgxtcbcomponents[i].svn */
    uint8_t tdx[VOUCH_DCAP_TCB_COMPS]; /* tdxtcbcomponents[i].svn (TDX only) */
    uint32_t pcesvn;
    enum vouch_tcb_status status;
    int64_t tcb_date;
    struct vouch__adv_ref adv;
};

struct vouch__module_level {
    uint32_t isvsvn;
    enum vouch_tcb_status status; /* UpToDate, OutOfDate or Revoked */
    int64_t tcb_date;
    struct vouch__adv_ref adv;
};

struct vouch__module_identity {
    char id[VOUCH_DCAP_MODULE_ID_LEN]; /* upper-cased, as QVL compares it */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    struct vouch__module_level *levels; /* descending ISVSVN */
    size_t n_levels;
};

struct vouch__tcb_info {
    int version; /* 2 or 3 */
    bool is_tdx; /* id "TDX" (v3 only) */
    int64_t issue_date;
    int64_t next_update;
    uint8_t fmspc[VOUCH_DCAP_FMSPC_LEN];
    uint8_t pceid[VOUCH_DCAP_PCEID_LEN];
    int64_t eval_number;
    /* tdxModule (required for TDX) */
    uint8_t module_mrsigner[48];
    uint8_t module_attributes[8];
    uint8_t module_attributes_mask[8];
    bool has_module_identities;
    struct vouch__module_identity *modules;
    size_t n_modules;
    struct vouch__tcb_level *levels; /* QVL order: descending */
    size_t n_levels;
    char (*adv)[VOUCH_MAX_ADVISORY_LEN]; /* pool shared by all levels */
    size_t n_adv;
};

enum vouch__qe_id {
    VOUCH__QE_ID_QE = 1,
    VOUCH__QE_ID_QVE = 2,
    VOUCH__QE_ID_TD_QE = 3,
};

struct vouch__qe_level {
    uint32_t isvsvn;
    enum vouch_tcb_status status;
    int64_t tcb_date;
    struct vouch__adv_ref adv;
};

struct vouch__qe_identity {
    enum vouch__qe_id id;
    int version;
    int64_t issue_date;
    int64_t next_update;
    int64_t eval_number;
    uint32_t miscselect; /* hex bytes read in report (little-endian) order */
    uint32_t miscselect_mask;
    uint8_t attributes[16];
    uint8_t attributes_mask[16];
    uint8_t mrsigner[32];
    uint32_t isvprodid;
    struct vouch__qe_level *levels; /* JSON order, as QVL walks them */
    size_t n_levels;
    char (*adv)[VOUCH_MAX_ADVISORY_LEN];
    size_t n_adv;
};

/** Parses a TCB Info body (the signed `tcbInfo` object, v2 or v3); levels are
 *  sorted as QVL sorts them and duplicates rejected. Free with _free. */
VOUCH_NODISCARD vouch_err vouch__tcb_info_parse(const char *json, size_t len,
                                                struct vouch__tcb_info *out, char *detail,
                                                size_t detail_cap);
void vouch__tcb_info_free(struct vouch__tcb_info *ti);

/** Parses a QE Identity body (the signed `enclaveIdentity` object, v2). */
VOUCH_NODISCARD vouch_err vouch__qe_identity_parse(const char *json, size_t len,
                                                   struct vouch__qe_identity *out, char *detail,
                                                   size_t detail_cap);
void vouch__qe_identity_free(struct vouch__qe_identity *qi);

/** Finds the module identity "TDX_%02X" for @p version (case-insensitive); NULL if absent. */
const struct vouch__module_identity *
vouch__tdx_module_identity_find(const struct vouch__tcb_info *ti, uint8_t version);

/**
 * EnclaveReportVerifier: checks the QE report against the identity. Returns
 * MISMATCH (with @p detail) when MISCSELECT, ATTRIBUTES, MRSIGNER or ISVPRODID
 * disagree; otherwise OK with @p status_out UpToDate, OutOfDate, Revoked or
 * TcbNotSupported (no level at or below the report's ISVSVN) and the matched
 * level in @p level_out (NULL when none).
 */
VOUCH_NODISCARD vouch_err vouch__qe_identity_check(const struct vouch__qe_identity *qi,
                                                   const struct vouch_sgx_report *r,
                                                   enum vouch_tcb_status *status_out,
                                                   const struct vouch__qe_level **level_out,
                                                   char *detail, size_t detail_cap);

/* Inputs to the TCB level check, independent of the quote structure so the
 * algorithm can be tested on its own. */
struct vouch__tcb_input {
    bool tdx;               /* TDX quote and TDX TCB Info */
    uint16_t quote_version; /* 3, 4 or 5 */
    bool td15;              /* TD report 1.5 body (TEE_TCB_SVN2 present) */
    uint8_t pck_comps[VOUCH_DCAP_TCB_COMPS];
    uint32_t pck_pcesvn;
    uint8_t tee_tcb_svn[VOUCH_DCAP_TCB_COMPS];
    uint8_t tee_tcb_svn2[VOUCH_DCAP_TCB_COMPS];
    bool has_qe_status;
    enum vouch_tcb_status qe_status; /* UpToDate, OutOfDate, Revoked, TcbNotSupported */
};

struct vouch__tcb_eval {
    enum vouch_tcb_status status;          /* converged */
    enum vouch_tcb_status platform_status; /* matched level (TDX level for TDX) */
    enum vouch_tcb_status module_status;   /* NONE when no module identity applies */
    const struct vouch__tcb_level *level;  /* matched level reported (NULL if none) */
    const struct vouch__tcb_level *sgx_level;
    const struct vouch__module_level *module_level;
    const struct vouch__module_identity *module;
    bool relaunch_advised;
};

/**
 * checkTcbLevel with convergence (QE, TDX module, TD relaunch). Returns OK
 * with a status in @p out (TcbNotSupported included), or MISMATCH when a TDX
 * module identity that QVL requires is missing (detail says which).
 */
VOUCH_NODISCARD vouch_err vouch__tcb_evaluate(const struct vouch__tcb_info *ti,
                                              const struct vouch__tcb_input *in,
                                              struct vouch__tcb_eval *out, char *detail,
                                              size_t detail_cap);

/* The individual QVL rules, exposed for tests. */
enum vouch_tcb_status vouch__tcb_converge_qe(enum vouch_tcb_status level, enum vouch_tcb_status qe);
enum vouch_tcb_status vouch__tcb_converge_module(enum vouch_tcb_status level,
                                                 enum vouch_tcb_status module);

/* ---------------- collateral ---------------- */

#define VOUCH__COLL_MAX_WINDOWS 10u

/* A dated item and the window in which it is valid (both ends inclusive). */
struct vouch__window {
    const char *item; /* static name, e.g. "pck_crl" */
    int64_t not_before;
    int64_t not_after;
};

struct vouch_collateral {
    struct vouch_x509 *root;       /* the pinned root, as found in the chains */
    struct vouch_x509 *pck_ca;     /* PCK Processor/Platform CA (pck_crl_issuer_chain) */
    struct vouch_x509 *tcb_signer; /* TCB Signing (tcb_info_issuer_chain) */
    struct vouch_x509 *qe_signer;  /* TCB Signing (qe_identity_issuer_chain) */
    uint8_t pck_ca_fp[VOUCH_SHA256_LEN];
    bool pck_ca_ok;   /* pck_ca chains to the root, has the right CN, is not revoked */
    char *root_b64;   /* base64 of the root's DER, to recognise it in PEM text */
    char *pck_ca_b64; /* same for pck_ca */
    struct vouch_crl *root_crl;
    struct vouch_crl *pck_crl;
    struct vouch__tcb_info tcb_info;
    struct vouch__qe_identity qe_identity;

    /* First time-independent failure found at parse (VOUCH_OK if none). */
    vouch_err verdict;
    char verdict_detail[VOUCH_MAX_ERROR_DETAIL];

    struct vouch__window windows[VOUCH__COLL_MAX_WINDOWS];
    size_t n_windows;
    int64_t not_before; /* intersection of all windows */
    int64_t not_after;

    /* SHA-256 of each item as received (vouch_collateral_digests). */
    struct vouch_collateral_digests digests;
};

/*
 * The base64 bodies of a PEM bundle of plain CERTIFICATE blocks, whitespace
 * removed, so a certificate already known can be recognised by its text
 * without decoding or parsing it (an X.509 parse costs OpenSSL 3 a provider
 * decoder set-up). Anything but plain blocks makes vouch__pem_blocks return
 * false, and callers fall back to the general PEM parser: this decides only
 * how fast, never what is accepted.
 */
struct vouch__pem_blocks {
    char *buf; /* owned */
    size_t off[VOUCH_MAX_CHAIN_DEPTH];
    size_t len[VOUCH_MAX_CHAIN_DEPTH];
    size_t n;
};

bool vouch__pem_blocks(const uint8_t *p, size_t len, size_t want, struct vouch__pem_blocks *out);
void vouch__pem_blocks_free(struct vouch__pem_blocks *b);
/** True when block @p i is exactly the text @p b64 (NULL never matches). */
bool vouch__pem_block_is(const struct vouch__pem_blocks *b, size_t i, const char *b64);
/** Decodes and parses block @p i. */
VOUCH_NODISCARD vouch_err vouch__pem_block_x509(const struct vouch__pem_blocks *b, size_t i,
                                                struct vouch_x509 **out);

/** vouch_collateral_parse with a reason for a parse failure in @p detail. */
VOUCH_NODISCARD vouch_err vouch__collateral_parse(const uint8_t *json, size_t len,
                                                  struct vouch_collateral **out, char *detail,
                                                  size_t detail_cap);

/** Name of the item violated at @p now with the earliest expiry (or, if none
 *  expired, the latest start), or NULL when every window contains @p now. */
const char *vouch__windows_check(const struct vouch__window *w, size_t n, int64_t now);

/* Process-wide cache of PCK leaf certificates verified as signed by the CA
 * with fingerprint @p ca_fp (pck_cache.c). get returns a new reference or NULL. */
struct vouch_x509 *vouch__pck_cache_get(const uint8_t key[VOUCH_SHA256_LEN],
                                        const uint8_t ca_fp[VOUCH_SHA256_LEN]);
void vouch__pck_cache_put(const uint8_t key[VOUCH_SHA256_LEN],
                          const uint8_t ca_fp[VOUCH_SHA256_LEN], struct vouch_x509 *leaf);

/* Built-in Intel CA certificates (intel_certs.c). find returns a new reference
 * to the checked object whose base64 text is exactly @p b64, or NULL; checked
 * says whether @p x is one of the built-in CAs verified against the root. */
struct vouch_x509 *vouch__intel_cert_find(const char *b64, size_t len);
bool vouch__intel_cert_checked(const struct vouch_x509 *x);

#endif
