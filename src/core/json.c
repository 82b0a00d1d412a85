/*
 * JSON with limits. jansson itself allows nesting to 2048 levels; we scan the
 * text first and refuse anything deeper than VOUCH_MAX_JSON_DEPTH, so hostile
 * input cannot drive deep recursion in the parser or in our own walkers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

vouch_err vouch_json_dump(const json_t *o, int flags, char **out)
{
    char *s = json_dumps(o, (size_t)flags | JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *copy;

    *out = NULL;
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
