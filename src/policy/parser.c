/*
 * Recursive-descent parser for the policy language (grammar in
 * vouch/policy.h). One token of lookahead; the only recursion is through
 * nested function calls, bounded by VOUCH_MAX_POLICY_EXPR_DEPTH. Everything
 * the evaluator relies on (section/action placement, bound identifiers,
 * operator/property agreement, function arity) is checked here, so a parsed
 * policy cannot fail for a structural reason at evaluation time.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/policy.h>

#include "policy/policy_int.h"

/* The parse tree is a small multiple of the text (measured < 16x); the cap
 * only stops a bug from turning into unbounded memory. */
#define POLICY_ARENA_CAP (64u * VOUCH_MAX_POLICY_SIZE)

struct binding {
    const char *name; /* in the source text */
    size_t len;       /* name length */
    unsigned cond;    /* index of the condition that binds it */
};

struct parser {
    struct vouch__lexer lx;                            /* token source */
    struct vouch__tok tok;                             /* current (lookahead) token */
    struct vouch_policy *pol;                          /* tree under construction */
    bool lenient;                                      /* VOUCH_POLICY_LENIENT */
    unsigned total_rules;                              /* across sections, for the limit */
    struct vouch_policy_error *err;                    /* never NULL */
    struct binding binds[VOUCH_MAX_POLICY_CONDITIONS]; /* of the rule being parsed */
    unsigned nbinds;                                   /* entries in binds */
};

static const char *const section_names[VS__COUNT] = {"configurationrules", "authorizationrules",
                                                     "issuancerules"};

const char *vouch__section_name(enum vouch__section s)
{
    return (unsigned)s < VS__COUNT ? section_names[s] : "?";
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Identifier token equal to keyword @p kw (any case in lenient mode). */
static bool is_kw(const struct parser *ps, const char *kw)
{
    size_t n = strlen(kw);

    if (ps->tok.kind != VT_IDENT || ps->tok.len != n)
        return false;
    if (!ps->lenient)
        return memcmp(ps->tok.p, kw, n) == 0;
    for (size_t i = 0; i < n; i++) {
        if (lower(ps->tok.p[i]) != lower(kw[i]))
            return false;
    }
    return true;
}

/* Human description of the current token for "found ..." messages. */
static void describe(const struct vouch__tok *t, char *buf, size_t cap)
{
    switch (t->kind) {
    case VT_EOF:
        snprintf(buf, cap, "end of input");
        return;
    case VT_STRING:
        snprintf(buf, cap, "string \"%.*s%s\"", vouch__utf8_prefix(t->str, t->str_len, 40), t->str,
                 t->str_len > 40 ? "..." : "");
        return;
    default:
        snprintf(buf, cap, "'%.*s%s'", (int)(t->len > 40 ? 40 : t->len), t->p,
                 t->len > 40 ? "..." : "");
        return;
    }
}

/* "expected X, found Y" at the current token. */
static vouch_err expected(struct parser *ps, const char *what)
{
    char found[64];

    describe(&ps->tok, found, sizeof(found));
    vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column, "expected %s, found %s", what,
                            found);
    return VOUCH_ERR_PARSE;
}

static vouch_err advance(struct parser *ps)
{
    return vouch__lexer_next(&ps->lx, &ps->tok);
}

/* Requires the current token to be @p kind, then moves past it. */
static vouch_err expect(struct parser *ps, enum vouch__tok_kind kind, const char *what)
{
    if (ps->tok.kind != kind)
        return expected(ps, what);
    return advance(ps);
}

/* A ';' that lenient mode lets authors leave out. */
static vouch_err expect_semi(struct parser *ps, const char *what)
{
    if (ps->tok.kind != VT_SEMI && ps->lenient)
        return VOUCH_OK;
    return expect(ps, VT_SEMI, what);
}

static vouch_err alloc(struct parser *ps, size_t n, void **out)
{
    vouch_err rc = vouch__arena_alloc(&ps->pol->arena, n, out);

    if (rc != VOUCH_OK)
        vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column, "%s%s",
                                rc == VOUCH_ERR_TOO_LARGE ? "policy too complex: " : "",
                                vouch_strerror(rc));
    return rc;
}

