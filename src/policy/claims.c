/*
 * Claim sets: an ordered array of claims whose strings live in the set's own
 * arena, plus the conversions to and from JSON that the service and the CLI
 * use. Every entry point checks the limits in vouch/limits.h before copying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/policy.h>

#include "policy/policy_int.h"

bool vouch__utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned c = p[i];
        unsigned need;
        uint32_t cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (len - i - 1 < need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0u) != 0x80u)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        /* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}

int vouch__utf8_prefix(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;

    /* Back up over continuation bytes to the start of a sequence that does
     * not fit, unless the cut falls exactly on a boundary. */
    if (n < len) {
        while (n > 0 && (((unsigned char)s[n]) & 0xC0u) == 0x80u)
            n--;
    }
    return (int)n;
}

void vouch__utf8_trim(char *s)
{
    size_t len = strlen(s);
    size_t lead = len;
    unsigned char c;
    size_t need;

    while (lead > 0 && (((unsigned char)s[lead - 1]) & 0xC0u) == 0x80u)
        lead--;
    if (lead == 0)
        return;
    c = (unsigned char)s[lead - 1];
    if (c < 0x80)
        return;
    need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len - (lead - 1) < need)
        s[lead - 1] = 0;
}

const char *vouch_claim_issuer_name(enum vouch_claim_issuer issuer)
{
    switch (issuer) {
    case VOUCH_ISSUER_CUSTOM_CLAIM:
        return "CustomClaim";
    case VOUCH_ISSUER_ATTESTATION_SERVICE:
        return "AttestationService";
    case VOUCH_ISSUER_ATTESTATION_POLICY:
        return "AttestationPolicy";
    }
    return "?";
}

const char *vouch_claim_value_type_name(enum vouch_claim_value_type t)
{
    switch (t) {
    case VOUCH_CLAIM_STRING:
        return "String";
    case VOUCH_CLAIM_INTEGER:
        return "Integer";
    case VOUCH_CLAIM_BOOLEAN:
        return "Boolean";
    }
    return "?";
}

vouch_err vouch_claims_new(struct vouch_claims **out)
{
    struct vouch_claims *c;

    *out = NULL;
    c = vouch_calloc(1, sizeof(*c));
    if (!c)
        return VOUCH_ERR_NOMEM;
    /* Worst case: every claim at its largest type and value. */
    vouch__arena_init(&c->text, 0);
    *out = c;
    return VOUCH_OK;
}

void vouch_claims_free(struct vouch_claims *c)
{
    if (!c)
        return;
    vouch__arena_free(&c->text);
    vouch_free(c->items);
    vouch_free(c);
}

static bool issuer_ok(enum vouch_claim_issuer issuer)
{
    return issuer == VOUCH_ISSUER_CUSTOM_CLAIM || issuer == VOUCH_ISSUER_ATTESTATION_SERVICE ||
           issuer == VOUCH_ISSUER_ATTESTATION_POLICY;
}

