/*
 * configfs-tsm: hardware evidence for the confidential-VM backend.
 *
 * Inside an AMD SEV-SNP or Intel TDX guest (Linux >= 6.7) the kernel offers
 * one vendor-neutral way to get an attestation report, under
 * /sys/kernel/config/tsm/report (Documentation/ABI/testing/configfs-tsm-report):
 * mkdir an entry, write up to 64 bytes of report data to its "inblob", read
 * "outblob" (the SNP attestation report, or the TDX quote), the optional
 * "auxblob" (SNP: the certificate table) and "provider" ("sev_guest" or
 * "tdx_guest"), then rmdir the entry. Every write to the entry increments its
 * "generation"; a fresh entry starts at 0. Reading generation after the blobs
 * and comparing it with the number of our own writes detects another process
 * that wrote to the same entry between our write and our read, which would
 * otherwise hand us a report over someone else's report data. On SNP, when
 * "privlevel_floor" is above 0 (the guest runs under a paravisor at a higher
 * VMPL) "privlevel" is written with that floor first.
 *
 * The returned report is then parsed with the evidence parsers and checked:
 * its format must match the provider and its report data must equal the 64
 * bytes written (constant-time compare), so a stale or substituted outblob is
 * refused. Nothing is verified here: the outblob is evidence for a verifier
 * (vouch_evidence_verify, or the attestation service), and the identity below
 * is what the report claims.
 *
 * The root directory is a parameter so tests can use an ordinary directory
 * that plays the kernel: vouch_tsm_entry_create makes the entry, the test
 * fills in the attribute files a kernel would provide, and
 * vouch_tsm_entry_generate does the rest. Production code calls
 * vouch_tsm_get_report with VOUCH_TSM_DEFAULT_ROOT.
 */
#ifndef VOUCH_TSM_H
#define VOUCH_TSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/evidence.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_TSM_DEFAULT_ROOT "/sys/kernel/config/tsm/report"
/* The kernel's TSM_INBLOB_MAX; we always write exactly this much. */
#define VOUCH_TSM_INBLOB_LEN 64u
/* SNP MEASUREMENT and TDX MRTD are both 48 bytes (SHA-384). */
#define VOUCH_TSM_MEASUREMENT_LEN 48u

/* What a confidential-VM report says about the VM (untrusted until the
 * evidence is verified). */
struct vouch_tsm_identity {
    enum vouch_evidence_format format;              /* VOUCH_EVIDENCE_SNP or _TDX */
    uint8_t measurement[VOUCH_TSM_MEASUREMENT_LEN]; /* SNP MEASUREMENT / TDX MRTD */
    uint8_t report_data[VOUCH_TSM_INBLOB_LEN];      /* equals the inblob written */
    bool debug;                                     /* SNP policy DEBUG / TDX TD attribute */
};

struct vouch_tsm_report {
    char provider[VOUCH_MAX_TSM_PROVIDER]; /* as the kernel names it, without newline */
    uint8_t *outblob;                      /* evidence (vouch_free via _report_free) */
    size_t outblob_len;
    uint8_t *auxblob; /* NULL when the provider has none or it is empty */
    size_t auxblob_len;
    uint64_t generation; /* the entry's generation when read */
    struct vouch_tsm_identity id;
};

/** Releases the blobs; the struct may be reused. Safe on a zeroed struct. */
VOUCH_API void vouch_tsm_report_free(struct vouch_tsm_report *r);

/* One report entry (a directory under the root). */
struct vouch_tsm_entry;

/**
 * Creates a new entry "vouch-<pid>-<random>" under @p root (mode 0700).
 * UNSUPPORTED when @p root does not exist (no configfs-tsm: not a
 * confidential VM, or a kernel before 6.7); IO for other failures.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tsm_entry_create(const char *root,
                                                           struct vouch_tsm_entry **out);
/** The entry's directory path (borrowed). */
VOUCH_API const char *vouch_tsm_entry_path(const struct vouch_tsm_entry *e);
/**
 * Requests a report over @p inblob on a fresh entry (see above) and fills
 * @p out (free with vouch_tsm_report_free; zeroed on failure). Errors:
 * UNSUPPORTED for a provider other than sev_guest/tdx_guest; BUSY when the
 * generation shows another writer; TOO_LARGE for a blob over
 * VOUCH_MAX_TSM_BLOB; IO when an attribute cannot be read or written (or
 * outblob is empty); evidence parse errors for a malformed outblob;
 * MISMATCH when the report's format or report data differ from the provider
 * and the inblob. Use an entry for one report only.
 */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_tsm_entry_generate(struct vouch_tsm_entry *e, const uint8_t inblob[VOUCH_TSM_INBLOB_LEN],
                         struct vouch_tsm_report *out);
/** Removes the entry directory (best effort: the kernel frees it on rmdir)
 *  and frees @p e; accepts NULL. */
VOUCH_API void vouch_tsm_entry_destroy(struct vouch_tsm_entry *e);

/** create + generate + destroy under @p root (NULL: VOUCH_TSM_DEFAULT_ROOT). */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_tsm_get_report(const char *root, const uint8_t report_data[VOUCH_TSM_INBLOB_LEN],
                     struct vouch_tsm_report *out);

#ifdef __cplusplus
}
#endif
#endif
