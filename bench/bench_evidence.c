/*
 * Evidence verification benchmark (PRODUCT.md §4).
 *
 * Measures, on the real vectors and at their evaluation times:
 *   <id>-cold        vouch_evidence_verify with raw collateral bytes: collateral
 *                    parse + signature checks + quote, every call
 *   <id>-collateral  vouch_collateral_parse alone (what caching saves)
 *   <id>-cached      collateral parsed once, verify with opts.collateral_obj
 *   <id>-verify      SEV-SNP report with its VCEK (chain cache warm after call 1)
 * and, in the same run, the ECDSA verifications those must do, so the targets
 * are judged against this machine's crypto rather than a number from elsewhere:
 *   ecdsa-p256       one P-256 verify (S1's quote signature)
 *   ecdsa-p384       one P-384 verify (N1's report signature)
 *
 * Every call's result is checked against the expected status; a wrong answer
 * aborts the run, since a fast wrong verifier is worthless.
 *
 * stdout: one JSON object per figure; stderr: a table.
 *
 * usage: bench_evidence [--seconds S] [--all] [--only ID[,ID...]] [DATA_DIR]
 */
#include "bench_util.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/evidence.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/time.h>

#ifndef VOUCH_TESTDATA_DIR
#define VOUCH_TESTDATA_DIR "../shared/testdata"
#endif

#define MAX_FILE        (1u << 20)
#define MAX_SAMPLES     (1u << 20)
#define MIN_ITERS       20u
#define DEFAULT_SECONDS 1.0

/* DCAP quote v3 (S1): header 48 + report body 384 = signed region; then the
 * u32 signature-data length, the r||s signature and the attestation key. */
#define SGX_SIGNED_LEN  432u
#define SGX_SIG_OFF     436u
#define SGX_ATT_KEY_OFF (SGX_SIG_OFF + 64u)
/* SEV-SNP report: signed region [0, 0x2A0); r and s are 72-byte LE fields. */
#define SNP_SIGNED_LEN 0x2A0u
#define SNP_R_OFF      0x2A0u
#define SNP_S_OFF      0x2E8u
#define SNP_RS_LEN     72u

/* Targets from PRODUCT.md §4. */
#define TARGET_CACHED_VS_ECDSA 1.5  /* cached DCAP <= 1.5x its 3 P-256 verifies */
#define TARGET_COLD_US         1000 /* cold DCAP <= 1 ms */
#define TARGET_SNP_VS_ECDSA    1.2  /* SNP <= 1.2x one P-384 verify */
#define DCAP_CACHED_P256       3    /* PCK leaf, QE report, quote */

/* Mirrors scripts/vectors.sh (times and expectations from
 * shared/testdata/evidence/README.md). */
struct vector {
    const char *id;
    const char *evidence;
    const char *aux; /* collateral JSON (DCAP) or VCEK (SNP) */
    int64_t now;
    const char *expected;
    bool core; /* measured by default; the rest with --all */
};

static const struct vector vectors[] = {
    {"S1", "evidence/sgx/v3_phala_quote.bin", "evidence/sgx/v3_phala_collateral.json", 1751328000,
     "ConfigurationAndSWHardeningNeeded", true},
    {"T1", "evidence/tdx/v4_phala_quote.bin", "evidence/tdx/v4_phala_collateral.json", 1751328000,
     "UpToDate", true},
    {"T2", "evidence/tdx/v5_phala_tcb_unsupported_quote.bin",
     "evidence/tdx/v5_fmspc90c06f_2026-02_collateral.json", 1772323200, "TcbNotSupported", false},
    {"T3", "evidence/tdx/v5_gotdx_quote.bin", "evidence/tdx/v5_fmspc90c06f_2026-02_collateral.json",
     1772323200, "UpToDate", true},
    {"T4", "evidence/tdx/v5_oe_relaunch_quote.bin", "evidence/tdx/v5_oe_relaunch_collateral.json",
     1740787200, "TDRelaunchAdvised", true},
    {"T5", "evidence/tdx/v5_oe_outofdate_quote.bin", "evidence/tdx/v5_oe_eval21_collateral.json",
     1781913600, "OutOfDate", false},
    {"T6", "evidence/tdx/v4_oe_tdx10_quote.bin",
     "evidence/tdx/v4_fmspc50806f_2023-06_collateral.json", 1688173200, "UpToDate", false},
    {"T7", "evidence/tdx/v4_gotdx_sprE4_quote.bin",
     "evidence/tdx/v4_fmspc50806f_2023-06_collateral.json", 1688173200, "TcbNotSupported", false},
    {"N1", "evidence/snp/milan_v2_gosev_report.bin", "evidence/snp/milan_v2_gosev_vcek.der",
     1700000000, "None", true},
    {"N2", "evidence/snp/milan_v2_virtee_report.bin", "evidence/snp/milan_v2_virtee_vcek.der",
     1700000000, "None", false},
};

