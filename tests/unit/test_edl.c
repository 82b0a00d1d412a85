/*
 * EDL: the parser (grammar accepted, line:column errors on malformed input),
 * the generator (vouch_edl_emit), and the stubs it generated at build time
 * from tests/unit/edl/edl_test.edl. The enclave half is a module loaded with
 * dlopen as the loader would; this executable plays the runtime on both
 * sides: fakes of vouch_enclave_ecall and vouch_rt_ocall move the bytes
 * in-process (through exact-size private copies, so ASan sees any access
 * past a marshalled buffer), vouch_rt_malloc is a counting heap that can be
 * made to fail. The enclave-side table entries are also called directly with
 * hand-built malicious buffers.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/edl.h>
#include <vouch/enclave_rt.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "edl_test_u.h"

/* ---- the fake runtime ---------------------------------------------------- */

static void *g_module;
static const struct vouch_rt_ecall_entry *g_table;
static size_t g_count;
static unsigned g_last_ecall_flags, g_last_ocall_flags;
static long g_heap_live;       /* vouch_rt_malloc blocks not yet freed */
static bool g_heap_fail;       /* vouch_rt_malloc returns NULL */
static bool g_ecall_short_out; /* the "enclave" answers one byte short */
static bool g_ecall_bad_bool;  /* the "enclave" answers 2 for a bool */
static bool g_ecall_dead;      /* the transport fails */
static bool g_ocall_bad_bool;  /* the "host" answers 2 for host_fill's bool */
static uint8_t g_last_in[4096];
static size_t g_last_in_len;

void *vouch_rt_malloc(size_t n)
{
    void *p;

    if (g_heap_fail)
        return NULL;
    p = malloc(n ? n : 1);
    if (p)
        g_heap_live++;
    return p;
}

void *vouch_rt_calloc(size_t count, size_t size)
{
    void *p;

    if (g_heap_fail || (size && count > SIZE_MAX / size))
        return NULL;
    p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        g_heap_live++;
    return p;
}

void *vouch_rt_realloc(void *p, size_t n)
{
    if (g_heap_fail)
        return NULL;
    if (!p)
        return vouch_rt_malloc(n);
    return realloc(p, n ? n : 1);
}

void vouch_rt_free(void *p)
{
    if (p)
        g_heap_live--;
    free(p);
}

/* Moves a call through private exact-size copies of both buffers, as the
 * runtime does between shared and private memory. */
typedef vouch_err (*call_fn)(const void *, size_t, void *, size_t, size_t *);

static vouch_err relay(call_fn fn, const void *in, size_t in_len, void *out, size_t out_cap,
                       size_t *out_len)
{
    void *pin = malloc(in_len ? in_len : 1);
    void *pout = malloc(out_cap ? out_cap : 1);
    size_t n = 0;
    vouch_err rc;

    assert_non_null(pin);
    assert_non_null(pout);
    if (in_len)
        memcpy(pin, in, in_len);
    rc = fn(pin, in_len, pout, out_cap, &n);
    *out_len = 0;
    if (rc == VOUCH_OK) {
        assert_true(n <= out_cap);
        if (n)
            memcpy(out, pout, n);
        *out_len = n;
    }
    free(pin);
    free(pout);
    return rc;
}

vouch_err vouch_enclave_ecall(struct vouch_enclave *e, uint32_t fn, unsigned flags, const void *in,
                              size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    vouch_err rc;

    (void)e;
    g_last_ecall_flags = flags;
    *out_len = 0;
    if (g_ecall_dead)
        return VOUCH_ERR_ENCLAVE;
    if (fn >= g_count)
        return VOUCH_ERR_INVAL;
    if (in_len <= sizeof(g_last_in)) {
        if (in_len)
            memcpy(g_last_in, in, in_len);
        g_last_in_len = in_len;
    }
    rc = relay(g_table[fn].fn, in, in_len, out, out_cap, out_len);
    if (rc == VOUCH_OK && g_ecall_short_out && *out_len > 0)
        (*out_len)--;
    if (rc == VOUCH_OK && g_ecall_bad_bool && *out_len > 0)
        ((uint8_t *)out)[0] = 2;
    return rc;
}

vouch_err vouch_rt_ocall(uint32_t fn, unsigned flags, const void *in, size_t in_len, void *out,
                         size_t out_cap, size_t *out_len)
{
    vouch_err rc;

    g_last_ocall_flags = flags;
    *out_len = 0;
    if (fn >= edl_test_ocall_count)
        return VOUCH_ERR_INVAL;
    rc = relay(edl_test_ocall_table[fn].fn, in, in_len, out, out_cap, out_len);
    if (rc == VOUCH_OK && g_ocall_bad_bool && fn == 2 /* host_fill */ && *out_len > 0)
        ((uint8_t *)out)[0] = 2;
    return rc;
}

/* ---- the host's ocall implementations ------------------------------------- */

static char g_logged[256];

void host_log(const char *line)
{
    snprintf(g_logged, sizeof(g_logged), "%s", line);
}

int host_sum(const int16_t *vals, int n, int *twice)
{
    int s = 0;

    for (int i = 0; i < n; i++)
        s += vals[i];
    *twice = 2 * s;
    return s;
}

bool host_fill(void *buf)
{
    memset(buf, EDL_TEST_FILL_BYTE, 16);
    return true;
}

/* ---- setup ---------------------------------------------------------------- */

enum {
    E_ADD,
    E_NOOP,
    E_NOOP_FAST,
    E_SUM,
    E_STR_LEN,
    E_FILL,
    E_INC,
    E_SCALARS,
    E_CALL_HOST,
    E_MUTATE,
    E_GET_ONE,
    E_BYTES_IN,
    E__COUNT
};
enum { O_LOG, O_SUM, O_FILL, O__COUNT };

static int setup(void **state)
{
    (void)state;
    g_module = dlopen(EDL_TEST_ENCLAVE, RTLD_NOW | RTLD_LOCAL);
    if (!g_module) {
        fprintf(stderr, "dlopen %s: %s\n", EDL_TEST_ENCLAVE, dlerror());
        return -1;
    }
    g_table = dlsym(g_module, "vouch_rt_ecall_table");
    {
        const size_t *count = dlsym(g_module, "vouch_rt_ecall_count");
        if (!g_table || !count)
            return -1;
        g_count = *count;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_module)
        dlclose(g_module);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    g_heap_fail = g_ecall_short_out = g_ecall_bad_bool = g_ecall_dead = g_ocall_bad_bool = false;
    g_heap_live = 0;
    return 0;
}

