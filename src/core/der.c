/*
 * Strict DER decoding on top of struct vouch_reader.
 *
 * Only what DER allows is accepted: single-byte tags, definite lengths in the
 * shortest form, INTEGER contents in the shortest two's-complement form, OID
 * subidentifiers without leading 0x80 padding. Anything BER would tolerate
 * but DER forbids is PARSE, so two decoders can never see two different
 * values in the same bytes. Every function works on a copy of the caller's
 * reader and commits only on success, so a failed read leaves it untouched.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/der.h>

/* Longest length field we accept (bytes after 0x8n). DER objects of 4 GiB
 * or more cannot occur in anything we decode. */
#define DER_MAX_LEN_BYTES 4u

static vouch_err read_length(struct vouch_reader *r, size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t first = 0;
    size_t len = 0;

    *len_out = 0;
    if ((rc = vouch_reader_u8(r, &first)) != VOUCH_OK)
        goto out;
    if (first < 0x80u) {
        len = first;
    } else {
        unsigned n = first & 0x7fu;
        /* 0x80 is BER's indefinite form; 0xff is reserved. */
        if (n == 0 || n > DER_MAX_LEN_BYTES) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        for (unsigned i = 0; i < n; i++) {
            uint8_t b = 0;
            if ((rc = vouch_reader_u8(r, &b)) != VOUCH_OK)
                goto out;
            /* A leading zero byte means a shorter form existed. */
            if (i == 0 && b == 0) {
                rc = VOUCH_ERR_PARSE;
                goto out;
            }
            len = (len << 8) | b;
        }
        /* Long form for a length that fits the short form is not minimal. */
        if (len < 0x80u) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
    }
    *len_out = len;
    rc = VOUCH_OK;
out:
    return rc;
}

