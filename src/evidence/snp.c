/*
 * AMD SEV-SNP attestation reports (SNP ABI ATTESTATION_REPORT, versions 2..5):
 * parsing with the bounds-checked reader, claims, and verification.
 *
 * Verification follows AMD's model: the report is signed by the VCEK, a key
 * derived from the chip and its TCB, certified by the product line's ASK,
 * which the ARK certifies. The caller supplies the VCEK; ASK and ARK are
 * built in and pinned (amd_roots.c). Because the VCEK is only meaningful for
 * the TCB and chip it was issued for, its TCB extensions must equal the
 * report's REPORTED_TCB and its hwID the report's CHIP_ID. SEV-SNP has no
 * vendor TCB status: appraisal judges the TCB claims against its own minima.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/der.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "evidence/amd_roots.h"
#include "evidence/evidence_int.h"

#define SNP_MIN_VERSION                2u
#define SNP_MAX_VERSION                5u
#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1u

#define SNP_POLICY_SMT               (UINT64_C(1) << 16)
#define SNP_POLICY_RESERVED_ONE      (UINT64_C(1) << 17)
#define SNP_POLICY_MIGRATE_MA        (UINT64_C(1) << 18)
#define SNP_POLICY_DEBUG             (UINT64_C(1) << 19)
#define SNP_POLICY_SINGLE_SOCKET     (UINT64_C(1) << 20)
#define SNP_POLICY_CXL_ALLOW         (UINT64_C(1) << 21)
#define SNP_POLICY_MEM_AES_256_XTS   (UINT64_C(1) << 22)
#define SNP_POLICY_RAPL_DIS          (UINT64_C(1) << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (UINT64_C(1) << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (UINT64_C(1) << 25)

#define SNP_SIGNER_AUTHOR_KEY_EN 0x1u
#define SNP_SIGNER_MASK_CHIP_KEY 0x2u
#define SNP_SIGNER_KEY_SHIFT     2u
#define SNP_SIGNER_KEY_MASK      0x7u
#define SNP_SIGNER_MBZ           0xffffffe0u
#define SNP_SIGNING_KEY_VCEK     0u
#define SNP_SIGNING_KEY_VLEK     1u
#define SNP_SIGNING_KEY_NONE     7u

#define SNP_RS_LEN   72u /* R and S fields, little-endian, zero-extended */
#define SNP_P384_LEN 48u /* significant bytes of R and S */

/* CPUID combined family: Milan and Genoa are 19h, Turin is 1Ah. */
#define SNP_FAMILY_ZEN3_4 0x19u
#define SNP_FAMILY_ZEN5   0x1au

/* VCEK extensions (AMD "VCEK Certificate and KDS Interface Specification"). */
#define OID_VCEK_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define OID_VCEK_BL_SPL       "1.3.6.1.4.1.3704.1.3.1"
#define OID_VCEK_TEE_SPL      "1.3.6.1.4.1.3704.1.3.2"
#define OID_VCEK_SNP_SPL      "1.3.6.1.4.1.3704.1.3.3"
#define OID_VCEK_UCODE_SPL    "1.3.6.1.4.1.3704.1.3.8"
#define OID_VCEK_FMC_SPL      "1.3.6.1.4.1.3704.1.3.9"
#define OID_VCEK_HWID         "1.3.6.1.4.1.3704.1.4"

/* Product names are short ("Milan-B0"); anything longer is not a VCEK. */
#define VCEK_PRODUCT_NAME_MAX 32u

/* ---------------- parsing ---------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Consumes @p n bytes the ABI reserves as must-be-zero for this version. */
static vouch_err read_mbz(struct vouch_reader *r, size_t n)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint8_t *p = NULL;

    if ((rc = vouch_reader_view(r, n, &p)) != VOUCH_OK)
        goto out;
    rc = all_zero(p, n) ? VOUCH_OK : VOUCH_ERR_PARSE;
out:
    return rc;
}