static vouch_err too_large(struct parser *ps, const char *what, unsigned limit)
{
    vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column, "more than %u %s", limit, what);
    return VOUCH_ERR_TOO_LARGE;
}

static bool lookup_binding(const struct parser *ps, const struct vouch__tok *name, unsigned *cond)
{
    for (unsigned i = 0; i < ps->nbinds; i++) {
        if (ps->binds[i].len == name->len && memcmp(ps->binds[i].name, name->p, name->len) == 0) {
            *cond = ps->binds[i].cond;
            return true;
        }
    }
    return false;
}

/* type | value | issuer | valueType */
static bool parse_prop_name(const struct parser *ps, enum vouch__prop *out)
{
    if (is_kw(ps, "type"))
        *out = VP_TYPE;
    else if (is_kw(ps, "value"))
        *out = VP_VALUE;
    else if (is_kw(ps, "issuer"))
        *out = VP_ISSUER;
    else if (is_kw(ps, "valueType"))
        *out = VP_VALUE_TYPE;
    else
        return false;
    return true;
}

static const char *prop_name(enum vouch__prop p)
{
    switch (p) {
    case VP_TYPE:
        return "type";
    case VP_VALUE:
        return "value";
    case VP_ISSUER:
        return "issuer";
    case VP_VALUE_TYPE:
        return "valueType";
    }
    return "?";
}

struct func_desc {
    const char *name;
    enum vouch__func fn;
    unsigned nargs;
};

static const struct func_desc funcs[] = {
    {"JsonToClaimValue", VF_JSON_TO_CLAIM_VALUE, 1},
    {"IsSubsetOf", VF_IS_SUBSET_OF, 2},
    {"AppendString", VF_APPEND_STRING, 2},
    {"NegateBool", VF_NEGATE_BOOL, 1},
    {"ContainsOnlyValue", VF_CONTAINS_ONLY_VALUE, 2},
};

static vouch_err parse_expr(struct parser *ps, unsigned depth, struct vouch__expr **out);

static vouch_err parse_call(struct parser *ps, const struct vouch__tok *name, unsigned depth,
                            struct vouch__expr *e)
{
    const struct func_desc *fd = NULL;
    unsigned nargs = 0;
    vouch_err rc;

    for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
        if (strlen(funcs[i].name) == name->len && memcmp(funcs[i].name, name->p, name->len) == 0)
            fd = &funcs[i];
    }
    if (!fd) {
        if (name->len == 8 && memcmp(name->p, "JmesPath", 8) == 0) {
            vouch__policy_error_set(ps->err, name->line, name->column,
                                    "the JmesPath function is not supported by this "
                                    "implementation");
            return VOUCH_ERR_UNSUPPORTED;
        }
        vouch__policy_error_set(ps->err, name->line, name->column,
                                "unknown function '%.*s' (known: JsonToClaimValue, IsSubsetOf, "
                                "AppendString, NegateBool, ContainsOnlyValue)",
                                (int)(name->len > 40 ? 40 : name->len), name->p);
        return VOUCH_ERR_PARSE;
    }
    if (ps->pol->minor < 2) {
        vouch__policy_error_set(ps->err, name->line, name->column,
                                "function %s needs policy version 1.2", fd->name);
        return VOUCH_ERR_PARSE;
    }
    if (depth >= VOUCH_MAX_POLICY_EXPR_DEPTH) {
        vouch__policy_error_set(ps->err, name->line, name->column,
                                "function calls nested more than %u deep",
                                VOUCH_MAX_POLICY_EXPR_DEPTH);
        return VOUCH_ERR_TOO_LARGE;
    }
    e->kind = VE_CALL;
    e->fn = fd->fn;
    if ((rc = advance(ps)) != VOUCH_OK) /* '(' */
        return rc;
    if (ps->tok.kind != VT_RPAREN) {
        for (;;) {
            struct vouch__expr *arg = NULL;
            if (nargs == fd->nargs) {
                vouch__policy_error_set(ps->err, name->line, name->column,
                                        "%s takes %u argument%s, found more", fd->name, fd->nargs,
                                        fd->nargs == 1 ? "" : "s");
                return VOUCH_ERR_PARSE;
            }
            if ((rc = parse_expr(ps, depth + 1, &arg)) != VOUCH_OK)
                return rc;
            e->args[nargs++] = arg;
            if (ps->tok.kind != VT_COMMA)
                break;
            if ((rc = advance(ps)) != VOUCH_OK)
                return rc;
        }
    }
    if (ps->tok.kind != VT_RPAREN)
        return expected(ps, "',' or ')' in the argument list");
    if (nargs != fd->nargs) {
        vouch__policy_error_set(ps->err, name->line, name->column,
                                "%s takes %u argument%s, found %u", fd->name, fd->nargs,
                                fd->nargs == 1 ? "" : "s", nargs);
        return VOUCH_ERR_PARSE;
    }
    e->nargs = nargs;
    return advance(ps);
}

