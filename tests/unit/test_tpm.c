/*
 * TPM 2.0: event log parsing and replay against the published PCR values of
 * six real logs, quote verification of the seven real quote vectors (Windows
 * on GCE, three GCE COS 85 banks, three swtpm keys), byte-flip and truncation
 * rejection, size limits, per-event digest checks and the boot claims.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#define LOGS    "tpm/eventlogs/"
#define WIN     "tpm/quote-windows-gcp-sha1/"
#define COS     "tpm/quote-gce-cos85-nonce9009/"
#define SWTPM   "tpm/swtpm-replayed-rhel8/"
#define SHA1    VOUCH_TPM_ALG_SHA1
#define SHA256  VOUCH_TPM_ALG_SHA256
#define SHA384  VOUCH_TPM_ALG_SHA384
#define EV_NO_A VOUCH_TPM_EV_NO_ACTION

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

static void hex_to(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    assert_int_equal(vouch_hex_decode(hex, strlen(hex), out, cap, len), VOUCH_OK);
}

/* Counts the non-empty lines of a text vector, to check the parser read all. */
static size_t count_lines(const struct vec *v)
{
    size_t n = 0;
    bool content = false;

    for (size_t i = 0; i < v->len; i++) {
        if (v->p[i] == '\n') {
            n += content;
            content = false;
        } else if (v->p[i] != ' ' && v->p[i] != '\r') {
            content = true;
        }
    }
    return n + content;
}

static size_t count_pcrs(const struct vouch_tpm_pcrs *pcrs)
{
    size_t n = 0;

    for (size_t b = 0; b < pcrs->n_banks; b++)
        n += (size_t)__builtin_popcount(pcrs->banks[b].mask);
    return n;
}

/* ---------------- event logs ---------------- */

static const char *const real_logs[] = {"rhel8-uefi", "glinux-alex", "arch-linux-workstation",
                                        "debian-10", "gdc-host"};

static void test_replay_matches_expected(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(real_logs) / sizeof(real_logs[0]); i++) {
        char path[256];
        struct vec bin, exp;
        struct vouch_tpm_pcrs expected;
        struct vouch_tpm_log log;
        struct vouch_tpm_pcr_bank replayed;

        snprintf(path, sizeof(path), LOGS "%s.bin", real_logs[i]);
        bin = load(path);
        snprintf(path, sizeof(path), LOGS "%s.expected_pcrs.txt", real_logs[i]);
        exp = load(path);
        memset(&expected, 0, sizeof(expected));
        assert_int_equal(vouch_tpm_pcrs_parse(exp.p, exp.len, &expected), VOUCH_OK);
        assert_int_equal(count_pcrs(&expected), count_lines(&exp));
        assert_int_equal(vouch_tpm_log_parse(bin.p, bin.len, &log), VOUCH_OK);
        /* Every bank of the log has expected values, and the reverse. */
        assert_int_equal(log.n_algs, expected.n_banks);
        for (size_t b = 0; b < expected.n_banks; b++) {
            const struct vouch_tpm_pcr_bank *want = &expected.banks[b];
            size_t dlen = vouch_tpm_digest_len(want->alg);

            assert_true(vouch_tpm_log_has_bank(&log, want->alg));
            assert_int_equal(vouch_tpm_log_replay(&log, want->alg, &replayed), VOUCH_OK);
            /* Exactly the PCRs the log extends are listed. */
            assert_int_equal(replayed.mask, want->mask);
            for (unsigned p = 0; p < VOUCH_TPM_NUM_PCRS; p++) {
                if (want->mask & (1u << p))
                    assert_memory_equal(replayed.values[p], want->values[p], dlen);
            }
        }
        vouch_tpm_log_free(&log);
        free(bin.p);
        free(exp.p);
    }
}

/* Replaying the same log while ignoring its StartupLocality event gives the
 * wrong values the README warns about; the real replay does not. */
static void test_startup_locality(void **state)
{
    static const struct {
        const char *log;
        uint16_t alg;
        const char *wrong_prefix; /* README: ignoring StartupLocality */
        const char *wrong_suffix;
    } cases[] = {
        {"glinux-alex", SHA1, "be565bce1288970240981bfc1a85dcaf68a14788", ""},
        {"glinux-alex", SHA256, "ec4577c7", "8e"},
        {"gdc-host", SHA256, "bdb29e0b", "be"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256], hex[2 * VOUCH_TPM_MAX_DIGEST + 1];
        struct vec bin;
        struct vouch_tpm_log log;
        struct vouch_tpm_pcr_bank b;
        size_t dlen = vouch_tpm_digest_len(cases[i].alg);
        size_t sl = strlen(cases[i].wrong_suffix);

        snprintf(path, sizeof(path), LOGS "%s.bin", cases[i].log);
        bin = load(path);
        assert_int_equal(vouch_tpm_log_parse(bin.p, bin.len, &log), VOUCH_OK);
        assert_int_equal(log.startup_locality, 3);
        assert_int_equal(vouch_tpm_log_replay(&log, cases[i].alg, &b), VOUCH_OK);
        vouch_hex_encode(b.values[0], dlen, hex);
        assert_false(strncmp(hex, cases[i].wrong_prefix, strlen(cases[i].wrong_prefix)) == 0 &&
                     strcmp(hex + 2 * dlen - sl, cases[i].wrong_suffix) == 0);
        /* The wrong algorithm reproduces the wrong value, so the vector does
         * discriminate. */
        log.startup_locality = -1;
        assert_int_equal(vouch_tpm_log_replay(&log, cases[i].alg, &b), VOUCH_OK);
        vouch_hex_encode(b.values[0], dlen, hex);
        assert_true(strncmp(hex, cases[i].wrong_prefix, strlen(cases[i].wrong_prefix)) == 0);
        assert_string_equal(hex + 2 * dlen - sl, cases[i].wrong_suffix);
        vouch_tpm_log_free(&log);
        free(bin.p);
    }
}

/* Extending the StartupLocality event's zero digest (tpm2_eventlog 5.4) gives
 * sha1 faf6e04e... on glinux-alex; EV_NO_ACTION must never be extended. */
static void test_no_action_not_extended(void **state)
{
    uint8_t zero[20] = {0}, pcr0[20] = {0}, tmp[40], wrong[20];
    char hex[41];
    struct vec bin = load(LOGS "glinux-alex.bin");
    struct vouch_tpm_log log;
    struct vouch_tpm_pcr_bank b;

    (void)state;
    assert_int_equal(vouch_tpm_log_parse(bin.p, bin.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_replay(&log, SHA1, &b), VOUCH_OK);
    /* Recompute the buggy value: PCR0 from 0, extend the zero digest, then
     * every PCR0 event. */
    memcpy(tmp, pcr0, 20);
    memcpy(tmp + 20, zero, 20);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, tmp, 40, pcr0), VOUCH_OK);
    for (size_t e = 0; e < log.n_events; e++) {
        const struct vouch_tpm_event *ev = &log.events[e];
        if (ev->type == EV_NO_A || ev->pcr != 0)
            continue;
        memcpy(tmp, pcr0, 20);
        memcpy(tmp + 20, ev->digests[0].alg == SHA1 ? ev->digests[0].p : ev->digests[1].p, 20);
        assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, tmp, 40, pcr0), VOUCH_OK);
    }
    memcpy(wrong, pcr0, 20);
    vouch_hex_encode(wrong, 20, hex);
    assert_string_equal(hex, "faf6e04e58687bbedd28cb902b3516b0cf4b79dd");
    assert_memory_not_equal(b.values[0], wrong, 20);
    vouch_tpm_log_free(&log);
    free(bin.p);
}

static void test_short_no_action(void **state)
{
    struct vec bin = load(LOGS "short_no_action_eventlog.bin");
    struct vouch_tpm_log log;
    struct vouch_tpm_pcr_bank b;
    json_t *events = NULL;

    (void)state;
    assert_int_equal(bin.len, 49);
    assert_int_equal(vouch_tpm_log_parse(bin.p, bin.len, &log), VOUCH_OK);
    assert_int_equal(log.format, VOUCH_TPM_LOG_SHA1);
    assert_int_equal(log.n_events, 1);
    assert_int_equal(log.startup_locality, 3);
    assert_int_equal(vouch_tpm_log_replay(&log, SHA1, &b), VOUCH_OK);
    assert_int_equal(b.mask, 0);
    assert_false(vouch_tpm_log_has_bank(&log, SHA256));
    assert_int_equal(vouch_tpm_log_replay(&log, SHA256, &b), VOUCH_ERR_NOT_FOUND);
    assert_int_equal(vouch_tpm_log_events_json(&log, &events), VOUCH_OK);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(events, 0), "startup_locality")), 3);
    json_decref(events);
    vouch_tpm_log_free(&log);
    free(bin.p);
}

