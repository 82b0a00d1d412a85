/*
 * The software enclave runtime end to end: vouch-enclave-loader started by
 * libvouch, the call channel in both modes, ocalls, concurrent threads, the
 * sandbox, the heap budget, hostile host behaviour, non-dumpability, and the
 * platform agent's evidence and seal keys. The enclave is
 * tests/enclave/test_enclave.c, signed here with a fresh key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <vouch/crypto.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/enclave_rt.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/seal.h>
#include <vouch/sim.h>
#include <vouch/time.h>

#include "../enclave/test_enclave.h"
#include "tee/enclave_chan.h"
#include "testutil.h"

#ifndef VOUCH_TEST_ENCLAVE_SO
#error "VOUCH_TEST_ENCLAVE_SO is set by cmake/tee.cmake"
#endif

#define HEAP_SIZE (1024u * 1024u)
#define THREADS   4u

static char tmpdir[] = "/tmp/vouch-enclave-rt-XXXXXX";
static char image_path[PATH_MAX];
static char platform_dir[PATH_MAX];
static struct vouch_enclave_image_config image_cfg;
static uint8_t *so_bytes;
static size_t so_len;

/* ---- host ocalls ---- */

static vouch_err oc_reverse(const void *in, size_t in_len, void *out, size_t out_cap,
                            size_t *out_len)
{
    if (in_len > out_cap)
        return VOUCH_ERR_TOO_LARGE;
    const uint8_t *p = in;
    uint8_t *q = out;
    for (size_t i = 0; i < in_len; i++)
        q[i] = p[in_len - 1 - i];
    *out_len = in_len;
    return VOUCH_OK;
}

/* The hostile host of the TOCTOU test: rewrites every byte of the shared
 * channel's data areas while the enclave is inside the ecall. */
static uint8_t *gate_map;
static size_t gate_len;

static vouch_err oc_gate(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_cap;
    /* Data areas only: overwriting the headers would just break the call. */
    if (gate_map) {
        size_t stride = gate_len / THREADS;
        for (unsigned i = 0; i < THREADS; i++)
            memset(gate_map + i * stride + VOUCH_CHAN_DATA_OFF, 0xff, stride - VOUCH_CHAN_DATA_OFF);
    }
    *out_len = 0;
    return VOUCH_OK;
}

static vouch_err oc_oversize(const void *in, size_t in_len, void *out, size_t out_cap,
                             size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    *out_len = out_cap + 1;
    return VOUCH_OK;
}

static const struct vouch_enclave_ocall ocalls[TE_OCALL__COUNT] = {
    [TE_OCALL_REVERSE] = {oc_reverse},
    [TE_OCALL_GATE] = {oc_gate},
    [TE_OCALL_OVERSIZE] = {oc_oversize},
};

static struct vouch_enclave *start(enum vouch_enclave_mode mode)
{
    struct vouch_enclave_config cfg = {.ocalls = ocalls,
                                       .ocall_count = TE_OCALL__COUNT,
                                       .platform_dir = platform_dir,
                                       .loader_path = VOUCH_TEST_LOADER,
                                       .mode = mode};
    struct vouch_enclave *e = NULL;
    assert_int_equal(vouch_enclave_create(image_path, &cfg, &e), VOUCH_OK);
    assert_non_null(e);
    assert_int_equal(vouch_enclave_threads(e), THREADS);
    return e;
}

static int write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(p, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(image_path, sizeof image_path, "%s/test.enclave", tmpdir);
    snprintf(platform_dir, sizeof platform_dir, "%s/platform", tmpdir);
    so_bytes = vt_read_path(VOUCH_TEST_ENCLAVE_SO, &so_len);
    if (!so_bytes)
        return -1;
    struct vouch_pkey *key = NULL;
    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key) != VOUCH_OK)
        return -1;
    vouch_enclave_image_config_default(&image_cfg);
    image_cfg.product_id = 7;
    image_cfg.svn = 3;
    image_cfg.heap_size = HEAP_SIZE;
    image_cfg.thread_count = THREADS;
    uint8_t *img = NULL;
    size_t img_len = 0;
    vouch_err err = vouch_enclave_image_sign(so_bytes, so_len, &image_cfg, key, &img, &img_len);
    vouch_pkey_free(key);
    if (err != VOUCH_OK)
        return -1;
    int rc = write_file(image_path, img, img_len);
    vouch_free(img);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    free(so_bytes);
    return system(cmd) == 0 ? 0 : -1;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