static vouch_err parse_expr(struct parser *ps, unsigned depth, struct vouch__expr **out)
{
    struct vouch__expr *e = NULL;
    struct vouch__tok name;
    vouch_err rc;

    *out = NULL;
    if ((rc = alloc(ps, sizeof(*e), (void **)&e)) != VOUCH_OK)
        return rc;
    e->line = ps->tok.line;
    e->column = ps->tok.column;
    switch (ps->tok.kind) {
    case VT_STRING:
        e->kind = VE_STRING;
        e->s = ps->tok.str;
        e->s_len = ps->tok.str_len;
        break;
    case VT_INT:
        e->kind = VE_INT;
        e->i = ps->tok.ival;
        break;
    case VT_IDENT:
        if (is_kw(ps, "true") || is_kw(ps, "false")) {
            e->kind = VE_BOOL;
            e->b = is_kw(ps, "true");
            break;
        }
        name = ps->tok;
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
        if (ps->tok.kind == VT_LPAREN) {
            if ((rc = parse_call(ps, &name, depth, e)) != VOUCH_OK)
                return rc;
            *out = e;
            return VOUCH_OK;
        }
        if (ps->tok.kind != VT_DOT) {
            vouch__policy_error_set(ps->err, name.line, name.column,
                                    "expected a value (string, integer, true, false, "
                                    "identifier.property or function call), found '%.*s'",
                                    (int)(name.len > 40 ? 40 : name.len), name.p);
            return VOUCH_ERR_PARSE;
        }
        if (!lookup_binding(ps, &name, &e->ref)) {
            vouch__policy_error_set(ps->err, name.line, name.column,
                                    "unknown identifier '%.*s' (bind it with %.*s:[...] in an "
                                    "earlier condition of this rule)",
                                    (int)(name.len > 40 ? 40 : name.len), name.p,
                                    (int)(name.len > 40 ? 40 : name.len), name.p);
            return VOUCH_ERR_PARSE;
        }
        if ((rc = advance(ps)) != VOUCH_OK) /* '.' */
            return rc;
        if (!parse_prop_name(ps, &e->ref_prop))
            return expected(ps, "a claim property (value, type, issuer or valueType) after '.'");
        e->kind = VE_REF;
        break;
    default:
        return expected(
            ps, "a value (string, integer, true, false, identifier.property or function call)");
    }
    if ((rc = advance(ps)) != VOUCH_OK)
        return rc;
    *out = e;
    return VOUCH_OK;
}

static bool literal_in(const struct vouch__expr *e, const char *const *names)
{
    for (; *names; names++) {
        if (strlen(*names) == e->s_len && memcmp(*names, e->s, e->s_len) == 0)
            return true;
    }
    return false;
}

