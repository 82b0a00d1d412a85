/*
 * Bounded buffers and the bounds-checked reader.
 *
 * struct vouch_buf is a growable byte buffer with a hard cap set at init (curl
 * dynbuf style): an append that would cross the cap fails with
 * VOUCH_ERR_TOO_LARGE and frees the buffer, so a caller never works with a
 * half-built value. The data is always NUL-terminated for convenience.
 *
 * struct vouch_reader is the ONE way libvouch reads untrusted binary input:
 * a cursor over a borrowed byte range. Every get checks the remaining length
 * first; on failure the reader becomes sticky-failed (every later get fails
 * too) and nothing is written to the out-parameter beyond its reset value.
 * Integers are read little-endian (Intel/AMD structures) or big-endian (TPM,
 * DER) by name.
 */
#ifndef VOUCH_BUF_H
#define VOUCH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_buf {
    uint8_t *data; /* owned; NUL-terminated; NULL while empty */
    size_t len;    /* bytes used, excluding the terminator */
    size_t alloc;  /* bytes allocated */
    size_t cap;    /* hard maximum for len */
    bool secret;   /* wipe on growth and free */
};

/** Initialises an empty buffer that may grow to @p cap bytes. */
VOUCH_API void vouch_buf_init(struct vouch_buf *b, size_t cap);
/** Like vouch_buf_init, but memory is wiped whenever it is released. */
VOUCH_API void vouch_buf_init_secret(struct vouch_buf *b, size_t cap);
/** Releases the buffer (wiping it if secret); safe on a zeroed struct. */
VOUCH_API void vouch_buf_free(struct vouch_buf *b);
/** Empties the buffer but keeps its memory and cap. */
VOUCH_API void vouch_buf_reset(struct vouch_buf *b);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_buf_append(struct vouch_buf *b, const void *p, size_t n);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_buf_append_str(struct vouch_buf *b, const char *s);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_buf_printf(struct vouch_buf *b, const char *fmt, ...)
    VOUCH_PRINTF(2, 3);
/** Hands the data to the caller (free with vouch_free) and empties @p b. */
VOUCH_API uint8_t *vouch_buf_take(struct vouch_buf *b, size_t *len_out);

struct vouch_reader {
    const uint8_t *p; /* borrowed start */
    size_t len;       /* total length */
    size_t off;       /* current offset */
    bool failed;      /* sticky: a get went past the end */
};

VOUCH_API void vouch_reader_init(struct vouch_reader *r, const uint8_t *p, size_t len);
static inline size_t vouch_reader_left(const struct vouch_reader *r)
{
    return r->failed ? 0 : r->len - r->off;
}
static inline size_t vouch_reader_offset(const struct vouch_reader *r)
{
    return r->off;
}
/** Returns VOUCH_ERR_TRUNCATED if the reader has failed, else VOUCH_OK. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_status(const struct vouch_reader *r);

VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u8(struct vouch_reader *r, uint8_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u16le(struct vouch_reader *r, uint16_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u32le(struct vouch_reader *r, uint32_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u64le(struct vouch_reader *r, uint64_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u16be(struct vouch_reader *r, uint16_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u32be(struct vouch_reader *r, uint32_t *out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_u64be(struct vouch_reader *r, uint64_t *out);
/** Copies exactly @p n bytes into @p out. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_copy(struct vouch_reader *r, void *out, size_t n);
/** Returns a pointer to the next @p n bytes (borrowed from the input) and advances. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_view(struct vouch_reader *r, size_t n,
                                                      const uint8_t **out);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_skip(struct vouch_reader *r, size_t n);
/** Makes @p sub a reader over the next @p n bytes of @p r and advances @p r. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_reader_sub(struct vouch_reader *r, size_t n,
                                                     struct vouch_reader *sub);

#ifdef __cplusplus
}
#endif
#endif
