/*
 * DCAP collateral parsing and quote verification (SGX and TDX), against the
 * real vectors in shared/testdata/evidence (README: S1, T1-T7 with their
 * windows, suggested times and QVL-expected statuses) and against systematic
 * corruptions of them; plus the QVL TCB matching and convergence rules on
 * small hand-written TCB Info / QE Identity bodies.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/evidence.h>
#include <vouch/json.h>
#include <vouch/time.h>

#include "evidence/dcap_int.h"

/* ---------------- vectors ---------------- */

struct vec {
    const char *id;
    const char *quote;
    const char *coll;
    const char *from, *to; /* README window (inclusive) */
    int64_t now;
    enum vouch_tcb_status status;
    int n_adv; /* -1: not asserted */
    const char *adv[3];
    const char *tcb_date; /* NULL: not asserted */
};

#define SGXD "evidence/sgx/"
#define TDXD "evidence/tdx/"
#define C_T2 TDXD "v5_fmspc90c06f_2026-02_collateral.json"
#define C_T6 TDXD "v4_fmspc50806f_2023-06_collateral.json"

static const struct vec vecs[] = {
    {"S1",
     SGXD "v3_phala_quote.bin",
     SGXD "v3_phala_collateral.json",
     "2025-06-19T10:56:11Z",
     "2025-07-19T10:01:18Z",
     1751328000,
     VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
     2,
     {"INTEL-SA-00289", "INTEL-SA-00615"},
     NULL},
    {"T1",
     TDXD "v4_phala_quote.bin",
     TDXD "v4_phala_collateral.json",
     "2025-06-19T10:32:27Z",
     "2025-07-19T10:00:35Z",
     1751328000,
     VOUCH_TCB_UP_TO_DATE,
     0,
     {NULL},
     NULL},
    {"T2",
     TDXD "v5_phala_tcb_unsupported_quote.bin",
     C_T2,
     "2026-02-18T10:58:51Z",
     "2026-03-20T10:41:15Z",
     1772323200,
     VOUCH_TCB_NOT_SUPPORTED,
     0,
     {NULL},
     NULL},
    {"T3",
     TDXD "v5_gotdx_quote.bin",
     C_T2,
     "2026-02-18T10:58:51Z",
     "2026-03-20T10:41:15Z",
     1772323200,
     VOUCH_TCB_UP_TO_DATE,
     -1,
     {NULL},
     NULL},
    {"T4",
     TDXD "v5_oe_relaunch_quote.bin",
     TDXD "v5_oe_relaunch_collateral.json",
     "2025-02-26T10:37:20Z",
     "2025-03-22T11:31:38Z",
     1740787200,
     VOUCH_TCB_TD_RELAUNCH_ADVISED,
     2,
     {"INTEL-SA-01036", "INTEL-SA-01099"},
     NULL},
    {"T5",
     TDXD "v5_oe_outofdate_quote.bin",
     TDXD "v5_oe_eval21_collateral.json",
     "2026-06-12T22:44:48Z",
     "2026-07-12T22:09:43Z",
     1781913600,
     VOUCH_TCB_OUT_OF_DATE,
     -1,
     {NULL},
     "2023-08-09T00:00:00Z"},
    {"T6",
     TDXD "v4_oe_tdx10_quote.bin",
     C_T6,
     "2023-06-18T08:42:58Z",
     "2023-07-08T07:24:59Z",
     1688173200,
     VOUCH_TCB_UP_TO_DATE,
     -1,
     {NULL},
     NULL},
    {"T7",
     TDXD "v4_gotdx_sprE4_quote.bin",
     C_T6,
     "2023-06-18T08:42:58Z",
     "2023-07-08T07:24:59Z",
     1688173200,
     VOUCH_TCB_NOT_SUPPORTED,
     0,
     {NULL},
     NULL},
};
#define N_VECS (sizeof(vecs) / sizeof(vecs[0]))

static int64_t t_of(const char *s)
{
    int64_t t = 0;
    assert_int_equal(vouch_time_parse_rfc3339(s, strlen(s), &t), VOUCH_OK);
    return t;
}

static vouch_err verify_cold(const uint8_t *q, size_t qlen, const uint8_t *c, size_t clen,
                             int64_t now, struct vouch_verify_result *res)
{
    struct vouch_verify_opts o = {.now = now, .collateral = c, .collateral_len = clen};
    return vouch_evidence_verify(q, qlen, &o, res);
}

static vouch_err verify_cached(const uint8_t *q, size_t qlen, const struct vouch_collateral *c,
                               int64_t now, struct vouch_verify_result *res)
{
    struct vouch_verify_opts o = {.now = now, .collateral_obj = c};
    return vouch_evidence_verify(q, qlen, &o, res);
}

static void assert_same_result(const struct vouch_verify_result *a,
                               const struct vouch_verify_result *b)
{
    assert_int_equal(a->verified, b->verified);
    assert_int_equal(a->collateral_expired, b->collateral_expired);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->platform_status, b->platform_status);
    assert_int_equal(a->qe_status, b->qe_status);
    assert_int_equal(a->module_status, b->module_status);
    assert_int_equal(a->tcb_date, b->tcb_date);
    assert_int_equal(a->tcb_eval_number, b->tcb_eval_number);
    assert_int_equal(a->error, b->error);
    assert_string_equal(a->error_detail, b->error_detail);
    assert_string_equal(a->expired_item, b->expired_item);
    assert_int_equal(a->n_advisories, b->n_advisories);
    for (size_t i = 0; i < a->n_advisories; i++)
        assert_string_equal(a->advisories[i], b->advisories[i]);
    assert_non_null(a->claims);
    assert_non_null(b->claims);
    assert_true(json_equal(a->claims, b->claims));
}

static void check_vector_result(const struct vec *v, vouch_err rc,
                                const struct vouch_verify_result *res)
{
    char date[21];

    if (rc != VOUCH_OK)
        fail_msg("%s: %s (%s)", v->id, vouch_err_name(rc), res->error_detail);
    assert_true(res->verified);
    assert_false(res->collateral_expired);
    assert_int_equal(res->error, VOUCH_OK);
    if (res->status != v->status)
        fail_msg("%s: status %s, want %s", v->id, vouch_tcb_status_name(res->status),
                 vouch_tcb_status_name(v->status));
    if (v->n_adv >= 0) {
        assert_int_equal(res->n_advisories, (size_t)v->n_adv);
        for (int i = 0; i < v->n_adv; i++) {
            bool found = false;
            for (size_t j = 0; j < res->n_advisories; j++)
                found = found || strcmp(res->advisories[j], v->adv[i]) == 0;
            if (!found)
                fail_msg("%s: advisory %s missing", v->id, v->adv[i]);
        }
    }
    if (v->tcb_date != NULL) {
        vouch_time_format(res->tcb_date, date);
        assert_string_equal(date, v->tcb_date);
    }
    assert_non_null(res->claims);
    assert_non_null(json_object_get(res->claims, "fmspc"));
    assert_non_null(json_object_get(res->claims, "qe_status"));
    assert_true(res->tcb_eval_number > 0);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECS; i++) {
        const struct vec *v = &vecs[i];
        size_t qlen = 0, clen = 0;
        uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
        struct vouch_verify_result cold, cached;
        struct vouch_collateral *coll = NULL;
        vouch_err rc;

        rc = verify_cold(q, qlen, c, clen, v->now, &cold);
        check_vector_result(v, rc, &cold);

        assert_int_equal(vouch_collateral_parse(c, clen, &coll), VOUCH_OK);
        assert_non_null(coll);
        rc = verify_cached(q, qlen, coll, v->now, &cached);
        check_vector_result(v, rc, &cached);
        assert_same_result(&cold, &cached);
        /* Reuse of one collateral object must not change anything. */
        vouch_verify_result_free(&cached);
        rc = verify_cached(q, qlen, coll, v->now, &cached);
        check_vector_result(v, rc, &cached);
        assert_same_result(&cold, &cached);

        if (v->status == VOUCH_TCB_TD_RELAUNCH_ADVISED)
            assert_true(json_is_true(json_object_get(cold.claims, "td_relaunch_advised")));
        vouch_verify_result_free(&cold);
        vouch_verify_result_free(&cached);
        vouch_collateral_free(coll);
        free(q);
        free(c);
    }
}