static vouch_err parse_test(struct parser *ps, struct vouch__test *t)
{
    static const char *const issuers[] = {"AttestationService", "AttestationPolicy", "CustomClaim",
                                          NULL};
    static const char *const vtypes[] = {"String", "Integer", "Boolean", NULL};
    unsigned op_line, op_col;
    vouch_err rc;

    if (!parse_prop_name(ps, &t->prop))
        return expected(ps, "a claim property (type, value, issuer or valueType)");
    if ((rc = advance(ps)) != VOUCH_OK)
        return rc;
    op_line = ps->tok.line;
    op_col = ps->tok.column;
    switch (ps->tok.kind) {
    case VT_EQ:
        t->op = VO_EQ;
        break;
    case VT_NE:
        t->op = VO_NE;
        break;
    case VT_LT:
        t->op = VO_LT;
        break;
    case VT_LE:
        t->op = VO_LE;
        break;
    case VT_GT:
        t->op = VO_GT;
        break;
    case VT_GE:
        t->op = VO_GE;
        break;
    case VT_ASSIGN:
        if (ps->lenient) {
            t->op = VO_EQ;
            break;
        }
        vouch__policy_error_set(ps->err, op_line, op_col,
                                "expected a comparison operator, found '='; use '==' (a single "
                                "'=' is accepted only in lenient mode)");
        return VOUCH_ERR_PARSE;
    default:
        return expected(ps, "a comparison operator (==, !=, <, <=, >, >=)");
    }
    if (t->prop != VP_VALUE && t->op != VO_EQ && t->op != VO_NE) {
        vouch__policy_error_set(ps->err, op_line, op_col,
                                "operator '%.*s' applies only to 'value'; '%s' takes == or !=",
                                (int)ps->tok.len, ps->tok.p, prop_name(t->prop));
        return VOUCH_ERR_PARSE;
    }
    if ((rc = advance(ps)) != VOUCH_OK)
        return rc;
    if ((rc = parse_expr(ps, 0, &t->rhs)) != VOUCH_OK)
        return rc;
    if (t->prop == VP_VALUE)
        return VOUCH_OK;
    /* type, issuer and valueType are strings: catch literals that can never
     * match, since a deny rule that never matches fails open. */
    if (t->rhs->kind == VE_INT || t->rhs->kind == VE_BOOL) {
        vouch__policy_error_set(ps->err, t->rhs->line, t->rhs->column,
                                "'%s' is compared with a string", prop_name(t->prop));
        return VOUCH_ERR_PARSE;
    }
    if (t->rhs->kind == VE_STRING && t->prop == VP_ISSUER && !literal_in(t->rhs, issuers)) {
        vouch__policy_error_set(ps->err, t->rhs->line, t->rhs->column,
                                "unknown issuer \"%.*s\" (expected AttestationService, "
                                "AttestationPolicy or CustomClaim)",
                                vouch__utf8_prefix(t->rhs->s, t->rhs->s_len, 40), t->rhs->s);
        return VOUCH_ERR_PARSE;
    }
    if (t->rhs->kind == VE_STRING && t->prop == VP_VALUE_TYPE && !literal_in(t->rhs, vtypes)) {
        vouch__policy_error_set(ps->err, t->rhs->line, t->rhs->column,
                                "unknown valueType \"%.*s\" (expected String, Integer or "
                                "Boolean)",
                                vouch__utf8_prefix(t->rhs->s, t->rhs->s_len, 40), t->rhs->s);
        return VOUCH_ERR_PARSE;
    }
    if (t->rhs->kind == VE_STRING && t->prop == VP_TYPE && t->rhs->s_len == 0) {
        vouch__policy_error_set(ps->err, t->rhs->line, t->rhs->column,
                                "claim types are never empty");
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

static vouch_err parse_cond(struct parser *ps, struct vouch__rule *rule, struct vouch__cond *conds)
{
    struct vouch__cond *c = &conds[rule->ncond];
    struct vouch__test tests[VOUCH_MAX_POLICY_TESTS];
    struct vouch__tok name = {0};
    unsigned dummy;
    vouch_err rc;

    if (rule->ncond >= VOUCH_MAX_POLICY_CONDITIONS)
        return too_large(ps, "conditions in one rule", VOUCH_MAX_POLICY_CONDITIONS);
    memset(c, 0, sizeof(*c));
    if (ps->tok.kind == VT_NOT) {
        if (ps->pol->minor < 2) {
            vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                    "the '!' (absence) condition needs policy version 1.2");
            return VOUCH_ERR_PARSE;
        }
        c->negated = true;
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
    }
    if (ps->tok.kind == VT_IDENT) {
        name = ps->tok;
        if (c->negated) {
            vouch__policy_error_set(ps->err, name.line, name.column,
                                    "a '!' condition cannot bind an identifier (an absent "
                                    "claim has nothing to bind)");
            return VOUCH_ERR_PARSE;
        }
        if (is_kw(ps, "true") || is_kw(ps, "false")) {
            vouch__policy_error_set(ps->err, name.line, name.column,
                                    "'%.*s' cannot be used as an identifier", (int)name.len,
                                    name.p);
            return VOUCH_ERR_PARSE;
        }
        if (lookup_binding(ps, &name, &dummy)) {
            vouch__policy_error_set(ps->err, name.line, name.column,
                                    "identifier '%.*s' is already bound in this rule",
                                    (int)(name.len > 40 ? 40 : name.len), name.p);
            return VOUCH_ERR_PARSE;
        }
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
        if (ps->tok.kind != VT_COLON) {
            char what[96];
            snprintf(what, sizeof(what), "':' after identifier '%.*s'",
                     (int)(name.len > 40 ? 40 : name.len), name.p);
            return expected(ps, what);
        }
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
        c->bound = true;
    }
    if ((rc = expect(ps, VT_LBRACK, "'[' to start a condition")) != VOUCH_OK)
        return rc;
    for (;;) {
        if (c->ntests >= VOUCH_MAX_POLICY_TESTS)
            return too_large(ps, "property tests in one condition", VOUCH_MAX_POLICY_TESTS);
        if ((rc = parse_test(ps, &tests[c->ntests])) != VOUCH_OK)
            return rc;
        c->ntests++;
        if (ps->tok.kind == VT_COMMA) {
            if ((rc = advance(ps)) != VOUCH_OK)
                return rc;
            continue;
        }
        if (ps->tok.kind != VT_RBRACK)
            return expected(ps, "',' or ']' in a condition");
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
        break;
    }
    if ((rc = alloc(ps, c->ntests * sizeof(*tests), (void **)&c->tests)) != VOUCH_OK)
        return rc;
    memcpy(c->tests, tests, c->ntests * sizeof(*tests));
    /* Visible from the next condition on, never to its own tests. */
    if (c->bound) {
        ps->binds[ps->nbinds].name = name.p;
        ps->binds[ps->nbinds].len = name.len;
        ps->binds[ps->nbinds].cond = rule->ncond;
        ps->nbinds++;
    }
    rule->ncond++;
    return VOUCH_OK;
}

static const char *action_name(enum vouch__action a)
{
    switch (a) {
    case VA_PERMIT:
        return "permit";
    case VA_DENY:
        return "deny";
    case VA_ADD:
        return "add";
    case VA_ISSUE:
        return "issue";
    case VA_ISSUEPROPERTY:
        return "issueproperty";
    }
    return "?";
}

static vouch_err check_placement(struct parser *ps, enum vouch__section sec, enum vouch__action a)
{
    const char *why = NULL;

    switch (sec) {
    case VS_CONFIG:
        if (a != VA_ISSUEPROPERTY)
            why = "only issueproperty() is allowed in configurationrules";
        break;
    case VS_AUTH:
        if (a == VA_ISSUE || a == VA_ISSUEPROPERTY)
            why = "is not allowed in authorizationrules (claims are issued in issuancerules)";
        break;
    case VS_ISSUANCE:
        if (a == VA_PERMIT || a == VA_DENY)
            why = "is allowed only in authorizationrules";
        break;
    default:
        break;
    }
    if (!why)
        return VOUCH_OK;
    if (sec == VS_CONFIG)
        vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column, "%s", why);
    else
        vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column, "%s() %s", action_name(a),
                                why);
    return VOUCH_ERR_PARSE;
}