/* ---- calls ---- */

static void echo_check(struct vouch_enclave *e, unsigned flags, size_t n, unsigned seed)
{
    uint8_t *in = malloc(n ? n : 1), *out = malloc(n ? n : 1);
    assert_non_null(in);
    assert_non_null(out);
    fill(in, n, seed);
    size_t got = 0;
    assert_int_equal(vouch_enclave_ecall(e, TE_ECHO, flags, in, n, out, n, &got), VOUCH_OK);
    assert_int_equal(got, n);
    assert_memory_equal(in, out, n);
    free(in);
    free(out);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    size_t got = 99;
    uint8_t buf[64];

    for (unsigned flags = 0; flags <= VOUCH_CALL_SWITCHLESS; flags++) {
        assert_int_equal(vouch_enclave_ecall(e, TE_EMPTY, flags, NULL, 0, NULL, 0, &got), VOUCH_OK);
        assert_int_equal(got, 0);
        echo_check(e, flags, 1, 1);
        echo_check(e, flags, 1024, 2);
        echo_check(e, flags, vouch_enclave_call_bytes(e), 3);
    }
    /* The init hook ran inside the sandbox before the first call. */
    uint32_t ran = 0;
    assert_int_equal(vouch_enclave_ecall(e, TE_INIT_RAN, 0, NULL, 0, &ran, sizeof ran, &got),
                     VOUCH_OK);
    assert_int_equal(ran, 1);
    /* Too much input is refused before it is sent. */
    size_t big = vouch_enclave_call_bytes(e) + 1;
    uint8_t *in = calloc(1, big);
    assert_non_null(in);
    assert_int_equal(vouch_enclave_ecall(e, TE_ECHO, 0, in, big, NULL, 0, &got),
                     VOUCH_ERR_TOO_LARGE);
    /* Output that does not fit: TOO_LARGE and the size needed. */
    assert_int_equal(vouch_enclave_ecall(e, TE_ECHO, 0, in, 100, buf, 10, &got),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(got, 100);
    free(in);
    /* Unknown function. */
    assert_int_equal(vouch_enclave_ecall(e, TE__COUNT, 0, NULL, 0, NULL, 0, &got), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_enclave_ecall(e, UINT32_MAX, 0, NULL, 0, NULL, 0, &got),
                     VOUCH_ERR_INVAL);

    /* The identity the host was told is what the loader computed, what the
     * enclave sees, and what measuring the .so gives. */
    struct vouch_enclave_identity id;
    vouch_enclave_get_identity(e, &id);
    uint8_t m[32];
    assert_int_equal(vouch_enclave_measure(so_bytes, so_len, &image_cfg, m), VOUCH_OK);
    assert_memory_equal(id.measurement, m, 32);
    assert_int_equal(id.product_id, 7);
    assert_int_equal(id.svn, 3);
    struct vouch_rt_identity rid;
    assert_int_equal(vouch_enclave_ecall(e, TE_IDENTITY, 0, NULL, 0, &rid, sizeof rid, &got),
                     VOUCH_OK);
    assert_int_equal(got, sizeof rid);
    assert_memory_equal(rid.measurement, m, 32);
    assert_memory_equal(rid.signer_id, id.signer_id, 32);
    assert_int_equal(rid.svn, 3);
    assert_false(vouch_enclave_is_dead(e));
    vouch_enclave_terminate(e);
}

static void test_forced_modes(void **state)
{
    (void)state;
    enum vouch_enclave_mode modes[] = {VOUCH_ENCLAVE_MODE_BLOCKING, VOUCH_ENCLAVE_MODE_SWITCHLESS};
    for (size_t i = 0; i < 2; i++) {
        struct vouch_enclave *e = start(modes[i]);
        for (unsigned k = 0; k < 50; k++)
            echo_check(e, k & 1u, 256, k);
        vouch_enclave_terminate(e);
    }
}

static void test_ocalls(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    uint8_t in[4 + 300], out[300];
    size_t got = 0;
    for (unsigned flags = 0; flags <= VOUCH_CALL_SWITCHLESS; flags++) {
        uint32_t fn = TE_OCALL_REVERSE;
        memcpy(in, &fn, 4);
        fill(in + 4, 300, 9 + flags);
        assert_int_equal(
            vouch_enclave_ecall(e, TE_OCALL, flags, in, sizeof in, out, sizeof out, &got),
            VOUCH_OK);
        assert_int_equal(got, 300);
        for (size_t i = 0; i < 300; i++)
            assert_int_equal(out[i], in[4 + 299 - i]);
    }
    /* An ocall number the host does not have. */
    uint32_t fn = 77;
    memcpy(in, &fn, 4);
    assert_int_equal(vouch_enclave_ecall(e, TE_OCALL, 0, in, 4, out, sizeof out, &got),
                     VOUCH_ERR_INVAL);
    /* A host function that breaks its contract becomes INTERNAL in the
     * enclave, which stays alive. */
    fn = TE_OCALL_OVERSIZE;
    memcpy(in, &fn, 4);
    assert_int_equal(vouch_enclave_ecall(e, TE_OCALL, 0, in, 4, out, sizeof out, &got),
                     VOUCH_ERR_INTERNAL);
    echo_check(e, 0, 16, 1);
    vouch_enclave_terminate(e);
}

struct thr {
    struct vouch_enclave *e;
    unsigned idx;
    uint32_t fn;
    vouch_err err;
};

static void *echo_thread(void *arg)
{
    struct thr *t = arg;
    uint8_t in[512], out[512];
    t->err = VOUCH_OK;
    for (unsigned k = 0; k < 100 && t->err == VOUCH_OK; k++) {
        fill(in, sizeof in, t->idx * 1000u + k);
        size_t got = 0;
        t->err = vouch_enclave_ecall(t->e, TE_ECHO, (k + t->idx) & 1u ? VOUCH_CALL_SWITCHLESS : 0,
                                     in, sizeof in, out, sizeof out, &got);
        if (t->err == VOUCH_OK && (got != sizeof in || memcmp(in, out, got) != 0))
            t->err = VOUCH_ERR_MISMATCH;
    }
    return NULL;
}

static void *rendezvous_thread(void *arg)
{
    struct thr *t = arg;
    uint32_t n = THREADS;
    size_t got = 0;
    t->err = vouch_enclave_ecall(t->e, TE_RENDEZVOUS, 0, &n, sizeof n, NULL, 0, &got);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    /* More host threads than enclave threads: the extra ones wait for a slot. */
    enum { N = THREADS + 2 };
    pthread_t th[N];
    struct thr t[N];
    for (unsigned i = 0; i < N; i++) {
        t[i] = (struct thr){.e = e, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, echo_thread, &t[i]), 0);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].err, VOUCH_OK);
    }
    /* THREADS calls inside the enclave at once: each returns only when all
     * have arrived, so this completes only if the slots run concurrently. */
    for (unsigned i = 0; i < THREADS; i++) {
        t[i] = (struct thr){.e = e, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, rendezvous_thread, &t[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].err, VOUCH_OK);
    }
    vouch_enclave_terminate(e);
}

