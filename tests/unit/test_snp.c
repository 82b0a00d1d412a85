/*
 * AMD SEV-SNP: report parsing, claims and verification against the built-in
 * AMD chains, on the real N1 (go-sev-guest, debug policy) and N2 (virtee,
 * production policy) Milan reports and their VCEKs.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/evidence.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "evidence/amd_roots.h"
#include "evidence/evidence_int.h"

#define N1_REPORT "evidence/snp/milan_v2_gosev_report.bin"
#define N1_VCEK   "evidence/snp/milan_v2_gosev_vcek.der"
#define N2_REPORT "evidence/snp/milan_v2_virtee_report.bin"
#define N2_VCEK   "evidence/snp/milan_v2_virtee_vcek.der"

/* Inside both N1's and N2's VCEK windows (2023-11-14). */
#define NOW_OK 1700000000

struct vec {
    uint8_t *p;
    size_t len;
};

static struct vec load(const char *rel)
{
    struct vec v;
    v.p = vt_read(rel, &v.len);
    return v;
}

static vouch_err verify_with(const uint8_t *rep, size_t rep_len, const uint8_t *vcek,
                             size_t vcek_len, int64_t now, struct vouch_verify_result *res)
{
    struct vouch_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.now = now;
    o.vcek = vcek;
    o.vcek_len = vcek_len;
    return vouch_evidence_verify(rep, rep_len, &o, res);
}

