/*
 * Policy evaluation. The working ("incoming") claim set starts as a shallow
 * copy of the caller's claims and grows as rules add to it; strings made by
 * functions live in an arena for the duration of the call. Each condition is
 * a filter over the claims present when its rule started; an identifier binds
 * the whole selection (MAA semantics), so the cost of a rule is bounded by
 * conditions x claims x values compared, and every comparison is charged
 * against VOUCH_MAX_POLICY_STEPS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/policy.h>

#include "policy/policy_int.h"

/* A value while evaluating: a claim value plus its read-only taint. */
struct val {
    enum vouch_claim_value_type t; /* kind */
    bool ro;                       /* derived from a read-only claim */
    int64_t i;                     /* INTEGER */
    bool b;                        /* BOOLEAN */
    const char *s;                 /* STRING (borrowed) */
    size_t len;                    /* STRING */
};

/* The result of an expression: a list of values, either explicit or read
 * through a binding's selection. */
struct vset {
    size_t n;              /* number of values */
    const struct val *v;   /* explicit values, or NULL */
    const uint32_t *idx;   /* when v is NULL: indices of selected claims */
    enum vouch__prop prop; /* which property of those claims */
};

struct ev {
    const struct vouch_policy *pol;
    struct vouch_claim *claims; /* working set; strings borrowed from the input or keep */
    size_t n;                   /* claims in the working set */
    size_t cap;                 /* slots allocated */
    struct vouch__arena keep;   /* strings made by functions; lives for the call */
    struct vouch__arena tmp;    /* per-rule scratch (selections, literal values) */
    uint64_t steps;             /* work done so far */
    struct vouch_claims *issued;
    struct vouch_claims *props;
    uint32_t *sel[VOUCH_MAX_POLICY_CONDITIONS]; /* per condition of the current rule */
    size_t nsel[VOUCH_MAX_POLICY_CONDITIONS];
    char msg[VOUCH_MAX_ERROR_DETAIL]; /* why evaluation failed */
};

static vouch_err fail(struct ev *ev, vouch_err rc, const char *fmt, ...) VOUCH_PRINTF(3, 4);

static vouch_err fail(struct ev *ev, vouch_err rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ev->msg, sizeof(ev->msg), fmt, ap);
    va_end(ap);
    vouch__utf8_trim(ev->msg);
    return rc;
}

static vouch_err charge(struct ev *ev, uint64_t cost)
{
    ev->steps += cost;
    if (ev->steps > VOUCH_MAX_POLICY_STEPS)
        return fail(ev, VOUCH_ERR_TOO_LARGE, "evaluation exceeded %u steps",
                    VOUCH_MAX_POLICY_STEPS);
    return VOUCH_OK;
}

static vouch_err arena_fail(struct ev *ev, vouch_err rc)
{
    if (rc == VOUCH_ERR_TOO_LARGE)
        return fail(ev, rc, "evaluation used more than %u bytes", VOUCH_MAX_POLICY_EVAL_MEMORY);
    return fail(ev, rc, "%s", vouch_strerror(rc));
}

static struct val str_val(const char *s, bool ro)
{
    struct val v = {0};

    v.t = VOUCH_CLAIM_STRING;
    v.s = s;
    v.len = strlen(s);
    v.ro = ro;
    return v;
}

static struct val claim_prop(const struct vouch_claim *c, enum vouch__prop p)
{
    struct val v = {0};

    switch (p) {
    case VP_TYPE:
        return str_val(c->type, false);
    case VP_ISSUER:
        return str_val(vouch_claim_issuer_name(c->issuer), false);
    case VP_VALUE_TYPE:
        return str_val(vouch_claim_value_type_name(c->value_type), false);
    case VP_VALUE:
        break;
    }
    v.t = c->value_type;
    v.ro = c->read_only;
    v.i = c->integer;
    v.b = c->boolean;
    v.s = c->string;
    v.len = c->string_len;
    return v;
}