vouch_err vouch__snp_report_parse(const uint8_t *p, size_t len, struct vouch_snp_report *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;

    memset(out, 0, sizeof(*out));
    if (!p && len) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (len < VOUCH_SNP_REPORT_LEN) {
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    vouch_reader_init(&r, p, len);
    if ((rc = vouch_reader_u32le(&r, &out->version)) != VOUCH_OK)
        goto out;
    /* Version first: a future report may have another size, and "we do not
     * handle it" is a better answer for it than "malformed". */
    if (out->version < SNP_MIN_VERSION || out->version > SNP_MAX_VERSION) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (len != VOUCH_SNP_REPORT_LEN) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }

    /* 0x004 .. 0x050 */
    if ((rc = vouch_reader_u32le(&r, &out->guest_svn)) != VOUCH_OK ||
        (rc = vouch_reader_u64le(&r, &out->policy)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->family_id, sizeof(out->family_id))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->image_id, sizeof(out->image_id))) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &out->vmpl)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &out->sig_algo)) != VOUCH_OK ||
        (rc = vouch_reader_u64le(&r, &out->current_tcb)) != VOUCH_OK ||
        (rc = vouch_reader_u64le(&r, &out->platform_info)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &out->signer_info)) != VOUCH_OK ||
        (rc = read_mbz(&r, 4)) != VOUCH_OK)
        goto out;

    /* 0x050 .. 0x188 */
    if ((rc = vouch_reader_copy(&r, out->report_data, sizeof(out->report_data))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->measurement, sizeof(out->measurement))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->host_data, sizeof(out->host_data))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->id_key_digest, sizeof(out->id_key_digest))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->author_key_digest, sizeof(out->author_key_digest))) !=
            VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->report_id, sizeof(out->report_id))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->report_id_ma, sizeof(out->report_id_ma))) != VOUCH_OK ||
        (rc = vouch_reader_u64le(&r, &out->reported_tcb)) != VOUCH_OK)
        goto out;

    /* 0x188: CPUID family/model/stepping exist from version 3; before that
     * the three bytes are reserved like the rest up to CHIP_ID. */
    if (out->version >= 3) {
        if ((rc = vouch_reader_u8(&r, &out->cpuid_fam_id)) != VOUCH_OK ||
            (rc = vouch_reader_u8(&r, &out->cpuid_mod_id)) != VOUCH_OK ||
            (rc = vouch_reader_u8(&r, &out->cpuid_step)) != VOUCH_OK)
            goto out;
    } else if ((rc = read_mbz(&r, 3)) != VOUCH_OK) {
        goto out;
    }
    if ((rc = read_mbz(&r, 0x1a0 - 0x18b)) != VOUCH_OK)
        goto out;

    /* 0x1A0 .. 0x1F8 */
    if ((rc = vouch_reader_copy(&r, out->chip_id, sizeof(out->chip_id))) != VOUCH_OK ||
        (rc = vouch_reader_u64le(&r, &out->committed_tcb)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &out->current_build)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &out->current_minor)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &out->current_major)) != VOUCH_OK ||
        (rc = read_mbz(&r, 1)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &out->committed_build)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &out->committed_minor)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &out->committed_major)) != VOUCH_OK ||
        (rc = read_mbz(&r, 1)) != VOUCH_OK ||
        (rc = vouch_reader_u64le(&r, &out->launch_tcb)) != VOUCH_OK)
        goto out;

    /* 0x1F8: the mitigation vectors exist from version 5. */
    if (out->version >= 5) {
        if ((rc = vouch_reader_u64le(&r, &out->launch_mit_vector)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&r, &out->current_mit_vector)) != VOUCH_OK)
            goto out;
    } else if ((rc = read_mbz(&r, 16)) != VOUCH_OK) {
        goto out;
    }
    if ((rc = read_mbz(&r, VOUCH_SNP_SIGNED_LEN - 0x208)) != VOUCH_OK)
        goto out;

    /* 0x2A0: signature. The bytes after S are not signed, so a non-zero byte
     * there would let two different blobs carry the same valid report. */
    if ((rc = vouch_reader_copy(&r, out->sig_r, sizeof(out->sig_r))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, out->sig_s, sizeof(out->sig_s))) != VOUCH_OK ||
        (rc = read_mbz(&r, VOUCH_SNP_REPORT_LEN - VOUCH_SNP_SIGNED_LEN - 2 * SNP_RS_LEN)) !=
            VOUCH_OK)
        goto out;
    if (vouch_reader_left(&r) != 0) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }

    if (out->sig_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if ((out->policy & SNP_POLICY_RESERVED_ONE) == 0 || (out->signer_info & SNP_SIGNER_MBZ) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---------------- claims ---------------- */

struct tcb_parts {
    unsigned fmc, bl, tee, snp, ucode;
};

static struct tcb_parts tcb_split(uint64_t tcb, enum vouch_amd_tcb_layout layout)
{
    struct tcb_parts t = {0, 0, 0, 0, 0};

    if (layout == VOUCH_AMD_TCB_ZEN5) {
        t.fmc = (unsigned)(tcb & 0xffu);
        t.bl = (unsigned)((tcb >> 8) & 0xffu);
        t.tee = (unsigned)((tcb >> 16) & 0xffu);
        t.snp = (unsigned)((tcb >> 24) & 0xffu);
    } else {
        t.bl = (unsigned)(tcb & 0xffu);
        t.tee = (unsigned)((tcb >> 8) & 0xffu);
        t.snp = (unsigned)((tcb >> 48) & 0xffu);
    }
    t.ucode = (unsigned)((tcb >> 56) & 0xffu);
    return t;
}

/* Without a certificate chain, the CPUID family (report version 3+) is the
 * only hint of the TCB layout; version 2 reports predate Turin. */
static enum vouch_amd_tcb_layout report_tcb_layout(const struct vouch_snp_report *r)
{
    if (r->version >= 3 && r->cpuid_fam_id == SNP_FAMILY_ZEN5)
        return VOUCH_AMD_TCB_ZEN5;
    return VOUCH_AMD_TCB_ZEN3_4;
}

/* json_object_set_new takes the reference even on failure and refuses NULL,
 * so a failed constructor surfaces here as NOMEM. */
static vouch_err put(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

static vouch_err put_int(json_t *o, const char *key, uint64_t v)
{
    return put(o, key, json_integer((json_int_t)v));
}

static vouch_err put_bool(json_t *o, const char *key, bool v)
{
    return put(o, key, json_boolean(v));
}

/* 64-bit fields as 16 lowercase hex digits, most significant first. */
static vouch_err put_u64hex(json_t *o, const char *key, uint64_t v)
{
    char buf[17];

    snprintf(buf, sizeof(buf), "%016" PRIx64, v);
    return put(o, key, json_string(buf));
}

static vouch_err put_tcb(json_t *o, const char *name, uint64_t tcb,
                         enum vouch_amd_tcb_layout layout)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct tcb_parts t = tcb_split(tcb, layout);
    char k[5][40];

    snprintf(k[0], sizeof(k[0]), "%s_bl", name);
    snprintf(k[1], sizeof(k[1]), "%s_tee", name);
    snprintf(k[2], sizeof(k[2]), "%s_snp", name);
    snprintf(k[3], sizeof(k[3]), "%s_ucode", name);
    snprintf(k[4], sizeof(k[4]), "%s_fmc", name);
    if ((rc = put_u64hex(o, name, tcb)) != VOUCH_OK || (rc = put_int(o, k[0], t.bl)) != VOUCH_OK ||
        (rc = put_int(o, k[1], t.tee)) != VOUCH_OK || (rc = put_int(o, k[2], t.snp)) != VOUCH_OK ||
        (rc = put_int(o, k[3], t.ucode)) != VOUCH_OK)
        goto out;
    if (layout == VOUCH_AMD_TCB_ZEN5) {
        if ((rc = put_int(o, k[4], t.fmc)) != VOUCH_OK)
            goto out;
    } else {
        /* Re-decoding under another layout must not leave a stale part. */
        (void)json_object_del(o, k[4]);
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err put_all_tcbs(json_t *o, const struct vouch_snp_report *r,
                              enum vouch_amd_tcb_layout layout)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if ((rc = put_tcb(o, "current_tcb", r->current_tcb, layout)) != VOUCH_OK ||
        (rc = put_tcb(o, "reported_tcb", r->reported_tcb, layout)) != VOUCH_OK ||
        (rc = put_tcb(o, "committed_tcb", r->committed_tcb, layout)) != VOUCH_OK ||
        (rc = put_tcb(o, "launch_tcb", r->launch_tcb, layout)) != VOUCH_OK)
        goto out;
    rc = VOUCH_OK;
out:
    return rc;
}

static const char *signing_key_name(uint32_t signer_info)
{
    switch ((signer_info >> SNP_SIGNER_KEY_SHIFT) & SNP_SIGNER_KEY_MASK) {
    case SNP_SIGNING_KEY_VCEK:
        return "vcek";
    case SNP_SIGNING_KEY_VLEK:
        return "vlek";
    case SNP_SIGNING_KEY_NONE:
        return "none";
    default:
        return "reserved";
    }
}

vouch_err vouch__snp_report_claims(const struct vouch_snp_report *r, json_t *claims)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint64_t pol = r->policy;
    const uint64_t pi = r->platform_info;

    if ((rc = put_int(claims, "version", r->version)) != VOUCH_OK ||
        (rc = put_int(claims, "guest_svn", r->guest_svn)) != VOUCH_OK ||
        (rc = put_u64hex(claims, "policy", pol)) != VOUCH_OK ||
        (rc = put_int(claims, "policy_abi_minor", pol & 0xffu)) != VOUCH_OK ||
        (rc = put_int(claims, "policy_abi_major", (pol >> 8) & 0xffu)) != VOUCH_OK ||
        (rc = put_bool(claims, "policy_smt", pol & SNP_POLICY_SMT)) != VOUCH_OK ||
        (rc = put_bool(claims, "policy_migrate_ma", pol & SNP_POLICY_MIGRATE_MA)) != VOUCH_OK ||
        (rc = put_bool(claims, "policy_debug", pol & SNP_POLICY_DEBUG)) != VOUCH_OK ||
        (rc = put_bool(claims, "policy_single_socket", pol & SNP_POLICY_SINGLE_SOCKET)) !=
            VOUCH_OK ||
        (rc = put_bool(claims, "policy_cxl_allow", pol & SNP_POLICY_CXL_ALLOW)) != VOUCH_OK ||
        (rc = put_bool(claims, "policy_mem_aes_256_xts", pol & SNP_POLICY_MEM_AES_256_XTS)) !=
            VOUCH_OK ||
        (rc = put_bool(claims, "policy_rapl_dis", pol & SNP_POLICY_RAPL_DIS)) != VOUCH_OK ||
        (rc = put_bool(claims, "policy_ciphertext_hiding", pol & SNP_POLICY_CIPHERTEXT_HIDING)) !=
            VOUCH_OK ||
        (rc = put_bool(claims, "policy_page_swap_disable", pol & SNP_POLICY_PAGE_SWAP_DISABLE)) !=
            VOUCH_OK ||
        (rc = put_bool(claims, "debug", pol & SNP_POLICY_DEBUG)) != VOUCH_OK)
        goto out;

    if ((rc = vouch_json_set_hex(claims, "family_id", r->family_id, sizeof(r->family_id))) !=
            VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "image_id", r->image_id, sizeof(r->image_id))) !=
            VOUCH_OK ||
        (rc = put_int(claims, "vmpl", r->vmpl)) != VOUCH_OK ||
        (rc = put_int(claims, "signature_algo", r->sig_algo)) != VOUCH_OK ||
        (rc = put_u64hex(claims, "platform_info", pi)) != VOUCH_OK ||
        (rc = put_bool(claims, "platform_smt_enabled", pi & 0x1u)) != VOUCH_OK ||
        (rc = put_bool(claims, "platform_tsme_enabled", pi & 0x2u)) != VOUCH_OK ||
        (rc = put_bool(claims, "platform_ecc_enabled", pi & 0x4u)) != VOUCH_OK ||
        (rc = put_bool(claims, "platform_rapl_disabled", pi & 0x8u)) != VOUCH_OK ||
        (rc = put_bool(claims, "platform_ciphertext_hiding_enabled", pi & 0x10u)) != VOUCH_OK ||
        (rc = put_bool(claims, "platform_alias_check_complete", pi & 0x20u)) != VOUCH_OK ||
        (rc = put_bool(claims, "author_key_en", r->signer_info & SNP_SIGNER_AUTHOR_KEY_EN)) !=
            VOUCH_OK ||
        (rc = put_bool(claims, "mask_chip_key", r->signer_info & SNP_SIGNER_MASK_CHIP_KEY)) !=
            VOUCH_OK ||
        (rc = put(claims, "signing_key", json_string(signing_key_name(r->signer_info)))) !=
            VOUCH_OK)
        goto out;

    if ((rc = vouch_json_set_hex(claims, "report_data", r->report_data, sizeof(r->report_data))) !=
            VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "measurement", r->measurement, sizeof(r->measurement))) !=
            VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "host_data", r->host_data, sizeof(r->host_data))) !=
            VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "id_key_digest", r->id_key_digest,
                                 sizeof(r->id_key_digest))) != VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "author_key_digest", r->author_key_digest,
                                 sizeof(r->author_key_digest))) != VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "report_id", r->report_id, sizeof(r->report_id))) !=
            VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "report_id_ma", r->report_id_ma,
                                 sizeof(r->report_id_ma))) != VOUCH_OK ||
        (rc = vouch_json_set_hex(claims, "chip_id", r->chip_id, sizeof(r->chip_id))) != VOUCH_OK ||
        (rc = put_int(claims, "current_build", r->current_build)) != VOUCH_OK ||
        (rc = put_int(claims, "current_minor", r->current_minor)) != VOUCH_OK ||
        (rc = put_int(claims, "current_major", r->current_major)) != VOUCH_OK ||
        (rc = put_int(claims, "committed_build", r->committed_build)) != VOUCH_OK ||
        (rc = put_int(claims, "committed_minor", r->committed_minor)) != VOUCH_OK ||
        (rc = put_int(claims, "committed_major", r->committed_major)) != VOUCH_OK ||
        (rc = put_all_tcbs(claims, r, report_tcb_layout(r))) != VOUCH_OK)
        goto out;

    if (r->version >= 3 && ((rc = put_int(claims, "cpuid_fam_id", r->cpuid_fam_id)) != VOUCH_OK ||
                            (rc = put_int(claims, "cpuid_mod_id", r->cpuid_mod_id)) != VOUCH_OK ||
                            (rc = put_int(claims, "cpuid_step", r->cpuid_step)) != VOUCH_OK))
        goto out;
    if (r->version >= 5 &&
        ((rc = put_u64hex(claims, "launch_mit_vector", r->launch_mit_vector)) != VOUCH_OK ||
         (rc = put_u64hex(claims, "current_mit_vector", r->current_mit_vector)) != VOUCH_OK))
        goto out;
    rc = VOUCH_OK;