static const char *claim_str(const json_t *claims, const char *key)
{
    const json_t *v = json_object_get(claims, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static long long claim_int(const json_t *claims, const char *key)
{
    const json_t *v = json_object_get(claims, key);
    assert_non_null(v);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static bool claim_bool(const json_t *claims, const char *key)
{
    const json_t *v = json_object_get(claims, key);
    assert_non_null(v);
    assert_true(json_is_boolean(v));
    return json_is_true(v);
}

/* The VCEK's hwID extension as lowercase hex. */
static void vcek_hwid_hex(const struct vec *vcek, char *out, size_t cap)
{
    struct vouch_x509 *c = NULL;
    const uint8_t *p = NULL;
    size_t n = 0;

    assert_int_equal(vouch_x509_parse(vcek->p, vcek->len, &c), VOUCH_OK);
    assert_int_equal(vouch_x509_extension(c, "1.3.6.1.4.1.3704.1.4", &p, &n), VOUCH_OK);
    assert_int_equal(n, 64);
    assert_true(cap >= 2 * n + 1);
    vouch_hex_encode(p, n, out);
    vouch_x509_free(c);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- built-in roots ---- */

static void test_builtin_chains(void **state)
{
    static const char *const pins[VOUCH_AMD_PRODUCT_COUNT] = {
        "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
        "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
        "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    };
    static const char *const files[VOUCH_AMD_PRODUCT_COUNT] = {
        "evidence/roots/amd_milan_ask_ark.pem",
        "evidence/roots/amd_genoa_ask_ark.pem",
        "evidence/roots/amd_turin_ask_ark.pem",
    };
    const struct vouch_amd_chain *chains = NULL;
    (void)state;

    assert_int_equal(vouch__amd_chains(&chains), VOUCH_OK);
    assert_non_null(chains);
    for (size_t i = 0; i < VOUCH_AMD_PRODUCT_COUNT; i++) {
        const struct vouch_amd_chain *c = &chains[i];
        uint8_t fp[VOUCH_SHA256_LEN], fp_file[VOUCH_SHA256_LEN];
        char hex[2 * VOUCH_SHA256_LEN + 1], cn[64], want[64];
        struct vouch_x509 *file_certs[2] = {NULL, NULL};
        size_t n = 0, len = 0;
        uint8_t *pem;

        assert_int_equal(c->status, VOUCH_OK);
        assert_int_equal(c->root->product, (enum vouch_amd_product)i);
        vouch_x509_fingerprint(c->ark, fp);
        vouch_hex_encode(fp, sizeof(fp), hex);
        assert_string_equal(hex, pins[i]);
        assert_int_equal(vouch_x509_subject_cn(c->ark, cn, sizeof(cn)), VOUCH_OK);
        snprintf(want, sizeof(want), "ARK-%s", c->root->name);
        assert_string_equal(cn, want);
        assert_int_equal(vouch_x509_subject_cn(c->ask, cn, sizeof(cn)), VOUCH_OK);
        snprintf(want, sizeof(want), "SEV-%s", c->root->name);
        assert_string_equal(cn, want);

        /* The embedded certificates are byte-for-byte AMD's cert_chain. */
        pem = vt_read(files[i], &len);
        assert_int_equal(vouch_x509_parse_pem_chain(pem, len, file_certs, 2, &n), VOUCH_OK);
        assert_int_equal(n, 2);
        vouch_x509_fingerprint(file_certs[0], fp_file);
        vouch_x509_fingerprint(c->ask, fp);
        assert_memory_equal(fp, fp_file, sizeof(fp));
        vouch_x509_fingerprint(file_certs[1], fp_file);
        vouch_x509_fingerprint(c->ark, fp);
        assert_memory_equal(fp, fp_file, sizeof(fp));
        vouch_x509_free(file_certs[0]);
        vouch_x509_free(file_certs[1]);
        free(pem);
    }
    /* Same objects on every call. */
    {
        const struct vouch_amd_chain *again = NULL;
        assert_int_equal(vouch__amd_chains(&again), VOUCH_OK);
        assert_ptr_equal(again, chains);
    }
}

/* ---- happy paths ---- */

static void test_n1_verifies(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    char hwid[129];
    (void)state;

    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_OK);
    assert_true(res.verified);
    assert_int_equal(res.format, VOUCH_EVIDENCE_SNP);
    assert_int_equal(res.error, VOUCH_OK);
    assert_false(res.collateral_expired);
    assert_int_equal(res.status, VOUCH_TCB_NONE);
    assert_non_null(res.claims);

    assert_true(claim_bool(res.claims, "debug"));
    assert_true(claim_bool(res.claims, "policy_debug"));
    assert_true(claim_bool(res.claims, "policy_smt"));
    assert_false(claim_bool(res.claims, "policy_migrate_ma"));
    assert_false(claim_bool(res.claims, "policy_single_socket"));
    assert_string_equal(claim_str(res.claims, "policy"), "00000000000b0000");
    assert_int_equal(claim_int(res.claims, "version"), 2);
    assert_int_equal(claim_int(res.claims, "vmpl"), 0);
    assert_string_equal(claim_str(res.claims, "signing_key"), "vcek");
    assert_string_equal(claim_str(res.claims, "product"), "Milan");
    assert_string_equal(claim_str(res.claims, "vcek_product_name"), "Milan-B0");
    assert_memory_equal(claim_str(res.claims, "report_data"), "0102030405000000", 16);
    assert_int_equal(strlen(claim_str(res.claims, "report_data")), 128);
    assert_int_equal(strlen(claim_str(res.claims, "measurement")), 96);

    /* TCB 0x4405000000000002 in the Milan layout. */
    assert_string_equal(claim_str(res.claims, "reported_tcb"), "4405000000000002");
    assert_int_equal(claim_int(res.claims, "reported_tcb_bl"), 2);
    assert_int_equal(claim_int(res.claims, "reported_tcb_tee"), 0);
    assert_int_equal(claim_int(res.claims, "reported_tcb_snp"), 5);
    assert_int_equal(claim_int(res.claims, "reported_tcb_ucode"), 0x44);
    assert_null(json_object_get(res.claims, "reported_tcb_fmc"));
    assert_int_equal(claim_int(res.claims, "launch_tcb_snp"), 5);
    assert_int_equal(claim_int(res.claims, "committed_tcb_ucode"), 0x44);
    assert_int_equal(claim_int(res.claims, "current_major"), 1);
    assert_int_equal(claim_int(res.claims, "current_minor"), 0x31);
    assert_int_equal(claim_int(res.claims, "current_build"), 3);

    vcek_hwid_hex(&vcek, hwid, sizeof(hwid));
    assert_string_equal(claim_str(res.claims, "chip_id"), hwid);

    vouch_verify_result_free(&res);
    assert_null(res.claims);
    free(rep.p);
    free(vcek.p);
}

static void test_n2_verifies(void **state)
{
    struct vec rep = load(N2_REPORT), vcek = load(N2_VCEK);
    struct vouch_verify_result res;
    char hwid[129];
    (void)state;

    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_OK);
    assert_true(res.verified);
    assert_false(claim_bool(res.claims, "debug"));
    assert_false(claim_bool(res.claims, "policy_debug"));
    assert_string_equal(claim_str(res.claims, "policy"), "0000000000030000");
    assert_string_equal(claim_str(res.claims, "reported_tcb"), "7308000000000003");
    assert_int_equal(claim_int(res.claims, "reported_tcb_bl"), 3);
    assert_int_equal(claim_int(res.claims, "reported_tcb_snp"), 8);
    assert_int_equal(claim_int(res.claims, "reported_tcb_ucode"), 0x73);
    assert_string_equal(claim_str(res.claims, "product"), "Milan");
    vcek_hwid_hex(&vcek, hwid, sizeof(hwid));
    assert_string_equal(claim_str(res.claims, "chip_id"), hwid);
    vouch_verify_result_free(&res);
    free(rep.p);
    free(vcek.p);
}

/* The VCEK may come as PEM, as KDS-fetching tools often store it. */
static void test_vcek_pem(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    size_t b64_len = vouch_base64_encoded_len(vcek.len, false);
    char *b64 = malloc(b64_len + 1);
    size_t cap = b64_len + b64_len / 64 + 128;
    char *pem = malloc(cap);
    size_t n = 0;
    (void)state;

    assert_non_null(b64);
    assert_non_null(pem);
    vouch_base64_encode(vcek.p, vcek.len, false, b64);
    n += (size_t)snprintf(pem + n, cap - n, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0; i < b64_len; i += 64)
        n += (size_t)snprintf(pem + n, cap - n, "%.64s\n", b64 + i);
    n += (size_t)snprintf(pem + n, cap - n, "-----END CERTIFICATE-----\n");
    assert_true(n < cap);

    assert_int_equal(verify_with(rep.p, rep.len, (uint8_t *)pem, n, NOW_OK, &res), VOUCH_OK);
    assert_true(res.verified);
    vouch_verify_result_free(&res);

    /* More distinct encodings of the same certificate than the VCEK cache
     * has slots (leading blank lines), so entries are evicted while other
     * verifications may still hold them; then the first ones again. */
    {
        size_t extra = VOUCH_SNP_VCEK_CACHE_SLOTS + 8;
        char *padded = malloc(n + extra);
        assert_non_null(padded);
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < extra; i++) {
                memset(padded, '\n', i);
                memcpy(padded + i, pem, n);
                assert_int_equal(
                    verify_with(rep.p, rep.len, (uint8_t *)padded, n + i, NOW_OK, &res), VOUCH_OK);
                vouch_verify_result_free(&res);
            }
        }
        free(padded);
    }
    free(b64);
    free(pem);
    free(rep.p);
    free(vcek.p);
}

/* Verifying twice (the second time through the VCEK signature cache) gives
 * the same answer, and the cache does not vouch for a different VCEK. */
static void test_vcek_cache(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    uint8_t *bad = malloc(vcek.len);
    size_t hwid_off = 0;
    (void)state;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_OK);
        vouch_verify_result_free(&res);
    }

    /* Last byte of the VCEK's RSA-PSS signature. */
    assert_non_null(bad);
    memcpy(bad, vcek.p, vcek.len);
    bad[vcek.len - 1] ^= 0x01;
    assert_int_equal(verify_with(rep.p, rep.len, bad, vcek.len, NOW_OK, &res), VOUCH_ERR_CHAIN);
    assert_false(res.verified);
    vouch_verify_result_free(&res);

    /* A byte of the signed hwID extension: the certificate still parses,
     * but the ASK signature over it no longer holds. */
    for (size_t i = 0; i + 8 <= vcek.len; i++) {
        if (memcmp(vcek.p + i, rep.p + 0x1a0, 8) == 0) {
            hwid_off = i;
            break;
        }
    }
    assert_true(hwid_off > 0);
    memcpy(bad, vcek.p, vcek.len);
    bad[hwid_off + 10] ^= 0x80;
    assert_int_equal(verify_with(rep.p, rep.len, bad, vcek.len, NOW_OK, &res), VOUCH_ERR_CHAIN);
    vouch_verify_result_free(&res);

    free(bad);
    free(rep.p);
    free(vcek.p);
}

