/*
 * EDL parser (include/vouch/edl.h). The grammar is flat (an enclave block
 * holding sections holding functions holding parameters), so the parser is a
 * set of loops over a one-token lookahead lexer: no recursion, and every
 * count it keeps is bounded by a VOUCH_MAX_EDL_* limit before it grows.
 * Every error carries the line and byte column of the token it is about.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/edl.h>
#include <vouch/mem.h>

enum tok_kind { TOK_EOF, TOK_IDENT, TOK_NUMBER, TOK_STRING, TOK_PUNCT };

struct tok {
    enum tok_kind kind;
    const char *p; /* into the source text */
    size_t len;
    uint64_t number; /* TOK_NUMBER */
    unsigned line, column;
};

/* size= or count= value: a positive constant or a parameter name, resolved
 * after the whole parameter list is read. */
struct pending_bound {
    struct tok at;
    char name[VOUCH_MAX_EDL_IDENT + 1];
};

struct attr_state {
    bool in, out, string;
    struct pending_bound size, count;
    struct tok first; /* the '[' (kind TOK_PUNCT) when attributes were given */
};

struct parser {
    const char *src;
    size_t len;
    size_t off;
    unsigned line, column;
    struct tok tok; /* the current (lookahead) token */
    struct vouch_edl_error *err;
    struct attr_state *attrs; /* per parameter of the function being read */
    vouch_err rc;             /* set with the first error */
    struct vouch_edl *edl;
};

VOUCH_PRINTF(4, 5)
static void fail_at(struct parser *ps, vouch_err rc, const struct tok *at, const char *fmt, ...)
{
    va_list ap;

    if (ps->rc != VOUCH_OK)
        return;
    ps->rc = rc;
    if (!ps->err)
        return;
    ps->err->line = at ? at->line : 0;
    ps->err->column = at ? at->column : 0;
    va_start(ap, fmt);
    vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
    va_end(ap);
}

/* Quotes a token for an error message, cut so the message stays readable and
 * the text printed is always printable ASCII. */
