/*
 * Private to src/evidence: the parsed forms of DCAP quotes, SEV-SNP reports
 * and Intel collateral, and the entry points the per-format verifiers expose
 * to evidence.c (detection, dispatch, result JSON).
 *
 * Parsed structures borrow nothing: fixed-size fields are copied out of the
 * input by the bounds-checked reader, and the few variable-length fields
 * (QE auth data, certification data) are views into the caller's buffer that
 * live only as long as it does.
 */
#ifndef VOUCH_EVIDENCE_INT_H
#define VOUCH_EVIDENCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/evidence.h>

/* ---------------- Intel DCAP quotes ---------------- */

#define VOUCH_DCAP_HEADER_LEN         48u
#define VOUCH_SGX_REPORT_BODY_LEN     384u
#define VOUCH_TD10_REPORT_BODY_LEN    584u
#define VOUCH_TD15_REPORT_BODY_LEN    648u
#define VOUCH_DCAP_TEE_SGX            0x00000000u
#define VOUCH_DCAP_TEE_TDX            0x00000081u
#define VOUCH_DCAP_ATT_KEY_ECDSA_P256 2u
#define VOUCH_DCAP_CERT_PCK_CHAIN     5u
#define VOUCH_DCAP_CERT_QE_REPORT     6u

/* sgx_report_body_t (also used for the QE report). */
struct vouch_sgx_report {
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t isvextprodid[16];
    uint8_t attributes[16]; /* flags (u64 LE) then XFRM (u64 LE), as in the report */
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint8_t configid[64];
    uint16_t isvprodid;
    uint16_t isvsvn;
    uint16_t configsvn;
    uint8_t isvfamilyid[16];
    uint8_t reportdata[64];
    uint8_t raw[VOUCH_SGX_REPORT_BODY_LEN]; /* the exact bytes (QE report is signed over them) */
};

/* TD report body (TDX 1.0; the 1.5 fields are zero when !is_td15). */
struct vouch_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48];
    uint8_t mrsignerseam[48];
    uint8_t seamattributes[8];
    uint8_t tdattributes[8];
    uint8_t xfam[8];
    uint8_t mrtd[48];
    uint8_t mrconfigid[48];
    uint8_t mrowner[48];
    uint8_t mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t reportdata[64];
    bool is_td15;
    uint8_t tee_tcb_svn2[16];
    uint8_t mrservicetd[48];
};

struct vouch_dcap_quote {
    /* header */
    uint16_t version; /* 3, 4 or 5 */
    uint16_t att_key_type;
    uint32_t tee_type; /* VOUCH_DCAP_TEE_SGX or _TDX */
    uint16_t qe_svn;   /* v3 only (reserved in v4/v5) */
    uint16_t pce_svn;
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    uint16_t body_type; /* v5 descriptor: 1 SGX, 2 TD 1.0, 3 TD 1.5; derived for v3/v4 */

    /* body: exactly one is meaningful, per tee_type */
    struct vouch_sgx_report sgx;
    struct vouch_td_report td;

    /* signed region of the quote: [0, signed_len) */
    size_t signed_len;

    /* signature data */
    uint8_t signature[64];  /* r||s over [0, signed_len) by the attestation key */
    uint8_t attest_key[64]; /* X||Y, P-256 */
    struct vouch_sgx_report qe_report;
    uint8_t qe_report_sig[64]; /* r||s over qe_report.raw by the PCK leaf key */
    const uint8_t *qe_auth;    /* view into the input */
    size_t qe_auth_len;
    uint16_t cert_type;       /* inner certification data type (5 for the PCK chain) */
    const uint8_t *cert_data; /* view into the input: PEM chain for type 5 */
    size_t cert_data_len;

    size_t quote_len;    /* bytes the declared lengths account for */
    size_t trailing_len; /* bytes after the quote (zero padding is common) */
};

/** Parses a DCAP quote with the bounds-checked reader. Views point into @p p. */
VOUCH_NODISCARD vouch_err vouch__dcap_quote_parse(const uint8_t *p, size_t len,
                                                  struct vouch_dcap_quote *out);
/** Adds every quote field to @p claims (lowercase hex). */
VOUCH_NODISCARD vouch_err vouch__dcap_quote_claims(const struct vouch_dcap_quote *q,
                                                   json_t *claims);

/* Intel PCK certificate SGX extension (OID 1.2.840.113741.1.13.1). */
struct vouch_pck_ext {
    uint8_t ppid[16];
    uint8_t tcb_comp[16]; /* SGX TCB component SVNs 1..16 */
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pceid[2];
    uint8_t fmspc[6];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 Scalable with integrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_config;
    bool dynamic_platform, cached_keys, smt_enabled;
};

/** Parses the extension's value (the DER SEQUENCE inside extnValue). */
VOUCH_NODISCARD vouch_err vouch__pck_ext_parse(const uint8_t *p, size_t len,
                                               struct vouch_pck_ext *out);

/** Verifies a parsed quote against collateral; fills @p res (claims included). */
VOUCH_NODISCARD vouch_err vouch__dcap_verify(const uint8_t *p, size_t len,
                                             const struct vouch_dcap_quote *q,
                                             const struct vouch_verify_opts *opts,
                                             struct vouch_verify_result *res);

/* ---------------- AMD SEV-SNP ---------------- */

#define VOUCH_SNP_REPORT_LEN 0x4a0u
#define VOUCH_SNP_SIGNED_LEN 0x2a0u

struct vouch_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t sig_algo;
    uint64_t current_tcb;
    uint64_t platform_info;
    uint32_t signer_info; /* author_key_en, mask_chip_key, signing_key */
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    uint64_t reported_tcb;
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+ */
    uint8_t chip_id[64];
    uint64_t committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector, current_mit_vector; /* v5+ */
    uint8_t sig_r[72];                              /* little-endian */
    uint8_t sig_s[72];
};

VOUCH_NODISCARD vouch_err vouch__snp_report_parse(const uint8_t *p, size_t len,
                                                  struct vouch_snp_report *out);
VOUCH_NODISCARD vouch_err vouch__snp_report_claims(const struct vouch_snp_report *r,
                                                   json_t *claims);
VOUCH_NODISCARD vouch_err vouch__snp_verify(const uint8_t *p, size_t len,
                                            const struct vouch_snp_report *r,
                                            const struct vouch_verify_opts *opts,
                                            struct vouch_verify_result *res);

/* ---------------- shared helpers (evidence.c) ---------------- */

/** Records the first failure in @p res (later calls keep the first) and returns @p err. */
vouch_err vouch__result_fail(struct vouch_verify_result *res, vouch_err err, const char *fmt, ...)
    VOUCH_PRINTF(3, 4);
/** Marks collateral expired, naming @p item (first one wins). */
void vouch__result_expired(struct vouch_verify_result *res, const char *item);
/** Adds an advisory ID if not already present (silently capped). */
void vouch__result_add_advisory(struct vouch_verify_result *res, const char *id, size_t len);

#endif
