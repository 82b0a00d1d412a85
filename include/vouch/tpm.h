/*
 * TPM 2.0 evidence: quotes (TPMS_ATTEST signed by an attestation key) and
 * TCG PC Client boot event logs, verified the way Azure Attestation's TPM
 * flow and Keylime verify them.
 *
 * What a TPM quote proves. A TPM's attestation key (AK) signs a marshalled
 * TPMS_ATTEST holding the caller's nonce (extraData), a PCR selection and
 * pcrDigest, the hash of the selected PCR values. The verifier therefore:
 *
 *   1. loads the AK from its TPMT_PUBLIC (vouch_tpm_ak_parse), refusing keys
 *      that are not restricted signing keys fixed to their TPM. Whether this
 *      AK belongs to a genuine TPM (AK certificate, EK credential activation,
 *      enrolment) is established elsewhere, BEFORE the quote means anything;
 *   2. checks the TPMT_SIGNATURE over the quote bytes exactly as received
 *      (never re-marshalled): RSASSA-PKCS1-v1_5, RSASSA-PSS (any salt length,
 *      libtpms uses the hash length, older TPMs the maximum) or ECDSA (raw r
 *      and s, P-256/P-384). The signature scheme must fit the key and, when
 *      the key fixes a scheme, equal it. SHA-1 is refused unless allowed;
 *   3. parses the TPMS_ATTEST strictly: magic 0xFF544347, type QUOTE, no
 *      trailing bytes, known and distinct banks, PCRs 0-23 only;
 *   4. compares extraData with the nonce it issued (constant time);
 *   5. recomputes pcrDigest over the claimed PCR values: the values of every
 *      selected PCR, bank by bank in selection order and by ascending index
 *      within a bank, hashed with the SIGNATURE's hash algorithm (not the
 *      bank's: a SHA-1 bank quoted by an RSASSA-SHA256 AK has a SHA-256
 *      pcrDigest). Only then are those PCR values verified;
 *   6. replays the event log, if given, for every quoted bank and requires
 *      each PCR that is both quoted and extended by the log to match. A quoted
 *      bank the log does not carry is an error;
 *   7. derives claims from the log, only from events that are both bound by
 *      the quote (their PCR is quoted and matched) and whose data is covered
 *      by their digest (see "Claims" below). Only the events a claim reads
 *      are checked against their data unless check_all_digests asks for all;
 *      the claims are the same either way.
 *
 * The qualifiedSigner field is reported but not compared with the AK Name: it
 * is the AK's Qualified Name, which depends on its parent chain. clockInfo,
 * resetCount, restartCount and firmwareVersion are reported; for AKs outside
 * the endorsement hierarchy (Windows) the TPM obfuscates the counters, so
 * freshness rules over them (safe == 1, counters never decreasing) belong to
 * a caller that keeps per-AK state.
 *
 * The event log. Two formats are parsed, detected from the bytes: the legacy
 * SHA-1 log (TCG_PCR_EVENT records) and the crypto-agile log (a Spec ID
 * Event03 header whose algorithm table gives the digest size of every bank,
 * then TCG_PCR_EVENT2 records). Integers are little-endian. Everything is
 * bounded: log size, event count, event size, digests per event (at most the
 * table's length, each algorithm listed once and present in the table).
 * Replay of bank B starts PCRs 0-16 and 23 at zero and 17-22 at all-ones (no
 * DRTM), PCR0 at 00..0L when a StartupLocality EV_NO_ACTION event gives
 * locality L (0, 3 or 4), skips every EV_NO_ACTION, and extends
 * PCR = H_B(PCR || digest_B) for every other event.
 *
 * Per-event digest checks. An event's data is only an untrusted description
 * until its digest is shown to cover it. vouch_tpm_log_check_digests sets,
 * for a bank, each event's check to:
 *   VERIFIED       digest == H(data). Also EV_IPL events of systemd-boot,
 *                  which hash the UTF-16 string with its full terminator but
 *                  log one byte less (digest == H(data || 00)).
 *   VERIFIED_PART  the digest covers a documented part of the data only:
 *                  EV_EFI_VARIABLE_BOOT hashed as VariableData (EDK2/GCE), and
 *                  GRUB's EV_IPL strings, hashed without their "grub_cmd: ",
 *                  "kernel_cmdline: " (or RHEL "grub_cmd ",
 *                  "grub_kernel_cmdline ") label and trailing NUL.
 *   MISMATCH       the spec defines the digest as H(data) for this type
 *                  (EV_SEPARATOR, EV_ACTION, EV_S_CRTM_VERSION, EV_EFI_ACTION,
 *                  EV_EFI_GPT_EVENT, EV_EFI_VARIABLE_DRIVER_CONFIG,
 *                  EV_EFI_VARIABLE_BOOT/BOOT2/AUTHORITY) but it differs. Real
 *                  firmware does this (gdc-host's S-CRTM version, debian-10's
 *                  shim authority); it is reported, not fatal.
 *   NOT_DERIVABLE  the digest covers something outside the log (Authenticode
 *                  image hashes, firmware volumes, files, memory).
 * EV_NO_ACTION events are never extended and keep UNCHECKED.
 *
 * Claims (vouch_tpm_log_claims) are derived only from events whose PCR is in
 * the bound set and, where they read event data, whose check is VERIFIED
 * (the claims compute the check of the events they read when no stored one
 * exists):
 *   secureBootEnabled        PCR7 EV_EFI_VARIABLE_DRIVER_CONFIG of the EFI
 *                            global variable "SecureBoot": 1 -> true, 0 ->
 *                            false. Withheld when absent, empty (seen in real
 *                            logs), not 0/1, conflicting or unverified.
 *   secureBootPK, secureBootKEK, secureBootDb, secureBootDbx
 *                            the digest (lowercase hex, in the claims' bank) of
 *                            the VERIFIED PCR7 EV_EFI_VARIABLE_DRIVER_CONFIG
 *                            event of PK, KEK (EFI global variables), db, dbx
 *                            (image security database). Withheld when absent,
 *                            unverified or measured twice differently.
 *   bootDebuggingDisabled, kernelDebuggingDisabled, testSigningDisabled,
 *   codeIntegrityEnabled, notSafeMode, notWinPE
 *                            Windows boot configuration (SIPA events inside
 *                            EV_EVENT_TAG in PCR 12-14): BOOTDEBUGGING,
 *                            OSKERNELDEBUG, TESTSIGNING, CODEINTEGRITY,
 *                            SAFEMODE, WINPE; true when every occurrence says
 *                            so, false when one does not, withheld when none
 *                            or when a PCR of 12-14 holding such events is
 *                            not bound.
 *   kernelCmdline            the last PCR8 EV_IPL kernel command line: GRUB's
 *                            "kernel_cmdline: " / "grub_kernel_cmdline " events
 *                            (VERIFIED_PART: GRUB does not hash the label) or
 *                            systemd-boot's UTF-16 load options (VERIFIED).
 *   bootApplications         digests (lowercase hex, in the replayed bank) of
 *                            every PCR4 EV_EFI_BOOT_SERVICES_APPLICATION, in
 *                            order. These are Authenticode hashes: bound by the
 *                            replay itself, the event data is not used.
 *   exitBootServices         a VERIFIED PCR5 "Exit Boot Services Invocation"
 *                            EV_EFI_ACTION exists. false means the firmware did
 *                            not measure the hand-off, so events may follow it.
 *   startupLocality          from the StartupLocality event, bound by PCR0.
 * Every claim that cannot be derived is listed under "withheldClaims" with
 * the reason. With vouch_tpm_log_claims outside vouch_tpm_verify the caller
 * chooses the bound set; for a bare log (`vouch tpm replay`) nothing binds
 * the log to a TPM and the claims only say what the log asserts.
 *
 * AK trust. Before a quote means anything the AK must be shown to live in a
 * genuine TPM. vouch_tpm_ak_check refuses keys that are not restricted,
 * TPM-bound signing keys with a SHA-256+ Name; vouch_tpm_cert_verify checks
 * an AK (or EK) certificate against configured anchors; and
 * vouch_tpm_make_credential is the verifier's half of credential activation:
 * a secret wrapped to an EK and bound to the AK's Name, which only
 * TPM2_ActivateCredential on the TPM holding both can unwrap (checked
 * against swtpm for RSA and ECC EKs in tests/cli/tpm_makecred.sh).
 *
 * Ownership: parse functions fill caller-allocated structures; the log
 * borrows its input (events point into it), so keep the bytes alive while
 * the log is used. A struct vouch_tpm_ak is immutable once built and may be
 * shared between threads; logs and results are not synchronised. Nothing here
 * reads the clock or touches a TPM.
 *
 * Usage:
 *
 *     struct vouch_tpm_ak *ak;  ... vouch_tpm_ak_parse(ak_bytes, n, &ak) ...
 *     struct vouch_tpm_pcrs pcrs = {0};  ... vouch_tpm_pcrs_parse(text, n, &pcrs) ...
 *     struct vouch_tpm_evidence ev = {.quote = q, .quote_len = qn, .sig = s, .sig_len = sn,
 *                                     .pcrs = &pcrs, .log = log, .log_len = ln};
 *     struct vouch_tpm_verify_opts o = {.nonce = nonce, .nonce_len = 32};
 *     struct vouch_tpm_verify_result res;
 *     vouch_err rc = vouch_tpm_verify(ak, &ev, &o, &res);
 *     ... rc == VOUCH_OK iff res.verified; res.error_detail says why not ...
 *     vouch_tpm_verify_result_free(&res);
 */