static const char *tok_show(const struct tok *t, char *buf, size_t cap)
{
    size_t n = 0;

    if (t->kind == TOK_EOF)
        return "end of file";
    buf[n++] = '\'';
    for (size_t i = 0; i < t->len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)t->p[i];
        buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        if (i == 40 && t->len > 44) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

static bool tok_is(const struct tok *t, const char *word)
{
    size_t n = strlen(word);
    return (t->kind == TOK_IDENT || t->kind == TOK_PUNCT) && t->len == n &&
           memcmp(t->p, word, n) == 0;
}

static int peek(const struct parser *ps, size_t ahead)
{
    if (ahead >= ps->len - ps->off)
        return -1;
    return (unsigned char)ps->src[ps->off + ahead];
}

static void adv(struct parser *ps)
{
    if (ps->off >= ps->len)
        return;
    if (ps->src[ps->off] == '\n') {
        ps->line++;
        ps->column = 1;
    } else {
        ps->column++;
    }
    ps->off++;
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Skips white space and comments; false (with the error set) on an
 * unterminated block comment. */
static bool skip_space(struct parser *ps)
{
    for (;;) {
        int c = peek(ps, 0);

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            adv(ps);
        } else if (c == '/' && peek(ps, 1) == '/') {
            while (peek(ps, 0) != -1 && peek(ps, 0) != '\n')
                adv(ps);
        } else if (c == '/' && peek(ps, 1) == '*') {
            struct tok at = {.line = ps->line, .column = ps->column};

            adv(ps);
            adv(ps);
            for (;;) {
                if (peek(ps, 0) == -1) {
                    fail_at(ps, VOUCH_ERR_PARSE, &at, "unterminated comment");
                    return false;
                }
                if (peek(ps, 0) == '*' && peek(ps, 1) == '/') {
                    adv(ps);
                    adv(ps);
                    break;
                }
                adv(ps);
            }
        } else {
            return true;
        }
    }
}

/* Reads the next token into ps->tok; false once an error is set. */
static bool next(struct parser *ps)
{
    struct tok *t = &ps->tok;
    int c;

    if (ps->rc != VOUCH_OK || !skip_space(ps))
        return false;
    memset(t, 0, sizeof(*t));
    t->line = ps->line;
    t->column = ps->column;
    t->p = ps->src + ps->off;
    c = peek(ps, 0);
    if (c == -1) {
        t->kind = TOK_EOF;
        return true;
    }
    if (is_ident_start(c)) {
        t->kind = TOK_IDENT;
        while (is_ident_start(peek(ps, 0)) || is_digit(peek(ps, 0))) {
            adv(ps);
            t->len++;
        }
        if (t->len > VOUCH_MAX_EDL_IDENT) {
            fail_at(ps, VOUCH_ERR_TOO_LARGE, t, "identifier longer than %u bytes",
                    VOUCH_MAX_EDL_IDENT);
            return false;
        }
        return true;
    }
    if (is_digit(c)) {
        unsigned base = 10;

        t->kind = TOK_NUMBER;
        if (c == '0' && (peek(ps, 1) == 'x' || peek(ps, 1) == 'X')) {
            base = 16;
            adv(ps);
            adv(ps);
            t->len = 2;
            if (hex_value(peek(ps, 0)) < 0) {
                fail_at(ps, VOUCH_ERR_PARSE, t, "expected hexadecimal digits after '0x'");
                return false;
            }
        } else if (c == '0' && is_digit(peek(ps, 1))) {
            /* C would read this as octal; an interface file should not
             * depend on that. */
            fail_at(ps, VOUCH_ERR_PARSE, t, "numbers may not start with 0 (octal is not accepted)");
            return false;
        }
        for (;;) {
            int d = base == 16 ? hex_value(peek(ps, 0))
                               : (is_digit(peek(ps, 0)) ? peek(ps, 0) - '0' : -1);

            if (d < 0)
                break;
            if (t->number > (UINT64_MAX - (uint64_t)d) / base) {
                fail_at(ps, VOUCH_ERR_TOO_LARGE, t, "number does not fit in 64 bits");
                return false;
            }
            t->number = t->number * base + (uint64_t)d;
            adv(ps);
            t->len++;
        }
        if (is_ident_start(peek(ps, 0))) {
            fail_at(ps, VOUCH_ERR_PARSE, t,
                    "unexpected character after a number (suffixes are not accepted)");
            return false;
        }
        return true;
    }
    if (c == '"') {
        t->kind = TOK_STRING;
        adv(ps);
        t->p = ps->src + ps->off;
        for (;;) {
            c = peek(ps, 0);
            if (c == -1 || c == '\n') {
                fail_at(ps, VOUCH_ERR_PARSE, t, "unterminated string");
                return false;
            }
            if (c == '"')
                break;
            adv(ps);
            t->len++;
        }
        adv(ps);
        return true;
    }
    if (strchr("{}()[];,*=", c) && c != 0) {
        t->kind = TOK_PUNCT;
        t->len = 1;
        adv(ps);
        return true;
    }
    if (c >= 0x20 && c < 0x7f)
        fail_at(ps, VOUCH_ERR_PARSE, t, "unexpected character '%c'", c);
    else
        fail_at(ps, VOUCH_ERR_PARSE, t, "unexpected byte 0x%02x", (unsigned)c);
    return false;
}

/* Consumes the current token if it is @p word; false (error set) otherwise,
 * naming @p context in the message. */
static bool expect(struct parser *ps, const char *word, const char *context)
{
    char shown[64];

    if (ps->rc != VOUCH_OK)
        return false;
    if (!tok_is(&ps->tok, word)) {
        fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "expected '%s' %s, found %s", word, context,
                tok_show(&ps->tok, shown, sizeof(shown)));
        return false;
    }
    return next(ps);
}

static const char *const reserved_words[] = {
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bool",
    "true",
    "false",
    "NULL",
    "errno",
    "size_t",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "enclave",
    "trusted",
    "untrusted",
    "public",
    "private",
    "include",
    "from",
    "import",
    /* Names the generated stubs call or use inside functions whose
     * parameters carry the user's names. */
    "memcpy",
    "memset",
    "memchr",
    "strlen",
    "uintptr_t",
    "SIZE_MAX",
    "UINT64_MAX",
};

/* Checks that the current identifier may name a function or parameter in
 * generated C: not a keyword or type, not reserved to the implementation, and
 * not in the vouch_ namespace the stubs use for their own names. */