static void test_formats(void **state)
{
    struct vec rhel = load(LOGS "rhel8-uefi.bin");
    struct vec deb = load(LOGS "debian-10.bin");
    struct vec gdc = load(LOGS "gdc-host.bin");
    struct vouch_tpm_log log;

    (void)state;
    assert_int_equal(vouch_tpm_log_parse(rhel.p, rhel.len, &log), VOUCH_OK);
    assert_int_equal(log.format, VOUCH_TPM_LOG_CRYPTO_AGILE);
    assert_int_equal(log.n_events, 83);
    assert_int_equal(log.n_algs, 3);
    assert_int_equal(log.algs[0], SHA1);
    assert_int_equal(log.alg_sizes[2], 48);
    assert_int_equal(log.startup_locality, -1);
    vouch_tpm_log_free(&log);
    assert_int_equal(vouch_tpm_log_parse(deb.p, deb.len, &log), VOUCH_OK);
    assert_int_equal(log.format, VOUCH_TPM_LOG_SHA1);
    assert_int_equal(log.n_events, 25);
    vouch_tpm_log_free(&log);
    assert_int_equal(vouch_tpm_log_parse(gdc.p, gdc.len, &log), VOUCH_OK);
    assert_int_equal(log.n_algs, 1);
    assert_int_equal(log.algs[0], SHA256);
    assert_int_equal(log.n_events, 159);
    vouch_tpm_log_free(&log);
    free(rhel.p);
    free(deb.p);
    free(gdc.p);
}

/* ---- hand-built logs for the limits ---- */

struct lb {
    uint8_t *p;
    size_t len;
    size_t cap;
};

static void lb_put(struct lb *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void lb_u8(struct lb *b, uint8_t v)
{
    lb_put(b, &v, 1);
}

static void lb_u16(struct lb *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    lb_put(b, x, 2);
}

static void lb_u32(struct lb *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    lb_put(b, x, 4);
}

static void lb_legacy(struct lb *b, uint32_t pcr, uint32_t type, const void *data, uint32_t len)
{
    uint8_t digest[20];

    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, data ? data : "", len, digest), VOUCH_OK);
    lb_u32(b, pcr);
    lb_u32(b, type);
    lb_put(b, digest, 20);
    lb_u32(b, len);
    if (len)
        lb_put(b, data, len);
}

/* Spec ID header listing @p n banks (alg, size pairs). */
static void lb_spec_id(struct lb *b, const uint16_t *algs, const uint16_t *sizes, uint32_t n,
                       uint8_t major, uint32_t trailing)
{
    struct lb s = {0};
    uint8_t zero[20] = {0};

    lb_put(&s, "Spec ID Event03", 16);
    lb_u32(&s, 0);
    lb_u8(&s, 0);
    lb_u8(&s, major);
    lb_u8(&s, 0);
    lb_u8(&s, 2);
    lb_u32(&s, n);
    for (uint32_t i = 0; i < n; i++) {
        lb_u16(&s, algs[i]);
        lb_u16(&s, sizes[i]);
    }
    lb_u8(&s, 0);
    for (uint32_t i = 0; i < trailing; i++)
        lb_u8(&s, 0);
    lb_u32(b, 0);
    lb_u32(b, EV_NO_A);
    lb_put(b, zero, 20);
    lb_u32(b, (uint32_t)s.len);
    lb_put(b, s.p, s.len);
    free(s.p);
}

/* A TCG_PCR_EVENT2 with digests of @p n algorithms (sizes by algorithm). */
static void lb_agile(struct lb *b, uint32_t pcr, uint32_t type, uint32_t count,
                     const uint16_t *algs, uint32_t n, const void *data, uint32_t len)
{
    uint8_t d[64];

    lb_u32(b, pcr);
    lb_u32(b, type);
    lb_u32(b, count);
    for (uint32_t i = 0; i < n; i++) {
        size_t dl = vouch_tpm_digest_len(algs[i]);
        memset(d, 0x5a, sizeof(d));
        lb_u16(b, algs[i]);
        lb_put(b, d, dl ? dl : 20);
    }
    lb_u32(b, len);
    if (len)
        lb_put(b, data, len);
}

static vouch_err parse_lb(struct lb *b)
{
    struct vouch_tpm_log log;
    /* Copy to an exact-size allocation so ASan sees any over-read. */
    uint8_t *exact = malloc(b->len ? b->len : 1);
    vouch_err rc;

    assert_non_null(exact);
    if (b->len)
        memcpy(exact, b->p, b->len);
    rc = vouch_tpm_log_parse(exact, b->len, &log);
    if (rc != VOUCH_OK) {
        assert_int_equal(log.n_events, 0);
        assert_null(log.events);
    }
    vouch_tpm_log_free(&log);
    free(exact);
    free(b->p);
    memset(b, 0, sizeof(*b));
    return rc;
}

