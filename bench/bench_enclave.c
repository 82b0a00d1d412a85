/*
 * Enclave call benchmark (issue 5): the cost of crossing into the software
 * enclave (a separate, sandboxed process) over the shared-memory channel.
 *
 *   direct-empty        an empty function called through a pointer (baseline)
 *   blocking-empty      empty ecall, futex wait/wake on both sides
 *   switchless-empty    empty ecall, both sides spinning (bounded)
 *   direct-echo-1k/1m   a function copying the input to the output, directly
 *   {blocking,switchless}-echo-1k/1m
 *                       ecall copying 1 KiB / 1 MiB in and the same out
 *                       (host -> shared -> private -> private -> shared -> host)
 *
 * Targets: switchless empty ecall <= 0.5 us, blocking <= 15 us (p50). Each
 * figure is per call, timed call by call (clock overhead ~20-30 ns included).
 * The enclave is the runtime's test enclave (tests/enclave/test_enclave.c),
 * signed here with a fresh key; the loader comes from $VOUCH_ENCLAVE_LOADER
 * or the build tree.
 *
 * stdout: one JSON object per figure; stderr: a table.
 *
 * usage: bench_enclave [--seconds S]
 */
#include "bench_util.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "../tests/enclave/test_enclave.h"

#define MAX_SAMPLES (1u << 21)
#define MIN_ITERS   20u
#define ONE_MIB     (1024u * 1024u)

#define TARGET_SWITCHLESS_US 0.5
#define TARGET_BLOCKING_US   15.0

static double seconds = 1.0;
/* Pause before each timed call (not timed): lets the enclave worker fall
 * asleep, so the call pays the full wake-up. 0 for back-to-back calls. */
static unsigned gap_us;
static double samples[MAX_SAMPLES];

typedef int (*call_fn)(void *ctx);

struct stats {
    double mean_us, p50_us, p99_us, min_us;
    size_t iters;
};

static struct stats run(call_fn fn, void *ctx)
{
    struct stats s = {0};
    double total = 0, t_end = bench_now_us() + seconds * 1e6;
    size_t n = 0;
    /* Warm-up: the first calls fault in pages and wake the worker. */
    for (int i = 0; i < 10; i++)
        if (fn(ctx) != 0)
            exit(1);
    while (n < MAX_SAMPLES && ((gap_us == 0 && n < MIN_ITERS) || bench_now_us() < t_end)) {
        if (gap_us) {
            struct timespec ts = {0, (long)gap_us * 1000};
            nanosleep(&ts, NULL);
        }
        double t0 = bench_now_us();
        if (fn(ctx) != 0) {
            fprintf(stderr, "bench_enclave: a call failed\n");
            exit(1);
        }
        samples[n] = bench_now_us() - t0;
        total += samples[n];
        n++;
    }
    bench_sort(samples, n);
    s.iters = n;
    s.mean_us = total / (double)n;
    s.p50_us = bench_percentile(samples, n, 50);
    s.p99_us = bench_percentile(samples, n, 99);
    s.min_us = samples[0];
    return s;
}

static void report(const char *name, const struct stats *s, size_t bytes, double target)
{
    double load = bench_load_1m();
    printf("{\"bench\":\"enclave\",\"case\":\"%s\",\"mean_us\":%.3f,\"p50_us\":%.3f,"
           "\"p99_us\":%.3f,\"min_us\":%.3f,\"iters\":%zu",
           name, s->mean_us, s->p50_us, s->p99_us, s->min_us, s->iters);
    if (bytes)
        printf(",\"bytes\":%zu,\"mib_per_s\":%.1f", bytes,
               (double)bytes / (1024.0 * 1024.0) / (s->p50_us / 1e6));
    if (target > 0)
        printf(",\"target_us\":%.1f,\"meets_target\":%s", target,
               s->p50_us <= target ? "true" : "false");
    if (load >= 0)
        printf(",\"load_1m\":%.2f", load);
    printf("}\n");
    fprintf(stderr, "%-22s p50 %10.3f us  mean %10.3f  p99 %10.3f  (%zu calls)%s\n", name,
            s->p50_us, s->mean_us, s->p99_us, s->iters,
            target > 0 ? (s->p50_us <= target ? "  target met" : "  TARGET MISSED") : "");
    fflush(stdout);
}

/* ---- the cases ---- */

struct ctx {
    struct vouch_enclave *e;
    unsigned flags;
    uint32_t fn;
    uint8_t *in, *out;
    size_t len;
};

static int ecall_case(void *p)
{
    struct ctx *c = p;
    size_t got = 0;
    if (vouch_enclave_ecall(c->e, c->fn, c->flags, c->in, c->len, c->out, c->len, &got) != VOUCH_OK)
        return -1;
    return got == c->len ? 0 : -1;
}