out:
    return rc;
}

/* ---------------- VCEK cache ---------------- */

/*
 * Parsing a certificate costs OpenSSL 3.0 about a quarter of a P-384 verify,
 * and the ASK's RSA-4096 PSS signature over the VCEK another eighth; both
 * depend only on the VCEK bytes (the ASKs are compiled in). A verifier sees
 * the same few VCEKs again and again, so successfully chained VCEKs are kept,
 * parsed, keyed by the SHA-256 of the bytes exactly as the caller supplied
 * them. A different or altered VCEK has a different key and takes the full
 * path; only successes are stored; validity, CRL, extensions and the report
 * signature are still checked on every call.
 */
struct vcek_cache_slot {
    struct vouch_x509 *vcek; /* one reference owned by the cache; NULL when empty */
    enum vouch_amd_product product;
    uint8_t key[VOUCH_SHA256_LEN]; /* SHA-256 of the supplied VCEK bytes */
};

static pthread_mutex_t vcek_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vcek_cache_slot vcek_cache[VOUCH_SNP_VCEK_CACHE_SLOTS];
static size_t vcek_cache_next;

/* Returns a new reference to the cached VCEK for @p key, or NULL. */
static struct vouch_x509 *vcek_cache_get(const uint8_t key[VOUCH_SHA256_LEN],
                                         enum vouch_amd_product *product)
{
    struct vouch_x509 *found = NULL;

