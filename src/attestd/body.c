/*
 * Parsing an attest request body without feeding its evidence string through
 * jansson.
 *
 * The evidence ("quote" or "report") is most of the body: ~6 KiB of base64 in
 * a 6.5 KiB document. jansson decodes strings one character at a time through
 * a growing buffer with UTF-8 checks, which cost more per request than
 * everything else the service does outside the two crypto operations. So:
 * one pass over the body finds the top-level member named @p field; when its
 * value is a string made only of base64 characters (no escapes are possible
 * then), the value's bytes are handed back as a span into the request body and
 * jansson parses a copy of the document with that string emptied. Emptying a
 * string of base64 characters changes neither the document's structure nor its
 * validity, so jansson still judges the whole document (syntax, duplicate
 * keys, depth, UTF-8) exactly as before; anything the scan does not
 * understand simply takes the ordinary path.
 */
#include <string.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

/* The characters of standard and URL-safe base64, padding included. */
static const bool b64_chars[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1, ['_'] = 1,
    ['+'] = 1, ['/'] = 1, ['='] = 1,
};

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the string starting at p[i] == '"' (index of the closing quote),
 * or len when unterminated. */
static size_t string_end(const uint8_t *p, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i;
    }
    return len;
}

/* Finds the value span of the top-level member @p field (a plain string of
 * base64 characters): [*vs, *ve) inside the quotes. False when absent, not
 * such a string, present twice, or the body is not an object. */
static bool find_member(const uint8_t *p, size_t len, const char *field, size_t *vs, size_t *ve)
{
    size_t flen = strlen(field), i = 0, depth = 0;
    bool found = false;

    while (i < len && is_ws(p[i]))
        i++;
    if (i >= len || p[i] != '{')
        return false;
    for (; i < len; i++) {
        unsigned char c = p[i];
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return false;
            depth--;
        } else if (c == '"') {
            size_t s = i, e = string_end(p, len, i), k;
            if (e >= len)
                return false;
            i = e;
            if (depth != 1)
                continue;
            /* A key is a string followed by ':'. */
            k = e + 1;
            while (k < len && is_ws(p[k]))
                k++;
            if (k >= len || p[k] != ':')
                continue;
            if (e - s - 1 != flen || memcmp(p + s + 1, field, flen) != 0)
                continue;
            k++;
            while (k < len && is_ws(p[k]))
                k++;
            if (found || k >= len || p[k] != '"')
                return false;
            /* One pass: base64 characters up to the closing quote. Anything
             * else (an escape included) leaves the body to jansson. */
            for (e = k + 1; e < len && b64_chars[p[e]]; e++)
                ;
            if (e >= len || p[e] != '"')
                return false;
            *vs = k + 1;
            *ve = e;
            found = true;
            i = e;
        }
    }
    return found;
}

vouch_err attestd_body_parse(const uint8_t *p, size_t len, const char *field, json_t **out,
                             const char **span, size_t *span_len, char *err, size_t cap)
{
    size_t vs = 0, ve = 0;
    char *copy = NULL;
    vouch_err rc;

    *out = NULL;
    *span = NULL;
    *span_len = 0;
    if (len > VOUCH_MAX_JSON_SIZE || !field || !find_member(p, len, field, &vs, &ve))
        return vouch_json_parse((const char *)p, len, out, err, cap);
    if (!(copy = vouch_malloc(len - (ve - vs) + 1)))
        return VOUCH_ERR_NOMEM;
    memcpy(copy, p, vs);
    memcpy(copy + vs, p + ve, len - ve);
    rc = vouch_json_parse(copy, len - (ve - vs), out, err, cap);
    vouch_free(copy);
    if (rc == VOUCH_OK) {
        *span = (const char *)p + vs;
        *span_len = ve - vs;
    }
    return rc;
}