/* ---- time ---- */

static void test_n1_expired(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    int64_t nb = 0, na = 0;
    (void)state;

    assert_int_equal(vouch_time_parse_rfc3339("2022-09-24T00:55:28Z", 20, &nb), VOUCH_OK);
    assert_int_equal(vouch_time_parse_rfc3339("2029-09-24T00:55:28Z", 20, &na), VOUCH_OK);

    /* One second before the VCEK's notBefore. */
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, nb - 1, &res),
                     VOUCH_ERR_EXPIRED);
    assert_false(res.verified);
    assert_true(res.collateral_expired);
    assert_string_equal(res.expired_item, "vcek");
    assert_int_equal(res.error, VOUCH_ERR_EXPIRED);
    assert_non_null(strstr(res.error_detail, "vcek"));
    /* The full verdict is still there. */
    assert_non_null(res.claims);
    assert_true(claim_bool(res.claims, "debug"));
    vouch_verify_result_free(&res);

    /* The window is inclusive at both ends. */
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, nb, &res), VOUCH_OK);
    vouch_verify_result_free(&res);
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, na, &res), VOUCH_OK);
    vouch_verify_result_free(&res);

    /* After notAfter. */
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, na + 1, &res),
                     VOUCH_ERR_EXPIRED);
    assert_string_equal(res.expired_item, "vcek");
    vouch_verify_result_free(&res);

    /* A hard failure outranks expiry: a bad signature at an expired time is
     * reported as the signature failure, with the expiry still flagged. */
    rep.p[0x50] ^= 0x01;
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, nb - 1, &res),
                     VOUCH_ERR_SIGNATURE);
    assert_true(res.collateral_expired);
    vouch_verify_result_free(&res);

    free(rep.p);
    free(vcek.p);
}

