/* attestd_body_parse (src/attestd/body.c): the attest body parser that keeps
 * the evidence string out of jansson must accept and refuse exactly what
 * vouch_json_parse does, and hand back the evidence bytes only for the
 * top-level member asked for. */
#include "testutil.h"

#include <string.h>
#include <vouch/json.h>

#include "attestd/attestd_int.h"

/* Parses @p text both ways; asserts the same verdict and, on success, that
 * the fast result with the span put back equals jansson's own parse. Returns
 * the span (NULL when the ordinary path was taken). */
static const char *both(const char *text, const char *field, vouch_err want, size_t *span_len)
{
    json_t *fast = NULL, *slow = NULL;
    const char *span = NULL;
    char err[160];
    vouch_err a = attestd_body_parse((const uint8_t *)text, strlen(text), field, &fast, &span,
                                     span_len, err, sizeof(err));
    vouch_err b = vouch_json_parse(text, strlen(text), &slow, err, sizeof(err));

    assert_int_equal(a, want);
    assert_int_equal(b, want);
    if (a == VOUCH_OK) {
        if (span) {
            assert_string_equal(json_string_value(json_object_get(fast, field)), "");
            assert_int_equal(json_object_set_new(fast, field, json_stringn(span, *span_len)), 0);
        }
        assert_true(json_equal(fast, slow));
    } else {
        assert_null(span);
    }
    json_decref(fast);
    json_decref(slow);
    return span;
}

static void test_fast_path(void **state)
{
    size_t n = 0;
    const char *s;
    (void)state;

    s = both("{\"quote\":\"QUJDRA\",\"nonce\":\"x\"}", "quote", VOUCH_OK, &n);
    assert_non_null(s);
    assert_int_equal(n, 6);
    assert_memory_equal(s, "QUJDRA", 6);
    /* Whitespace, padding, standard alphabet, other members around it. */
    s = both(" {\n \"runtimeData\" : {\"data\":\"AA\",\"dataType\":\"Binary\"},\n"
             " \"quote\" :\t\"ab+/cd==\" }\n",
             "quote", VOUCH_OK, &n);
    assert_non_null(s);
    assert_int_equal(n, 8);
    /* The same name as a value or nested deeper is not the member. */
    s = both("{\"a\":\"quote\",\"b\":{\"quote\":\"Zm9v\"},\"quote\":\"YmFy\"}", "quote", VOUCH_OK,
             &n);
    assert_non_null(s);
    assert_memory_equal(s, "YmFy", 4);
    s = both("{\"x\":[\"quote\",{\"quote\":\"Zm9v\"}],\"report\":\"YmFy\"}", "report", VOUCH_OK,
             &n);
    assert_non_null(s);
    assert_memory_equal(s, "YmFy", 4);
    /* Empty value. */
    s = both("{\"quote\":\"\"}", "quote", VOUCH_OK, &n);
    assert_non_null(s);
    assert_int_equal(n, 0);
}

static void test_ordinary_path(void **state)
{
    size_t n = 0;
    (void)state;

    /* Escapes, non-base64 characters, non-string values, absent member:
     * jansson sees the document as sent. */
    assert_null(both("{\"quote\":\"QU\\/JD\"}", "quote", VOUCH_OK, &n));
    assert_null(both("{\"quote\":\"QU JD\"}", "quote", VOUCH_OK, &n));
    assert_null(both("{\"quote\":\"caf\xc3\xa9\"}", "quote", VOUCH_OK, &n));
    assert_null(both("{\"quote\":42}", "quote", VOUCH_OK, &n));
    assert_null(both("{\"Quote\":\"QUJD\"}", "quote", VOUCH_OK, &n));
    assert_null(both("{\"qu\\u006fte\":\"QUJD\"}", "quote", VOUCH_OK, &n));
    assert_null(both("[\"quote\",\"QUJD\"]", "quote", VOUCH_OK, &n));
}

static void test_refusals(void **state)
{
    size_t n = 0;
    (void)state;

    /* Exactly vouch_json_parse's verdicts. */
    assert_null(both("{\"quote\":\"QUJD\",\"quote\":\"QUJD\"}", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QUJD\"", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QUJD\"}}", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QUJD\" \"x\":1}", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QU\x01JD\"}", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QUJD\",}", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QUJD", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"quote\":\"QUJD\",\"bad\":\"\xff\"}", "quote", VOUCH_ERR_PARSE, &n));
    assert_null(both("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"
                     "\"quote\":\"QUJD\"}",
                     "quote", VOUCH_ERR_TOO_LARGE, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path),
        cmocka_unit_test(test_ordinary_path),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