static void test_log_limits(void **state)
{
    static const uint16_t two[] = {SHA1, SHA256};
    static const uint16_t two_sizes[] = {20, 32};
    static const uint16_t dup[] = {SHA256, SHA256};
    static const uint16_t nine[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const uint16_t nine_sizes[] = {20, 20, 20, 20, 20, 20, 20, 20, 20};
    static const uint16_t wrong_size[] = {20, 20};
    uint8_t loc[17] = "StartupLocality";
    uint8_t sep[4] = {0};
    struct lb b = {0};

    (void)state;
    /* A well-formed two-bank log parses. */
    lb_spec_id(&b, two, two_sizes, 2, 2, 0);
    lb_agile(&b, 0, 4, 2, two, 2, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_OK);
    /* Empty input. */
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    /* eventSize of ~3.18 GB (go-attestation's regression case). */
    lb_u32(&b, 0);
    lb_u32(&b, 4);
    lb_put(&b, sep, 4);
    lb_put(&b, sep, 4);
    lb_put(&b, sep, 4);
    lb_put(&b, sep, 4);
    lb_put(&b, sep, 4);
    lb_u32(&b, 0xbd9f0000u);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_TOO_LARGE);
    /* eventSize past the end. */
    lb_legacy(&b, 0, 4, sep, 4);
    b.p[28] = 5;
    assert_int_equal(parse_lb(&b), VOUCH_ERR_TRUNCATED);
    /* More digests than banks. */
    lb_spec_id(&b, two, two_sizes, 2, 2, 0);
    lb_agile(&b, 0, 4, 3, two, 2, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    /* A digest of an algorithm not in the table. */
    lb_spec_id(&b, two, two_sizes, 1, 2, 0);
    lb_agile(&b, 0, 4, 1, two + 1, 1, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    /* The same algorithm twice in one event. */
    lb_spec_id(&b, two, two_sizes, 2, 2, 0);
    lb_agile(&b, 0, 4, 2, dup, 2, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    /* Spec ID: no algorithms, too many, duplicates, wrong size, wrong major,
     * trailing bytes. */
    lb_spec_id(&b, two, two_sizes, 0, 2, 0);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    lb_spec_id(&b, nine, nine_sizes, 9, 2, 0);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_TOO_LARGE);
    lb_spec_id(&b, dup, two_sizes, 2, 2, 0);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    lb_spec_id(&b, two, wrong_size, 2, 2, 0);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    lb_spec_id(&b, two, two_sizes, 2, 1, 0);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    lb_spec_id(&b, two, two_sizes, 2, 2, 1);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    /* An extended event in PCR 24; an EV_NO_ACTION there is harmless. */
    lb_legacy(&b, 24, 4, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    lb_legacy(&b, 24, EV_NO_A, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_OK);
    /* StartupLocality: valid, repeated, bad locality, after PCR0 was
     * extended, in another PCR. */
    loc[16] = 3;
    lb_legacy(&b, 0, EV_NO_A, loc, 17);
    lb_legacy(&b, 0, 4, sep, 4);
    assert_int_equal(parse_lb(&b), VOUCH_OK);
    lb_legacy(&b, 0, EV_NO_A, loc, 17);
    lb_legacy(&b, 0, EV_NO_A, loc, 17);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    loc[16] = 2;
    lb_legacy(&b, 0, EV_NO_A, loc, 17);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    loc[16] = 3;
    lb_legacy(&b, 0, 4, sep, 4);
    lb_legacy(&b, 0, EV_NO_A, loc, 17);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    lb_legacy(&b, 1, EV_NO_A, loc, 17);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_PARSE);
    /* One event more than VOUCH_MAX_TPM_LOG_EVENTS. */
    for (unsigned i = 0; i <= VOUCH_MAX_TPM_LOG_EVENTS; i++)
        lb_legacy(&b, 1, 4, NULL, 0);
    assert_int_equal(parse_lb(&b), VOUCH_ERR_TOO_LARGE);
    /* A log over VOUCH_MAX_TPM_LOG_SIZE is refused before it is read. */
    {
        struct vouch_tpm_log log;
        assert_int_equal(vouch_tpm_log_parse(sep, VOUCH_MAX_TPM_LOG_SIZE + 1u, &log),
                         VOUCH_ERR_TOO_LARGE);
    }
}

/* Cutting a real log anywhere gives either a shorter valid log (at a record
 * boundary) or a clean error, never a crash or an over-read. */
static void test_log_truncation(void **state)
{
    static const char *const logs[] = {LOGS "rhel8-uefi.bin", LOGS "debian-10.bin",
                                       WIN "eventlog.bin"};
    (void)state;
    for (size_t l = 0; l < sizeof(logs) / sizeof(logs[0]); l++) {
        struct vec full = load(logs[l]);
        struct vouch_tpm_log whole;
        size_t boundaries = 0;

        assert_int_equal(vouch_tpm_log_parse(full.p, full.len, &whole), VOUCH_OK);
        for (size_t cut = 0; cut < full.len; cut += cut < 2048 ? 1 : 7) {
            uint8_t *p = malloc(cut ? cut : 1);
            struct vouch_tpm_log log;
            vouch_err rc;

            assert_non_null(p);
            memcpy(p, full.p, cut);
            rc = vouch_tpm_log_parse(p, cut, &log);
            if (rc == VOUCH_OK) {
                assert_true(log.n_events < whole.n_events);
                assert_int_equal(whole.events[log.n_events].offset, cut);
                boundaries++;
            } else {
                assert_true(rc == VOUCH_ERR_TRUNCATED || rc == VOUCH_ERR_PARSE);
            }
            vouch_tpm_log_free(&log);
            free(p);
        }
        assert_true(boundaries > 0);
        vouch_tpm_log_free(&whole);
        free(full.p);
    }
}

/* ---- per-event digest checks ---- */

static const struct vouch_tpm_event *find_event(const struct vouch_tpm_log *log, uint32_t pcr,
                                                uint32_t type, const char *data_prefix, size_t skip)
{
    for (size_t e = 0; e < log->n_events; e++) {
        const struct vouch_tpm_event *ev = &log->events[e];
        size_t n = data_prefix ? strlen(data_prefix) : 0;

        if (ev->pcr == pcr && ev->type == type && ev->data_len >= n &&
            (!n || memcmp(ev->data, data_prefix, n) == 0) && skip-- == 0)
            return ev;
    }
    fail_msg("event pcr %u type 0x%x not found", pcr, type);
    return NULL;
}

static uint8_t check_of(const struct vouch_tpm_event *ev, uint16_t alg)
{
    for (size_t i = 0; i < ev->n_digests; i++) {
        if (ev->digests[i].alg == alg)
            return ev->digests[i].check;
    }
    return 0xff;
}

static void test_digest_checks(void **state)
{
    struct vec rhel = load(LOGS "rhel8-uefi.bin");
    struct vec arch = load(LOGS "arch-linux-workstation.bin");
    struct vec gdc = load(LOGS "gdc-host.bin");
    struct vec deb = load(LOGS "debian-10.bin");
    struct vouch_tpm_log log;
    size_t mismatches = 0;

    (void)state;
    assert_int_equal(vouch_tpm_log_parse(rhel.p, rhel.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_check_digests(&log, 0), VOUCH_OK);
    for (uint16_t alg = SHA1; alg <= SHA384; alg = alg == SHA1 ? SHA256 : (uint16_t)(alg + 1)) {
        assert_int_equal(check_of(find_event(&log, 7, 0x80000001u, NULL, 0), alg),
                         VOUCH_TPM_DIGEST_VERIFIED);
        assert_int_equal(check_of(find_event(&log, 7, 4, NULL, 0), alg), VOUCH_TPM_DIGEST_VERIFIED);
        /* EDK2 hashes only VariableData of boot variables. */
        assert_int_equal(check_of(find_event(&log, 1, 0x80000002u, NULL, 0), alg),
                         VOUCH_TPM_DIGEST_VERIFIED_PART);
        /* RHEL GRUB: the text after "grub_cmd " with its NUL, the command
         * line without it. */
        assert_int_equal(check_of(find_event(&log, 8, 0xd, "grub_cmd ", 0), alg),
                         VOUCH_TPM_DIGEST_VERIFIED_PART);
        assert_int_equal(check_of(find_event(&log, 8, 0xd, "grub_kernel_cmdline ", 0), alg),
                         VOUCH_TPM_DIGEST_VERIFIED_PART);
        /* Kernel file and Authenticode hashes are not derivable. */
        assert_int_equal(check_of(find_event(&log, 9, 0xd, NULL, 0), alg),
                         VOUCH_TPM_DIGEST_NOT_DERIVABLE);
        assert_int_equal(check_of(find_event(&log, 4, 0x80000003u, NULL, 0), alg),
                         VOUCH_TPM_DIGEST_NOT_DERIVABLE);
        assert_int_equal(check_of(&log.events[0], alg), alg == SHA1 ? 0 : 0xff);
    }
    vouch_tpm_log_free(&log);

    /* systemd-boot: the whole UEFI variable, and UTF-16 load options hashed
     * with one more terminator byte than logged. */
    assert_int_equal(vouch_tpm_log_parse(arch.p, arch.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_check_digests(&log, SHA256), VOUCH_OK);
    assert_int_equal(check_of(find_event(&log, 1, 0x80000002u, NULL, 0), SHA256),
                     VOUCH_TPM_DIGEST_VERIFIED);
    assert_int_equal(check_of(find_event(&log, 8, 0xd, NULL, 0), SHA256),
                     VOUCH_TPM_DIGEST_VERIFIED);
    assert_int_equal(check_of(find_event(&log, 8, 0xd, NULL, 0), SHA1), 0);
    vouch_tpm_log_free(&log);

    /* Known firmware quirks: gdc-host's S-CRTM version, debian-10's shim
     * authority entry. Reported, not fatal. */
    assert_int_equal(vouch_tpm_log_parse(gdc.p, gdc.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_check_digests(&log, SHA256), VOUCH_OK);
    assert_int_equal(check_of(find_event(&log, 0, 8, NULL, 0), SHA256), VOUCH_TPM_DIGEST_MISMATCH);
    vouch_tpm_log_free(&log);
    assert_int_equal(vouch_tpm_log_parse(deb.p, deb.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_check_digests(&log, SHA1), VOUCH_OK);
    for (size_t e = 0; e < log.n_events; e++)
        mismatches += log.events[e].digests[0].check == VOUCH_TPM_DIGEST_MISMATCH;
    assert_int_equal(mismatches, 1);
    assert_int_equal(check_of(find_event(&log, 7, 0x800000e0u, NULL, 1), SHA1),
                     VOUCH_TPM_DIGEST_MISMATCH);
    assert_int_equal(vouch_tpm_log_check_digests(&log, SHA256), VOUCH_ERR_NOT_FOUND);
    vouch_tpm_log_free(&log);
    free(rhel.p);
    free(arch.p);
    free(gdc.p);
    free(deb.p);
}

/* ---- claims from bare logs ---- */

static json_t *log_claims(const struct vec *v, uint16_t alg, uint32_t bound)
{
    struct vouch_tpm_log log;
    json_t *c = json_object();

    assert_non_null(c);
    assert_int_equal(vouch_tpm_log_parse(v->p, v->len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_check_digests(&log, alg), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_claims(&log, alg, bound, c), VOUCH_OK);
    vouch_tpm_log_free(&log);
    return c;
}

static const char *withheld(const json_t *c, const char *claim)
{
    const json_t *w = json_object_get(json_object_get(c, "withheldClaims"), claim);
    return w ? json_string_value(w) : NULL;
}

static void test_log_claims(void **state)
{
    struct vec rhel = load(LOGS "rhel8-uefi.bin");
    struct vec arch = load(LOGS "arch-linux-workstation.bin");
    struct vec alex = load(LOGS "glinux-alex.bin");
    struct vec gdc = load(LOGS "gdc-host.bin");
    struct vec win = load(WIN "eventlog.bin");
    json_t *c;

    (void)state;
    c = log_claims(&rhel, SHA256, VOUCH_TPM_ALL_PCRS);
    assert_true(json_is_true(json_object_get(c, "secureBootEnabled")));
    assert_true(json_is_true(json_object_get(c, "exitBootServices")));
    assert_non_null(strstr(json_string_value(json_object_get(c, "kernelCmdline")),
                           "root=UUID=f3948fb4-cce7-4193-940a-c50052e93bf3"));
    assert_int_equal(json_array_size(json_object_get(c, "bootApplications")), 3);
    assert_int_equal(json_integer_value(json_object_get(c, "startupLocality")), 0);
    assert_non_null(withheld(c, "bootDebuggingDisabled"));
    json_decref(c);
    /* Nothing bound: every claim is withheld, with its PCR as the reason. */
    c = log_claims(&rhel, SHA256, 0);
    assert_null(json_object_get(c, "secureBootEnabled"));
    assert_non_null(strstr(withheld(c, "secureBootEnabled"), "PCR 7"));
    assert_non_null(strstr(withheld(c, "kernelCmdline"), "PCR 8"));
    assert_non_null(withheld(c, "bootApplications"));
    assert_non_null(withheld(c, "startupLocality"));
    json_decref(c);
    /* The Arch workstation logs an empty SecureBoot variable. */
    c = log_claims(&arch, SHA256, VOUCH_TPM_ALL_PCRS);
    assert_null(json_object_get(c, "secureBootEnabled"));
    assert_non_null(strstr(withheld(c, "secureBootEnabled"), "empty"));
    assert_non_null(strstr(json_string_value(json_object_get(c, "kernelCmdline")),
                           "root=/dev/mapper/cryptroot"));
    json_decref(c);
    c = log_claims(&alex, SHA1, VOUCH_TPM_ALL_PCRS);
    assert_true(json_is_false(json_object_get(c, "secureBootEnabled")));
    assert_int_equal(json_integer_value(json_object_get(c, "startupLocality")), 3);
    json_decref(c);
    /* Upstream GRUB: "kernel_cmdline: ..." without its label. */
    c = log_claims(&gdc, SHA256, VOUCH_TPM_ALL_PCRS);
    assert_string_equal(json_string_value(json_object_get(c, "kernelCmdline")),
                        "/vmlinuz-6.9.0-rc7+ root=/dev/mapper/ubuntu--vg-ubuntu--lv ro "
                        "nohibernate kvm_intel.tdx=on intel_iommu=on");
    json_decref(c);
    /* Windows: the boot configuration flags, only when every PCR holding
     * such events is bound. */
    c = log_claims(&win, SHA1, VOUCH_TPM_ALL_PCRS);
    assert_true(json_is_true(json_object_get(c, "bootDebuggingDisabled")));
    assert_true(json_is_true(json_object_get(c, "codeIntegrityEnabled")));
    assert_true(json_is_true(json_object_get(c, "notWinPE")));
    json_decref(c);
    c = log_claims(&win, SHA1, VOUCH_TPM_ALL_PCRS & ~(1u << 13));
    assert_null(json_object_get(c, "bootDebuggingDisabled"));
    assert_non_null(strstr(withheld(c, "bootDebuggingDisabled"), "not quoted"));
    json_decref(c);
    free(rhel.p);
    free(arch.p);
    free(alex.p);
    free(gdc.p);
    free(win.p);
}

/* Event data is not extended, so changing it leaves the PCRs alone; the
 * claim read from it must then be withheld. */
static void test_tampered_secure_boot(void **state)
{
    struct vec rhel = load(LOGS "rhel8-uefi.bin");
    struct vouch_tpm_log log;
    struct vouch_tpm_pcr_bank before, after;
    const struct vouch_tpm_event *sb;
    size_t off;
    json_t *c;

    (void)state;
    assert_int_equal(vouch_tpm_log_parse(rhel.p, rhel.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_replay(&log, SHA256, &before), VOUCH_OK);
    sb = find_event(&log, 7, 0x80000001u, NULL, 0);
    assert_int_equal(sb->data[sb->data_len - 1], 1);
    off = (size_t)(sb->data + sb->data_len - 1 - rhel.p);
    vouch_tpm_log_free(&log);
    rhel.p[off] = 0;
    assert_int_equal(vouch_tpm_log_parse(rhel.p, rhel.len, &log), VOUCH_OK);
    assert_int_equal(vouch_tpm_log_replay(&log, SHA256, &after), VOUCH_OK);
    assert_memory_equal(before.values, after.values, sizeof(before.values));
    vouch_tpm_log_free(&log);
    c = log_claims(&rhel, SHA256, VOUCH_TPM_ALL_PCRS);
    assert_null(json_object_get(c, "secureBootEnabled"));
    assert_non_null(strstr(withheld(c, "secureBootEnabled"), "digest"));
    json_decref(c);
    free(rhel.p);
}

static void test_events_json(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(real_logs) / sizeof(real_logs[0]); i++) {
        char path[256];
        struct vec bin;
        struct vouch_tpm_log log;
        json_t *events = NULL;
        size_t verified = 0;
        size_t j;
        json_t *ev;

        snprintf(path, sizeof(path), LOGS "%s.bin", real_logs[i]);
        bin = load(path);
        assert_int_equal(vouch_tpm_log_parse(bin.p, bin.len, &log), VOUCH_OK);
        assert_int_equal(vouch_tpm_log_check_digests(&log, 0), VOUCH_OK);
        assert_int_equal(vouch_tpm_log_events_json(&log, &events), VOUCH_OK);
        assert_int_equal(json_array_size(events), log.n_events);
        json_array_foreach(events, j, ev)
        {
            json_t *checks = json_object_get(ev, "digest_checks");
            const char *k;
            json_t *v;

            assert_int_equal(json_integer_value(json_object_get(ev, "pcr")), log.events[j].pcr);
            json_object_foreach(checks, k, v)
            {
                verified += strcmp(json_string_value(v), "verified") == 0;
            }
        }
        assert_true(verified > 0);
        json_decref(events);
        vouch_tpm_log_free(&log);
        free(bin.p);
    }
}

/* ---------------- attestation keys ---------------- */

static const struct {
    const char *path;
    const char *name;
    uint16_t type;
} aks[] = {
    {WIN "ak.tpmt_public", "000b4ce9b151f75089d74c15dabe9d520cffafbcafd5d43be0aad2e2d88d54717e2e",
     VOUCH_TPM_ALG_RSA},
    {COS "ak_pub.tpmt_public",
     "000bf175bdb57297b2b289973f819863d6c9d09c236725676914f4248c9a2404c2a4", VOUCH_TPM_ALG_RSA},
    {SWTPM "ak_rsa.tpm2b_public",
     "000bd0ccd7033dbeff4909b3e0f9bd16fcacac974f62ccaa2edf475580fcd72bb268", VOUCH_TPM_ALG_RSA},
    {SWTPM "ak_ecc.tpm2b_public",
     "000b4adb8acceb30e14df58f89227b51d9cdfa01fccd0dd73e1574102c5c910cb5a5", VOUCH_TPM_ALG_ECC},
    {SWTPM "ak_rsapss.tpm2b_public",
     "000b04b70a88cb2448cd7c8816f5edba4e6200568d23ea2ef99d8c45f52eeab20a2c", VOUCH_TPM_ALG_RSA},
};

static void test_ak_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(aks) / sizeof(aks[0]); i++) {
        struct vec v = load(aks[i].path);
        struct vouch_tpm_ak *ak = NULL;
        const struct vouch_tpm_public *pub;
        char hex[2 * VOUCH_TPM_MAX_NAME + 1];

        assert_int_equal(vouch_tpm_ak_parse(v.p, v.len, &ak), VOUCH_OK);
        pub = vouch_tpm_ak_public(ak);
        assert_int_equal(pub->type, aks[i].type);
        vouch_hex_encode(pub->name, pub->name_len, hex);
        assert_string_equal(hex, aks[i].name);
        vouch_tpm_ak_free(ak);
        free(v.p);
    }
}

static void test_ak_forms_and_attributes(void **state)
{
    struct vec rsa = load(SWTPM "ak_rsa.tpm2b_public");
    struct vec win = load(WIN "ak.tpmt_public");
    struct vouch_tpm_public a, b;
    struct vouch_tpm_ak *ak = NULL;
    uint8_t *copy = malloc(rsa.len + 1);

    (void)state;
    assert_non_null(copy);
    /* TPM2B_PUBLIC and its bare TPMT_PUBLIC describe the same key. */
    assert_int_equal(vouch_tpm_public_parse(rsa.p, rsa.len, &a), VOUCH_OK);
    assert_int_equal(vouch_tpm_public_parse(rsa.p + 2, rsa.len - 2, &b), VOUCH_OK);
    assert_memory_equal(a.name, b.name, a.name_len);
    assert_int_equal(a.attributes, 0x00050072);
    assert_int_equal(a.scheme, VOUCH_TPM_ALG_RSASSA);
    assert_int_equal(a.scheme_hash, SHA256);
    assert_int_equal(a.rsa_bits, 2048);
    assert_int_equal(a.rsa_exponent, 65537);
    assert_int_equal(vouch_tpm_public_parse(win.p, win.len, &a), VOUCH_OK);
    assert_int_equal(a.attributes, 0x00050472);
    assert_int_equal(a.scheme_hash, SHA1);
    /* A trailing byte is refused. */
    memcpy(copy, rsa.p + 2, rsa.len - 2);
    copy[rsa.len - 2] = 0;
    assert_int_equal(vouch_tpm_public_parse(copy, rsa.len - 1, &a), VOUCH_ERR_PARSE);
    /* objectAttributes sit at bytes 4..7 of the TPMT_PUBLIC: drop
     * restricted, then add decrypt. */
    memcpy(copy, rsa.p, rsa.len);
    copy[2 + 5] &= (uint8_t)~0x01;
    assert_int_equal(vouch_tpm_ak_parse(copy, rsa.len, &ak), VOUCH_ERR_POLICY);
    assert_null(ak);
    memcpy(copy, rsa.p, rsa.len);
    copy[2 + 5] |= 0x02;
    assert_int_equal(vouch_tpm_ak_parse(copy, rsa.len, &ak), VOUCH_ERR_POLICY);
    memcpy(copy, rsa.p, rsa.len);
    copy[2 + 7] &= (uint8_t)~0x02; /* fixedTPM */
    assert_int_equal(vouch_tpm_ak_parse(copy, rsa.len, &ak), VOUCH_ERR_POLICY);
    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < rsa.len; n++) {
        memcpy(copy, rsa.p, n);
        assert_int_not_equal(vouch_tpm_ak_parse(copy, n, &ak), VOUCH_OK);
        assert_null(ak);
    }
    free(copy);
    free(rsa.p);
    free(win.p);
}

/* The Windows AK certified its own creation (TPM2_CertifyCreation): the
 * signature verifies with the AK, and that attestation is not a quote. */
static void test_certify_creation(void **state)
{
    struct vec akp = load(WIN "ak.tpmt_public");
    struct vec att = load(WIN "ak_creation_attest.tpms_attest");
    struct vec sig = load(WIN "ak_creation_sig.tpmt_signature");
    struct vouch_tpm_ak *ak = NULL;
    struct vouch_tpm_attest a;

    (void)state;
    assert_int_equal(vouch_tpm_ak_parse(akp.p, akp.len, &ak), VOUCH_OK);
    assert_int_equal(vouch_tpm_verify_signature(ak, att.p, att.len, sig.p, sig.len, true),
                     VOUCH_OK);
    assert_int_equal(vouch_tpm_verify_signature(ak, att.p, att.len, sig.p, sig.len, false),
                     VOUCH_ERR_POLICY);
    att.p[att.len - 1] ^= 1;
    assert_int_equal(vouch_tpm_verify_signature(ak, att.p, att.len, sig.p, sig.len, true),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_tpm_attest_parse(att.p, att.len, &a), VOUCH_ERR_UNSUPPORTED);
    vouch_tpm_ak_free(ak);
    free(akp.p);
    free(att.p);
    free(sig.p);
}

/* ---------------- PCR value files ---------------- */

static void test_pcrs_parse(void **state)
{
    static const char sha1[] = "0000000000000000000000000000000000000001";
    struct vouch_tpm_pcrs p;
    char text[512];
    const struct vouch_tpm_pcr_bank *b;

    (void)state;
    memset(&p, 0, sizeof(p));
    snprintf(text, sizeof(text), "# comment\n\n0 %s\r\nsha1 23 %s\n  sha256 5 %064d\n", sha1, sha1,
             7);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p), VOUCH_OK);
    assert_int_equal(p.n_banks, 2);
    b = vouch_tpm_pcrs_bank(&p, SHA1);
    assert_non_null(b);
    assert_int_equal(b->mask, (1u << 0) | (1u << 23));
    assert_int_equal(b->values[23][19], 1);
    assert_int_equal(vouch_tpm_pcrs_bank(&p, SHA256)->values[5][31], 7);
    /* A PCR given twice, a bad index, a bad length, an unknown bank. */
    snprintf(text, sizeof(text), "0 %s\n", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p),
                     VOUCH_ERR_PARSE);
    memset(&p, 0, sizeof(p));
    snprintf(text, sizeof(text), "24 %s\n", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p),
                     VOUCH_ERR_PARSE);
    snprintf(text, sizeof(text), "07 %s\n", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p),
                     VOUCH_ERR_PARSE);
    snprintf(text, sizeof(text), "sha256 1 %s\n", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p),
                     VOUCH_ERR_PARSE);
    snprintf(text, sizeof(text), "sm3 1 %s\n", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p),
                     VOUCH_ERR_PARSE);
    /* JSON, bare and in the replay output's shape. */
    memset(&p, 0, sizeof(p));
    snprintf(text, sizeof(text), " {\"pcrs\": {\"sha1\": {\"4\": \"%s\"}}}", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p), VOUCH_OK);
    assert_int_equal(vouch_tpm_pcrs_bank(&p, SHA1)->mask, 1u << 4);
    snprintf(text, sizeof(text), "{\"sha1\": {\"5\": \"%s\"}}", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p), VOUCH_OK);
    assert_int_equal(vouch_tpm_pcrs_bank(&p, SHA1)->mask, (1u << 4) | (1u << 5));
    snprintf(text, sizeof(text), "{\"sha1\": {\"x\": \"%s\"}}", sha1);
    assert_int_equal(vouch_tpm_pcrs_parse((const uint8_t *)text, strlen(text), &p),
                     VOUCH_ERR_PARSE);
}