/* ---- tampering ---- */

/* Fields that nothing but the report signature judges: guest SVN, family and
 * image IDs, VMPL, current TCB, platform info, report data, measurement,
 * host data, key digests, report IDs, committed TCB, firmware versions and
 * launch TCB. A flip there must be a signature failure, nothing else. */
static bool signature_only(size_t off)
{
    static const size_t ranges[][2] = {
        {0x004, 0x008}, {0x010, 0x034}, {0x038, 0x048}, {0x050, 0x180},
        {0x1e0, 0x1eb}, {0x1ec, 0x1ef}, {0x1f0, 0x1f8},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (off >= ranges[i][0] && off < ranges[i][1])
            return true;
    }
    return false;
}

static void test_byte_flips(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    uint8_t *m = malloc(rep.len);
    size_t flips = 0;
    (void)state;

    assert_non_null(m);
    for (size_t off = 0; off < VOUCH_SNP_SIGNED_LEN; off += 5) {
        struct vouch_verify_result res;
        vouch_err rc;

        memcpy(m, rep.p, rep.len);
        m[off] ^= 0x01;
        rc = verify_with(m, rep.len, vcek.p, vcek.len, NOW_OK, &res);
        assert_int_not_equal(rc, VOUCH_OK);
        assert_false(res.verified);
        assert_int_equal(res.error, rc);
        if (signature_only(off))
            assert_int_equal(rc, VOUCH_ERR_SIGNATURE);
        vouch_verify_result_free(&res);
        flips++;
    }
    assert_int_equal(flips, (VOUCH_SNP_SIGNED_LEN + 4) / 5);

    /* Signature bytes: R, the zero-extension of R, S. */
    for (size_t off = 0x2a0; off < 0x330; off += 7) {
        struct vouch_verify_result res;

        memcpy(m, rep.p, rep.len);
        m[off] ^= 0x01;
        assert_int_equal(verify_with(m, rep.len, vcek.p, vcek.len, NOW_OK, &res),
                         VOUCH_ERR_SIGNATURE);
        vouch_verify_result_free(&res);
    }
    /* Unsigned reserved bytes after S are refused, not ignored. */
    memcpy(m, rep.p, rep.len);
    m[0x400] = 0x01;
    {
        struct vouch_verify_result res;
        assert_int_equal(verify_with(m, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_ERR_PARSE);
        vouch_verify_result_free(&res);
    }
    free(m);
    free(rep.p);
    free(vcek.p);
}

static void test_wrong_vcek(void **state)
{
    struct vec r1 = load(N1_REPORT), v1 = load(N1_VCEK);
    struct vec r2 = load(N2_REPORT), v2 = load(N2_VCEK);
    struct vouch_verify_result res;
    (void)state;

    /* The VCEKs certify other TCBs than the reports carry. */
    assert_int_equal(verify_with(r1.p, r1.len, v2.p, v2.len, NOW_OK, &res), VOUCH_ERR_MISMATCH);
    assert_false(res.verified);
    assert_non_null(strstr(res.error_detail, "REPORTED_TCB"));
    vouch_verify_result_free(&res);
    assert_int_equal(verify_with(r2.p, r2.len, v1.p, v1.len, NOW_OK, &res), VOUCH_ERR_MISMATCH);
    vouch_verify_result_free(&res);

    /* With the TCB made to agree, the chip ID and then the key still differ. */
    memcpy(r1.p + 0x180, r2.p + 0x180, 8);
    assert_int_equal(verify_with(r1.p, r1.len, v2.p, v2.len, NOW_OK, &res), VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(res.error_detail, "CHIP_ID"));
    vouch_verify_result_free(&res);
    memcpy(r1.p + 0x1a0, r2.p + 0x1a0, 64);
    assert_int_equal(verify_with(r1.p, r1.len, v2.p, v2.len, NOW_OK, &res), VOUCH_ERR_SIGNATURE);
    vouch_verify_result_free(&res);

    free(r1.p);
    free(v1.p);
    free(r2.p);
    free(v2.p);
}

static void test_chip_id_masking(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    (void)state;

    /* Zeroed CHIP_ID without MASK_CHIP_KEY: the hwID check catches it. */
    memset(rep.p + 0x1a0, 0, 64);
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res),
                     VOUCH_ERR_MISMATCH);
    vouch_verify_result_free(&res);
    /* With MASK_CHIP_KEY the hwID check is skipped; only the (now broken)
     * signature is left to fail. */
    rep.p[0x48] |= 0x02;
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res),
                     VOUCH_ERR_SIGNATURE);
    assert_true(claim_bool(res.claims, "mask_chip_key"));
    vouch_verify_result_free(&res);
    free(rep.p);
    free(vcek.p);
}