/* Details the README states beyond the converged status. */
static void test_vector_details(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = NULL, *c = NULL;
    struct vouch_verify_result r;

    (void)state;
    q = vt_read(vecs[0].quote, &qlen);
    c = vt_read(vecs[0].coll, &clen);
    assert_int_equal(verify_cold(q, qlen, c, clen, vecs[0].now, &r), VOUCH_OK);
    assert_int_equal(r.qe_status, VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(r.platform_status, VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_int_equal(r.module_status, VOUCH_TCB_NONE);
    assert_int_equal(r.tcb_eval_number, 17);
    assert_string_equal(json_string_value(json_object_get(r.claims, "fmspc")), "00a067110000");
    assert_string_equal(json_string_value(json_object_get(r.claims, "pce_id")), "0000");
    assert_int_equal(json_integer_value(json_object_get(r.claims, "pcesvn")), 13);
    assert_int_equal(json_array_size(json_object_get(r.claims, "pck_tcb_comps")), 16);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(r.claims, "pck_tcb_comps"), 4)), 255);
    vouch_verify_result_free(&r);
    free(q);
    free(c);

    /* T4: platform UpToDate, module TDX_01 OutOfDate, relaunch advised. */
    q = vt_read(vecs[4].quote, &qlen);
    c = vt_read(vecs[4].coll, &clen);
    assert_int_equal(verify_cold(q, qlen, c, clen, vecs[4].now, &r), VOUCH_OK);
    assert_int_equal(r.platform_status, VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(r.module_status, VOUCH_TCB_OUT_OF_DATE);
    assert_int_equal(r.qe_status, VOUCH_TCB_UP_TO_DATE);
    vouch_verify_result_free(&r);
    free(q);
    free(c);

    /* T5: module status comes from identity TDX_01 as well. */
    q = vt_read(vecs[5].quote, &qlen);
    c = vt_read(vecs[5].coll, &clen);
    assert_int_equal(verify_cold(q, qlen, c, clen, vecs[5].now, &r), VOUCH_OK);
    assert_int_equal(r.platform_status, VOUCH_TCB_OUT_OF_DATE);
    assert_int_equal(r.tcb_eval_number, 21);
    assert_false(json_is_true(json_object_get(r.claims, "td_relaunch_advised")));
    vouch_verify_result_free(&r);
    free(q);
    free(c);
}

static void expect_expired(const struct vec *v, const uint8_t *q, size_t qlen,
                           const struct vouch_collateral *coll, int64_t now)
{
    struct vouch_verify_result r;
    vouch_err rc = verify_cached(q, qlen, coll, now, &r);

    if (rc != VOUCH_ERR_EXPIRED)
        fail_msg("%s at %lld: %s (%s), want expired", v->id, (long long)now, vouch_err_name(rc),
                 r.error_detail);
    assert_false(r.verified);
    assert_true(r.collateral_expired);
    assert_true(r.expired_item[0] != '\0');
    assert_int_equal(r.error, VOUCH_ERR_EXPIRED);
    /* The verdict is still computed (QvE model). */
    assert_int_equal(r.status, v->status);
    vouch_verify_result_free(&r);
}

static void test_windows(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECS; i++) {
        const struct vec *v = &vecs[i];
        size_t qlen = 0, clen = 0;
        uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
        struct vouch_collateral *coll = NULL;
        struct vouch_verify_result r;
        int64_t from = t_of(v->from), to = t_of(v->to);

        assert_int_equal(vouch_collateral_parse(c, clen, &coll), VOUCH_OK);
        /* Both ends are inside the window. */
        assert_int_equal(verify_cached(q, qlen, coll, from, &r), VOUCH_OK);
        vouch_verify_result_free(&r);
        assert_int_equal(verify_cached(q, qlen, coll, to, &r), VOUCH_OK);
        vouch_verify_result_free(&r);
        expect_expired(v, q, qlen, coll, from - 1);
        expect_expired(v, q, qlen, coll, to + 1);
        expect_expired(v, q, qlen, coll, to + 86400 * 365);
        /* Cold path agrees. */
        {
            struct vouch_verify_result a, b;
            assert_int_equal(verify_cold(q, qlen, c, clen, to + 1, &a), VOUCH_ERR_EXPIRED);
            assert_int_equal(verify_cached(q, qlen, coll, to + 1, &b), VOUCH_ERR_EXPIRED);
            assert_same_result(&a, &b);
            vouch_verify_result_free(&a);
            vouch_verify_result_free(&b);
        }
        vouch_collateral_free(coll);
        free(q);
        free(c);
    }
}

static void test_t1_expired_item(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(vecs[1].quote, &qlen), *c = vt_read(vecs[1].coll, &clen);
    struct vouch_verify_result r;

    (void)state;
    assert_int_equal(verify_cold(q, qlen, c, clen, 1754006400, &r), VOUCH_ERR_EXPIRED);
    if (strcmp(r.expired_item, "pck_crl") != 0 && strcmp(r.expired_item, "tcb_info") != 0)
        fail_msg("expired item %s", r.expired_item);
    assert_int_equal(r.status, VOUCH_TCB_UP_TO_DATE);
    vouch_verify_result_free(&r);
    /* Before the window, the item named is one that was not yet issued. */
    assert_int_equal(verify_cold(q, qlen, c, clen, t_of("2025-06-01T00:00:00Z"), &r),
                     VOUCH_ERR_EXPIRED);
    assert_true(r.collateral_expired);
    assert_true(strcmp(r.expired_item, "pck_crl") == 0 || strcmp(r.expired_item, "tcb_info") == 0 ||
                strcmp(r.expired_item, "qe_identity") == 0);
    vouch_verify_result_free(&r);
    free(q);
    free(c);
}

/* T3's PCK leaf (notBefore 2026-01-27) inside T4's 2025 collateral window. */
static void test_leaf_not_yet_valid(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(vecs[3].quote, &qlen), *c = vt_read(vecs[4].coll, &clen);
    struct vouch_verify_result r;

    (void)state;
    assert_int_equal(verify_cold(q, qlen, c, clen, 1740787200, &r), VOUCH_ERR_EXPIRED);
    assert_true(r.collateral_expired);
    assert_string_equal(r.expired_item, "pck_leaf_cert");
    assert_false(r.verified);
    vouch_verify_result_free(&r);
    free(q);
    free(c);
}

static void test_cross_collateral(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(vecs[1].quote, &qlen), *c = vt_read(vecs[0].coll, &clen);
    struct vouch_verify_result r;
    vouch_err rc;

    (void)state;
    rc = verify_cold(q, qlen, c, clen, 1751328000, &r);
    if (rc != VOUCH_ERR_MISMATCH && rc != VOUCH_ERR_CHAIN)
        fail_msg("T1 with S1 collateral: %s", vouch_err_name(rc));
    assert_false(r.verified);
    assert_true(strlen(r.error_detail) > 10);
    assert_non_null(r.claims);
    vouch_verify_result_free(&r);
    free(q);
    free(c);

    /* Same CA and FMSPC, different TEE: S1 quote with T1 collateral. */
    q = vt_read(vecs[0].quote, &qlen);
    c = vt_read(vecs[1].coll, &clen);
    rc = verify_cold(q, qlen, c, clen, 1751328000, &r);
    if (rc != VOUCH_ERR_MISMATCH && rc != VOUCH_ERR_CHAIN)
        fail_msg("S1 with T1 collateral: %s", vouch_err_name(rc));
    vouch_verify_result_free(&r);
    free(q);
    free(c);

    /* T5 (FMSPC 00806f050000) with T2's collateral (FMSPC 90c06f000000). */
    q = vt_read(vecs[5].quote, &qlen);
    c = vt_read(vecs[2].coll, &clen);
    rc = verify_cold(q, qlen, c, clen, 1772323200, &r);
    assert_true(rc == VOUCH_ERR_MISMATCH || rc == VOUCH_ERR_CHAIN || rc == VOUCH_ERR_EXPIRED);
    if (rc == VOUCH_ERR_MISMATCH && strstr(r.error_detail, "FMSPC") != NULL) {
        assert_non_null(strstr(r.error_detail, "00806f050000"));
        assert_non_null(strstr(r.error_detail, "90c06f000000"));
    }
    vouch_verify_result_free(&r);
    free(q);
    free(c);
}

