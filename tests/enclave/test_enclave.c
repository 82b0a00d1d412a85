/*
 * The enclave used by tests/unit/test_enclave_rt.c and bench/bench_enclave.c.
 * Its ecalls are written by hand directly against the runtime's flat-buffer
 * ABI (include/vouch/enclave_rt.h), so the runtime is tested without the EDL
 * generator. Function numbers are the TE_* constants in test_enclave.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vouch/enclave_rt.h>

#include "test_enclave.h"

static vouch_err te_empty(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_cap;
    *out_len = 0;
    return VOUCH_OK;
}

static vouch_err te_echo(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (in_len > out_cap) {
        *out_len = in_len;
        return VOUCH_ERR_TOO_LARGE;
    }
    memcpy(out, in, in_len);
    *out_len = in_len;
    return VOUCH_OK;
}

/* in: u32 ocall number, then the ocall's input. Returns the ocall's output;
 * the ocall's error is the ecall's error. */
static vouch_err te_ocall(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    uint32_t fn;
    if (in_len < sizeof fn)
        return VOUCH_ERR_INVAL;
    memcpy(&fn, in, sizeof fn);
    return vouch_rt_ocall(fn, 0, (const uint8_t *)in + sizeof fn, in_len - sizeof fn, out, out_cap,
                          out_len);
}

/* A system call outside the allow-list: the sandbox kills the process. */
static vouch_err te_forbidden(const void *in, size_t in_len, void *out, size_t out_cap,
                              size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_cap;
    int fd = open("/etc/hostname", O_RDONLY);
    *out_len = 0;
    return fd >= 0 ? VOUCH_OK : VOUCH_ERR_IO;
}

/* in: u64 block size. Allocates blocks until the heap says no, checks each
 * is writable, frees them all and allocates once more. out: u64 blocks, u64
 * heap used at the peak, u64 budget, u64 1 when the final allocation worked. */
static vouch_err te_exhaust(const void *in, size_t in_len, void *out, size_t out_cap,
                            size_t *out_len)
{
    uint64_t bs, r[4] = {0};
    if (in_len != sizeof bs || out_cap < sizeof r)
        return VOUCH_ERR_INVAL;
    memcpy(&bs, in, sizeof bs);
    if (bs == 0)
        return VOUCH_ERR_INVAL;
    void *head = NULL; /* blocks chained through their first word */
    for (;;) {
        void **b = vouch_rt_malloc((size_t)bs);
        if (!b)
            break;
        memset(b, 0xa5, (size_t)bs);
        *b = head;
        head = b;
        r[0]++;
    }
    size_t used = 0, budget = 0;
    vouch_rt_heap_stats(&used, &budget);
    r[1] = used;
    r[2] = budget;
    while (head) {
        void *next = *(void **)head;
        vouch_rt_free(head);
        head = next;
    }
    void *again = vouch_rt_malloc((size_t)bs);
    r[3] = again != NULL;
    vouch_rt_free(again);
    memcpy(out, r, sizeof r);
    *out_len = sizeof r;
    return VOUCH_OK;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Hashes the input, waits until the host says (through ocall TE_OCALL_GATE)
 * that it has rewritten the shared buffer, hashes again. out: u64 first
 * hash, u64 second hash. Equal hashes show the enclave reads a private copy. */
static vouch_err te_toctou(const void *in, size_t in_len, void *out, size_t out_cap,
                           size_t *out_len)
{
    uint64_t h[2];
    if (out_cap < sizeof h)
        return VOUCH_ERR_INVAL;
    h[0] = fnv1a(in, in_len);
    uint8_t dummy;
    size_t n = 0;
    vouch_err err = vouch_rt_ocall(TE_OCALL_GATE, 0, NULL, 0, &dummy, 0, &n);
    if (err != VOUCH_OK)
        return err;
    h[1] = fnv1a(in, in_len);
    memcpy(out, h, sizeof h);
    *out_len = sizeof h;
    return VOUCH_OK;
}

/* in: report data (64 bytes). out: the evidence. */
static vouch_err te_evidence(const void *in, size_t in_len, void *out, size_t out_cap,
                             size_t *out_len)
{
    if (in_len != VOUCH_RT_REPORT_DATA_LEN)
        return VOUCH_ERR_INVAL;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    vouch_err err = vouch_rt_get_evidence(in, &ev, &ev_len);
    if (err != VOUCH_OK)
        return err;
    if (ev_len > out_cap) {
        *out_len = ev_len;
        err = VOUCH_ERR_TOO_LARGE;
    } else {
        memcpy(out, ev, ev_len);
        *out_len = ev_len;
    }
    vouch_rt_free(ev);
    return err;
}

/* Seals the input under the policy in its first byte and unseals it again.
 * out: the blob. */
static vouch_err te_seal(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (in_len < 1)
        return VOUCH_ERR_INVAL;
    const uint8_t *p = in;
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    vouch_err err = vouch_rt_seal(p[0], p + 1, in_len - 1, "aad", 3, &blob, &blob_len);
    if (err != VOUCH_OK)
        return err;
    err = vouch_rt_unseal(blob, blob_len, "aad", 3, &plain, &plain_len);
    if (err == VOUCH_OK && (plain_len != in_len - 1 || memcmp(plain, p + 1, plain_len) != 0))
        err = VOUCH_ERR_MISMATCH;
    if (err == VOUCH_OK && blob_len > out_cap)
        err = VOUCH_ERR_TOO_LARGE;
    if (err == VOUCH_OK) {
        memcpy(out, blob, blob_len);
        *out_len = blob_len;
    }
    vouch_rt_free(blob);
    vouch_rt_free(plain);
    return err;
}

/* in: a sealed blob. out: the plaintext. */
static vouch_err te_unseal(const void *in, size_t in_len, void *out, size_t out_cap,
                           size_t *out_len)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    vouch_err err = vouch_rt_unseal(in, in_len, "aad", 3, &plain, &plain_len);
    if (err == VOUCH_OK && plain_len > out_cap)
        err = VOUCH_ERR_TOO_LARGE;
    if (err == VOUCH_OK) {
        memcpy(out, plain, plain_len);
        *out_len = plain_len;
    }
    vouch_rt_free(plain);
    return err;
}