vouch_err vouch__claims_push_copy(struct vouch_claims *c, const struct vouch_claim *cl)
{
    struct vouch_claim copy = *cl;
    char *type = NULL;
    char *str = NULL;
    size_t tlen;
    vouch_err rc;

    if (!cl->type || !issuer_ok(cl->issuer))
        return VOUCH_ERR_INVAL;
    tlen = strlen(cl->type);
    if (tlen == 0)
        return VOUCH_ERR_INVAL;
    if (tlen > VOUCH_MAX_CLAIM_TYPE_LEN)
        return VOUCH_ERR_TOO_LARGE;
    if (!vouch__utf8_valid(cl->type, tlen))
        return VOUCH_ERR_INVAL;
    switch (cl->value_type) {
    case VOUCH_CLAIM_STRING:
        if (!cl->string && cl->string_len)
            return VOUCH_ERR_INVAL;
        if (cl->string_len > VOUCH_MAX_CLAIM_VALUE_LEN)
            return VOUCH_ERR_TOO_LARGE;
        if (!vouch__utf8_valid(cl->string ? cl->string : "", cl->string_len))
            return VOUCH_ERR_INVAL;
        break;
    case VOUCH_CLAIM_INTEGER:
    case VOUCH_CLAIM_BOOLEAN:
        break;
    default:
        return VOUCH_ERR_INVAL;
    }
    if (c->n >= VOUCH_MAX_CLAIMS)
        return VOUCH_ERR_TOO_LARGE;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct vouch_claim *items;
        if (ncap > VOUCH_MAX_CLAIMS)
            ncap = VOUCH_MAX_CLAIMS;
        items = vouch_reallocarray(c->items, ncap, sizeof(*items));
        if (!items)
            return VOUCH_ERR_NOMEM;
        c->items = items;
        c->cap = ncap;
    }
    if ((rc = vouch__arena_strndup(&c->text, cl->type, tlen, &type)) != VOUCH_OK)
        return rc;
    copy.type = type;
    if (cl->value_type == VOUCH_CLAIM_STRING) {
        if ((rc = vouch__arena_strndup(&c->text, cl->string ? cl->string : "", cl->string_len,
                                       &str)) != VOUCH_OK)
            return rc;
        copy.string = str;
        copy.integer = 0;
        copy.boolean = false;
    } else {
        copy.string = NULL;
        copy.string_len = 0;
        if (cl->value_type == VOUCH_CLAIM_INTEGER)
            copy.boolean = false;
        else
            copy.integer = 0;
    }
    c->items[c->n++] = copy;
    return VOUCH_OK;
}

vouch_err vouch_claims_add_string(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                                  const char *type, const char *value, size_t value_len)
{
    struct vouch_claim cl = {0};

    if (!c || !type || (!value && value_len))
        return VOUCH_ERR_INVAL;
    cl.type = type;
    cl.value_type = VOUCH_CLAIM_STRING;
    cl.string = value ? value : "";
    cl.string_len = value_len;
    cl.issuer = issuer;
    return vouch__claims_push_copy(c, &cl);
}

vouch_err vouch_claims_add_int(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                               const char *type, int64_t value)
{
    struct vouch_claim cl = {0};

    if (!c || !type)
        return VOUCH_ERR_INVAL;
    cl.type = type;
    cl.value_type = VOUCH_CLAIM_INTEGER;
    cl.integer = value;
    cl.issuer = issuer;
    return vouch__claims_push_copy(c, &cl);
}

vouch_err vouch_claims_add_bool(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                                const char *type, bool value)
{
    struct vouch_claim cl = {0};

    if (!c || !type)
        return VOUCH_ERR_INVAL;
    cl.type = type;
    cl.value_type = VOUCH_CLAIM_BOOLEAN;
    cl.boolean = value;
    cl.issuer = issuer;
    return vouch__claims_push_copy(c, &cl);
}

static bool json_is_primitive(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v) || json_is_boolean(v) || json_is_null(v);
}

/* One scalar; null adds nothing. */
static vouch_err add_scalar(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                            const char *type, const json_t *v)
{
    if (json_is_null(v))
        return VOUCH_OK;
    if (json_is_string(v))
        return vouch_claims_add_string(c, issuer, type, json_string_value(v),
                                       json_string_length(v));
    if (json_is_integer(v))
        return vouch_claims_add_int(c, issuer, type, (int64_t)json_integer_value(v));
    if (json_is_boolean(v))
        return vouch_claims_add_bool(c, issuer, type, json_is_true(v));
    return VOUCH_ERR_PARSE;
}