static void test_signer_info(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    static const struct {
        uint32_t signer_info;
        vouch_err want;
        const char *name;
    } cases[] = {
        {1u << 2, VOUCH_ERR_UNSUPPORTED, "vlek"},
        {7u << 2, VOUCH_ERR_VERIFY, "none"},
        {3u << 2, VOUCH_ERR_UNSUPPORTED, "reserved"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_le32(rep.p + 0x48, cases[i].signer_info);
        assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res),
                         cases[i].want);
        assert_string_equal(claim_str(res.claims, "signing_key"), cases[i].name);
        vouch_verify_result_free(&res);
    }
    /* Bits 31:5 are must-be-zero. */
    put_le32(rep.p + 0x48, 1u << 5);
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_ERR_PARSE);
    vouch_verify_result_free(&res);
    free(rep.p);
    free(vcek.p);
}

/* ---- collateral problems ---- */

static void test_bad_vcek(void **state)
{
    struct vec rep = load(N1_REPORT);
    struct vec intel = load("evidence/roots/intel_sgx_root_ca.der");
    struct vouch_verify_result res;
    static const uint8_t junk[] = "not a certificate";
    (void)state;

    /* A well-formed certificate that no AMD ASK issued. */
    assert_int_equal(verify_with(rep.p, rep.len, intel.p, intel.len, NOW_OK, &res),
                     VOUCH_ERR_CHAIN);
    assert_false(res.verified);
    assert_non_null(res.claims); /* claims are produced before the chain check */
    vouch_verify_result_free(&res);

    assert_int_equal(verify_with(rep.p, rep.len, junk, sizeof(junk) - 1, NOW_OK, &res),
                     VOUCH_ERR_PARSE);
    vouch_verify_result_free(&res);

    assert_int_equal(verify_with(rep.p, rep.len, NULL, 0, NOW_OK, &res), VOUCH_ERR_INVAL);
    assert_non_null(strstr(res.error_detail, "VCEK"));
    vouch_verify_result_free(&res);
    free(rep.p);
    free(intel.p);
}