/* ---------------- quotes ---------------- */

struct quote_vec {
    const char *id;
    const char *ak, *quote, *sig, *pcrs[2], *log;
    const char *nonce; /* hex, "" for none, NULL: read SWTPM nonce.hex */
    bool allow_sha1;
    uint16_t log_bank;
};

static const struct quote_vec quotes[] = {
    {"windows",
     WIN "ak.tpmt_public",
     WIN "quote.tpms_attest",
     WIN "quote.tpmt_signature",
     {WIN "pcrs_sha1.txt", NULL},
     WIN "eventlog.bin",
     "",
     true,
     SHA1},
    {"cos85-sha1",
     COS "ak_pub.tpmt_public",
     COS "quote_sha1.tpms_attest",
     COS "quote_sha1.tpmt_signature",
     {COS "pcrs_sha1.txt", NULL},
     COS "eventlog.bin",
     "9009",
     false,
     SHA1},
    {"cos85-sha256",
     COS "ak_pub.tpmt_public",
     COS "quote_sha256.tpms_attest",
     COS "quote_sha256.tpmt_signature",
     {COS "pcrs_sha256.txt", NULL},
     COS "eventlog.bin",
     "9009",
     false,
     SHA256},
    {"cos85-sha384",
     COS "ak_pub.tpmt_public",
     COS "quote_sha384.tpms_attest",
     COS "quote_sha384.tpmt_signature",
     {COS "pcrs_sha384.txt", NULL},
     COS "eventlog.bin",
     "9009",
     false,
     SHA384},
    {"swtpm-rsa",
     SWTPM "ak_rsa.tpm2b_public",
     SWTPM "quote_rsa_sha256.tpms_attest",
     SWTPM "quote_rsa_sha256.tpmt_signature",
     {SWTPM "pcrs_sha256.txt", NULL},
     LOGS "rhel8-uefi.bin",
     NULL,
     false,
     SHA256},
    {"swtpm-rsapss",
     SWTPM "ak_rsapss.tpm2b_public",
     SWTPM "quote_rsapss_sha256.tpms_attest",
     SWTPM "quote_rsapss_sha256.tpmt_signature",
     {SWTPM "pcrs_sha256.txt", NULL},
     LOGS "rhel8-uefi.bin",
     NULL,
     false,
     SHA256},
    {"swtpm-ecc",
     SWTPM "ak_ecc.tpm2b_public",
     SWTPM "quote_ecc_sha256_sha1.tpms_attest",
     SWTPM "quote_ecc_sha256_sha1.tpmt_signature",
     {SWTPM "pcrs_sha256.txt", SWTPM "pcrs_sha1.txt"},
     LOGS "rhel8-uefi.bin",
     NULL,
     false,
     SHA256},
};