static vouch_err add_json_value(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                                const char *type, const json_t *value)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char *text = NULL;

    if (json_is_real(value))
        return VOUCH_ERR_PARSE;
    if (json_is_primitive(value))
        return add_scalar(c, issuer, type, value);
    if (json_is_array(value)) {
        size_t i;
        json_t *m;
        bool all_primitive = true;
        json_array_foreach(value, i, m)
        {
            if (json_is_real(m))
                return VOUCH_ERR_PARSE;
            if (!json_is_primitive(m))
                all_primitive = false;
        }
        if (all_primitive) {
            json_array_foreach(value, i, m)
            {
                if ((rc = add_scalar(c, issuer, type, m)) != VOUCH_OK)
                    return rc;
            }
            return VOUCH_OK;
        }
    }
    if (!json_is_array(value) && !json_is_object(value))
        return VOUCH_ERR_INVAL;
    /* Structured evidence (x-ms-runtime, collateral hashes) is presented to
     * the policy as its JSON text, as MAA 1.2 does for raw JSON claims. */
    text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return VOUCH_ERR_NOMEM;
    rc = vouch_claims_add_string(c, issuer, type, text, strlen(text));
    free(text); /* lint:allow free: jansson allocated it with malloc */
    return rc;
}

vouch_err vouch_claims_add_json(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                                const char *type, const json_t *value)
{
    size_t before;
    vouch_err rc;

    if (!c || !type || !value)
        return VOUCH_ERR_INVAL;
    before = c->n;
    rc = add_json_value(c, issuer, type, value);
    if (rc != VOUCH_OK)
        c->n = before;
    return rc;
}

vouch_err vouch_claims_add_json_object(struct vouch_claims *c, enum vouch_claim_issuer issuer,
                                       const json_t *obj)
{
    const char *key;
    json_t *v;
    size_t before;
    vouch_err rc = VOUCH_OK;

    if (!c || !json_is_object(obj))
        return VOUCH_ERR_INVAL;
    before = c->n;
    json_object_foreach((json_t *)obj, key, v)
    {
        if ((rc = add_json_value(c, issuer, key, v)) != VOUCH_OK)
            break;
    }
    if (rc != VOUCH_OK)
        c->n = before;
    return rc;
}

static bool issuer_from_name(const char *s, enum vouch_claim_issuer *out)
{
    for (int i = 0; i <= 2; i++) {
        if (strcmp(s, vouch_claim_issuer_name((enum vouch_claim_issuer)i)) == 0) {
            *out = (enum vouch_claim_issuer)i;
            return true;
        }
    }
    return false;
}

/* "valueType" must describe the value; null has no type to check, and
 * structured JSON reaches the policy as a string. */
static bool scalar_agrees(const char *vt, const json_t *v)
{
    if (json_is_null(v))
        return true;
    if (strcmp(vt, "String") == 0)
        return json_is_string(v) || json_is_object(v) || json_is_array(v);
    if (strcmp(vt, "Integer") == 0)
        return json_is_integer(v);
    if (strcmp(vt, "Boolean") == 0)
        return json_is_boolean(v);
    return false;
}

static bool value_type_agrees(const char *vt, const json_t *v)
{
    size_t i;
    json_t *m;

    if (!json_is_array(v))
        return scalar_agrees(vt, v);
    json_array_foreach(v, i, m)
    {
        if (!json_is_primitive(m))
            return strcmp(vt, "String") == 0;
    }
    json_array_foreach(v, i, m)
    {
        if (!scalar_agrees(vt, m))
            return false;
    }
    return true;
}

#define ERR(...)                                     \
    do {                                             \
        if (err_out && err_cap)                      \
            snprintf(err_out, err_cap, __VA_ARGS__); \
    } while (0)

