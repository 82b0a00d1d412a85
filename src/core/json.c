/*
 * JSON with limits. jansson itself allows nesting to 2048 levels; we scan the
 * text first and refuse anything deeper than VOUCH_MAX_JSON_DEPTH, so hostile
 * input cannot drive deep recursion in the parser or in our own walkers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

static int depth_ok(const char *t, size_t len)
{
    size_t depth = 0;
    int in_str = 0;

    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > VOUCH_MAX_JSON_DEPTH)
                return 0;
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
        }
    }
    return 1;
}

vouch_err vouch_json_parse(const char *text, size_t len, json_t **out, char *err_out,
                           size_t err_cap)
{
    json_error_t jerr;
    json_t *j;

    *out = NULL;
    if (err_out && err_cap)
        err_out[0] = 0;
    if (len > VOUCH_MAX_JSON_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    if (!depth_ok(text, len)) {
        if (err_out && err_cap)
            snprintf(err_out, err_cap, "nesting deeper than %u", VOUCH_MAX_JSON_DEPTH);
        return VOUCH_ERR_TOO_LARGE;
    }
    j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j) {
        if (err_out && err_cap)
            snprintf(err_out, err_cap, "%s at line %d column %d", jerr.text, jerr.line,
                     jerr.column);
        return VOUCH_ERR_PARSE;
    }
    *out = j;
    return VOUCH_OK;
}

vouch_err vouch_json_str(const json_t *o, const char *key, const char **out, size_t *len_out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!v)
        return VOUCH_ERR_NOT_FOUND;
    if (!json_is_string(v))
        return VOUCH_ERR_PARSE;
    *out = json_string_value(v);
    if (len_out)
        *len_out = json_string_length(v);
    return VOUCH_OK;
}

vouch_err vouch_json_int(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    json_int_t i;

    *out = 0;
    if (!v)
        return VOUCH_ERR_NOT_FOUND;
    if (!json_is_integer(v))
        return VOUCH_ERR_PARSE;
    i = json_integer_value(v);
    if (i < min || i > max)
        return VOUCH_ERR_PARSE;
    *out = (int64_t)i;
    return VOUCH_OK;
}

vouch_err vouch_json_hex_fixed(const json_t *o, const char *key, uint8_t *out, size_t n)
{
    const char *s;
    size_t len, got;
    vouch_err rc;

    if ((rc = vouch_json_str(o, key, &s, &len)) != VOUCH_OK)
        return rc;
    if (len != 2 * n)
        return VOUCH_ERR_PARSE;
    return vouch_hex_decode(s, len, out, n, &got);
}

vouch_err vouch_json_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char small[257];
    char *hex = small;
    vouch_err rc = VOUCH_ERR_NOMEM;

    if (n > (sizeof(small) - 1) / 2) {
        if (n > VOUCH_MAX_FILE_SIZE)
            return VOUCH_ERR_TOO_LARGE;
        hex = vouch_malloc(2 * n + 1);
        if (!hex)
            return VOUCH_ERR_NOMEM;
    }
    vouch_hex_encode(p, n, hex);
    if (json_object_set_new(o, key, json_stringn(hex, 2 * n)) != 0)
        goto out;
    rc = VOUCH_OK;
out:
    if (hex != small)
        vouch_free(hex);
    return rc;
}

/*
 * A direct writer for vouch_json_dump's usual form (compact, sorted keys, any
 * value): every token the service issues is serialised this way, and
 * jansson's dumper, which goes through a callback per fragment and decodes
 * each string as UTF-8, cost ~5% of a request. The output is byte for byte
 * jansson's (tests/unit/test_json_dump.c compares them on random documents);
 * whatever the writer does not handle exactly as jansson does (reals,
 * non-ASCII text, nesting deeper than VOUCH_MAX_JSON_DEPTH, which is also
 * where a reference loop would end up, output past VOUCH_MAX_JSON_SIZE)
 * makes it give up, and jansson serialises the value instead.
 */
enum { DUMP_OK = 0, DUMP_GIVE_UP = 1, DUMP_NOMEM = 2 };

struct key_ref {
    const char *k;
    size_t len;
    json_t *v;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->k, y->k, n);

    if (r)
        return r;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* A document past VOUCH_MAX_JSON_SIZE goes to jansson, which has no cap, so
 * the cap never changes what vouch_json_dump accepts. */
