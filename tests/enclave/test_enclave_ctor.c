/*
 * Enclaves whose constructor runs during dlopen, before the runtime's final
 * sandbox (tests/unit/test_enclave_ctor.c). Built twice (cmake/tee.cmake):
 * with TE_CTOR_HOSTILE the constructor creates a socket, which stage 1 of the
 * sandbox must refuse by killing the enclave before the host hears of it;
 * without it the constructor does what a well-behaved one does (reads the
 * clock, records that it ran) and the enclave must load. Function 0 returns
 * u32 1 when the constructor ran; function 1 checks that vouch_rt_free wipes
 * blocks (src/tee/loader/heap.c).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <vouch/enclave_rt.h>

static uint32_t ctor_ran;

__attribute__((constructor)) static void te_ctor(void)
{
#ifdef TE_CTOR_HOSTILE
    /* Would be a network connection made with the user's full rights. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s >= 0)
        close(s);
#endif
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        ctor_ran = 1;
}

static vouch_err te_ctor_ran(const void *in, size_t in_len, void *out, size_t out_cap,
                             size_t *out_len)
{
    (void)in;
    (void)in_len;
    if (out_cap < sizeof ctor_ran)
        return VOUCH_ERR_TOO_LARGE;
    memcpy(out, &ctor_ran, sizeof ctor_ran);
    *out_len = sizeof ctor_ran;
    return VOUCH_OK;
}

/* in: u64 block size (>= 16). Fills a heap block, frees it and allocates
 * the same size again (the free list hands back that block). out: u32 0
 * when it is the same block and every byte after the free-list link (the
 * first 8) is zero, 1 when a byte of the old contents survived, 2 when
 * another block came back. */
static vouch_err te_heap_wiped(const void *in, size_t in_len, void *out, size_t out_cap,
                               size_t *out_len)
{
    uint64_t n;
    uint32_t r = 0;
    if (in_len != sizeof n || out_cap < sizeof r)
        return VOUCH_ERR_INVAL;
    memcpy(&n, in, sizeof n);
    if (n < 16)
        return VOUCH_ERR_INVAL;
    uint8_t *a = vouch_rt_malloc((size_t)n);
    if (!a)
        return VOUCH_ERR_NOMEM;
    memset(a, 0xa5, (size_t)n);
    vouch_rt_free(a);
    volatile uint8_t *b = vouch_rt_malloc((size_t)n);
    if (!b)
        return VOUCH_ERR_NOMEM;
    if ((const uint8_t *)b != a)
        r = 2;
    for (size_t i = 8; r == 0 && i < (size_t)n; i++)
        if (b[i] != 0)
            r = 1;
    vouch_rt_free((void *)b);
    memcpy(out, &r, sizeof r);
    *out_len = sizeof r;
    return VOUCH_OK;
}

const struct vouch_rt_ecall_entry vouch_rt_ecall_table[] = {
    {te_ctor_ran, 0},
    {te_heap_wiped, 0},
};
const size_t vouch_rt_ecall_count = sizeof vouch_rt_ecall_table / sizeof vouch_rt_ecall_table[0];
