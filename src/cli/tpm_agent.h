/*
 * The TPM side of `vouch tpm attest|extend|ak`: a thin layer over libtss2-esys
 * and the TCTI loader, so the protocol code in cmd_tpm_attest.c never touches
 * ESYS types. Everything here talks to one TPM through one TCTI string
 * ("swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0", ...).
 *
 * Keys:
 *  - the EK is the persistent RSA-2048 EK at 0x81010001 (what swtpm_setup
 *    --createek and most provisioning tools leave), checked to be the TCG
 *    default template's key (restricted decrypt, policy
 *    PolicySecret(TPM_RH_ENDORSEMENT)); when that handle is empty the EK is
 *    created from the same template (EK Credential Profile, template L-1) as a
 *    transient primary, which yields the same key. Its certificate is read
 *    from NV 0x01C00002 when present. Alternatively the ECC NIST P-256 EK
 *    (template L-2, persistent at 0x81010002 or derived the same way,
 *    certificate at NV 0x01C0000A).
 *  - the AK is either a persistent key the caller names, or a primary key in
 *    the endorsement hierarchy with tpm2_createak's attributes
 *    (fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign,
 *    0x00050072): RSA-2048 RSASSA-SHA256 or ECC P-256 ECDSA-SHA256. A primary
 *    is derived from the endorsement seed and the template, so the same TPM
 *    gives the same AK (and AK Name) every time, which is what lets an AK be
 *    enrolled once. Being in the endorsement hierarchy, its quotes carry the
 *    clock counters in the clear. Or, as tpm2_createak does, an ordinary key
 *    with the same template created under the EK (TPM2_Create + TPM2_Load,
 *    the EK authorised by PolicySecret(TPM_RH_ENDORSEMENT)): a new key and
 *    Name every run, so only useful with credential activation.
 *
 * There is no resource manager on a direct swtpm or /dev/tpm0 connection, so
 * tpm_agent_close flushes every transient object and session this agent made
 * (persistent handles are only closed in ESYS, never evicted).
 */
#ifndef VOUCH_CLI_TPM_AGENT_H
#define VOUCH_CLI_TPM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/limits.h>
#include <vouch/tpm.h>

/* The persistent EK swtpm_setup creates (TCG EK Credential Profile) and the
 * NV index of its certificate. */
#define TPM_AGENT_EK_HANDLE  0x81010001u
#define TPM_AGENT_EK_CERT_NV 0x01c00002u
/* The ECC NIST P-256 EK (TCG EK Credential Profile / Provisioning Guidance). */
#define TPM_AGENT_EK_ECC_HANDLE  0x81010002u
#define TPM_AGENT_EK_ECC_CERT_NV 0x01c0000au
/* Persistent object handles (TPM 2.0 Part 2, 29.4: 0x81000000-0x81ffffff). */
#define TPM_AGENT_PERSISTENT_FIRST 0x81000000u
#define TPM_AGENT_PERSISTENT_LAST  0x81ffffffu
/* Localities 0-4 (TPM 2.0 Part 1, 32.5). */
#define TPM_AGENT_MAX_LOCALITY 4u
/* A marshalled TPM2B_PUBLIC / TPMT_SIGNATURE / TPM2B_ATTEST fits this. */
#define TPM_AGENT_MAX_STRUCT VOUCH_MAX_TPM_STRUCT_SIZE

enum tpm_agent_ak_type {
    TPM_AGENT_AK_RSA = 1, /* RSA-2048, RSASSA with SHA-256 */
    TPM_AGENT_AK_ECC = 2, /* NIST P-256, ECDSA with SHA-256 */
};

enum tpm_agent_ek_type {
    TPM_AGENT_EK_RSA = 1, /* template L-1: RSA-2048 */
    TPM_AGENT_EK_ECC = 2, /* template L-2: NIST P-256 */
};

struct tpm_agent;

/* A marshalled TPM structure. */
struct tpm_agent_blob {
    uint8_t b[TPM_AGENT_MAX_STRUCT];
    size_t len;
};

/** Connects through @p tcti and starts the TPM if nobody has (TPM2_Startup
 *  CLEAR; "already initialised" is fine). On failure @p err says why. */
VOUCH_NODISCARD vouch_err tpm_agent_open(const char *tcti, struct tpm_agent **out, char *err,
                                         size_t err_cap);
/**
 * Like tpm_agent_open, but when @p locality is not 0 runs TPM2_Startup(CLEAR)
 * from that locality (TCTI SetLocality), as platforms with an H-CRTM, TXT or
 * Boot Guard do, so PCR0 starts at 00..0L; commands after it use locality 0.
 * The TPM must not be started yet (POLICY otherwise); swtpm needs
 * --locality allow-set-locality and no startup-clear flag.
 */
VOUCH_NODISCARD vouch_err tpm_agent_open_at(const char *tcti, unsigned locality,
                                            struct tpm_agent **out, char *err, size_t err_cap);