static void test_crl(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vec coll = load("evidence/sgx/v3_phala_collateral.json");
    struct vouch_verify_opts o;
    struct vouch_verify_result res;
    json_t *j = NULL;
    const char *crl_hex = NULL;
    size_t crl_hex_len = 0;
    (void)state;

    assert_int_equal(vouch_json_parse((const char *)coll.p, coll.len, &j, NULL, 0), VOUCH_OK);
    assert_int_equal(vouch_json_str(j, "root_ca_crl", &crl_hex, &crl_hex_len), VOUCH_OK);

    memset(&o, 0, sizeof(o));
    o.now = NOW_OK;
    o.vcek = vcek.p;
    o.vcek_len = vcek.len;

    /* A genuine CRL, but Intel's: it does not lead to the ARK. */
    o.snp_crl = (const uint8_t *)crl_hex;
    o.snp_crl_len = crl_hex_len;
    assert_int_equal(vouch_evidence_verify(rep.p, rep.len, &o, &res), VOUCH_ERR_CHAIN);
    assert_non_null(strstr(res.error_detail, "CRL"));
    vouch_verify_result_free(&res);

    o.snp_crl = (const uint8_t *)"garbage";
    o.snp_crl_len = 7;
    assert_int_equal(vouch_evidence_verify(rep.p, rep.len, &o, &res), VOUCH_ERR_PARSE);
    vouch_verify_result_free(&res);

    o.snp_crl = NULL;
    o.snp_crl_len = 5;
    assert_int_equal(vouch_evidence_verify(rep.p, rep.len, &o, &res), VOUCH_ERR_INVAL);
    vouch_verify_result_free(&res);

    json_decref(j);
    free(coll.p);
    free(rep.p);
    free(vcek.p);
}

/* ---- parsing ---- */

static void test_length(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    struct vouch_snp_report r;
    uint8_t *longer = calloc(1, rep.len + 1);
    enum vouch_evidence_format fmt;
    json_t *claims = NULL;
    (void)state;

    assert_int_equal(verify_with(rep.p, rep.len - 1, vcek.p, vcek.len, NOW_OK, &res),
                     VOUCH_ERR_TRUNCATED);
    vouch_verify_result_free(&res);
    assert_int_equal(verify_with(rep.p, VOUCH_SNP_SIGNED_LEN, vcek.p, vcek.len, NOW_OK, &res),
                     VOUCH_ERR_TRUNCATED);
    vouch_verify_result_free(&res);
    assert_int_equal(vouch_evidence_inspect(rep.p, rep.len - 1, &fmt, &claims),
                     VOUCH_ERR_TRUNCATED);
    assert_null(claims);

    /* A trailing byte, even zero, is not part of any report. */
    assert_non_null(longer);
    memcpy(longer, rep.p, rep.len);
    assert_int_equal(verify_with(longer, rep.len + 1, vcek.p, vcek.len, NOW_OK, &res),
                     VOUCH_ERR_PARSE);
    vouch_verify_result_free(&res);

    assert_int_equal(vouch__snp_report_parse(rep.p, 0, &r), VOUCH_ERR_TRUNCATED);
    assert_int_equal(vouch__snp_report_parse(NULL, 0, &r), VOUCH_ERR_TRUNCATED);
    assert_int_equal(vouch__snp_report_parse(NULL, 10, &r), VOUCH_ERR_INVAL);
    assert_int_equal(vouch__snp_report_parse(longer, rep.len + 1, &r), VOUCH_ERR_PARSE);
    assert_int_equal(vouch__snp_report_parse(rep.p, rep.len, &r), VOUCH_OK);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.policy, 0xb0000);
    assert_int_equal(r.reported_tcb, 0x4405000000000002ull);

    free(longer);
    free(rep.p);
    free(vcek.p);
}

static void test_mbz_and_fields(void **state)
{
    struct vec rep = load(N1_REPORT);
    struct vouch_snp_report r;
    uint8_t *m = malloc(rep.len);
    /* Reserved ranges of a version 2 report (SNP ABI, go-sev-guest abi.go). */
    static const size_t mbz[] = {0x04c, 0x04f, 0x188, 0x18a, 0x18b, 0x19f, 0x1eb,
                                 0x1ef, 0x1f8, 0x207, 0x208, 0x29f, 0x330, 0x49f};
    (void)state;

    assert_non_null(m);
    for (size_t i = 0; i < sizeof(mbz) / sizeof(mbz[0]); i++) {
        memcpy(m, rep.p, rep.len);
        m[mbz[i]] = 0x01;
        assert_int_equal(vouch__snp_report_parse(m, rep.len, &r), VOUCH_ERR_PARSE);
        /* Nothing half-parsed is left behind. */
        assert_int_equal(r.version, 0);
    }

    /* Policy bit 17 is reserved and must be one. */
    memcpy(m, rep.p, rep.len);
    m[0x0a] &= (uint8_t)~0x02u;
    assert_int_equal(vouch__snp_report_parse(m, rep.len, &r), VOUCH_ERR_PARSE);

    /* Versions outside 2..5, and other signature algorithms. */
    memcpy(m, rep.p, rep.len);
    put_le32(m, 1);
    assert_int_equal(vouch__snp_report_parse(m, rep.len, &r), VOUCH_ERR_UNSUPPORTED);
    put_le32(m, 6);
    assert_int_equal(vouch__snp_report_parse(m, rep.len, &r), VOUCH_ERR_UNSUPPORTED);
    /* A future version is "unsupported" whatever its size. */
    {
        uint8_t *big = calloc(1, rep.len + 64);
        assert_non_null(big);
        memcpy(big, m, rep.len);
        assert_int_equal(vouch__snp_report_parse(big, rep.len + 64, &r), VOUCH_ERR_UNSUPPORTED);
        free(big);
    }
    memcpy(m, rep.p, rep.len);
    put_le32(m + 0x34, 2);
    assert_int_equal(vouch__snp_report_parse(m, rep.len, &r), VOUCH_ERR_UNSUPPORTED);

    free(m);
    free(rep.p);
}