static struct val vset_get(const struct ev *ev, const struct vset *s, size_t i)
{
    if (s->v)
        return s->v[i];
    return claim_prop(&ev->claims[s->idx[i]], s->prop);
}

/* Equality within one kind; a string never equals an integer. */
static vouch_err val_eq(struct ev *ev, const struct val *a, const struct val *b, bool *eq)
{
    vouch_err rc;
    size_t shorter = a->len < b->len ? a->len : b->len;

    *eq = false;
    if ((rc = charge(ev, 1u + (a->t == VOUCH_CLAIM_STRING ? shorter / 256u : 0u))) != VOUCH_OK)
        return rc;
    if (a->t != b->t)
        return VOUCH_OK;
    switch (a->t) {
    case VOUCH_CLAIM_STRING:
        *eq = a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
        break;
    case VOUCH_CLAIM_INTEGER:
        *eq = a->i == b->i;
        break;
    case VOUCH_CLAIM_BOOLEAN:
        *eq = a->b == b->b;
        break;
    }
    return VOUCH_OK;
}

static vouch_err test_holds(struct ev *ev, const struct vouch_claim *c, const struct vouch__test *t,
                            const struct vset *rhs, bool *holds)
{
    struct val lhs = claim_prop(c, t->prop);
    bool found = false;
    vouch_err rc;

    *holds = false;
    for (size_t k = 0; k < rhs->n && !found; k++) {
        struct val r = vset_get(ev, rhs, k);
        if (t->op == VO_EQ || t->op == VO_NE) {
            if ((rc = val_eq(ev, &lhs, &r, &found)) != VOUCH_OK)
                return rc;
            continue;
        }
        if ((rc = charge(ev, 1)) != VOUCH_OK)
            return rc;
        /* Ordering is defined between integers only. */
        if (lhs.t != VOUCH_CLAIM_INTEGER || r.t != VOUCH_CLAIM_INTEGER)
            continue;
        switch (t->op) {
        case VO_LT:
            found = lhs.i < r.i;
            break;
        case VO_LE:
            found = lhs.i <= r.i;
            break;
        case VO_GT:
            found = lhs.i > r.i;
            break;
        case VO_GE:
            found = lhs.i >= r.i;
            break;
        default:
            break;
        }
    }
    /* != means "equals none of them", the exact negation of ==. */
    *holds = t->op == VO_NE ? !found : found;
    return VOUCH_OK;
}

static vouch_err new_vals(struct ev *ev, size_t n, struct val **out)
{
    vouch_err rc = vouch__arena_alloc(&ev->tmp, (n ? n : 1) * sizeof(struct val), (void **)out);

    return rc == VOUCH_OK ? VOUCH_OK : arena_fail(ev, rc);
}

static vouch_err single(struct ev *ev, const struct vset *s, const char *fn, unsigned argno,
                        struct val *out)
{
    if (s->n != 1)
        return fail(ev, VOUCH_ERR_POLICY,
                    "%s: argument %u has %zu values; a single value is required", fn, argno, s->n);
    *out = vset_get(ev, s, 0);
    return VOUCH_OK;
}

static vouch_err set_one(struct ev *ev, struct val v, struct vset *out)
{
    struct val *p = NULL;
    vouch_err rc;

    if ((rc = new_vals(ev, 1, &p)) != VOUCH_OK)
        return rc;
    p[0] = v;
    out->v = p;
    out->n = 1;
    return VOUCH_OK;
}