static vouch_err parse_action_args(struct parser *ps, struct vouch__rule *rule)
{
    bool have_type = false, have_value = false;
    const char *act = action_name(rule->action);
    char what[96];
    vouch_err rc;

    if (is_kw(ps, "claim")) {
        struct vouch__tok name;
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
        if ((rc = expect(ps, VT_ASSIGN, "'=' after 'claim'")) != VOUCH_OK)
            return rc;
        if (ps->tok.kind != VT_IDENT)
            return expected(ps, "an identifier bound in this rule after 'claim='");
        name = ps->tok;
        if (!lookup_binding(ps, &name, &rule->claim_ref)) {
            vouch__policy_error_set(ps->err, name.line, name.column,
                                    "unknown identifier '%.*s' (bind it with %.*s:[...] in a "
                                    "condition of this rule)",
                                    (int)(name.len > 40 ? 40 : name.len), name.p,
                                    (int)(name.len > 40 ? 40 : name.len), name.p);
            return VOUCH_ERR_PARSE;
        }
        rule->claim_form = true;
        return advance(ps);
    }
    for (;;) {
        if (is_kw(ps, "type")) {
            if (have_type) {
                vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                        "'type' given twice in %s()", act);
                return VOUCH_ERR_PARSE;
            }
            if ((rc = advance(ps)) != VOUCH_OK)
                return rc;
            if ((rc = expect(ps, VT_ASSIGN, "'=' after 'type'")) != VOUCH_OK)
                return rc;
            if (ps->tok.kind != VT_STRING)
                return expected(ps, "a string literal for the claim type");
            if (ps->tok.str_len == 0 || ps->tok.str_len > VOUCH_MAX_CLAIM_TYPE_LEN) {
                vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                        "a claim type is 1 to %u bytes long",
                                        VOUCH_MAX_CLAIM_TYPE_LEN);
                return VOUCH_ERR_PARSE;
            }
            rule->type = ps->tok.str;
            have_type = true;
            if ((rc = advance(ps)) != VOUCH_OK)
                return rc;
        } else if (is_kw(ps, "value")) {
            if (have_value) {
                vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                        "'value' given twice in %s()", act);
                return VOUCH_ERR_PARSE;
            }
            if ((rc = advance(ps)) != VOUCH_OK)
                return rc;
            if ((rc = expect(ps, VT_ASSIGN, "'=' after 'value'")) != VOUCH_OK)
                return rc;
            if ((rc = parse_expr(ps, 0, &rule->value)) != VOUCH_OK)
                return rc;
            have_value = true;
        } else {
            snprintf(what, sizeof(what), "'claim=', 'type=' or 'value=' in %s()", act);
            return expected(ps, what);
        }
        if (have_type && have_value)
            return VOUCH_OK;
        snprintf(what, sizeof(what), "',' and '%s=' in %s()", have_type ? "value" : "type", act);
        if (ps->tok.kind != VT_COMMA)
            return expected(ps, what);
        if ((rc = advance(ps)) != VOUCH_OK)
            return rc;
    }
}

