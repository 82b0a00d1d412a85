/*
 * The enclave half of the EDL test: implementations of the trusted functions
 * of edl_test.edl, built as a module together with the generated
 * edl_test_t.c and dlopen()ed by test_edl.
 */
#include <string.h>

#include "edl_test_t.h"

int add(int a, int b)
{
    return (int)((unsigned)a + (unsigned)b); /* mutated inputs may overflow */
}

void noop(void)
{
}

void noop_fast(void)
{
}

uint64_t sum(const uint32_t *v, size_t n)
{
    uint64_t s = 0;

    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

size_t str_len(const char *s)
{
    return strlen(s);
}

int fill(void *buf, size_t len, uint8_t value)
{
    /* [out] buffers arrive zeroed: report a non-zero byte as an error. */
    for (size_t i = 0; i < len; i++)
        if (((const uint8_t *)buf)[i] != 0)
            return -1;
    if (len > 0)
        memset(buf, value, len);
    return (int)len;
}

void inc(int32_t *v)
{
    for (int i = 0; i < 4; i++)
        v[i]++;
}

bool scalars(double d, float f, bool flag, char c, int8_t i8, int16_t i16, int64_t i64, uint8_t u8,
             uint16_t u16, unsigned u, unsigned int u2, uint64_t u64, int32_t i32)
{
    return d == 1.5 && f == -2.25f && flag && c == 'x' && i8 == -8 && i16 == -16 &&
           i64 == -64000000000LL && u8 == 200 && u16 == 65000 && u == 4000000000u && u2 == 7u &&
           u64 == UINT64_C(18000000000000000000) && i32 == -32;
}

int call_host(const char *msg, const int16_t *vals, int n)
{
    int ret = -100, twice = -1;
    bool ok = false;
    uint8_t buf[16];

    if (host_log(msg) != VOUCH_OK)
        return -1;
    if (host_sum(&ret, vals, n, &twice) != VOUCH_OK)
        return -2;
    if (twice != 2 * ret)
        return -3;
    memset(buf, 0, sizeof(buf));
    if (host_fill(&ok, buf) != VOUCH_OK)
        return -4;
    if (!ok)
        return -5;
    for (size_t i = 0; i < sizeof(buf); i++)
        if (buf[i] != EDL_TEST_FILL_BYTE)
            return -6;
    return ret;
}

int64_t mutate(int64_t *v, unsigned n)
{
    int64_t s = 0;

    /* A non-const [in] buffer is the enclave's own copy: writing it is fine
     * and never reaches the host. */
    for (unsigned i = 0; i < n; i++) {
        v[i] = (int64_t)((uint64_t)v[i] * 2u);
        s = (int64_t)((uint64_t)s + (uint64_t)v[i]);
    }
    return s;
}

int get_one(int *x)
{
    *x = EDL_TEST_ONE;
    return 0;
}

static uint8_t last_key[16];

void bytes_in(const void *key)
{
    memcpy(last_key, key, sizeof(last_key));
}
