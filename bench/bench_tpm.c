/*
 * TPM quote and event log benchmark (PRODUCT.md §4: "TPM quote + 100-event
 * log >= 10 000/s per core").
 *
 * The 100-event log is the real rhel8-uefi.bin (83 events, banks sha1,
 * sha256 and sha384) followed by 17 of its own GRUB events re-indexed into
 * PCR 12, which none of the quotes covers: the quoted PCRs stay exactly those
 * of the swtpm quotes made over the real machine's values, so the verifier
 * runs its whole path (replay, digest checks, claims) on 100 events and the
 * answer stays "verified". One thread, so every figure is per core.
 *
 *   rsa2048-verify      the RSASSA-SHA256 quote signature alone (the crypto floor)
 *   ecdsa-p256-verify   the ECDSA-SHA256 quote signature alone
 *   ak-parse-rsa        TPM2B_PUBLIC -> AK with its key (once per AK, then cached)
 *   log100-replay       parse the 100-event log and replay its sha256 bank
 *   log100-full         parse, replay, every event's digest check, claims
 *   quote-rsa           vouch_tpm_verify, RSA AK, no log
 *   quote-rsa-log100    vouch_tpm_verify, RSA AK, the 100-event log  (the target)
 *   quote-rsa-log100-all  the same with check_all_digests (every event's digest
 *                       checked against its data, not only those claims read)
 *   quote-ecdsa-log100  vouch_tpm_verify, ECDSA AK, two quoted banks, the log
 *   quote-gce-log       the real GCE COS 85 sha256 quote with its own 45-event log
 *
 * Every call's answer is checked (verified, PCRs equal to the expected
 * values); a wrong answer aborts the run. Before timing, a modified quote must
 * be rejected, so a no-op cannot be timed.
 *
 * stdout: one JSON object per figure; stderr: a table.
 *
 * usage: bench_tpm [--seconds S] [DATA_DIR]
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
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#ifndef VOUCH_TESTDATA_DIR
#define VOUCH_TESTDATA_DIR "../shared/testdata"
#endif

#define MAX_FILE        (1u << 20)
#define MAX_SAMPLES     (1u << 20)
#define MIN_ITERS       20u
#define DEFAULT_SECONDS 1.0

#define TARGET_OPS_PER_S 10000.0 /* quote + 100-event log, per core */
#define LOG_EVENTS       100u
#define PAD_PCR          12u /* outside every quote's selection */

#define SWTPM "tpm/swtpm-replayed-rhel8/"
#define COS   "tpm/quote-gce-cos85-nonce9009/"

struct stats {
    double first_us;
    double mean_us;
    double p50_us;
    double p99_us;
    double min_us;
    double ops_per_s;
    size_t iters;
};

typedef vouch_err (*bench_op_fn)(void *ctx);

struct bytes {
    uint8_t *p;
    size_t len;
};

struct quote_ctx {
    const struct vouch_tpm_ak *ak;
    struct vouch_tpm_evidence ev;
    struct vouch_tpm_verify_opts opts;
    size_t want_events; /* 0: no log */
};

struct sig_ctx {
    const struct vouch_pubkey *key;
    const struct bytes *msg;
    const uint8_t *sig; /* RSA signature, or ECDSA r||s */
    size_t sig_len;
    bool ecdsa;
};

struct log_ctx {
    const struct bytes *log;
    const struct vouch_tpm_pcr_bank *expected; /* sha256 bank of the padded log */
    bool full;
};

static double seconds_per_case = DEFAULT_SECONDS;
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

