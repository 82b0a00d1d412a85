/*
 * Hex and base64 codecs. Decoders map characters with arithmetic rather than
 * table lookups or branches on the value, so decoding a key does not leak it
 * through timing (the WireGuard encoding.c approach). Only the validity of the
 * whole input is revealed.
 */
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

void vouch_hex_encode(const uint8_t *p, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned hi = p[i] >> 4, lo = p[i] & 15u;
        /* 87 = 'a' - 10; the mask adds it only for nibbles >= 10. */
        out[2 * i] = (char)(48u + hi + ((unsigned)((9u - hi) >> 8) & 39u));
        out[2 * i + 1] = (char)(48u + lo + ((unsigned)((9u - lo) >> 8) & 39u));
    }
    out[2 * len] = 0;
}

/* Returns the nibble value, or a value >= 256 when @p c is not a hex digit. */
static unsigned hex_val(unsigned char c)
{
    unsigned num = c ^ 48u;                                          /* '0'..'9' -> 0..9 */
    unsigned num_ok = ((num - 10u) >> 8) & 1u;                       /* num < 10 */
    unsigned alpha = (c & ~32u) - 55u;                               /* 'A'/'a'.. -> 10.. */
    unsigned alpha_ok = (((alpha - 10u) ^ (alpha - 16u)) >> 8) & 1u; /* 10 <= alpha < 16 */
    unsigned val = (num & (0u - num_ok)) | (alpha & (0u - alpha_ok));
    return val | ((1u ^ (num_ok | alpha_ok)) << 8);
}

vouch_err vouch_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t out_cap,
                           size_t *len_out)
{
    unsigned bad = 0;

    *len_out = 0;
    if (hexlen % 2)
        return VOUCH_ERR_PARSE;
    if (hexlen / 2 > out_cap)
        return VOUCH_ERR_TOO_LARGE;
    for (size_t i = 0; i < hexlen / 2; i++) {
        unsigned hi = hex_val((unsigned char)hex[2 * i]);
        unsigned lo = hex_val((unsigned char)hex[2 * i + 1]);
        bad |= (hi | lo) >> 8;
        out[i] = (uint8_t)((hi << 4) | (lo & 15u));
    }
    if (bad) {
        vouch_wipe(out, hexlen / 2);
        return VOUCH_ERR_PARSE;
    }
    *len_out = hexlen / 2;
    return VOUCH_OK;
}