    if (pthread_mutex_lock(&vcek_cache_lock) != 0)
        return NULL;
    for (size_t i = 0; i < VOUCH_SNP_VCEK_CACHE_SLOTS && !found; i++) {
        if (vcek_cache[i].vcek && vouch_ct_eq(vcek_cache[i].key, key, VOUCH_SHA256_LEN)) {
            found = vouch_x509_ref(vcek_cache[i].vcek);
            *product = vcek_cache[i].product;
        }
    }
    pthread_mutex_unlock(&vcek_cache_lock);
    return found;
}

static void vcek_cache_put(const uint8_t key[VOUCH_SHA256_LEN], struct vouch_x509 *vcek,
                           enum vouch_amd_product product)
{
    struct vcek_cache_slot *slot;
    struct vouch_x509 *old = NULL;

    if (pthread_mutex_lock(&vcek_cache_lock) != 0)
        return;
    for (size_t i = 0; i < VOUCH_SNP_VCEK_CACHE_SLOTS; i++) {
        /* Two threads may have chained the same VCEK at once. */
        if (vcek_cache[i].vcek && vouch_ct_eq(vcek_cache[i].key, key, VOUCH_SHA256_LEN))
            goto out;
    }
    /* Round-robin: a verifier sees few distinct platforms, and a miss only
     * costs the work the cache would have saved. */
    slot = &vcek_cache[vcek_cache_next];
    vcek_cache_next = (vcek_cache_next + 1) % VOUCH_SNP_VCEK_CACHE_SLOTS;
    old = slot->vcek;
    slot->vcek = vouch_x509_ref(vcek);
    slot->product = product;
    memcpy(slot->key, key, VOUCH_SHA256_LEN);
out:
    pthread_mutex_unlock(&vcek_cache_lock);
    /* Other holders of the evicted VCEK keep their own references. */
    vouch_x509_free(old);
}