VOUCH_NODISCARD static vouch_err read_file(const char *dir, const char *rel, struct bytes *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char path[4096];
    FILE *f = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (!(f = fopen(path, "rb"))) {
        fprintf(stderr, "bench_tpm: cannot open %s\n", path);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (!(buf = vouch_malloc(MAX_FILE))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    len = fread(buf, 1, MAX_FILE, f);
    if (ferror(f) || len == 0 || fgetc(f) != EOF) {
        fprintf(stderr, "bench_tpm: cannot read %s (or larger than %u bytes)\n", path, MAX_FILE);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    out->p = buf;
    out->len = len;
    buf = NULL;
    rc = VOUCH_OK;
out:
    if (f)
        fclose(f);
    vouch_free(buf);
    return rc;
}

static void bytes_free(struct bytes *b)
{
    vouch_free(b->p);
    memset(b, 0, sizeof(*b));
}

static void print_common(const char *name, const struct stats *s)
{
    printf("{\"bench\":\"tpm\",\"case\":\"%s\",\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
           "\"min_us\":%.2f,\"first_call_us\":%.2f,\"ops_per_s\":%.1f,\"iters\":%zu",
           name, s->mean_us, s->p50_us, s->p99_us, s->min_us, s->first_us, s->ops_per_s, s->iters);
    if (load_1m >= 0)
        printf(",\"load_1m\":%.2f", load_1m);
}

static void table_row(const char *name, const struct stats *s, const char *note)
{
    fprintf(stderr, "%-20s %9.1f %9.1f %9.1f %10.0f %9zu  %s\n", name, s->mean_us, s->p50_us,
            s->p99_us, s->ops_per_s, s->iters, note);
}

/* ---- operations: each checks its answer ---- */

VOUCH_NODISCARD static vouch_err quote_op(void *arg)
{
    struct quote_ctx *c = arg;
    struct vouch_tpm_verify_result res;
    vouch_err rc = vouch_tpm_verify(c->ak, &c->ev, &c->opts, &res);

    if (rc != VOUCH_OK || !res.verified || res.log_events != c->want_events) {
        fprintf(stderr, "bench_tpm: wrong answer: %s (%s), %zu log events\n", vouch_err_name(rc),
                res.error_detail, res.log_events);
        rc = rc == VOUCH_OK ? VOUCH_ERR_VERIFY : rc;
    }
    vouch_tpm_verify_result_free(&res);
    return rc;
}

VOUCH_NODISCARD static vouch_err sig_op(void *arg)
{
    struct sig_ctx *c = arg;
    vouch_err rc = c->ecdsa ? vouch_ecdsa_verify_raw(c->key, VOUCH_HASH_SHA256, c->msg->p,
                                                     c->msg->len, c->sig, c->sig_len)
                            : vouch_rsa_verify(c->key, VOUCH_HASH_SHA256, VOUCH_RSA_PKCS1,
                                               c->msg->p, c->msg->len, c->sig, c->sig_len);

    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_tpm: signature check failed: %s\n", vouch_err_name(rc));
    return rc;
}

VOUCH_NODISCARD static vouch_err ak_op(void *arg)
{
    const struct bytes *b = arg;
    struct vouch_tpm_ak *ak = NULL;
    vouch_err rc = vouch_tpm_ak_parse(b->p, b->len, &ak);

    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_tpm: vouch_tpm_ak_parse: %s\n", vouch_err_name(rc));
    vouch_tpm_ak_free(ak);
    return rc;
}

VOUCH_NODISCARD static vouch_err log_op(void *arg)
{
    struct log_ctx *c = arg;
    struct vouch_tpm_log log;
    struct vouch_tpm_pcr_bank bank;
    json_t *claims = NULL;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if ((rc = vouch_tpm_log_parse(c->log->p, c->log->len, &log)) != VOUCH_OK ||
        (rc = vouch_tpm_log_replay(&log, VOUCH_TPM_ALG_SHA256, &bank)) != VOUCH_OK)
        goto out;
    if (log.n_events != LOG_EVENTS || bank.mask != c->expected->mask ||
        memcmp(bank.values, c->expected->values, sizeof(bank.values)) != 0) {
        fprintf(stderr, "bench_tpm: the replay gave other PCR values\n");
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    if (c->full) {
        if (!(claims = json_object())) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        if ((rc = vouch_tpm_log_check_digests(&log, VOUCH_TPM_ALG_SHA256)) != VOUCH_OK ||
            (rc = vouch_tpm_log_claims(&log, VOUCH_TPM_ALG_SHA256, bank.mask, claims)) != VOUCH_OK)
            goto out;
        if (!json_is_true(json_object_get(claims, "secureBootEnabled"))) {
            fprintf(stderr, "bench_tpm: secureBootEnabled missing from the claims\n");
            rc = VOUCH_ERR_VERIFY;
            goto out;
        }
    }
    rc = VOUCH_OK;
out:
    json_decref(claims);
    vouch_tpm_log_free(&log);
    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_tpm: log: %s\n", vouch_err_name(rc));
    return rc;
}

/* ---- setup ---- */

/* rhel8-uefi.bin plus 17 of its own GRUB records moved to PCR 12. */
VOUCH_NODISCARD static vouch_err build_log100(const struct bytes *rhel8, struct bytes *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tpm_log log;
    size_t need, added = 0;

    memset(out, 0, sizeof(*out));
    if ((rc = vouch_tpm_log_parse(rhel8->p, rhel8->len, &log)) != VOUCH_OK)
        goto out;
    need = LOG_EVENTS - log.n_events;
    if (log.n_events > LOG_EVENTS || !(out->p = vouch_malloc(2 * rhel8->len))) {
        rc = log.n_events > LOG_EVENTS ? VOUCH_ERR_INTERNAL : VOUCH_ERR_NOMEM;
        goto out;
    }
    memcpy(out->p, rhel8->p, rhel8->len);
    out->len = rhel8->len;
    for (size_t e = 0; e + 1 < log.n_events && added < need; e++) {
        const struct vouch_tpm_event *ev = &log.events[e];
        size_t start = ev->offset, end = log.events[e + 1].offset;

        if (ev->type != VOUCH_TPM_EV_IPL || ev->pcr != 8)
            continue;
        memcpy(out->p + out->len, rhel8->p + start, end - start);
        out->p[out->len] = PAD_PCR; /* pcrIndex, little-endian */
        out->len += end - start;
        added++;
    }
    rc = added == need ? VOUCH_OK : VOUCH_ERR_INTERNAL;
out:
    vouch_tpm_log_free(&log);
    if (rc != VOUCH_OK)
        bytes_free(out);
    return rc;
}

VOUCH_NODISCARD static vouch_err nonce_from_file(const char *dir, uint8_t *out, size_t *len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct bytes b;
    size_t n;

    if ((rc = read_file(dir, SWTPM "nonce.hex", &b)) != VOUCH_OK)
        goto out;
    n = b.len;
    while (n > 0 && (b.p[n - 1] == '\n' || b.p[n - 1] == '\r'))
        n--;
    rc = vouch_hex_decode((const char *)b.p, n, out, VOUCH_MAX_TPM_NONCE, len);
out:
    bytes_free(&b);
    return rc;
}

VOUCH_NODISCARD static vouch_err read_pcrs(const char *dir, const char *rel,
                                           struct vouch_tpm_pcrs *pcrs)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct bytes b;

    if ((rc = read_file(dir, rel, &b)) != VOUCH_OK)
        goto out;
    rc = vouch_tpm_pcrs_parse(b.p, b.len, pcrs);
out:
    bytes_free(&b);
    return rc;
}

/* A timed verify must also be one that rejects. */
VOUCH_NODISCARD static vouch_err check_rejects(struct quote_ctx *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tpm_verify_result res;
    struct quote_ctx bad = *c;
    uint8_t *copy = vouch_memdup(c->ev.quote, c->ev.quote_len);

    if (!copy)
        return VOUCH_ERR_NOMEM;
    copy[c->ev.quote_len - 1] ^= 0x01;
    bad.ev.quote = copy;
    rc = vouch_tpm_verify(bad.ak, &bad.ev, &bad.opts, &res);
    vouch_tpm_verify_result_free(&res);
    vouch_free(copy);
    if (rc == VOUCH_OK) {
        fprintf(stderr, "bench_tpm: a modified quote verified\n");
        return VOUCH_ERR_VERIFY;
    }
    return VOUCH_OK;
}

struct inputs {
    struct bytes rsa_ak, ecc_ak, cos_ak, rsa_q, rsa_s, ecc_q, ecc_s, cos_q, cos_s, cos_log, rhel8,
        log100;
    struct vouch_tpm_pcrs pcrs256, pcrs_both, pcrs_cos;
    uint8_t nonce[VOUCH_MAX_TPM_NONCE];
    size_t nonce_len;
    struct vouch_tpm_ak *rsa, *ecc, *cos;
    struct vouch_pubkey *rsa_key, *ecc_key;
};

VOUCH_NODISCARD static vouch_err load_inputs(const char *dir, struct inputs *in)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch_tpm_public *pub;
    uint8_t e[4];
    uint8_t xy[64];

    if ((rc = read_file(dir, SWTPM "ak_rsa.tpm2b_public", &in->rsa_ak)) != VOUCH_OK ||
        (rc = read_file(dir, SWTPM "ak_ecc.tpm2b_public", &in->ecc_ak)) != VOUCH_OK ||
        (rc = read_file(dir, COS "ak_pub.tpmt_public", &in->cos_ak)) != VOUCH_OK ||
        (rc = read_file(dir, SWTPM "quote_rsa_sha256.tpms_attest", &in->rsa_q)) != VOUCH_OK ||
        (rc = read_file(dir, SWTPM "quote_rsa_sha256.tpmt_signature", &in->rsa_s)) != VOUCH_OK ||
        (rc = read_file(dir, SWTPM "quote_ecc_sha256_sha1.tpms_attest", &in->ecc_q)) != VOUCH_OK ||
        (rc = read_file(dir, SWTPM "quote_ecc_sha256_sha1.tpmt_signature", &in->ecc_s)) !=
            VOUCH_OK ||
        (rc = read_file(dir, COS "quote_sha256.tpms_attest", &in->cos_q)) != VOUCH_OK ||
        (rc = read_file(dir, COS "quote_sha256.tpmt_signature", &in->cos_s)) != VOUCH_OK ||
        (rc = read_file(dir, COS "eventlog.bin", &in->cos_log)) != VOUCH_OK ||
        (rc = read_file(dir, "tpm/eventlogs/rhel8-uefi.bin", &in->rhel8)) != VOUCH_OK ||
        (rc = build_log100(&in->rhel8, &in->log100)) != VOUCH_OK ||
        (rc = read_pcrs(dir, SWTPM "pcrs_sha256.txt", &in->pcrs256)) != VOUCH_OK ||
        (rc = read_pcrs(dir, SWTPM "pcrs_sha256.txt", &in->pcrs_both)) != VOUCH_OK ||
        (rc = read_pcrs(dir, SWTPM "pcrs_sha1.txt", &in->pcrs_both)) != VOUCH_OK ||
        (rc = read_pcrs(dir, COS "pcrs_sha256.txt", &in->pcrs_cos)) != VOUCH_OK ||
        (rc = nonce_from_file(dir, in->nonce, &in->nonce_len)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_tpm_ak_parse(in->rsa_ak.p, in->rsa_ak.len, &in->rsa)) != VOUCH_OK ||
        (rc = vouch_tpm_ak_parse(in->ecc_ak.p, in->ecc_ak.len, &in->ecc)) != VOUCH_OK ||
        (rc = vouch_tpm_ak_parse(in->cos_ak.p, in->cos_ak.len, &in->cos)) != VOUCH_OK)
        goto out;
    /* The bare keys, for the crypto floor. */
    pub = vouch_tpm_ak_public(in->rsa);
    e[0] = (uint8_t)(pub->rsa_exponent >> 24);
    e[1] = (uint8_t)(pub->rsa_exponent >> 16);
    e[2] = (uint8_t)(pub->rsa_exponent >> 8);
    e[3] = (uint8_t)pub->rsa_exponent;
    if ((rc = vouch_pubkey_from_rsa_ne(pub->rsa_n, pub->rsa_n_len, e, sizeof(e), &in->rsa_key)) !=
        VOUCH_OK)
        goto out;
    pub = vouch_tpm_ak_public(in->ecc);
    if (pub->ecc_x_len != 32 || pub->ecc_y_len != 32) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    memcpy(xy, pub->ecc_x, 32);
    memcpy(xy + 32, pub->ecc_y, 32);
    rc = vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, xy, sizeof(xy), &in->ecc_key);
out:
    return rc;
}

static void free_inputs(struct inputs *in)
{
    struct bytes *all[] = {&in->rsa_ak, &in->ecc_ak,  &in->cos_ak, &in->rsa_q,
                           &in->rsa_s,  &in->ecc_q,   &in->ecc_s,  &in->cos_q,
                           &in->cos_s,  &in->cos_log, &in->rhel8,  &in->log100};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        bytes_free(all[i]);
    vouch_tpm_ak_free(in->rsa);
    vouch_tpm_ak_free(in->ecc);
    vouch_tpm_ak_free(in->cos);
    vouch_pubkey_free(in->rsa_key);
    vouch_pubkey_free(in->ecc_key);
}

/* The raw signature bytes inside a TPMT_SIGNATURE. */
VOUCH_NODISCARD static vouch_err raw_sig(const struct bytes *b, struct vouch_tpm_signature *s,
                                         uint8_t *rs)
{
    vouch_err rc = vouch_tpm_signature_parse(b->p, b->len, s);

    if (rc == VOUCH_OK && s->sig_alg == VOUCH_TPM_ALG_ECDSA) {
        if (s->r_len != 32 || s->s_len != 32)
            return VOUCH_ERR_UNSUPPORTED;
        memcpy(rs, s->r, 32);
        memcpy(rs + 32, s->s, 32);
    }
    return rc;
}

VOUCH_NODISCARD static vouch_err run_quote_case(const char *name, struct quote_ctx *c,
                                                const struct stats *floor, bool target,
                                                struct stats *s)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char note[128];

    if ((rc = check_rejects(c)) != VOUCH_OK || (rc = measure(quote_op, c, s)) != VOUCH_OK)
        goto out;
    print_common(name, s);
    printf(",\"log_events\":%zu,\"limit_sig_verify_us\":%.2f,\"ratio_vs_sig_verify\":%.3f",
           c->want_events, floor->mean_us, s->mean_us / floor->mean_us);
    if (target)
        printf(",\"target_ops_per_s\":%.0f,\"ratio_vs_target\":%.3f,\"meets_target\":%s",
               TARGET_OPS_PER_S, s->ops_per_s / TARGET_OPS_PER_S,
               s->ops_per_s >= TARGET_OPS_PER_S ? "true" : "false");
    printf("}\n");
    snprintf(note, sizeof(note), "%.2fx the signature verify%s", s->mean_us / floor->mean_us,
             target ? (s->ops_per_s >= TARGET_OPS_PER_S ? "; target >= 10000/s: met"
                                                        : "; target >= 10000/s: MISSED")
                    : "");
    table_row(name, s, note);
    fflush(stdout);
    rc = VOUCH_OK;
out:
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_tpm [--seconds S] [DATA_DIR]\n");
}