struct stats {
    double first_us; /* the first call of the case in this process */
    double mean_us;
    double p50_us;
    double p99_us;
    double min_us;
    double ops_per_s;
    size_t iters;
};

/* One measured operation; returns VOUCH_OK only when the answer was right. */
typedef vouch_err (*bench_op_fn)(void *ctx);

struct verify_ctx {
    const struct vector *v;
    const uint8_t *ev;
    size_t ev_len;
    struct vouch_verify_opts opts;
    enum vouch_tcb_status expected;
    enum vouch_evidence_format format; /* from the first call */
};

struct collateral_ctx {
    const uint8_t *json;
    size_t len;
};

struct ecdsa_ctx {
    const struct vouch_pubkey *key;
    const uint8_t *msg;
    size_t msg_len;
    const uint8_t *sig; /* raw r||s (P-256) or r_le (P-384) */
    const uint8_t *s_le;
    bool le;
};

struct bytes_ctx {
    const uint8_t *p;
    size_t len;
};

static double seconds_per_case = DEFAULT_SECONDS;
/* The 1-minute load average when the run started: on a shared 2-core machine
 * it says how far the means can be trusted (p50 is the steadier figure). */
static double load_1m = -1;
static double *samples;

VOUCH_NODISCARD static vouch_err measure(bench_op_fn op, void *ctx, struct stats *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    double t0, t_start, t_end, sum = 0;
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    t0 = bench_now_us();
    if ((rc = op(ctx)) != VOUCH_OK)
        goto out;
    out->first_us = bench_now_us() - t0;

    /* Warm-up: caches, branch predictors, lazily built tables (~10% of the
     * case's budget, at least a few calls). */
    t_start = bench_now_us();
    for (size_t i = 0; i < 3 || bench_now_us() - t_start < seconds_per_case * 1e5; i++) {
        if ((rc = op(ctx)) != VOUCH_OK)
            goto out;
    }

    t_start = bench_now_us();
    t_end = t_start;
    while (n < MAX_SAMPLES && (n < MIN_ITERS || t_end - t_start < seconds_per_case * 1e6)) {
        t0 = bench_now_us();
        rc = op(ctx);
        t_end = bench_now_us();
        if (rc != VOUCH_OK)
            goto out;
        samples[n++] = t_end - t0;
    }
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    bench_sort(samples, n);
    out->iters = n;
    out->mean_us = sum / (double)n;
    out->min_us = samples[0];
    out->p50_us = bench_percentile(samples, n, 50);
    out->p99_us = bench_percentile(samples, n, 99);
    out->ops_per_s = (double)n * 1e6 / (t_end - t_start);
    rc = VOUCH_OK;
out:
    return rc;
}