static vouch_err parse_action(struct parser *ps, enum vouch__section sec, struct vouch__rule *r)
{
    vouch_err rc;

    if (is_kw(ps, "permit"))
        r->action = VA_PERMIT;
    else if (is_kw(ps, "deny"))
        r->action = VA_DENY;
    else if (is_kw(ps, "add"))
        r->action = VA_ADD;
    else if (is_kw(ps, "issue"))
        r->action = VA_ISSUE;
    else if (is_kw(ps, "issueproperty"))
        r->action = VA_ISSUEPROPERTY;
    else if (ps->tok.kind == VT_IDENT) {
        vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                "unknown action '%.*s' (expected permit, deny, add, issue or "
                                "issueproperty)",
                                (int)(ps->tok.len > 40 ? 40 : ps->tok.len), ps->tok.p);
        return VOUCH_ERR_PARSE;
    } else
        return expected(ps, "an action (permit, deny, add, issue or issueproperty) after '=>'");
    if ((rc = check_placement(ps, sec, r->action)) != VOUCH_OK)
        return rc;
    if ((rc = advance(ps)) != VOUCH_OK)
        return rc;
    if ((rc = expect(ps, VT_LPAREN, "'(' after the action")) != VOUCH_OK)
        return rc;
    if (r->action == VA_PERMIT || r->action == VA_DENY) {
        char what[48];
        snprintf(what, sizeof(what), "')': %s() takes no arguments", action_name(r->action));
        return expect(ps, VT_RPAREN, what);
    }
    if ((rc = parse_action_args(ps, r)) != VOUCH_OK)
        return rc;
    return expect(ps, VT_RPAREN, "')' to close the action");
}