/* One JSON primitive to a value; null is reported as absent. */
static vouch_err json_prim(struct ev *ev, const json_t *j, bool ro, struct val *v, bool *present)
{
    vouch_err rc;

    memset(v, 0, sizeof(*v));
    v->ro = ro;
    *present = true;
    if (json_is_null(j)) {
        *present = false;
    } else if (json_is_integer(j)) {
        v->t = VOUCH_CLAIM_INTEGER;
        v->i = (int64_t)json_integer_value(j);
    } else if (json_is_boolean(j)) {
        v->t = VOUCH_CLAIM_BOOLEAN;
        v->b = json_is_true(j);
    } else if (json_is_string(j)) {
        char *s = NULL;
        if ((rc = vouch__arena_strndup(&ev->keep, json_string_value(j), json_string_length(j),
                                       &s)) != VOUCH_OK)
            return arena_fail(ev, rc);
        v->t = VOUCH_CLAIM_STRING;
        v->s = s;
        v->len = json_string_length(j);
    } else if (json_is_real(j)) {
        return fail(ev, VOUCH_ERR_POLICY, "JsonToClaimValue: fractional number");
    } else {
        return fail(ev, VOUCH_ERR_POLICY,
                    "JsonToClaimValue: arrays may hold only numbers, booleans, strings and null");
    }
    return VOUCH_OK;
}

static vouch_err fn_json_to_claim_value(struct ev *ev, const struct vset *arg, struct vset *out)
{
    struct val a = {0}, *vals = NULL;
    json_t *j = NULL;
    size_t n = 0;
    bool present;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if ((rc = single(ev, arg, "JsonToClaimValue", 1, &a)) != VOUCH_OK)
        return rc;
    if (a.t != VOUCH_CLAIM_STRING)
        return fail(ev, VOUCH_ERR_POLICY, "JsonToClaimValue: the argument is not a string");
    if ((rc = charge(ev, a.len / 256u)) != VOUCH_OK)
        return rc;
    if (vouch_json_parse(a.s, a.len, &j, NULL, 0) != VOUCH_OK)
        return fail(ev, VOUCH_ERR_POLICY, "JsonToClaimValue: the argument is not valid JSON");
    if (json_is_object(j)) {
        rc = fail(ev, VOUCH_ERR_POLICY, "JsonToClaimValue: JSON objects are not claim values");
        goto out;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *m;
        if (json_array_size(j) > VOUCH_MAX_CLAIMS) {
            rc = fail(ev, VOUCH_ERR_TOO_LARGE, "JsonToClaimValue: more than %u values",
                      VOUCH_MAX_CLAIMS);
            goto out;
        }
        if ((rc = new_vals(ev, json_array_size(j), &vals)) != VOUCH_OK)
            goto out;
        json_array_foreach(j, i, m)
        {
            if ((rc = json_prim(ev, m, a.ro, &vals[n], &present)) != VOUCH_OK)
                goto out;
            if (present)
                n++;
        }
    } else {
        if ((rc = new_vals(ev, 1, &vals)) != VOUCH_OK)
            goto out;
        if ((rc = json_prim(ev, j, a.ro, &vals[0], &present)) != VOUCH_OK)
            goto out;
        n = present ? 1 : 0;
    }
    out->v = vals;
    out->n = n;
    rc = VOUCH_OK;
out:
    json_decref(j);
    return rc;
}

static vouch_err fn_is_subset_of(struct ev *ev, const struct vset *a, const struct vset *b,
                                 struct vset *out)
{
    struct val r = {0};
    bool all = true;
    vouch_err rc;

    for (size_t i = 0; i < a->n && all; i++) {
        struct val x = vset_get(ev, a, i);
        bool found = false;
        for (size_t k = 0; k < b->n && !found; k++) {
            struct val y = vset_get(ev, b, k);
            if ((rc = val_eq(ev, &x, &y, &found)) != VOUCH_OK)
                return rc;
        }
        all = found;
    }
    r.t = VOUCH_CLAIM_BOOLEAN;
    r.b = all;
    return set_one(ev, r, out);
}

static vouch_err fn_append_string(struct ev *ev, const struct vset *a, const struct vset *b,
                                  struct vset *out)
{
    struct val x = {0}, y = {0}, r = {0};
    char *s = NULL;
    vouch_err rc;