static void test_no_collateral(void **state)
{
    size_t qlen = 0;
    uint8_t *q = vt_read(vecs[0].quote, &qlen);
    struct vouch_verify_opts o = {.now = vecs[0].now};
    struct vouch_verify_result r;

    (void)state;
    assert_int_equal(vouch_evidence_verify(q, qlen, &o, &r), VOUCH_ERR_INVAL);
    assert_false(r.verified);
    assert_non_null(r.claims);
    assert_non_null(strstr(r.error_detail, "collateral required"));
    assert_int_equal(r.status, VOUCH_TCB_NONE);
    vouch_verify_result_free(&r);
    free(q);
}

/* ---------------- byte flips ---------------- */

static bool structural(size_t off, uint16_t version)
{
    /* version, key type, TEE type, QE vendor ID, v5 body descriptor */
    return off < 8 || (off >= 12 && off < 28) || (version == 5 && off >= 48 && off < 54);
}

static void flip_range(const struct vec *v, size_t signed_len, uint16_t version)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
    struct vouch_collateral *coll = NULL;
    size_t n = 0;

    assert_int_equal(vouch_collateral_parse(c, clen, &coll), VOUCH_OK);
    for (size_t off = 0; off < signed_len; off++) {
        struct vouch_verify_result r;
        vouch_err rc;
        if (off % 7 != 0 && off != signed_len - 1)
            continue;
        q[off] ^= 0x01;
        rc = verify_cached(q, qlen, coll, v->now, &r);
        q[off] ^= 0x01;
        assert_false(r.verified);
        if (rc == VOUCH_OK)
            fail_msg("%s: flip at %zu verified", v->id, off);
        if (!structural(off, version) && rc != VOUCH_ERR_SIGNATURE)
            fail_msg("%s: flip at %zu gave %s (%s), want signature", v->id, off, vouch_err_name(rc),
                     r.error_detail);
        vouch_verify_result_free(&r);
        n++;
    }
    assert_true(n > signed_len / 8);
    vouch_collateral_free(coll);
    free(q);
    free(c);
}

static void test_flip_signed_region(void **state)
{
    (void)state;
    flip_range(&vecs[0], 432, 3);
    flip_range(&vecs[1], 632, 4);
    flip_range(&vecs[3], 702, 5);
}

/* Offsets of the QE report and its signature: after the u32 signature-data
 * length, r||s and the attestation key; v4/v5 add the type-6 header. */
static void test_flip_qe_report(void **state)
{
    static const struct {
        size_t vi, signed_len;
        bool v4;
    } cases[] = {{0, 432, false}, {1, 632, true}, {3, 702, true}};

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct vec *v = &vecs[cases[k].vi];
        size_t qlen = 0, clen = 0;
        uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
        struct vouch_collateral *coll = NULL;
        size_t qe = cases[k].signed_len + 4 + 128 + (cases[k].v4 ? 6 : 0);
        static const size_t offs[] = {0, 1, 48, 64, 128, 256, 320, 383, 384, 400, 447};

        assert_int_equal(vouch_collateral_parse(c, clen, &coll), VOUCH_OK);
        for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
            struct vouch_verify_result r;
            vouch_err rc;
            q[qe + offs[i]] ^= 0x80;
            rc = verify_cached(q, qlen, coll, v->now, &r);
            q[qe + offs[i]] ^= 0x80;
            if (rc != VOUCH_ERR_SIGNATURE)
                fail_msg("%s: QE report flip at +%zu gave %s", v->id, offs[i], vouch_err_name(rc));
            assert_non_null(strstr(r.error_detail, "QE report"));
            vouch_verify_result_free(&r);
        }
        /* The attestation key: bound by the QE report data, so also a signature failure. */
        {
            struct vouch_verify_result r;
            size_t ak = cases[k].signed_len + 4 + 64 + 5;
            q[ak] ^= 0x04;
            assert_int_equal(verify_cached(q, qlen, coll, v->now, &r), VOUCH_ERR_SIGNATURE);
            q[ak] ^= 0x04;
            vouch_verify_result_free(&r);
        }
        vouch_collateral_free(coll);
        free(q);
        free(c);
    }
}

/* ---------------- collateral edits ---------------- */

static char *coll_edit(const uint8_t *c, size_t clen, const char *field,
                       void (*edit)(char *s, size_t n), size_t *out_len)
{
    json_error_t e;
    json_t *root = json_loadb((const char *)c, clen, 0, &e);
    char *s = NULL, *dumped = NULL;

    assert_non_null(root);
    s = strdup(json_string_value(json_object_get(root, field)));
    assert_non_null(s);
    edit(s, strlen(s));
    assert_int_equal(json_object_set_new(root, field, json_string(s)), 0);
    dumped = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(dumped);
    *out_len = strlen(dumped);
    free(s);
    json_decref(root);
    return dumped;
}

/* Changes the digit after "tcbEvaluationDataNumber": (still valid JSON). */
static void edit_eval_number(char *s, size_t n)
{
    char *p = strstr(s, "\"tcbEvaluationDataNumber\":");
    (void)n;
    assert_non_null(p);
    p += strlen("\"tcbEvaluationDataNumber\":");
    assert_true(*p >= '0' && *p <= '9');
    *p = *p == '9' ? '8' : (char)(*p + 1);
}

/* Changes one base64 character inside the last certificate's signature. */
static void edit_root_sig(char *s, size_t n)
{
    char *end = NULL, *p = s;
    int skipped = 0;

    (void)n;
    while ((p = strstr(p, "-----END CERTIFICATE-----")) != NULL) {
        end = p;
        p++;
    }
    assert_non_null(end);
    p = end;
    /* Walk back past '=' padding and 8 data characters (6 bytes into s). */
    while (p > s && skipped < 8) {
        p--;
        if (*p != '\n' && *p != '=' && *p != '\r')
            skipped++;
    }
    *p = *p == 'A' ? 'B' : 'A';
}

static void check_coll_failure(const char *field, void (*edit)(char *, size_t), size_t vi,
                               vouch_err want, const char *detail_has)
{
    const struct vec *v = &vecs[vi];
    size_t qlen = 0, clen = 0, elen = 0;
    uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
    char *edited = coll_edit(c, clen, field, edit, &elen);
    struct vouch_collateral *coll = NULL;
    struct vouch_verify_result a, b;

    /* A bad signature or chain is a verdict, not a parse error. */
    assert_int_equal(vouch_collateral_parse((const uint8_t *)edited, elen, &coll), VOUCH_OK);
    if (verify_cold(q, qlen, (const uint8_t *)edited, elen, v->now, &a) != want)
        fail_msg("%s edit on %s: %s (%s)", field, v->id, vouch_err_name(a.error), a.error_detail);
    assert_int_equal(verify_cached(q, qlen, coll, v->now, &b), want);
    assert_same_result(&a, &b);
    assert_false(a.verified);
    if (strstr(a.error_detail, detail_has) == NULL)
        fail_msg("detail \"%s\" lacks \"%s\"", a.error_detail, detail_has);
    vouch_verify_result_free(&a);
    vouch_verify_result_free(&b);
    vouch_collateral_free(coll);
    free(edited);
    free(q);
    free(c);
}

static void test_collateral_signatures(void **state)
{
    (void)state;
    check_coll_failure("tcb_info", edit_eval_number, 0, VOUCH_ERR_SIGNATURE, "tcb_info");
    check_coll_failure("tcb_info", edit_eval_number, 4, VOUCH_ERR_SIGNATURE, "tcb_info");
    check_coll_failure("qe_identity", edit_eval_number, 1, VOUCH_ERR_SIGNATURE, "qe_identity");
}

static void test_wrong_root(void **state)
{
    (void)state;
    check_coll_failure("pck_crl_issuer_chain", edit_root_sig, 0, VOUCH_ERR_CHAIN,
                       "pck_crl_issuer_chain");
    check_coll_failure("tcb_info_issuer_chain", edit_root_sig, 1, VOUCH_ERR_CHAIN,
                       "tcb_info_issuer_chain");
    check_coll_failure("qe_identity_issuer_chain", edit_root_sig, 3, VOUCH_ERR_CHAIN,
                       "qe_identity_issuer_chain");
}