vouch_err vouch_hex_decode_alloc(const char *hex, size_t hexlen, uint8_t **out, size_t *len_out)
{
    uint8_t *buf;
    vouch_err rc;

    *out = NULL;
    *len_out = 0;
    if (hexlen / 2 > VOUCH_MAX_FILE_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    buf = vouch_malloc(hexlen / 2 + 1);
    if (!buf)
        return VOUCH_ERR_NOMEM;
    rc = vouch_hex_decode(hex, hexlen, buf, hexlen / 2 + 1, len_out);
    if (rc != VOUCH_OK) {
        vouch_free(buf);
        return rc;
    }
    *out = buf;
    return VOUCH_OK;
}

size_t vouch_base64_encoded_len(size_t len, bool url)
{
    if (url)
        return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    return (len + 2) / 3 * 4;
}

/* 6-bit value to character, branch-free over the value. */
static char b64_char(unsigned v, bool url)
{
    unsigned c = v + 65u;                      /* A-Z */
    c += ((25u - v) >> 8) & 6u;                /* a-z: v >= 26 */
    c -= ((51u - v) >> 8) & 75u;               /* 0-9: v >= 52 */
    c -= ((61u - v) >> 8) & (url ? 13u : 15u); /* '+' 43 or '-' 45: v >= 62 */
    c += ((62u - v) >> 8) & (url ? 49u : 3u);  /* '/' 47 or '_' 95: v == 63 */
    return (char)c;
}

/* One body for both encoders: with @p ct constant, each caller gets its own
 * inlined copy, arithmetic (constant time) or table lookups (public data). */
static inline char enc_char(unsigned v, bool url, bool ct)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char web[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    if (ct)
        return b64_char(v, url);
    return url ? web[v] : std[v];
}

static inline void encode(const uint8_t *p, size_t len, bool url, bool ct, char *out)
{
    size_t i = 0, o = 0;

    for (; i + 3 <= len; i += 3) {
        unsigned v = ((unsigned)p[i] << 16) | ((unsigned)p[i + 1] << 8) | p[i + 2];
        out[o++] = enc_char(v >> 18, url, ct);
        out[o++] = enc_char((v >> 12) & 63u, url, ct);
        out[o++] = enc_char((v >> 6) & 63u, url, ct);
        out[o++] = enc_char(v & 63u, url, ct);
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = enc_char(v >> 18, url, ct);
        out[o++] = enc_char((v >> 12) & 63u, url, ct);
        if (!url) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (len - i == 2) {
        unsigned v = ((unsigned)p[i] << 16) | ((unsigned)p[i + 1] << 8);
        out[o++] = enc_char(v >> 18, url, ct);
        out[o++] = enc_char((v >> 12) & 63u, url, ct);
        out[o++] = enc_char((v >> 6) & 63u, url, ct);
        if (!url)
            out[o++] = '=';
    }
    out[o] = 0;
}

void vouch_base64_encode(const uint8_t *p, size_t len, bool url, char *out)
{
    encode(p, len, url, true, out);
}

void vouch_base64_encode_public(const uint8_t *p, size_t len, bool url, char *out)
{
    encode(p, len, url, false, out);
}

/* Character to 6-bit value, or >= 256 if invalid for the alphabet. */
static unsigned b64_val(unsigned char ch, bool url)
{
    unsigned c = ch, v = 0, ok = 0, in;
    in = ((c - 65u) | (90u - c)) >> 31 ^ 1u; /* 'A'..'Z' */
    v |= (c - 65u) & (0u - in);
    ok |= in;
    in = ((c - 97u) | (122u - c)) >> 31 ^ 1u; /* 'a'..'z' */
    v |= (c - 71u) & (0u - in);
    ok |= in;
    in = ((c - 48u) | (57u - c)) >> 31 ^ 1u; /* '0'..'9' */
    v |= (c + 4u) & (0u - in);
    ok |= in;
    in = ((c ^ (url ? 45u : 43u)) - 1u) >> 31; /* '-' or '+' */
    v |= 62u & (0u - in);
    ok |= in;
    in = ((c ^ (url ? 95u : 47u)) - 1u) >> 31; /* '_' or '/' */
    v |= 63u & (0u - in);
    ok |= in;
    return (v & 63u) | ((ok ^ 1u) << 8);
}

vouch_err vouch_base64_decode(const char *text, size_t textlen, bool url, uint8_t **out,
                              size_t *len_out)
{
    uint8_t *buf = NULL;
    size_t n = textlen, o = 0;
    unsigned bad = 0, acc = 0, bits = 0;
    vouch_err rc = VOUCH_ERR_PARSE;

    *out = NULL;
    *len_out = 0;
    if (textlen > VOUCH_MAX_FILE_SIZE * 2)
        return VOUCH_ERR_TOO_LARGE;
    /* Padding is optional, but if present it must complete a 4-character group. */
    if (n > 0 && text[n - 1] == '=') {
        n--;
        if (n > 0 && text[n - 1] == '=')
            n--;
        if (textlen % 4 != 0)
            return VOUCH_ERR_PARSE;
    }
    if (n % 4 == 1)
        return VOUCH_ERR_PARSE;
    buf = vouch_malloc(n / 4 * 3 + 3);
    if (!buf)
        return VOUCH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned v = b64_val((unsigned char)text[i], url);
        bad |= v >> 8;
        acc = (acc << 6) | (v & 63u);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero (canonical encoding). */
    if (bad || (acc & ((1u << bits) - 1u)) != 0)
        goto out;
    *out = buf;
    *len_out = o;
    buf = NULL;
    rc = VOUCH_OK;
out:
    if (buf) {
        vouch_wipe(buf, n / 4 * 3 + 3);
        vouch_free(buf);
    }
    return rc;
}

/* Character to 6-bit value, 0x80 outside the alphabet: [0] standard, [1] url.
 * Rows of sixteen, so a character's entry is found by its hex code. */
/* clang-format off */
static const uint8_t b64_tab[2][256] = {
    {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x3e, 0x80, 0x80, 0x80, 0x3f,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    },
    {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x3e, 0x80, 0x80,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x80, 0x80, 0x80, 0x80, 0x3f,
    0x80, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    },
};
/* clang-format on */

vouch_err vouch_base64_decode_public(const char *text, size_t textlen, bool url, uint8_t **out,
                                     size_t *len_out)
{
    const uint8_t *t = (const uint8_t *)text, *tab = b64_tab[url ? 1 : 0];
    uint8_t *buf = NULL;
    size_t n = textlen, o = 0, i = 0;
    unsigned bad = 0, acc = 0, bits = 0;

    *out = NULL;
    *len_out = 0;
    /* The same acceptance rules as vouch_base64_decode, in the same order. */
    if (textlen > VOUCH_MAX_FILE_SIZE * 2)
        return VOUCH_ERR_TOO_LARGE;
    if (n > 0 && text[n - 1] == '=') {
        n--;
        if (n > 0 && text[n - 1] == '=')
            n--;
        if (textlen % 4 != 0)
            return VOUCH_ERR_PARSE;
    }
    if (n % 4 == 1)
        return VOUCH_ERR_PARSE;
    if (!(buf = vouch_malloc(n / 4 * 3 + 3)))
        return VOUCH_ERR_NOMEM;
    /* Whole groups: four characters, three bytes. */
    for (; i + 4 <= n; i += 4) {
        unsigned a = tab[t[i]], b = tab[t[i + 1]], c = tab[t[i + 2]], d = tab[t[i + 3]];
        unsigned v = ((a & 63u) << 18) | ((b & 63u) << 12) | ((c & 63u) << 6) | (d & 63u);
        bad |= a | b | c | d;
        buf[o++] = (uint8_t)(v >> 16);
        buf[o++] = (uint8_t)(v >> 8);
        buf[o++] = (uint8_t)v;
    }
    for (; i < n; i++) {
        unsigned v = tab[t[i]];
        bad |= v;
        acc = (acc << 6) | (v & 63u);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero (canonical encoding). */
    if ((bad & 0x80u) || (acc & ((1u << bits) - 1u)) != 0) {
        vouch_free(buf);
        return VOUCH_ERR_PARSE;
    }
    *out = buf;
    *len_out = o;
    return VOUCH_OK;
}