static bool take_name(struct parser *ps, const char *what, char out[VOUCH_MAX_EDL_IDENT + 1])
{
    const struct tok *t = &ps->tok;
    char shown[64];

    if (t->kind != TOK_IDENT) {
        fail_at(ps, VOUCH_ERR_PARSE, t, "expected %s name, found %s", what,
                tok_show(t, shown, sizeof(shown)));
        return false;
    }
    for (size_t i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++) {
        if (tok_is(t, reserved_words[i])) {
            fail_at(ps, VOUCH_ERR_PARSE, t, "'%s' is a reserved word and cannot be a %s name",
                    reserved_words[i], what);
            return false;
        }
    }
    if ((t->len >= 2 && t->p[0] == '_' && (t->p[1] == '_' || (t->p[1] >= 'A' && t->p[1] <= 'Z'))) ||
        (t->len >= 6 && (memcmp(t->p, "vouch_", 6) == 0 || memcmp(t->p, "VOUCH_", 6) == 0))) {
        fail_at(ps, VOUCH_ERR_PARSE, t,
                "%s name %s is reserved (names starting with '__', '_' and a capital, or "
                "'vouch_' belong to the implementation)",
                what, tok_show(t, shown, sizeof(shown)));
        return false;
    }
    memcpy(out, t->p, t->len);
    out[t->len] = '\0';
    return next(ps);
}

static const struct {
    const char *word;
    enum vouch_edl_type type;
} type_words[] = {
    {"void", VOUCH_EDL_VOID},       {"char", VOUCH_EDL_CHAR},       {"bool", VOUCH_EDL_BOOL},
    {"int", VOUCH_EDL_INT},         {"int8_t", VOUCH_EDL_INT8},     {"int16_t", VOUCH_EDL_INT16},
    {"int32_t", VOUCH_EDL_INT32},   {"int64_t", VOUCH_EDL_INT64},   {"uint8_t", VOUCH_EDL_UINT8},
    {"uint16_t", VOUCH_EDL_UINT16}, {"uint32_t", VOUCH_EDL_UINT32}, {"uint64_t", VOUCH_EDL_UINT64},
    {"size_t", VOUCH_EDL_SIZE},     {"float", VOUCH_EDL_FLOAT},     {"double", VOUCH_EDL_DOUBLE},
};

/* Parses a type name (one or two words) into @p out. */
static bool parse_type(struct parser *ps, const char *what, enum vouch_edl_type *out)
{
    const struct tok *t = &ps->tok;
    char shown[64];

    if (tok_is(t, "unsigned")) {
        if (!next(ps))
            return false;
        if (tok_is(t, "int") && !next(ps))
            return false;
        *out = VOUCH_EDL_UNSIGNED;
        return true;
    }
    if (tok_is(t, "long") || tok_is(t, "short") || tok_is(t, "signed") || tok_is(t, "wchar_t")) {
        fail_at(ps, VOUCH_ERR_UNSUPPORTED, t,
                "type %s is not supported: use a fixed-width type such as int64_t",
                tok_show(t, shown, sizeof(shown)));
        return false;
    }
    if (tok_is(t, "struct") || tok_is(t, "enum") || tok_is(t, "union")) {
        fail_at(ps, VOUCH_ERR_UNSUPPORTED, t,
                "%s types are not supported: pass the fields, or bytes with [size=]",
                tok_show(t, shown, sizeof(shown)));
        return false;
    }
    for (size_t i = 0; i < sizeof(type_words) / sizeof(type_words[0]); i++) {
        if (tok_is(t, type_words[i].word)) {
            *out = type_words[i].type;
            return next(ps);
        }
    }
    fail_at(ps, VOUCH_ERR_PARSE, t, "expected %s type, found %s", what,
            tok_show(t, shown, sizeof(shown)));
    return false;
}

static bool parse_bound(struct parser *ps, const struct tok *attr, struct vouch_edl_bound *b,
                        struct pending_bound *pend)
{
    char shown[64];

    if (b->kind != VOUCH_EDL_BOUND_NONE) {
        fail_at(ps, VOUCH_ERR_PARSE, attr, "attribute given twice");
        return false;
    }
    if (!next(ps) || !expect(ps, "=", "after the attribute name"))
        return false;
    pend->at = ps->tok;
    if (ps->tok.kind == TOK_NUMBER) {
        if (ps->tok.number == 0) {
            fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "a constant size or count must be positive");
            return false;
        }
        b->kind = VOUCH_EDL_BOUND_CONST;
        b->value = ps->tok.number;
        return next(ps);
    }
    if (ps->tok.kind == TOK_IDENT) {
        b->kind = VOUCH_EDL_BOUND_PARAM;
        memcpy(pend->name, ps->tok.p, ps->tok.len);
        pend->name[ps->tok.len] = '\0';
        return next(ps);
    }
    fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "expected a number or a parameter name, found %s",
            tok_show(&ps->tok, shown, sizeof(shown)));
    return false;
}