    if ((rc = single(ev, a, "AppendString", 1, &x)) != VOUCH_OK ||
        (rc = single(ev, b, "AppendString", 2, &y)) != VOUCH_OK)
        return rc;
    if (x.t != VOUCH_CLAIM_STRING || y.t != VOUCH_CLAIM_STRING)
        return fail(ev, VOUCH_ERR_POLICY, "AppendString: argument %u is not a string",
                    x.t != VOUCH_CLAIM_STRING ? 1u : 2u);
    if (x.len > VOUCH_MAX_CLAIM_VALUE_LEN - y.len || y.len > VOUCH_MAX_CLAIM_VALUE_LEN)
        return fail(ev, VOUCH_ERR_TOO_LARGE, "AppendString: result longer than %u bytes",
                    VOUCH_MAX_CLAIM_VALUE_LEN);
    if ((rc = charge(ev, 1u + (x.len + y.len) / 256u)) != VOUCH_OK)
        return rc;
    if ((rc = vouch__arena_alloc(&ev->keep, x.len + y.len + 1, (void **)&s)) != VOUCH_OK)
        return arena_fail(ev, rc);
    if (x.len)
        memcpy(s, x.s, x.len);
    if (y.len)
        memcpy(s + x.len, y.s, y.len);
    r.t = VOUCH_CLAIM_STRING;
    r.s = s;
    r.len = x.len + y.len;
    r.ro = x.ro || y.ro;
    return set_one(ev, r, out);
}

static vouch_err fn_negate_bool(struct ev *ev, const struct vset *a, struct vset *out)
{
    struct val x = {0};
    vouch_err rc;

    if ((rc = single(ev, a, "NegateBool", 1, &x)) != VOUCH_OK)
        return rc;
    if (x.t != VOUCH_CLAIM_BOOLEAN)
        return fail(ev, VOUCH_ERR_POLICY, "NegateBool: the argument is not a boolean");
    x.b = !x.b;
    return set_one(ev, x, out);
}

static vouch_err fn_contains_only_value(struct ev *ev, const struct vset *set, const struct vset *v,
                                        struct vset *out)
{
    struct val want = {0}, r = {0};
    bool all = set->n > 0;
    vouch_err rc;

    if ((rc = single(ev, v, "ContainsOnlyValue", 2, &want)) != VOUCH_OK)
        return rc;
    for (size_t i = 0; i < set->n && all; i++) {
        struct val x = vset_get(ev, set, i);
        if ((rc = val_eq(ev, &x, &want, &all)) != VOUCH_OK)
            return rc;
    }
    r.t = VOUCH_CLAIM_BOOLEAN;
    r.b = all;
    return set_one(ev, r, out);
}

/* Recursion depth is that of the parse tree, which the parser bounds by
 * VOUCH_MAX_POLICY_EXPR_DEPTH. */
static vouch_err eval_expr(struct ev *ev, const struct vouch__expr *e, struct vset *out)
{
    struct vset args[VOUCH__MAX_FUNC_ARGS];
    struct val v = {0};
    vouch_err rc;

    memset(out, 0, sizeof(*out));
    switch (e->kind) {
    case VE_STRING:
        v.t = VOUCH_CLAIM_STRING;
        v.s = e->s;
        v.len = e->s_len;
        return set_one(ev, v, out);
    case VE_INT:
        v.t = VOUCH_CLAIM_INTEGER;
        v.i = e->i;
        return set_one(ev, v, out);
    case VE_BOOL:
        v.t = VOUCH_CLAIM_BOOLEAN;
        v.b = e->b;
        return set_one(ev, v, out);
    case VE_REF:
        out->idx = ev->sel[e->ref];
        out->n = ev->nsel[e->ref];
        out->prop = e->ref_prop;
        return VOUCH_OK;
    case VE_CALL:
        break;
    }
    if ((rc = charge(ev, 1)) != VOUCH_OK)
        return rc;
    for (unsigned i = 0; i < e->nargs; i++) {
        if ((rc = eval_expr(ev, e->args[i], &args[i])) != VOUCH_OK)
            return rc;
    }
    switch (e->fn) {
    case VF_JSON_TO_CLAIM_VALUE:
        return fn_json_to_claim_value(ev, &args[0], out);
    case VF_IS_SUBSET_OF:
        return fn_is_subset_of(ev, &args[0], &args[1], out);
    case VF_APPEND_STRING:
        return fn_append_string(ev, &args[0], &args[1], out);
    case VF_NEGATE_BOOL:
        return fn_negate_bool(ev, &args[0], out);
    case VF_CONTAINS_ONLY_VALUE:
        return fn_contains_only_value(ev, &args[0], &args[1], out);
    }
    return fail(ev, VOUCH_ERR_INTERNAL, "unknown function");
}

