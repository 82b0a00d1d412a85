/* Core: bounded buffers, the reader, encodings, time, JSON limits, memory. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/time.h>

static void test_buf_cap(void **state)
{
    struct vouch_buf b;
    (void)state;
    vouch_buf_init(&b, 10);
    assert_int_equal(vouch_buf_append_str(&b, "hello"), VOUCH_OK);
    assert_int_equal(vouch_buf_printf(&b, "%d", 1234), VOUCH_OK);
    assert_string_equal((char *)b.data, "hello1234");
    /* Crossing the cap fails and frees: no half-built value survives. */
    assert_int_equal(vouch_buf_append_str(&b, "xy"), VOUCH_ERR_TOO_LARGE);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    vouch_buf_free(&b);

    vouch_buf_init(&b, 1000);
    for (int i = 0; i < 100; i++)
        assert_int_equal(vouch_buf_printf(&b, "%03d", i), VOUCH_OK);
    assert_int_equal(b.len, 300);
    assert_memory_equal(b.data + 297, "099", 3);
    {
        size_t n;
        uint8_t *p = vouch_buf_take(&b, &n);
        assert_int_equal(n, 300);
        assert_null(b.data);
        vouch_free(p);
    }
    /* Long printf goes through the slow path. */
    vouch_buf_init_secret(&b, 4096);
    assert_int_equal(vouch_buf_printf(&b, "%0600d", 7), VOUCH_OK);
    assert_int_equal(b.len, 600);
    vouch_buf_free(&b);
}

static void test_buf_nomem(void **state)
{
    struct vouch_buf b;
    (void)state;
    vouch_buf_init(&b, 100);
    vouch_fault_after(1);
    assert_int_equal(vouch_buf_append_str(&b, "abc"), VOUCH_ERR_NOMEM);
    assert_null(b.data);
    vouch_fault_after(0);
}

static void test_reader(void **state)
{
    static const uint8_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    struct vouch_reader r, sub;
    uint16_t a;
    uint32_t b;
    uint64_t c;
    uint8_t d[4];
    (void)state;

    vouch_reader_init(&r, in, sizeof(in));
    assert_int_equal(vouch_reader_u16le(&r, &a), VOUCH_OK);
    assert_int_equal(a, 0x0201);
    assert_int_equal(vouch_reader_u32be(&r, &b), VOUCH_OK);
    assert_int_equal(b, 0x03040506);
    assert_int_equal(vouch_reader_sub(&r, 3, &sub), VOUCH_OK);
    assert_int_equal(vouch_reader_left(&sub), 3);
    assert_int_equal(vouch_reader_u32le(&sub, &b), VOUCH_ERR_TRUNCATED);
    assert_int_equal(b, 0);
    /* Sticky: once failed, even a 1-byte read fails. */
    assert_int_equal(vouch_reader_u8(&sub, d), VOUCH_ERR_TRUNCATED);
    assert_int_equal(vouch_reader_status(&sub), VOUCH_ERR_TRUNCATED);
    assert_int_equal(vouch_reader_left(&r), 2);
    assert_int_equal(vouch_reader_u64le(&r, &c), VOUCH_ERR_TRUNCATED);
    assert_int_equal(vouch_reader_copy(&r, d, 1), VOUCH_ERR_TRUNCATED);

    /* A huge skip cannot wrap the offset. */
    vouch_reader_init(&r, in, sizeof(in));
    assert_int_equal(vouch_reader_skip(&r, 5), VOUCH_OK);
    assert_int_equal(vouch_reader_skip(&r, SIZE_MAX), VOUCH_ERR_TRUNCATED);

    /* Empty input: zero-length views are fine, anything else is not. */
    {
        const uint8_t *v = NULL;
        vouch_reader_init(&r, NULL, 0);
        assert_int_equal(vouch_reader_view(&r, 0, &v), VOUCH_OK);
        assert_non_null(v);
        assert_int_equal(vouch_reader_u8(&r, d), VOUCH_ERR_TRUNCATED);
    }
}