/* The direct baselines, called through a volatile pointer so they are not
 * inlined away. */
static int direct_empty(void *p)
{
    (void)p;
    return 0;
}

static int direct_echo(void *p)
{
    struct ctx *c = p;
    memcpy(c->out, c->in, c->len);
    __asm__ volatile("" : : "r"(c->out) : "memory");
    return 0;
}

static int (*volatile direct_empty_ptr)(void *) = direct_empty;
static int (*volatile direct_echo_ptr)(void *) = direct_echo;

static int call_direct_empty(void *p)
{
    return direct_empty_ptr(p);
}

static int call_direct_echo(void *p)
{
    return direct_echo_ptr(p);
}

static int sign_enclave(const char *image_path)
{
    FILE *f = fopen(VOUCH_BENCH_ENCLAVE_SO, "rb");
    if (!f)
        return -1;
    static uint8_t so[8u * ONE_MIB];
    size_t so_len = fread(so, 1, sizeof so, f);
    fclose(f);
    struct vouch_pkey *key = NULL;
    if (so_len == 0 || vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key) != VOUCH_OK)
        return -1;
    struct vouch_enclave_image_config cfg;
    vouch_enclave_image_config_default(&cfg);
    cfg.thread_count = 2;
    uint8_t *img = NULL;
    size_t img_len = 0;
    vouch_err err = vouch_enclave_image_sign(so, so_len, &cfg, key, &img, &img_len);
    vouch_pkey_free(key);
    if (err != VOUCH_OK)
        return -1;
    f = fopen(image_path, "wb");
    int rc = f && fwrite(img, 1, img_len, f) == img_len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    vouch_free(img);
    return rc;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_enclave [--seconds S]\n");
            return 2;
        }
    }
    char dir[] = "/tmp/vouch-bench-enclave-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char image[sizeof dir + 16], platform[sizeof dir + 16];
    snprintf(image, sizeof image, "%s/bench.enclave", dir);
    snprintf(platform, sizeof platform, "%s/platform", dir);
    int rc = 1;
    struct vouch_enclave *e = NULL;
    uint8_t *in = malloc(ONE_MIB), *out = malloc(ONE_MIB);
    if (!in || !out || sign_enclave(image) != 0) {
        fprintf(stderr, "bench_enclave: cannot sign the test enclave\n");
        goto out;
    }
    memset(in, 0x5a, ONE_MIB);
    const char *loader = getenv("VOUCH_ENCLAVE_LOADER");
    struct vouch_enclave_config cfg = {.platform_dir = platform,
                                       .loader_path = loader ? loader : VOUCH_BENCH_LOADER,
                                       .call_bytes = ONE_MIB};
    if (vouch_enclave_create(image, &cfg, &e) != VOUCH_OK) {
        fprintf(stderr, "bench_enclave: cannot start the enclave\n");
        goto out;
    }

    struct ctx c = {.e = e, .in = in, .out = out};
    struct stats s;
    s = run(call_direct_empty, &c);
    report("direct-empty", &s, 0, 0);
    c.fn = TE_EMPTY;
    c.len = 0;
    c.flags = 0;
    s = run(ecall_case, &c);
    report("blocking-empty", &s, 0, TARGET_BLOCKING_US);
    /* The same call into an idle enclave: its worker is asleep on the futex,
     * so the call pays one wake-up of another process. */
    gap_us = 500;
    s = run(ecall_case, &c);
    gap_us = 0;
    report("blocking-empty-idle", &s, 0, TARGET_BLOCKING_US);
    c.flags = VOUCH_CALL_SWITCHLESS;
    s = run(ecall_case, &c);
    report("switchless-empty", &s, 0, TARGET_SWITCHLESS_US);

    static const struct {
        size_t len;
        const char *suffix;
    } sizes[] = {{1024, "1k"}, {ONE_MIB, "1m"}};
    for (size_t k = 0; k < 2; k++) {
        char name[64];
        c.len = sizes[k].len;
        snprintf(name, sizeof name, "direct-echo-%s", sizes[k].suffix);
        s = run(call_direct_echo, &c);
        report(name, &s, c.len, 0);
        c.fn = TE_ECHO;
        c.flags = 0;
        snprintf(name, sizeof name, "blocking-echo-%s", sizes[k].suffix);
        s = run(ecall_case, &c);
        report(name, &s, c.len, 0);
        c.flags = VOUCH_CALL_SWITCHLESS;
        snprintf(name, sizeof name, "switchless-echo-%s", sizes[k].suffix);
        s = run(ecall_case, &c);
        report(name, &s, c.len, 0);
        if (memcmp(in, out, c.len) != 0) {
            fprintf(stderr, "bench_enclave: echo returned wrong bytes\n");
            goto out;
        }
    }
    rc = 0;
out:
    vouch_enclave_terminate(e);
    free(in);
    free(out);
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