int main(int argc, char **argv)
{
    const char *dir = VOUCH_TESTDATA_DIR;
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct inputs *in = NULL;
    struct vouch_tpm_log log;
    struct vouch_tpm_pcr_bank *expected = NULL;
    struct vouch_tpm_signature rsa_sig, ecc_sig;
    uint8_t ecc_rs[64];
    struct stats rsa_v, ecc_v, s;
    struct sig_ctx sc;
    struct log_ctx lc;
    struct quote_ctx qc;

    memset(&log, 0, sizeof(log));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            seconds_per_case = strtod(argv[++i], &end);
            if (!end || *end || !(seconds_per_case > 0 && seconds_per_case <= 60)) {
                usage();
                return 2;
            }
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else {
            dir = argv[i];
        }
    }
    vouch_log_set_level(VOUCH_LOG_ERROR);
    load_1m = bench_load_1m();
    if (!(samples = vouch_calloc(MAX_SAMPLES, sizeof(*samples))) ||
        !(in = vouch_calloc(1, sizeof(*in))) || !(expected = vouch_calloc(1, sizeof(*expected)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = load_inputs(dir, in)) != VOUCH_OK) {
        fprintf(stderr, "bench_tpm: cannot load the vectors: %s\n", vouch_err_name(rc));
        goto out;
    }
    /* The padded log must still replay to the swtpm quote's PCR values. */
    if ((rc = vouch_tpm_log_parse(in->log100.p, in->log100.len, &log)) != VOUCH_OK ||
        (rc = vouch_tpm_log_replay(&log, VOUCH_TPM_ALG_SHA256, expected)) != VOUCH_OK)
        goto out;
    if (log.n_events != LOG_EVENTS) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }

    fprintf(stderr, "TPM quote verification (data %s, %.1f s per case, load %.2f, 1 thread)\n", dir,
            seconds_per_case, load_1m);
    fprintf(stderr, "%-20s %9s %9s %9s %10s %9s  %s\n", "case", "mean_us", "p50_us", "p99_us",
            "ops/s", "iters", "note");

    if ((rc = raw_sig(&in->rsa_s, &rsa_sig, ecc_rs)) != VOUCH_OK ||
        (rc = raw_sig(&in->ecc_s, &ecc_sig, ecc_rs)) != VOUCH_OK)
        goto out;
    sc = (struct sig_ctx){
        .key = in->rsa_key, .msg = &in->rsa_q, .sig = rsa_sig.sig, .sig_len = rsa_sig.sig_len};
    if ((rc = measure(sig_op, &sc, &rsa_v)) != VOUCH_OK)
        goto out;
    print_common("rsa2048-verify", &rsa_v);
    printf(",\"what\":\"RSASSA-PKCS1-v1_5 SHA-256 over the %zu-byte quote\"}\n", in->rsa_q.len);
    table_row("rsa2048-verify", &rsa_v, "quote signature alone (crypto floor)");
    sc = (struct sig_ctx){
        .key = in->ecc_key, .msg = &in->ecc_q, .sig = ecc_rs, .sig_len = 64, .ecdsa = true};
    if ((rc = measure(sig_op, &sc, &ecc_v)) != VOUCH_OK)
        goto out;
    print_common("ecdsa-p256-verify", &ecc_v);
    printf(",\"what\":\"ECDSA P-256 SHA-256 over the %zu-byte quote\"}\n", in->ecc_q.len);
    table_row("ecdsa-p256-verify", &ecc_v, "quote signature alone (crypto floor)");

    if ((rc = measure(ak_op, &in->rsa_ak, &s)) != VOUCH_OK)
        goto out;
    print_common("ak-parse-rsa", &s);
    printf(",\"what\":\"vouch_tpm_ak_parse, TPM2B_PUBLIC RSA-2048\"}\n");
    table_row("ak-parse-rsa", &s, "once per AK, then cached");

    lc = (struct log_ctx){.log = &in->log100, .expected = expected};
    if ((rc = measure(log_op, &lc, &s)) != VOUCH_OK)
        goto out;
    print_common("log100-replay", &s);
    printf(",\"log_events\":%u,\"log_bytes\":%zu,\"per_event_us\":%.3f}\n", LOG_EVENTS,
           in->log100.len, s.mean_us / LOG_EVENTS);
    table_row("log100-replay", &s, "parse + sha256 replay");
    lc.full = true;
    if ((rc = measure(log_op, &lc, &s)) != VOUCH_OK)
        goto out;
    print_common("log100-full", &s);
    printf(",\"log_events\":%u,\"log_bytes\":%zu,\"per_event_us\":%.3f}\n", LOG_EVENTS,
           in->log100.len, s.mean_us / LOG_EVENTS);
    table_row("log100-full", &s, "+ per-event digest checks and claims");

    qc = (struct quote_ctx){.ak = in->rsa,
                            .ev = {.quote = in->rsa_q.p,
                                   .quote_len = in->rsa_q.len,
                                   .sig = in->rsa_s.p,
                                   .sig_len = in->rsa_s.len,
                                   .pcrs = &in->pcrs256},
                            .opts = {.nonce = in->nonce, .nonce_len = in->nonce_len}};
    if ((rc = run_quote_case("quote-rsa", &qc, &rsa_v, false, &s)) != VOUCH_OK)
        goto out;
    qc.ev.log = in->log100.p;
    qc.ev.log_len = in->log100.len;
    qc.want_events = LOG_EVENTS;
    if ((rc = run_quote_case("quote-rsa-log100", &qc, &rsa_v, true, &s)) != VOUCH_OK)
        goto out;
    qc.opts.check_all_digests = true;
    if ((rc = run_quote_case("quote-rsa-log100-all", &qc, &rsa_v, false, &s)) != VOUCH_OK)
        goto out;
    qc = (struct quote_ctx){.ak = in->ecc,
                            .ev = {.quote = in->ecc_q.p,
                                   .quote_len = in->ecc_q.len,
                                   .sig = in->ecc_s.p,
                                   .sig_len = in->ecc_s.len,
                                   .pcrs = &in->pcrs_both,
                                   .log = in->log100.p,
                                   .log_len = in->log100.len},
                            .opts = {.nonce = in->nonce, .nonce_len = in->nonce_len},
                            .want_events = LOG_EVENTS};
    if ((rc = run_quote_case("quote-ecdsa-log100", &qc, &ecc_v, false, &s)) != VOUCH_OK)
        goto out;
    qc = (struct quote_ctx){.ak = in->cos,
                            .ev = {.quote = in->cos_q.p,
                                   .quote_len = in->cos_q.len,
                                   .sig = in->cos_s.p,
                                   .sig_len = in->cos_s.len,
                                   .pcrs = &in->pcrs_cos,
                                   .log = in->cos_log.p,
                                   .log_len = in->cos_log.len},
                            .opts = {.nonce = (const uint8_t *)"\x90\x09", .nonce_len = 2},
                            .want_events = 45};
    if ((rc = run_quote_case("quote-gce-log", &qc, &rsa_v, false, &s)) != VOUCH_OK)
        goto out;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_tpm: FAILED (%s)\n", vouch_err_name(rc));
    vouch_tpm_log_free(&log);
    if (in)
        free_inputs(in);
    vouch_free(in);
    vouch_free(expected);
    vouch_free(samples);
    return rc == VOUCH_OK ? 0 : 1;
}