static vouch_err parse_rule(struct parser *ps, enum vouch__section sec, struct vouch__rule **out)
{
    struct vouch__cond conds[VOUCH_MAX_POLICY_CONDITIONS];
    struct vouch__rule *r = NULL;
    vouch_err rc;

    *out = NULL;
    if (ps->total_rules >= VOUCH_MAX_POLICY_RULES)
        return too_large(ps, "rules in a policy", VOUCH_MAX_POLICY_RULES);
    ps->total_rules++;
    if ((rc = alloc(ps, sizeof(*r), (void **)&r)) != VOUCH_OK)
        return rc;
    r->line = ps->tok.line;
    r->column = ps->tok.column;
    ps->nbinds = 0;
    if (ps->tok.kind != VT_ARROW) {
        if (ps->tok.kind != VT_NOT && ps->tok.kind != VT_IDENT && ps->tok.kind != VT_LBRACK)
            return expected(ps, "a rule ('[' condition or '=>') or '}'");
        for (;;) {
            if ((rc = parse_cond(ps, r, conds)) != VOUCH_OK)
                return rc;
            if (ps->tok.kind != VT_AND)
                break;
            if ((rc = advance(ps)) != VOUCH_OK)
                return rc;
        }
        if (ps->tok.kind != VT_ARROW)
            return expected(ps, "'&&' or '=>' after a condition");
        if ((rc = alloc(ps, r->ncond * sizeof(conds[0]), (void **)&r->conds)) != VOUCH_OK)
            return rc;
        memcpy(r->conds, conds, r->ncond * sizeof(conds[0]));
    }
    if ((rc = advance(ps)) != VOUCH_OK) /* '=>' */
        return rc;
    if ((rc = parse_action(ps, sec, r)) != VOUCH_OK)
        return rc;
    if ((rc = expect_semi(ps, "';' after the action")) != VOUCH_OK)
        return rc;
    *out = r;
    return VOUCH_OK;
}

static vouch_err parse_section(struct parser *ps, enum vouch__section sec)
{
    struct vouch__rule **tail = &ps->pol->sections[sec];
    unsigned open_line, open_col;
    char what[96];
    vouch_err rc;

    if ((rc = advance(ps)) != VOUCH_OK) /* keyword */
        return rc;
    snprintf(what, sizeof(what), "'{' after '%s'", section_names[sec]);
    open_line = ps->tok.line;
    open_col = ps->tok.column;
    if ((rc = expect(ps, VT_LBRACE, what)) != VOUCH_OK)
        return rc;
    while (ps->tok.kind != VT_RBRACE) {
        struct vouch__rule *r = NULL;
        if (ps->tok.kind == VT_EOF) {
            snprintf(what, sizeof(what), "'}' to close '%s' (opened at line %u, column %u)",
                     section_names[sec], open_line, open_col);
            return expected(ps, what);
        }
        if ((rc = parse_rule(ps, sec, &r)) != VOUCH_OK)
            return rc;
        r->index = ++ps->pol->nrules[sec];
        *tail = r;
        tail = &r->next;
    }
    if ((rc = advance(ps)) != VOUCH_OK) /* '}' */
        return rc;
    snprintf(what, sizeof(what), "';' after the '}' that closes '%s'", section_names[sec]);
    return expect_semi(ps, what);
}

static vouch_err parse_version(struct parser *ps)
{
    struct vouch__tok major, minor;
    vouch_err rc;

    if (!is_kw(ps, "version"))
        return expected(ps, "'version' at the start of the policy");
    if ((rc = advance(ps)) != VOUCH_OK)
        return rc;
    if ((rc = expect(ps, VT_ASSIGN, "'=' after 'version'")) != VOUCH_OK)
        return rc;
    major = ps->tok;
    if ((rc = expect(ps, VT_INT, "a version number such as 1.0")) != VOUCH_OK)
        return rc;
    if ((rc = expect(ps, VT_DOT, "'.' in the version number")) != VOUCH_OK)
        return rc;
    minor = ps->tok;
    if ((rc = expect(ps, VT_INT, "the minor version number")) != VOUCH_OK)
        return rc;
    if (major.len != 1 || major.p[0] != '1' || minor.len != 1 || minor.p[0] < '0' ||
        minor.p[0] > '2') {
        vouch__policy_error_set(ps->err, major.line, major.column,
                                "unsupported policy version %.*s.%.*s (supported: 1.0, 1.1, 1.2)",
                                (int)(major.len > 20 ? 20 : major.len), major.p,
                                (int)(minor.len > 20 ? 20 : minor.len), minor.p);
        return VOUCH_ERR_UNSUPPORTED;
    }
    ps->pol->minor = (unsigned)(minor.p[0] - '0');
    return expect_semi(ps, "';' after the version");
}

