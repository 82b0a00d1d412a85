/*
 * Lexer for the policy language: a cursor over (src, len) that checks every
 * index before it reads, tracks the 1-based line and column of each token,
 * and decodes string literals into the policy arena. Lexical quirks from
 * Microsoft's documentation (curly quotes) are accepted only in lenient mode.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/limits.h>

#include "policy/policy_int.h"

void vouch__policy_error_set(struct vouch_policy_error *err, unsigned line, unsigned column,
                             const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    vouch__utf8_trim(err->message);
}

void vouch__lexer_init(struct vouch__lexer *lx, const char *src, size_t len, bool lenient,
                       struct vouch__arena *arena, struct vouch_policy_error *err)
{
    lx->src = src;
    lx->len = len;
    lx->off = 0;
    lx->line = 1;
    lx->column = 1;
    lx->lenient = lenient;
    lx->arena = arena;
    lx->err = err;
    /* Editors on Windows prepend a byte-order mark; it is not part of the text. */
    if (len >= 3 && (unsigned char)src[0] == 0xEF && (unsigned char)src[1] == 0xBB &&
        (unsigned char)src[2] == 0xBF)
        lx->off = 3;
}

static int peek_at(const struct vouch__lexer *lx, size_t ahead)
{
    if (ahead >= lx->len - lx->off)
        return -1;
    return (unsigned char)lx->src[lx->off + ahead];
}

/* Consumes one byte; columns count characters, so UTF-8 continuation bytes
 * do not advance them. */
static void adv(struct vouch__lexer *lx)
{
    unsigned char c;

    if (lx->off >= lx->len)
        return;
    c = (unsigned char)lx->src[lx->off++];
    if (c == '\n') {
        lx->line++;
        lx->column = 1;
    } else if ((c & 0xC0u) != 0x80u) {
        lx->column++;
    }
}

static void adv_n(struct vouch__lexer *lx, size_t n)
{
    while (n--)
        adv(lx);
}

/* 1 for U+201C/U+201D (curly double quotes) at the cursor, else 0. */
static bool at_curly_quote(const struct vouch__lexer *lx, size_t ahead)
{
    return peek_at(lx, ahead) == 0xE2 && peek_at(lx, ahead + 1) == 0x80 &&
           (peek_at(lx, ahead + 2) == 0x9C || peek_at(lx, ahead + 2) == 0x9D);
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static vouch_err lex_error(struct vouch__lexer *lx, unsigned line, unsigned column, vouch_err rc,
                           const char *msg)
{
    vouch__policy_error_set(lx->err, line, column, "%s", msg);
    return rc;
}

static void skip_space_and_comments(struct vouch__lexer *lx)
{
    for (;;) {
        int c = peek_at(lx, 0);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            adv(lx);
        } else if (c == '/' && peek_at(lx, 1) == '/') {
            while (peek_at(lx, 0) != -1 && peek_at(lx, 0) != '\n')
                adv(lx);
        } else {
            return;
        }
    }
}

static vouch_err lex_int(struct vouch__lexer *lx, struct vouch__tok *t)
{
    bool neg = false;
    uint64_t v = 0;
    /* |INT64_MIN| = INT64_MAX + 1 */
    uint64_t limit;

    if (peek_at(lx, 0) == '-') {
        neg = true;
        adv(lx);
    }
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    while (is_digit(peek_at(lx, 0))) {
        unsigned d = (unsigned)(peek_at(lx, 0) - '0');
        if (v > (limit - d) / 10u)
            return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                             "integer out of range (64-bit signed)");
        v = v * 10u + d;
        adv(lx);
    }
    if (neg)
        t->ival = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    else
        t->ival = (int64_t)v;
    t->kind = VT_INT;
    return VOUCH_OK;
}

/*
 * A string literal. The first pass finds the end and checks escapes so the
 * error names the right place; the second decodes into the arena.
 */