static void test_hex(void **state)
{
    uint8_t out[8];
    size_t n;
    char text[17];
    static const uint8_t bytes[] = {0x00, 0x9f, 0xa0, 0xff, 0x12};
    (void)state;

    vouch_hex_encode(bytes, sizeof(bytes), text);
    assert_string_equal(text, "009fa0ff12");
    assert_int_equal(vouch_hex_decode("009FA0ff12", 10, out, sizeof(out), &n), VOUCH_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, bytes, 5);
    assert_int_equal(vouch_hex_decode("0g", 2, out, sizeof(out), &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_hex_decode("0", 1, out, sizeof(out), &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_hex_decode("0:", 2, out, sizeof(out), &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_hex_decode("0@", 2, out, sizeof(out), &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_hex_decode("0`", 2, out, sizeof(out), &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_hex_decode("0G", 2, out, sizeof(out), &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_hex_decode("000000000000000000", 18, out, sizeof(out), &n),
                     VOUCH_ERR_TOO_LARGE);
    /* Every byte value round-trips, and every non-hex character is refused. */
    for (unsigned c = 0; c < 256; c++) {
        char s[3] = {'0', (char)c, 0};
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        assert_int_equal(vouch_hex_decode(s, 2, out, 1, &n) == VOUCH_OK, ok);
        {
            uint8_t b = (uint8_t)c;
            vouch_hex_encode(&b, 1, text);
            assert_int_equal(vouch_hex_decode(text, 2, out, 1, &n), VOUCH_OK);
            assert_int_equal(out[0], b);
        }
    }
}

static void b64_case(const char *plain, const char *std, const char *url)
{
    char enc[64];
    uint8_t *dec;
    size_t n;
    size_t len = strlen(plain);

    assert_int_equal(vouch_base64_encoded_len(len, false), strlen(std));
    vouch_base64_encode((const uint8_t *)plain, len, false, enc);
    assert_string_equal(enc, std);
    vouch_base64_encode((const uint8_t *)plain, len, true, enc);
    assert_string_equal(enc, url);
    assert_int_equal(vouch_base64_decode(std, strlen(std), false, &dec, &n), VOUCH_OK);
    assert_int_equal(n, len);
    assert_memory_equal(dec, plain, len);
    vouch_free(dec);
    /* base64url with and without padding, as Azure clients send it. */
    assert_int_equal(vouch_base64_decode(url, strlen(url), true, &dec, &n), VOUCH_OK);
    assert_memory_equal(dec, plain, len);
    vouch_free(dec);
}

static void test_base64(void **state)
{
    uint8_t *dec;
    size_t n;
    (void)state;
    /* RFC 4648 §10 vectors. */
    b64_case("", "", "");
    b64_case("f", "Zg==", "Zg");
    b64_case("fo", "Zm8=", "Zm8");
    b64_case("foo", "Zm9v", "Zm9v");
    b64_case("foob", "Zm9vYg==", "Zm9vYg");
    b64_case("fooba", "Zm9vYmE=", "Zm9vYmE");
    b64_case("foobar", "Zm9vYmFy", "Zm9vYmFy");
    {
        static const uint8_t all[] = {0xfb, 0xff, 0xbf};
        char enc[8];
        vouch_base64_encode(all, 3, false, enc);
        assert_string_equal(enc, "+/+/");
        vouch_base64_encode(all, 3, true, enc);
        assert_string_equal(enc, "-_-_");
        assert_int_equal(vouch_base64_decode("-_-_", 4, true, &dec, &n), VOUCH_OK);
        assert_memory_equal(dec, all, 3);
        vouch_free(dec);
    }
    assert_int_equal(vouch_base64_decode("Zm8=", 4, true, &dec, &n), VOUCH_OK);
    vouch_free(dec);
    /* Wrong alphabet, stray characters, bad padding, non-canonical bits. */
    assert_int_equal(vouch_base64_decode("-_-_", 4, false, &dec, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode("+/+/", 4, true, &dec, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode("Zm 9v", 5, false, &dec, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode("Zm8==", 5, false, &dec, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode("Z", 1, false, &dec, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode("Zh==", 4, false, &dec, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_base64_decode("=", 1, false, &dec, &n), VOUCH_ERR_PARSE);
    assert_null(dec);
}

static void test_time(void **state)
{
    int64_t t;
    char buf[21];
    (void)state;
    assert_int_equal(vouch_time_parse_rfc3339("2025-07-01T00:00:00Z", 20, &t), VOUCH_OK);
    assert_int_equal(t, 1751328000);
    assert_int_equal(vouch_time_parse_rfc3339("2025-06-19T10:56:11.123Z", 24, &t), VOUCH_OK);
    assert_int_equal(t, 1750330571);
    assert_int_equal(vouch_time_parse_rfc3339("2025-07-01T02:00:00+02:00", 25, &t), VOUCH_OK);
    assert_int_equal(t, 1751328000);
    assert_int_equal(vouch_time_parse_rfc3339("2024-02-29T00:00:00Z", 20, &t), VOUCH_OK);
    assert_int_equal(vouch_time_parse_rfc3339("2023-02-29T00:00:00Z", 20, &t), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_time_parse_rfc3339("2025-07-01 00:00:00Z", 20, &t), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_time_parse_rfc3339("2025-07-01T00:00:00", 19, &t), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_time_parse_rfc3339("2025-07-01T00:00:00Zx", 21, &t), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_time_parse("1751328000", &t), VOUCH_OK);
    assert_int_equal(t, 1751328000);
    assert_int_equal(vouch_time_parse("2025-07-01T00:00:00Z", &t), VOUCH_OK);
    assert_int_equal(t, 1751328000);
    assert_int_equal(vouch_time_parse("yesterday", &t), VOUCH_ERR_PARSE);
    vouch_time_format(1751328000, buf);
    assert_string_equal(buf, "2025-07-01T00:00:00Z");
    vouch_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    /* Round trip over a spread of instants, leap days included. */
    for (int64_t x = 0; x < 4102444800LL; x += 86400LL * 37 + 3601) {
        vouch_time_format(x, buf);
        assert_int_equal(vouch_time_parse_rfc3339(buf, 20, &t), VOUCH_OK);
        assert_int_equal(t, x);
    }
}

static void test_json(void **state)
{
    json_t *j = NULL;
    char err[128];
    char deep[VOUCH_MAX_JSON_DEPTH * 2 + 8];
    const char *s;
    size_t n;
    int64_t i;
    uint8_t h[2];
    (void)state;

    assert_int_equal(vouch_json_parse("{\"a\":1,\"a\":2}", 13, &j, err, sizeof(err)),
                     VOUCH_ERR_PARSE);
    assert_null(j);
    assert_non_null(strstr(err, "duplicate"));
    assert_int_equal(vouch_json_parse("{\"a\":", 5, &j, err, sizeof(err)), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_json_parse("\"a\\u0000b\"", 10, &j, err, sizeof(err)), VOUCH_ERR_PARSE);
    memset(deep, '[', VOUCH_MAX_JSON_DEPTH + 1);
    memset(deep + VOUCH_MAX_JSON_DEPTH + 1, ']', VOUCH_MAX_JSON_DEPTH + 1);
    assert_int_equal(vouch_json_parse(deep, 2 * (VOUCH_MAX_JSON_DEPTH + 1), &j, err, sizeof(err)),
                     VOUCH_ERR_TOO_LARGE);
    /* Brackets inside strings do not count toward depth. */
    {
        static const char doc[] = "{\"k\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\","
                                  "\"n\":5,\"h\":\"0aFf\"}";
        assert_int_equal(vouch_json_parse(doc, strlen(doc), &j, err, sizeof(err)), VOUCH_OK);
    }
    assert_int_equal(vouch_json_str(j, "k", &s, &n), VOUCH_OK);
    assert_int_equal(n, 39);
    assert_int_equal(vouch_json_int(j, "n", 0, 10, &i), VOUCH_OK);
    assert_int_equal(i, 5);
    assert_int_equal(vouch_json_int(j, "n", 6, 10, &i), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_json_int(j, "k", 0, 10, &i), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_json_str(j, "missing", &s, &n), VOUCH_ERR_NOT_FOUND);
    assert_int_equal(vouch_json_hex_fixed(j, "h", h, 2), VOUCH_OK);
    assert_int_equal(h[0], 0x0a);
    assert_int_equal(h[1], 0xff);
    assert_int_equal(vouch_json_hex_fixed(j, "h", h, 1), VOUCH_ERR_PARSE);
    json_decref(j);
}

static void test_mem(void **state)
{
    uint8_t a[32] = {0}, b[32] = {0};
    void *p;
    (void)state;
    assert_true(vouch_ct_eq(a, b, sizeof(a)));
    b[31] = 1;
    assert_false(vouch_ct_eq(a, b, sizeof(a)));
    assert_true(vouch_ct_is_zero(a, sizeof(a)));
    assert_false(vouch_ct_is_zero(b, sizeof(b)));
    vouch_wipe(b, sizeof(b));
    assert_true(vouch_ct_is_zero(b, sizeof(b)));
    assert_null(vouch_reallocarray(NULL, SIZE_MAX / 2, 4));
    vouch_fault_after(2);
    p = vouch_malloc(8);
    assert_non_null(p);
    assert_null(vouch_malloc(8));
    vouch_free(p);
    p = vouch_malloc(8);
    assert_non_null(p);
    vouch_free(p);
    vouch_fault_after(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap), cmocka_unit_test(test_buf_nomem),
        cmocka_unit_test(test_reader),  cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base64),  cmocka_unit_test(test_time),
        cmocka_unit_test(test_json),    cmocka_unit_test(test_mem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
