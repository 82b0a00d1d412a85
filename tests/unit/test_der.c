/*
 * Strict DER reader: what DER forbids (indefinite or non-minimal lengths,
 * multi-byte tags, non-minimal or negative INTEGERs, padded OID arcs) must be
 * refused, and nothing may be read past an enclosing length.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <vouch/der.h>

/* Runs vouch_der_next on an exact-size heap copy so ASan sees any over-read. */
static vouch_err next_on(const uint8_t *p, size_t len, uint8_t *tag, size_t *vlen, size_t *consumed)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct vouch_reader r, v;
    vouch_err rc;

    assert_non_null(copy);
    if (len)
        memcpy(copy, p, len);
    vouch_reader_init(&r, copy, len);
    rc = vouch_der_next(&r, tag, &v);
    *vlen = vouch_reader_left(&v);
    *consumed = vouch_reader_offset(&r);
    free(copy);
    return rc;
}

static void test_lengths(void **state)
{
    uint8_t buf[300];
    uint8_t tag = 0xee;
    size_t vlen = 0, used = 0;
    (void)state;

    /* Short form. */
    static const uint8_t short_form[] = {0x04, 0x03, 1, 2, 3, 0xaa};
    assert_int_equal(next_on(short_form, sizeof(short_form), &tag, &vlen, &used), VOUCH_OK);
    assert_int_equal(tag, VOUCH_DER_OCTET_STRING);
    assert_int_equal(vlen, 3);
    assert_int_equal(used, 5);

    /* Long form 0x81 0x80: smallest value that needs it. */
    memset(buf, 0x11, sizeof(buf));
    buf[0] = 0x04;
    buf[1] = 0x81;
    buf[2] = 0x80;
    assert_int_equal(next_on(buf, 3 + 0x80, &tag, &vlen, &used), VOUCH_OK);
    assert_int_equal(vlen, 0x80);
    assert_int_equal(used, 3 + 0x80);

    /* Long form 0x82 0x01 0x00. */
    buf[1] = 0x82;
    buf[2] = 0x01;
    buf[3] = 0x00;
    assert_int_equal(next_on(buf, 4 + 0x100, &tag, &vlen, &used), VOUCH_OK);
    assert_int_equal(vlen, 0x100);

    /* Long form for a value the short form could hold: not minimal. */
    static const uint8_t long_small[] = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
    assert_int_equal(next_on(long_small, sizeof(long_small), &tag, &vlen, &used), VOUCH_ERR_PARSE);
    assert_int_equal(tag, 0);
    assert_int_equal(vlen, 0);

    /* Leading zero byte in a long-form length: not minimal. */
    buf[1] = 0x82;
    buf[2] = 0x00;
    buf[3] = 0x80;
    assert_int_equal(next_on(buf, 4 + 0x80, &tag, &vlen, &used), VOUCH_ERR_PARSE);

    /* Indefinite length (BER only). */
    static const uint8_t indefinite[] = {0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00};
    assert_int_equal(next_on(indefinite, sizeof(indefinite), &tag, &vlen, &used), VOUCH_ERR_PARSE);

    /* More length bytes than we accept, and the reserved 0xff. */
    static const uint8_t five[] = {0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(next_on(five, sizeof(five), &tag, &vlen, &used), VOUCH_ERR_PARSE);
    static const uint8_t ff[] = {0x04, 0xff, 0x01};
    assert_int_equal(next_on(ff, sizeof(ff), &tag, &vlen, &used), VOUCH_ERR_PARSE);

    /* Declared length beyond the input. */
    static const uint8_t over[] = {0x04, 0x05, 1, 2, 3, 4};
    assert_int_equal(next_on(over, sizeof(over), &tag, &vlen, &used), VOUCH_ERR_TRUNCATED);
    static const uint8_t huge[] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0};
    assert_int_equal(next_on(huge, sizeof(huge), &tag, &vlen, &used), VOUCH_ERR_TRUNCATED);

    /* Length bytes themselves cut off. */
    static const uint8_t cut_len[] = {0x04, 0x82, 0x01};
    assert_int_equal(next_on(cut_len, sizeof(cut_len), &tag, &vlen, &used), VOUCH_ERR_TRUNCATED);
    static const uint8_t only_tag[] = {0x04};
    assert_int_equal(next_on(only_tag, sizeof(only_tag), &tag, &vlen, &used), VOUCH_ERR_TRUNCATED);
    assert_int_equal(next_on(NULL, 0, &tag, &vlen, &used), VOUCH_ERR_TRUNCATED);

    /* Zero-length contents are fine. */
    static const uint8_t empty[] = {0x05, 0x00};
    assert_int_equal(next_on(empty, sizeof(empty), &tag, &vlen, &used), VOUCH_OK);
    assert_int_equal(tag, 0x05);
    assert_int_equal(vlen, 0);
    assert_int_equal(used, 2);
}