struct loaded {
    struct vec ak, quote, sig, log;
    struct vouch_tpm_pcrs pcrs;
    uint8_t nonce[VOUCH_MAX_TPM_NONCE];
    size_t nonce_len;
    struct vouch_tpm_ak *akobj;
    bool allow_sha1;
    bool check_all;
};

static struct loaded *load_quote(const struct quote_vec *q)
{
    struct loaded *l = calloc(1, sizeof(*l));

    assert_non_null(l);
    l->ak = load(q->ak);
    l->quote = load(q->quote);
    l->sig = load(q->sig);
    l->log = load(q->log);
    l->allow_sha1 = q->allow_sha1;
    for (size_t i = 0; i < 2 && q->pcrs[i]; i++) {
        struct vec t = load(q->pcrs[i]);
        size_t before = count_pcrs(&l->pcrs);

        assert_int_equal(vouch_tpm_pcrs_parse(t.p, t.len, &l->pcrs), VOUCH_OK);
        assert_int_equal(count_pcrs(&l->pcrs) - before, count_lines(&t));
        free(t.p);
    }
    if (q->nonce) {
        hex_to(q->nonce, l->nonce, sizeof(l->nonce), &l->nonce_len);
    } else {
        struct vec n = load(SWTPM "nonce.hex");
        size_t len = n.len;

        while (len > 0 && (n.p[len - 1] == '\n' || n.p[len - 1] == '\r'))
            len--;
        assert_int_equal(
            vouch_hex_decode((const char *)n.p, len, l->nonce, sizeof(l->nonce), &l->nonce_len),
            VOUCH_OK);
        assert_int_equal(l->nonce_len, 32);
        free(n.p);
    }
    assert_int_equal(vouch_tpm_ak_parse(l->ak.p, l->ak.len, &l->akobj), VOUCH_OK);
    return l;
}

static void unload(struct loaded *l)
{
    vouch_tpm_ak_free(l->akobj);
    free(l->ak.p);
    free(l->quote.p);
    free(l->sig.p);
    free(l->log.p);
    free(l);
}

static vouch_err run(const struct loaded *l, const uint8_t *quote, const uint8_t *sig,
                     const struct vouch_tpm_pcrs *pcrs, const uint8_t *log, size_t log_len,
                     const uint8_t *nonce, size_t nonce_len, struct vouch_tpm_verify_result *res)
{
    struct vouch_tpm_evidence ev = {.quote = quote,
                                    .quote_len = l->quote.len,
                                    .sig = sig,
                                    .sig_len = l->sig.len,
                                    .pcrs = pcrs,
                                    .log = log,
                                    .log_len = log_len};
    struct vouch_tpm_verify_opts o = {.nonce = nonce,
                                      .nonce_len = nonce_len,
                                      .allow_sha1 = l->allow_sha1,
                                      .check_all_digests = l->check_all};
    vouch_err rc = vouch_tpm_verify(l->akobj, &ev, &o, res);

    assert_int_equal(rc == VOUCH_OK, res->verified);
    assert_int_equal(rc, res->error);
    if (rc != VOUCH_OK) {
        assert_true(res->error_detail[0] != '\0');
        assert_null(res->claims);
    }
    return rc;
}