#ifndef VOUCH_TPM_H
#define VOUCH_TPM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/limits.h>

struct vouch_pubkey; /* vouch/crypto.h */
struct vouch_x509;   /* vouch/crypto.h */

#ifdef __cplusplus
extern "C" {
#endif

/* PCRs of a PC Client TPM; selections above PCR 23 are refused. */
#define VOUCH_TPM_NUM_PCRS 24u
/* Mask of all PCRs, for vouch_tpm_log_claims on a log no quote binds. */
#define VOUCH_TPM_ALL_PCRS 0x00ffffffu
/* Largest digest of any bank (SHA-512). */
#define VOUCH_TPM_MAX_DIGEST 64u
/* A TPM2B_NAME: nameAlg (2 bytes) || digest. */
#define VOUCH_TPM_MAX_NAME (2u + VOUCH_TPM_MAX_DIGEST)
/* RSA modulus and signature (4096 bits), ECC coordinate (P-521 rounded up,
 * as libtss2 bounds them). */
#define VOUCH_TPM_MAX_RSA_BYTES 512u
#define VOUCH_TPM_MAX_ECC_BYTES 128u

/* TPM_ALG_ID values (TPM 2.0 Part 2, table 9) that appear here. */
#define VOUCH_TPM_ALG_RSA     0x0001u
#define VOUCH_TPM_ALG_SHA1    0x0004u
#define VOUCH_TPM_ALG_SHA256  0x000Bu
#define VOUCH_TPM_ALG_SHA384  0x000Cu
#define VOUCH_TPM_ALG_SHA512  0x000Du
#define VOUCH_TPM_ALG_NULL    0x0010u
#define VOUCH_TPM_ALG_SM3_256 0x0012u
#define VOUCH_TPM_ALG_RSASSA  0x0014u
#define VOUCH_TPM_ALG_RSAPSS  0x0016u
#define VOUCH_TPM_ALG_ECDSA   0x0018u
#define VOUCH_TPM_ALG_ECC     0x0023u

/* TPM_ECC_CURVE values. */
#define VOUCH_TPM_ECC_NIST_P256 0x0003u
#define VOUCH_TPM_ECC_NIST_P384 0x0004u
#define VOUCH_TPM_ECC_NIST_P521 0x0005u

/* TPMA_OBJECT bits an AK must have (and decrypt, which it must not). */
#define VOUCH_TPMA_FIXED_TPM             0x00000002u
#define VOUCH_TPMA_FIXED_PARENT          0x00000010u
#define VOUCH_TPMA_SENSITIVE_DATA_ORIGIN 0x00000020u
#define VOUCH_TPMA_RESTRICTED            0x00010000u
#define VOUCH_TPMA_DECRYPT               0x00020000u
#define VOUCH_TPMA_SIGN_ENCRYPT          0x00040000u

/* TPM_GENERATED_VALUE and TPM_ST_ATTEST_QUOTE. */
#define VOUCH_TPM_GENERATED_VALUE 0xff544347u
#define VOUCH_TPM_ST_ATTEST_QUOTE 0x8018u

/** Lowercase name of a TPM_ALG_ID ("sha256", "rsassa", "ecc", ...), or NULL. */
VOUCH_API const char *vouch_tpm_alg_name(uint16_t alg);
/** The hash TPM_ALG_ID named @p name ("sha1", "sha256", "sha384", "sha512",
 *  any case), or 0 when it is not a bank we can compute. */
VOUCH_API uint16_t vouch_tpm_hash_from_name(const char *name, size_t len);
/** Digest size of hash TPM_ALG_ID @p alg when we can compute it, else 0. */
VOUCH_API size_t vouch_tpm_digest_len(uint16_t alg);

/* ---- TPM structures (big-endian TPM marshalling, via libtss2-mu) ---- */

/* A TPMT_PUBLIC of an RSA or ECC signing key. */
struct vouch_tpm_public {
    uint16_t type;         /* VOUCH_TPM_ALG_RSA or VOUCH_TPM_ALG_ECC */
    uint16_t name_alg;     /* hash of the Name */
    uint32_t attributes;   /* TPMA_OBJECT */
    uint16_t scheme;       /* signing scheme, VOUCH_TPM_ALG_NULL if the key fixes none */
    uint16_t scheme_hash;  /* hash of that scheme (0 when scheme is NULL) */
    uint16_t rsa_bits;     /* RSA: keyBits */
    uint32_t rsa_exponent; /* RSA: the structure's 0 is reported as 65537 */
    uint8_t rsa_n[VOUCH_TPM_MAX_RSA_BYTES]; /* RSA: modulus, big-endian */
    size_t rsa_n_len;
    uint16_t ecc_curve;                     /* ECC: TPM_ECC_CURVE */
    uint8_t ecc_x[VOUCH_TPM_MAX_ECC_BYTES]; /* ECC: point coordinates, big-endian */
    size_t ecc_x_len;
    uint8_t ecc_y[VOUCH_TPM_MAX_ECC_BYTES];
    size_t ecc_y_len;
    uint8_t name[VOUCH_TPM_MAX_NAME]; /* nameAlg || H_nameAlg(TPMT_PUBLIC bytes) */
    size_t name_len;
    /* Storage keys (an EK): the symmetric algorithm protecting its children
     * and credentials, e.g. AES (0x0006), 128 bits, CFB (0x0043); sym_alg is
     * VOUCH_TPM_ALG_NULL for signing keys. */
    uint16_t sym_alg;
    uint16_t sym_bits;
    uint16_t sym_mode;
};

/**
 * Parses a TPMT_PUBLIC or a TPM2B_PUBLIC (the same with a u16 size prefix;
 * chosen when the first two bytes equal @p len - 2, which no valid RSA-2048+
 * or P-256+ TPMT_PUBLIC can satisfy) and computes its Name. Only RSA and ECC
 * keys are accepted; the whole input must be consumed.
 * @return OK; TOO_LARGE over VOUCH_MAX_TPM_STRUCT_SIZE; PARSE when malformed
 *         or trailing bytes remain; UNSUPPORTED for other key types or a
 *         nameAlg we cannot hash.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_public_parse(const uint8_t *p, size_t len,
                                                           struct vouch_tpm_public *out);

/* One bank of a PCR selection. */
struct vouch_tpm_pcr_select {
    uint16_t alg;  /* bank hash TPM_ALG_ID */
    uint32_t mask; /* bit i selects PCR i */
};

/* A TPMS_ATTEST of type QUOTE. */
struct vouch_tpm_attest {
    uint16_t type;                      /* VOUCH_TPM_ST_ATTEST_QUOTE */
    uint8_t signer[VOUCH_TPM_MAX_NAME]; /* qualifiedSigner: NOT the AK Name */
    size_t signer_len;
    uint8_t extra_data[VOUCH_MAX_TPM_NONCE]; /* the nonce */
    size_t extra_data_len;
    uint64_t clock;            /* milliseconds; never obfuscated */
    uint32_t reset_count;      /* obfuscated for AKs outside the endorsement */
    uint32_t restart_count;    /*   and platform hierarchies, as is */
    uint64_t firmware_version; /*   firmwareVersion */
    bool safe;                 /* clock has not gone backwards */
    size_t n_banks;
    struct vouch_tpm_pcr_select banks[VOUCH_MAX_TPM_PCR_BANKS]; /* selection order */
    uint8_t pcr_digest[VOUCH_TPM_MAX_DIGEST];
    size_t pcr_digest_len;
};

/**
 * Parses a marshalled TPMS_ATTEST that must be a quote: magic
 * TPM_GENERATED_VALUE, type QUOTE, every bank a hash we compute and listed
 * once, no PCR above 23, no trailing bytes. Parsing does not verify anything.
 * @return OK; TOO_LARGE; PARSE; UNSUPPORTED for another attestation type or an
 *         unknown bank.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_attest_parse(const uint8_t *p, size_t len,
                                                           struct vouch_tpm_attest *out);

/* A TPMT_SIGNATURE of an RSA or ECDSA key. */
struct vouch_tpm_signature {
    uint16_t sig_alg;                     /* VOUCH_TPM_ALG_RSASSA, _RSAPSS or _ECDSA */
    uint16_t hash_alg;                    /* hash the signer used */
    uint8_t sig[VOUCH_TPM_MAX_RSA_BYTES]; /* RSA signature */
    size_t sig_len;
    uint8_t r[VOUCH_TPM_MAX_ECC_BYTES]; /* ECDSA r and s, raw big-endian */
    size_t r_len;
    uint8_t s[VOUCH_TPM_MAX_ECC_BYTES];
    size_t s_len;
};

/** Parses a marshalled TPMT_SIGNATURE (RSASSA, RSAPSS or ECDSA; the whole
 *  input must be consumed). @return OK; TOO_LARGE; PARSE; UNSUPPORTED for
 *  other schemes (HMAC, SM2, ECSCHNORR, NULL). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_signature_parse(const uint8_t *p, size_t len,
                                                              struct vouch_tpm_signature *out);

/* ---- attestation keys ---- */

/* A parsed AK with its verification key. Opaque and immutable. */
struct vouch_tpm_ak;

/**
 * Parses an AK public area (TPMT_PUBLIC or TPM2B_PUBLIC, see
 * vouch_tpm_public_parse) and builds its verification key. The key must be a
 * restricted signing key fixed to its TPM (fixedTPM, fixedParent,
 * sensitiveDataOrigin, restricted, sign; not decrypt), RSA of at least
 * VOUCH_MIN_RSA_BITS or ECC on NIST P-256/P-384.
 * Parse once and keep it: building the key costs a few microseconds.
 * @return OK; the vouch_tpm_public_parse errors; POLICY for attributes an AK
 *         must not have; UNSUPPORTED for other curves or sizes; NOMEM.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_ak_parse(const uint8_t *p, size_t len,
                                                       struct vouch_tpm_ak **out);
VOUCH_API void vouch_tpm_ak_free(struct vouch_tpm_ak *ak);
/** The AK's public area (borrowed; lives as long as @p ak). */
VOUCH_API const struct vouch_tpm_public *vouch_tpm_ak_public(const struct vouch_tpm_ak *ak);

/**
 * Verifies a TPMT_SIGNATURE made by @p ak over @p msg (e.g. a quote or a
 * TPM2_CertifyCreation attestation), exactly as received. The scheme must fit
 * the key type and equal the key's scheme when it fixes one.
 * @return OK; PARSE/UNSUPPORTED for the signature structure; POLICY for a
 *         scheme the key may not use or SHA-1 without @p allow_sha1;
 *         SIGNATURE when it does not verify; CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_verify_signature(const struct vouch_tpm_ak *ak,
                                                               const uint8_t *msg, size_t msg_len,
                                                               const uint8_t *sig, size_t sig_len,
                                                               bool allow_sha1);

/* ---- PCR values ---- */

/* The values of one bank. */
struct vouch_tpm_pcr_bank {
    uint16_t alg;  /* bank hash TPM_ALG_ID */
    uint32_t mask; /* bit i set: values[i] is present (claimed, quoted or extended) */
    uint8_t values[VOUCH_TPM_NUM_PCRS][VOUCH_TPM_MAX_DIGEST]; /* vouch_tpm_digest_len(alg) used */
};

/* PCR values of several banks; zero-initialise before first use. */
struct vouch_tpm_pcrs {
    size_t n_banks;
    struct vouch_tpm_pcr_bank banks[VOUCH_MAX_TPM_PCR_BANKS];
};

/**
 * Adds PCR values read from text or JSON to @p pcrs (call repeatedly to merge
 * several files). Text: one PCR per line, "<bank> <index> <hex>" or
 * "<index> <hex>" (the bank is then implied by the digest length: 20 sha1, 32
 * sha256, 48 sha384, 64 sha512); blank lines and lines starting with '#' are
 * ignored. JSON (first non-space character '{'): {"sha256": {"0": "<hex>",
 * ...}, ...}, optionally wrapped as {"pcrs": {...}} (the shape `vouch tpm
 * replay --json` prints). A PCR given twice is PARSE.
 * @return OK; TOO_LARGE over VOUCH_MAX_TPM_PCRS_SIZE or too many banks; PARSE.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_pcrs_parse(const uint8_t *p, size_t len,
                                                         struct vouch_tpm_pcrs *pcrs);
/** Sets one PCR value (@p len must be the bank's digest size), adding the bank
 *  if needed. @return OK; INVAL; TOO_LARGE when the bank table is full. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_pcrs_set(struct vouch_tpm_pcrs *pcrs, uint16_t alg,
                                                       unsigned index, const uint8_t *digest,
                                                       size_t len);
/** The bank @p alg of @p pcrs, or NULL. */
VOUCH_API const struct vouch_tpm_pcr_bank *vouch_tpm_pcrs_bank(const struct vouch_tpm_pcrs *pcrs,
                                                               uint16_t alg);
/** {"sha256": {"0": "<hex>", ...}, ...} for every present PCR (new reference). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_pcrs_json(const struct vouch_tpm_pcrs *pcrs,
                                                        json_t **out);

/* ---- TCG boot event log (little-endian) ---- */

enum vouch_tpm_log_format {
    VOUCH_TPM_LOG_SHA1 = 1,         /* legacy TCG_PCR_EVENT records */
    VOUCH_TPM_LOG_CRYPTO_AGILE = 2, /* Spec ID Event03 + TCG_PCR_EVENT2 */
};

/* Event types referred to by the claims (TCG PC Client PFP, table 9). */
#define VOUCH_TPM_EV_NO_ACTION                     0x00000003u
#define VOUCH_TPM_EV_SEPARATOR                     0x00000004u
#define VOUCH_TPM_EV_EVENT_TAG                     0x00000006u
#define VOUCH_TPM_EV_IPL                           0x0000000Du
#define VOUCH_TPM_EV_EFI_VARIABLE_DRIVER_CONFIG    0x80000001u
#define VOUCH_TPM_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define VOUCH_TPM_EV_EFI_ACTION                    0x80000007u

/** "EV_SEPARATOR", "EV_EFI_ACTION", ...; NULL for a type we do not name. */
VOUCH_API const char *vouch_tpm_event_type_name(uint32_t type);

enum vouch_tpm_digest_check {
    VOUCH_TPM_DIGEST_UNCHECKED = 0,
    VOUCH_TPM_DIGEST_VERIFIED,      /* digest covers all of the data */
    VOUCH_TPM_DIGEST_VERIFIED_PART, /* digest covers a documented part of the data */
    VOUCH_TPM_DIGEST_MISMATCH,      /* the spec says H(data), and it is not */
    VOUCH_TPM_DIGEST_NOT_DERIVABLE, /* the digest covers something outside the log */
};

/** "unchecked", "verified", "verified_part", "mismatch", "not_derivable". */
VOUCH_API const char *vouch_tpm_digest_check_name(enum vouch_tpm_digest_check c);

/* One digest of an event. */
struct vouch_tpm_digest {
    uint16_t alg;     /* bank TPM_ALG_ID (may be one we cannot compute) */
    uint16_t len;     /* from the Spec ID table (20 in a legacy log) */
    uint8_t check;    /* enum vouch_tpm_digest_check, set by vouch_tpm_log_check_digests */
    const uint8_t *p; /* borrowed from the log bytes */
};

/* One event record. */
struct vouch_tpm_event {
    uint32_t pcr;        /* PCR index (< 24 unless the type is EV_NO_ACTION) */
    uint32_t type;       /* event type */
    size_t offset;       /* byte offset of the record in the log */
    const uint8_t *data; /* event data, borrowed from the log bytes */
    size_t data_len;
    size_t n_digests;
    struct vouch_tpm_digest digests[VOUCH_MAX_TPM_LOG_ALGS];
};

/* A parsed log. Fill with vouch_tpm_log_parse, release with vouch_tpm_log_free. */
struct vouch_tpm_log {
    enum vouch_tpm_log_format format;
    int startup_locality; /* from a StartupLocality event; -1 when there is none */
    size_t n_algs;        /* Spec ID table (a legacy log: sha1 only) */
    uint16_t algs[VOUCH_MAX_TPM_LOG_ALGS];
    uint16_t alg_sizes[VOUCH_MAX_TPM_LOG_ALGS];
    size_t n_events;                /* every record, EV_NO_ACTION and the Spec ID header included */
    struct vouch_tpm_event *events; /* owned */
};

/**
 * Parses a TCG event log of either format. The log borrows @p p: keep the
 * bytes alive and unchanged while @p out is used. A log with no events (an
 * empty input) is PARSE; a 49-byte legacy log holding only a StartupLocality
 * event parses and extends nothing.
 * @return OK; TOO_LARGE (log, event, event count or algorithm table over its
 *         limit); TRUNCATED when a record runs past the end; PARSE for a bad
 *         Spec ID event, a digest of an algorithm not in the table or listed
 *         twice, more digests than banks, a PCR above 23 in an extended event,
 *         a repeated or misplaced StartupLocality event, or an invalid
 *         locality; NOMEM. @p out is empty after a failure.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_log_parse(const uint8_t *p, size_t len,
                                                        struct vouch_tpm_log *out);
/** Releases the event array; safe on a zeroed or failed log. */
VOUCH_API void vouch_tpm_log_free(struct vouch_tpm_log *log);
/** True when the log carries bank @p alg. */
VOUCH_API bool vouch_tpm_log_has_bank(const struct vouch_tpm_log *log, uint16_t alg);

/**
 * Replays bank @p alg into @p out: all 24 values (reset values for PCRs the
 * log never extends) with mask = the PCRs the log extends.
 * @return OK; NOT_FOUND when the log has no such bank; UNSUPPORTED when we
 *         cannot compute it (e.g. SM3); PARSE when an extended event lacks a
 *         digest of this bank; CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_log_replay(const struct vouch_tpm_log *log,
                                                         uint16_t alg,
                                                         struct vouch_tpm_pcr_bank *out);

/**
 * Sets the check of each event's digest of bank @p alg (0: every bank of the
 * log we can compute), as described at the top of this header.
 * @return OK; NOT_FOUND / UNSUPPORTED as for replay; CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_log_check_digests(struct vouch_tpm_log *log,
                                                                uint16_t alg);

/**
 * Adds the boot claims (see the top of this header) to the JSON object
 * @p claims, reading bank @p alg and treating only events in the PCRs of
 * @p bound_pcrs as bound. The digest of every event a claim reads is checked
 * (the stored check is used when vouch_tpm_log_check_digests ran). Claims
 * that cannot be derived go to "withheldClaims" with their reason.
 * @return OK; INVAL; NOT_FOUND for a bank the log lacks; NOMEM.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_log_claims(const struct vouch_tpm_log *log,
                                                         uint16_t alg, uint32_t bound_pcrs,
                                                         json_t *claims);

/**
 * The events as a JSON array: per event index, offset, pcr, type (name or
 * number), type_value, digests {bank: hex}, digest_checks {bank: check} for
 * checked banks, data (hex), and decoded details where the type has a known
 * layout (UEFI variable GUID/name/data, printable strings, StartupLocality,
 * the Spec ID header). Decoded details are NOT verified: see digest_checks.
 * @return OK; NOMEM.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_log_events_json(const struct vouch_tpm_log *log,
                                                              json_t **out);

/* ---- quote verification ---- */

/* The evidence, all borrowed. */
struct vouch_tpm_evidence {
    const uint8_t *quote; /* marshalled TPMS_ATTEST, as signed */
    size_t quote_len;
    const uint8_t *sig; /* marshalled TPMT_SIGNATURE */
    size_t sig_len;
    const struct vouch_tpm_pcrs *pcrs; /* claimed values; every quoted PCR must be present */
    const uint8_t *log;                /* optional TCG event log (NULL: none) */
    size_t log_len;
};

struct vouch_tpm_verify_opts {
    /* The nonce issued for this quote; extraData must equal it. A zero
     * length accepts only an empty extraData and gives no freshness. */
    const uint8_t *nonce;
    size_t nonce_len;
    /* Accept SHA-1 signatures (Windows AIKs, old TPMs). SHA-1 PCR banks are
     * always accepted: the bank is reported (log_bank) for policy to judge. */
    bool allow_sha1;
    /* Also check every event's digest in log_bank and count the mismatches.
     * The claims never need it (they check the events they read); it costs
     * hashing every event's data, about as much again as the replay. */
    bool check_all_digests;
};

struct vouch_tpm_verify_result {
    bool verified;                             /* everything below checked out */
    vouch_err error;                           /* first failure, OK when verified */
    char error_detail[VOUCH_MAX_ERROR_DETAIL]; /* human-readable reason */
    uint16_t sig_alg;                          /* signature scheme (0 if unparsed) */
    uint16_t sig_hash;                         /* its hash, which pcrDigest uses */
    bool attest_parsed;                        /* attest below is filled */
    struct vouch_tpm_attest attest;            /* the signed quote */
    struct vouch_tpm_pcrs pcrs;                /* quoted values pcrDigest covers */
    bool log_present;                          /* a log was given and parsed */
    enum vouch_tpm_log_format log_format;
    size_t log_events;            /* records in the log */
    uint16_t log_bank;            /* strongest quoted bank, which the claims read */
    uint32_t log_bound_pcrs;      /* quoted PCRs the log extends and matched */
    bool log_digests_checked;     /* check_all_digests ran */
    size_t log_digest_mismatches; /* then: events of log_bank whose check is MISMATCH */
    json_t *claims;               /* owned; set only when verified (see vouch_tpm_verify) */
};

/**
 * Verifies a quote made by @p ak (whose trust the caller has established) and
 * optionally its event log, in the order given at the top of this header.
 * Always fills @p res (free with vouch_tpm_verify_result_free whatever the
 * return value). When verified, res->claims holds: akName, nonce, clock,
 * resetCount, restartCount, safe, firmwareVersion (hex), qualifiedSigner,
 * signatureAlg, signatureHash, pcrs {bank: {index: hex}} (quoted values), and
 * with a log: eventLog {format, bank, events, boundPcrs, and digestMismatches
 * with check_all_digests} plus the boot claims of vouch_tpm_log_claims for
 * log_bank and log_bound_pcrs.
 * @return OK exactly when res->verified; otherwise the class of the first
 *         failure: INVAL (missing input), TOO_LARGE, PARSE, TRUNCATED,
 *         UNSUPPORTED, POLICY (scheme or SHA-1 not allowed), SIGNATURE,
 *         MISMATCH (nonce, pcrDigest, replayed PCR), VERIFY (quoted PCR with
 *         no value, quoted bank missing from the log), NOMEM, CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_verify(const struct vouch_tpm_ak *ak,
                                                     const struct vouch_tpm_evidence *ev,
                                                     const struct vouch_tpm_verify_opts *opts,
                                                     struct vouch_tpm_verify_result *res);

/** Releases the claims; safe on a zeroed struct. */
VOUCH_API void vouch_tpm_verify_result_free(struct vouch_tpm_verify_result *res);

/** The result as `vouch tpm verify --json` prints it: verified, error (when
 *  not verified), error_detail, and claims (new reference). */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_tpm_verify_result_json(const struct vouch_tpm_verify_result *res, json_t **out);

/* ---- AK trust: attributes, certificates, credential activation ---- */

/** The AK's verification key (borrowed; lives as long as @p ak). */
VOUCH_API const struct vouch_pubkey *vouch_tpm_ak_key(const struct vouch_tpm_ak *ak);

/**
 * Checks that @p pub may serve as an attestation key before any trust is
 * given to it: fixedTPM, fixedParent, sensitiveDataOrigin, restricted and
 * sign set, decrypt clear (a key that can decrypt, or leave its TPM, or sign
 * outside data that starts with TPM_GENERATED_VALUE could sign a forged
 * quote), and a Name hashed with SHA-256 or stronger (the Name is what a
 * credential or an allow-list binds to, so a weak Name hash would let another
 * key take this key's place). @p why (may be NULL) names the first failure.
 * @return OK; POLICY; INVAL.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_ak_check(const struct vouch_tpm_public *pub,
                                                       char *why, size_t cap);

/**
 * The public key of an RSA or ECC (P-256/P-384) TPMT_PUBLIC as a verification
 * key, for comparing it with a certificate's key (an EK or AK certificate)
 * or encrypting to it. @return OK; UNSUPPORTED for other curves or sizes;
 * PARSE; NOMEM.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_public_key(const struct vouch_tpm_public *pub,
                                                         struct vouch_pubkey **out);

/**
 * Verifies a DER certificate @p der (an AK or EK certificate) against the
 * trust anchors @p roots at time @p now (Unix seconds) and returns its public
 * key in @p key_out. Every certificate in @p roots is an anchor (so a vendor
 * intermediate listed there is trusted as itself); @p chain (may be NULL)
 * holds untrusted intermediates that may be used to reach an anchor. The
 * certificate is parsed as OpenSSL parses it, so EK certificates with the
 * non-DER encodings some TPM vendors produce (e.g. unsorted SET OF in a
 * name) are accepted when OpenSSL reads them; the signature is checked over
 * the bytes as received. Validity periods of every certificate are checked
 * at @p now. @p why (may be NULL) says why it failed.
 * @return OK; PARSE; TOO_LARGE; CHAIN (no path to an anchor, bad signature);
 *         EXPIRED; NOMEM; CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_tpm_cert_verify(const uint8_t *der, size_t len, struct vouch_x509 *const *roots,
                      size_t n_roots, struct vouch_x509 *const *chain, size_t n_chain, int64_t now,
                      struct vouch_pubkey **key_out, char *why, size_t cap);

/**
 * KDFa of TPM 2.0 Part 1 §11.4.10.2 (SP 800-108 counter mode with HMAC):
 * K(i) = HMAC_hash(@p key, i || @p label || 0x00 || @p context_u ||
 * @p context_v || bits), counters and bits as 32-bit big-endian, output
 * truncated to @p bits (a multiple of 8) into @p out. @p label is a C string
 * without its terminator ("STORAGE", "INTEGRITY").
 * @return OK; INVAL; UNSUPPORTED for a hash we cannot compute; CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_kdfa(uint16_t hash_alg, const uint8_t *key,
                                                   size_t key_len, const char *label,
                                                   const uint8_t *context_u, size_t u_len,
                                                   const uint8_t *context_v, size_t v_len,
                                                   size_t bits, uint8_t *out);

/* Largest marshalled TPM2B_ID_OBJECT (size, then TPM2B integrity HMAC and
 * the encrypted TPM2B_DIGEST credential) and TPM2B_ENCRYPTED_SECRET. */
#define VOUCH_TPM_MAX_ID_OBJECT  (2u + 2u + VOUCH_TPM_MAX_DIGEST + 2u + VOUCH_TPM_MAX_DIGEST)
#define VOUCH_TPM_MAX_ENC_SECRET (2u + VOUCH_TPM_MAX_RSA_BYTES)
/* tpm2_makecredential's output file: magic, version, then both structures. */
#define VOUCH_TPM_CRED_FILE_MAGIC   0xBADCC0DEu
#define VOUCH_TPM_CRED_FILE_VERSION 1u
#define VOUCH_TPM_MAX_CRED_FILE     (8u + VOUCH_TPM_MAX_ID_OBJECT + VOUCH_TPM_MAX_ENC_SECRET)

/* A credential for TPM2_ActivateCredential, both structures marshalled with
 * their u16 size prefix exactly as the TPM command takes them. */
struct vouch_tpm_credential {
    uint8_t id_object[VOUCH_TPM_MAX_ID_OBJECT]; /* TPM2B_ID_OBJECT (credentialBlob) */
    size_t id_object_len;
    uint8_t enc_secret[VOUCH_TPM_MAX_ENC_SECRET]; /* TPM2B_ENCRYPTED_SECRET (secret) */
    size_t enc_secret_len;
};

/**
 * TPM2_MakeCredential done by the verifier (TPM 2.0 Part 1 §24, Part 3
 * §12.6): wraps @p secret so that only the TPM holding the private part of
 * the EK @p ek can recover it, and only while an object whose Name is
 * @p name is loaded in that TPM (TPM2_ActivateCredential). The EK must be a
 * restricted decryption key with an AES-128/256-CFB symmetric definition
 * (the TCG EK templates): for an RSA EK (2048 bits or more) a random seed is
 * encrypted with RSA-OAEP (the EK's nameAlg, label "IDENTITY\0"); for an ECC
 * EK (P-256, P-384) an ephemeral ECDH key agreement gives the seed through
 * KDFe and the ephemeral point is the encrypted secret. Then
 * symKey = KDFa(nameAlg, seed, "STORAGE", name, "", symBits),
 * encIdentity = AES-CFB(symKey, IV 0)(TPM2B @p secret),
 * hmacKey = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits) and the
 * integrity value HMAC(hmacKey, encIdentity || name). @p secret may hold up
 * to the EK nameAlg's digest size (the TPM's limit); @p name must be a Name
 * (nameAlg || digest). Every intermediate secret is wiped.
 * @return OK; INVAL (sizes); POLICY (an EK that is not a restricted
 *         decryption key); UNSUPPORTED (other symmetric algorithms, curves
 *         or sizes); NOMEM; CRYPTO.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_make_credential(const struct vouch_tpm_public *ek,
                                                              const uint8_t *name, size_t name_len,
                                                              const uint8_t *secret,
                                                              size_t secret_len,
                                                              struct vouch_tpm_credential *out);

/** The credential in tpm2_makecredential's file format (what
 *  `tpm2_activatecredential -i` reads): u32 0xBADCC0DE, u32 version 1, the
 *  TPM2B_ID_OBJECT and the TPM2B_ENCRYPTED_SECRET, big-endian.
 *  @return OK; TOO_LARGE when @p cap is short; INVAL. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tpm_credential_file(const struct vouch_tpm_credential *c,
                                                              uint8_t *out, size_t cap,
                                                              size_t *len_out);

#ifdef __cplusplus
}
#endif
#endif