static unsigned rendezvous_count;

/* in: u32 n. Returns only once n calls are inside this function at the same
 * time: proves the threads serve calls concurrently. */
static vouch_err te_rendezvous(const void *in, size_t in_len, void *out, size_t out_cap,
                               size_t *out_len)
{
    (void)out;
    (void)out_cap;
    uint32_t n;
    if (in_len != sizeof n)
        return VOUCH_ERR_INVAL;
    memcpy(&n, in, sizeof n);
    unsigned gen = __atomic_add_fetch(&rendezvous_count, 1, __ATOMIC_SEQ_CST);
    (void)gen;
    while (__atomic_load_n(&rendezvous_count, __ATOMIC_SEQ_CST) < n) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    *out_len = 0;
    return VOUCH_OK;
}

/* A broken stub: claims more output than the host offered. */
static vouch_err te_overflow(const void *in, size_t in_len, void *out, size_t out_cap,
                             size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    *out_len = out_cap + 1;
    return VOUCH_OK;
}

/* out: the identity as the runtime reports it (struct vouch_rt_identity). */
static vouch_err te_identity(const void *in, size_t in_len, void *out, size_t out_cap,
                             size_t *out_len)
{
    (void)in;
    (void)in_len;
    struct vouch_rt_identity id;
    if (out_cap < sizeof id)
        return VOUCH_ERR_TOO_LARGE;
    vouch_rt_get_identity(&id);
    memcpy(out, &id, sizeof id);
    *out_len = sizeof id;
    return VOUCH_OK;
}

static int init_ran;

vouch_err vouch_rt_enclave_init(void)
{
    init_ran = 1;
    return VOUCH_OK;
}

/* out: u32 1 when the init hook ran before the first ecall. */
static vouch_err te_init_ran(const void *in, size_t in_len, void *out, size_t out_cap,
                             size_t *out_len)
{
    (void)in;
    (void)in_len;
    uint32_t v = (uint32_t)init_ran;
    if (out_cap < sizeof v)
        return VOUCH_ERR_TOO_LARGE;
    memcpy(out, &v, sizeof v);
    *out_len = sizeof v;
    return VOUCH_OK;
}

const struct vouch_rt_ecall_entry vouch_rt_ecall_table[] = {
    [TE_EMPTY] = {te_empty, VOUCH_CALL_SWITCHLESS},
    [TE_ECHO] = {te_echo, 0},
    [TE_OCALL] = {te_ocall, 0},
    [TE_FORBIDDEN] = {te_forbidden, 0},
    [TE_EXHAUST] = {te_exhaust, 0},
    [TE_TOCTOU] = {te_toctou, 0},
    [TE_EVIDENCE] = {te_evidence, 0},
    [TE_SEAL] = {te_seal, 0},
    [TE_UNSEAL] = {te_unseal, 0},
    [TE_RENDEZVOUS] = {te_rendezvous, 0},
    [TE_OVERFLOW] = {te_overflow, 0},
    [TE_IDENTITY] = {te_identity, 0},
    [TE_INIT_RAN] = {te_init_ran, 0},
};
const size_t vouch_rt_ecall_count = sizeof vouch_rt_ecall_table / sizeof vouch_rt_ecall_table[0];
