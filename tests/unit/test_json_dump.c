/* vouch_json_dump writes compact, key-sorted JSON itself (src/core/json.c)
 * and must give exactly jansson's json_dumps output for the same flags, or
 * hand the value to jansson. Checked on hand-picked values and on 20 000
 * random documents: nested objects and arrays, keys that share prefixes,
 * keys with embedded NULs, every control character, quotes, backslashes,
 * non-ASCII text, extreme integers and reals. */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

static void same_as_jansson(const json_t *v)
{
    char *ours = NULL;
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    assert_non_null(theirs);
    assert_int_equal(vouch_json_dump(v, 0, &ours), VOUCH_OK);
    assert_non_null(ours);
    assert_string_equal(ours, theirs);
    vouch_free(ours);
    free(theirs); /* lint:allow free: jansson allocated it with malloc */
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
/* Half the documents keep to what the writer handles itself (ASCII text, no
 * reals), so most of them exercise it rather than the hand-over. */
static bool plain_only;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Text of up to @p max bytes: mostly printable ASCII, with control
 * characters, quotes, backslashes, slashes, NULs and UTF-8 sequences. */
static size_t rnd_text(char *t, size_t max)
{
    static const char *pieces[] = {
        "\"", "\\", "/",    "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91",
        "ab", "a",  "x-ms-"};
    size_t n = (size_t)(rnd() % (max + 1)), len = 0;

    while (len < n) {
        uint64_t r = rnd() % 10;
        if (r < 6) {
            t[len++] = (char)(0x20 + rnd() % 0x5f);
        } else if (r < 8) {
            t[len++] = (char)(rnd() % 0x20); /* includes NUL */
        } else {
            const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
            if (plain_only && (unsigned char)p[0] >= 0x80)
                continue;
            size_t pl = strlen(p);
            if (len + pl > n)
                break;
            memcpy(t + len, p, pl);
            len += pl;
        }
    }
    return len;
}

static json_t *rnd_value(unsigned depth)
{
    char text[40];
    size_t len;
    uint64_t r = rnd() % (depth < 4 ? 9 : 6);
    static const json_int_t ints[] = {0, -1, 1, INT64_MAX, INT64_MIN, 1767225610, -42};

    switch (r) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd() & 1);
    case 2:
        return json_integer(rnd() & 1 ? ints[rnd() % (sizeof(ints) / sizeof(ints[0]))]
                                      : (json_int_t)rnd());
    case 3:
    case 4:
        len = rnd_text(text, sizeof(text) - 1);
        return json_stringn(text, len);
    case 5:
        return rnd() % 8 || plain_only ? json_stringn("", 0)
                                       : json_real((double)(rnd() % 1000) / 7.0);
    case 6:
    case 7: {
        json_t *o = json_object();
        size_t n = (size_t)(rnd() % 8);
        for (size_t i = 0; o && i < n; i++) {
            len = rnd_text(text, 6);
            json_t *v = rnd_value(depth + 1);
            if (!v || json_object_setn_new(o, text, len, v) != 0)
                json_decref(v); /* invalid UTF-8 key: skipped */
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        size_t n = (size_t)(rnd() % 6);
        for (size_t i = 0; a && i < n; i++) {
            json_t *v = rnd_value(depth + 1);
            if (v && json_array_append_new(a, v) != 0)
                return NULL;
        }
        return a;
    }
    }
}

static void test_known(void **state)
{
    json_t *o =
        json_pack("{s:s, s:i, s:b, s:n, s:[], s:{}, s:[s,i,{s:s}], s:s}", "b", "x\"y\\z", "a", -7,
                  "c", 1, "aa", "e", "d", "f", "q", 5, "k", "v", "\x01\x1f\t\n\r\b\f/", "\xc3\xa9");
    json_t *many = json_object();
    json_t *deep = json_array(), *cur = deep;
    (void)state;

    assert_non_null(o);
    same_as_jansson(o);
    /* More members than the writer's on-stack key table. */
    for (int i = 0; i < 300; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%03d", (i * 7919) % 300);
        assert_int_equal(json_object_set_new(many, k, json_integer(i)), 0);
    }
    same_as_jansson(many);
    /* Keys with an embedded NUL sort by bytes, then length, as jansson's. */
    assert_int_equal(json_object_setn_new(many, "k\0z", 3, json_true()), 0);
    assert_int_equal(json_object_setn_new(many, "k", 1, json_false()), 0);
    same_as_jansson(many);
    /* Deeper than VOUCH_MAX_JSON_DEPTH: handed to jansson, same answer. */
    for (unsigned i = 0; i < VOUCH_MAX_JSON_DEPTH + 3; i++) {
        json_t *next = json_array();
        assert_int_equal(json_array_append_new(cur, next), 0);
        cur = next;
    }
    same_as_jansson(deep);
    /* Longer than VOUCH_MAX_JSON_SIZE: handed to jansson, same answer. */
    {
        size_t big = VOUCH_MAX_JSON_SIZE + 16;
        char *text = malloc(big);
        json_t *s;
        assert_non_null(text);
        memset(text, 'a', big);
        assert_non_null(s = json_stringn(text, big));
        same_as_jansson(s);
        json_decref(s);
        free(text); /* lint:allow free: plain malloc above */
    }
    /* Top-level scalars, and a real (handed to jansson). */
    {
        json_t *vals[] = {json_string(""), json_integer(INT64_MIN), json_real(0.1), json_null(),
                          json_string("tr\xc3\xa8s")};
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            same_as_jansson(vals[i]);
            json_decref(vals[i]);
        }
    }
    json_decref(deep);
    json_decref(many);
    json_decref(o);
}

static void test_random(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        json_t *v;
        plain_only = i % 2 == 0;
        v = rnd_value(0);
        assert_non_null(v);
        same_as_jansson(v);
        json_decref(v);
    }
}

/* An allocation failure is NOMEM with nothing returned, not a crash or a
 * truncated document. */
static void test_nomem(void **state)
{
    json_t *o = json_pack("{s:s,s:[i,i]}", "a", "b", "c", 1, 2);
    char *s = (char *)1;
    (void)state;

    for (unsigned long k = 1; k < 4; k++) {
        vouch_fault_after(k);
        vouch_err rc = vouch_json_dump(o, 0, &s);
        vouch_fault_after(0);
        if (rc == VOUCH_OK) {
            assert_string_equal(s, "{\"a\":\"b\",\"c\":[1,2]}");
            vouch_free(s);
        } else {
            assert_int_equal(rc, VOUCH_ERR_NOMEM);
            assert_null(s);
        }
        s = (char *)1;
    }
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