/* ---- sandbox and budget ---- */

static void test_forbidden_syscall(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    size_t got = 0;
    echo_check(e, 0, 8, 1);
    /* A call pending inside the enclave (it waits for a second caller who
     * never comes) while another call makes a forbidden system call. */
    struct thr pending = {.e = e};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, rendezvous_thread, &pending), 0);
    assert_int_equal(vouch_enclave_ecall(e, TE_FORBIDDEN, 0, NULL, 0, NULL, 0, &got),
                     VOUCH_ERR_ENCLAVE);
    pthread_join(th, NULL);
    assert_int_equal(pending.err, VOUCH_ERR_ENCLAVE);
    assert_true(vouch_enclave_is_dead(e));
    /* Every later call fails the same way; the host is unaffected. */
    assert_int_equal(vouch_enclave_ecall(e, TE_EMPTY, 0, NULL, 0, NULL, 0, &got),
                     VOUCH_ERR_ENCLAVE);
    assert_int_equal(
        vouch_enclave_ecall(e, TE_EMPTY, VOUCH_CALL_SWITCHLESS, NULL, 0, NULL, 0, &got),
        VOUCH_ERR_ENCLAVE);
    vouch_enclave_terminate(e);
    /* A new enclave from the same image works. */
    e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    echo_check(e, VOUCH_CALL_SWITCHLESS, 8, 2);
    vouch_enclave_terminate(e);
}