/* ---------------- verification ---------------- */

/* Finds the built-in chain whose ASK issued and signed @p vcek. */
static vouch_err find_chain(const struct vouch_x509 *vcek, const struct vouch_amd_chain *chains,
                            const struct vouch_amd_chain **out, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    vouch_err vr = VOUCH_ERR_INTERNAL;
    const struct vouch_amd_chain *named = NULL;

    *out = NULL;
    for (size_t i = 0; i < VOUCH_AMD_PRODUCT_COUNT; i++) {
        const struct vouch_amd_chain *c = &chains[i];

        if (!c->ask || !vouch_x509_issued_by_name(vcek, c->ask))
            continue;
        named = c;
        if (c->status != VOUCH_OK) {
            rc = vouch__result_fail(res, VOUCH_ERR_CHAIN, "built-in AMD %s chain unusable: %s",
                                    c->root->name, c->why);
            goto out;
        }
        if ((vr = vouch_x509_verify_signed_by(vcek, c->ask)) == VOUCH_OK) {
            *out = c;
            rc = VOUCH_OK;
            goto out;
        }
        if (vr == VOUCH_ERR_NOMEM || vr == VOUCH_ERR_CRYPTO) {
            rc = vouch__result_fail(res, vr, "checking the VCEK signature failed: %s",
                                    vouch_strerror(vr));
            goto out;
        }
    }
    if (named)
        rc = vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                "VCEK is not signed by the built-in AMD ASK SEV-%s",
                                named->root->name);
    else
        rc = vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                "VCEK is not issued by a built-in AMD ASK (Milan, Genoa, Turin)");
out:
    return rc;
}

/* The caller's VCEK, parsed and chained to a built-in ASK (or from the cache).
 * On success *vcek_out is a new reference. */
static vouch_err resolve_vcek(const struct vouch_verify_opts *opts,
                              const struct vouch_amd_chain *chains, struct vouch_x509 **vcek_out,
                              const struct vouch_amd_chain **chain_out,
                              struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_x509 *vcek = NULL;
    enum vouch_amd_product product = VOUCH_AMD_MILAN;
    uint8_t key[VOUCH_SHA256_LEN];
    bool keyed = false;

    *vcek_out = NULL;
    *chain_out = NULL;
    /* Hash only what could be a certificate (DER, or PEM of the largest DER
     * we accept); anything longer fails to parse without the cache's help. */
    if (opts->vcek_len <= 2u * VOUCH_MAX_CERT_SIZE &&
        vouch_sha256(opts->vcek, opts->vcek_len, key) == VOUCH_OK) {
        keyed = true;
        if ((vcek = vcek_cache_get(key, &product)) != NULL && chains[product].status == VOUCH_OK) {
            *chain_out = &chains[product];
            *vcek_out = vcek;
            vcek = NULL;
            rc = VOUCH_OK;
            goto out;
        }
        vouch_x509_free(vcek);
        vcek = NULL;
    }
    if ((rc = vouch_x509_parse(opts->vcek, opts->vcek_len, &vcek)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "VCEK does not parse: %s", vouch_strerror(rc));
        goto out;
    }
    if ((rc = find_chain(vcek, chains, chain_out, res)) != VOUCH_OK)
        goto out;
    if (keyed)
        vcek_cache_put(key, vcek, (*chain_out)->root->product);
    *vcek_out = vcek;
    vcek = NULL;
    rc = VOUCH_OK;
out:
    vouch_x509_free(vcek);
    return rc;
}