/* Version 3+ fields, on N1 rewritten (inspect does not check signatures). */
static void test_versions(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    uint8_t *m = malloc(rep.len);
    enum vouch_evidence_format fmt = VOUCH_EVIDENCE_UNKNOWN;
    json_t *c = NULL;
    struct vouch_verify_result res;
    (void)state;

    assert_non_null(m);

    /* v3 Milan: CPUID family 19h model 01h stepping 1. */
    memcpy(m, rep.p, rep.len);
    put_le32(m, 3);
    m[0x188] = 0x19;
    m[0x189] = 0x01;
    m[0x18a] = 0x01;
    assert_int_equal(vouch_evidence_inspect(m, rep.len, &fmt, &c), VOUCH_OK);
    assert_int_equal(fmt, VOUCH_EVIDENCE_SNP);
    assert_int_equal(claim_int(c, "version"), 3);
    assert_int_equal(claim_int(c, "cpuid_fam_id"), 0x19);
    assert_int_equal(claim_int(c, "cpuid_mod_id"), 1);
    assert_int_equal(claim_int(c, "cpuid_step"), 1);
    assert_int_equal(claim_int(c, "reported_tcb_bl"), 2);
    assert_null(json_object_get(c, "reported_tcb_fmc"));
    assert_null(json_object_get(c, "launch_mit_vector"));
    json_decref(c);
    /* Still reserved after the CPUID bytes. */
    m[0x18b] = 1;
    assert_int_equal(vouch_evidence_inspect(m, rep.len, &fmt, &c), VOUCH_ERR_PARSE);
    m[0x18b] = 0;

    /* Genuine Milan chain, but the report now claims to be a Turin (1Ah). */
    m[0x188] = 0x1a;
    assert_int_equal(verify_with(m, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(res.error_detail, "family"));
    vouch_verify_result_free(&res);

    /* Without a chain the family picks the Turin TCB layout:
     * 0x4405000000000002 = fmc 2, bl 0, tee 0, snp 0, ucode 0x44. */
    assert_int_equal(vouch_evidence_inspect(m, rep.len, &fmt, &c), VOUCH_OK);
    assert_int_equal(claim_int(c, "reported_tcb_fmc"), 2);
    assert_int_equal(claim_int(c, "reported_tcb_bl"), 0);
    assert_int_equal(claim_int(c, "reported_tcb_snp"), 0);
    assert_int_equal(claim_int(c, "reported_tcb_ucode"), 0x44);
    assert_int_equal(claim_int(c, "current_tcb_fmc"), 2);
    json_decref(c);

    /* Mitigation vectors: reserved before version 5, fields from it. */
    memcpy(m, rep.p, rep.len);
    put_le64(m + 0x1f8, 0x0102030405060708ull);
    put_le64(m + 0x200, 0x1112131415161718ull);
    put_le32(m, 4);
    assert_int_equal(vouch_evidence_inspect(m, rep.len, &fmt, &c), VOUCH_ERR_PARSE);
    put_le32(m, 5);
    assert_int_equal(vouch_evidence_inspect(m, rep.len, &fmt, &c), VOUCH_OK);
    assert_string_equal(claim_str(c, "launch_mit_vector"), "0102030405060708");
    assert_string_equal(claim_str(c, "current_mit_vector"), "1112131415161718");
    json_decref(c);
    /* ... and the rest up to the signature stays reserved. */
    m[0x208] = 1;
    assert_int_equal(vouch_evidence_inspect(m, rep.len, &fmt, &c), VOUCH_ERR_PARSE);

    free(m);
    free(rep.p);
    free(vcek.p);
}

static void test_inspect_n2(void **state)
{
    struct vec rep = load(N2_REPORT);
    enum vouch_evidence_format fmt = VOUCH_EVIDENCE_UNKNOWN;
    json_t *c = NULL;
    char *dump = NULL;
    (void)state;

    assert_int_equal(vouch_evidence_inspect(rep.p, rep.len, &fmt, &c), VOUCH_OK);
    assert_int_equal(fmt, VOUCH_EVIDENCE_SNP);
    assert_false(claim_bool(c, "debug"));
    assert_string_equal(claim_str(c, "signing_key"), "vcek");
    /* Inspect has no chain, so it names no product. */
    assert_null(json_object_get(c, "product"));
    assert_null(json_object_get(c, "cpuid_fam_id"));
    /* Every string claim except the key name is lowercase hex. */
    {
        const char *key;
        json_t *v;
        size_t n_hex = 0;

        json_object_foreach(c, key, v)
        {
            if (!json_is_string(v) || strcmp(key, "signing_key") == 0)
                continue;
            for (const char *q = json_string_value(v); *q; q++)
                assert_true((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f'));
            n_hex++;
        }
        assert_true(n_hex >= 16);
    }
    assert_int_equal(vouch_json_dump(c, 0, &dump), VOUCH_OK);
    assert_non_null(strstr(dump, "\"measurement\""));
    vouch_free(dump);
    json_decref(c);
    free(rep.p);
}

/* ---- robustness ---- */

struct thread_arg {
    const struct vec *rep;
    const struct vec *vcek;
    int ok;
};

static void *verify_thread(void *p)
{
    struct thread_arg *a = p;

    for (int i = 0; i < 4; i++) {
        struct vouch_verify_result res;
        if (verify_with(a->rep->p, a->rep->len, a->vcek->p, a->vcek->len, NOW_OK, &res) == VOUCH_OK)
            a->ok++;
        vouch_verify_result_free(&res);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct vec r1 = load(N1_REPORT), v1 = load(N1_VCEK);
    struct vec r2 = load(N2_REPORT), v2 = load(N2_VCEK);
    struct thread_arg args[4] = {
        {&r1, &v1, 0},
        {&r2, &v2, 0},
        {&r1, &v1, 0},
        {&r2, &v2, 0},
    };
    pthread_t t[4];
    (void)state;

    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, verify_thread, &args[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(args[i].ok, 4);
    }
    free(r1.p);
    free(v1.p);
    free(r2.p);
    free(v2.p);
}

/* Runs first, before anything has built the process-wide AMD chains: an
 * allocation failure while building them must not be remembered. */
static void test_alloc_failures(void **state)
{
    struct vec rep = load(N1_REPORT), vcek = load(N1_VCEK);
    struct vouch_verify_result res;
    int nomem = 0;
    (void)state;

    for (unsigned long n = 1; n <= 60; n++) {
        vouch_err rc;

        vouch_fault_after(n);
        rc = verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res);
        vouch_fault_after(0);
        assert_true(rc == VOUCH_OK || rc == VOUCH_ERR_NOMEM);
        assert_int_equal(res.verified, rc == VOUCH_OK);
        nomem += rc == VOUCH_ERR_NOMEM;
        vouch_verify_result_free(&res);
    }
    assert_true(nomem > 0);
    assert_int_equal(verify_with(rep.p, rep.len, vcek.p, vcek.len, NOW_OK, &res), VOUCH_OK);
    vouch_verify_result_free(&res);
    free(rep.p);
    free(vcek.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_builtin_chains),
        cmocka_unit_test(test_n1_verifies),
        cmocka_unit_test(test_n2_verifies),
        cmocka_unit_test(test_vcek_pem),
        cmocka_unit_test(test_vcek_cache),
        cmocka_unit_test(test_n1_expired),
        cmocka_unit_test(test_byte_flips),
        cmocka_unit_test(test_wrong_vcek),
        cmocka_unit_test(test_chip_id_masking),
        cmocka_unit_test(test_signer_info),
        cmocka_unit_test(test_bad_vcek),
        cmocka_unit_test(test_crl),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_mbz_and_fields),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_inspect_n2),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