static void test_tags(void **state)
{
    uint8_t tag = 0;
    size_t vlen = 0, used = 0;
    (void)state;

    /* High-tag-number form (low five bits all set) in any class. */
    static const uint8_t multi[] = {0x1f, 0x81, 0x00, 0x00};
    assert_int_equal(next_on(multi, sizeof(multi), &tag, &vlen, &used), VOUCH_ERR_PARSE);
    static const uint8_t multi_ctx[] = {0xbf, 0x20, 0x00};
    assert_int_equal(next_on(multi_ctx, sizeof(multi_ctx), &tag, &vlen, &used), VOUCH_ERR_PARSE);
    /* End-of-contents marker. */
    static const uint8_t eoc[] = {0x00, 0x00};
    assert_int_equal(next_on(eoc, sizeof(eoc), &tag, &vlen, &used), VOUCH_ERR_PARSE);
    /* Context-specific tags are returned as they are. */
    static const uint8_t ctx[] = {0xa0, 0x01, 0x05};
    assert_int_equal(next_on(ctx, sizeof(ctx), &tag, &vlen, &used), VOUCH_OK);
    assert_int_equal(tag, 0xa0);
    assert_int_equal(vlen, 1);
}

static void test_failed_read_leaves_reader(void **state)
{
    static const uint8_t bad[] = {0x30, 0x81, 0x05, 0x02, 0x01, 0x00};
    static const uint8_t two[] = {0x02, 0x01, 0x07, 0x04, 0x01, 0x09};
    struct vouch_reader r, v;
    uint8_t tag = 0;
    uint64_t n = 0;
    (void)state;

    vouch_reader_init(&r, bad, sizeof(bad));
    assert_int_equal(vouch_der_next(&r, &tag, &v), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_reader_offset(&r), 0);
    assert_int_equal(vouch_reader_status(&r), VOUCH_OK);

    /* expect: a wrong tag is PARSE and does not advance. */
    vouch_reader_init(&r, two, sizeof(two));
    assert_int_equal(vouch_der_expect(&r, VOUCH_DER_OCTET_STRING, &v), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_reader_offset(&r), 0);
    assert_int_equal(vouch_reader_left(&v), 0);
    assert_int_equal(vouch_der_expect(&r, VOUCH_DER_INTEGER, &v), VOUCH_OK);
    assert_int_equal(vouch_der_uint(&v, &n), VOUCH_OK);
    assert_int_equal(n, 7);
    assert_int_equal(vouch_der_expect(&r, VOUCH_DER_OCTET_STRING, &v), VOUCH_OK);
    assert_int_equal(vouch_reader_left(&r), 0);
    assert_int_equal(vouch_der_expect(&r, VOUCH_DER_OCTET_STRING, &v), VOUCH_ERR_TRUNCATED);

    /* A sticky-failed reader stays failed. */
    vouch_reader_init(&r, two, sizeof(two));
    assert_int_equal(vouch_reader_skip(&r, 100), VOUCH_ERR_TRUNCATED);
    assert_int_equal(vouch_der_next(&r, &tag, &v), VOUCH_ERR_TRUNCATED);
}