static vouch_err push_work(struct ev *ev, const struct vouch_claim *c)
{
    if (ev->n >= VOUCH_MAX_CLAIMS)
        return fail(ev, VOUCH_ERR_TOO_LARGE, "more than %u claims in the incoming set",
                    VOUCH_MAX_CLAIMS);
    if (ev->n == ev->cap) {
        size_t ncap = ev->cap ? ev->cap * 2 : 32;
        struct vouch_claim *p;
        if (ncap > VOUCH_MAX_CLAIMS)
            ncap = VOUCH_MAX_CLAIMS;
        p = vouch_reallocarray(ev->claims, ncap, sizeof(*p));
        if (!p)
            return fail(ev, VOUCH_ERR_NOMEM, "%s", vouch_strerror(VOUCH_ERR_NOMEM));
        ev->claims = p;
        ev->cap = ncap;
    }
    ev->claims[ev->n++] = *c;
    return VOUCH_OK;
}

static vouch_err emit(struct ev *ev, enum vouch__action a, const struct vouch_claim *c)
{
    struct vouch_claims *dst = a == VA_ISSUE           ? ev->issued
                               : a == VA_ISSUEPROPERTY ? ev->props
                                                       : NULL;
    struct vouch_claim out = *c;
    vouch_err rc;

    if (dst && c->read_only)
        return fail(ev, VOUCH_ERR_POLICY,
                    "claim '%.*s' comes from a read-only claim and cannot be issued",
                    vouch__utf8_prefix(c->type, strlen(c->type), 64), c->type);
    if ((rc = charge(ev, 1)) != VOUCH_OK)
        return rc;
    if ((rc = push_work(ev, c)) != VOUCH_OK)
        return rc;
    if (!dst)
        return VOUCH_OK;
    out.read_only = false;
    rc = vouch__claims_push_copy(dst, &out);
    if (rc == VOUCH_ERR_TOO_LARGE)
        return fail(ev, rc, "more than %u %s claims (or a claim over its size limit)",
                    VOUCH_MAX_CLAIMS, a == VA_ISSUE ? "issued" : "property");
    if (rc != VOUCH_OK)
        return fail(ev, rc, "%s", vouch_strerror(rc));
    return VOUCH_OK;
}

static vouch_err run_action(struct ev *ev, const struct vouch__rule *r)
{
    struct vouch_claim c;
    struct vset vs;
    vouch_err rc;

    if (r->claim_form) {
        /* Indices stay valid while the array grows; copy each claim out first. */
        for (size_t k = 0; k < ev->nsel[r->claim_ref]; k++) {
            c = ev->claims[ev->sel[r->claim_ref][k]];
            c.issuer = VOUCH_ISSUER_ATTESTATION_POLICY;
            if ((rc = emit(ev, r->action, &c)) != VOUCH_OK)
                return rc;
        }
        return VOUCH_OK;
    }
    if ((rc = eval_expr(ev, r->value, &vs)) != VOUCH_OK)
        return rc;
    /* An empty value (JsonToClaimValue of null) adds nothing. */
    for (size_t k = 0; k < vs.n; k++) {
        struct val v = vset_get(ev, &vs, k);
        memset(&c, 0, sizeof(c));
        c.type = r->type;
        c.value_type = v.t;
        c.string = v.s;
        c.string_len = v.len;
        c.integer = v.i;
        c.boolean = v.b;
        c.read_only = v.ro;
        c.issuer = VOUCH_ISSUER_ATTESTATION_POLICY;
        if ((rc = emit(ev, r->action, &c)) != VOUCH_OK)
            return rc;
    }
    return VOUCH_OK;
}