static vouch_err run_default(const struct loaded *l, bool with_log,
                             struct vouch_tpm_verify_result *res)
{
    return run(l, l->quote.p, l->sig.p, &l->pcrs, with_log ? l->log.p : NULL,
               with_log ? l->log.len : 0, l->nonce, l->nonce_len, res);
}

static void test_quotes_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
        struct loaded *l = load_quote(&quotes[i]);
        struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
        const struct vouch_tpm_public *pub = vouch_tpm_ak_public(l->akobj);
        char hex[2 * VOUCH_TPM_MAX_NAME + 1];
        json_t *j = NULL;

        assert_non_null(res);
        /* Without the log, then with it. */
        assert_int_equal(run_default(l, false, res), VOUCH_OK);
        assert_false(res->log_present);
        assert_null(json_object_get(res->claims, "secureBootEnabled"));
        vouch_tpm_verify_result_free(res);
        if (run_default(l, true, res) != VOUCH_OK)
            fail_msg("%s: %s", quotes[i].id, res->error_detail);
        assert_true(res->log_present);
        assert_int_equal(res->log_bank, quotes[i].log_bank);
        assert_int_equal(res->attest.type, VOUCH_TPM_ST_ATTEST_QUOTE);
        assert_int_equal(res->attest.extra_data_len, l->nonce_len);
        /* Every vector's log extends PCRs 0, 4 and 7 and its quote covers them. */
        assert_true((res->log_bound_pcrs & 0x91) == 0x91);
        vouch_hex_encode(pub->name, pub->name_len, hex);
        assert_string_equal(json_string_value(json_object_get(res->claims, "akName")), hex);
        assert_true(json_is_true(json_object_get(res->claims, "secureBootEnabled")));
        assert_true(json_is_array(json_object_get(res->claims, "bootApplications")));
        assert_int_equal(vouch_tpm_verify_result_json(res, &j), VOUCH_OK);
        assert_true(json_is_true(json_object_get(j, "verified")));
        /* Checking every digest first changes no claim: the lazy checks of
         * the events claims read agree with the full pass. */
        l->check_all = true;
        {
            struct vouch_tpm_verify_result *all = calloc(1, sizeof(*all));
            json_t *a = NULL, *b = NULL;

            assert_non_null(all);
            assert_int_equal(run_default(l, true, all), VOUCH_OK);
            assert_true(all->log_digests_checked);
            a = json_deep_copy(res->claims);
            b = json_deep_copy(all->claims);
            json_object_del(json_object_get(b, "eventLog"), "digestMismatches");
            assert_true(json_equal(a, b));
            json_decref(a);
            json_decref(b);
            vouch_tpm_verify_result_free(all);
            free(all);
        }
        json_decref(j);
        vouch_tpm_verify_result_free(res);
        free(res);
        unload(l);
    }
}

/* Each pcrDigest is the SIGNATURE hash (SHA-256) over the concatenated
 * values, even for the SHA-1 and SHA-384 banks; hashing with the bank's
 * algorithm would not match. */
static void test_pcr_digest_uses_signature_hash(void **state)
{
    (void)state;
    for (size_t i = 1; i <= 3; i++) {
        struct loaded *l = load_quote(&quotes[i]);
        struct vouch_tpm_attest a;
        const struct vouch_tpm_pcr_bank *b;
        uint8_t cat[24 * 48], d[64];
        size_t n = 0, dlen;
        enum vouch_hash_alg bank_hash;

        assert_int_equal(vouch_tpm_attest_parse(l->quote.p, l->quote.len, &a), VOUCH_OK);
        assert_int_equal(a.n_banks, 1);
        assert_int_equal(a.banks[0].mask, VOUCH_TPM_ALL_PCRS);
        b = vouch_tpm_pcrs_bank(&l->pcrs, a.banks[0].alg);
        dlen = vouch_tpm_digest_len(a.banks[0].alg);
        for (unsigned p = 0; p < 24; p++, n += dlen)
            memcpy(cat + n, b->values[p], dlen);
        assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, cat, n, d), VOUCH_OK);
        assert_int_equal(a.pcr_digest_len, 32);
        assert_memory_equal(d, a.pcr_digest, 32);
        if (a.banks[0].alg != SHA256) {
            bank_hash = a.banks[0].alg == SHA1 ? VOUCH_HASH_SHA1 : VOUCH_HASH_SHA384;
            assert_int_equal(vouch_hash(bank_hash, cat, n, d), VOUCH_OK);
            assert_memory_not_equal(d, a.pcr_digest, 20);
        }
        unload(l);
    }
}

static void test_quote_fields(void **state)
{
    struct loaded *l = load_quote(&quotes[6]);
    struct vouch_tpm_attest a;
    struct vouch_tpm_signature s;

    (void)state;
    assert_int_equal(vouch_tpm_attest_parse(l->quote.p, l->quote.len, &a), VOUCH_OK);
    /* sha256 then sha1, PCRs 0-9 and 14 (ff 43 00). */
    assert_int_equal(a.n_banks, 2);
    assert_int_equal(a.banks[0].alg, SHA256);
    assert_int_equal(a.banks[1].alg, SHA1);
    assert_int_equal(a.banks[0].mask, 0x43ff);
    assert_int_equal(a.banks[1].mask, 0x43ff);
    assert_true(a.safe);
    assert_int_equal(a.firmware_version, 0x2019102300163636ull);
    assert_int_equal(vouch_tpm_signature_parse(l->sig.p, l->sig.len, &s), VOUCH_OK);
    assert_int_equal(s.sig_alg, VOUCH_TPM_ALG_ECDSA);
    assert_int_equal(s.r_len, 32);
    assert_int_equal(s.s_len, 32);
    /* Truncations of the structures fail cleanly. */
    for (size_t n = 0; n < l->quote.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        assert_non_null(p);
        memcpy(p, l->quote.p, n);
        assert_int_not_equal(vouch_tpm_attest_parse(p, n, &a), VOUCH_OK);
        free(p);
    }
    for (size_t n = 0; n < l->sig.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        assert_non_null(p);
        memcpy(p, l->sig.p, n);
        assert_int_not_equal(vouch_tpm_signature_parse(p, n, &s), VOUCH_OK);
        free(p);
    }
    unload(l);
}

/* libtss2-mu logs malformed PCR selections to stderr; quotes from the network
 * must not reach it with one, or they could flood a service's log. */
static void test_decoder_is_silent(void **state)
{
    struct loaded *l = load_quote(&quotes[6]);
    struct vouch_tpm_attest a;
    uint8_t *q = malloc(l->quote.len);
    FILE *capture = tmpfile();
    int saved = dup(2);
    size_t sel;

    (void)state;
    assert_true(q && capture && saved >= 0);
    /* The selection count follows magic, type, two TPM2Bs, clockInfo and
     * firmwareVersion. */
    sel = 6 + 2 + ((size_t)l->quote.p[6] << 8 | l->quote.p[7]);
    sel += 2 + ((size_t)l->quote.p[sel] << 8 | l->quote.p[sel + 1]) + 17 + 8;
    assert_int_equal(l->quote.p[sel + 3], 2);
    fflush(stderr);
    assert_true(dup2(fileno(capture), 2) >= 0);
    memcpy(q, l->quote.p, l->quote.len);
    q[sel + 3] = 17; /* more banks than TPM2_NUM_PCR_BANKS */
    assert_int_equal(vouch_tpm_attest_parse(q, l->quote.len, &a), VOUCH_ERR_TOO_LARGE);
    memcpy(q, l->quote.p, l->quote.len);
    q[sel + 4 + 2] = 64; /* sizeofSelect of the first bank */
    assert_int_equal(vouch_tpm_attest_parse(q, l->quote.len, &a), VOUCH_ERR_PARSE);
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    assert_int_equal(ftell(capture), 0);
    fclose(capture);
    free(q);
    unload(l);
}

/* Every byte of the quote and the signature, and every byte of every quoted
 * PCR value, changed in turn: each one must be rejected with a reason. */
