/*
 * Bounded buffers and the bounds-checked reader (see vouch/buf.h).
 * The reader is the only code in libvouch that indexes into untrusted binary
 * input; every other parser asks it for bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/mem.h>

void vouch_buf_init(struct vouch_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void vouch_buf_init_secret(struct vouch_buf *b, size_t cap)
{
    vouch_buf_init(b, cap);
    b->secret = true;
}

void vouch_buf_free(struct vouch_buf *b)
{
    if (b->data && b->secret)
        vouch_wipe(b->data, b->alloc);
    vouch_free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void vouch_buf_reset(struct vouch_buf *b)
{
    if (b->data) {
        if (b->secret)
            vouch_wipe(b->data, b->alloc);
        b->data[0] = 0;
    }
    b->len = 0;
}

static vouch_err grow(struct vouch_buf *b, size_t need)
{
    size_t want;
    uint8_t *n;

    if (need <= b->alloc)
        return VOUCH_OK;
    want = b->alloc ? b->alloc : 64;
    while (want < need)
        want = want > SIZE_MAX / 2 ? need : want * 2;
    if (want > b->cap + 1)
        want = b->cap + 1;
    if (b->secret) {
        /* realloc could leave a copy of the secret behind; move it ourselves. */
        n = vouch_malloc(want);
        if (!n)
            return VOUCH_ERR_NOMEM;
        if (b->data) {
            memcpy(n, b->data, b->len + 1);
            vouch_wipe(b->data, b->alloc);
            vouch_free(b->data);
        }
    } else {
        n = vouch_reallocarray(b->data, want, 1);
        if (!n)
            return VOUCH_ERR_NOMEM;
    }
    b->data = n;
    b->alloc = want;
    return VOUCH_OK;
}

vouch_err vouch_buf_append(struct vouch_buf *b, const void *p, size_t n)
{
    vouch_err rc;

    if (n > b->cap || b->len > b->cap - n) {
        vouch_buf_free(b);
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((rc = grow(b, b->len + n + 1)) != VOUCH_OK) {
        vouch_buf_free(b);
        return rc;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return VOUCH_OK;
}

vouch_err vouch_buf_append_str(struct vouch_buf *b, const char *s)
{
    return vouch_buf_append(b, s, strlen(s));
}

vouch_err vouch_buf_printf(struct vouch_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;
    vouch_err rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        vouch_buf_free(b);
        return VOUCH_ERR_INVAL;
    }
    if ((size_t)n < sizeof(small))
        return vouch_buf_append(b, small, (size_t)n);
    if ((size_t)n > b->cap || b->len > b->cap - (size_t)n) {
        vouch_buf_free(b);
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((rc = grow(b, b->len + (size_t)n + 1)) != VOUCH_OK) {
        vouch_buf_free(b);
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return VOUCH_OK;
}

uint8_t *vouch_buf_take(struct vouch_buf *b, size_t *len_out)
{
    uint8_t *d = b->data;
    if (len_out)
        *len_out = b->len;
    if (!d)
        d = vouch_calloc(1, 1);
    b->data = NULL;
    b->len = b->alloc = 0;
    return d;
}

/* ---- reader ---- */

void vouch_reader_init(struct vouch_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
    r->failed = false;
}

vouch_err vouch_reader_status(const struct vouch_reader *r)
{
    return r->failed ? VOUCH_ERR_TRUNCATED : VOUCH_OK;
}

/* The single bounds check every get goes through. */
static const uint8_t *take(struct vouch_reader *r, size_t n)
{
    const uint8_t *at;

    if (r->failed || n > r->len - r->off) {
        r->failed = true;
        return NULL;
    }
    /* A zero-length view of an empty input is valid; never hand out NULL. */
    at = r->p ? r->p + r->off : (const uint8_t *)"";
    r->off += n;
    return at;
}

vouch_err vouch_reader_u8(struct vouch_reader *r, uint8_t *out)
{
    const uint8_t *p = take(r, 1);
    *out = 0;
    if (!p)
        return VOUCH_ERR_TRUNCATED;
    *out = p[0];
    return VOUCH_OK;
}

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

#define READER_INT(name, type, n, conv)               \
    vouch_err name(struct vouch_reader *r, type *out) \
    {                                                 \
        const uint8_t *p = take(r, n);                \
        *out = 0;                                     \
        if (!p)                                       \
            return VOUCH_ERR_TRUNCATED;               \
        *out = (type)conv(p, n);                      \
        return VOUCH_OK;                              \
    }

READER_INT(vouch_reader_u16le, uint16_t, 2, le)
READER_INT(vouch_reader_u32le, uint32_t, 4, le)
READER_INT(vouch_reader_u64le, uint64_t, 8, le)
READER_INT(vouch_reader_u16be, uint16_t, 2, be)
READER_INT(vouch_reader_u32be, uint32_t, 4, be)
READER_INT(vouch_reader_u64be, uint64_t, 8, be)

vouch_err vouch_reader_copy(struct vouch_reader *r, void *out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (!p) {
        if (n)
            memset(out, 0, n);
        return VOUCH_ERR_TRUNCATED;
    }
    if (n)
        memcpy(out, p, n);
    return VOUCH_OK;
}

vouch_err vouch_reader_view(struct vouch_reader *r, size_t n, const uint8_t **out)
{
    *out = take(r, n);
    return *out ? VOUCH_OK : VOUCH_ERR_TRUNCATED;
}

vouch_err vouch_reader_skip(struct vouch_reader *r, size_t n)
{
    return take(r, n) ? VOUCH_OK : VOUCH_ERR_TRUNCATED;
}

vouch_err vouch_reader_sub(struct vouch_reader *r, size_t n, struct vouch_reader *sub)
{
    const uint8_t *p = take(r, n);
    vouch_reader_init(sub, p, p ? n : 0);
    if (!p) {
        sub->failed = true;
        return VOUCH_ERR_TRUNCATED;
    }
    return VOUCH_OK;
}