static void test_memory_budget(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    uint64_t bs = 1000, r[4] = {0};
    size_t got = 0;
    assert_int_equal(vouch_enclave_ecall(e, TE_EXHAUST, 0, &bs, sizeof bs, r, sizeof r, &got),
                     VOUCH_OK);
    assert_int_equal(got, sizeof r);
    /* 1000 bytes + header take a 1 KiB block: exactly heap/1 KiB fit. */
    assert_int_equal(r[0], HEAP_SIZE / 1024u);
    assert_true(r[1] <= HEAP_SIZE);
    assert_int_equal(r[2], HEAP_SIZE);
    assert_int_equal(r[3], 1);
    /* A block larger than the whole budget fails at once. */
    bs = 2u * HEAP_SIZE;
    assert_int_equal(vouch_enclave_ecall(e, TE_EXHAUST, 0, &bs, sizeof bs, r, sizeof r, &got),
                     VOUCH_OK);
    assert_int_equal(r[0], 0);
    assert_int_equal(r[3], 0);
    /* Exhaustion did not hurt the enclave or the host. */
    echo_check(e, 0, 4096, 5);
    assert_false(vouch_enclave_is_dead(e));
    vouch_enclave_terminate(e);
}

/* ---- hostile host ---- */

/* Finds this process's mapping of the (only) live enclave channel. */
static uint8_t *find_channel(size_t *len)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[512];
    uint8_t *r = NULL;
    while (f && fgets(line, sizeof line, f)) {
        if (!strstr(line, "memfd:vouch-channel"))
            continue;
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
            r = (uint8_t *)(uintptr_t)lo;
            *len = hi - lo;
        }
    }
    if (f)
        fclose(f);
    return r;
}

/* Posts a raw request in slot 0 as a hostile host would and waits for DONE. */
static uint32_t raw_call(struct vouch_chan_slot *s, uint32_t fn, uint64_t in_len, uint64_t cap)
{
    __atomic_store_n(&s->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&s->flags, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&s->in_len, in_len, __ATOMIC_RELAXED);
    __atomic_store_n(&s->out_cap, cap, __ATOMIC_RELAXED);
    /* Set before posting: the worker wakes the host only when asked to. */
    __atomic_store_n(&s->host_sleep, 1u, __ATOMIC_SEQ_CST);
    __atomic_store_n(&s->state, (uint32_t)VOUCH_CHAN_ECALL, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &s->state, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    uint32_t st;
    while ((st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST)) == VOUCH_CHAN_ECALL)
        syscall(SYS_futex, &s->state, FUTEX_WAIT, st, NULL, NULL, 0);
    __atomic_store_n(&s->host_sleep, 0u, __ATOMIC_SEQ_CST);
    assert_int_equal(st, VOUCH_CHAN_DONE);
    uint32_t status = __atomic_load_n(&s->status, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, (uint32_t)VOUCH_CHAN_IDLE, __ATOMIC_SEQ_CST);
    return status;
}