static void test_nested_bounds(void **state)
{
    /* SEQUENCE of 3 bytes whose child claims 4: the bytes after the SEQUENCE
     * exist, but the child must not reach them. */
    static const uint8_t p[] = {0x30, 0x03, 0x04, 0x04, 0xaa, 0xbb, 0xcc, 0xdd};
    static const uint8_t ok[] = {0x30, 0x06, 0x04, 0x01, 0xaa, 0x02, 0x01, 0x05, 0x01};
    struct vouch_reader r, seq, v;
    uint8_t tag = 0;
    uint64_t n = 0;
    (void)state;

    vouch_reader_init(&r, p, sizeof(p));
    assert_int_equal(vouch_der_expect(&r, VOUCH_DER_SEQUENCE, &seq), VOUCH_OK);
    assert_int_equal(vouch_reader_left(&seq), 3);
    assert_int_equal(vouch_der_next(&seq, &tag, &v), VOUCH_ERR_TRUNCATED);

    vouch_reader_init(&r, ok, sizeof(ok));
    assert_int_equal(vouch_der_expect(&r, VOUCH_DER_SEQUENCE, &seq), VOUCH_OK);
    assert_int_equal(vouch_der_expect(&seq, VOUCH_DER_OCTET_STRING, &v), VOUCH_OK);
    assert_int_equal(vouch_reader_left(&v), 1);
    assert_int_equal(vouch_der_expect(&seq, VOUCH_DER_INTEGER, &v), VOUCH_OK);
    assert_int_equal(vouch_der_uint(&v, &n), VOUCH_OK);
    assert_int_equal(n, 5);
    assert_int_equal(vouch_reader_left(&seq), 0);
    assert_int_equal(vouch_reader_left(&r), 1); /* the trailing byte is the caller's */
}

static vouch_err uint_of(const uint8_t *contents, size_t len, uint64_t *out)
{
    struct vouch_reader v;
    vouch_reader_init(&v, contents, len);
    return vouch_der_uint(&v, out);
}