/* Evaluates the conditions of @p r; *fired says whether they all held. */
static vouch_err match_rule(struct ev *ev, const struct vouch__rule *r, bool *fired)
{
    size_t snap = ev->n; /* a rule sees the set as it was when it started */
    vouch_err rc;

    *fired = false;
    vouch__arena_free(&ev->tmp);
    for (unsigned i = 0; i < r->ncond; i++) {
        const struct vouch__cond *cond = &r->conds[i];
        struct vset rhs[VOUCH_MAX_POLICY_TESTS];
        uint32_t *sel = NULL;
        size_t cnt = 0;

        ev->sel[i] = NULL;
        ev->nsel[i] = 0;
        /* Right sides refer only to earlier bindings, so compute them once. */
        for (unsigned t = 0; t < cond->ntests; t++) {
            if ((rc = eval_expr(ev, cond->tests[t].rhs, &rhs[t])) != VOUCH_OK)
                return rc;
        }
        rc = vouch__arena_alloc(&ev->tmp, (snap ? snap : 1) * sizeof(*sel), (void **)&sel);
        if (rc != VOUCH_OK)
            return arena_fail(ev, rc);
        for (size_t k = 0; k < snap; k++) {
            bool all = true;
            if ((rc = charge(ev, 1)) != VOUCH_OK)
                return rc;
            for (unsigned t = 0; t < cond->ntests && all; t++) {
                if ((rc = test_holds(ev, &ev->claims[k], &cond->tests[t], &rhs[t], &all)) !=
                    VOUCH_OK)
                    return rc;
            }
            if (all) {
                sel[cnt++] = (uint32_t)k;
                if (cond->negated)
                    break;
            }
        }
        if (cond->negated ? cnt > 0 : cnt == 0)
            return VOUCH_OK;
        ev->sel[i] = sel;
        ev->nsel[i] = cond->negated ? 0 : cnt;
    }
    *fired = true;
    return VOUCH_OK;
}

struct outcome {
    bool permitted;                    /* some permit() fired */
    bool denied;                       /* a deny() fired */
    const struct vouch__rule *decider; /* the deny, or the first permit */
    const struct vouch__rule *current; /* the rule being evaluated (for errors) */
    enum vouch__section current_sec;   /* its section */
};

static vouch_err run_section(struct ev *ev, enum vouch__section sec, struct outcome *o)
{
    vouch_err rc;

    for (const struct vouch__rule *r = ev->pol->sections[sec]; r; r = r->next) {
        bool fired = false;
        o->current = r;
        o->current_sec = sec;
        if ((rc = match_rule(ev, r, &fired)) != VOUCH_OK)
            return rc;
        if (!fired)
            continue;
        if (r->action == VA_DENY) {
            /* Any deny() fails attestation; later rules cannot undo it. */
            o->denied = true;
            o->decider = r;
            return VOUCH_OK;
        }
        if (r->action == VA_PERMIT) {
            if (!o->permitted)
                o->decider = r;
            o->permitted = true;
            continue;
        }
        if ((rc = run_action(ev, r)) != VOUCH_OK)
            return rc;
    }
    o->current = NULL;
    return VOUCH_OK;
}

static vouch_err run(struct ev *ev, bool config_only, struct outcome *o)
{
    vouch_err rc;

    memset(o, 0, sizeof(*o));
    if ((rc = run_section(ev, VS_CONFIG, o)) != VOUCH_OK)
        return rc;
    if (config_only)
        return VOUCH_OK;
    if ((rc = run_section(ev, VS_AUTH, o)) != VOUCH_OK)
        return rc;
    if (o->denied || !o->permitted)
        return VOUCH_OK;
    return run_section(ev, VS_ISSUANCE, o);
}

static void ev_free(struct ev *ev)
{
    vouch__arena_free(&ev->keep);
    vouch__arena_free(&ev->tmp);
    vouch_free(ev->claims);
    vouch_claims_free(ev->issued);
    vouch_claims_free(ev->props);
}