vouch_err vouch_claims_from_json(const json_t *array, struct vouch_claims **out, char *err_out,
                                 size_t err_cap)
{
    struct vouch_claims *c = NULL;
    size_t i;
    json_t *el;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    *out = NULL;
    if (err_out && err_cap)
        err_out[0] = 0;
    if (!json_is_array(array)) {
        ERR("claims must be a JSON array of {\"type\",\"value\"} objects");
        return VOUCH_ERR_PARSE;
    }
    if (json_array_size(array) > VOUCH_MAX_CLAIMS) {
        ERR("more than %u claims", VOUCH_MAX_CLAIMS);
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((rc = vouch_claims_new(&c)) != VOUCH_OK)
        return rc;
    json_array_foreach(array, i, el)
    {
        const json_t *type, *value, *issuer, *vt;
        enum vouch_claim_issuer iss = VOUCH_ISSUER_CUSTOM_CLAIM;
        const char *key;
        json_t *m;

        rc = VOUCH_ERR_PARSE;
        if (!json_is_object(el)) {
            ERR("claims[%zu]: not an object", i);
            goto out;
        }
        json_object_foreach((json_t *)el, key, m)
        {
            if (strcmp(key, "type") != 0 && strcmp(key, "value") != 0 &&
                strcmp(key, "issuer") != 0 && strcmp(key, "valueType") != 0) {
                ERR("claims[%zu]: unknown member \"%.*s\"", i,
                    vouch__utf8_prefix(key, strlen(key), 64), key);
                goto out;
            }
        }
        type = json_object_get(el, "type");
        value = json_object_get(el, "value");
        issuer = json_object_get(el, "issuer");
        vt = json_object_get(el, "valueType");
        if (!json_is_string(type) || json_string_length(type) == 0) {
            ERR("claims[%zu]: \"type\" must be a non-empty string", i);
            goto out;
        }
        if (!value) {
            ERR("claims[%zu]: missing \"value\"", i);
            goto out;
        }
        if (issuer &&
            (!json_is_string(issuer) || !issuer_from_name(json_string_value(issuer), &iss))) {
            ERR("claims[%zu]: \"issuer\" must be AttestationService, AttestationPolicy or "
                "CustomClaim",
                i);
            goto out;
        }
        if (vt && (!json_is_string(vt) || !value_type_agrees(json_string_value(vt), value))) {
            ERR("claims[%zu]: \"valueType\" must be String, Integer or Boolean and match the "
                "value",
                i);
            goto out;
        }
        rc = vouch_claims_add_json(c, iss, json_string_value(type), value);
        if (rc != VOUCH_OK) {
            ERR("claims[%zu]: %s", i,
                rc == VOUCH_ERR_PARSE ? "fractional numbers are not claim values"
                                      : vouch_strerror(rc));
            goto out;
        }
    }
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    vouch_claims_free(c);
    return rc;
}

void vouch_claims_mark_read_only(struct vouch_claims *c, const char *type)
{
    if (!c || !type)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->items[i].type, type) == 0)
            c->items[i].read_only = true;
    }
}

size_t vouch_claims_count(const struct vouch_claims *c)
{
    return c ? c->n : 0;
}

const struct vouch_claim *vouch_claims_at(const struct vouch_claims *c, size_t i)
{
    if (!c || i >= c->n)
        return NULL;
    return &c->items[i];
}

static json_t *claim_json_value(const struct vouch_claim *cl)
{
    switch (cl->value_type) {
    case VOUCH_CLAIM_STRING:
        return json_stringn(cl->string, cl->string_len);
    case VOUCH_CLAIM_INTEGER:
        return json_integer((json_int_t)cl->integer);
    case VOUCH_CLAIM_BOOLEAN:
        return json_boolean(cl->boolean);
    }
    return NULL;
}

vouch_err vouch_claims_to_json(const struct vouch_claims *c, json_t **out)
{
    json_t *o = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    o = json_object();
    if (!o)
        goto out;
    for (size_t i = 0; c && i < c->n; i++) {
        const struct vouch_claim *cl = &c->items[i];
        json_t *v = claim_json_value(cl);
        json_t *prev;

        if (!v)
            goto out;
        prev = json_object_get(o, cl->type);
        if (!prev) {
            if (json_object_set_new(o, cl->type, v) != 0)
                goto out;
        } else if (json_is_array(prev)) {
            /* Values are scalars, so an array here is one we built. */
            if (json_array_append_new(prev, v) != 0)
                goto out;
        } else {
            json_t *arr = json_array();
            if (!arr || json_array_append(arr, prev) != 0) {
                json_decref(arr);
                json_decref(v);
                goto out;
            }
            /* Both _new calls consume their argument even on failure. */
            if (json_array_append_new(arr, v) != 0) {
                json_decref(arr);
                goto out;
            }
            if (json_object_set_new(o, cl->type, arr) != 0)
                goto out;
        }
    }
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}