static vouch_err lex_string(struct vouch__lexer *lx, struct vouch__tok *t)
{
    bool curly = peek_at(lx, 0) != '"';
    size_t open_len = curly ? 3 : 1;
    size_t i = open_len;
    size_t raw_len, out_len = 0;
    char *dst = NULL;
    vouch_err rc;

    if (curly && !lx->lenient)
        return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                         "curly quotation mark; strings use straight quotes '\"' (curly ones "
                         "are accepted only in lenient mode)");
    for (;;) {
        int c = peek_at(lx, i);
        if (c == -1 || c == '\n' || c == '\r')
            return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                             "unterminated string (strings end on the same line)");
        if (!curly && c == '"')
            break;
        if (curly && at_curly_quote(lx, i))
            break;
        if (c < 0x20 && c != '\t')
            return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                             "control character inside a string");
        if (c == '\\') {
            int e = peek_at(lx, i + 1);
            if (e != '"' && e != '\\' && e != '/' && e != 'n' && e != 'r' && e != 't') {
                /* Point at the backslash: that is what the author must fix. */
                unsigned col = t->column;
                for (size_t k = 0; k < i; k++) {
                    if ((((unsigned char)lx->src[lx->off + k]) & 0xC0u) != 0x80u)
                        col++;
                }
                return lex_error(lx, t->line, col, VOUCH_ERR_PARSE,
                                 "unknown escape in string (use \\\" \\\\ \\/ \\n \\r or \\t)");
            }
            i += 2;
            out_len++;
            continue;
        }
        i++;
        out_len++;
    }
    raw_len = i - open_len;
    if (out_len > VOUCH_MAX_POLICY_STRING)
        return lex_error(lx, t->line, t->column, VOUCH_ERR_TOO_LARGE,
                         "string literal longer than VOUCH_MAX_POLICY_STRING");
    if ((rc = vouch__arena_alloc(lx->arena, out_len + 1, (void **)&dst)) != VOUCH_OK) {
        vouch__policy_error_set(lx->err, t->line, t->column, "%s", vouch_strerror(rc));
        return rc;
    }
    out_len = 0;
    for (size_t k = open_len; k < open_len + raw_len; k++) {
        char c = lx->src[lx->off + k];
        if (c == '\\') {
            char e = lx->src[lx->off + k + 1];
            k++;
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            default:
                c = e;
                break;
            }
        }
        dst[out_len++] = c;
    }
    dst[out_len] = 0;
    if (!vouch__utf8_valid(dst, out_len))
        return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE, "string is not valid UTF-8");
    adv_n(lx, open_len + raw_len + (curly ? 3 : 1));
    t->kind = VT_STRING;
    t->str = dst;
    t->str_len = out_len;
    return VOUCH_OK;
}

vouch_err vouch__lexer_next(struct vouch__lexer *lx, struct vouch__tok *t)
{
    int c, n;
    vouch_err rc = VOUCH_OK;

    memset(t, 0, sizeof(*t));
    skip_space_and_comments(lx);
    t->line = lx->line;
    t->column = lx->column;
    t->p = lx->src + lx->off;
    c = peek_at(lx, 0);
    n = peek_at(lx, 1);
    if (c == -1) {
        t->kind = VT_EOF;
        return VOUCH_OK;
    }
    if (is_ident_start(c)) {
        while (is_ident_start(peek_at(lx, 0)) || is_digit(peek_at(lx, 0)))
            adv(lx);
        t->kind = VT_IDENT;
    } else if (is_digit(c) || (c == '-' && is_digit(n))) {
        rc = lex_int(lx, t);
    } else if (c == '"' || at_curly_quote(lx, 0)) {
        rc = lex_string(lx, t);
    } else {
        size_t w = 1;
        switch (c) {
        case '{':
            t->kind = VT_LBRACE;
            break;
        case '}':
            t->kind = VT_RBRACE;
            break;
        case '[':
            t->kind = VT_LBRACK;
            break;
        case ']':
            t->kind = VT_RBRACK;
            break;
        case '(':
            t->kind = VT_LPAREN;
            break;
        case ')':
            t->kind = VT_RPAREN;
            break;
        case ',':
            t->kind = VT_COMMA;
            break;
        case ';':
            t->kind = VT_SEMI;
            break;
        case ':':
            t->kind = VT_COLON;
            break;
        case '.':
            t->kind = VT_DOT;
            break;
        case '=':
            if (n == '=') {
                t->kind = VT_EQ;
                w = 2;
            } else if (n == '>') {
                t->kind = VT_ARROW;
                w = 2;
            } else {
                t->kind = VT_ASSIGN;
            }
            break;
        case '!':
            if (n == '=') {
                t->kind = VT_NE;
                w = 2;
            } else {
                t->kind = VT_NOT;
            }
            break;
        case '<':
            if (n == '=') {
                t->kind = VT_LE;
                w = 2;
            } else {
                t->kind = VT_LT;
            }
            break;
        case '>':
            if (n == '=') {
                t->kind = VT_GE;
                w = 2;
            } else {
                t->kind = VT_GT;
            }
            break;
        case '&':
            if (n != '&')
                return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                                 "expected '&&' (conditions are joined with &&)");
            t->kind = VT_AND;
            w = 2;
            break;
        case '|':
            return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                             n == '|' ? "'||' is not supported: write each alternative as its "
                                        "own rule"
                                      : "unexpected character '|'");
        case '/':
            return lex_error(lx, t->line, t->column, VOUCH_ERR_PARSE,
                             "unexpected '/' (comments start with //)");
        default:
            if (c >= 0x21 && c < 0x7F) {
                vouch__policy_error_set(lx->err, t->line, t->column, "unexpected character '%c'",
                                        c);
            } else {
                vouch__policy_error_set(lx->err, t->line, t->column, "unexpected byte 0x%02x",
                                        (unsigned)c);
            }
            return VOUCH_ERR_PARSE;
        }
        adv_n(lx, w);
    }
    if (rc != VOUCH_OK)
        return rc;
    t->len = (size_t)(lx->src + lx->off - t->p);
    return VOUCH_OK;
}