static void test_uint(void **state)
{
    uint64_t n = 99;
    (void)state;

    static const uint8_t zero[] = {0x00};
    assert_int_equal(uint_of(zero, 1, &n), VOUCH_OK);
    assert_int_equal(n, 0);
    static const uint8_t v127[] = {0x7f};
    assert_int_equal(uint_of(v127, 1, &n), VOUCH_OK);
    assert_int_equal(n, 127);
    /* 255 needs a leading zero byte (observed in real PCK certificates). */
    static const uint8_t v255[] = {0x00, 0xff};
    assert_int_equal(uint_of(v255, 2, &n), VOUCH_OK);
    assert_int_equal(n, 255);
    static const uint8_t v256[] = {0x01, 0x00};
    assert_int_equal(uint_of(v256, 2, &n), VOUCH_OK);
    assert_int_equal(n, 256);
    static const uint8_t v65535[] = {0x00, 0xff, 0xff};
    assert_int_equal(uint_of(v65535, 3, &n), VOUCH_OK);
    assert_int_equal(n, 65535);
    static const uint8_t max[] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(uint_of(max, sizeof(max), &n), VOUCH_OK);
    assert_true(n == UINT64_MAX);
    static const uint8_t big8[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(uint_of(big8, sizeof(big8), &n), VOUCH_OK);
    assert_true(n == (uint64_t)INT64_MAX);

    /* Negative. */
    n = 99;
    static const uint8_t neg[] = {0x80};
    assert_int_equal(uint_of(neg, 1, &n), VOUCH_ERR_PARSE);
    assert_int_equal(n, 0);
    static const uint8_t neg2[] = {0xff, 0x01};
    assert_int_equal(uint_of(neg2, 2, &n), VOUCH_ERR_PARSE);
    /* Non-minimal: a zero byte that does not protect a high bit. */
    static const uint8_t pad[] = {0x00, 0x7f};
    assert_int_equal(uint_of(pad, 2, &n), VOUCH_ERR_PARSE);
    static const uint8_t pad0[] = {0x00, 0x00};
    assert_int_equal(uint_of(pad0, 2, &n), VOUCH_ERR_PARSE);
    static const uint8_t pad3[] = {0x00, 0x00, 0xff};
    assert_int_equal(uint_of(pad3, 3, &n), VOUCH_ERR_PARSE);
    /* Empty contents. */
    assert_int_equal(uint_of(zero, 0, &n), VOUCH_ERR_PARSE);
    /* More than 64 bits. */
    static const uint8_t wide[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(uint_of(wide, sizeof(wide), &n), VOUCH_ERR_PARSE);
    assert_int_equal(n, 0);

    /* The contents are what is left of the reader, not its whole range. */
    static const uint8_t two[] = {0x12, 0x34};
    struct vouch_reader v;
    uint8_t skip = 0;
    vouch_reader_init(&v, two, 2);
    assert_int_equal(vouch_reader_u8(&v, &skip), VOUCH_OK);
    assert_int_equal(vouch_der_uint(&v, &n), VOUCH_OK);
    assert_int_equal(n, 0x34);
}

/* 1.2.840.113741.1.13.1 */
static const uint8_t sgx_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

/* vouch_der_oid_child against vouch_der_oid_text on the same bytes: the two
 * must agree for every prefix of every OID below. */
static void test_oid_child(void **state)
{
    /* 1.2.840.113741.1.13.1.2.17, 1.2.840.113741.1.13.1.2.200 (two-byte arc),
     * 2.999.3, 1.2.840.113741.1.13.1 */
    static const uint8_t o1[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x02, 0x11};
    static const uint8_t o2[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d,
                                 0x01, 0x0d, 0x01, 0x02, 0x81, 0x48};
    static const uint8_t o3[] = {0x88, 0x37, 0x03};
    static const struct {
        const uint8_t *p;
        size_t len;
    } oids[] = {{o1, sizeof(o1)}, {o2, sizeof(o2)}, {o3, sizeof(o3)}, {sgx_oid, sizeof(sgx_oid)}};
    static const char *prefixes[] = {"1",
                                     "1.2",
                                     "1.2.840.113741.1.13.1",
                                     "1.2.840.113741.1.13.1.2",
                                     "1.2.840.113741.1.13.1.3",
                                     "1.2.840.113741.1.13",
                                     "2.999",
                                     "2",
                                     "1.2.840.113741.1.13.1.2.17"};
    static const uint8_t bad[] = {0x2a, 0x86}; /* continuation bit on the last byte */
    struct vouch_reader v;
    uint64_t arc = 0;
    bool child = true;
    (void)state;

    for (size_t i = 0; i < sizeof(oids) / sizeof(oids[0]); i++) {
        char text[64];
        vouch_reader_init(&v, oids[i].p, oids[i].len);
        assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_OK);
        for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
            size_t pl = strlen(prefixes[k]);
            bool want = strncmp(text, prefixes[k], pl) == 0 && text[pl] == '.' &&
                        strchr(text + pl + 1, '.') == NULL;
            assert_int_equal(vouch_der_oid_child(&v, prefixes[k], &child, &arc), VOUCH_OK);
            assert_int_equal(child, want);
            if (want)
                assert_int_equal(arc, strtoull(text + pl + 1, NULL, 10));
            else
                assert_int_equal(arc, 0);
        }
    }
    vouch_reader_init(&v, o2, sizeof(o2));
    assert_int_equal(vouch_der_oid_child(&v, "1.2.840.113741.1.13.1.2", &child, &arc), VOUCH_OK);
    assert_true(child);
    assert_int_equal(arc, 200);
    vouch_reader_init(&v, bad, sizeof(bad));
    assert_int_equal(vouch_der_oid_child(&v, "1", &child, &arc), VOUCH_ERR_PARSE);
    assert_false(child);
    vouch_reader_init(&v, o1, sizeof(o1));
    assert_int_equal(vouch_der_oid_child(&v, "", &child, &arc), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_der_oid_child(&v, "1..2", &child, &arc), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_der_oid_child(&v, NULL, &child, &arc), VOUCH_ERR_INVAL);
}

