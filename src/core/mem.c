/* Allocation wrappers with fault injection, wiping and constant-time compare. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/mem.h>

/* Counts down to a forced allocation failure; 0 means off. Tests set it. */
static _Atomic unsigned long fault_countdown;

void vouch_fault_after(unsigned long n)
{
    atomic_store(&fault_countdown, n);
}

static int fault_now(void)
{
    unsigned long cur = atomic_load(&fault_countdown);
    while (cur != 0) {
        if (atomic_compare_exchange_weak(&fault_countdown, &cur, cur - 1))
            return cur == 1;
    }
    return 0;
}

void *vouch_malloc(size_t n)
{
    if (fault_now())
        return NULL;
    return malloc(n ? n : 1);
}

void *vouch_calloc(size_t count, size_t size)
{
    if (fault_now())
        return NULL;
    if (count == 0 || size == 0)
        return calloc(1, 1);
    return calloc(count, size);
}

void *vouch_reallocarray(void *p, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    if (fault_now())
        return NULL;
    return realloc(p, (count * size) != 0 ? count * size : 1);
}

void vouch_free(void *p)
{
    free(p);
}

void *vouch_memdup(const void *p, size_t len)
{
    void *q = vouch_malloc(len);
    if (q && len)
        memcpy(q, p, len);
    return q;
}

char *vouch_strndup(const char *s, size_t len)
{
    char *q;
    if (len == SIZE_MAX)
        return NULL;
    q = vouch_malloc(len + 1);
    if (!q)
        return NULL;
    memcpy(q, s, len);
    q[len] = 0;
    return q;
}

char *vouch_strdup(const char *s)
{
    return vouch_strndup(s, strlen(s));
}

void vouch_wipe(void *p, size_t len)
{
    if (p && len)
        explicit_bzero(p, len);
}

int vouch_ct_is_zero(const void *p, size_t len)
{
    const volatile uint8_t *x = p;
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++)
        acc |= x[i];
    return (int)(1 & ((uint32_t)(acc - 1) >> 8));
}
