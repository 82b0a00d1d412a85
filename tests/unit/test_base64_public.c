/* vouch_base64_decode_public gives exactly vouch_base64_decode's answers:
 * the same bytes, the same errors, on valid, non-canonical, mis-padded and
 * mixed-alphabet text, for both alphabets; vouch_base64_encode_public writes
 * exactly what vouch_base64_encode writes. */
#include "testutil.h"

#include <stdint.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>

/* Characters the generated texts are made of: both alphabets, padding, and
 * a few that belong to neither. */
static const char pool[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= .\n\x80";

static void same_answer(const char *text, size_t len, bool url)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    vouch_err ra = vouch_base64_decode(text, len, url, &a, &alen);
    vouch_err rb = vouch_base64_decode_public(text, len, url, &b, &blen);

    assert_int_equal(rb, ra);
    assert_int_equal(blen, alen);
    if (ra == VOUCH_OK) {
        assert_non_null(b);
        assert_memory_equal(b, a, alen);
    } else {
        assert_null(b);
    }
    vouch_free(a);
    vouch_free(b);
}

/* Every length 0..300 of bytes covering all 256 values, both alphabets, and
 * the RFC 4648 vectors. */
static void test_encode_same(void **state)
{
    static const struct {
        const char *in, *std;
    } rfc[] = {{"", ""},
               {"f", "Zg=="},
               {"fo", "Zm8="},
               {"foo", "Zm9v"},
               {"foob", "Zm9vYg=="},
               {"fooba", "Zm9vYmE="},
               {"foobar", "Zm9vYmFy"}};
    uint8_t data[300];
    char a[512], b[512];
    (void)state;

    for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
        vouch_base64_encode_public((const uint8_t *)rfc[i].in, strlen(rfc[i].in), false, a);
        assert_string_equal(a, rfc[i].std);
    }
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 167u + 13u);
    for (size_t n = 0; n <= sizeof(data); n++) {
        for (int url = 0; url < 2; url++) {
            memset(a, 'x', sizeof(a));
            memset(b, 'y', sizeof(b));
            vouch_base64_encode(data, n, url, a);
            vouch_base64_encode_public(data, n, url, b);
            assert_string_equal(b, a);
            assert_int_equal(strlen(b), vouch_base64_encoded_len(n, url));
        }
    }
}

static void test_known(void **state)
{
    uint8_t *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(vouch_base64_decode_public("aGVsbG8", 7, true, &out, &len), VOUCH_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "hello", 5);
    vouch_free(out);
    assert_int_equal(vouch_base64_decode_public("aGVsbG8=", 8, false, &out, &len), VOUCH_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "hello", 5);
    vouch_free(out);
    assert_int_equal(vouch_base64_decode_public("-_-_", 4, true, &out, &len), VOUCH_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);
    vouch_free(out);
    /* Rejections: wrong alphabet, non-canonical tail, bad padding, 4k+1. */
    assert_int_equal(vouch_base64_decode_public("-_-_", 4, false, &out, &len), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode_public("+/+/", 4, true, &out, &len), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode_public("QR", 2, true, &out, &len), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode_public("QQ=", 3, true, &out, &len), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode_public("QUJDR", 5, true, &out, &len), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode_public("QU=D", 4, true, &out, &len), VOUCH_ERR_PARSE);
    assert_null(out);
}

static void test_same_as_constant_time(void **state)
{
    char text[80];
    uint64_t x = 0x9e3779b97f4a7c15u;

    (void)state;
    same_answer("", 0, true);
    same_answer("", 0, false);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 70);
        /* Mostly one alphabet, so that many texts decode. */
        size_t span = round % 3 == 0 ? sizeof(pool) - 1 : 62;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text[i] = pool[x % span];
        }
        if (round % 5 == 1 && len >= 2)
            text[len - 1] = '=';
        if (round % 7 == 2 && len >= 3)
            text[len - 2] = text[len - 1] = '=';
        same_answer(text, len, round % 2 == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_encode_same),
        cmocka_unit_test(test_same_as_constant_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