/* Parses "[a, b=c, ...]" (the current token is '['). */
static bool parse_attrs(struct parser *ps, struct vouch_edl_param *p, struct attr_state *st)
{
    char shown[64];

    st->first = ps->tok;
    if (!next(ps))
        return false;
    for (;;) {
        struct tok at = ps->tok;

        if (tok_is(&at, "in") || tok_is(&at, "out") || tok_is(&at, "string")) {
            bool *flag = tok_is(&at, "in") ? &st->in : tok_is(&at, "out") ? &st->out : &st->string;
            if (*flag) {
                fail_at(ps, VOUCH_ERR_PARSE, &at, "attribute given twice");
                return false;
            }
            *flag = true;
            if (!next(ps))
                return false;
        } else if (tok_is(&at, "size")) {
            if (!parse_bound(ps, &at, &p->size, &st->size))
                return false;
        } else if (tok_is(&at, "count")) {
            if (!parse_bound(ps, &at, &p->count, &st->count))
                return false;
        } else if (tok_is(&at, "user_check") || tok_is(&at, "isptr") || tok_is(&at, "isary") ||
                   tok_is(&at, "wstring") || tok_is(&at, "sizefunc")) {
            fail_at(ps, VOUCH_ERR_UNSUPPORTED, &at,
                    "attribute %s is not supported: pointers cross the boundary only as "
                    "copied [in]/[out] buffers",
                    tok_show(&at, shown, sizeof(shown)));
            return false;
        } else {
            fail_at(ps, VOUCH_ERR_PARSE, &at,
                    "expected an attribute (in, out, string, size=, count=), found %s",
                    tok_show(&at, shown, sizeof(shown)));
            return false;
        }
        if (tok_is(&ps->tok, "]"))
            return next(ps);
        if (!expect(ps, ",", "or ']' between attributes"))
            return false;
    }
}

static bool is_integer_type(enum vouch_edl_type t)
{
    return t != VOUCH_EDL_VOID && t != VOUCH_EDL_BOOL && t != VOUCH_EDL_FLOAT &&
           t != VOUCH_EDL_DOUBLE && t != VOUCH_EDL_CHAR;
}

/* Resolves a size=/count= parameter name and checks what it may be. */
static bool resolve_bound(struct parser *ps, struct vouch_edl_func *f, size_t self,
                          struct vouch_edl_bound *b, const struct pending_bound *pend)
{
    if (b->kind != VOUCH_EDL_BOUND_PARAM)
        return true;
    for (size_t i = 0; i < f->param_count; i++) {
        if (strcmp(f->params[i].name, pend->name) != 0)
            continue;
        if (i == self) {
            fail_at(ps, VOUCH_ERR_PARSE, &pend->at, "a parameter cannot give its own length");
            return false;
        }
        if (f->params[i].pointer || !is_integer_type(f->params[i].type)) {
            fail_at(ps, VOUCH_ERR_PARSE, &pend->at,
                    "length parameter '%s' must be an integer scalar (int, unsigned, intN_t, "
                    "uintN_t or size_t)",
                    pend->name);
            return false;
        }
        b->param = i;
        return true;
    }
    fail_at(ps, VOUCH_ERR_PARSE, &pend->at, "no parameter named '%s' in this function", pend->name);
    return false;
}