static void test_oid(void **state)
{
    struct vouch_reader v;
    char text[64];
    (void)state;

    vouch_reader_init(&v, sgx_oid, sizeof(sgx_oid));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_OK);
    assert_string_equal(text, "1.2.840.113741.1.13.1");
    assert_true(vouch_der_oid_eq(&v, "1.2.840.113741.1.13.1"));
    assert_false(vouch_der_oid_eq(&v, "1.2.840.113741.1.13"));
    assert_false(vouch_der_oid_eq(&v, "1.2.840.113741.1.13.1.1"));
    assert_false(vouch_der_oid_eq(&v, "1.2.840.113741.1.13.2"));
    assert_false(vouch_der_oid_eq(&v, "1.2.840.113741.1.013.1"));
    assert_false(vouch_der_oid_eq(&v, "1.2.840.113741.1.13.1."));
    assert_false(vouch_der_oid_eq(&v, "1.2.840.113741..1.13.1"));
    assert_false(vouch_der_oid_eq(&v, ""));
    assert_false(vouch_der_oid_eq(&v, NULL));

    /* Exactly-sized buffer works; one byte less is TOO_LARGE with "" left. */
    assert_int_equal(vouch_der_oid_text(&v, text, 22), VOUCH_OK);
    assert_int_equal(vouch_der_oid_text(&v, text, 21), VOUCH_ERR_TOO_LARGE);
    assert_string_equal(text, "");
    assert_int_equal(vouch_der_oid_text(&v, text, 0), VOUCH_ERR_INVAL);

    /* Arcs of the first subidentifier: 0.x, 1.x, 2.x with x >= 40. */
    static const uint8_t z[] = {0x27};                /* 0.39 */
    static const uint8_t big2[] = {0x88, 0x37, 0x05}; /* 2.999.5 */
    vouch_reader_init(&v, z, sizeof(z));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_OK);
    assert_string_equal(text, "0.39");
    vouch_reader_init(&v, big2, sizeof(big2));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_OK);
    assert_string_equal(text, "2.999.5");
    assert_true(vouch_der_oid_eq(&v, "2.999.5"));

    /* Padded arc (leading 0x80), unterminated arc, empty, arc over 64 bits. */
    static const uint8_t padded[] = {0x2a, 0x80, 0x01};
    static const uint8_t unterminated[] = {0x2a, 0x86};
    static const uint8_t wide[] = {0x2a, 0x82, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    vouch_reader_init(&v, padded, sizeof(padded));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_ERR_PARSE);
    assert_false(vouch_der_oid_eq(&v, "1.2.1"));
    vouch_reader_init(&v, unterminated, sizeof(unterminated));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_ERR_PARSE);
    assert_false(vouch_der_oid_eq(&v, "1.2"));
    vouch_reader_init(&v, NULL, 0);
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_ERR_PARSE);
    assert_false(vouch_der_oid_eq(&v, "0.0"));
    vouch_reader_init(&v, wide, sizeof(wide));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_ERR_PARSE);

    /* Largest arc that fits: 2^64-1 = 0x81 0xff*8 0x7f in base 128. */
    static const uint8_t maxarc[] = {0x2a, 0x81, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x7f};
    vouch_reader_init(&v, maxarc, sizeof(maxarc));
    assert_int_equal(vouch_der_oid_text(&v, text, sizeof(text)), VOUCH_OK);
    assert_string_equal(text, "1.2.18446744073709551615");
    assert_true(vouch_der_oid_eq(&v, "1.2.18446744073709551615"));
    assert_false(vouch_der_oid_eq(&v, "1.2.18446744073709551616"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_failed_read_leaves_reader),
        cmocka_unit_test(test_nested_bounds),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_oid),
        cmocka_unit_test(test_oid_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