/* The same edit on the root inside the quote's PCK chain (not signed by the quote). */
static void test_wrong_root_in_quote(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(vecs[1].quote, &qlen), *c = vt_read(vecs[1].coll, &clen);
    struct vouch_verify_result r;
    char *chain = NULL, *pos = NULL;
    size_t start = 0;

    (void)state;
    /* Find the PEM chain in the quote bytes and edit it in place. */
    for (size_t i = 0; i + 27 < qlen; i++) {
        if (memcmp(q + i, "-----BEGIN CERTIFICATE-----", 27) == 0) {
            start = i;
            break;
        }
    }
    assert_true(start > 0);
    chain = (char *)q + start;
    pos = memchr(chain, 0, qlen - start);
    assert_non_null(pos);
    edit_root_sig(chain, (size_t)(pos - chain));
    assert_int_equal(verify_cold(q, qlen, c, clen, vecs[1].now, &r), VOUCH_ERR_CHAIN);
    assert_non_null(strstr(r.error_detail, "pinned"));
    vouch_verify_result_free(&r);
    free(q);
    free(c);
}

/* A raw PCS response body in the tcb_info field gives the same answer. */
static void wrap_pcs(const char *field, const char *sig_field, const char *key, size_t vi)
{
    const struct vec *v = &vecs[vi];
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
    json_error_t e;
    json_t *root = json_loadb((const char *)c, clen, 0, &e);
    char *body = NULL, *dumped = NULL;
    char *inner = strdup(json_string_value(json_object_get(root, field)));
    char *sig = strdup(json_string_value(json_object_get(root, sig_field)));
    size_t blen = strlen(inner) + strlen(sig) + strlen(key) + 64;
    struct vouch_verify_result a, b;

    assert_non_null(inner);
    assert_non_null(sig);
    body = malloc(blen);
    assert_non_null(body);
    snprintf(body, blen, "{\"%s\":%s,\"signature\":\"%s\"}", key, inner, sig);
    assert_int_equal(json_object_set_new(root, field, json_string(body)), 0);
    assert_int_equal(json_object_del(root, sig_field), 0);
    dumped = json_dumps(root, JSON_COMPACT);
    assert_non_null(dumped);
    assert_int_equal(verify_cold(q, qlen, c, clen, v->now, &a), VOUCH_OK);
    assert_int_equal(verify_cold(q, qlen, (const uint8_t *)dumped, strlen(dumped), v->now, &b),
                     VOUCH_OK);
    assert_same_result(&a, &b);
    vouch_verify_result_free(&a);
    vouch_verify_result_free(&b);
    free(dumped);
    /* With a space after the colon the cut is not exact: refused. */
    snprintf(body, blen, "{\"%s\": %s,\"signature\":\"%s\"}", key, inner, sig);
    assert_int_equal(json_object_set_new(root, field, json_string(body)), 0);
    dumped = json_dumps(root, JSON_COMPACT);
    assert_int_equal(verify_cold(q, qlen, (const uint8_t *)dumped, strlen(dumped), v->now, &b),
                     VOUCH_ERR_SIGNATURE);
    vouch_verify_result_free(&b);
    free(dumped);
    free(body);
    free(inner);
    free(sig);
    json_decref(root);
    free(q);
    free(c);
}

static void test_pcs_envelope(void **state)
{
    (void)state;
    wrap_pcs("tcb_info", "tcb_info_signature", "tcbInfo", 0);
    wrap_pcs("qe_identity", "qe_identity_signature", "enclaveIdentity", 4);
}

static void test_truncations(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(vecs[0].quote, &qlen), *c = vt_read(vecs[0].coll, &clen);
    const size_t cuts[] = {0, 1, 2, 10, 100, clen / 3, clen / 2, clen - 2, clen - 1};
    const size_t qcuts[] = {0, 47, 48, 431, 432, 436, 1000, 4000, qlen - 1};

    (void)state;
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        struct vouch_collateral *coll = (struct vouch_collateral *)1;
        struct vouch_verify_result r;
        uint8_t *copy = malloc(cuts[i] ? cuts[i] : 1);
        vouch_err rc;
        assert_non_null(copy);
        memcpy(copy, c, cuts[i]);
        rc = vouch_collateral_parse(copy, cuts[i], &coll);
        assert_int_not_equal(rc, VOUCH_OK);
        assert_null(coll);
        if (cuts[i] > 0) {
            rc = verify_cold(q, qlen, copy, cuts[i], vecs[0].now, &r);
            assert_int_equal(rc, VOUCH_ERR_PARSE);
            assert_false(r.verified);
            assert_non_null(r.claims);
            vouch_verify_result_free(&r);
        }
        free(copy);
    }
    for (size_t i = 0; i < sizeof(qcuts) / sizeof(qcuts[0]); i++) {
        struct vouch_verify_result r;
        uint8_t *copy = malloc(qcuts[i] ? qcuts[i] : 1);
        assert_non_null(copy);
        memcpy(copy, q, qcuts[i]);
        assert_int_not_equal(verify_cold(copy, qcuts[i], c, clen, vecs[0].now, &r), VOUCH_OK);
        assert_false(r.verified);
        vouch_verify_result_free(&r);
        free(copy);
    }
    /* A missing field and a wrong type are parse errors too. */
    {
        json_error_t e;
        json_t *root = json_loadb((const char *)c, clen, 0, &e);
        char *d = NULL;
        struct vouch_collateral *coll = NULL;
        assert_non_null(root);
        assert_int_equal(json_object_del(root, "pck_crl"), 0);
        d = json_dumps(root, JSON_COMPACT);
        assert_int_equal(vouch_collateral_parse((const uint8_t *)d, strlen(d), &coll),
                         VOUCH_ERR_PARSE);
        free(d);
        assert_int_equal(json_object_set_new(root, "pck_crl", json_integer(5)), 0);
        d = json_dumps(root, JSON_COMPACT);
        assert_int_equal(vouch_collateral_parse((const uint8_t *)d, strlen(d), &coll),
                         VOUCH_ERR_PARSE);
        free(d);
        json_decref(root);
    }
    free(q);
    free(c);
}

/* ---------------- the QVL rules on hand-written bodies ---------------- */

struct sb {
    char buf[1 << 16];
    size_t n;
};

static void sb_add(struct sb *b, const char *fmt, ...) VOUCH_PRINTF(2, 3);
static void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(b->buf + b->n, sizeof(b->buf) - b->n, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof(b->buf) - b->n);
    b->n += (size_t)k;
}

static void sb_comps(struct sb *b, const char *key, unsigned c0, unsigned c1, unsigned c2)
{
    sb_add(b, "\"%s\":[", key);
    for (unsigned i = 0; i < 16; i++) {
        unsigned v = i == 0 ? c0 : i == 1 ? c1 : i == 2 ? c2 : 0;
        sb_add(b, "%s{\"svn\":%u,\"category\":\"BIOS\"}", i ? "," : "", v);
    }
    sb_add(b, "]");
}

struct lvl {
    unsigned s0, s1, pce, t0, t1, t2;
    const char *status;
    const char *date;
    const char *adv; /* JSON array text or NULL */
};

#define Z96                                                                                        \
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "0000"