static int put(struct vouch_buf *b, const void *p, size_t n)
{
    vouch_err rc = vouch_buf_append(b, p, n);

    if (rc == VOUCH_OK)
        return DUMP_OK;
    return rc == VOUCH_ERR_TOO_LARGE ? DUMP_GIVE_UP : DUMP_NOMEM;
}

static int put_string(struct vouch_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    int rc;

    if ((rc = put(b, "\"", 1)) != DUMP_OK)
        return rc;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t n = 2;

        if (c >= 0x80)
            return DUMP_GIVE_UP;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = put(b, s + run, i - run)) != DUMP_OK)
            return rc;
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if ((rc = put(b, esc, n)) != DUMP_OK)
            return rc;
    }
    if ((rc = put(b, s + run, len - run)) != DUMP_OK)
        return rc;
    return put(b, "\"", 1);
}

static int put_integer(struct vouch_buf *b, json_int_t v)
{
    char t[24];
    size_t i = sizeof(t);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

    do {
        t[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        t[--i] = '-';
    return put(b, t + i, sizeof(t) - i);
}

static int put_value(struct vouch_buf *b, const json_t *v, unsigned depth)
{
    int rc = DUMP_OK;

    switch (json_typeof(v)) {
    case JSON_NULL:
        return put(b, "null", 4);
    case JSON_TRUE:
        return put(b, "true", 4);
    case JSON_FALSE:
        return put(b, "false", 5);
    case JSON_INTEGER:
        return put_integer(b, json_integer_value(v));
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_REAL:
        return DUMP_GIVE_UP;
    case JSON_ARRAY:
        if (depth >= VOUCH_MAX_JSON_DEPTH)
            return DUMP_GIVE_UP;
        if ((rc = put(b, "[", 1)) != DUMP_OK)
            return rc;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if ((i && (rc = put(b, ",", 1)) != DUMP_OK) ||
                (rc = put_value(b, json_array_get(v, i), depth + 1)) != DUMP_OK)
                return rc;
        }
        return put(b, "]", 1);
    case JSON_OBJECT: {
        struct key_ref stack_keys[64], *keys = stack_keys;
        size_t n = json_object_size(v), i = 0;
        void *it;

        if (depth >= VOUCH_MAX_JSON_DEPTH)
            return DUMP_GIVE_UP;
        if (n > sizeof(stack_keys) / sizeof(stack_keys[0]) &&
            !(keys = vouch_calloc(n, sizeof(*keys))))
            return DUMP_NOMEM;
        for (it = json_object_iter((json_t *)v); it && i < n;
             it = json_object_iter_next((json_t *)v, it), i++) {
            keys[i].k = json_object_iter_key(it);
            keys[i].len = json_object_iter_key_len(it);
            keys[i].v = json_object_iter_value(it);
        }
        qsort(keys, i, sizeof(*keys), key_cmp);
        rc = put(b, "{", 1);
        for (size_t k = 0; rc == DUMP_OK && k < i; k++) {
            if ((k && (rc = put(b, ",", 1)) != DUMP_OK) ||
                (rc = put_string(b, keys[k].k, keys[k].len)) != DUMP_OK ||
                (rc = put(b, ":", 1)) != DUMP_OK)
                break;
            rc = put_value(b, keys[k].v, depth + 1);
        }
        if (rc == DUMP_OK)
            rc = put(b, "}", 1);
        if (keys != stack_keys)
            vouch_free(keys);
        return rc;
    }
    }
    return DUMP_GIVE_UP;
}

vouch_err vouch_json_dump(const json_t *o, int flags, char **out)
{
    char *s, *copy;

    *out = NULL;
    if (flags == 0 && o) {
        struct vouch_buf b;
        int rc;

        vouch_buf_init(&b, VOUCH_MAX_JSON_SIZE);
        rc = put_value(&b, o, 0);
        if (rc == DUMP_OK)
            *out = (char *)vouch_buf_take(&b, NULL);
        vouch_buf_free(&b);
        if (rc == DUMP_OK)
            return *out ? VOUCH_OK : VOUCH_ERR_NOMEM;
        if (rc == DUMP_NOMEM)
            return VOUCH_ERR_NOMEM;
    }
    s = json_dumps(o, (size_t)flags | JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s)
        return VOUCH_ERR_NOMEM;
    /* Hand back memory from our allocator so callers free it with vouch_free. */
    copy = vouch_strdup(s);
    free(s); /* lint:allow free: jansson allocated it with malloc */
    if (!copy)
        return VOUCH_ERR_NOMEM;
    *out = copy;
    return VOUCH_OK;
}
