/*
 * Signed enclave images: the identity of an enclave (measurement, signer id,
 * product id, security version, debug flag), the configuration it is signed
 * with, and the one-file image format that carries both with its code.
 *
 * An enclave is an x86-64 ELF shared object plus a configuration (product id,
 * security version, debug flag, heap and stack budget, thread count). The
 * developer signs the pair with an ECDSA P-256 key (`vouch enclave sign`); the
 * loader refuses anything that is not a well-formed image with a good
 * signature. There is no "unverified image" object: vouch_enclave_image_open
 * parses, measures and verifies in one step, and fails with nothing allocated.
 *
 * Measurement (like SGX MRENCLAVE). SHA-256 over, in this order:
 *
 *     "VOUCH-ENCLAVE-MEASUREMENT-V1" and one NUL byte (29 bytes, domain tag)
 *     the 32-byte config block (layout below: every field of the config)
 *     the ELF header (64 bytes) and the whole program header table
 *     u32 number of PT_LOAD segments, then for each, in table order:
 *         u64 p_vaddr, u64 p_memsz, u32 p_flags, u64 p_filesz,
 *         the p_filesz file bytes at p_offset (the zero fill up to p_memsz
 *         is implied by p_memsz)
 *
 * all integers little-endian. The ELF and program headers are included because
 * the dynamic loader acts on every program header (PT_GNU_STACK, PT_TLS,
 * PT_DYNAMIC ...), not only on PT_LOAD. Bytes of the .so outside these ranges
 * (section headers, symbol tables, padding) are not measured; so that the
 * loaded code is exactly the measured code, vouch_enclave_image_so returns the
 * .so with every unmeasured byte set to zero, and the loader must load those
 * bytes (not the original file).
 *
 * The .so is parsed strictly: ELFCLASS64, little-endian, ET_DYN, EM_X86_64,
 * current version, standard header sizes, at most VOUCH_MAX_ENCLAVE_PHDRS
 * program headers inside the file, 1..VOUCH_MAX_ENCLAVE_LOAD_SEGMENTS PT_LOAD
 * segments whose file ranges lie inside the file, p_filesz <= p_memsz,
 * ascending non-overlapping addresses, p_align a power of two with p_offset
 * and p_vaddr congruent modulo it, only R/W/X flags and never W and X
 * together, and a total memory size of at most VOUCH_MAX_ENCLAVE_MEMORY.
 *
 * Signer id (like MRSIGNER) = SHA-256 of the signer's public key as DER
 * SubjectPublicKeyInfo.
 *
 * Image file (all integers little-endian):
 *
 *     off len  header
 *       0   8  magic "VOUCHENC"
 *       8   4  format version (VOUCH_ENCLAVE_IMAGE_VERSION)
 *      12   4  config block length (VOUCH_ENCLAVE_CONFIG_BLOCK_LEN)
 *      16   8  .so length S (1..VOUCH_MAX_ENCLAVE_SO_SIZE)
 *      24   4  signature block length G
 *      28   4  flags (none defined: must be zero)
 *
 *      32  32  config block:
 *               +0 u16 product_id, +2 u16 security version,
 *               +4 u32 flags (bit 0 debug; others must be zero),
 *               +8 u64 heap_size, +16 u64 stack_size,
 *              +24 u32 thread_count, +28 u32 reserved (zero)
 *      64   S  the .so file
 *    64+S   G  signature block:
 *               u32 algorithm (1 = ECDSA P-256 with SHA-256),
 *               u32 SPKI length K, K bytes DER SubjectPublicKeyInfo,
 *               u32 signature length (64), raw r||s
 *
 * and nothing after it. The signature is over
 *
 *     "VOUCH-ENCLAVE-SIGNATURE-V1" and one NUL byte (27 bytes)
 *     || header (32 bytes) || config block (32 bytes) || measurement (32)
 *
 * so any change to a header field, a config field or a measured byte of code
 * invalidates it, and the signature cannot be replayed for another purpose.
 *
 * Configuration JSON (`vouch enclave sign --config`): an object with
 * "product_id" (0..65535) and "security_version" (0..65535), both required,
 * and optional "debug" (boolean, default false), "heap_size", "stack_size"
 * (bytes, multiples of 4096) and "thread_count"; unknown members are refused.
 *
 * Thread safety: an image object is immutable once opened and may be shared.
 */
#ifndef VOUCH_ENCLAVE_IMAGE_H
#define VOUCH_ENCLAVE_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_pkey;

#define VOUCH_ENCLAVE_IMAGE_MAGIC       "VOUCHENC"
#define VOUCH_ENCLAVE_IMAGE_MAGIC_LEN   8u
#define VOUCH_ENCLAVE_IMAGE_VERSION     1u
#define VOUCH_ENCLAVE_HEADER_LEN        32u
#define VOUCH_ENCLAVE_CONFIG_BLOCK_LEN  32u
#define VOUCH_ENCLAVE_MEASUREMENT_LEN   32u
#define VOUCH_ENCLAVE_SIGNER_ID_LEN     32u
#define VOUCH_ENCLAVE_CONFIG_FLAG_DEBUG 0x1u
/* Heap and stack sizes are whole x86-64 pages. */
#define VOUCH_ENCLAVE_PAGE_SIZE 4096u
/* Signature algorithm ids in the signature block. */
#define VOUCH_ENCLAVE_SIG_ECDSA_P256_SHA256 1u
#define VOUCH_ENCLAVE_SIG_ECDSA_P256_LEN    64u