static vouch_err parse_policy(struct parser *ps)
{
    bool seen[VS__COUNT] = {false};
    int last = -1;
    vouch_err rc;

    if ((rc = advance(ps)) != VOUCH_OK)
        return rc;
    if ((rc = parse_version(ps)) != VOUCH_OK)
        return rc;
    while (ps->tok.kind != VT_EOF) {
        int sec = -1;
        for (int i = 0; i < (int)VS__COUNT; i++) {
            if (is_kw(ps, section_names[i]))
                sec = i;
        }
        if (sec < 0) {
            if (ps->tok.kind == VT_IDENT) {
                vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                        "unknown section '%.*s' (expected configurationrules, "
                                        "authorizationrules or issuancerules)",
                                        (int)(ps->tok.len > 40 ? 40 : ps->tok.len), ps->tok.p);
                return VOUCH_ERR_PARSE;
            }
            return expected(ps, "a section (configurationrules, authorizationrules or "
                                "issuancerules)");
        }
        if (sec == VS_CONFIG && ps->pol->minor == 0) {
            vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                    "configurationrules needs policy version 1.1 or later");
            return VOUCH_ERR_PARSE;
        }
        if (seen[sec]) {
            vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                    "section '%s' appears twice", section_names[sec]);
            return VOUCH_ERR_PARSE;
        }
        if (sec < last) {
            vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                    "section '%s' must come before '%s'", section_names[sec],
                                    section_names[last]);
            return VOUCH_ERR_PARSE;
        }
        if (sec == VS_ISSUANCE && !seen[VS_AUTH]) {
            vouch__policy_error_set(ps->err, ps->tok.line, ps->tok.column,
                                    "expected 'authorizationrules' before 'issuancerules'");
            return VOUCH_ERR_PARSE;
        }
        seen[sec] = true;
        last = sec;
        if ((rc = parse_section(ps, (enum vouch__section)sec)) != VOUCH_OK)
            return rc;
    }
    if (!seen[VS_AUTH])
        return expected(ps, "an 'authorizationrules' section");
    return VOUCH_OK;
}

vouch_err vouch_policy_parse(const char *text, size_t len, unsigned flags,
                             struct vouch_policy **out, struct vouch_policy_error *err_out)
{
    struct vouch_policy_error scratch;
    struct vouch_policy_error *err = err_out ? err_out : &scratch;
    struct parser ps;
    struct vouch_policy *pol = NULL;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    memset(err, 0, sizeof(*err));
    if (out)
        *out = NULL;
    if (!out || (!text && len) || (flags & ~VOUCH_POLICY_LENIENT)) {
        vouch__policy_error_set(err, 0, 0, "invalid arguments");
        return VOUCH_ERR_INVAL;
    }
    if (len > VOUCH_MAX_POLICY_SIZE) {
        vouch__policy_error_set(err, 1, 1, "policy is larger than %u bytes", VOUCH_MAX_POLICY_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    pol = vouch_calloc(1, sizeof(*pol));
    if (!pol) {
        vouch__policy_error_set(err, 0, 0, "%s", vouch_strerror(VOUCH_ERR_NOMEM));
        return VOUCH_ERR_NOMEM;
    }
    vouch__arena_init(&pol->arena, POLICY_ARENA_CAP);
    memset(&ps, 0, sizeof(ps));
    ps.pol = pol;
    ps.lenient = (flags & VOUCH_POLICY_LENIENT) != 0;
    ps.err = err;
    vouch__lexer_init(&ps.lx, text ? text : "", len, ps.lenient, &pol->arena, err);
    if ((rc = parse_policy(&ps)) != VOUCH_OK)
        goto out;
    memset(err, 0, sizeof(*err));
    *out = pol;
    pol = NULL;
    rc = VOUCH_OK;
out:
    vouch_policy_free(pol);
    return rc;
}

void vouch_policy_free(struct vouch_policy *p)
{
    if (!p)
        return;
    vouch__arena_free(&p->arena);
    vouch_free(p);
}

const char *vouch_policy_version(const struct vouch_policy *p)
{
    static const char *const v[] = {"1.0", "1.1", "1.2"};

    if (!p || p->minor > 2)
        return "?";
    return v[p->minor];
}
