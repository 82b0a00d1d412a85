/*
 * The enclave heap: one anonymous mapping of the image's signed heap_size,
 * made before the sandbox closes, carved into power-of-two blocks (32 bytes
 * to the whole region) with one free list per size class and a bump pointer.
 * Allocation fails (NULL) when neither a free block of the class nor room
 * past the bump pointer is left: that is the memory budget, like the EPC
 * size of an SGX enclave. Blocks are never split or merged, which bounds the
 * waste at half a block and keeps every operation O(1) under one mutex.
 * vouch_rt_free wipes the block's usable bytes (outside the mutex) before it
 * goes back on a free list.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <vouch/mem.h>

#include "tee/loader/loader.h"

#define HDR         16u
#define MIN_CLASS   5u /* 32 bytes */
#define MAX_CLASSES 64u
#define MAGIC_USED  0x56524d55u /* "VRMU" */
#define MAGIC_FREE  0x56524d46u /* "VRMF" */
#define MAGIC_WIPE  0x56524d57u /* "VRMW" */

struct block {
    uint32_t magic;
    uint32_t cls;
    uint64_t pad;
};

struct free_node {
    struct free_node *next;
};

static struct {
    pthread_mutex_t lock;
    uint8_t *base;
    size_t size;
    size_t bump;
    size_t used;
    struct free_node *free[MAX_CLASSES];
} heap = {.lock = PTHREAD_MUTEX_INITIALIZER};

vouch_err rt_heap_init(size_t budget)
{
    void *p = mmap(NULL, budget, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return VOUCH_ERR_NOMEM;
    heap.base = p;
    heap.size = budget;
    return VOUCH_OK;
}

/* Size class for a request of @p n payload bytes, or MAX_CLASSES when it
 * cannot fit in any block of the region. */
static unsigned class_of(size_t n)
{
    if (n > heap.size || n > SIZE_MAX / 2 - HDR)
        return MAX_CLASSES;
    size_t need = n + HDR;
    unsigned c = MIN_CLASS;
    while (((size_t)1 << c) < need)
        c++;
    return c;
}

static struct block *block_of(void *p)
{
    struct block *b = (struct block *)(void *)((uint8_t *)p - HDR);
    /* A pointer not from this heap or a double free is a bug in the enclave:
     * stop it rather than corrupt the heap (trap: no system call needed). */
    if ((uint8_t *)b < heap.base || (uint8_t *)b >= heap.base + heap.bump ||
        b->magic != MAGIC_USED || b->cls < MIN_CLASS || b->cls >= MAX_CLASSES)
        __builtin_trap();
    return b;
}

void *vouch_rt_malloc(size_t n)
{
    unsigned c = class_of(n);
    if (c >= MAX_CLASSES)
        return NULL;
    size_t sz = (size_t)1 << c;
    struct block *b = NULL;
    pthread_mutex_lock(&heap.lock);
    if (heap.free[c]) {
        struct free_node *f = heap.free[c];
        heap.free[c] = f->next;
        b = (struct block *)(void *)((uint8_t *)f - HDR);
    } else if (sz <= heap.size - heap.bump) {
        b = (struct block *)(void *)(heap.base + heap.bump);
        heap.bump += sz;
    }
    if (b) {
        b->magic = MAGIC_USED;
        b->cls = c;
        heap.used += sz;
    }
    pthread_mutex_unlock(&heap.lock);
    return b ? (uint8_t *)b + HDR : NULL;
}

void *vouch_rt_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = vouch_rt_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void vouch_rt_free(void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&heap.lock);
    struct block *b = block_of(p);
    unsigned c = b->cls;
    /* Neither used nor free while it is wiped: a second free of it traps. */
    b->magic = MAGIC_WIPE;
    pthread_mutex_unlock(&heap.lock);
    /* The whole usable block, outside the lock (a large block takes a
     * while): unsealed plaintext and keys do not survive in free blocks. */
    vouch_wipe(p, ((size_t)1 << c) - HDR);
    pthread_mutex_lock(&heap.lock);
    b->magic = MAGIC_FREE;
    struct free_node *f = p;
    f->next = heap.free[c];
    heap.free[c] = f;
    heap.used -= (size_t)1 << c;
    pthread_mutex_unlock(&heap.lock);
}

void *vouch_rt_realloc(void *p, size_t n)
{
    if (!p)
        return vouch_rt_malloc(n);
    pthread_mutex_lock(&heap.lock);
    size_t have = ((size_t)1 << block_of(p)->cls) - HDR;
    pthread_mutex_unlock(&heap.lock);
    if (n <= have)
        return p;
    void *q = vouch_rt_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, have);
    vouch_rt_free(p);
    return q;
}

void vouch_rt_heap_stats(size_t *used, size_t *budget)
{
    pthread_mutex_lock(&heap.lock);
    if (used)
        *used = heap.used;
    if (budget)
        *budget = heap.size;
    pthread_mutex_unlock(&heap.lock);
}