static int check_heap(void **state)
{
    (void)state;
    /* Every enclave-side allocation was freed, on every path. */
    return g_heap_live == 0 ? 0 : -1;
}

/* A hand-built marshalled buffer. */
struct wire {
    uint8_t b[512];
    size_t n;
};

static void w_put(struct wire *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_u64(struct wire *w, uint64_t v)
{
    w_put(w, &v, 8);
}

static void w_u32(struct wire *w, uint32_t v)
{
    w_put(w, &v, 4);
}

static vouch_err direct(size_t fn, const struct wire *w, void *out, size_t out_cap, size_t *out_len)
{
    assert_true(fn < g_count);
    return relay(g_table[fn].fn, w->b, w->n, out, out_cap, out_len);
}

/* ---- parser: accepted grammar --------------------------------------------- */

static struct vouch_edl *parse_ok(const char *text)
{
    struct vouch_edl *edl = NULL;
    struct vouch_edl_error err;
    vouch_err rc = vouch_edl_parse(text, strlen(text), &edl, &err);

    if (rc != VOUCH_OK)
        fail_msg("parse failed at %u:%u: %s", err.line, err.column, err.message);
    assert_non_null(edl);
    return edl;
}

static void test_parse_test_edl(void **state)
{
    size_t len;
    char *text;
    struct vouch_edl *edl;
    const struct vouch_edl_func *f;

    (void)state;
    text = (char *)vt_read_path(VOUCH_SOURCE_DIR "/tests/unit/edl/edl_test.edl", &len);
    edl = parse_ok(text);
    assert_int_equal(edl->trusted_count, E__COUNT);
    assert_int_equal(edl->untrusted_count, O__COUNT);
    assert_int_equal(edl->include_count, 1);
    assert_string_equal(edl->includes[0], "edl_test_common.h");
    assert_string_equal(edl->trusted[E_NOOP_FAST].name, "noop_fast");
    assert_true(edl->trusted[E_NOOP_FAST].switchless);
    assert_false(edl->trusted[E_NOOP].switchless);
    assert_true(edl->untrusted[O_SUM].switchless);

    f = &edl->trusted[E_SUM];
    assert_int_equal(f->ret, VOUCH_EDL_UINT64);
    assert_int_equal(f->param_count, 2);
    assert_true(f->params[0].pointer);
    assert_true(f->params[0].is_const);
    assert_int_equal(f->params[0].type, VOUCH_EDL_UINT32);
    assert_int_equal(f->params[0].dir, VOUCH_EDL_IN);
    assert_int_equal(f->params[0].count.kind, VOUCH_EDL_BOUND_PARAM);
    assert_int_equal(f->params[0].count.param, 1);
    assert_int_equal(f->params[1].type, VOUCH_EDL_SIZE);
    assert_int_equal(f->params[0].line, 9);
    assert_int_equal(f->params[0].column, 29);

    f = &edl->trusted[E_INC];
    assert_int_equal(f->params[0].dir, VOUCH_EDL_IN | VOUCH_EDL_OUT);
    assert_int_equal(f->params[0].count.kind, VOUCH_EDL_BOUND_CONST);
    assert_int_equal(f->params[0].count.value, 4);
    assert_true(edl->trusted[E_STR_LEN].params[0].string);
    assert_int_equal(edl->trusted[E_FILL].params[0].type, VOUCH_EDL_VOID);
    assert_int_equal(edl->trusted[E_FILL].params[0].size.kind, VOUCH_EDL_BOUND_PARAM);
    assert_int_equal(edl->trusted[E_GET_ONE].params[0].dir, VOUCH_EDL_OUT);
    assert_int_equal(edl->trusted[E_GET_ONE].params[0].count.kind, VOUCH_EDL_BOUND_NONE);
    assert_int_equal(edl->trusted[E_SCALARS].param_count, 13);
    assert_int_equal(edl->trusted[E_SCALARS].params[9].type, VOUCH_EDL_UNSIGNED);
    assert_int_equal(edl->trusted[E_SCALARS].params[10].type, VOUCH_EDL_UNSIGNED);
    vouch_edl_free(edl);
    free(text);
}

static void test_parse_variants(void **state)
{
    struct vouch_edl *edl;

    (void)state;
    /* Byte-order mark, comments, no final ';', empty and repeated sections,
     * hex constants, "(void)" against "(void *p)". */
    edl = parse_ok("\xEF\xBB\xBF// leading comment\n"
                   "enclave { /* block\n comment */\n"
                   "  trusted { };\n"
                   "  untrusted { };\n"
                   "  trusted {\n"
                   "    public void a(void);\n"
                   "    public void b([in, size=4] const void *p);\n"
                   "    public unsigned c([out, count=0x10] uint16_t *p);\n"
                   "    public char d(char x, bool y) transition_using_threads;\n"
                   "    public float e([in, out, size=n] char *buf, uint32_t n);\n"
                   "  };\n"
                   "  include \"a/b-c+d.h\";\n"
                   "  include \"x.h\"\n"
                   "}");
    assert_int_equal(edl->trusted_count, 5);
    assert_int_equal(edl->untrusted_count, 0);
    assert_int_equal(edl->include_count, 2);
    assert_string_equal(edl->includes[0], "a/b-c+d.h");
    assert_int_equal(edl->trusted[0].param_count, 0);
    assert_int_equal(edl->trusted[1].param_count, 1);
    assert_int_equal(edl->trusted[1].params[0].size.value, 4);
    assert_int_equal(edl->trusted[2].params[0].count.value, 16);
    assert_int_equal(edl->trusted[2].ret, VOUCH_EDL_UNSIGNED);
    assert_true(edl->trusted[3].switchless);
    assert_int_equal(edl->trusted[3].params[1].type, VOUCH_EDL_BOOL);
    assert_int_equal(edl->trusted[4].params[0].size.param, 1);
    assert_int_equal(edl->trusted[4].line, 11);
    vouch_edl_free(edl);

    /* A length parameter may come after the pointer it sizes. */
    edl = parse_ok("enclave { untrusted { int f([out, count=n] int64_t *p, int n); }; };");
    assert_int_equal(edl->untrusted[0].params[0].count.param, 1);
    vouch_edl_free(edl);

    /* NULL with a zero length is an empty input, not a crash. */
    {
        struct vouch_edl_error err;
        assert_int_equal(vouch_edl_parse(NULL, 0, &edl, &err), VOUCH_ERR_PARSE);
        assert_null(edl);
        assert_int_equal(err.line, 1);
    }
}

/* ---- parser: errors -------------------------------------------------------- */

struct bad_case {
    const char *text;
    vouch_err rc;
    unsigned line, column;
    const char *msg; /* substring of the message */
};

#define T(body) "enclave { trusted { " body " }; };"
/* In T(...), the body starts at column 21. */
static const struct bad_case bad_cases[] = {
    {"", VOUCH_ERR_PARSE, 1, 1, "expected 'enclave'"},
    {"enclave", VOUCH_ERR_PARSE, 1, 8, "expected '{' after 'enclave', found end of file"},
    {"enclave {\n  trusted {\n    public int f(int a)\n  };\n};", VOUCH_ERR_PARSE, 4, 3,
     "expected ';' after the function declaration, found '}'"},
    {T("int f();"), VOUCH_ERR_PARSE, 1, 21, "expected 'public'"},
    {T("private int f();"), VOUCH_ERR_UNSUPPORTED, 1, 21, "private ecalls"},
    {"enclave { untrusted { public int f(); }; };", VOUCH_ERR_PARSE, 1, 23, "untrusted functions"},
    {T("public int f(int *p);"), VOUCH_ERR_PARSE, 1, 34, "needs a direction"},
    {T("public int f([string, out] char *p);"), VOUCH_ERR_UNSUPPORTED, 1, 34,
     "[string] may only be [in]"},
    {T("public int f([in, string] int *p);"), VOUCH_ERR_PARSE, 1, 34, "char pointers only"},
    {T("public int f([in, string, size=4] const char *p);"), VOUCH_ERR_PARSE, 1, 34,
     "measures its own length"},
    {T("public int f([in, size=4, count=2] const int *p);"), VOUCH_ERR_PARSE, 1, 34, "not both"},
    {T("public int f([in, count=m] const int *p, int n);"), VOUCH_ERR_PARSE, 1, 45,
     "no parameter named 'm'"},
    {T("public int f([in, count=d] const int *p, double d);"), VOUCH_ERR_PARSE, 1, 45,
     "must be an integer scalar"},
    {T("public int f([in, count=p] const int *p);"), VOUCH_ERR_PARSE, 1, 45, "its own length"},
    {T("public int f([in, count=q] const int *p, [in] const int *q);"), VOUCH_ERR_PARSE, 1, 45,
     "must be an integer scalar"},
    {T("public int f([in] const void *p);"), VOUCH_ERR_PARSE, 1, 34, "needs size="},
    {T("public int f([in, count=2] const void *p);"), VOUCH_ERR_PARSE, 1, 34, "needs size="},
    {T("public int f([user_check] void *p);"), VOUCH_ERR_UNSUPPORTED, 1, 35, "user_check"},
    {T("public int f([in, isptr] int *p);"), VOUCH_ERR_UNSUPPORTED, 1, 39, "isptr"},
    {T("public int f([in, bogus] int *p);"), VOUCH_ERR_PARSE, 1, 39, "expected an attribute"},
    {T("public int f([in, in] int *p);"), VOUCH_ERR_PARSE, 1, 39, "given twice"},
    {T("public int f([in, count=1, count=2] int *p);"), VOUCH_ERR_PARSE, 1, 48, "given twice"},
    {T("public int f([in int *p);"), VOUCH_ERR_PARSE, 1, 38, "expected ',' or ']'"},
    {T("public long f();"), VOUCH_ERR_UNSUPPORTED, 1, 28, "fixed-width"},
    {T("public int f(short s);"), VOUCH_ERR_UNSUPPORTED, 1, 34, "fixed-width"},
    {T("public int f(wchar_t c);"), VOUCH_ERR_UNSUPPORTED, 1, 34, "not supported"},
    {T("public int f(struct s x);"), VOUCH_ERR_UNSUPPORTED, 1, 34, "not supported"},
    {T("public int f(mytype x);"), VOUCH_ERR_PARSE, 1, 34,
     "expected a parameter type, found 'mytype'"},
    {T("public int f(); public void f();"), VOUCH_ERR_PARSE, 1, 37, "'f' declared twice"},
    {"enclave { trusted { public int f(); }; untrusted { void f(); }; };", VOUCH_ERR_PARSE, 1, 52,
     "'f' declared twice"},
    {T("public int f(int a, int a);"), VOUCH_ERR_PARSE, 1, 41, "'a' declared twice"},
    {T("public int f(int a, );"), VOUCH_ERR_PARSE, 1, 41, "expected a parameter after ','"},
    {T("public int f(int a"), VOUCH_ERR_PARSE, 1, 40, "expected ',' or ')'"},
    {T("public int *f();"), VOUCH_ERR_UNSUPPORTED, 1, 32, "cannot return pointers"},
    {T("public int f([in] int **p);"), VOUCH_ERR_UNSUPPORTED, 1, 44, "pointers to pointers"},
    {T("public int f([in] int * const p);"), VOUCH_ERR_UNSUPPORTED, 1, 45, "const pointers"},
    {T("public int f(int const a);"), VOUCH_ERR_PARSE, 1, 38, "before the type"},
    {T("public int f(int a[4]);"), VOUCH_ERR_UNSUPPORTED, 1, 39, "fixed arrays"},
    {T("public int f(void x);"), VOUCH_ERR_PARSE, 1, 34, "cannot have type void"},
    {T("public int f([in] int a);"), VOUCH_ERR_PARSE, 1, 34, "pointer parameters only"},
    {T("public int f(const int a);"), VOUCH_ERR_PARSE, 1, 34, "pointer parameters only"},
    {T("public int f([out] const int *p);"), VOUCH_ERR_PARSE, 1, 34, "cannot point to const"},
    {T("public int f([in] bool *p);"), VOUCH_ERR_UNSUPPORTED, 1, 34, "bool"},
    {T("public int f([in, count=0] const int *p);"), VOUCH_ERR_PARSE, 1, 45, "must be positive"},
    {T("public int f([in, count=010] const int *p);"), VOUCH_ERR_PARSE, 1, 45, "octal"},
    {T("public int f([in, count=0x] const int *p);"), VOUCH_ERR_PARSE, 1, 45, "hexadecimal"},
    {T("public int f([in, count=12ab] const int *p);"), VOUCH_ERR_PARSE, 1, 45, "suffixes"},
    {T("public int f([in, count=99999999999999999999] const int *p);"), VOUCH_ERR_TOO_LARGE, 1, 45,
     "64 bits"},
    {T("public int f([in, count=0x4000000000000000] const int *p);"), VOUCH_ERR_TOO_LARGE, 1, 34,
     "call limit"},
    {T("public int f([in, size=0x4000001] const void *p);"), VOUCH_ERR_TOO_LARGE, 1, 34,
     "call limit"},
    {T("public int f([in, size=-1] const void *p);"), VOUCH_ERR_PARSE, 1, 44,
     "unexpected character '-'"},
    {T("public int f() allow(g);"), VOUCH_ERR_UNSUPPORTED, 1, 36, "allow"},
    {T("public int f() propagate_errno;"), VOUCH_ERR_UNSUPPORTED, 1, 36, "propagate_errno"},
    {T("public int f() transition_using_threads transition_using_threads;"), VOUCH_ERR_PARSE, 1, 61,
     "given twice"},
    {T("public int vouch_f();"), VOUCH_ERR_PARSE, 1, 32, "reserved"},
    {T("public int __f();"), VOUCH_ERR_PARSE, 1, 32, "reserved"},
    {T("public int _F();"), VOUCH_ERR_PARSE, 1, 32, "reserved"},
    {T("public int f(int memcpy);"), VOUCH_ERR_PARSE, 1, 38, "reserved word"},
    {T("public int return();"), VOUCH_ERR_PARSE, 1, 32, "reserved word"},
    {T("public int f(int errno);"), VOUCH_ERR_PARSE, 1, 38, "reserved word"},
    {"enclave { trusted { public int f() @; }; };", VOUCH_ERR_PARSE, 1, 36,
     "unexpected character '@'"},
    {"enclave { trusted { public int f()\x01; }; };", VOUCH_ERR_PARSE, 1, 35, "byte 0x01"},
    {"enclave {\n /* never closed\n", VOUCH_ERR_PARSE, 2, 2, "unterminated comment"},
    {"enclave {\n  include \"abc\n\"; };", VOUCH_ERR_PARSE, 2, 11, "unterminated string"},
    {"enclave { include \"a b.h\" };", VOUCH_ERR_PARSE, 1, 19, "may hold only"},
    {"enclave { include \"\" };", VOUCH_ERR_PARSE, 1, 19, "1 to"},
    {"enclave { include abc };", VOUCH_ERR_PARSE, 1, 19, "quoted file name"},
    {"enclave { from \"x.edl\" import *; };", VOUCH_ERR_UNSUPPORTED, 1, 11, "importing"},
    {"enclave { struct s { int a; }; };", VOUCH_ERR_UNSUPPORTED, 1, 11, "definitions"},
    {"enclave { bogus };", VOUCH_ERR_PARSE, 1, 11, "expected 'trusted', 'untrusted'"},
    {"enclave { trusted { public void f(); ", VOUCH_ERR_PARSE, 1, 38, "to close the trusted"},
    {"enclave { trusted { public void f(); } };", VOUCH_ERR_PARSE, 1, 40,
     "after the trusted section"},
    {"enclave { }; enclave { };", VOUCH_ERR_PARSE, 1, 14, "after the enclave block"},
    {"enclave { } }", VOUCH_ERR_PARSE, 1, 13, "after the enclave block"},
    {"enclove { };", VOUCH_ERR_PARSE, 1, 1, "expected 'enclave' at the start"},
};

static void test_parse_errors(void **state)
{
    unsigned failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct vouch_edl *edl = (struct vouch_edl *)1;
        struct vouch_edl_error err;
        vouch_err rc = vouch_edl_parse(c->text, strlen(c->text), &edl, &err);

        /* Report every mismatch, then fail once. */
        if (rc != c->rc || err.line != c->line || err.column != c->column ||
            !strstr(err.message, c->msg) || edl) {
            print_error("case %zu (%s): got %s at %u:%u \"%s\", want %s at %u:%u \"%s\"\n", i,
                        c->text, vouch_err_name(rc), err.line, err.column, err.message,
                        vouch_err_name(c->rc), c->line, c->column, c->msg);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* A NUL byte inside the text is an error at its place, not the end. */
static void test_parse_nul_byte(void **state)
{
    static const char text[] = "enclave {\n\0 };";
    struct vouch_edl *edl = NULL;
    struct vouch_edl_error err;

    (void)state;
    assert_int_equal(vouch_edl_parse(text, sizeof(text) - 1, &edl, &err), VOUCH_ERR_PARSE);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.message, "byte 0x00"));
}

static void test_parse_limits(void **state)
{
    struct vouch_buf b;
    struct vouch_edl *edl = NULL;
    struct vouch_edl_error err;

    (void)state;
    /* Identifier one byte over the limit. */
    vouch_buf_init(&b, 1u << 20);
    assert_int_equal(vouch_buf_append_str(&b, "enclave { trusted { public int "), VOUCH_OK);
    for (unsigned i = 0; i <= VOUCH_MAX_EDL_IDENT; i++)
        assert_int_equal(vouch_buf_append_str(&b, "x"), VOUCH_OK);
    assert_int_equal(vouch_buf_append_str(&b, "(); }; };"), VOUCH_OK);
    assert_int_equal(vouch_edl_parse((char *)b.data, b.len, &edl, &err), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(err.column, 32);
    vouch_buf_free(&b);

    /* Exactly the parameter limit parses; one more does not. */
    for (unsigned extra = 0; extra < 2; extra++) {
        vouch_buf_init(&b, 1u << 20);
        assert_int_equal(vouch_buf_append_str(&b, "enclave { trusted { public int f("), VOUCH_OK);
        for (unsigned i = 0; i < VOUCH_MAX_EDL_PARAMS + extra; i++)
            assert_int_equal(vouch_buf_printf(&b, "%sint p%u", i ? ", " : "", i), VOUCH_OK);
        assert_int_equal(vouch_buf_append_str(&b, "); }; };"), VOUCH_OK);
        assert_int_equal(vouch_edl_parse((char *)b.data, b.len, &edl, &err),
                         extra ? VOUCH_ERR_TOO_LARGE : VOUCH_OK);
        if (!extra)
            assert_int_equal(edl->trusted[0].param_count, VOUCH_MAX_EDL_PARAMS);
        vouch_edl_free(edl);
        edl = NULL;
        vouch_buf_free(&b);
    }

    /* Exactly the function limit parses; one more does not. */
    for (unsigned extra = 0; extra < 2; extra++) {
        vouch_buf_init(&b, 1u << 20);
        assert_int_equal(vouch_buf_append_str(&b, "enclave { untrusted {\n"), VOUCH_OK);
        for (unsigned i = 0; i < VOUCH_MAX_EDL_FUNCS + extra; i++)
            assert_int_equal(vouch_buf_printf(&b, "void f%u(int a);\n", i), VOUCH_OK);
        assert_int_equal(vouch_buf_append_str(&b, "}; };"), VOUCH_OK);
        assert_int_equal(vouch_edl_parse((char *)b.data, b.len, &edl, &err),
                         extra ? VOUCH_ERR_TOO_LARGE : VOUCH_OK);
        if (extra)
            assert_int_equal(err.line, VOUCH_MAX_EDL_FUNCS + 2);
        else
            assert_int_equal(edl->untrusted_count, VOUCH_MAX_EDL_FUNCS);
        vouch_edl_free(edl);
        edl = NULL;
        vouch_buf_free(&b);
    }

    /* Include lines. */
    vouch_buf_init(&b, 1u << 20);
    assert_int_equal(vouch_buf_append_str(&b, "enclave {\n"), VOUCH_OK);
    for (unsigned i = 0; i <= VOUCH_MAX_EDL_INCLUDES; i++)
        assert_int_equal(vouch_buf_printf(&b, "include \"h%u.h\"\n", i), VOUCH_OK);
    assert_int_equal(vouch_buf_append_str(&b, "};"), VOUCH_OK);
    assert_int_equal(vouch_edl_parse((char *)b.data, b.len, &edl, &err), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(err.line, VOUCH_MAX_EDL_INCLUDES + 2);
    vouch_buf_free(&b);

    /* The whole text. */
    {
        size_t n = VOUCH_MAX_EDL_SIZE + 1;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, ' ', n);
        assert_int_equal(vouch_edl_parse(big, n, &edl, &err), VOUCH_ERR_TOO_LARGE);
        assert_null(edl);
        free(big);
    }
}

/* ---- generator ------------------------------------------------------------- */

static void test_emit(void **state)
{
    size_t len;
    char *text;
    struct vouch_edl *edl;
    struct vouch_buf b;

    (void)state;
    text = (char *)vt_read_path(VOUCH_SOURCE_DIR "/tests/unit/edl/edl_test.edl", &len);
    edl = parse_ok(text);
    free(text);

    vouch_buf_init(&b, VOUCH_MAX_EDL_OUTPUT);
    assert_int_equal(vouch_edl_emit(edl, "edl_test", VOUCH_EDL_ENCLAVE_SOURCE, &b), VOUCH_OK);
    assert_non_null(
        strstr((char *)b.data, "const struct vouch_rt_ecall_entry vouch_rt_ecall_table[]"));
    assert_non_null(strstr((char *)b.data, "{vouch_edl_ecall_noop_fast, VOUCH_CALL_SWITCHLESS},"));
    assert_non_null(strstr((char *)b.data, "const size_t vouch_rt_ecall_count = 12u;"));
    vouch_buf_free(&b);

    vouch_buf_init(&b, VOUCH_MAX_EDL_OUTPUT);
    assert_int_equal(vouch_edl_emit(edl, "edl_test", VOUCH_EDL_HOST_HEADER, &b), VOUCH_OK);
    assert_non_null(strstr((char *)b.data, "vouch_err sum(struct vouch_enclave *vouch_e, uint64_t "
                                           "*vouch_retval, const uint32_t *v, size_t n);"));
    assert_non_null(strstr((char *)b.data, "#include \"edl_test_common.h\""));
    assert_non_null(strstr((char *)b.data, "extern const size_t edl_test_ocall_count;"));
    vouch_buf_free(&b);

    /* The base name becomes C identifiers. */
    vouch_buf_init(&b, VOUCH_MAX_EDL_OUTPUT);
    assert_int_equal(vouch_edl_emit(edl, "1abc", VOUCH_EDL_HOST_HEADER, &b), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_edl_emit(edl, "a-b", VOUCH_EDL_HOST_HEADER, &b), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_edl_emit(edl, "", VOUCH_EDL_HOST_HEADER, &b), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_edl_emit(edl, "ok", (enum vouch_edl_file)9, &b), VOUCH_ERR_INVAL);
    vouch_buf_free(&b);
    /* Output that does not fit the buffer's cap is an error, not a cut file. */
    vouch_buf_init(&b, 100);
    assert_int_equal(vouch_edl_emit(edl, "edl_test", VOUCH_EDL_HOST_SOURCE, &b),
                     VOUCH_ERR_TOO_LARGE);
    vouch_buf_free(&b);
    vouch_edl_free(edl);

    /* An interface without ocalls or ecalls still gives valid tables. */
    edl = parse_ok("enclave { };");
    vouch_buf_init(&b, VOUCH_MAX_EDL_OUTPUT);
    assert_int_equal(vouch_edl_emit(edl, "empty", VOUCH_EDL_HOST_SOURCE, &b), VOUCH_OK);
    assert_non_null(strstr((char *)b.data, "const size_t empty_ocall_count = 0u;"));
    vouch_buf_free(&b);
    vouch_edl_free(edl);
}

/* ---- round trips through the generated stubs -------------------------------- */

static struct vouch_enclave *const E = NULL; /* the fake transport ignores it */

static void test_roundtrip_scalars(void **state)
{
    int r = 0;
    bool ok = false;

    (void)state;
    assert_int_equal(add(E, &r, 2, 40), VOUCH_OK);
    assert_int_equal(r, 42);
    assert_int_equal(add(E, &r, -7, 3), VOUCH_OK);
    assert_int_equal(r, -4);
    assert_int_equal(add(E, NULL, 1, 1), VOUCH_OK);
    assert_int_equal(g_last_ecall_flags, 0);

    assert_int_equal(noop(E), VOUCH_OK);
    assert_int_equal(g_last_ecall_flags, 0);
    assert_int_equal(noop_fast(E), VOUCH_OK);
    assert_int_equal(g_last_ecall_flags, VOUCH_CALL_SWITCHLESS);

    assert_int_equal(scalars(E, &ok, 1.5, -2.25f, true, 'x', -8, -16, -64000000000LL, 200, 65000,
                             4000000000u, 7u, UINT64_C(18000000000000000000), -32),
                     VOUCH_OK);
    assert_true(ok);
    assert_int_equal(scalars(E, &ok, 1.5, -2.25f, false, 'x', -8, -16, -64000000000LL, 200, 65000,
                             4000000000u, 7u, UINT64_C(18000000000000000000), -32),
                     VOUCH_OK);
    assert_false(ok);
    /* The marshalled size is the sum of the wire sizes: 8+4+1+1+1+2+8+1+2+4+4+8+4. */
    assert_int_equal(g_last_in_len, 48);
}

static void test_roundtrip_buffers(void **state)
{
    uint32_t v[1000];
    uint64_t s = 0, want = 0;
    size_t n = 0;
    uint8_t buf[300];
    int r = 0;
    int32_t four[4] = {1, 2, 3, -1};
    int64_t m[3] = {1, 2, 3};
    int64_t ms = 0;
    char longstr[600];

    (void)state;
    for (size_t i = 0; i < 1000; i++) {
        v[i] = (uint32_t)(i * 7919u);
        want += v[i];
    }
    /* 4008 bytes: the stub's heap path, not its stack buffer. */
    assert_int_equal(sum(E, &s, v, 1000), VOUCH_OK);
    assert_int_equal(s, want);
    assert_int_equal(sum(E, &s, v, 1), VOUCH_OK);
    assert_int_equal(s, 0);
    /* A zero length may come with NULL; a non-zero one may not. */
    assert_int_equal(sum(E, &s, NULL, 0), VOUCH_OK);
    assert_int_equal(s, 0);
    assert_int_equal(sum(E, &s, NULL, 3), VOUCH_ERR_INVAL);
    /* Too many elements for the call limit: refused before anything is sent. */
    g_last_in_len = 0;
    assert_int_equal(sum(E, &s, v, SIZE_MAX / 2), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(g_last_in_len, 0);

    assert_int_equal(str_len(E, &n, "hello"), VOUCH_OK);
    assert_int_equal(n, 5);
    assert_int_equal(str_len(E, &n, ""), VOUCH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(str_len(E, &n, NULL), VOUCH_ERR_INVAL);
    memset(longstr, 'q', sizeof(longstr) - 1);
    longstr[sizeof(longstr) - 1] = '\0';
    assert_int_equal(str_len(E, &n, longstr), VOUCH_OK);
    assert_int_equal(n, sizeof(longstr) - 1);

    /* [out]: arrives zeroed in the enclave (fill checks), comes back filled. */
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(fill(E, &r, buf, 10, 0x33), VOUCH_OK);
    assert_int_equal(r, 10);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(buf[i], 0x33);
    assert_int_equal(buf[10], 0xee);
    assert_int_equal(fill(E, &r, buf, sizeof(buf), 0x44), VOUCH_OK);
    assert_int_equal(r, (int)sizeof(buf));
    assert_int_equal(buf[sizeof(buf) - 1], 0x44);
    assert_int_equal(fill(E, &r, NULL, 0, 0x44), VOUCH_OK);
    assert_int_equal(r, 0);

    /* [in, out]. */
    assert_int_equal(inc(E, four), VOUCH_OK);
    assert_int_equal(four[0], 2);
    assert_int_equal(four[3], 0);
    assert_int_equal(inc(E, NULL), VOUCH_ERR_INVAL);

    /* A non-const [in] buffer is copied: the enclave's writes stay there. */
    assert_int_equal(mutate(E, &ms, m, 3), VOUCH_OK);
    assert_int_equal(ms, 12);
    assert_int_equal(m[0], 1);
    assert_int_equal(m[2], 3);

    /* [out] with the default count of one. */
    r = 0;
    assert_int_equal(get_one(E, NULL, &r), VOUCH_OK);
    assert_int_equal(r, EDL_TEST_ONE);

    {
        uint8_t key[16];
        memset(key, 7, sizeof(key));
        assert_int_equal(bytes_in(E, key), VOUCH_OK);
        assert_int_equal(g_last_in_len, 8 + 16);
    }
}

static void test_roundtrip_ocalls(void **state)
{
    int16_t vals[3] = {10, -2, 30};
    int r = 0;

    (void)state;
    g_logged[0] = '\0';
    assert_int_equal(call_host(E, &r, "hello host", vals, 3), VOUCH_OK);
    assert_int_equal(r, 38);
    assert_string_equal(g_logged, "hello host");
    /* host_fill was the last ocall and is not switchless. */
    assert_int_equal(g_last_ocall_flags, 0);

    /* The host answers a bool with 2: the enclave-side ocall stub refuses
     * it (call_host sees the error from host_fill and returns -4). */
    g_ocall_bad_bool = true;
    assert_int_equal(call_host(E, &r, "x", vals, 3), VOUCH_OK);
    assert_int_equal(r, -4);
    g_ocall_bad_bool = false;

    /* The enclave's ocall stub refuses a negative count itself. */
    assert_int_equal(call_host(E, &r, "x", vals, -1), VOUCH_ERR_INVAL);
}

/* The host-side stubs refuse answers of the wrong shape. */
static void test_host_checks_answers(void **state)
{
    int r = 12345;
    bool ok = true;
    uint8_t buf[8] = {0};

    (void)state;
    g_ecall_short_out = true;
    assert_int_equal(add(E, &r, 1, 2), VOUCH_ERR_ENCLAVE);
    assert_int_equal(r, 12345);
    assert_int_equal(fill(E, &r, buf, 8, 1), VOUCH_ERR_ENCLAVE);
    assert_int_equal(buf[0], 0);
    g_ecall_short_out = false;

    g_ecall_bad_bool = true;
    assert_int_equal(scalars(E, &ok, 1.5, -2.25f, true, 'x', -8, -16, -64000000000LL, 200, 65000,
                             4000000000u, 7u, UINT64_C(18000000000000000000), -32),
                     VOUCH_ERR_ENCLAVE);
    assert_true(ok);
    g_ecall_bad_bool = false;

    g_ecall_dead = true;
    assert_int_equal(add(E, &r, 1, 2), VOUCH_ERR_ENCLAVE);
    assert_int_equal(r, 12345);
    g_ecall_dead = false;

    /* The enclave heap is full: the enclave-side stub cannot allocate the
     * [out] buffer and says so. */
    g_heap_fail = true;
    assert_int_equal(fill(E, &r, buf, 8, 1), VOUCH_ERR_NOMEM);
    g_heap_fail = false;
}

/* ---- malicious buffers against the enclave-side stubs ----------------------- */

static void test_reject_truncated(void **state)
{
    struct wire w = {.n = 0};
    uint8_t out[64];
    size_t out_len = 99;

    (void)state;
    w_u32(&w, 5);
    w_u32(&w, 6);
    assert_int_equal(direct(E_ADD, &w, out, sizeof(out), &out_len), VOUCH_OK);
    assert_int_equal(out_len, 4);
    {
        int r;
        memcpy(&r, out, 4);
        assert_int_equal(r, 11);
    }
    /* Every shorter prefix and one trailing byte are refused. */
    for (size_t n = 0; n < 8; n++) {
        struct wire t = w;
        t.n = n;
        assert_int_equal(direct(E_ADD, &t, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
        assert_int_equal(out_len, 0);
    }
    w.b[w.n++] = 0;
    assert_int_equal(direct(E_ADD, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    /* Input to a function without parameters. */
    assert_int_equal(direct(E_NOOP, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    /* No room for the result: TOO_LARGE with the size needed, before the call. */
    w.n = 8;
    assert_int_equal(g_table[E_ADD].fn(w.b, w.n, out, 3, &out_len), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(out_len, 4);
    assert_int_equal(g_table[E_ADD].fn(w.b, w.n, out, 4, NULL), VOUCH_ERR_INVAL);
    assert_int_equal(g_table[E_ADD].fn(w.b, w.n, NULL, 4, &out_len), VOUCH_ERR_INVAL);
    /* NULL input of length zero. */
    assert_int_equal(g_table[E_NOOP].fn(NULL, 0, NULL, 0, &out_len), VOUCH_OK);
    assert_int_equal(g_table[E_ADD].fn(NULL, 0, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
}

static void sum_wire(struct wire *w, uint64_t len, size_t data, uint64_t n)
{
    w->n = 0;
    w_u64(w, len);
    for (size_t i = 0; i < data; i++)
        w->b[w->n++] = (uint8_t)(i + 1);
    w_u64(w, n);
}

static void test_reject_lengths(void **state)
{
    struct wire w;
    uint8_t out[64];
    size_t out_len = 0;
    uint64_t s;

    (void)state;
    sum_wire(&w, 8, 8, 2);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_OK);
    memcpy(&s, out, 8);
    assert_int_equal(s, 0x04030201u + 0x08070605u);

    /* Length does not match count * sizeof(uint32_t). */
    sum_wire(&w, 8, 8, 3);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    sum_wire(&w, 8, 8, 1);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    /* Declared length past the end of the buffer. */
    sum_wire(&w, 16, 8, 4);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    sum_wire(&w, 1u << 20, 8, 2);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    /* Lengths above the call limit, and the largest ones. */
    sum_wire(&w, (uint64_t)VOUCH_MAX_ENCLAVE_CALL_BYTES + 4, 8, 2);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);
    sum_wire(&w, UINT64_MAX, 8, 2);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);
    /* A count whose byte size wraps around 64 bits to exactly the bytes sent:
     * (2^62 + 1) * 4 == 4 (mod 2^64). */
    sum_wire(&w, 4, 4, (UINT64_C(1) << 62) + 1);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);
    sum_wire(&w, 0, 0, UINT64_MAX);
    assert_int_equal(direct(E_SUM, &w, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);

    /* [in, out, count=4] int32_t: exactly 16 bytes. */
    for (uint64_t len = 12; len <= 20; len += 4) {
        w.n = 0;
        w_u64(&w, len);
        for (uint64_t i = 0; i < len; i++)
            w.b[w.n++] = 0;
        assert_int_equal(direct(E_INC, &w, out, sizeof(out), &out_len),
                         len == 16 ? VOUCH_OK : VOUCH_ERR_INVAL);
    }
    /* [in, size=16] const void: exactly 16 bytes. */
    w.n = 0;
    w_u64(&w, 17);
    for (int i = 0; i < 17; i++)
        w.b[w.n++] = 1;
    assert_int_equal(direct(E_BYTES_IN, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    /* [out] int with the default count: the declared length must be 4. */
    w.n = 0;
    w_u64(&w, 8);
    assert_int_equal(direct(E_GET_ONE, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    w.n = 0;
    w_u64(&w, 0);
    assert_int_equal(direct(E_GET_ONE, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    w.n = 0;
    w_u64(&w, 4);
    assert_int_equal(direct(E_GET_ONE, &w, out, sizeof(out), &out_len), VOUCH_OK);
    assert_int_equal(out_len, 8);
}

static void fill_wire(struct wire *w, uint64_t len, uint64_t size_param)
{
    w->n = 0;
    w_u64(w, len);
    w_u64(w, size_param);
    w->b[w->n++] = 0x11;
}

static void test_reject_out_lengths(void **state)
{
    struct wire w;
    uint8_t out[256];
    size_t out_len = 0;

    (void)state;
    fill_wire(&w, 100, 100);
    assert_int_equal(direct(E_FILL, &w, out, sizeof(out), &out_len), VOUCH_OK);
    assert_int_equal(out_len, 104);
    assert_int_equal(out[4], 0x11);
    /* The [out] length disagrees with its size parameter. */
    fill_wire(&w, 100, 101);
    assert_int_equal(direct(E_FILL, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    /* An [out] length above the call limit: refused before allocating. */
    fill_wire(&w, (uint64_t)VOUCH_MAX_ENCLAVE_CALL_BYTES + 1,
              (uint64_t)VOUCH_MAX_ENCLAVE_CALL_BYTES + 1);
    assert_int_equal(direct(E_FILL, &w, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);
    fill_wire(&w, UINT64_MAX, UINT64_MAX);
    assert_int_equal(direct(E_FILL, &w, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);
    /* An [out] length within the limit but more than the output can carry:
     * TOO_LARGE with the size needed, and the function is not run. */
    fill_wire(&w, 1u << 20, 1u << 20);
    out_len = 0;
    assert_int_equal(g_table[E_FILL].fn(w.b, w.n, out, sizeof(out), &out_len), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(out_len, 4 + (1u << 20));
    assert_int_equal(g_heap_live, 0);
}

static void test_reject_strings(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        vouch_err rc;
    } cases[] = {
        {"hello", 6, VOUCH_OK},         {"", 1, VOUCH_OK},
        {"hello", 5, VOUCH_ERR_INVAL},  /* no NUL */
        {"he\0lo", 6, VOUCH_ERR_INVAL}, /* NUL before the end */
        {"\0\0", 2, VOUCH_ERR_INVAL},   /* NUL before the end */
        {"", 0, VOUCH_ERR_INVAL},       /* no string at all */
        {"abc\0", 3, VOUCH_ERR_INVAL},  /* length stops before the NUL */
    };
    uint8_t out[16];
    size_t out_len;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wire w = {.n = 0};
        w_u64(&w, cases[i].len);
        w_put(&w, cases[i].bytes, cases[i].len);
        assert_int_equal(direct(E_STR_LEN, &w, out, sizeof(out), &out_len), cases[i].rc);
        if (cases[i].rc == VOUCH_OK) {
            size_t n;
            memcpy(&n, out, 8);
            assert_int_equal(n, cases[i].len - 1);
        }
    }
    /* The host side checks the enclave's ocall strings the same way. */
    {
        struct wire w = {.n = 0};
        w_u64(&w, 3);
        w_put(&w, "abc", 3);
        assert_int_equal(
            relay(edl_test_ocall_table[O_LOG].fn, w.b, w.n, out, sizeof(out), &out_len),
            VOUCH_ERR_INVAL);
    }
}

static void test_reject_scalars(void **state)
{
    struct wire w = {.n = 0};
    uint8_t out[16];
    size_t out_len;
    double d = 1.5;
    float f = -2.25f;
    uint8_t flag = 2;

    (void)state;
    /* A bool that is neither 0 nor 1. */
    w_put(&w, &d, 8);
    w_put(&w, &f, 4);
    w_put(&w, &flag, 1);
    while (w.n < 48)
        w.b[w.n++] = 0;
    assert_int_equal(direct(E_SCALARS, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);
    w.b[12] = 1;
    assert_int_equal(direct(E_SCALARS, &w, out, sizeof(out), &out_len), VOUCH_OK);
    assert_int_equal(out_len, 1);
    assert_int_equal(out[0], 0);

    /* A negative count. */
    w.n = 0;
    w_u64(&w, 2);
    w_put(&w, "x", 2);
    w_u64(&w, 0);
    w_u32(&w, (uint32_t)-1);
    assert_int_equal(direct(E_CALL_HOST, &w, out, sizeof(out), &out_len), VOUCH_ERR_INVAL);

    /* The host's ocall dispatcher: count and length disagree. */
    w.n = 0;
    w_u64(&w, 4);
    w_u32(&w, 0x00050004);
    w_u32(&w, 3);
    w_u64(&w, 4);
    assert_int_equal(relay(edl_test_ocall_table[O_SUM].fn, w.b, w.n, out, sizeof(out), &out_len),
                     VOUCH_ERR_INVAL);
    w.b[12] = 2;
    assert_int_equal(relay(edl_test_ocall_table[O_SUM].fn, w.b, w.n, out, sizeof(out), &out_len),
                     VOUCH_OK);
    assert_int_equal(out_len, 8);
}

/* Random corruption of valid calls: every answer is a clean error or a
 * result, never a crash (ASan/UBSan watch the accesses). */
static void test_mutated_calls(void **state)
{
    uint8_t captured[E__COUNT][512];
    size_t captured_len[E__COUNT];
    uint8_t out[512];
    size_t out_len;
    uint32_t rng = 12345;
    uint32_t v[3] = {1, 2, 3};
    uint8_t buf[32];
    int32_t four[4] = {0};
    int64_t m[2] = {5, 6};
    int r;
    uint64_t s;
    size_t n;
    bool ok;
    int64_t ms;

    (void)state;
    /* Capture one valid input per function as the host stubs marshal it. */
#define CAPTURE(id, call)                               \
    do {                                                \
        assert_int_equal(call, VOUCH_OK);               \
        memcpy(captured[id], g_last_in, g_last_in_len); \
        captured_len[id] = g_last_in_len;               \
    } while (0)
    CAPTURE(E_ADD, add(E, &r, 1, 2));
    CAPTURE(E_NOOP, noop(E));
    CAPTURE(E_NOOP_FAST, noop_fast(E));
    CAPTURE(E_SUM, sum(E, &s, v, 3));
    CAPTURE(E_STR_LEN, str_len(E, &n, "mutate me"));
    CAPTURE(E_FILL, fill(E, &r, buf, sizeof(buf), 9));
    CAPTURE(E_INC, inc(E, four));
    CAPTURE(E_SCALARS, scalars(E, &ok, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CAPTURE(E_CALL_HOST, call_host(E, &r, "m", (const int16_t *)v, 2));
    CAPTURE(E_MUTATE, mutate(E, &ms, m, 2));
    CAPTURE(E_GET_ONE, get_one(E, &r, &r));
    {
        uint8_t key[16] = {0};
        CAPTURE(E_BYTES_IN, bytes_in(E, key));
    }
#undef CAPTURE
    for (int round = 0; round < 20000; round++) {
        size_t fn = (size_t)round % E__COUNT;
        struct wire w;
        unsigned flips;

        memcpy(w.b, captured[fn], captured_len[fn]);
        w.n = captured_len[fn];
        rng = rng * 1103515245u + 12345u;
        flips = 1 + (rng >> 16) % 4;
        for (unsigned k = 0; k < flips && w.n > 0; k++) {
            rng = rng * 1103515245u + 12345u;
            w.b[(rng >> 8) % w.n] = (uint8_t)(rng >> 24);
        }
        rng = rng * 1103515245u + 12345u;
        if ((rng >> 20) % 4 == 0)
            w.n = (rng >> 8) % (w.n + 1);
        {
            vouch_err rc = direct(fn, &w, out, sizeof(out), &out_len);
            assert_true(rc == VOUCH_OK || rc == VOUCH_ERR_INVAL || rc == VOUCH_ERR_TOO_LARGE);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_test_edl, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_parse_variants, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_parse_errors, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_parse_nul_byte, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_parse_limits, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_emit, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_roundtrip_scalars, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_roundtrip_buffers, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_roundtrip_ocalls, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_host_checks_answers, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_reject_truncated, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_reject_lengths, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_reject_out_lengths, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_reject_strings, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_reject_scalars, reset, check_heap),
        cmocka_unit_test_setup_teardown(test_mutated_calls, reset, check_heap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