static void test_byte_flips(void **state)
{
    static const uint8_t masks[] = {0x01, 0x80};
    (void)state;
    for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
        struct loaded *l = load_quote(&quotes[i]);
        struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
        struct vouch_tpm_pcrs *pcrs = malloc(sizeof(*pcrs));
        uint8_t *q = malloc(l->quote.len);
        uint8_t *s = malloc(l->sig.len);
        size_t rejected = 0;

        assert_true(res && pcrs && q && s);
        memcpy(q, l->quote.p, l->quote.len);
        memcpy(s, l->sig.p, l->sig.len);
        for (size_t m = 0; m < sizeof(masks); m++) {
            for (size_t b = 0; b < l->quote.len; b++) {
                q[b] ^= masks[m];
                assert_int_not_equal(run(l, q, s, &l->pcrs, NULL, 0, l->nonce, l->nonce_len, res),
                                     VOUCH_OK);
                q[b] ^= masks[m];
                rejected++;
            }
            for (size_t b = 0; b < l->sig.len; b++) {
                s[b] ^= masks[m];
                assert_int_not_equal(run(l, q, s, &l->pcrs, NULL, 0, l->nonce, l->nonce_len, res),
                                     VOUCH_OK);
                s[b] ^= masks[m];
                rejected++;
            }
        }
        memcpy(pcrs, &l->pcrs, sizeof(*pcrs));
        for (size_t bank = 0; bank < pcrs->n_banks; bank++) {
            size_t dlen = vouch_tpm_digest_len(pcrs->banks[bank].alg);
            for (unsigned p = 0; p < VOUCH_TPM_NUM_PCRS; p++) {
                if (!(pcrs->banks[bank].mask & (1u << p)))
                    continue;
                for (size_t b = 0; b < dlen; b++) {
                    pcrs->banks[bank].values[p][b] ^= 0x01;
                    assert_int_equal(run(l, q, s, pcrs, NULL, 0, l->nonce, l->nonce_len, res),
                                     VOUCH_ERR_MISMATCH);
                    pcrs->banks[bank].values[p][b] ^= 0x01;
                    rejected++;
                }
            }
        }
        /* Untouched, it still verifies: the loop restored every byte. */
        assert_int_equal(run(l, q, s, pcrs, NULL, 0, l->nonce, l->nonce_len, res), VOUCH_OK);
        vouch_tpm_verify_result_free(res);
        assert_true(rejected > 2 * (l->quote.len + l->sig.len));
        free(q);
        free(s);
        free(pcrs);
        free(res);
        unload(l);
    }
}

static void test_wrong_nonce_and_missing_pcr(void **state)
{
    struct loaded *l = load_quote(&quotes[4]);
    struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
    struct vouch_tpm_pcrs *pcrs = malloc(sizeof(*pcrs));
    uint8_t nonce[VOUCH_MAX_TPM_NONCE];

    (void)state;
    assert_true(res && pcrs);
    memcpy(nonce, l->nonce, l->nonce_len);
    nonce[31] ^= 1;
    assert_int_equal(run(l, l->quote.p, l->sig.p, &l->pcrs, NULL, 0, nonce, 32, res),
                     VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(res->error_detail, "nonce"));
    assert_int_equal(run(l, l->quote.p, l->sig.p, &l->pcrs, NULL, 0, l->nonce, 31, res),
                     VOUCH_ERR_MISMATCH);
    assert_int_equal(run(l, l->quote.p, l->sig.p, &l->pcrs, NULL, 0, NULL, 0, res),
                     VOUCH_ERR_MISMATCH);
    /* A quoted PCR with no claimed value. */
    memcpy(pcrs, &l->pcrs, sizeof(*pcrs));
    pcrs->banks[0].mask &= ~(1u << 14);
    assert_int_equal(run(l, l->quote.p, l->sig.p, pcrs, NULL, 0, l->nonce, l->nonce_len, res),
                     VOUCH_ERR_VERIFY);
    assert_non_null(strstr(res->error_detail, "sha256:14"));
    free(pcrs);
    free(res);
    unload(l);
}

static void test_sha1_and_scheme_policy(void **state)
{
    struct loaded *win = load_quote(&quotes[0]);
    struct loaded *rsa = load_quote(&quotes[4]);
    struct loaded *pss = load_quote(&quotes[5]);
    struct loaded *ecc = load_quote(&quotes[6]);
    struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
    struct vouch_tpm_evidence ev;
    struct vouch_tpm_verify_opts o;

    (void)state;
    assert_non_null(res);
    win->allow_sha1 = false;
    assert_int_equal(run_default(win, true, res), VOUCH_ERR_POLICY);
    assert_non_null(strstr(res->error_detail, "SHA-1"));
    /* A PSS signature presented for the RSASSA AK, an ECDSA one for an RSA
     * AK, an RSA one for the ECC AK: none is this key's scheme. */
    ev = (struct vouch_tpm_evidence){.quote = pss->quote.p,
                                     .quote_len = pss->quote.len,
                                     .sig = pss->sig.p,
                                     .sig_len = pss->sig.len,
                                     .pcrs = &pss->pcrs};
    o = (struct vouch_tpm_verify_opts){.nonce = pss->nonce, .nonce_len = pss->nonce_len};
    assert_int_equal(vouch_tpm_verify(rsa->akobj, &ev, &o, res), VOUCH_ERR_POLICY);
    ev.sig = ecc->sig.p;
    ev.sig_len = ecc->sig.len;
    assert_int_equal(vouch_tpm_verify(rsa->akobj, &ev, &o, res), VOUCH_ERR_POLICY);
    ev.sig = rsa->sig.p;
    ev.sig_len = rsa->sig.len;
    assert_int_equal(vouch_tpm_verify(ecc->akobj, &ev, &o, res), VOUCH_ERR_POLICY);
    /* The right scheme but another AK's signature. */
    assert_int_equal(vouch_tpm_verify(pss->akobj,
                                      &(struct vouch_tpm_evidence){.quote = rsa->quote.p,
                                                                   .quote_len = rsa->quote.len,
                                                                   .sig = pss->sig.p,
                                                                   .sig_len = pss->sig.len,
                                                                   .pcrs = &rsa->pcrs},
                                      &o, res),
                     VOUCH_ERR_SIGNATURE);
    vouch_tpm_verify_result_free(res);
    free(res);
    unload(win);
    unload(rsa);
    unload(pss);
    unload(ecc);
}

/* Changing a replayed digest of a quoted bank anywhere in the log breaks the
 * replay; digests of banks the quote does not cover are not read. */
static void test_log_digest_flips(void **state)
{
    static const size_t vecs[] = {4, 6};
    (void)state;
    for (size_t v = 0; v < sizeof(vecs) / sizeof(vecs[0]); v++) {
        struct loaded *l = load_quote(&quotes[vecs[v]]);
        struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
        struct vouch_tpm_attest a;
        struct vouch_tpm_log log;
        uint8_t *copy = malloc(l->log.len);
        size_t flipped = 0, ignored = 0;

        assert_true(res && copy);
        assert_int_equal(vouch_tpm_attest_parse(l->quote.p, l->quote.len, &a), VOUCH_OK);
        assert_int_equal(vouch_tpm_log_parse(l->log.p, l->log.len, &log), VOUCH_OK);
        for (size_t e = 0; e < log.n_events; e++) {
            const struct vouch_tpm_event *ev = &log.events[e];

            if (ev->type == EV_NO_A)
                continue;
            for (size_t d = 0; d < ev->n_digests; d++) {
                size_t off = (size_t)(ev->digests[d].p - l->log.p);
                bool quoted = false;
                vouch_err rc;

                for (size_t b = 0; b < a.n_banks; b++)
                    quoted |=
                        a.banks[b].alg == ev->digests[d].alg && (a.banks[b].mask & (1u << ev->pcr));
                memcpy(copy, l->log.p, l->log.len);
                copy[off + (e % ev->digests[d].len)] ^= 0x01;
                rc = run(l, l->quote.p, l->sig.p, &l->pcrs, copy, l->log.len, l->nonce,
                         l->nonce_len, res);
                vouch_tpm_verify_result_free(res);
                if (quoted) {
                    assert_int_equal(rc, VOUCH_ERR_MISMATCH);
                    flipped++;
                } else {
                    assert_int_equal(rc, VOUCH_OK);
                    ignored++;
                }
            }
        }
        /* RSA quotes only sha256: the sha1/sha384 digests are ignored; the
         * ECC quote also covers sha1. */
        assert_true(flipped >= 70);
        assert_true(ignored > 0);
        vouch_tpm_log_free(&log);
        free(copy);
        free(res);
        unload(l);
    }
}

static void test_log_binding_failures(void **state)
{
    struct loaded *rsa = load_quote(&quotes[4]);
    struct loaded *cos = load_quote(&quotes[3]);
    struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
    struct vec alex = load(LOGS "glinux-alex.bin");
    struct vec deb = load(LOGS "debian-10.bin");
    struct vec garbage = {NULL, 64};
    uint8_t *sb_tampered = malloc(rsa->log.len);
    struct vouch_tpm_log log;
    const struct vouch_tpm_event *sb;

    (void)state;
    assert_true(res && sb_tampered);
    /* Another machine's log: PCRs differ. */
    assert_int_equal(run(rsa, rsa->quote.p, rsa->sig.p, &rsa->pcrs, alex.p, alex.len, rsa->nonce,
                         rsa->nonce_len, res),
                     VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(res->error_detail, "replay"));
    /* A sha384 quote with a SHA-1-only log. */
    assert_int_equal(run(cos, cos->quote.p, cos->sig.p, &cos->pcrs, deb.p, deb.len, cos->nonce,
                         cos->nonce_len, res),
                     VOUCH_ERR_VERIFY);
    assert_non_null(strstr(res->error_detail, "sha384"));
    /* A log that does not parse (PCR 0xffffffff). */
    garbage.p = malloc(garbage.len);
    assert_non_null(garbage.p);
    memset(garbage.p, 0xff, garbage.len);
    assert_int_not_equal(run(rsa, rsa->quote.p, rsa->sig.p, &rsa->pcrs, garbage.p, garbage.len,
                             rsa->nonce, rsa->nonce_len, res),
                         VOUCH_OK);
    assert_non_null(strstr(res->error_detail, "event log"));
    /* SecureBoot's data changed: the quote still verifies (data is not
     * extended) but the claim is withheld. */
    memcpy(sb_tampered, rsa->log.p, rsa->log.len);
    assert_int_equal(vouch_tpm_log_parse(sb_tampered, rsa->log.len, &log), VOUCH_OK);
    sb = find_event(&log, 7, 0x80000001u, NULL, 0);
    sb_tampered[sb->data + sb->data_len - 1 - sb_tampered] = 0;
    vouch_tpm_log_free(&log);
    for (int all = 0; all < 2; all++) {
        rsa->check_all = all;
        assert_int_equal(run(rsa, rsa->quote.p, rsa->sig.p, &rsa->pcrs, sb_tampered, rsa->log.len,
                             rsa->nonce, rsa->nonce_len, res),
                         VOUCH_OK);
        assert_null(json_object_get(res->claims, "secureBootEnabled"));
        assert_non_null(strstr(withheld(res->claims, "secureBootEnabled"), "digest"));
        assert_int_equal(res->log_digests_checked, all);
        assert_int_equal(res->log_digest_mismatches, all ? 1 : 0);
        vouch_tpm_verify_result_free(res);
        /* The untouched log has no mismatch in sha256. */
        assert_int_equal(run_default(rsa, true, res), VOUCH_OK);
        assert_int_equal(res->log_digest_mismatches, 0);
        assert_true(json_is_true(json_object_get(res->claims, "secureBootEnabled")));
        vouch_tpm_verify_result_free(res);
    }
    free(sb_tampered);
    free(garbage.p);
    free(alex.p);
    free(deb.p);
    free(res);
    unload(rsa);
    unload(cos);
}