/* Defaults for the optional configuration members. */
#define VOUCH_ENCLAVE_DEFAULT_HEAP_SIZE    (4u * 1024u * 1024u)
#define VOUCH_ENCLAVE_DEFAULT_STACK_SIZE   (256u * 1024u)
#define VOUCH_ENCLAVE_DEFAULT_THREAD_COUNT 1u

/* Who an enclave is: what a report states and what sealing keys derive from. */
struct vouch_enclave_identity {
    uint8_t measurement[VOUCH_ENCLAVE_MEASUREMENT_LEN]; /* like MRENCLAVE */
    uint8_t signer_id[VOUCH_ENCLAVE_SIGNER_ID_LEN];     /* like MRSIGNER */
    uint16_t product_id;                                /* like ISVPRODID */
    uint16_t svn;                                       /* security version, like ISVSVN */
    bool debug;
};

/* The signed configuration. Sizes are bytes, multiples of
 * VOUCH_ENCLAVE_PAGE_SIZE, within the VOUCH_{MIN,MAX}_ENCLAVE_* limits. */
struct vouch_enclave_image_config {
    uint16_t product_id;
    uint16_t svn;
    bool debug;
    uint64_t heap_size;    /* the enclave heap (vouch_rt_malloc) */
    uint64_t stack_size;   /* per enclave thread */
    uint32_t thread_count; /* enclave worker threads (like NumTCS) */
};

/** Fills @p c with product 0, svn 0, no debug and the default sizes. */
VOUCH_API void vouch_enclave_image_config_default(struct vouch_enclave_image_config *c);
/** INVAL when a size or count is outside its limits or not page-aligned. */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_enclave_image_config_check(const struct vouch_enclave_image_config *c);
/**
 * Parses the configuration JSON described above into @p out (checked with
 * vouch_enclave_image_config_check). On failure a reason is written to
 * @p detail (@p detail_cap bytes) when it is not NULL.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_image_config_parse_json(
    const uint8_t *text, size_t len, struct vouch_enclave_image_config *out, char *detail,
    size_t detail_cap);
/** The configuration as JSON with the member names above (new reference). */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_enclave_image_config_to_json(const struct vouch_enclave_image_config *c, json_t **out);

/**
 * Measures a bare .so with @p cfg (no image, no signature): parses the ELF
 * strictly as described above. PARSE/TRUNCATED/UNSUPPORTED/TOO_LARGE for a
 * malformed or unsupported .so, INVAL for a bad configuration.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_measure(
    const uint8_t *so, size_t so_len, const struct vouch_enclave_image_config *cfg,
    uint8_t out[VOUCH_ENCLAVE_MEASUREMENT_LEN]);

/** SHA-256 of the public half of @p key as DER SubjectPublicKeyInfo. */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_enclave_signer_id(const struct vouch_pkey *key, uint8_t out[VOUCH_ENCLAVE_SIGNER_ID_LEN]);

/**
 * Builds a signed image of @p so with @p cfg, signed by @p key (an EC P-256
 * key; INVAL for any other). The .so is validated and measured first. Returns
 * the image bytes in a new buffer (*image_out, free with vouch_free).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_image_sign(
    const uint8_t *so, size_t so_len, const struct vouch_enclave_image_config *cfg,
    const struct vouch_pkey *key, uint8_t **image_out, size_t *image_len_out);

/* A parsed, measured and signature-checked image. */
struct vouch_enclave_image;

/**
 * Parses image bytes, checks every field, parses the .so strictly, computes
 * the measurement and verifies the signature with the key in the image. The
 * object owns copies of everything it returns; @p p may be released after.
 * Errors: PARSE/TRUNCATED for a malformed image (including an image without
 * a signature block), UNSUPPORTED for an unknown version or algorithm,
 * TOO_LARGE over a limit, INVAL for a configuration out of limits, SIGNATURE
 * when the signature does not verify (tampered code, config or header, or a
 * substituted key). When @p detail is not NULL a human-readable reason is
 * written to it (@p detail_cap bytes, NUL-terminated) on failure.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_image_open(const uint8_t *p, size_t len,
                                                             struct vouch_enclave_image **out,
                                                             char *detail, size_t detail_cap);
/** Reads an image from @p fd to end of file (at most VOUCH_MAX_ENCLAVE_IMAGE_SIZE
 *  bytes, IO on a read error, TOO_LARGE beyond) and opens it as above. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_image_read_fd(int fd,
                                                                struct vouch_enclave_image **out,
                                                                char *detail, size_t detail_cap);
VOUCH_API void vouch_enclave_image_free(struct vouch_enclave_image *img);

/** The identity: computed measurement, signer id and the config's ids. */
VOUCH_API const struct vouch_enclave_identity *
vouch_enclave_image_identity(const struct vouch_enclave_image *img);
/** The signed configuration. */
VOUCH_API const struct vouch_enclave_image_config *
vouch_enclave_image_config(const struct vouch_enclave_image *img);
/** Borrowed .so bytes to load: the file with every unmeasured byte zeroed. */
VOUCH_API void vouch_enclave_image_so(const struct vouch_enclave_image *img, const uint8_t **p,
                                      size_t *len);
/** Borrowed DER SubjectPublicKeyInfo of the signer. */
VOUCH_API void vouch_enclave_image_signer_spki(const struct vouch_enclave_image *img,
                                               const uint8_t **p, size_t *len);

/** The identity as JSON: "measurement", "signer_id" (lowercase hex),
 *  "product_id", "security_version", "debug" (new reference). */
VOUCH_NODISCARD VOUCH_API vouch_err
vouch_enclave_identity_to_json(const struct vouch_enclave_identity *id, json_t **out);

#ifdef __cplusplus
}
#endif
#endif
