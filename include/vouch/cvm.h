/*
 * Confidential-VM enclave evidence: what vouch_rt_get_evidence returns in the
 * CVM backend (vouch_enclave_config.backend = VOUCH_ENCLAVE_BACKEND_CVM), and
 * how a verifier checks it.
 *
 * In a confidential VM (AMD SEV-SNP, Intel TDX) the hardware measures and
 * signs for the whole VM, never for one enclave image inside it: an SNP
 * report carries the VM's launch MEASUREMENT, a TDX quote its MRTD and RTMRs,
 * and both carry 64 bytes of report data chosen by the guest. The CVM backend
 * keeps the enclave a sandboxed process inside the VM (the same loader,
 * channel, sandbox and stubs as the software backend) and binds the enclave
 * image to the hardware report through those 64 bytes:
 *
 *     hardware report data = SHA-512( "vouch-cvm-enclave-v1"   (20 bytes, no NUL)
 *                                   || measurement[32] || signer_id[32]
 *                                   || u16le product_id || u16le svn
 *                                   || u8 flags (bit 0: debug)
 *                                   || enclave report_data[64] )
 *
 * (vouch_cvm_bind). Every input has a fixed length, so no two inputs hash the
 * same bytes. The loader's platform agent computes it from the identity *it*
 * measured and the report data the enclave asked for, writes it to a fresh
 * configfs-tsm entry (tsm.h) and wraps the hardware report in the envelope
 * below, which repeats the identity and the enclave's report data in the clear
 * so that a verifier can recompute the hash and compare.
 *
 * What this proves, and what it does not. The hardware signature proves that
 * a VM with the reported launch measurement asked for a report over these 64
 * bytes. That the bytes name *this enclave image* rests on the software of
 * that VM: any process of the VM allowed to write configfs-tsm (root) can get
 * a report over any bytes, including a hash naming an image that never ran.
 * So a verifier must first accept the VM (its launch measurement, and through
 * it the kernel, the loader and who may be root inside) before the enclave
 * identity means anything; the identity then distinguishes enclaves *within*
 * an accepted VM. Appraise both: the hardware claims (measurement or MRTD,
 * TCB, debug policy of the VM) and the enclave identity (measurement, signer,
 * product id, minimum svn, debug flag).
 *
 * Envelope layout (little-endian):
 *
 *     off len  field
 *       0   8  magic "VOUCHCVM"
 *       8   2  version (VOUCH_CVM_VERSION; any other value is refused)
 *      10   2  backend (enum vouch_tee_backend: SNP or TDX, from the provider)
 *      12   4  flags (bit 0: debug image; any other bit is refused)
 *      16  32  measurement of the enclave image (enclave_image.h)
 *      48  32  signer_id
 *      80   2  product_id
 *      82   2  svn
 *      84   4  reserved, must be zero
 *      88  64  report_data the enclave asked for
 *     152   4  hardware evidence length H (1..VOUCH_MAX_TSM_BLOB)
 *     156   4  auxblob length A (0..VOUCH_MAX_TSM_BLOB)
 *     160   H  hardware evidence: the configfs-tsm outblob (SNP attestation
 *              report or TDX quote), byte for byte
 *   160+H   A  the configfs-tsm auxblob (SNP: the host's certificate table
 *              with the VCEK, when the host provides one), byte for byte
 *
 * and nothing after it. The whole envelope is at most VOUCH_MAX_EVIDENCE_SIZE
 * (the agent refuses a larger one with TOO_LARGE).
 *
 * Sealing. configfs-tsm offers no platform secret. SNP has one (the derived
 * key of MSG_KEY_REQ via /dev/sev-guest), TDX has none; the CVM backend
 * therefore refuses sealing: vouch_rt_seal, vouch_rt_unseal and
 * vouch_rt_get_seal_key return VOUCH_ERR_UNSUPPORTED. Keys for a CVM enclave
 * come from a key-release service that appraised its evidence.
 */