/* Deterministic garbage through every parser and the verifier. */
static void test_garbage(void **state)
{
    struct loaded *l = load_quote(&quotes[4]);
    struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
    uint32_t x = 0x12345678u;

    (void)state;
    assert_non_null(res);
    for (size_t round = 0; round < 3000; round++) {
        size_t len = 1 + round % 400;
        uint8_t *p = malloc(len);
        struct vouch_tpm_public pub;
        struct vouch_tpm_attest a;
        struct vouch_tpm_signature s;
        struct vouch_tpm_log log;
        struct vouch_tpm_ak *ak = NULL;

        assert_non_null(p);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            p[i] = (uint8_t)x;
        }
        /* Make some of it look like the real thing. */
        if (round % 3 == 0 && len >= 6)
            memcpy(p, l->quote.p, 6);
        assert_int_not_equal(vouch_tpm_public_parse(p, len, &pub), VOUCH_ERR_INTERNAL);
        assert_int_not_equal(vouch_tpm_attest_parse(p, len, &a), VOUCH_ERR_INTERNAL);
        assert_int_not_equal(vouch_tpm_signature_parse(p, len, &s), VOUCH_ERR_INTERNAL);
        if (vouch_tpm_ak_parse(p, len, &ak) == VOUCH_OK)
            vouch_tpm_ak_free(ak);
        if (vouch_tpm_log_parse(p, len, &log) == VOUCH_OK)
            vouch_tpm_log_free(&log);
        {
            struct vouch_tpm_evidence ev = {.quote = l->quote.p,
                                            .quote_len = l->quote.len,
                                            .sig = p,
                                            .sig_len = len,
                                            .pcrs = &l->pcrs,
                                            .log = p,
                                            .log_len = len};
            struct vouch_tpm_verify_opts o = {.nonce = l->nonce, .nonce_len = l->nonce_len};

            assert_int_not_equal(vouch_tpm_verify(l->akobj, &ev, &o, res), VOUCH_OK);
            assert_false(res->verified);
            ev.quote = p;
            ev.quote_len = len;
            ev.sig = l->sig.p;
            ev.sig_len = l->sig.len;
            assert_int_not_equal(vouch_tpm_verify(l->akobj, &ev, &o, res), VOUCH_OK);
        }
        free(p);
    }
    free(res);
    unload(l);
}

/* Every allocation failure on the verify path is a clean NOMEM. */
static void test_out_of_memory(void **state)
{
    struct loaded *l = load_quote(&quotes[0]);
    struct vouch_tpm_verify_result *res = calloc(1, sizeof(*res));
    bool passed = false;

    (void)state;
    assert_non_null(res);
    for (unsigned long n = 1; n < 200 && !passed; n++) {
        vouch_err rc;

        vouch_fault_after(n);
        rc = run_default(l, true, res);
        vouch_fault_after(0);
        vouch_tpm_verify_result_free(res);
        assert_true(rc == VOUCH_OK || rc == VOUCH_ERR_NOMEM);
        passed = rc == VOUCH_OK;
    }
    assert_true(passed);
    free(res);
    unload(l);
}

/* ---------------- crypto additions used here ---------------- */

static void test_crypto_additions(void **state)
{
    static const enum vouch_hash_alg algs[] = {VOUCH_HASH_SHA1, VOUCH_HASH_SHA256,
                                               VOUCH_HASH_SHA384, VOUCH_HASH_SHA512};
    struct vec ak = load(SWTPM "ak_rsa.tpm2b_public");
    struct vouch_tpm_public pub;
    struct vouch_pubkey *k = NULL;
    uint8_t msg[300], a[64], b[64], n[VOUCH_TPM_MAX_RSA_BYTES + 2];
    uint8_t e65537[3] = {1, 0, 1}, e1[1] = {1}, e_even[1] = {4};

    (void)state;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    /* H(a || b) from the reusable hasher equals the one-shot digest, for
     * every split, and the context is reusable. */
    for (size_t h = 0; h < sizeof(algs) / sizeof(algs[0]); h++) {
        struct vouch_hasher *hs = NULL;

        assert_int_equal(vouch_hasher_new(algs[h], &hs), VOUCH_OK);
        assert_int_equal(vouch_hasher_len(hs), vouch_hash_len(algs[h]));
        assert_int_equal(vouch_hash(algs[h], msg, sizeof(msg), a), VOUCH_OK);
        for (size_t cut = 0; cut <= sizeof(msg); cut += 37) {
            assert_int_equal(vouch_hasher_digest2(hs, msg, cut, msg + cut, sizeof(msg) - cut, b),
                             VOUCH_OK);
            assert_memory_equal(a, b, vouch_hash_len(algs[h]));
        }
        assert_int_equal(vouch_hasher_digest2(hs, NULL, 1, NULL, 0, b), VOUCH_ERR_INVAL);
        vouch_hasher_free(hs);
    }
    {
        struct vouch_hasher *bad = NULL;

        assert_int_equal(vouch_hasher_new((enum vouch_hash_alg)99, &bad), VOUCH_ERR_INVAL);
        assert_null(bad);
    }
    /* RSA from n and e: the AK's modulus works (with a leading zero too);
     * an even modulus, e = 1, an even e and an oversized modulus do not. */
    assert_int_equal(vouch_tpm_public_parse(ak.p, ak.len, &pub), VOUCH_OK);
    n[0] = 0;
    memcpy(n + 1, pub.rsa_n, pub.rsa_n_len);
    assert_int_equal(vouch_pubkey_from_rsa_ne(n, pub.rsa_n_len + 1, e65537, 3, &k), VOUCH_OK);
    vouch_pubkey_free(k);
    k = NULL;
    assert_int_equal(vouch_pubkey_from_rsa_ne(n + 1, pub.rsa_n_len, e1, 1, &k), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_pubkey_from_rsa_ne(n + 1, pub.rsa_n_len, e_even, 1, &k),
                     VOUCH_ERR_PARSE);
    n[pub.rsa_n_len] &= 0xfe;
    assert_int_equal(vouch_pubkey_from_rsa_ne(n + 1, pub.rsa_n_len, e65537, 3, &k),
                     VOUCH_ERR_PARSE);
    memset(n, 0xff, sizeof(n));
    assert_int_equal(vouch_pubkey_from_rsa_ne(n, VOUCH_MAX_RSA_BITS / 8 + 1, e65537, 3, &k),
                     VOUCH_ERR_PARSE);
    assert_null(k);
    free(ak.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_matches_expected),
        cmocka_unit_test(test_startup_locality),
        cmocka_unit_test(test_no_action_not_extended),
        cmocka_unit_test(test_short_no_action),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_log_limits),
        cmocka_unit_test(test_log_truncation),
        cmocka_unit_test(test_digest_checks),
        cmocka_unit_test(test_log_claims),
        cmocka_unit_test(test_tampered_secure_boot),
        cmocka_unit_test(test_events_json),
        cmocka_unit_test(test_ak_names),
        cmocka_unit_test(test_ak_forms_and_attributes),
        cmocka_unit_test(test_certify_creation),
        cmocka_unit_test(test_pcrs_parse),
        cmocka_unit_test(test_quotes_verify),
        cmocka_unit_test(test_pcr_digest_uses_signature_hash),
        cmocka_unit_test(test_quote_fields),
        cmocka_unit_test(test_decoder_is_silent),
        cmocka_unit_test(test_byte_flips),
        cmocka_unit_test(test_wrong_nonce_and_missing_pcr),
        cmocka_unit_test(test_sha1_and_scheme_policy),
        cmocka_unit_test(test_log_digest_flips),
        cmocka_unit_test(test_log_binding_failures),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_crypto_additions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