/* Checks a pointer parameter's attributes once its type is known. */
static bool check_pointer(struct parser *ps, struct vouch_edl_param *p, const struct attr_state *st,
                          const struct tok *at)
{
    uint64_t elem = p->type == VOUCH_EDL_VOID ? 1 : vouch_edl_type_size(p->type);

    if (!st->in && !st->out) {
        fail_at(ps, VOUCH_ERR_PARSE, at,
                "pointer parameter '%s' needs a direction: [in], [out] or [in, out]", p->name);
        return false;
    }
    p->dir = (st->in ? VOUCH_EDL_IN : 0u) | (st->out ? VOUCH_EDL_OUT : 0u);
    if (p->type == VOUCH_EDL_BOOL) {
        fail_at(ps, VOUCH_ERR_UNSUPPORTED, at,
                "pointers to bool are not supported (use uint8_t): every byte would need checking");
        return false;
    }
    if (p->size.kind != VOUCH_EDL_BOUND_NONE && p->count.kind != VOUCH_EDL_BOUND_NONE) {
        fail_at(ps, VOUCH_ERR_PARSE, at,
                "give either size= (bytes) or count= (elements), not both");
        return false;
    }
    if (st->string) {
        if (p->type != VOUCH_EDL_CHAR) {
            fail_at(ps, VOUCH_ERR_PARSE, at, "[string] applies to char pointers only");
            return false;
        }
        if (st->out) {
            fail_at(ps, VOUCH_ERR_UNSUPPORTED, at,
                    "[string] may only be [in]: use [out, size=n] char * for returned text");
            return false;
        }
        if (p->size.kind != VOUCH_EDL_BOUND_NONE || p->count.kind != VOUCH_EDL_BOUND_NONE) {
            fail_at(ps, VOUCH_ERR_PARSE, at, "[string] measures its own length: drop size=/count=");
            return false;
        }
        p->string = true;
    }
    if (p->type == VOUCH_EDL_VOID && p->size.kind == VOUCH_EDL_BOUND_NONE) {
        fail_at(ps, VOUCH_ERR_PARSE, at, "a void pointer needs size= (its length in bytes)");
        return false;
    }
    if (p->is_const && st->out) {
        fail_at(ps, VOUCH_ERR_PARSE, at, "an [out] pointer cannot point to const");
        return false;
    }
    if (p->size.kind == VOUCH_EDL_BOUND_CONST && p->size.value > VOUCH_MAX_ENCLAVE_CALL_BYTES) {
        fail_at(ps, VOUCH_ERR_TOO_LARGE, at, "size above the call limit of %u bytes",
                VOUCH_MAX_ENCLAVE_CALL_BYTES);
        return false;
    }
    if (p->count.kind == VOUCH_EDL_BOUND_CONST &&
        p->count.value > VOUCH_MAX_ENCLAVE_CALL_BYTES / elem) {
        fail_at(ps, VOUCH_ERR_TOO_LARGE, at, "count above the call limit of %u bytes",
                VOUCH_MAX_ENCLAVE_CALL_BYTES);
        return false;
    }
    return true;
}

static bool parse_param(struct parser *ps, struct vouch_edl_func *f, struct attr_state *st)
{
    struct vouch_edl_param *p = &f->params[f->param_count];
    struct tok start = ps->tok;

    memset(st, 0, sizeof(*st));
    p->line = start.line;
    p->column = start.column;
    if (tok_is(&ps->tok, "[") && !parse_attrs(ps, p, st))
        return false;
    if (tok_is(&ps->tok, "const")) {
        p->is_const = true;
        if (!next(ps))
            return false;
    }
    if (!parse_type(ps, "a parameter", &p->type))
        return false;
    if (tok_is(&ps->tok, "const")) {
        fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "write 'const' before the type");
        return false;
    }
    if (tok_is(&ps->tok, "*")) {
        p->pointer = true;
        if (!next(ps))
            return false;
        if (tok_is(&ps->tok, "*")) {
            fail_at(ps, VOUCH_ERR_UNSUPPORTED, &ps->tok, "pointers to pointers are not supported");
            return false;
        }
        if (tok_is(&ps->tok, "const")) {
            fail_at(ps, VOUCH_ERR_UNSUPPORTED, &ps->tok,
                    "const pointers ('* const') are not supported");
            return false;
        }
    }
    if (!take_name(ps, "parameter", p->name))
        return false;
    if (tok_is(&ps->tok, "[")) {
        fail_at(ps, VOUCH_ERR_UNSUPPORTED, &ps->tok,
                "fixed arrays are not supported: use a pointer with count=");
        return false;
    }
    for (size_t i = 0; i < f->param_count; i++) {
        if (strcmp(f->params[i].name, p->name) == 0) {
            fail_at(ps, VOUCH_ERR_PARSE, &start, "parameter '%s' declared twice", p->name);
            return false;
        }
    }
    if (!p->pointer) {
        if (p->type == VOUCH_EDL_VOID) {
            fail_at(ps, VOUCH_ERR_PARSE, &start, "parameter '%s' cannot have type void", p->name);
            return false;
        }
        if (st->first.kind == TOK_PUNCT) {
            fail_at(ps, VOUCH_ERR_PARSE, &st->first,
                    "attributes apply to pointer parameters only ('%s' is a %s)", p->name,
                    vouch_edl_type_c(p->type));
            return false;
        }
        if (p->is_const) {
            fail_at(ps, VOUCH_ERR_PARSE, &start, "'const' applies to pointer parameters only");
            return false;
        }
    } else if (!check_pointer(ps, p, st, &start)) {
        return false;
    }
    f->param_count++;
    return true;
}