#ifndef VOUCH_CVM_H
#define VOUCH_CVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/evidence.h>
#include <vouch/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_CVM_MAGIC           "VOUCHCVM"
#define VOUCH_CVM_MAGIC_LEN       8u
#define VOUCH_CVM_VERSION         1u
#define VOUCH_CVM_HEADER_LEN      160u
#define VOUCH_CVM_REPORT_DATA_LEN 64u
#define VOUCH_CVM_FLAG_DEBUG      0x1u
/* Domain separation of the binding hash (hashed without its NUL). */
#define VOUCH_CVM_BIND_TAG     "vouch-cvm-enclave-v1"
#define VOUCH_CVM_BIND_TAG_LEN 20u
/* SNP MEASUREMENT and TDX MRTD (SHA-384). */
#define VOUCH_CVM_HW_MEASUREMENT_LEN 48u

/* A parsed envelope. Pointers borrow from the parsed bytes. Untrusted until
 * vouch_cvm_evidence_verify returned VOUCH_OK. */
struct vouch_cvm_evidence {
    enum vouch_tee_backend backend; /* SNP or TDX */
    struct vouch_sim_identity id;   /* the enclave image, as the agent measured it */
    uint8_t report_data[VOUCH_CVM_REPORT_DATA_LEN]; /* what the enclave asked for */
    const uint8_t *hw;                              /* hardware evidence (SNP report / TDX quote) */
    size_t hw_len;
    const uint8_t *aux; /* auxblob, NULL when empty */
    size_t aux_len;
    /* From the hardware report: the VM's launch measurement (SNP MEASUREMENT
     * or TDX MRTD) and whether the VM itself is debuggable. */
    uint8_t hw_measurement[VOUCH_CVM_HW_MEASUREMENT_LEN];
    bool hw_debug;
};

/**
 * Computes the hardware report data that binds @p id and the enclave's
 * @p report_data (the SHA-512 above) into @p out.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_cvm_bind(
    const struct vouch_sim_identity *id, const uint8_t report_data[VOUCH_CVM_REPORT_DATA_LEN],
    uint8_t out[VOUCH_CVM_REPORT_DATA_LEN]);

/**
 * Builds an envelope (*ev_out, free with vouch_free) around hardware evidence
 * @p hw and the optional auxblob @p aux. Checks nothing about @p hw: the
 * agent's configfs-tsm client has already checked its format and report data.
 * INVAL for a backend other than SNP/TDX or an empty @p hw, TOO_LARGE when a
 * blob exceeds VOUCH_MAX_TSM_BLOB or the envelope VOUCH_MAX_EVIDENCE_SIZE.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_cvm_evidence_build(
    enum vouch_tee_backend backend, const struct vouch_sim_identity *id,
    const uint8_t report_data[VOUCH_CVM_REPORT_DATA_LEN], const uint8_t *hw, size_t hw_len,
    const uint8_t *aux, size_t aux_len, uint8_t **ev_out, size_t *ev_len_out);

/** True when @p p starts with the CVM envelope magic (no other check). */
VOUCH_API bool vouch_cvm_evidence_detect(const uint8_t *p, size_t len);

/**
 * Parses an envelope and checks everything that needs no signature: exact
 * layout and length, known version, flags and backend, zero reserved field;
 * the hardware evidence parses (vouch_evidence_inspect) as the format of the
 * backend; and its report data equals vouch_cvm_bind(identity, report data)
 * (constant-time). Errors: PARSE/TRUNCATED/UNSUPPORTED/TOO_LARGE for a
 * malformed envelope, the evidence parser's error for malformed hardware
 * evidence, MISMATCH when the format differs from the backend or the binding
 * does not hold. @p out is filled only on success (zeroed otherwise).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_cvm_evidence_parse(const uint8_t *p, size_t len,
                                                             struct vouch_cvm_evidence *out);

/**
 * vouch_cvm_evidence_parse, then vouch_evidence_verify of the hardware
 * evidence with @p opts (SNP: opts->vcek is required, e.g. the VCEK from the
 * auxblob's certificate table or from AMD's KDS; TDX: collateral). Always
 * fills @p res (free with vouch_verify_result_free whatever the result): with
 * the hardware verdict, or with the envelope's error when parsing failed
 * before. Returns VOUCH_OK exactly when the envelope parsed, the binding holds
 * and the hardware evidence verified; @p out is filled only then.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_cvm_evidence_verify(const uint8_t *p, size_t len,
                                                              const struct vouch_verify_opts *opts,
                                                              struct vouch_verify_result *res,
                                                              struct vouch_cvm_evidence *out);

#ifdef __cplusplus
}
#endif
#endif