static void test_hostile_host(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_BLOCKING);
    size_t len = 0;
    uint8_t *map = find_channel(&len);
    assert_non_null(map);
    size_t cb = vouch_enclave_call_bytes(e);
    assert_int_equal(len, THREADS * (cb + VOUCH_CHAN_DATA_OFF));
    struct vouch_chan_slot *s = (struct vouch_chan_slot *)(void *)map;

    /* Lengths beyond the buffer, and an unknown function, straight into the
     * shared header: refused without touching memory. */
    assert_int_equal(raw_call(s, TE_ECHO, cb + 1, 16), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(raw_call(s, TE_ECHO, UINT64_MAX, 16), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(raw_call(s, TE_ECHO, 16, UINT64_MAX), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(raw_call(s, UINT32_MAX, 0, 0), VOUCH_ERR_INVAL);
    echo_check(e, 0, 100, 7);

    /* Shared memory rewritten while the enclave works on the call: the
     * enclave hashes its input before and after; both equal the original. */
    gate_map = map;
    gate_len = len;
    uint8_t in[4096];
    uint64_t h[2];
    size_t got = 0;
    fill(in, sizeof in, 11);
    assert_int_equal(vouch_enclave_ecall(e, TE_TOCTOU, 0, in, sizeof in, h, sizeof h, &got),
                     VOUCH_OK);
    gate_map = NULL;
    uint64_t want = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof in; i++)
        want = (want ^ in[i]) * 1099511628211ull;
    assert_int_equal(h[0], want);
    assert_int_equal(h[1], want);
    echo_check(e, 0, 100, 8);
    vouch_enclave_terminate(e);
}

static void test_broken_stub(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    uint8_t out[16];
    size_t got = 0;
    /* Claiming more output than offered is a protocol error: the enclave is
     * stopped and the output never copied. */
    assert_int_equal(vouch_enclave_ecall(e, TE_OVERFLOW, 0, NULL, 0, out, sizeof out, &got),
                     VOUCH_ERR_ENCLAVE);
    assert_int_equal(got, 0);
    assert_true(vouch_enclave_is_dead(e));
    vouch_enclave_terminate(e);
}

/* ---- process hardening ---- */

static int status_field(pid_t pid, const char *name, char *out, size_t cap)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    int found = -1;
    while (f && fgets(line, sizeof line, f)) {
        size_t n = strlen(name);
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(out, cap, "%s", v);
            out[strcspn(out, "\n")] = '\0';
            found = 0;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* In a child without CAP_SYS_PTRACE: 0 when attaching to @p pid fails with
 * EPERM and attaching to a dumpable process of ours works (so the refusal
 * is the enclave's doing). */
static int ptrace_probe(pid_t target)
{
    pid_t c = fork();
    if (c < 0)
        return -1;
    if (c == 0) {
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2];
        if (syscall(SYS_capget, &hdr, data) != 0)
            _exit(10);
        data[0].effective &= ~(1u << CAP_SYS_PTRACE);
        data[0].permitted &= ~(1u << CAP_SYS_PTRACE);
        if (syscall(SYS_capset, &hdr, data) != 0)
            _exit(11);
        pid_t ctl = fork();
        if (ctl == 0) {
            pause();
            _exit(0);
        }
        int ok_ctl = ptrace(PTRACE_ATTACH, ctl, NULL, NULL) == 0;
        if (ok_ctl) {
            waitpid(ctl, NULL, 0);
            ptrace(PTRACE_DETACH, ctl, NULL, NULL);
        }
        kill(ctl, SIGKILL);
        waitpid(ctl, NULL, 0);
        errno = 0;
        int refused = ptrace(PTRACE_ATTACH, target, NULL, NULL) != 0 && errno == EPERM;
        _exit(!ok_ctl ? 12 : !refused ? 13 : 0);
    }
    int st = 0;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static void test_hardening(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    pid_t pid = vouch_enclave_pid(e);
    assert_true(pid > 0);
    char v[128];
    assert_int_equal(status_field(pid, "NoNewPrivs", v, sizeof v), 0);
    assert_string_equal(v, "1");
    assert_int_equal(status_field(pid, "Seccomp", v, sizeof v), 0);
    assert_string_equal(v, "2"); /* filter mode */

    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    int core_zero = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long soft, hard;
        if (strncmp(line, "Max core file size", 18) == 0 &&
            sscanf(line + 18, " %llu %llu", &soft, &hard) == 2)
            core_zero = soft == 0 && hard == 0;
    }
    fclose(f);
    assert_true(core_zero);
    assert_int_equal(ptrace_probe(pid), 0);
    echo_check(e, 0, 8, 1);
    vouch_enclave_terminate(e);
}

/* True while @p pid exists and is not a zombie. */
static int process_alive(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void test_host_death(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        /* A host that exits without terminating its enclave. */
        struct vouch_enclave_config cfg = {.platform_dir = platform_dir,
                                           .loader_path = VOUCH_TEST_LOADER};
        struct vouch_enclave *e = NULL;
        int pid = -1;
        if (vouch_enclave_create(image_path, &cfg, &e) == VOUCH_OK)
            pid = vouch_enclave_pid(e);
        ssize_t w = write(p[1], &pid, sizeof pid);
        _exit(w == (ssize_t)sizeof pid ? 0 : 1);
    }
    close(p[1]);
    int pid = -1;
    assert_int_equal(read(p[0], &pid, sizeof pid), (ssize_t)sizeof pid);
    close(p[0]);
    int st = 0;
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(pid > 0);
    /* The agent sees the host's socket close and kills the enclave; wait for
     * that event (bounded generously, it normally takes milliseconds). */
    for (int i = 0; i < 3000 && process_alive(pid); i++)
        usleep(10000);
    assert_false(process_alive(pid));
}

/* ---- platform agent ---- */

static void test_evidence(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    uint8_t rd[64];
    fill(rd, sizeof rd, 42);
    uint8_t *ev = malloc(VOUCH_MAX_EVIDENCE_SIZE);
    assert_non_null(ev);
    size_t ev_len = 0;
    assert_int_equal(
        vouch_enclave_ecall(e, TE_EVIDENCE, 0, rd, sizeof rd, ev, VOUCH_MAX_EVIDENCE_SIZE, &ev_len),
        VOUCH_OK);

    struct vouch_sim_platform *p = NULL;
    assert_int_equal(vouch_sim_platform_open(platform_dir, vouch_time_now(), &p), VOUCH_OK);
    const uint8_t *ca_der;
    size_t ca_len;
    vouch_sim_platform_ca_der(p, &ca_der, &ca_len);
    struct vouch_x509 *ca = NULL;
    assert_int_equal(vouch_x509_parse_der(ca_der, ca_len, &ca), VOUCH_OK);
    struct vouch_sim_report rep;
    assert_int_equal(vouch_sim_evidence_verify(ev, ev_len, &ca, 1, vouch_time_now(), &rep, NULL, 0),
                     VOUCH_OK);
    struct vouch_enclave_identity id;
    vouch_enclave_get_identity(e, &id);
    assert_memory_equal(rep.id.measurement, id.measurement, 32);
    assert_memory_equal(rep.id.signer_id, id.signer_id, 32);
    assert_int_equal(rep.id.product_id, 7);
    assert_int_equal(rep.id.svn, 3);
    assert_memory_equal(rep.report_data, rd, 64);
    vouch_x509_free(ca);
    vouch_sim_platform_free(p);
    free(ev);
    vouch_enclave_terminate(e);
}

static void test_seal(void **state)
{
    (void)state;
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    uint8_t in[1 + 32], blob[256], out[64];
    size_t blob_len = 0, got = 0;
    for (uint8_t policy = VOUCH_RT_SEAL_POLICY_UNIQUE; policy <= VOUCH_RT_SEAL_POLICY_PRODUCT;
         policy++) {
        in[0] = policy;
        fill(in + 1, 32, policy);
        assert_int_equal(
            vouch_enclave_ecall(e, TE_SEAL, 0, in, sizeof in, blob, sizeof blob, &blob_len),
            VOUCH_OK);
        assert_int_equal(blob_len, 32 + VOUCH_RT_SEAL_OVERHEAD);
        assert_int_equal(
            vouch_enclave_ecall(e, TE_UNSEAL, 0, blob, blob_len, out, sizeof out, &got), VOUCH_OK);
        assert_int_equal(got, 32);
        assert_memory_equal(out, in + 1, 32);
        blob[blob_len - 1] ^= 1;
        assert_int_equal(
            vouch_enclave_ecall(e, TE_UNSEAL, 0, blob, blob_len, out, sizeof out, &got),
            VOUCH_ERR_SIGNATURE);
    }
    in[0] = 9;
    assert_int_equal(
        vouch_enclave_ecall(e, TE_SEAL, 0, in, sizeof in, blob, sizeof blob, &blob_len),
        VOUCH_ERR_INVAL);
    vouch_enclave_terminate(e);
}

/* ---- refused images ---- */

static void test_refused_images(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *img = vt_read_path(image_path, &len);
    assert_non_null(img);
    char bad[PATH_MAX + 8];
    snprintf(bad, sizeof bad, "%s.bad", image_path);
    struct vouch_enclave_config cfg = {.platform_dir = platform_dir,
                                       .loader_path = VOUCH_TEST_LOADER};
    struct vouch_enclave *e = NULL;

    /* One flipped code byte: the measurement changes, the signature fails. */
    img[64 + 0x40 + 8] ^= 0x01; /* inside the ELF program headers */
    assert_int_equal(write_file(bad, img, len), 0);
    assert_int_not_equal(vouch_enclave_create(bad, &cfg, &e), VOUCH_OK);
    assert_null(e);
    /* The bare .so (unsigned). */
    assert_int_equal(vouch_enclave_create(VOUCH_TEST_ENCLAVE_SO, &cfg, &e), VOUCH_ERR_PARSE);
    assert_null(e);
    /* No such loader. */
    cfg.loader_path = "/nonexistent/vouch-enclave-loader";
    assert_int_equal(vouch_enclave_create(image_path, &cfg, &e), VOUCH_ERR_IO);
    assert_null(e);
    free(img);
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_forced_modes),
        cmocka_unit_test(test_ocalls),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_forbidden_syscall),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_hostile_host),
        cmocka_unit_test(test_broken_stub),
        cmocka_unit_test(test_hardening),
        cmocka_unit_test(test_host_death),
        cmocka_unit_test(test_evidence),
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_refused_images),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