VOUCH_NODISCARD static vouch_err read_file(const char *dir, const char *rel, uint8_t **buf_out,
                                           size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char path[4096];
    FILE *f = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int c;

    *buf_out = NULL;
    *len_out = 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (!(f = fopen(path, "rb"))) {
        fprintf(stderr, "bench_evidence: cannot open %s\n", path);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (!(buf = vouch_malloc(MAX_FILE))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    len = fread(buf, 1, MAX_FILE, f);
    if (ferror(f) || len == 0) {
        fprintf(stderr, "bench_evidence: cannot read %s\n", path);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if ((c = fgetc(f)) != EOF) {
        fprintf(stderr, "bench_evidence: %s is larger than %u bytes\n", path, MAX_FILE);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    *buf_out = buf;
    *len_out = len;
    buf = NULL;
    rc = VOUCH_OK;
out:
    if (f)
        fclose(f);
    vouch_free(buf);
    return rc;
}

/* Every call must reach the expected TCB status at the vector's time, with
 * the collateral in its window; all but TcbNotSupported must verify. */
VOUCH_NODISCARD static vouch_err verify_op(void *arg)
{
    struct verify_ctx *c = arg;
    struct vouch_verify_result res;
    vouch_err rc = VOUCH_ERR_INTERNAL;
    vouch_err vrc;

    memset(&res, 0, sizeof(res));
    vrc = vouch_evidence_verify(c->ev, c->ev_len, &c->opts, &res);
    if (res.status != c->expected || res.collateral_expired ||
        (c->expected != VOUCH_TCB_NOT_SUPPORTED && (vrc != VOUCH_OK || !res.verified))) {
        fprintf(stderr,
                "bench_evidence: %s: wrong answer: rc=%s verified=%d status=%s (expected %s) "
                "expired=%d%s%s: %s\n",
                c->v->id, vouch_err_name(vrc), res.verified, vouch_tcb_status_name(res.status),
                c->v->expected, res.collateral_expired, res.expired_item[0] ? " item=" : "",
                res.expired_item, res.error_detail);
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    c->format = res.format;
    rc = VOUCH_OK;
out:
    vouch_verify_result_free(&res);
    return rc;
}

VOUCH_NODISCARD static vouch_err collateral_op(void *arg)
{
    struct collateral_ctx *c = arg;
    struct vouch_collateral *coll = NULL;
    vouch_err rc = vouch_collateral_parse(c->json, c->len, &coll);

    if (rc != VOUCH_OK || !coll) {
        fprintf(stderr, "bench_evidence: vouch_collateral_parse: %s\n", vouch_err_name(rc));
        rc = rc == VOUCH_OK ? VOUCH_ERR_INTERNAL : rc;
    }
    vouch_collateral_free(coll);
    return rc;
}

VOUCH_NODISCARD static vouch_err ecdsa_op(void *arg)
{
    struct ecdsa_ctx *c = arg;
    vouch_err rc;

    if (c->le)
        rc = vouch_ecdsa_verify_le(c->key, VOUCH_HASH_SHA384, c->msg, c->msg_len, c->sig, c->s_le,
                                   SNP_RS_LEN);
    else
        rc = vouch_ecdsa_verify_raw(c->key, VOUCH_HASH_SHA256, c->msg, c->msg_len, c->sig, 64);
    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_evidence: ECDSA %s verify failed: %s\n", c->le ? "P-384" : "P-256",
                vouch_err_name(rc));
    return rc;
}

/* Parsing costs that sit beside the signatures in a verification: one
 * certificate (a quote carries three, collateral six) and the collateral JSON. */
VOUCH_NODISCARD static vouch_err x509_op(void *arg)
{
    struct bytes_ctx *c = arg;
    struct vouch_x509 *x = NULL;
    vouch_err rc = vouch_x509_parse_der(c->p, c->len, &x);

    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_evidence: vouch_x509_parse_der: %s\n", vouch_err_name(rc));
    vouch_x509_free(x);
    return rc;
}

/* Distinct valid P-256 points, more than the key cache holds, so building
 * them in turn always misses it: what a quote from a new platform costs. */
#define FRESH_KEYS (4u * VOUCH_EC_PUBKEY_CACHE_SLOTS)

struct fresh_keys {
    uint8_t xy[FRESH_KEYS][64];
    size_t next;
};

VOUCH_NODISCARD static vouch_err fresh_keys_make(struct fresh_keys *f)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    for (size_t i = 0; i < FRESH_KEYS; i++) {
        struct vouch_pkey *k = NULL;
        struct vouch_pubkey *pub = NULL;
        json_t *jwk = NULL;
        const char *names[2] = {"x", "y"};

        if ((rc = vouch_pkey_generate(VOUCH_PKEY_EC_P256, &k)) == VOUCH_OK &&
            (rc = vouch_pkey_public(k, &pub)) == VOUCH_OK)
            rc = vouch_pkey_pub_to_jwk(pub, &jwk);
        for (size_t j = 0; rc == VOUCH_OK && j < 2; j++) {
            const char *t = json_string_value(json_object_get(jwk, names[j]));
            uint8_t *b = NULL;
            size_t blen = 0;
            rc = t ? vouch_base64_decode(t, strlen(t), true, &b, &blen) : VOUCH_ERR_PARSE;
            if (rc == VOUCH_OK && blen != 32)
                rc = VOUCH_ERR_PARSE;
            if (rc == VOUCH_OK)
                memcpy(f->xy[i] + 32 * j, b, 32);
            vouch_free(b);
        }
        json_decref(jwk);
        vouch_pubkey_free(pub);
        vouch_pkey_free(k);
        if (rc != VOUCH_OK) {
            fprintf(stderr, "bench_evidence: cannot make P-256 keys: %s\n", vouch_err_name(rc));
            return rc;
        }
    }
    return VOUCH_OK;
}

VOUCH_NODISCARD static vouch_err ec_key_fresh_op(void *arg)
{
    struct fresh_keys *f = arg;
    struct vouch_pubkey *k = NULL;
    vouch_err rc = vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, f->xy[f->next], 64, &k);

    f->next = (f->next + 1) % FRESH_KEYS;
    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_evidence: vouch_pubkey_from_ec_xy: %s\n", vouch_err_name(rc));
    vouch_pubkey_free(k);
    return rc;
}

/* The quote's attestation key from raw X||Y, as every quote needs: after the
 * first call this is a hit in the key cache. */
VOUCH_NODISCARD static vouch_err ec_key_op(void *arg)
{
    struct bytes_ctx *c = arg;
    struct vouch_pubkey *k = NULL;
    vouch_err rc = vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, c->p, c->len, &k);

    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_evidence: vouch_pubkey_from_ec_xy: %s\n", vouch_err_name(rc));
    vouch_pubkey_free(k);
    return rc;
}

VOUCH_NODISCARD static vouch_err json_op(void *arg)
{
    struct bytes_ctx *c = arg;
    json_t *j = NULL;
    vouch_err rc = vouch_json_parse((const char *)c->p, c->len, &j, NULL, 0);

    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_evidence: vouch_json_parse: %s\n", vouch_err_name(rc));
    json_decref(j);
    return rc;
}

/* A timed verify must also be one that rejects: flipping a signed byte has
 * to turn the answer into SIGNATURE, or we would be timing a no-op. */
VOUCH_NODISCARD static vouch_err ecdsa_check_rejects(struct ecdsa_ctx *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *copy = vouch_memdup(c->msg, c->msg_len);
    struct ecdsa_ctx bad = *c;

    if (!copy) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    copy[c->msg_len / 2] ^= 0x01;
    bad.msg = copy;
    if (c->le)
        rc = vouch_ecdsa_verify_le(bad.key, VOUCH_HASH_SHA384, bad.msg, bad.msg_len, bad.sig,
                                   bad.s_le, SNP_RS_LEN);
    else
        rc = vouch_ecdsa_verify_raw(bad.key, VOUCH_HASH_SHA256, bad.msg, bad.msg_len, bad.sig, 64);
    if (rc != VOUCH_ERR_SIGNATURE) {
        fprintf(stderr, "bench_evidence: ECDSA verify accepted a modified message (%s)\n",
                vouch_err_name(rc));
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_free(copy);
    return rc;
}

/* Matched by name over every verdict: vouch_tcb_status_parse takes only the
 * values collateral may hold, not verdicts such as "None" or TDRelaunchAdvised. */
VOUCH_NODISCARD static vouch_err expected_status(const struct vector *v, enum vouch_tcb_status *out)
{
    vouch_err rc = VOUCH_ERR_NOT_FOUND;

    *out = VOUCH_TCB_NONE;
    for (int i = VOUCH_TCB_NONE; i <= VOUCH_TCB_NOT_SUPPORTED; i++) {
        if (strcmp(vouch_tcb_status_name((enum vouch_tcb_status)i), v->expected) == 0) {
            *out = (enum vouch_tcb_status)i;
            rc = VOUCH_OK;
            goto out;
        }
    }
    fprintf(stderr, "bench_evidence: %s: unknown status %s\n", v->id, v->expected);
out:
    return rc;
}

static void print_common(const char *name, const struct stats *s)
{
    printf("{\"bench\":\"evidence\",\"case\":\"%s\",\"mean_us\":%.2f,\"p50_us\":%.2f,"
           "\"p99_us\":%.2f,\"min_us\":%.2f,\"first_call_us\":%.2f,\"ops_per_s\":%.1f,"
           "\"iters\":%zu",
           name, s->mean_us, s->p50_us, s->p99_us, s->min_us, s->first_us, s->ops_per_s, s->iters);
    if (load_1m >= 0)
        printf(",\"load_1m\":%.2f", load_1m);
}

static void table_row(const char *name, const struct stats *s, const char *note)
{
    fprintf(stderr, "%-16s %10.1f %10.1f %10.1f %10.0f %9zu  %s\n", name, s->mean_us, s->p50_us,
            s->p99_us, s->ops_per_s, s->iters, note);
}

static bool selected(const char *only, const struct vector *v, bool all)
{
    const char *p;
    size_t n = strlen(v->id);

    if (!only)
        return all || v->core;
    for (p = strstr(only, v->id); p; p = strstr(p + 1, v->id)) {
        if ((p == only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    }
    return false;
}

VOUCH_NODISCARD static vouch_err bench_ecdsa(const char *dir, struct stats *p256,
                                             struct stats *p384)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *quote = NULL, *report = NULL, *vcek_der = NULL;
    size_t quote_len = 0, report_len = 0, vcek_len = 0;
    struct vouch_pubkey *att_key = NULL, *vcek_key = NULL;
    struct vouch_x509 *vcek = NULL;
    struct ecdsa_ctx c256, c384;
    char note[64];

    if ((rc = read_file(dir, vectors[0].evidence, &quote, &quote_len)) != VOUCH_OK ||
        (rc = read_file(dir, "evidence/snp/milan_v2_gosev_report.bin", &report, &report_len)) !=
            VOUCH_OK ||
        (rc = read_file(dir, "evidence/snp/milan_v2_gosev_vcek.der", &vcek_der, &vcek_len)) !=
            VOUCH_OK)
        goto out;
    if (quote_len < SGX_ATT_KEY_OFF + 64 || report_len < SNP_S_OFF + SNP_RS_LEN) {
        fprintf(stderr, "bench_evidence: S1 quote or N1 report too short\n");
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    if ((rc = vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, quote + SGX_ATT_KEY_OFF, 64, &att_key)) !=
            VOUCH_OK ||
        (rc = vouch_x509_parse_der(vcek_der, vcek_len, &vcek)) != VOUCH_OK ||
        (rc = vouch_x509_pubkey(vcek, &vcek_key)) != VOUCH_OK) {
        fprintf(stderr, "bench_evidence: cannot load the ECDSA keys: %s\n", vouch_err_name(rc));
        goto out;
    }
    c256 = (struct ecdsa_ctx){
        .key = att_key, .msg = quote, .msg_len = SGX_SIGNED_LEN, .sig = quote + SGX_SIG_OFF};
    c384 = (struct ecdsa_ctx){.key = vcek_key,
                              .msg = report,
                              .msg_len = SNP_SIGNED_LEN,
                              .sig = report + SNP_R_OFF,
                              .s_le = report + SNP_S_OFF,
                              .le = true};
    if ((rc = ecdsa_check_rejects(&c256)) != VOUCH_OK ||
        (rc = ecdsa_check_rejects(&c384)) != VOUCH_OK)
        goto out;

    if ((rc = measure(ecdsa_op, &c256, p256)) != VOUCH_OK)
        goto out;
    print_common("ecdsa-p256", p256);
    printf(",\"curve\":\"P-256\",\"hash\":\"SHA-256\",\"msg_bytes\":%u}\n", SGX_SIGNED_LEN);
    snprintf(note, sizeof(note), "S1 quote signature");
    table_row("ecdsa-p256", p256, note);

    if ((rc = measure(ecdsa_op, &c384, p384)) != VOUCH_OK)
        goto out;
    print_common("ecdsa-p384", p384);
    printf(",\"curve\":\"P-384\",\"hash\":\"SHA-384\",\"msg_bytes\":%u}\n", SNP_SIGNED_LEN);
    snprintf(note, sizeof(note), "N1 report signature");
    table_row("ecdsa-p384", p384, note);
    fflush(stdout);
    rc = VOUCH_OK;
out:
    vouch_pubkey_free(att_key);
    vouch_pubkey_free(vcek_key);
    vouch_x509_free(vcek);
    vouch_free(quote);
    vouch_free(report);
    vouch_free(vcek_der);
    return rc;
}

VOUCH_NODISCARD static vouch_err bench_dcap(const struct vector *v, const uint8_t *ev,
                                            size_t ev_len, const uint8_t *coll_json,
                                            size_t coll_len, const struct stats *p256)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct verify_ctx ctx = {.v = v, .ev = ev, .ev_len = ev_len};
    struct collateral_ctx cctx = {.json = coll_json, .len = coll_len};
    struct vouch_collateral *coll = NULL;
    struct stats cold, parse, cached;
    double floor_us = DCAP_CACHED_P256 * p256->mean_us;
    char name[32], note[96];

    if ((rc = expected_status(v, &ctx.expected)) != VOUCH_OK)
        goto out;

    ctx.opts = (struct vouch_verify_opts){
        .now = v->now, .collateral = coll_json, .collateral_len = coll_len};
    if ((rc = measure(verify_op, &ctx, &cold)) != VOUCH_OK)
        goto out;
    snprintf(name, sizeof(name), "%s-cold", v->id);
    print_common(name, &cold);
    printf(",\"format\":\"%s\",\"status\":\"%s\",\"limit_us\":%d,\"ratio_vs_limit\":%.3f,"
           "\"limit_ecdsa_p256_us\":%.2f,\"meets_target\":%s}\n",
           vouch_evidence_format_name(ctx.format), v->expected, TARGET_COLD_US,
           cold.mean_us / TARGET_COLD_US, p256->mean_us,
           cold.mean_us <= TARGET_COLD_US ? "true" : "false");
    snprintf(note, sizeof(note), "%s; target <= %d us", v->expected, TARGET_COLD_US);
    table_row(name, &cold, note);

    if ((rc = measure(collateral_op, &cctx, &parse)) != VOUCH_OK)
        goto out;
    snprintf(name, sizeof(name), "%s-collateral", v->id);
    print_common(name, &parse);
    printf(",\"what\":\"vouch_collateral_parse\"}\n");
    table_row(name, &parse, "collateral parse + signature checks");

    if ((rc = vouch_collateral_parse(coll_json, coll_len, &coll)) != VOUCH_OK) {
        fprintf(stderr, "bench_evidence: %s: vouch_collateral_parse: %s\n", v->id,
                vouch_err_name(rc));
        goto out;
    }
    ctx.opts = (struct vouch_verify_opts){.now = v->now, .collateral_obj = coll};
    if ((rc = measure(verify_op, &ctx, &cached)) != VOUCH_OK)
        goto out;
    snprintf(name, sizeof(name), "%s-cached", v->id);
    print_common(name, &cached);
    printf(",\"format\":\"%s\",\"status\":\"%s\",\"limit_ecdsa_us\":%.2f,"
           "\"limit_ecdsa_ops\":%d,\"ratio_vs_ecdsa\":%.3f,\"ratio_vs_ecdsa_p50\":%.3f,"
           "\"target_ratio_vs_ecdsa\":%.1f,\"meets_target\":%s}\n",
           vouch_evidence_format_name(ctx.format), v->expected, floor_us, DCAP_CACHED_P256,
           cached.mean_us / floor_us, cached.p50_us / (DCAP_CACHED_P256 * p256->p50_us),
           TARGET_CACHED_VS_ECDSA,
           cached.mean_us <= TARGET_CACHED_VS_ECDSA * floor_us ? "true" : "false");
    snprintf(note, sizeof(note), "%.2fx of 3 P-256 (target <= %.1fx)", cached.mean_us / floor_us,
             TARGET_CACHED_VS_ECDSA);
    table_row(name, &cached, note);
    fflush(stdout);
    rc = VOUCH_OK;
out:
    vouch_collateral_free(coll);
    return rc;
}

VOUCH_NODISCARD static vouch_err bench_snp(const struct vector *v, const uint8_t *ev, size_t ev_len,
                                           const uint8_t *vcek, size_t vcek_len,
                                           const struct stats *p384)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct verify_ctx ctx = {.v = v, .ev = ev, .ev_len = ev_len};
    struct stats s;
    char name[32], note[96];

    if ((rc = expected_status(v, &ctx.expected)) != VOUCH_OK)
        goto out;
    ctx.opts = (struct vouch_verify_opts){.now = v->now, .vcek = vcek, .vcek_len = vcek_len};
    if ((rc = measure(verify_op, &ctx, &s)) != VOUCH_OK)
        goto out;
    snprintf(name, sizeof(name), "%s-verify", v->id);
    print_common(name, &s);
    printf(",\"format\":\"%s\",\"status\":\"%s\",\"limit_ecdsa_us\":%.2f,\"limit_ecdsa_ops\":1,"
           "\"ratio_vs_ecdsa\":%.3f,\"ratio_vs_ecdsa_p50\":%.3f,\"target_ratio_vs_ecdsa\":%.1f,"
           "\"meets_target\":%s}\n",
           vouch_evidence_format_name(ctx.format), v->expected, p384->mean_us,
           s.mean_us / p384->mean_us, s.p50_us / p384->p50_us, TARGET_SNP_VS_ECDSA,
           s.mean_us <= TARGET_SNP_VS_ECDSA * p384->mean_us ? "true" : "false");
    snprintf(note, sizeof(note), "%.2fx of 1 P-384 (target <= %.1fx)", s.mean_us / p384->mean_us,
             TARGET_SNP_VS_ECDSA);
    table_row(name, &s, note);
    fflush(stdout);
    rc = VOUCH_OK;
out:
    return rc;
}

/* The PCK leaf is the first certificate of the PEM chain that ends S1's quote. */
VOUCH_NODISCARD static vouch_err bench_parsing(const char *dir)
{
    static const char pem_tag[] = "-----BEGIN CERTIFICATE-----";
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *quote = NULL, *coll = NULL;
    size_t quote_len = 0, coll_len = 0, n_certs = 0, off;
    struct vouch_x509 *certs[VOUCH_MAX_CHAIN_DEPTH] = {0};
    struct bytes_ctx leaf, json, att_key;
    struct fresh_keys *fresh = NULL;
    struct stats s;

    if ((rc = read_file(dir, vectors[0].evidence, &quote, &quote_len)) != VOUCH_OK ||
        (rc = read_file(dir, vectors[0].aux, &coll, &coll_len)) != VOUCH_OK)
        goto out;
    for (off = 0; off + sizeof(pem_tag) - 1 <= quote_len; off++) {
        if (memcmp(quote + off, pem_tag, sizeof(pem_tag) - 1) == 0)
            break;
    }
    if (off + sizeof(pem_tag) - 1 > quote_len ||
        (rc = vouch_x509_parse_pem_chain(quote + off, quote_len - off, certs, VOUCH_MAX_CHAIN_DEPTH,
                                         &n_certs)) != VOUCH_OK) {
        fprintf(stderr, "bench_evidence: no PEM chain in S1's quote\n");
        rc = rc == VOUCH_OK ? VOUCH_ERR_PARSE : rc;
        goto out;
    }
    vouch_x509_der(certs[0], &leaf.p, &leaf.len);
    if ((rc = measure(x509_op, &leaf, &s)) != VOUCH_OK)
        goto out;
    print_common("x509-parse", &s);
    printf(",\"what\":\"vouch_x509_parse_der, S1 PCK leaf\",\"der_bytes\":%zu}\n", leaf.len);
    table_row("x509-parse", &s, "one certificate (S1 PCK leaf)");

    att_key = (struct bytes_ctx){.p = quote + SGX_ATT_KEY_OFF, .len = 64};
    if ((rc = measure(ec_key_op, &att_key, &s)) != VOUCH_OK)
        goto out;
    print_common("ec-key-p256", &s);
    printf(",\"what\":\"vouch_pubkey_from_ec_xy, S1 attestation key (cached)\"}\n");
    table_row("ec-key-p256", &s, "P-256 key from raw X||Y, cached");

    if (!(fresh = vouch_calloc(1, sizeof(*fresh)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = fresh_keys_make(fresh)) != VOUCH_OK ||
        (rc = measure(ec_key_fresh_op, fresh, &s)) != VOUCH_OK)
        goto out;
    print_common("ec-key-p256-new", &s);
    printf(",\"what\":\"vouch_pubkey_from_ec_xy, %u distinct keys in turn (cache misses)\"}\n",
           FRESH_KEYS);
    table_row("ec-key-p256-new", &s, "P-256 key from raw X||Y, not cached");

    json = (struct bytes_ctx){.p = coll, .len = coll_len};
    if ((rc = measure(json_op, &json, &s)) != VOUCH_OK)
        goto out;
    print_common("json-parse", &s);
    printf(",\"what\":\"vouch_json_parse, S1 collateral\",\"json_bytes\":%zu}\n", coll_len);
    table_row("json-parse", &s, "S1 collateral JSON (outer object)");
    fflush(stdout);
    rc = VOUCH_OK;
out:
    for (size_t i = 0; i < n_certs; i++)
        vouch_x509_free(certs[i]);
    vouch_free(fresh);
    vouch_free(quote);
    vouch_free(coll);
    return rc;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_evidence [--seconds S] [--all] [--only ID[,ID...]] [DATA_DIR]\n"
            "  --seconds S  measuring time per case (default %.1f)\n"
            "  --all        every vector, not only S1 T1 T3 T4 N1\n"
            "  --only IDS   just these vectors (the ECDSA cases always run)\n",
            DEFAULT_SECONDS);
}

int main(int argc, char **argv)
{
    const char *dir = VOUCH_TESTDATA_DIR, *only = NULL;
    bool all = false;
    struct stats p256, p384;
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *ev = NULL, *aux = NULL;
    size_t ev_len = 0, aux_len = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            seconds_per_case = strtod(argv[++i], &end);
            if (!end || *end || !(seconds_per_case > 0 && seconds_per_case <= 60)) {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else {
            dir = argv[i];
        }
    }

    vouch_log_set_level(VOUCH_LOG_ERROR);
    load_1m = bench_load_1m();
    if (!(samples = vouch_calloc(MAX_SAMPLES, sizeof(*samples)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }

    fprintf(stderr, "evidence verification (data %s, %.1f s per case, load %.2f)\n", dir,
            seconds_per_case, load_1m);
    fprintf(stderr, "%-16s %10s %10s %10s %10s %9s  %s\n", "case", "mean_us", "p50_us", "p99_us",
            "ops/s", "iters", "note");
    if ((rc = bench_ecdsa(dir, &p256, &p384)) != VOUCH_OK || (rc = bench_parsing(dir)) != VOUCH_OK)
        goto out;

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        bool snp = v->id[0] == 'N';

        if (!selected(only, v, all))
            continue;
        if ((rc = read_file(dir, v->evidence, &ev, &ev_len)) != VOUCH_OK ||
            (rc = read_file(dir, v->aux, &aux, &aux_len)) != VOUCH_OK)
            goto out;
        rc = snp ? bench_snp(v, ev, ev_len, aux, aux_len, &p384)
                 : bench_dcap(v, ev, ev_len, aux, aux_len, &p256);
        if (rc != VOUCH_OK)
            goto out;
        vouch_free(ev);
        vouch_free(aux);
        ev = aux = NULL;
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_evidence: FAILED (%s)\n", vouch_err_name(rc));
    vouch_free(ev);
    vouch_free(aux);
    vouch_free(samples);
    return rc == VOUCH_OK ? 0 : 1;
}