/** Flushes this agent's transient objects and sessions, then disconnects.
 *  Accepts NULL. */
void tpm_agent_close(struct tpm_agent *a);
/** Why the last call failed (never NULL). */
const char *tpm_agent_error(const struct tpm_agent *a);

/** Loads the RSA EK (see above) and returns its TPM2B_PUBLIC. */
VOUCH_NODISCARD vouch_err tpm_agent_load_ek(struct tpm_agent *a, struct tpm_agent_blob *ek_pub);
/** Loads the EK of @p type (see above) and returns its TPM2B_PUBLIC;
 *  UNSUPPORTED when the persistent handle holds another kind of key. */
VOUCH_NODISCARD vouch_err tpm_agent_load_ek_type(struct tpm_agent *a, enum tpm_agent_ek_type type,
                                                 struct tpm_agent_blob *ek_pub);
/** The loaded EK's certificate (DER; NV 0x01C00002 for RSA, 0x01C0000A for
 *  ECC) in a new buffer (vouch_free); NOT_FOUND when the index does not
 *  exist. */
VOUCH_NODISCARD vouch_err tpm_agent_ek_cert(struct tpm_agent *a, uint8_t **der, size_t *len);

/** Loads the AK: the persistent key at @p handle when non-zero (which must
 *  be an AK by its attributes), else the endorsement-hierarchy primary of
 *  @p type. Returns its TPM2B_PUBLIC and its Name (nameAlg || digest). */
VOUCH_NODISCARD vouch_err tpm_agent_load_ak(struct tpm_agent *a, enum tpm_agent_ak_type type,
                                            uint32_t handle, struct tpm_agent_blob *ak_pub,
                                            struct tpm_agent_blob *ak_name);
/** Creates an AK of @p type under the loaded EK (TPM2_Create, then
 *  TPM2_Load; each authorised by a fresh PolicySecret(TPM_RH_ENDORSEMENT)
 *  session) and returns its TPM2B_PUBLIC and Name. The key is transient and
 *  new on every call. INVAL when no EK is loaded or an AK already is. */
VOUCH_NODISCARD vouch_err tpm_agent_create_ak(struct tpm_agent *a, enum tpm_agent_ak_type type,
                                              struct tpm_agent_blob *ak_pub,
                                              struct tpm_agent_blob *ak_name);

/**
 * TPM2_ActivateCredential with the loaded AK and EK: @p id_object is a
 * marshalled TPM2B_ID_OBJECT, @p enc_secret a marshalled
 * TPM2B_ENCRYPTED_SECRET (both as MakeCredential made them). The EK is
 * authorised by a policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT).
 * Writes the credential (at most 64 bytes) to @p out; the caller wipes it.
 * @return OK; PARSE for malformed inputs; VERIFY when the TPM refuses (the
 *         credential was not made for this EK and AK Name); IO.
 */
VOUCH_NODISCARD vouch_err tpm_agent_activate(struct tpm_agent *a, const uint8_t *id_object,
                                             size_t id_len, const uint8_t *enc_secret,
                                             size_t enc_len, uint8_t *out, size_t cap,
                                             size_t *out_len);

/** The PCR banks the TPM has allocated (at least one PCR selected), in the
 *  TPM's order. */
VOUCH_NODISCARD vouch_err tpm_agent_banks(struct tpm_agent *a, uint16_t *algs, size_t cap,
                                          size_t *n);

/**
 * Quotes the PCRs of @p sel (banks in that order) with the loaded AK and
 * @p qualifying_data (at most 64 bytes), then reads the selected PCR values
 * into @p values. @p quote gets the TPMS_ATTEST bytes (the TPM2B_ATTEST's
 * contents, as signed), @p sig the marshalled TPMT_SIGNATURE.
 */
VOUCH_NODISCARD vouch_err tpm_agent_quote(struct tpm_agent *a,
                                          const struct vouch_tpm_pcr_select *sel, size_t n_sel,
                                          const uint8_t *qualifying_data, size_t qd_len,
                                          struct tpm_agent_blob *quote, struct tpm_agent_blob *sig,
                                          struct vouch_tpm_pcrs *values);

/** Reads the PCRs of @p sel into @p values (added with vouch_tpm_pcrs_set). */
VOUCH_NODISCARD vouch_err tpm_agent_read_pcrs(struct tpm_agent *a,
                                              const struct vouch_tpm_pcr_select *sel, size_t n,
                                              struct vouch_tpm_pcrs *values);

/* One digest for tpm_agent_extend. */
struct tpm_agent_digest {
    uint16_t alg;
    const uint8_t *p; /* vouch_tpm_digest_len(alg) bytes */
};

/** TPM2_PCR_Extend of PCR @p pcr with the given digests (one per bank, each
 *  bank at most once). */
VOUCH_NODISCARD vouch_err tpm_agent_extend(struct tpm_agent *a, unsigned pcr,
                                           const struct tpm_agent_digest *d, size_t n);

#endif