/* Records the first certificate outside its window; verification goes on so
 * the caller still gets every other verdict (QvE's expired model). */
static void check_window(struct vouch_verify_result *res, const struct vouch_x509 *c,
                         const char *item, int64_t now, char *detail, size_t cap)
{
    int64_t nb = 0, na = 0;
    char t_now[21], t_nb[21], t_na[21];

    vouch_x509_validity(c, &nb, &na);
    if (now >= nb && now <= na)
        return;
    if (!res->collateral_expired) {
        vouch_time_format(now, t_now);
        vouch_time_format(nb, t_nb);
        vouch_time_format(na, t_na);
        snprintf(detail, cap, "%s is not valid at %s (valid %s .. %s)", item, t_now, t_nb, t_na);
    }
    vouch__result_expired(res, item);
}

/* The contents of a VCEK INTEGER extension (an SPL). */
static vouch_err vcek_spl(const struct vouch_x509 *vcek, const char *oid, uint64_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint8_t *p = NULL;
    size_t len = 0;
    struct vouch_reader r, v;

    *out = 0;
    if ((rc = vouch_x509_extension(vcek, oid, &p, &len)) != VOUCH_OK)
        goto out;
    vouch_reader_init(&r, p, len);
    if ((rc = vouch_der_expect(&r, VOUCH_DER_INTEGER, &v)) != VOUCH_OK ||
        (rc = vouch_der_uint(&v, out)) != VOUCH_OK)
        goto out;
    if (vouch_reader_left(&r) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

/* The VCEK's product name ("Milan-B0") must name the chain that signed it. */
static vouch_err check_product_name(const struct vouch_x509 *vcek,
                                    const struct vouch_amd_chain *chain, json_t *claims,
                                    struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint8_t *p = NULL, *s = NULL;
    size_t len = 0, n = 0, line = 0;
    struct vouch_reader r, v;
    char name[VCEK_PRODUCT_NAME_MAX + 1];

    rc = vouch_x509_extension(vcek, OID_VCEK_PRODUCT_NAME, &p, &len);
    if (rc == VOUCH_ERR_NOT_FOUND) {
        rc = vouch__result_fail(res, VOUCH_ERR_PARSE, "VCEK has no product name extension");
        goto out;
    }
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "VCEK product name: %s", vouch_strerror(rc));
        goto out;
    }
    vouch_reader_init(&r, p, len);
    if ((rc = vouch_der_expect(&r, VOUCH_DER_IA5STRING, &v)) != VOUCH_OK ||
        vouch_reader_left(&r) != 0 || (n = vouch_reader_left(&v)) == 0 ||
        n > VCEK_PRODUCT_NAME_MAX || (rc = vouch_reader_view(&v, n, &s)) != VOUCH_OK) {
        rc = vouch__result_fail(res, VOUCH_ERR_PARSE, "VCEK product name is malformed");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            rc = vouch__result_fail(res, VOUCH_ERR_PARSE, "VCEK product name is not printable");
            goto out;
        }
        name[i] = (char)s[i];
    }
    name[n] = 0;
    if ((rc = put(claims, "vcek_product_name", json_string(name))) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "out of memory");
        goto out;
    }
    /* The product line is the part before the stepping ("Milan" in "Milan-B0"). */
    line = strcspn(name, "-");
    if (line != strlen(chain->root->name) || strncmp(name, chain->root->name, line) != 0) {
        rc = vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                "VCEK product %s does not match its signing chain %s", name,
                                chain->root->name);
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

/* The VCEK certifies one TCB: its SPL extensions must equal REPORTED_TCB. */
static vouch_err check_tcb(const struct vouch_x509 *vcek, const struct vouch_snp_report *r,
                           const struct vouch_amd_chain *chain, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct tcb_parts t = tcb_split(r->reported_tcb, chain->root->tcb_layout);
    const bool zen5 = chain->root->tcb_layout == VOUCH_AMD_TCB_ZEN5;
    const struct {
        const char *oid;
        const char *what;
        unsigned want;
        bool needed;
    } spl[] = {
        {OID_VCEK_BL_SPL, "blSPL", t.bl, true},    {OID_VCEK_TEE_SPL, "teeSPL", t.tee, true},
        {OID_VCEK_SNP_SPL, "snpSPL", t.snp, true}, {OID_VCEK_UCODE_SPL, "ucodeSPL", t.ucode, true},
        {OID_VCEK_FMC_SPL, "fmcSPL", t.fmc, zen5},
    };

    for (size_t i = 0; i < sizeof(spl) / sizeof(spl[0]); i++) {
        uint64_t got = 0;

        if (!spl[i].needed)
            continue;
        rc = vcek_spl(vcek, spl[i].oid, &got);
        if (rc == VOUCH_ERR_NOT_FOUND) {
            rc = vouch__result_fail(res, VOUCH_ERR_PARSE, "VCEK has no %s extension", spl[i].what);
            goto out;
        }
        if (rc != VOUCH_OK) {
            rc = vouch__result_fail(res, rc == VOUCH_ERR_NOMEM ? rc : VOUCH_ERR_PARSE,
                                    "VCEK %s extension is malformed", spl[i].what);
            goto out;
        }
        if (got != spl[i].want) {
            rc = vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                    "VCEK %s is %" PRIu64 " but REPORTED_TCB has %u", spl[i].what,
                                    got, spl[i].want);
            goto out;
        }
    }
    rc = VOUCH_OK;