vouch_err vouch_der_next(struct vouch_reader *r, uint8_t *tag_out, struct vouch_reader *value_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader tmp;
    uint8_t tag = 0;
    size_t len = 0;

    *tag_out = 0;
    vouch_reader_init(value_out, NULL, 0);
    if (r == NULL) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if ((rc = vouch_reader_status(r)) != VOUCH_OK)
        goto out;
    tmp = *r;
    if ((rc = vouch_reader_u8(&tmp, &tag)) != VOUCH_OK)
        goto out;
    /* Tag number 31 announces a multi-byte tag; 0 is BER end-of-contents. */
    if ((tag & 0x1fu) == 0x1fu || tag == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((rc = read_length(&tmp, &len)) != VOUCH_OK)
        goto out;
    if (len > vouch_reader_left(&tmp)) {
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    if ((rc = vouch_reader_sub(&tmp, len, value_out)) != VOUCH_OK)
        goto out;
    *r = tmp;
    *tag_out = tag;
    rc = VOUCH_OK;
out:
    return rc;
}

vouch_err vouch_der_expect(struct vouch_reader *r, uint8_t tag, struct vouch_reader *value_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader tmp;
    uint8_t got = 0;

    vouch_reader_init(value_out, NULL, 0);
    if (r == NULL) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    tmp = *r;
    if ((rc = vouch_der_next(&tmp, &got, value_out)) != VOUCH_OK)
        goto out;
    if (got != tag) {
        vouch_reader_init(value_out, NULL, 0);
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *r = tmp;
    rc = VOUCH_OK;
out:
    return rc;
}

/* The unread contents of @p value as a pointer and length. */
static vouch_err contents(const struct vouch_reader *value, const uint8_t **p, size_t *len)
{
    *p = NULL;
    *len = 0;
    if (value == NULL)
        return VOUCH_ERR_INVAL;
    if (value->failed)
        return VOUCH_ERR_TRUNCATED;
    *len = vouch_reader_left(value);
    *p = *len ? value->p + value->off : NULL;
    return VOUCH_OK;
}

vouch_err vouch_der_uint(const struct vouch_reader *value, uint64_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint8_t *p = NULL;
    size_t len = 0;
    uint64_t v = 0;

    *out = 0;
    if ((rc = contents(value, &p, &len)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_PARSE;
    if (len == 0)
        goto out;
    /* High bit set on the first byte: negative. */
    if (p[0] & 0x80u)
        goto out;
    if (p[0] == 0) {
        /* A zero byte is only allowed to keep a set high bit positive. */
        if (len > 1 && (p[1] & 0x80u) == 0)
            goto out;
        if (len > 1) {
            p++;
            len--;
        }
    }
    if (len > sizeof(v))
        goto out;
    for (size_t i = 0; i < len; i++)
        v = (v << 8) | p[i];
    *out = v;
    rc = VOUCH_OK;
out:
    return rc;
}

/*
 * Iterates the arcs of OID contents. The first subidentifier carries two
 * arcs (40*X + Y), so it is split on the way out.
 */
struct oid_iter {
    const uint8_t *p;
    size_t len;
    size_t off;
    int pending; /* 1 when the second arc of the first subidentifier is due */
    uint64_t second;
    bool first_done;
};

/* Returns 1 with an arc, 0 at the end, -1 on malformed contents. */
static int oid_next(struct oid_iter *it, uint64_t *arc)
{
    uint64_t v = 0;
    size_t start = it->off;

    if (it->pending) {
        it->pending = 0;
        *arc = it->second;
        return 1;
    }
    if (it->off >= it->len)
        return 0;
    for (;;) {
        uint8_t b;
        if (it->off >= it->len)
            return -1; /* last byte still had the continuation bit */
        b = it->p[it->off++];
        if (it->off - 1 == start && b == 0x80u)
            return -1; /* leading padding: not minimal */
        if (v > (UINT64_MAX >> 7))
            return -1;
        v = (v << 7) | (b & 0x7fu);
        if ((b & 0x80u) == 0)
            break;
    }
    if (!it->first_done) {
        it->first_done = true;
        if (v < 40) {
            *arc = 0;
            it->second = v;
        } else if (v < 80) {
            *arc = 1;
            it->second = v - 40;
        } else {
            *arc = 2;
            it->second = v - 80;
        }
        it->pending = 1;
        return 1;
    }
    *arc = v;
    return 1;
}

static bool oid_valid(const uint8_t *p, size_t len)
{
    struct oid_iter it = {.p = p, .len = len};
    uint64_t arc = 0;
    int r;

    if (len == 0)
        return false;
    while ((r = oid_next(&it, &arc)) == 1)
        ;
    return r == 0;
}

/* Parses one decimal arc of @p s starting at *pos; 1 ok, 0 end, -1 bad. */
static int dotted_next(const char *s, size_t *pos, uint64_t *arc)
{
    uint64_t v = 0;
    size_t i = *pos;
    size_t start;

    if (s[i] == '\0')
        return 0;
    if (i > 0) {
        if (s[i] != '.')
            return -1;
        i++;
    }
    start = i;
    while (s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        i++;
    }
    if (i == start || (s[start] == '0' && i - start > 1))
        return -1;
    *pos = i;
    *arc = v;
    return 1;
}

bool vouch_der_oid_eq(const struct vouch_reader *value, const char *dotted)
{
    const uint8_t *p = NULL;
    size_t len = 0;
    struct oid_iter it;
    size_t pos = 0;

    if (dotted == NULL || contents(value, &p, &len) != VOUCH_OK || !oid_valid(p, len))
        return false;
    memset(&it, 0, sizeof(it));
    it.p = p;
    it.len = len;
    for (;;) {
        uint64_t a = 0, b = 0;
        int ra = oid_next(&it, &a);
        int rb = dotted_next(dotted, &pos, &b);
        if (ra < 0 || rb < 0 || ra != rb)
            return false;
        if (ra == 0)
            return true;
        if (a != b)
            return false;
    }
}

vouch_err vouch_der_oid_child(const struct vouch_reader *value, const char *prefix, bool *is_child,
                              uint64_t *arc)
{
    const uint8_t *p = NULL;
    size_t len = 0, pos = 0;
    struct oid_iter it;
    uint64_t a = 0, b = 0;
    int ra, rb;

    if (is_child == NULL || arc == NULL || prefix == NULL)
        return VOUCH_ERR_INVAL;
    *is_child = false;
    *arc = 0;
    if (contents(value, &p, &len) != VOUCH_OK || !oid_valid(p, len))
        return VOUCH_ERR_PARSE;
    memset(&it, 0, sizeof(it));
    it.p = p;
    it.len = len;
    for (;;) {
        if ((rb = dotted_next(prefix, &pos, &b)) < 0 || (rb == 0 && pos == 0))
            return VOUCH_ERR_INVAL;
        ra = oid_next(&it, &a);
        if (rb == 0)
            break;
        if (ra != 1 || a != b)
            return VOUCH_OK; /* not under the prefix */
    }
    /* The prefix is used up; one arc must follow, and nothing after it. */
    if (ra != 1 || oid_next(&it, &b) != 0)
        return VOUCH_OK;
    *is_child = true;
    *arc = a;
    return VOUCH_OK;
}

vouch_err vouch_der_oid_text(const struct vouch_reader *value, char *out, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const uint8_t *p = NULL;
    size_t len = 0;
    size_t used = 0;
    struct oid_iter it;
    uint64_t arc = 0;

    if (out == NULL || cap == 0) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    out[0] = '\0';
    if ((rc = contents(value, &p, &len)) != VOUCH_OK)
        goto out;
    if (!oid_valid(p, len)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    memset(&it, 0, sizeof(it));
    it.p = p;
    it.len = len;
    while (oid_next(&it, &arc) == 1) {
        int n = snprintf(out + used, cap - used, used ? ".%llu" : "%llu", (unsigned long long)arc);
        if (n < 0 || (size_t)n >= cap - used) {
            out[0] = '\0';
            rc = VOUCH_ERR_TOO_LARGE;
            goto out;
        }
        used += (size_t)n;
    }
    rc = VOUCH_OK;
out:
    return rc;
}
