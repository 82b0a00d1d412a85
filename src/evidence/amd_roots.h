/*
 * Built-in AMD SEV-SNP trust anchors: the ARK (self-signed root) and ASK
 * (intermediate that signs VCEKs) of every product line we verify. They are
 * compiled in so that a chain is never taken from the evidence, and each ARK
 * is pinned by the SHA-256 of its DER: a build whose embedded certificate does
 * not match its pin refuses to verify anything under that product.
 *
 * vouch__amd_chains() parses the certificates and checks the pins, the ARK
 * self-signature and the ASK-by-ARK signature once per process; later calls
 * return the same immutable objects, which may be shared between threads.
 * Time validity is not part of that check: it depends on the caller's `now`.
 */
#ifndef VOUCH_EVIDENCE_AMD_ROOTS_H
#define VOUCH_EVIDENCE_AMD_ROOTS_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>

/* TCB_VERSION layouts (SNP ABI): Milan and Genoa (family 19h) share one,
 * Turin (family 1Ah) moved the fields and added FMC. */
enum vouch_amd_tcb_layout {
    VOUCH_AMD_TCB_ZEN3_4 = 0, /* byte0 BL, byte1 TEE, byte6 SNP, byte7 ucode */
    VOUCH_AMD_TCB_ZEN5 = 1,   /* byte0 FMC, byte1 BL, byte2 TEE, byte3 SNP, byte7 ucode */
};

enum vouch_amd_product {
    VOUCH_AMD_MILAN = 0,
    VOUCH_AMD_GENOA = 1,
    VOUCH_AMD_TURIN = 2,
};

#define VOUCH_AMD_PRODUCT_COUNT 3u

/* One product line's embedded anchors (static data). */
struct vouch_amd_root {
    enum vouch_amd_product product;
    const char *name;                     /* KDS product name: "Milan", "Genoa", "Turin" */
    enum vouch_amd_tcb_layout tcb_layout; /* how this line's TCB_VERSION is packed */
    size_t hwid_len;                      /* VCEK hwID length: 64, or 8 on Turin */
    const char *ask_pem;                  /* "SEV-<name>" intermediate */
    const char *ark_pem;                  /* "ARK-<name>" root */
    uint8_t ark_sha256[VOUCH_SHA256_LEN]; /* pin: SHA-256 of the ARK DER */
};

/* One product line's anchors, parsed and checked (immutable once built). */
struct vouch_amd_chain {
    const struct vouch_amd_root *root; /* the static data it was built from */
    struct vouch_x509 *ask;            /* borrowed for the life of the process */
    struct vouch_x509 *ark;
    vouch_err status; /* VOUCH_OK when pin, ARK self-signature and ASK signature hold */
    const char *why;  /* static reason when status != VOUCH_OK */
};

/** The static anchor table, VOUCH_AMD_PRODUCT_COUNT entries indexed by product. */
extern const struct vouch_amd_root vouch__amd_roots[VOUCH_AMD_PRODUCT_COUNT];

/**
 * Returns the parsed chains (VOUCH_AMD_PRODUCT_COUNT entries, indexed by
 * product) through @p out. The first successful call builds them; a failure
 * that may be transient (NOMEM, CRYPTO) is returned and not cached, so a later
 * call retries. A chain whose pin or signatures do not hold is still returned,
 * with its status set, so callers can say which product is broken.
 * Thread-safe.
 */
VOUCH_NODISCARD vouch_err vouch__amd_chains(const struct vouch_amd_chain **out);

#endif