/* Parses "<ret> name(params) [transition_using_threads];" */
static bool parse_func(struct parser *ps, struct vouch_edl_func *f)
{
    struct attr_state *st = ps->attrs;
    char shown[64];

    f->line = ps->tok.line;
    f->column = ps->tok.column;
    if (!parse_type(ps, "a return", &f->ret))
        return false;
    if (tok_is(&ps->tok, "*")) {
        fail_at(ps, VOUCH_ERR_UNSUPPORTED, &ps->tok,
                "functions cannot return pointers: return data through an [out] parameter");
        return false;
    }
    if (!take_name(ps, "function", f->name) || !expect(ps, "(", "after the function name"))
        return false;
    if (tok_is(&ps->tok, "void")) {
        /* "(void)" is an empty list; "(void *p)" is a parameter. */
        size_t save_off = ps->off;
        unsigned save_line = ps->line, save_col = ps->column;
        struct tok save = ps->tok;

        if (!next(ps))
            return false;
        if (tok_is(&ps->tok, ")")) {
            /* fall through to the ')' check below with an empty list */
        } else {
            ps->off = save_off;
            ps->line = save_line;
            ps->column = save_col;
            ps->tok = save;
        }
    }
    while (!tok_is(&ps->tok, ")")) {
        if (f->param_count == VOUCH_MAX_EDL_PARAMS) {
            fail_at(ps, VOUCH_ERR_TOO_LARGE, &ps->tok, "more than %u parameters",
                    VOUCH_MAX_EDL_PARAMS);
            return false;
        }
        if (!parse_param(ps, f, &st[f->param_count]))
            return false;
        if (tok_is(&ps->tok, ")"))
            break;
        if (!expect(ps, ",", "or ')' after a parameter"))
            return false;
        if (tok_is(&ps->tok, ")")) {
            fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "expected a parameter after ','");
            return false;
        }
    }
    if (!next(ps))
        return false;
    for (size_t i = 0; i < f->param_count; i++) {
        if (!resolve_bound(ps, f, i, &f->params[i].size, &st[i].size) ||
            !resolve_bound(ps, f, i, &f->params[i].count, &st[i].count))
            return false;
    }
    if (tok_is(&ps->tok, "transition_using_threads")) {
        f->switchless = true;
        if (!next(ps))
            return false;
    }
    if (tok_is(&ps->tok, "allow") || tok_is(&ps->tok, "propagate_errno") ||
        tok_is(&ps->tok, "transition_using_threads")) {
        fail_at(
            ps,
            tok_is(&ps->tok, "transition_using_threads") ? VOUCH_ERR_PARSE : VOUCH_ERR_UNSUPPORTED,
            &ps->tok,
            tok_is(&ps->tok, "transition_using_threads") ? "function attribute %s given twice"
                                                         : "function attribute %s is not supported",
            tok_show(&ps->tok, shown, sizeof(shown)));
        return false;
    }
    return expect(ps, ";", "after the function declaration");
}

