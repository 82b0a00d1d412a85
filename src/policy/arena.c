/*
 * A bump arena for the policy engine: the parse tree and claim strings are
 * many small objects with one lifetime, so they are carved from chunks and
 * released together. A byte cap turns runaway growth into TOO_LARGE.
 */
#include <stdint.h>
#include <string.h>
#include <vouch/mem.h>

#include "policy/policy_int.h"

#define CHUNK_MIN 4096u

struct vouch__arena_chunk {
    struct vouch__arena_chunk *next; /* older chunk */
    size_t size;                     /* bytes in data */
    size_t used;                     /* bytes handed out from data */
    size_t pad_;                     /* keeps data 16-byte aligned */
    unsigned char data[];
};

void vouch__arena_init(struct vouch__arena *a, size_t cap)
{
    a->head = NULL;
    a->total = 0;
    a->cap = cap ? cap : SIZE_MAX;
}

vouch_err vouch__arena_alloc(struct vouch__arena *a, size_t n, void **out)
{
    struct vouch__arena_chunk *c = a->head;
    size_t need;

    *out = NULL;
    if (n > SIZE_MAX / 2)
        return VOUCH_ERR_TOO_LARGE;
    need = (n + 7u) & ~(size_t)7u;
    if (need == 0)
        need = 8;
    if (need > a->cap - a->total)
        return VOUCH_ERR_TOO_LARGE;
    if (!c || c->size - c->used < need) {
        size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
        c = vouch_malloc(sizeof(*c) + size);
        if (!c)
            return VOUCH_ERR_NOMEM;
        c->size = size;
        c->used = 0;
        c->pad_ = 0;
        /* A big allocation gets its own chunk behind the current one so the
         * current chunk's free tail stays usable. */
        if (a->head && need > CHUNK_MIN) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    *out = c->data + c->used;
    memset(*out, 0, need);
    c->used += need;
    a->total += need;
    return VOUCH_OK;
}

vouch_err vouch__arena_strndup(struct vouch__arena *a, const char *s, size_t n, char **out)
{
    void *p = NULL;
    vouch_err rc;

    *out = NULL;
    if (n == SIZE_MAX)
        return VOUCH_ERR_TOO_LARGE;
    if ((rc = vouch__arena_alloc(a, n + 1, &p)) != VOUCH_OK)
        return rc;
    if (n)
        memcpy(p, s, n);
    *out = p;
    return VOUCH_OK;
}

void vouch__arena_free(struct vouch__arena *a)
{
    struct vouch__arena_chunk *c = a->head;

    while (c) {
        struct vouch__arena_chunk *next = c->next;
        vouch_free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