static vouch_err ev_init(struct ev *ev, const struct vouch_policy *p, const struct vouch_claims *in)
{
    vouch_err rc;

    memset(ev, 0, sizeof(*ev));
    ev->pol = p;
    vouch__arena_init(&ev->keep, VOUCH_MAX_POLICY_EVAL_MEMORY);
    vouch__arena_init(&ev->tmp, VOUCH_MAX_POLICY_EVAL_MEMORY);
    if ((rc = vouch_claims_new(&ev->issued)) != VOUCH_OK ||
        (rc = vouch_claims_new(&ev->props)) != VOUCH_OK)
        return fail(ev, rc, "%s", vouch_strerror(rc));
    for (size_t i = 0; in && i < in->n; i++) {
        if ((rc = push_work(ev, &in->items[i])) != VOUCH_OK)
            return rc;
    }
    return VOUCH_OK;
}

static void explain(struct vouch_policy_result *r, const char *fmt, ...) VOUCH_PRINTF(2, 3);

/* Truncation is acceptable: the explanation is one bounded log line. */
static void explain(struct vouch_policy_result *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->explanation, sizeof(r->explanation), fmt, ap);
    va_end(ap);
    vouch__utf8_trim(r->explanation);
}

static void describe_rule(char *buf, size_t cap, enum vouch__section sec,
                          const struct vouch__rule *r)
{
    snprintf(buf, cap, "%s rule %u (line %u, column %u)", vouch__section_name(sec), r->index,
             r->line, r->column);
}

vouch_err vouch_policy_eval(const struct vouch_policy *p, const struct vouch_claims *in,
                            struct vouch_policy_result *out)
{
    struct ev ev;
    struct outcome o;
    char where[128];
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    out->decision = VOUCH_POLICY_DENY;
    if (!p || !in) {
        explain(out, "invalid arguments");
        return VOUCH_ERR_INVAL;
    }
    memset(&o, 0, sizeof(o));
    if ((rc = ev_init(&ev, p, in)) != VOUCH_OK)
        goto out;
    if ((rc = run(&ev, false, &o)) != VOUCH_OK)
        goto out;
    if (o.denied || !o.permitted) {
        if (o.denied) {
            describe_rule(where, sizeof(where), VS_AUTH, o.decider);
            explain(out, "deny() in %s", where);
        } else {
            explain(out, "no authorization rule permitted");
        }
        /* Issuance never ran, so nothing was issued; properties stand. */
    } else {
        describe_rule(where, sizeof(where), VS_AUTH, o.decider);
        explain(out, "permitted by %s", where);
        out->decision = VOUCH_POLICY_PERMIT;
    }
    if (o.decider) {
        out->rule_line = o.decider->line;
        out->rule_column = o.decider->column;
    }
    out->issued = ev.issued;
    out->properties = ev.props;
    ev.issued = NULL;
    ev.props = NULL;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK) {
        if (o.current) {
            describe_rule(where, sizeof(where), o.current_sec, o.current);
            explain(out, "%s: %s", where, ev.msg);
            out->rule_line = o.current->line;
            out->rule_column = o.current->column;
        } else {
            explain(out, "%s", ev.msg);
        }
    }
    ev_free(&ev);
    return rc;
}

void vouch_policy_result_free(struct vouch_policy_result *r)
{
    if (!r)
        return;
    vouch_claims_free(r->issued);
    vouch_claims_free(r->properties);
    r->issued = NULL;
    r->properties = NULL;
}

vouch_err vouch_policy_properties(const struct vouch_policy *p, struct vouch_claims **out)
{
    struct ev ev;
    struct outcome o;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!p)
        return VOUCH_ERR_INVAL;
    if ((rc = ev_init(&ev, p, NULL)) != VOUCH_OK)
        goto out;
    if ((rc = run(&ev, true, &o)) != VOUCH_OK)
        goto out;
    *out = ev.props;
    ev.props = NULL;
    rc = VOUCH_OK;
out:
    ev_free(&ev);
    return rc;
}