static bool name_taken(const struct vouch_edl *edl, const char *name)
{
    for (size_t i = 0; i < edl->trusted_count; i++)
        if (strcmp(edl->trusted[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < edl->untrusted_count; i++)
        if (strcmp(edl->untrusted[i].name, name) == 0)
            return true;
    return false;
}

/* Parses "trusted { public f; ... };" or the untrusted form (the current
 * token is the section keyword). */
static bool parse_section(struct parser *ps, bool trusted)
{
    struct vouch_edl *edl = ps->edl;
    struct vouch_edl_func **arr = trusted ? &edl->trusted : &edl->untrusted;
    size_t *count = trusted ? &edl->trusted_count : &edl->untrusted_count;
    char shown[64];

    if (!next(ps) || !expect(ps, "{", trusted ? "after 'trusted'" : "after 'untrusted'"))
        return false;
    while (!tok_is(&ps->tok, "}")) {
        struct tok start = ps->tok;
        struct vouch_edl_func *f;

        if (ps->tok.kind == TOK_EOF) {
            fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "expected '}' to close the %s section",
                    trusted ? "trusted" : "untrusted");
            return false;
        }
        if (trusted) {
            if (tok_is(&ps->tok, "private")) {
                fail_at(ps, VOUCH_ERR_UNSUPPORTED, &ps->tok,
                        "private ecalls are not supported: every trusted function is public");
                return false;
            }
            if (!tok_is(&ps->tok, "public")) {
                fail_at(ps, VOUCH_ERR_PARSE, &ps->tok,
                        "expected 'public' before a trusted function, found %s",
                        tok_show(&ps->tok, shown, sizeof(shown)));
                return false;
            }
            if (!next(ps))
                return false;
        } else if (tok_is(&ps->tok, "public") || tok_is(&ps->tok, "private")) {
            fail_at(ps, VOUCH_ERR_PARSE, &ps->tok,
                    "untrusted functions take no 'public'/'private' (only ecalls do)");
            return false;
        }
        if (*count == VOUCH_MAX_EDL_FUNCS) {
            fail_at(ps, VOUCH_ERR_TOO_LARGE, &start, "more than %u functions in one section",
                    VOUCH_MAX_EDL_FUNCS);
            return false;
        }
        /* Grow by doubling; the cap above bounds the allocation. */
        if ((*count & (*count - 1)) == 0) {
            size_t want = *count == 0 ? 1 : *count * 2;
            struct vouch_edl_func *n = vouch_reallocarray(*arr, want, sizeof(**arr));

            if (!n) {
                fail_at(ps, VOUCH_ERR_NOMEM, NULL, "out of memory");
                return false;
            }
            *arr = n;
        }
        f = &(*arr)[*count];
        memset(f, 0, sizeof(*f));
        if (!parse_func(ps, f))
            return false;
        if (name_taken(edl, f->name)) {
            fail_at(ps, VOUCH_ERR_PARSE, &start, "function '%s' declared twice", f->name);
            return false;
        }
        (*count)++;
    }
    if (!next(ps))
        return false;
    return expect(ps, ";", trusted ? "after the trusted section" : "after the untrusted section");
}

static bool parse_include(struct parser *ps)
{
    struct vouch_edl *edl = ps->edl;
    struct tok at;
    char shown[64];

    if (!next(ps))
        return false;
    at = ps->tok;
    if (at.kind != TOK_STRING) {
        fail_at(ps, VOUCH_ERR_PARSE, &at, "expected a quoted file name after 'include', found %s",
                tok_show(&at, shown, sizeof(shown)));
        return false;
    }
    if (edl->include_count == VOUCH_MAX_EDL_INCLUDES) {
        fail_at(ps, VOUCH_ERR_TOO_LARGE, &at, "more than %u include lines", VOUCH_MAX_EDL_INCLUDES);
        return false;
    }
    if (at.len == 0 || at.len > VOUCH_MAX_EDL_INCLUDE_PATH) {
        fail_at(ps, VOUCH_ERR_PARSE, &at, "include file name must be 1 to %u bytes",
                VOUCH_MAX_EDL_INCLUDE_PATH);
        return false;
    }
    /* The name is pasted into #include lines of generated C: keep it to
     * characters that cannot end the directive or start another. */
    for (size_t i = 0; i < at.len; i++) {
        char c = at.p[i];
        if (!(is_ident_start((unsigned char)c) || is_digit((unsigned char)c) || c == '.' ||
              c == '/' || c == '-' || c == '+')) {
            fail_at(ps, VOUCH_ERR_PARSE, &at,
                    "include file name may hold only letters, digits and _ . / - +");
            return false;
        }
    }
    memcpy(edl->includes[edl->include_count], at.p, at.len);
    edl->includes[edl->include_count][at.len] = '\0';
    edl->include_count++;
    if (!next(ps))
        return false;
    /* Intel's grammar has no ';' after include; accept one anyway. */
    if (tok_is(&ps->tok, ";"))
        return next(ps);
    return true;
}

static bool parse_enclave(struct parser *ps)
{
    char shown[64];

    if (!next(ps) || !expect(ps, "enclave", "at the start of the file") ||
        !expect(ps, "{", "after 'enclave'"))
        return false;
    while (!tok_is(&ps->tok, "}")) {
        const struct tok *t = &ps->tok;

        if (tok_is(t, "trusted")) {
            if (!parse_section(ps, true))
                return false;
        } else if (tok_is(t, "untrusted")) {
            if (!parse_section(ps, false))
                return false;
        } else if (tok_is(t, "include")) {
            if (!parse_include(ps))
                return false;
        } else if (tok_is(t, "from") || tok_is(t, "import")) {
            fail_at(ps, VOUCH_ERR_UNSUPPORTED, t,
                    "importing other EDL files is not supported: declare the functions here");
            return false;
        } else if (tok_is(t, "struct") || tok_is(t, "enum") || tok_is(t, "union")) {
            fail_at(ps, VOUCH_ERR_UNSUPPORTED, t,
                    "%s definitions are not supported in this EDL subset",
                    tok_show(t, shown, sizeof(shown)));
            return false;
        } else {
            fail_at(ps, VOUCH_ERR_PARSE, t,
                    "expected 'trusted', 'untrusted', 'include' or '}', found %s",
                    tok_show(t, shown, sizeof(shown)));
            return false;
        }
    }
    if (!next(ps))
        return false;
    if (tok_is(&ps->tok, ";") && !next(ps))
        return false;
    if (ps->tok.kind != TOK_EOF) {
        fail_at(ps, VOUCH_ERR_PARSE, &ps->tok, "unexpected %s after the enclave block",
                tok_show(&ps->tok, shown, sizeof(shown)));
        return false;
    }
    return true;
}

vouch_err vouch_edl_parse(const char *text, size_t len, struct vouch_edl **out,
                          struct vouch_edl_error *err)
{
    struct parser ps;
    struct attr_state attrs[VOUCH_MAX_EDL_PARAMS];

    if (err)
        memset(err, 0, sizeof(*err));
    if (out)
        *out = NULL;
    memset(&ps, 0, sizeof(ps));
    ps.err = err;
    ps.attrs = attrs;
    if (!out || (!text && len > 0)) {
        fail_at(&ps, VOUCH_ERR_INVAL, NULL, "no input");
        return ps.rc;
    }
    if (len > VOUCH_MAX_EDL_SIZE) {
        fail_at(&ps, VOUCH_ERR_TOO_LARGE, NULL, "EDL file larger than %u bytes",
                VOUCH_MAX_EDL_SIZE);
        return ps.rc;
    }
    ps.src = text ? text : "";
    ps.len = len;
    ps.line = 1;
    ps.column = 1;
    ps.edl = vouch_calloc(1, sizeof(*ps.edl));
    if (!ps.edl) {
        fail_at(&ps, VOUCH_ERR_NOMEM, NULL, "out of memory");
        return ps.rc;
    }
    /* Skip a UTF-8 byte-order mark some editors prepend. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.off = 3;
    if (!parse_enclave(&ps) && ps.rc == VOUCH_OK)
        fail_at(&ps, VOUCH_ERR_INTERNAL, NULL, "parser stopped without an error");
    if (ps.rc != VOUCH_OK) {
        vouch_edl_free(ps.edl);
        return ps.rc;
    }
    *out = ps.edl;
    return VOUCH_OK;
}

void vouch_edl_free(struct vouch_edl *edl)
{
    if (!edl)
        return;
    vouch_free(edl->trusted);
    vouch_free(edl->untrusted);
    vouch_free(edl);
}

const char *vouch_edl_type_c(enum vouch_edl_type t)
{
    static const char *const names[VOUCH_EDL_TYPE__COUNT] = {
        [VOUCH_EDL_VOID] = "void",
        [VOUCH_EDL_CHAR] = "char",
        [VOUCH_EDL_BOOL] = "bool",
        [VOUCH_EDL_INT] = "int",
        [VOUCH_EDL_UNSIGNED] = "unsigned int",
        [VOUCH_EDL_INT8] = "int8_t",
        [VOUCH_EDL_INT16] = "int16_t",
        [VOUCH_EDL_INT32] = "int32_t",
        [VOUCH_EDL_INT64] = "int64_t",
        [VOUCH_EDL_UINT8] = "uint8_t",
        [VOUCH_EDL_UINT16] = "uint16_t",
        [VOUCH_EDL_UINT32] = "uint32_t",
        [VOUCH_EDL_UINT64] = "uint64_t",
        [VOUCH_EDL_SIZE] = "size_t",
        [VOUCH_EDL_FLOAT] = "float",
        [VOUCH_EDL_DOUBLE] = "double",
    };
    return (unsigned)t < VOUCH_EDL_TYPE__COUNT ? names[t] : "?";
}

size_t vouch_edl_type_size(enum vouch_edl_type t)
{
    switch (t) {
    case VOUCH_EDL_VOID:
        return 0;
    case VOUCH_EDL_CHAR:
    case VOUCH_EDL_BOOL:
    case VOUCH_EDL_INT8:
    case VOUCH_EDL_UINT8:
        return 1;
    case VOUCH_EDL_INT16:
    case VOUCH_EDL_UINT16:
        return 2;
    case VOUCH_EDL_INT:
    case VOUCH_EDL_UNSIGNED:
    case VOUCH_EDL_INT32:
    case VOUCH_EDL_UINT32:
    case VOUCH_EDL_FLOAT:
        return 4;
    case VOUCH_EDL_INT64:
    case VOUCH_EDL_UINT64:
    case VOUCH_EDL_SIZE:
    case VOUCH_EDL_DOUBLE:
        return 8;
    case VOUCH_EDL_TYPE__COUNT:
        break;
    }
    return 0;
}