static const char *module_ids =
    "\"tdxModuleIdentities\":[{\"id\":\"tdx_01\",\"mrsigner\":\"" Z96 "\","
    "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":["
    "{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2023-08-09T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
    "\"advisoryIDs\":[\"INTEL-SA-M2\"]},"
    "{\"tcb\":{\"isvsvn\":6},\"tcbDate\":\"2024-11-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
    "{\"tcb\":{\"isvsvn\":1},\"tcbDate\":\"2022-01-01T00:00:00Z\",\"tcbStatus\":\"Revoked\"}]}],";

static void make_tcb_info(struct sb *b, bool tdx, const struct lvl *l, size_t n, const char *extra)
{
    b->n = 0;
    sb_add(b,
           "{\"id\":\"%s\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
           "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00806F050000\",\"pceId\":\"0000\","
           "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,",
           tdx ? "TDX" : "SGX");
    if (tdx)
        sb_add(b,
               "\"tdxModule\":{\"mrsigner\":\"" Z96 "\",\"attributes\":\"0000000000000000\","
               "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},%s",
               module_ids);
    if (extra)
        sb_add(b, "%s", extra);
    sb_add(b, "\"tcbLevels\":[");
    for (size_t i = 0; i < n; i++) {
        sb_add(b, "%s{\"tcb\":{", i ? "," : "");
        sb_comps(b, "sgxtcbcomponents", l[i].s0, l[i].s1, 0);
        sb_add(b, ",\"pcesvn\":%u", l[i].pce);
        if (tdx) {
            sb_add(b, ",");
            sb_comps(b, "tdxtcbcomponents", l[i].t0, l[i].t1, l[i].t2);
        }
        sb_add(b, "},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"", l[i].date, l[i].status);
        if (l[i].adv)
            sb_add(b, ",\"advisoryIDs\":%s", l[i].adv);
        sb_add(b, "}");
    }
    sb_add(b, "]}");
}

/* JSON order deliberately not QVL order. */
static const struct lvl tdx_levels[] = {
    {2, 2, 5, 5, 0, 2, "OutOfDate", "2018-01-04T00:00:00Z", "[\"INTEL-SA-C\"]"},
    {3, 3, 13, 5, 0, 3, "UpToDate", "2024-11-13T00:00:00Z", NULL},
    {2, 2, 13, 5, 0, 2, "OutOfDate", "2024-03-13T00:00:00Z", "[\"INTEL-SA-B\"]"},
    {3, 3, 13, 5, 0, 2, "ConfigurationNeeded", "2024-06-01T00:00:00Z", "[\"INTEL-SA-D\"]"},
};

static void parse_tdx(struct vouch__tcb_info *ti)
{
    static struct sb b;
    char detail[256] = "";

    make_tcb_info(&b, true, tdx_levels, 4, NULL);
    if (vouch__tcb_info_parse(b.buf, b.n, ti, detail, sizeof(detail)) != VOUCH_OK)
        fail_msg("parse: %s", detail);
}

static struct vouch__tcb_input tdx_in(unsigned svn0, unsigned svn1, unsigned svn2)
{
    struct vouch__tcb_input in;

    memset(&in, 0, sizeof(in));
    in.tdx = true;
    in.quote_version = 4;
    in.pck_comps[0] = 3;
    in.pck_comps[1] = 3;
    in.pck_pcesvn = 13;
    in.tee_tcb_svn[0] = (uint8_t)svn0;
    in.tee_tcb_svn[1] = (uint8_t)svn1;
    in.tee_tcb_svn[2] = (uint8_t)svn2;
    in.has_qe_status = true;
    in.qe_status = VOUCH_TCB_UP_TO_DATE;
    return in;
}

static enum vouch_tcb_status eval(const struct vouch__tcb_info *ti,
                                  const struct vouch__tcb_input *in, struct vouch__tcb_eval *ev)
{
    char detail[256] = "";
    vouch_err rc = vouch__tcb_evaluate(ti, in, ev, detail, sizeof(detail));
    if (rc != VOUCH_OK)
        fail_msg("evaluate: %s (%s)", vouch_err_name(rc), detail);
    return ev->status;
}

static void test_tcb_info_sorting(void **state)
{
    struct vouch__tcb_info ti;

    (void)state;
    parse_tdx(&ti);
    assert_int_equal(ti.n_levels, 4);
    /* Descending by SGX comps, then PCESVN, then TDX comps. */
    assert_int_equal(ti.levels[0].status, VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(ti.levels[1].status, VOUCH_TCB_CONFIGURATION_NEEDED);
    assert_int_equal(ti.levels[2].pcesvn, 13);
    assert_int_equal(ti.levels[2].status, VOUCH_TCB_OUT_OF_DATE);
    assert_int_equal(ti.levels[3].pcesvn, 5);
    assert_true(ti.is_tdx);
    assert_int_equal(ti.n_modules, 1);
    assert_string_equal(ti.modules[0].id, "TDX_01"); /* upper-cased as QVL compares */
    assert_int_equal(ti.modules[0].levels[0].isvsvn, 6);
    assert_int_equal(ti.modules[0].levels[1].isvsvn, 2);
    assert_int_equal(ti.modules[0].levels[2].isvsvn, 1);
    assert_non_null(vouch__tdx_module_identity_find(&ti, 1));
    assert_null(vouch__tdx_module_identity_find(&ti, 3));
    assert_int_equal(ti.levels[2].adv.n, 1);
    assert_string_equal(ti.adv[ti.levels[2].adv.off], "INTEL-SA-B");
    vouch__tcb_info_free(&ti);
}

static void test_tdx_matching(void **state)
{
    struct vouch__tcb_info ti;
    struct vouch__tcb_eval ev;
    struct vouch__tcb_input in;
    char detail[256];

    (void)state;
    parse_tdx(&ti);

    /* Module v1, isvsvn 6: identity level UpToDate; TDX comp 2 = 3 matches the top. */
    in = tdx_in(6, 1, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(ev.module_status, VOUCH_TCB_UP_TO_DATE);
    assert_ptr_equal(ev.level, &ti.levels[0]);

    /* With a module version, indices 0-1 are the identity's business: TDX comp 0 = 4 is
     * below every level's 5, yet the top level matches (the module identity then judges). */
    in = tdx_in(4, 1, 3);
    assert_true(in.tee_tcb_svn[0] < ti.levels[0].tdx[0]);
    (void)eval(&ti, &in, &ev);
    assert_ptr_equal(ev.level, &ti.levels[0]);
    assert_int_equal(ev.platform_status, VOUCH_TCB_UP_TO_DATE);

    /* Comp 2 = 2: the same SGX level with lower TDX comps (ConfigurationNeeded). */
    in = tdx_in(6, 1, 2);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_CONFIGURATION_NEEDED);
    assert_ptr_equal(ev.level, &ti.levels[1]);
    assert_ptr_equal(ev.sgx_level, &ti.levels[0]);

    /* Module isvsvn 4 -> identity level 2 OutOfDate -> converged OutOfDate. */
    in = tdx_in(4, 1, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);
    assert_int_equal(ev.platform_status, VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(ev.module_status, VOUCH_TCB_OUT_OF_DATE);
    assert_int_equal(ev.module_level->isvsvn, 2);
    /* ... and ConfigurationNeeded with an out-of-date module. */
    in = tdx_in(4, 1, 2);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);

    /* Module isvsvn 1: Revoked identity level wins. */
    in = tdx_in(1, 1, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_REVOKED);
    /* Module isvsvn 0: below every identity level. */
    in = tdx_in(0, 1, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_NOT_SUPPORTED);
    assert_int_equal(ev.module_status, VOUCH_TCB_NOT_SUPPORTED);

    /* Module version 2: no TDX_02 identity -> mismatch. */
    in = tdx_in(6, 2, 3);
    assert_int_equal(vouch__tcb_evaluate(&ti, &in, &ev, detail, sizeof(detail)),
                     VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(detail, "TDX_02"));

    /* Module version 0 (quote v4): every TDX comp compared, no module status. */
    in = tdx_in(5, 0, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(ev.module_status, VOUCH_TCB_NONE);
    in = tdx_in(4, 0, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_NOT_SUPPORTED);
    assert_int_equal(ev.platform_status, VOUCH_TCB_NOT_SUPPORTED);
    /* With a module version the same comp 0 = 4 is judged by the identity. */
    in = tdx_in(4, 1, 3);
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);

    /* SGX side: PCESVN 12 only matches the PCESVN-5 level. */
    in = tdx_in(6, 1, 3);
    in.pck_comps[0] = in.pck_comps[1] = 2;
    in.pck_pcesvn = 12;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);
    assert_int_equal(ev.level->pcesvn, 5);
    in.pck_pcesvn = 4;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_NOT_SUPPORTED);
    assert_null(ev.sgx_level);

    vouch__tcb_info_free(&ti);
}

static void test_td_relaunch(void **state)
{
    struct vouch__tcb_info ti;
    struct vouch__tcb_eval ev;
    struct vouch__tcb_input in;
    char detail[256];

    (void)state;
    parse_tdx(&ti);

    /* Out-of-date module, platform patched to the latest module (SVN2 names TDX_01 isvsvn 6). */
    in = tdx_in(4, 1, 3);
    in.quote_version = 5;
    in.td15 = true;
    in.tee_tcb_svn2[0] = 6;
    in.tee_tcb_svn2[1] = 1;
    in.tee_tcb_svn2[2] = 3;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_TD_RELAUNCH_ADVISED);
    assert_true(ev.relaunch_advised);

    /* SVN2 module still below the latest identity level: no relaunch. */
    in.tee_tcb_svn2[0] = 5;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);
    assert_false(ev.relaunch_advised);
    /* SVN2 comp 2 below the top level's. */
    in.tee_tcb_svn2[0] = 6;
    in.tee_tcb_svn2[2] = 2;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);

    /* SVN2 without module version: compared with the top level's TDX comps 0 and 2. */
    in.tee_tcb_svn2[0] = 5;
    in.tee_tcb_svn2[1] = 0;
    in.tee_tcb_svn2[2] = 3;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_TD_RELAUNCH_ADVISED);
    in.tee_tcb_svn2[0] = 4;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);

    /* ConfigurationNeeded involved -> the _CONFIGURATION_NEEDED variant. */
    in = tdx_in(4, 1, 2);
    in.quote_version = 5;
    in.td15 = true;
    in.tee_tcb_svn2[0] = 6;
    in.tee_tcb_svn2[1] = 1;
    in.tee_tcb_svn2[2] = 3;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);

    /* An out-of-date QE blocks the relaunch advice; convergence makes it OutOfDate. */
    in = tdx_in(4, 1, 3);
    in.quote_version = 5;
    in.td15 = true;
    in.tee_tcb_svn2[0] = 6;
    in.tee_tcb_svn2[1] = 1;
    in.tee_tcb_svn2[2] = 3;
    in.qe_status = VOUCH_TCB_OUT_OF_DATE;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);
    assert_false(ev.relaunch_advised);

    /* Not a 1.5 body: no relaunch check at all. */
    in.qe_status = VOUCH_TCB_UP_TO_DATE;
    in.td15 = false;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);

    /* SVN2 names a module identity that does not exist -> mismatch (QVL). */
    in.td15 = true;
    in.tee_tcb_svn2[1] = 3;
    assert_int_equal(vouch__tcb_evaluate(&ti, &in, &ev, detail, sizeof(detail)),
                     VOUCH_ERR_MISMATCH);

    vouch__tcb_info_free(&ti);
}