out:
    return rc;
}

/* The VCEK belongs to one chip: its hwID must equal CHIP_ID, unless the host
 * masked the chip ID (then CHIP_ID is zero and the VCEK signature alone binds
 * the report to the chip). */
static vouch_err check_hwid(const struct vouch_x509 *vcek, const struct vouch_snp_report *r,
                            const struct vouch_amd_chain *chain, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint8_t *p = NULL;
    size_t len = 0;

    if (r->signer_info & SNP_SIGNER_MASK_CHIP_KEY) {
        rc = VOUCH_OK;
        goto out;
    }
    rc = vouch_x509_extension(vcek, OID_VCEK_HWID, &p, &len);
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc == VOUCH_ERR_NOT_FOUND ? VOUCH_ERR_PARSE : rc,
                                "VCEK has no readable hwID extension");
        goto out;
    }
    /* KDS puts the raw ID in extnValue; Turin's is the first 8 bytes of CHIP_ID. */
    if (len != chain->root->hwid_len || len > sizeof(r->chip_id)) {
        rc = vouch__result_fail(res, VOUCH_ERR_MISMATCH, "VCEK hwID is %zu bytes, %s uses %zu", len,
                                chain->root->name, chain->root->hwid_len);
        goto out;
    }
    if (!vouch_ct_eq(p, r->chip_id, len)) {
        rc = vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                "VCEK hwID does not match the report's CHIP_ID");
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

/* Optional KDS CRL. It is issued by the ARK, so it can only revoke what the
 * ARK issued: the ASK. VCEKs are issued by the ASK and all carry serial 0, so
 * looking a VCEK serial up on an ARK CRL would be a category error. */
static vouch_err check_crl(const struct vouch_verify_opts *opts,
                           const struct vouch_amd_chain *chain, struct vouch_verify_result *res,
                           char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_crl *crl = NULL;
    int64_t this_update = 0, next_update = 0;

    if (!opts->snp_crl && opts->snp_crl_len == 0) {
        rc = VOUCH_OK;
        goto out;
    }
    if (!opts->snp_crl || opts->snp_crl_len == 0) {
        rc = vouch__result_fail(res, VOUCH_ERR_INVAL, "SNP CRL pointer and length disagree");
        goto out;
    }
    if ((rc = vouch_crl_parse(opts->snp_crl, opts->snp_crl_len, &crl)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "SNP CRL does not parse: %s", vouch_strerror(rc));
        goto out;
    }
    if ((rc = vouch_crl_verify_signed_by(crl, chain->ark)) != VOUCH_OK) {
        /* Another issuer's CRL does not lead to the pinned root. */
        rc = vouch__result_fail(res, rc == VOUCH_ERR_MISMATCH ? VOUCH_ERR_CHAIN : rc,
                                "SNP CRL is not issued and signed by ARK-%s", chain->root->name);
        goto out;
    }
    vouch_crl_validity(crl, &this_update, &next_update);
    if (opts->now < this_update || opts->now > next_update) {
        if (!res->collateral_expired) {
            char t_now[21], t_this[21], t_next[21];

            vouch_time_format(opts->now, t_now);
            vouch_time_format(this_update, t_this);
            vouch_time_format(next_update, t_next);
            snprintf(detail, cap, "snp_crl is not current at %s (%s .. %s)", t_now, t_this, t_next);
        }
        vouch__result_expired(res, "snp_crl");
    }
    if (vouch_crl_lists(crl, chain->ask)) {
        rc = vouch__result_fail(res, VOUCH_ERR_REVOKED, "ASK SEV-%s is revoked by the SNP CRL",
                                chain->root->name);
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_crl_free(crl);
    return rc;
}

/* The report signature: ECDSA P-384 / SHA-384 over [0, 0x2A0). */
static vouch_err check_signature(const uint8_t *p, const struct vouch_snp_report *r,
                                 const struct vouch_x509 *vcek, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *key = NULL;

    /* Bytes above the 48 significant ones are zero in a genuine signature;
     * refusing them keeps the encoding of a valid signature unique. */
    if (!all_zero(r->sig_r + SNP_P384_LEN, SNP_RS_LEN - SNP_P384_LEN) ||
        !all_zero(r->sig_s + SNP_P384_LEN, SNP_RS_LEN - SNP_P384_LEN)) {
        rc = vouch__result_fail(res, VOUCH_ERR_SIGNATURE,
                                "report signature R or S is wider than 384 bits");
        goto out;
    }
    if ((rc = vouch_x509_pubkey(vcek, &key)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "VCEK public key: %s", vouch_strerror(rc));
        goto out;
    }
    if (!vouch_pubkey_is_ec(key, VOUCH_CURVE_P384)) {
        rc = vouch__result_fail(res, VOUCH_ERR_CHAIN, "VCEK key is not an EC P-384 key");
        goto out;
    }
    rc = vouch_ecdsa_verify_le(key, VOUCH_HASH_SHA384, p, VOUCH_SNP_SIGNED_LEN, r->sig_r, r->sig_s,
                               SNP_RS_LEN);
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc,
                                rc == VOUCH_ERR_SIGNATURE
                                    ? "report signature does not verify with the VCEK"
                                    : "report signature check failed");
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_pubkey_free(key);
    return rc;
}

