/*
 * The Vouch software TEE ("sim"): platform material, reports and evidence.
 *
 * A software enclave has no hardware root of trust, so its evidence is our own
 * clearly labelled format, never an imitation of SGX or TDX. Each installation
 * has platform material in one directory (mode 0700, files 0600, created on
 * first use by vouch_sim_platform_open): a self-signed ECDSA P-256 CA
 * certificate named "Vouch software TEE CA", a platform signing key with a
 * certificate issued by that CA, and a 32-byte seal secret (see seal.h). The
 * platform agent in the enclave loader holds this material; the enclave never
 * does, so the enclave can only obtain reports for the identity the loader
 * measured.
 *
 * A report is a fixed little-endian structure of VOUCH_SIM_REPORT_LEN bytes:
 *
 *     off len  field
 *       0   8  magic "VOUCHSIM"
 *       8   2  version (VOUCH_SIM_REPORT_VERSION; any other value is refused)
 *      10   2  backend (enum vouch_tee_backend; sim evidence is always SIM)
 *      12   4  flags (bit 0: debug; any other bit is refused)
 *      16  32  measurement (like MRENCLAVE)
 *      48  32  signer_id (like MRSIGNER: SHA-256 of the signer's SPKI DER)
 *      80   2  product_id
 *      82   2  svn (security version)
 *      84   4  reserved, must be zero
 *      88   8  timestamp (signed Unix seconds when the report was signed)
 *      96  64  report_data (chosen by the enclave, e.g. a key hash + nonce)
 *
 * Evidence is report || signature || chain:
 *
 *     160  64  ECDSA P-256 SHA-256 signature over the 160 report bytes, raw r||s
 *     224   2  leaf certificate length L (1..VOUCH_MAX_CERT_SIZE), then L bytes DER
 *          2  CA certificate length C (1..VOUCH_MAX_CERT_SIZE), then C bytes DER
 *
 * and nothing after it. The evidence is detected by its first eight bytes.
 *
 * Verification (vouch_sim_evidence_verify) trusts only the CA certificates the
 * caller passes (never the CA inside the evidence, which must be byte-identical
 * to one of them): the CA and leaf must be valid at @c now, the leaf must be
 * issued and signed by the CA and not be a CA itself, the report timestamp must
 * lie in the leaf's validity window, and the signature must verify over the
 * exact report bytes. A verifier that accepts sim evidence accepts the security
 * of a single host's software: appraisal should treat it as debug-grade.
 *
 * Thread safety: a platform object may be shared between threads for signing
 * once opened.
 */
#ifndef VOUCH_SIM_H
#define VOUCH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_SIM_MAGIC           "VOUCHSIM"
#define VOUCH_SIM_MAGIC_LEN       8u
#define VOUCH_SIM_REPORT_VERSION  1u
#define VOUCH_SIM_REPORT_LEN      160u
#define VOUCH_SIM_SIG_LEN         64u
#define VOUCH_SIM_REPORT_DATA_LEN 64u
#define VOUCH_SIM_FLAG_DEBUG      0x1u
/* Seal secret size (the input keying material of seal.h). */
#define VOUCH_SIM_SEAL_SECRET_LEN 32u

/* Where a report or sealed blob comes from. Shared with seal.h. */
enum vouch_tee_backend {
    VOUCH_TEE_BACKEND_SIM = 1, /* the software TEE */
    VOUCH_TEE_BACKEND_SNP = 2, /* AMD SEV-SNP confidential VM (configfs-tsm) */
    VOUCH_TEE_BACKEND_TDX = 3, /* Intel TDX confidential VM (configfs-tsm) */
};

/** "sim", "snp", "tdx", or "unknown". */
VOUCH_API const char *vouch_tee_backend_name(enum vouch_tee_backend b);

/* The identity of an enclave image, as the loader measured it (same meaning as
 * struct vouch_enclave_identity of enclave_image.h). */
struct vouch_sim_identity {
    uint8_t measurement[32];
    uint8_t signer_id[32];
    uint16_t product_id;
    uint16_t svn;
    bool debug;
};

/* A parsed report: every field of the layout above. */
struct vouch_sim_report {
    uint16_t version;
    enum vouch_tee_backend backend;
    uint32_t flags;
    struct vouch_sim_identity id; /* id.debug mirrors flags & VOUCH_SIM_FLAG_DEBUG */
    int64_t timestamp;
    uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN];
};

/* ---- platform material (the loader's platform agent, and tests) ---- */

struct vouch_sim_platform;

/**
 * Opens the platform material in @p dir, creating it when the directory holds
 * none: the directory (mode 0700; an existing one must not be accessible to
 * group or others), "ca.pem" (CA certificate), "ca-key.pem", "platform.pem"
 * (platform certificate), "platform-key.pem" and "seal.secret" (32 bytes), all
 * 0600, each written to a temporary file and renamed into place. New
 * certificates are valid from @p now - 60 s: the CA for 10 years, the platform
 * certificate for 1 year. An existing directory with only some files is refused
 * (INVAL) rather than silently regenerated. Existing material is loaded as it
 * is; a platform certificate not valid at @p now is EXPIRED.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_sim_platform_open(const char *dir, int64_t now,
                                                            struct vouch_sim_platform **out);
/** Wipes the keys and the seal secret and frees @p p (accepts NULL). */
VOUCH_API void vouch_sim_platform_free(struct vouch_sim_platform *p);
/** Borrowed DER of the platform's CA certificate (the verifier's trust anchor). */
VOUCH_API void vouch_sim_platform_ca_der(const struct vouch_sim_platform *p, const uint8_t **der,
                                         size_t *len);
/** Borrowed seal secret (VOUCH_SIM_SEAL_SECRET_LEN bytes); see vouch_seal_derive_key. */
VOUCH_API const uint8_t *vouch_sim_platform_seal_secret(const struct vouch_sim_platform *p);

/**
 * Signs a report of @p id with @p report_data and timestamp @p now, and
 * returns the evidence (report, signature, leaf and CA certificates) in a new
 * buffer (*ev_out, free with vouch_free).
 */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_sim_report_sign(const struct vouch_sim_platform *p, const struct vouch_sim_identity *id,
                      const uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN], int64_t now,
                      uint8_t **ev_out, size_t *ev_len_out);

/* ---- evidence ---- */

/** True when @p p starts with the sim magic (no other check). */
VOUCH_API bool vouch_sim_evidence_detect(const uint8_t *p, size_t len);

/**
 * Parses evidence without verifying it: exact layout, known version, flags and
 * backend, zero reserved field, certificate lengths within limits and the
 * total length exact. The returned report is untrusted.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_sim_evidence_parse(const uint8_t *p, size_t len,
                                                             struct vouch_sim_report *out);

/**
 * Verifies evidence against the @p n_anchors trusted CA certificates in
 * @p anchors at time @p now, and fills @p out with the report only on success
 * (it is zeroed otherwise). Errors: PARSE/TRUNCATED/UNSUPPORTED for malformed
 * input, CHAIN when the CA is not one of the anchors or did not issue the leaf,
 * EXPIRED when a certificate is not valid at @p now or the report time is
 * outside the leaf's validity, SIGNATURE when a signature does not verify.
 * When @p detail is not NULL a human-readable reason is written to it
 * (@p detail_cap bytes, NUL-terminated) on failure.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_sim_evidence_verify(const uint8_t *p, size_t len,
                                                              struct vouch_x509 *const *anchors,
                                                              size_t n_anchors, int64_t now,
                                                              struct vouch_sim_report *out,
                                                              char *detail, size_t detail_cap);

#ifdef __cplusplus
}
#endif
#endif