static const struct lvl sgx_levels[] = {
    {4, 4, 10, 0, 0, 0, "ConfigurationAndSWHardeningNeeded", "2022-01-01T00:00:00Z",
     "[\"INTEL-SA-00289\",\"INTEL-SA-00615\"]"},
    {5, 5, 13, 0, 0, 0, "UpToDate", "2024-01-01T00:00:00Z", NULL},
    {3, 3, 10, 0, 0, 0, "Revoked", "2019-01-01T00:00:00Z", NULL},
    {4, 4, 13, 0, 0, 0, "SWHardeningNeeded", "2023-01-01T00:00:00Z", "[\"INTEL-SA-00615\"]"},
};

static void test_sgx_matching(void **state)
{
    static struct sb b;
    struct vouch__tcb_info ti;
    struct vouch__tcb_eval ev;
    struct vouch__tcb_input in;
    char detail[256] = "";

    (void)state;
    make_tcb_info(&b, false, sgx_levels, 4, NULL);
    if (vouch__tcb_info_parse(b.buf, b.n, &ti, detail, sizeof(detail)) != VOUCH_OK)
        fail_msg("%s", detail);
    assert_false(ti.is_tdx);
    assert_int_equal(ti.levels[0].status, VOUCH_TCB_UP_TO_DATE);
    assert_int_equal(ti.levels[1].status, VOUCH_TCB_SW_HARDENING_NEEDED);
    assert_int_equal(ti.levels[2].status, VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_int_equal(ti.levels[3].status, VOUCH_TCB_REVOKED);

    memset(&in, 0, sizeof(in));
    in.quote_version = 3;
    in.has_qe_status = true;
    in.qe_status = VOUCH_TCB_UP_TO_DATE;
    in.pck_comps[0] = 5;
    in.pck_comps[1] = 5;
    in.pck_pcesvn = 13;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_UP_TO_DATE);
    in.pck_comps[1] = 4; /* every comp must be >=: [5,4] only reaches [4,4] */
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_SW_HARDENING_NEEDED);
    assert_int_equal(ev.level->adv.n, 1);
    in.pck_pcesvn = 12;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    in.pck_comps[0] = 3;
    in.pck_comps[1] = 3;
    in.pck_pcesvn = 10;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_REVOKED);
    in.pck_comps[0] = 2;
    in.pck_comps[1] = 9;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_NOT_SUPPORTED);

    /* QE convergence on the SGX path. */
    in.pck_comps[0] = 4;
    in.pck_comps[1] = 4;
    in.pck_pcesvn = 13;
    in.qe_status = VOUCH_TCB_OUT_OF_DATE;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE); /* SWHardening */
    assert_int_equal(ev.platform_status, VOUCH_TCB_SW_HARDENING_NEEDED);
    in.pck_pcesvn = 10;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
    in.qe_status = VOUCH_TCB_REVOKED;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_REVOKED);
    in.qe_status = VOUCH_TCB_NOT_SUPPORTED;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_NOT_SUPPORTED);
    in.has_qe_status = false;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    vouch__tcb_info_free(&ti);
}