vouch_err vouch__snp_verify(const uint8_t *p, size_t len, const struct vouch_snp_report *r,
                            const struct vouch_verify_opts *opts, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *claims = NULL;
    struct vouch_x509 *vcek = NULL;
    const struct vouch_amd_chain *chains = NULL, *chain = NULL;
    enum vouch_amd_tcb_layout layout = VOUCH_AMD_TCB_ZEN3_4;
    uint32_t signing_key = 0;
    char expired_detail[VOUCH_MAX_ERROR_DETAIL] = "";

    res->verified = false;
    res->status = VOUCH_TCB_NONE;
    if (!p || len != VOUCH_SNP_REPORT_LEN || !r || !opts) {
        rc = vouch__result_fail(res, VOUCH_ERR_INVAL, "invalid arguments to SEV-SNP verify");
        goto out;
    }
    rc = (claims = json_object()) ? vouch__snp_report_claims(r, claims) : VOUCH_ERR_NOMEM;
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "building claims: %s", vouch_strerror(rc));
        goto out;
    }
    json_decref(res->claims);
    res->claims = claims;
    claims = NULL;

    signing_key = (r->signer_info >> SNP_SIGNER_KEY_SHIFT) & SNP_SIGNER_KEY_MASK;
    if (signing_key == SNP_SIGNING_KEY_NONE) {
        rc = vouch__result_fail(res, VOUCH_ERR_VERIFY, "report is unsigned (SIGNING_KEY none)");
        goto out;
    }
    if (signing_key == SNP_SIGNING_KEY_VLEK) {
        /* A VLEK chains to the ARK through an ASVK, which is not built in. */
        rc = vouch__result_fail(res, VOUCH_ERR_UNSUPPORTED,
                                "VLEK-signed reports are not supported (no ASVK chain built in)");
        goto out;
    }
    if (signing_key != SNP_SIGNING_KEY_VCEK) {
        rc = vouch__result_fail(res, VOUCH_ERR_UNSUPPORTED, "reserved SIGNING_KEY %" PRIu32,
                                signing_key);
        goto out;
    }

    if (!opts->vcek || opts->vcek_len == 0) {
        rc = vouch__result_fail(res, VOUCH_ERR_INVAL, "SEV-SNP verification needs the VCEK");
        goto out;
    }
    if ((rc = vouch__amd_chains(&chains)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "built-in AMD roots: %s", vouch_strerror(rc));
        goto out;
    }
    if ((rc = resolve_vcek(opts, chains, &vcek, &chain, res)) != VOUCH_OK)
        goto out;
    if ((rc = put(res->claims, "product", json_string(chain->root->name))) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "out of memory building claims");
        goto out;
    }

    /* The chain fixes the product and so the TCB layout; a version 3+ report
     * also names its CPU family, which must agree. */
    layout = chain->root->tcb_layout;
    if (r->version >= 3 && r->cpuid_fam_id != 0 &&
        (r->cpuid_fam_id == SNP_FAMILY_ZEN5) != (layout == VOUCH_AMD_TCB_ZEN5)) {
        rc = vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                "report CPU family %02xh does not match product %s",
                                r->cpuid_fam_id, chain->root->name);
        goto out;
    }
    if (layout != report_tcb_layout(r) && (rc = put_all_tcbs(res->claims, r, layout)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "out of memory building claims");
        goto out;
    }

    /* The first certificate out of its window is the one named. */
    check_window(res, vcek, "vcek", opts->now, expired_detail, sizeof(expired_detail));
    check_window(res, chain->ask, "ask", opts->now, expired_detail, sizeof(expired_detail));
    check_window(res, chain->ark, "ark", opts->now, expired_detail, sizeof(expired_detail));

    if ((rc = check_crl(opts, chain, res, expired_detail, sizeof(expired_detail))) != VOUCH_OK ||
        (rc = check_product_name(vcek, chain, res->claims, res)) != VOUCH_OK ||
        (rc = check_tcb(vcek, r, chain, res)) != VOUCH_OK ||
        (rc = check_hwid(vcek, r, chain, res)) != VOUCH_OK ||
        (rc = check_signature(p, r, vcek, res)) != VOUCH_OK)
        goto out;

    if (res->collateral_expired) {
        rc = vouch__result_fail(res, VOUCH_ERR_EXPIRED, "%s",
                                expired_detail[0] ? expired_detail : "collateral expired");
        goto out;
    }
    res->verified = true;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        res->verified = false;
    json_decref(claims);
    vouch_x509_free(vcek);
    return rc;
}