static void test_converge_tables(void **state)
{
    static const struct {
        enum vouch_tcb_status level, other, qe_out, module_out;
    } t[] = {
        {VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_UP_TO_DATE},
        {VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_OUT_OF_DATE, VOUCH_TCB_OUT_OF_DATE, VOUCH_TCB_OUT_OF_DATE},
        {VOUCH_TCB_SW_HARDENING_NEEDED, VOUCH_TCB_OUT_OF_DATE, VOUCH_TCB_OUT_OF_DATE,
         VOUCH_TCB_OUT_OF_DATE},
        {VOUCH_TCB_CONFIGURATION_NEEDED, VOUCH_TCB_OUT_OF_DATE,
         VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
        {VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, VOUCH_TCB_OUT_OF_DATE,
         VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
        {VOUCH_TCB_OUT_OF_DATE, VOUCH_TCB_OUT_OF_DATE, VOUCH_TCB_OUT_OF_DATE,
         VOUCH_TCB_OUT_OF_DATE},
        {VOUCH_TCB_REVOKED, VOUCH_TCB_OUT_OF_DATE, VOUCH_TCB_REVOKED, VOUCH_TCB_REVOKED},
        {VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_REVOKED, VOUCH_TCB_REVOKED, VOUCH_TCB_REVOKED},
        {VOUCH_TCB_CONFIGURATION_NEEDED, VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_CONFIGURATION_NEEDED,
         VOUCH_TCB_CONFIGURATION_NEEDED},
        {VOUCH_TCB_TD_RELAUNCH_ADVISED, VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_TD_RELAUNCH_ADVISED,
         VOUCH_TCB_TD_RELAUNCH_ADVISED},
        {VOUCH_TCB_UP_TO_DATE, VOUCH_TCB_NOT_SUPPORTED, VOUCH_TCB_NOT_SUPPORTED,
         VOUCH_TCB_UP_TO_DATE},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(vouch__tcb_converge_qe(t[i].level, t[i].other), t[i].qe_out);
        assert_int_equal(vouch__tcb_converge_module(t[i].level, t[i].other), t[i].module_out);
    }
}

static const char qe_json[] =
    "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\","
    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"tcbEvaluationDataNumber\":17,"
    "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
    "\"attributes\":\"11000000000000000000000000000000\","
    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
    "\"mrsigner\":\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF\","
    "\"isvprodid\":1,\"tcbLevels\":["
    "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
    "{\"tcb\":{\"isvsvn\":6},\"tcbDate\":\"2021-11-10T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
    "\"advisoryIDs\":[\"INTEL-SA-00615\"]},"
    "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2019-11-13T00:00:00Z\",\"tcbStatus\":\"Revoked\"}]}";

static void test_qe_identity(void **state)
{
    static const uint8_t mrsigner[32] = {0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e,
                                         0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
                                         0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b,
                                         0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};
    static const struct {
        uint16_t isvsvn;
        enum vouch_tcb_status st;
    } svns[] = {{9, VOUCH_TCB_UP_TO_DATE},  {8, VOUCH_TCB_UP_TO_DATE},
                {7, VOUCH_TCB_OUT_OF_DATE}, {6, VOUCH_TCB_OUT_OF_DATE},
                {5, VOUCH_TCB_REVOKED},     {3, VOUCH_TCB_NOT_SUPPORTED}};
    struct vouch__qe_identity qi;
    struct vouch_sgx_report r;
    enum vouch_tcb_status st;
    const struct vouch__qe_level *lvl = NULL;
    char detail[256] = "";

    (void)state;
    if (vouch__qe_identity_parse(qe_json, sizeof(qe_json) - 1, &qi, detail, sizeof(detail)) !=
        VOUCH_OK)
        fail_msg("%s", detail);
    assert_int_equal(qi.id, VOUCH__QE_ID_QE);
    memset(&r, 0, sizeof(r));
    r.attributes[0] = 0x15; /* INIT | MODE64BIT | PROVISIONKEY, as real QEs */
    memcpy(r.mrsigner, mrsigner, sizeof(mrsigner));
    r.isvprodid = 1;
    for (size_t i = 0; i < sizeof(svns) / sizeof(svns[0]); i++) {
        r.isvsvn = svns[i].isvsvn;
        assert_int_equal(vouch__qe_identity_check(&qi, &r, &st, &lvl, detail, sizeof(detail)),
                         VOUCH_OK);
        assert_int_equal(st, svns[i].st);
        assert_true((lvl == NULL) == (svns[i].st == VOUCH_TCB_NOT_SUPPORTED));
    }
    r.isvsvn = 8;
    r.attributes[0] = 0x17; /* DEBUG */
    assert_int_equal(vouch__qe_identity_check(&qi, &r, &st, &lvl, detail, sizeof(detail)),
                     VOUCH_ERR_MISMATCH);
    r.attributes[0] = 0x15;
    r.attributes[8] = 0xff; /* XFRM is masked out */
    assert_int_equal(vouch__qe_identity_check(&qi, &r, &st, &lvl, detail, sizeof(detail)),
                     VOUCH_OK);
    r.mrsigner[31] ^= 1;
    assert_int_equal(vouch__qe_identity_check(&qi, &r, &st, &lvl, detail, sizeof(detail)),
                     VOUCH_ERR_MISMATCH);
    r.mrsigner[31] ^= 1;
    r.isvprodid = 2;
    assert_int_equal(vouch__qe_identity_check(&qi, &r, &st, &lvl, detail, sizeof(detail)),
                     VOUCH_ERR_MISMATCH);
    r.isvprodid = 1;
    r.miscselect = 1;
    assert_int_equal(vouch__qe_identity_check(&qi, &r, &st, &lvl, detail, sizeof(detail)),
                     VOUCH_ERR_MISMATCH);
    vouch__qe_identity_free(&qi);
}

static void expect_tcb_parse(const char *json, vouch_err want)
{
    struct vouch__tcb_info ti;
    char detail[256] = "";
    vouch_err rc = vouch__tcb_info_parse(json, strlen(json), &ti, detail, sizeof(detail));

    if (rc != want)
        fail_msg("got %s (%s), want %s", vouch_err_name(rc), detail, vouch_err_name(want));
    if (rc == VOUCH_OK)
        vouch__tcb_info_free(&ti);
    else
        assert_true(detail[0] != '\0');
}

static void test_tcb_info_rejects(void **state)
{
    static struct sb b;
    static const struct lvl dup[] = {
        {5, 5, 13, 0, 0, 0, "UpToDate", "2024-01-01T00:00:00Z", NULL},
        {5, 5, 13, 0, 0, 0, "OutOfDate", "2023-01-01T00:00:00Z", NULL},
    };
    static const struct lvl bad_status[] = {
        {5, 5, 13, 0, 0, 0, "Fine", "2024-01-01T00:00:00Z", NULL},
    };
    static const struct lvl big_svn[] = {
        {256, 5, 13, 0, 0, 0, "UpToDate", "2024-01-01T00:00:00Z", NULL},
    };
    char *p = NULL;

    (void)state;
    make_tcb_info(&b, false, sgx_levels, 4, NULL);
    expect_tcb_parse(b.buf, VOUCH_OK);
    make_tcb_info(&b, false, dup, 2, NULL);
    expect_tcb_parse(b.buf, VOUCH_ERR_PARSE);
    make_tcb_info(&b, false, bad_status, 1, NULL);
    expect_tcb_parse(b.buf, VOUCH_ERR_PARSE);
    make_tcb_info(&b, false, big_svn, 1, NULL);
    expect_tcb_parse(b.buf, VOUCH_ERR_PARSE);
    make_tcb_info(&b, false, sgx_levels, 0, NULL);
    expect_tcb_parse(b.buf, VOUCH_ERR_PARSE);
    /* SGX TCB Info must not carry TDX module fields. */
    make_tcb_info(&b, false, sgx_levels, 4, module_ids);
    expect_tcb_parse(b.buf, VOUCH_ERR_PARSE);
    /* Unsupported tcbType / version / id. */
    make_tcb_info(&b, false, sgx_levels, 4, NULL);
    p = strstr(b.buf, "\"tcbType\":0");
    assert_non_null(p);
    p[10] = '1';
    expect_tcb_parse(b.buf, VOUCH_ERR_UNSUPPORTED);
    make_tcb_info(&b, false, sgx_levels, 4, NULL);
    p = strstr(b.buf, "\"version\":3");
    p[10] = '4';
    expect_tcb_parse(b.buf, VOUCH_ERR_UNSUPPORTED);
    make_tcb_info(&b, false, sgx_levels, 4, NULL);
    memcpy(b.buf + 7, "SEV", 3);
    expect_tcb_parse(b.buf, VOUCH_ERR_UNSUPPORTED);
    /* Duplicate keys are refused by the JSON layer. */
    make_tcb_info(&b, false, sgx_levels, 4, NULL);
    p = strstr(b.buf, "\"tcbType\":0");
    memcpy(p, "\"fmspc\":00", 10);
    expect_tcb_parse(b.buf, VOUCH_ERR_PARSE);
    expect_tcb_parse("[]", VOUCH_ERR_PARSE);
    expect_tcb_parse("{", VOUCH_ERR_PARSE);
}

/* TCB Info v2 (flat component keys, no id): SGX only, sorted the same way. */
static void test_tcb_info_v2(void **state)
{
    static struct sb b;
    struct vouch__tcb_info ti;
    struct vouch__tcb_eval ev;
    struct vouch__tcb_input in;
    char detail[256] = "";

    (void)state;
    b.n = 0;
    sb_add(&b, "{\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\","
               "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00A067110000\","
               "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":9,\"tcbLevels\":[");
    for (unsigned k = 0; k < 2; k++) {
        sb_add(&b, "%s{\"tcb\":{", k ? "," : "");
        for (unsigned i = 1; i <= 16; i++)
            sb_add(&b, "\"sgxtcbcomp%02usvn\":%u,", i, i == 1 ? 4 + k : 0);
        sb_add(&b, "\"pcesvn\":10},\"tcbDate\":\"2020-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"}",
               k ? "UpToDate" : "OutOfDate");
    }
    sb_add(&b, "]}");
    if (vouch__tcb_info_parse(b.buf, b.n, &ti, detail, sizeof(detail)) != VOUCH_OK)
        fail_msg("%s", detail);
    assert_int_equal(ti.version, 2);
    assert_false(ti.is_tdx);
    assert_int_equal(ti.levels[0].sgx[0], 5);
    memset(&in, 0, sizeof(in));
    in.quote_version = 3;
    in.pck_comps[0] = 4;
    in.pck_pcesvn = 10;
    assert_int_equal(eval(&ti, &in, &ev), VOUCH_TCB_OUT_OF_DATE);
    vouch__tcb_info_free(&ti);
}

static void test_windows_check(void **state)
{
    static const struct vouch__window w[] = {{"a", 100, 1000}, {"b", 200, 900}, {"c", 150, 950}};

    (void)state;
    assert_null(vouch__windows_check(w, 3, 200));
    assert_null(vouch__windows_check(w, 3, 900));
    assert_string_equal(vouch__windows_check(w, 3, 901), "b");
    assert_string_equal(vouch__windows_check(w, 3, 960), "b");
    assert_string_equal(vouch__windows_check(w, 3, 199), "b");
    assert_string_equal(vouch__windows_check(w, 3, 120), "b");
    assert_string_equal(vouch__windows_check(w, 3, 99), "b");
}

static void test_pem_blocks(void **state)
{
    static const char two[] = "-----BEGIN CERTIFICATE-----\r\nQUJD\r\nREVG\r\n"
                              "-----END CERTIFICATE-----\r\n"
                              "-----BEGIN CERTIFICATE-----\nR0g=\n-----END CERTIFICATE-----\n";
    struct vouch__pem_blocks b;
    char buf[512];

    (void)state;
    assert_true(vouch__pem_blocks((const uint8_t *)two, strlen(two), 2, &b));
    assert_int_equal(b.n, 2);
    assert_true(vouch__pem_block_is(&b, 0, "QUJDREVG"));
    assert_true(vouch__pem_block_is(&b, 1, "R0g="));
    assert_false(vouch__pem_block_is(&b, 1, "R0g"));
    assert_false(vouch__pem_block_is(&b, 2, "R0g="));
    assert_false(vouch__pem_block_is(&b, 0, NULL));
    vouch__pem_blocks_free(&b);
    /* Trailing NULs (as in most quotes) are fine; more or fewer blocks are not. */
    memcpy(buf, two, sizeof(two));
    memset(buf + sizeof(two), 0, 3);
    assert_true(vouch__pem_blocks((const uint8_t *)buf, sizeof(two) + 3, 2, &b));
    vouch__pem_blocks_free(&b);
    assert_false(vouch__pem_blocks((const uint8_t *)two, strlen(two), 1, &b));
    assert_false(vouch__pem_blocks((const uint8_t *)two, strlen(two), 3, &b));
    /* Trailing text, PEM headers and empty blocks send callers to the general parser. */
    snprintf(buf, sizeof(buf), "%sx", two);
    assert_false(vouch__pem_blocks((const uint8_t *)buf, strlen(buf), 2, &b));
    snprintf(buf, sizeof(buf),
             "-----BEGIN CERTIFICATE-----\nProc-Type: 4\nQUJD\n"
             "-----END CERTIFICATE-----\n");
    assert_false(vouch__pem_blocks((const uint8_t *)buf, strlen(buf), 1, &b));
    snprintf(buf, sizeof(buf), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    assert_false(vouch__pem_blocks((const uint8_t *)buf, strlen(buf), 1, &b));
    assert_false(vouch__pem_blocks((const uint8_t *)"", 0, 1, &b));
    assert_null(b.buf);
}

/* Issuer chains that differ only in line endings give the same answer (the QE
 * chain then no longer equals the TCB chain text and takes its own parse). */
static char *to_crlf(const char *s)
{
    char *d = malloc(2 * strlen(s) + 1);
    size_t k = 0;

    assert_non_null(d);
    for (; *s; s++) {
        if (*s == '\n')
            d[k++] = '\r';
        d[k++] = *s;
    }
    d[k] = '\0';
    return d;
}

static void test_chain_text_variants(void **state)
{
    static const char *const fields[] = {"qe_identity_issuer_chain", "pck_crl_issuer_chain"};
    const struct vec *v = &vecs[4];
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(v->quote, &qlen), *c = vt_read(v->coll, &clen);
    struct vouch_verify_result a, b;

    (void)state;
    assert_int_equal(verify_cold(q, qlen, c, clen, v->now, &a), VOUCH_OK);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_error_t e;
        json_t *root = json_loadb((const char *)c, clen, 0, &e);
        char *dos = NULL, *dumped = NULL;
        assert_non_null(root);
        dos = to_crlf(json_string_value(json_object_get(root, fields[i])));
        assert_int_equal(json_object_set_new(root, fields[i], json_string(dos)), 0);
        dumped = json_dumps(root, JSON_COMPACT);
        assert_non_null(dumped);
        if (verify_cold(q, qlen, (const uint8_t *)dumped, strlen(dumped), v->now, &b) != VOUCH_OK)
            fail_msg("%s with CRLF: %s", fields[i], b.error_detail);
        assert_same_result(&a, &b);
        vouch_verify_result_free(&b);
        free(dumped);
        free(dos);
        json_decref(root);
    }
    vouch_verify_result_free(&a);
    free(q);
    free(c);
}

/* The internal entry point gives the same answer as the public one. */
static void test_direct_entry(void **state)
{
    size_t qlen = 0, clen = 0;
    uint8_t *q = vt_read(vecs[1].quote, &qlen), *c = vt_read(vecs[1].coll, &clen);
    struct vouch_dcap_quote *pq = calloc(1, sizeof(*pq));
    struct vouch_verify_opts o = {.now = vecs[1].now, .collateral = c, .collateral_len = clen};
    struct vouch_verify_result a, b;

    (void)state;
    assert_non_null(pq);
    assert_int_equal(vouch__dcap_quote_parse(q, qlen, pq), VOUCH_OK);
    memset(&a, 0, sizeof(a));
    a.format = VOUCH_EVIDENCE_TDX;
    a.tcb_eval_number = -1;
    assert_int_equal(vouch__dcap_verify(q, qlen, pq, &o, &a), VOUCH_OK);
    assert_int_equal(vouch_evidence_verify(q, qlen, &o, &b), VOUCH_OK);
    assert_same_result(&a, &b);
    vouch_verify_result_free(&a);
    vouch_verify_result_free(&b);
    free(pq);
    free(q);
    free(c);
}

/* The PCK leaf cache: a verified leaf is remembered, but a quote whose leaf
 * differs in any byte (here: one base64 character of its signature) must
 * still be rejected, before and after the genuine leaf was cached. */
static void test_leaf_cache_not_fooled(void **state)
{
    size_t qlen, clen;
    uint8_t *q = vt_read(vecs[0].quote, &qlen);
    uint8_t *c = vt_read(vecs[0].coll, &clen);
    struct vouch_collateral *coll = NULL;
    struct vouch_verify_result res;
    const char *end_marker = "-----END CERTIFICATE-----";
    uint8_t *bad = malloc(qlen);
    size_t pos = 0;
    (void)state;

    assert_non_null(bad);
    assert_int_equal(vouch_collateral_parse(c, clen, &coll), VOUCH_OK);
    /* The first END marker closes the leaf; a character 40 before it lies in
     * the base64 of the leaf's signature. */
    for (size_t i = 0; i + strlen(end_marker) <= qlen; i++) {
        if (memcmp(q + i, end_marker, strlen(end_marker)) == 0) {
            pos = i - 40;
            break;
        }
    }
    assert_true(pos > 0);
    memcpy(bad, q, qlen);
    bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
    for (int round = 0; round < 3; round++) {
        /* Round 0 runs before the genuine leaf is cached (for this key/CA
         * pair in this process), rounds 1-2 after. */
        assert_int_not_equal(verify_cached(bad, qlen, coll, vecs[0].now, &res), VOUCH_OK);
        assert_false(res.verified);
        vouch_verify_result_free(&res);
        assert_int_equal(verify_cached(q, qlen, coll, vecs[0].now, &res), VOUCH_OK);
        assert_true(res.verified);
        vouch_verify_result_free(&res);
    }
    /* A cached leaf is still judged at the evaluation time. */
    assert_int_equal(verify_cached(q, qlen, coll, 4102444800LL, &res), VOUCH_ERR_EXPIRED);
    vouch_verify_result_free(&res);
    vouch_collateral_free(coll);
    free(bad);
    free(q);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_entry),
        cmocka_unit_test(test_leaf_cache_not_fooled),
        cmocka_unit_test(test_pem_blocks),
        cmocka_unit_test(test_chain_text_variants),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vector_details),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_t1_expired_item),
        cmocka_unit_test(test_leaf_not_yet_valid),
        cmocka_unit_test(test_cross_collateral),
        cmocka_unit_test(test_no_collateral),
        cmocka_unit_test(test_flip_signed_region),
        cmocka_unit_test(test_flip_qe_report),
        cmocka_unit_test(test_collateral_signatures),
        cmocka_unit_test(test_wrong_root),
        cmocka_unit_test(test_wrong_root_in_quote),
        cmocka_unit_test(test_pcs_envelope),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_tcb_info_sorting),
        cmocka_unit_test(test_tdx_matching),
        cmocka_unit_test(test_td_relaunch),
        cmocka_unit_test(test_sgx_matching),
        cmocka_unit_test(test_converge_tables),
        cmocka_unit_test(test_qe_identity),
        cmocka_unit_test(test_tcb_info_rejects),
        cmocka_unit_test(test_tcb_info_v2),
        cmocka_unit_test(test_windows_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
