/*
 * EDL stub generator (include/vouch/edl.h, vouch_edl_emit). Writes the host
 * side (<name>_u.h/.c: typed ecall stubs over vouch_enclave_ecall, the ocall
 * dispatch table) and the enclave side (<name>_t.h/.c: the exported
 * vouch_rt_ecall_table whose entries unmarshal and check the host's bytes,
 * typed ocall stubs over vouch_rt_ocall).
 *
 * Both directions share one wire format and one pair of code shapes: a
 * "caller" stub marshals typed arguments and sends them, a "callee" stub
 * receives bytes from the other (untrusted) side, checks every length before
 * it trusts it, calls the implementation and marshals the results. Wire
 * format (little-endian; the stubs assert the compiler's byte order):
 *   input:  per parameter in declaration order, scalars by value in their
 *           wire size (vouch_edl_type_size; bool is one byte 0 or 1, size_t
 *           eight bytes); pointers as a u64 byte length, followed by that many
 *           bytes when the pointer is [in] or [in, out]. Nothing else: a
 *           callee refuses trailing bytes.
 *   output: the return value (wire size), then the bytes of every [out] and
 *           [in, out] pointer in declaration order, each exactly the length
 *           sent in the input. A caller refuses any other output length.
 * Length rules, checked by the callee against the values it received:
 *   - a pointer's length must equal the length its attributes give
 *     (size=: bytes; count=: elements * element size, overflow-checked;
 *     neither: one element) and be at most VOUCH_MAX_ENCLAVE_CALL_BYTES;
 *     signed length parameters must not be negative;
 *   - a length of zero passes NULL; a non-zero length always passes a
 *     non-NULL buffer of exactly that many bytes (the caller refuses a NULL
 *     pointer whose length is not zero);
 *   - [in, string] is never NULL: its length counts the terminating NUL,
 *     which must be the last byte, with no NUL before it;
 *   - [out] buffers are allocated and zeroed by the callee, [in, out] and
 *     non-const [in] buffers are private copies, const [in] buffers point
 *     into the runtime's private copy of the input when suitably aligned.
 *   - the callee checks the output fits out_cap before it calls the
 *     implementation (else VOUCH_ERR_TOO_LARGE with *out_len = the size
 *     needed), so a call whose result cannot be returned has no effect.
 * Errors: a callee answers VOUCH_ERR_INVAL for malformed input,
 * VOUCH_ERR_TOO_LARGE for lengths above the limit, VOUCH_ERR_NOMEM when the
 * heap is full. A caller returns the transport's error, VOUCH_ERR_INVAL for
 * arguments it cannot send (NULL with a non-zero length, negative lengths),
 * VOUCH_ERR_TOO_LARGE above the limit, and for output of the wrong shape
 * VOUCH_ERR_ENCLAVE on the host (the enclave broke the protocol) or
 * VOUCH_ERR_INVAL in the enclave (the host sent bad data).
 *
 * Names: generated locals and helpers start with vouch_, which the parser
 * refuses in user identifiers, so they never collide with parameter names.
 * Host ecall stubs are `vouch_err f(struct vouch_enclave *vouch_e, RET
 * *vouch_retval, args...)` (no retval for void functions; a NULL retval
 * discards the value); enclave ocall stubs are the same without vouch_e.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/edl.h>

struct emit {
    struct vouch_buf *b;
    vouch_err rc;
    const char *name;
};

VOUCH_PRINTF(2, 3)
static void P(struct emit *em, const char *fmt, ...)
{
    va_list ap;
    char small[512];
    int n;

    if (em->rc != VOUCH_OK)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        em->rc = VOUCH_ERR_INTERNAL;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        em->rc = vouch_buf_append(em->b, small, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    {
        /* Longer lines (prototypes with many parameters) are rare: format
         * twice rather than keep a large buffer. */
        char big[8192];
        n = vsnprintf(big, sizeof(big), fmt, ap);
        if (n < 0 || (size_t)n >= sizeof(big))
            em->rc = VOUCH_ERR_INTERNAL;
        else
            em->rc = vouch_buf_append(em->b, big, (size_t)n);
    }
    va_end(ap);
}

enum side { SIDE_HOST, SIDE_ENCLAVE };

static const char *alloc_fn(enum side s)
{
    return s == SIDE_HOST ? "vouch_malloc" : "vouch_rt_malloc";
}

static const char *free_fn(enum side s)
{
    return s == SIDE_HOST ? "vouch_free" : "vouch_rt_free";
}

static bool is_signed(enum vouch_edl_type t)
{
    return t == VOUCH_EDL_INT || t == VOUCH_EDL_INT8 || t == VOUCH_EDL_INT16 ||
           t == VOUCH_EDL_INT32 || t == VOUCH_EDL_INT64;
}

/* Element size of a pointer parameter (void counts bytes). */
static size_t elem_size(const struct vouch_edl_param *p)
{
    return p->type == VOUCH_EDL_VOID ? 1 : vouch_edl_type_size(p->type);
}

/* Writes the C declaration of parameter @p p ("const uint32_t *v"). */
static void param_decl(struct emit *em, const struct vouch_edl_param *p)
{
    P(em, "%s%s %s%s", p->is_const ? "const " : "", vouch_edl_type_c(p->type),
      p->pointer ? "*" : "", p->name);
}

/* Writes "(params)" for a prototype; @p lead is put before the user's
 * parameters ("struct vouch_enclave *vouch_e, int *vouch_retval"). */
static void param_list(struct emit *em, const struct vouch_edl_func *f, bool with_retval,
                       bool with_enclave)
{
    bool first = true;

    P(em, "(");
    if (with_enclave) {
        P(em, "struct vouch_enclave *vouch_e");
        first = false;
    }
    if (with_retval && f->ret != VOUCH_EDL_VOID) {
        P(em, "%s%s *vouch_retval", first ? "" : ", ", vouch_edl_type_c(f->ret));
        first = false;
    }
    for (size_t i = 0; i < f->param_count; i++) {
        if (!first)
            P(em, ", ");
        param_decl(em, &f->params[i]);
        first = false;
    }
    if (first)
        P(em, "void");
    P(em, ")");
}

/* Prototype of the typed function the user implements. */
static void impl_proto(struct emit *em, const struct vouch_edl_func *f)
{
    P(em, "%s %s", vouch_edl_type_c(f->ret), f->name);
    param_list(em, f, false, false);
}

/* Prototype of a generated caller stub. */
static void stub_proto(struct emit *em, const struct vouch_edl_func *f, enum side s)
{
    P(em, "vouch_err %s", f->name);
    param_list(em, f, true, s == SIDE_HOST);
}

/* Static helpers every generated .c file carries (the enclave .so links
 * nothing of libvouch, so they cannot live there). */
static void emit_helpers(struct emit *em)
{
    P(em,
      "_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,\n"
      "               \"the marshalled format is little-endian and copied natively\");\n"
      "_Static_assert(sizeof(int) == 4 && sizeof(unsigned int) == 4, \"int is 32 bits\");\n"
      "_Static_assert(sizeof(size_t) == 8, \"size_t travels as 64 bits\");\n"
      "_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, \"IEEE 754 binary32/64\");\n"
      "\n"
      "#define VOUCH_EDL_UNUSED __attribute__((unused))\n"
      "\n"
      "/* Copies n bytes at *off of in[0..in_len) to dst; false when they are not all there. */\n"
      "static VOUCH_EDL_UNUSED bool vouch_edl_take(const uint8_t *in, size_t in_len, size_t *off,\n"
      "                                            void *dst, size_t n)\n"
      "{\n"
      "    if (in_len - *off < n)\n"
      "        return false;\n"
      "    if (n > 0)\n"
      "        memcpy(dst, in + *off, n);\n"
      "    *off += n;\n"
      "    return true;\n"
      "}\n"
      "\n"
      "/* Points *p at the next n bytes without copying; false when they are not all there. */\n"
      "static VOUCH_EDL_UNUSED bool vouch_edl_view(const uint8_t *in, size_t in_len, size_t *off,\n"
      "                                            uint64_t n, const uint8_t **p)\n"
      "{\n"
      "    if ((uint64_t)(in_len - *off) < n)\n"
      "        return false;\n"
      "    *p = n > 0 ? in + *off : NULL;\n"
      "    *off += (size_t)n;\n"
      "    return true;\n"
      "}\n"
      "\n"
      "/* Appends n bytes at *off (the caller sized buf). */\n"
      "static VOUCH_EDL_UNUSED void vouch_edl_put(uint8_t *buf, size_t *off, const void *src, "
      "size_t n)\n"
      "{\n"
      "    if (n > 0)\n"
      "        memcpy(buf + *off, src, n);\n"
      "    *off += n;\n"
      "}\n"
      "\n"
      "/* *out = count * elem; false when it overflows or passes the call limit. */\n"
      "static VOUCH_EDL_UNUSED bool vouch_edl_mul(uint64_t count, uint64_t elem, uint64_t *out)\n"
      "{\n"
      "    if (elem != 0 && count > VOUCH_MAX_ENCLAVE_CALL_BYTES / elem)\n"
      "        return false;\n"
      "    *out = count * elem;\n"
      "    return true;\n"
      "}\n"
      "\n"
      "/* *total += n; false when the sum passes the call limit. */\n"
      "static VOUCH_EDL_UNUSED bool vouch_edl_add(size_t *total, uint64_t n)\n"
      "{\n"
      "    if (n > VOUCH_MAX_ENCLAVE_CALL_BYTES || *total > VOUCH_MAX_ENCLAVE_CALL_BYTES - n)\n"
      "        return false;\n"
      "    *total += (size_t)n;\n"
      "    return true;\n"
      "}\n"
      "\n"
      "/* A string of len bytes (len counts the NUL) ends in its only NUL. */\n"
      "static VOUCH_EDL_UNUSED bool vouch_edl_string_ok(const uint8_t *s, uint64_t len)\n"
      "{\n"
      "    return len > 0 && s[len - 1] == 0 && memchr(s, 0, (size_t)len - 1) == NULL;\n"
      "}\n"
      "\n");
}

/* Emits C that sets uint64_t vouch_want<i> to the length pointer @p i must
 * have, given the values in variables named prefix+param name; jumps to out
 * with vouch_rc set on a negative or oversized length. */
static void emit_expected_len(struct emit *em, const struct vouch_edl_func *f, size_t i,
                              const char *prefix)
{
    const struct vouch_edl_param *p = &f->params[i];
    const struct vouch_edl_bound *b = p->size.kind != VOUCH_EDL_BOUND_NONE ? &p->size : &p->count;
    uint64_t elem = p->size.kind != VOUCH_EDL_BOUND_NONE ? 1 : elem_size(p);

    if (b->kind == VOUCH_EDL_BOUND_NONE) {
        P(em, "    vouch_want%zu = %zuu;\n", i, elem_size(p));
        return;
    }
    if (b->kind == VOUCH_EDL_BOUND_CONST) {
        /* The parser bounded constant lengths by the call limit. */
        P(em, "    vouch_want%zu = UINT64_C(%llu);\n", i, (unsigned long long)(b->value * elem));
        return;
    }
    {
        const struct vouch_edl_param *lp = &f->params[b->param];

        if (is_signed(lp->type))
            P(em, "    if (%s%s < 0)\n        goto out;\n", prefix, lp->name);
        P(em,
          "    if (!vouch_edl_mul((uint64_t)%s%s, %lluu, &vouch_want%zu)) {\n"
          "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
          "        goto out;\n"
          "    }\n",
          prefix, lp->name, (unsigned long long)elem, i);
    }
}

static size_t fixed_in_len(const struct vouch_edl_func *f)
{
    size_t n = 0;

    for (size_t i = 0; i < f->param_count; i++)
        n += f->params[i].pointer ? 8 : vouch_edl_type_size(f->params[i].type);
    return n;
}

/*
 * Caller stub: marshal, send, check and unpack the answer.
 */
static void emit_caller(struct emit *em, const struct vouch_edl_func *f, size_t id, enum side s)
{
    size_t ret_size = vouch_edl_type_size(f->ret);
    const char *proto_err = s == SIDE_HOST ? "VOUCH_ERR_ENCLAVE" : "VOUCH_ERR_INVAL";
    /* Functions without input or output pass NULL rather than a stack
     * buffer nobody writes (which compilers rightly flag). */
    bool has_in = f->param_count > 0, has_out = ret_size > 0;

    for (size_t i = 0; i < f->param_count; i++)
        if (f->params[i].pointer && (f->params[i].dir & VOUCH_EDL_OUT))
            has_out = true;
    stub_proto(em, f, s);
    P(em, "\n{\n");
    P(em, "    vouch_err vouch_rc = VOUCH_ERR_INVAL;\n");
    if (has_in)
        P(em, "    uint8_t vouch_stack_in[256];\n"
              "    uint8_t *vouch_in = vouch_stack_in;\n");
    else
        P(em, "    uint8_t *vouch_in = NULL;\n");
    if (has_out)
        P(em, "    uint8_t vouch_stack_out[64];\n"
              "    uint8_t *vouch_out = vouch_stack_out;\n");
    else
        P(em, "    uint8_t *vouch_out = NULL;\n");
    P(em, "    size_t vouch_in_len = %zuu;\n", fixed_in_len(f));
    P(em, "    size_t vouch_out_cap = %zuu;\n", ret_size);
    P(em, "    size_t vouch_out_len = 0;\n"
          "    size_t vouch_off = 0;\n");
    for (size_t i = 0; i < f->param_count; i++)
        if (f->params[i].pointer)
            P(em, "    uint64_t vouch_want%zu = 0;\n", i);
    P(em, "\n");
    /* Lengths of the pointer arguments. */
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer)
            continue;
        if (p->string) {
            P(em, "    if (!%s)\n        goto out;\n", p->name);
            P(em, "    vouch_want%zu = (uint64_t)strlen(%s) + 1u;\n", i, p->name);
        } else {
            emit_expected_len(em, f, i, "");
            P(em, "    if (!%s && vouch_want%zu != 0)\n        goto out;\n", p->name, i);
        }
        if (p->dir & VOUCH_EDL_IN)
            P(em,
              "    if (!vouch_edl_add(&vouch_in_len, vouch_want%zu)) {\n"
              "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
              "        goto out;\n"
              "    }\n",
              i);
        else
            P(em,
              "    if (vouch_want%zu > VOUCH_MAX_ENCLAVE_CALL_BYTES) {\n"
              "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
              "        goto out;\n"
              "    }\n",
              i);
        if (p->dir & VOUCH_EDL_OUT)
            P(em,
              "    if (!vouch_edl_add(&vouch_out_cap, vouch_want%zu)) {\n"
              "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
              "        goto out;\n"
              "    }\n",
              i);
    }
    if (has_in)
        P(em,
          "    if (vouch_in_len > sizeof(vouch_stack_in) && !(vouch_in = %s(vouch_in_len))) {\n"
          "        vouch_rc = VOUCH_ERR_NOMEM;\n"
          "        goto out;\n"
          "    }\n",
          alloc_fn(s));
    if (has_out)
        P(em,
          "    if (vouch_out_cap > sizeof(vouch_stack_out) && !(vouch_out = %s(vouch_out_cap))) {\n"
          "        vouch_rc = VOUCH_ERR_NOMEM;\n"
          "        goto out;\n"
          "    }\n",
          alloc_fn(s));
    /* Marshal. */
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer) {
            if (p->type == VOUCH_EDL_BOOL)
                P(em,
                  "    {\n        uint8_t vouch_b = %s ? 1u : 0u;\n"
                  "        vouch_edl_put(vouch_in, &vouch_off, &vouch_b, 1);\n    }\n",
                  p->name);
            else
                P(em, "    vouch_edl_put(vouch_in, &vouch_off, &%s, %zu);\n", p->name,
                  vouch_edl_type_size(p->type));
            continue;
        }
        P(em, "    vouch_edl_put(vouch_in, &vouch_off, &vouch_want%zu, 8);\n", i);
        if (p->dir & VOUCH_EDL_IN)
            P(em, "    vouch_edl_put(vouch_in, &vouch_off, %s, (size_t)vouch_want%zu);\n", p->name,
              i);
    }
    /* Send. */
    if (s == SIDE_HOST)
        P(em,
          "    vouch_rc = vouch_enclave_ecall(vouch_e, %zuu, %s, vouch_in, vouch_in_len,\n"
          "                                   vouch_out, vouch_out_cap, &vouch_out_len);\n",
          id, f->switchless ? "VOUCH_CALL_SWITCHLESS" : "0");
    else
        P(em,
          "    vouch_rc = vouch_rt_ocall(%zuu, %s, vouch_in, vouch_in_len, vouch_out,\n"
          "                              vouch_out_cap, &vouch_out_len);\n",
          id, f->switchless ? "VOUCH_CALL_SWITCHLESS" : "0");
    P(em, "    if (vouch_rc != VOUCH_OK)\n        goto out;\n");
    P(em, "    vouch_rc = %s;\n", proto_err);
    P(em, "    if (vouch_out_len != vouch_out_cap)\n        goto out;\n");
    /* Unpack: check the return value's encoding first, then copy out. */
    if (f->ret == VOUCH_EDL_BOOL)
        P(em, "    if (vouch_out[0] > 1)\n        goto out;\n"
              "    if (vouch_retval)\n        *vouch_retval = vouch_out[0] != 0;\n");
    else if (f->ret != VOUCH_EDL_VOID)
        P(em, "    if (vouch_retval)\n        memcpy(vouch_retval, vouch_out, %zu);\n", ret_size);
    P(em, "    vouch_off = %zuu;\n", ret_size);
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer || !(p->dir & VOUCH_EDL_OUT))
            continue;
        P(em,
          "    if (vouch_want%zu > 0)\n"
          "        memcpy(%s, vouch_out + vouch_off, (size_t)vouch_want%zu);\n"
          "    vouch_off += (size_t)vouch_want%zu;\n",
          i, p->name, i, i);
    }
    P(em, "    (void)vouch_off;\n"
          "    vouch_rc = VOUCH_OK;\n");
    P(em, "out:\n");
    if (has_in)
        P(em, "    if (vouch_in != vouch_stack_in)\n        %s(vouch_in);\n", free_fn(s));
    if (has_out)
        P(em, "    if (vouch_out != vouch_stack_out)\n        %s(vouch_out);\n", free_fn(s));
    P(em, "    return vouch_rc;\n}\n\n");
}

/*
 * Callee stub: the receiving side of a call, the one that must not trust its
 * input. Named vouch_edl_<dir>_<function>, static, listed in the table.
 */
static void emit_callee(struct emit *em, const struct vouch_edl_func *f, const char *dir,
                        enum side s)
{
    size_t ret_size = vouch_edl_type_size(f->ret);
    bool any_out = ret_size > 0;

    for (size_t i = 0; i < f->param_count; i++)
        if (f->params[i].pointer && (f->params[i].dir & VOUCH_EDL_OUT))
            any_out = true;

    P(em,
      "static vouch_err vouch_edl_%s_%s(const void *vouch_in_v, size_t vouch_in_len, void "
      "*vouch_out_v,\n"
      "                                 size_t vouch_out_cap, size_t *vouch_out_len)\n"
      "{\n",
      dir, f->name);
    if (f->param_count > 0)
        P(em, "    const uint8_t *vouch_in = vouch_in_v;\n");
    if (any_out)
        P(em, "    uint8_t *vouch_out = vouch_out_v;\n");
    P(em, "    vouch_err vouch_rc = VOUCH_ERR_INVAL;\n"
          "    size_t vouch_off = 0;\n");
    P(em, "    size_t vouch_total = %zuu;\n", ret_size);
    if (f->ret != VOUCH_EDL_VOID)
        P(em, "    %s vouch_ret;\n", vouch_edl_type_c(f->ret));
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer) {
            P(em, "    %s vouch_a_%s = 0;\n", vouch_edl_type_c(p->type), p->name);
            continue;
        }
        P(em, "    %s%s *vouch_a_%s = NULL;\n", p->is_const ? "const " : "",
          vouch_edl_type_c(p->type), p->name);
        P(em, "    void *vouch_m%zu = NULL;\n", i);
        P(em, "    uint64_t vouch_len%zu = 0;\n", i);
        if (!p->string)
            P(em, "    uint64_t vouch_want%zu = 0;\n", i);
        if (p->dir & VOUCH_EDL_IN)
            P(em, "    const uint8_t *vouch_d%zu = NULL;\n", i);
    }
    P(em, "\n");
    if (!any_out)
        P(em, "    (void)vouch_out_v;\n");
    if (f->param_count == 0)
        P(em, "    (void)vouch_in_v;\n");
    P(em, "    if (!vouch_out_len)\n        return VOUCH_ERR_INVAL;\n"
          "    *vouch_out_len = 0;\n");
    /* Read everything, in order, bounds-checked. */
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer) {
            if (p->type == VOUCH_EDL_BOOL) {
                P(em,
                  "    {\n"
                  "        uint8_t vouch_b = 0;\n"
                  "        if (!vouch_edl_take(vouch_in, vouch_in_len, &vouch_off, &vouch_b, 1) || "
                  "vouch_b > 1)\n"
                  "            goto out;\n"
                  "        vouch_a_%s = vouch_b != 0;\n"
                  "    }\n",
                  p->name);
            } else {
                P(em,
                  "    if (!vouch_edl_take(vouch_in, vouch_in_len, &vouch_off, &vouch_a_%s, %zu))\n"
                  "        goto out;\n",
                  p->name, vouch_edl_type_size(p->type));
            }
            continue;
        }
        P(em,
          "    if (!vouch_edl_take(vouch_in, vouch_in_len, &vouch_off, &vouch_len%zu, 8))\n"
          "        goto out;\n"
          "    if (vouch_len%zu > VOUCH_MAX_ENCLAVE_CALL_BYTES) {\n"
          "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
          "        goto out;\n"
          "    }\n",
          i, i);
        if (p->dir & VOUCH_EDL_IN)
            P(em,
              "    if (!vouch_edl_view(vouch_in, vouch_in_len, &vouch_off, vouch_len%zu, "
              "&vouch_d%zu))\n"
              "        goto out;\n",
              i, i);
    }
    P(em, "    if (vouch_off != vouch_in_len)\n        goto out;\n");
    /* Check every pointer's length against its attributes. */
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer)
            continue;
        if (p->string) {
            P(em, "    if (!vouch_edl_string_ok(vouch_d%zu, vouch_len%zu))\n        goto out;\n", i,
              i);
        } else {
            emit_expected_len(em, f, i, "vouch_a_");
            P(em, "    if (vouch_len%zu != vouch_want%zu)\n        goto out;\n", i, i);
        }
        if (p->dir & VOUCH_EDL_OUT)
            P(em,
              "    if (!vouch_edl_add(&vouch_total, vouch_len%zu)) {\n"
              "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
              "        goto out;\n"
              "    }\n",
              i);
    }
    P(em, "    if (vouch_total > vouch_out_cap) {\n"
          "        *vouch_out_len = vouch_total;\n"
          "        vouch_rc = VOUCH_ERR_TOO_LARGE;\n"
          "        goto out;\n"
          "    }\n");
    if (any_out)
        P(em, "    if (!vouch_out)\n        goto out;\n");
    /* Give every pointer its memory. */
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];
        const char *t = vouch_edl_type_c(p->type);

        if (!p->pointer)
            continue;
        P(em, "    if (vouch_len%zu > 0) {\n", i);
        if (p->dir == VOUCH_EDL_IN && p->is_const) {
            /* The runtime already copied the input into private memory, so
             * a const [in] buffer can be used where it lies when aligned. */
            if (p->type == VOUCH_EDL_VOID || elem_size(p) == 1) {
                P(em, "        vouch_a_%s = (const %s *)(const void *)vouch_d%zu;\n", p->name, t,
                  i);
            } else {
                P(em,
                  "        if ((uintptr_t)vouch_d%zu %% _Alignof(%s) == 0) {\n"
                  "            vouch_a_%s = (const %s *)(const void *)vouch_d%zu;\n"
                  "        } else {\n",
                  i, t, p->name, t, i);
                P(em,
                  "            if (!(vouch_m%zu = %s((size_t)vouch_len%zu))) {\n"
                  "                vouch_rc = VOUCH_ERR_NOMEM;\n"
                  "                goto out;\n"
                  "            }\n"
                  "            memcpy(vouch_m%zu, vouch_d%zu, (size_t)vouch_len%zu);\n"
                  "            vouch_a_%s = vouch_m%zu;\n"
                  "        }\n",
                  i, alloc_fn(s), i, i, i, i, p->name, i);
            }
        } else {
            P(em,
              "        if (!(vouch_m%zu = %s((size_t)vouch_len%zu))) {\n"
              "            vouch_rc = VOUCH_ERR_NOMEM;\n"
              "            goto out;\n"
              "        }\n",
              i, alloc_fn(s), i);
            if (p->dir & VOUCH_EDL_IN)
                P(em, "        memcpy(vouch_m%zu, vouch_d%zu, (size_t)vouch_len%zu);\n", i, i, i);
            else
                P(em, "        memset(vouch_m%zu, 0, (size_t)vouch_len%zu);\n", i, i);
            P(em, "        vouch_a_%s = vouch_m%zu;\n", p->name, i);
        }
        P(em, "    }\n");
    }
    /* Call. */
    P(em, "    %s%s(", f->ret != VOUCH_EDL_VOID ? "vouch_ret = " : "", f->name);
    for (size_t i = 0; i < f->param_count; i++)
        P(em, "%svouch_a_%s", i ? ", " : "", f->params[i].name);
    P(em, ");\n");
    /* Results. */
    if (f->ret == VOUCH_EDL_BOOL)
        P(em, "    vouch_out[0] = vouch_ret ? 1u : 0u;\n");
    else if (f->ret != VOUCH_EDL_VOID)
        P(em, "    memcpy(vouch_out, &vouch_ret, %zu);\n", ret_size);
    P(em, "    vouch_off = %zuu;\n", ret_size);
    for (size_t i = 0; i < f->param_count; i++) {
        const struct vouch_edl_param *p = &f->params[i];

        if (!p->pointer || !(p->dir & VOUCH_EDL_OUT))
            continue;
        P(em,
          "    if (vouch_len%zu > 0)\n"
          "        memcpy(vouch_out + vouch_off, vouch_m%zu, (size_t)vouch_len%zu);\n"
          "    vouch_off += (size_t)vouch_len%zu;\n",
          i, i, i, i);
    }
    P(em, "    (void)vouch_off;\n"
          "    *vouch_out_len = vouch_total;\n"
          "    vouch_rc = VOUCH_OK;\n"
          "out:\n");
    for (size_t i = 0; i < f->param_count; i++)
        if (f->params[i].pointer)
            P(em, "    if (vouch_m%zu)\n        %s(vouch_m%zu);\n", i, free_fn(s), i);
    P(em, "    return vouch_rc;\n}\n\n");
}

static void emit_banner(struct emit *em, const char *what)
{
    P(em,
      "/*\n * %s for the enclave interface %s.edl.\n"
      " * Generated by vouch-edger8r: do not edit.\n */\n",
      what, em->name);
}

static void emit_guard(struct emit *em, const char *suffix, bool open)
{
    char up[VOUCH_MAX_EDL_IDENT + 1];
    size_t i;

    for (i = 0; em->name[i] && i < VOUCH_MAX_EDL_IDENT; i++)
        up[i] = (em->name[i] >= 'a' && em->name[i] <= 'z') ? (char)(em->name[i] - 'a' + 'A')
                                                           : em->name[i];
    up[i] = '\0';
    if (open)
        P(em, "#ifndef VOUCH_EDL_%s_%s_H\n#define VOUCH_EDL_%s_%s_H\n\n", up, suffix, up, suffix);
    else
        P(em, "#endif\n");
}

static void emit_std_includes(struct emit *em, const struct vouch_edl *edl, const char *vouch_hdr)
{
    P(em, "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <%s>\n",
      vouch_hdr);
    for (size_t i = 0; i < edl->include_count; i++)
        P(em, "#include \"%s\"\n", edl->includes[i]);
    P(em, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
}

static void emit_cplusplus_close(struct emit *em)
{
    P(em, "\n#ifdef __cplusplus\n}\n#endif\n");
}

static void emit_host_header(struct emit *em, const struct vouch_edl *edl)
{
    emit_banner(em, "Host side");
    emit_guard(em, "U", true);
    emit_std_includes(em, edl, "vouch/enclave.h");
    P(em, "/* Ecalls: call into the enclave. Each returns the transport's result;\n"
          " * the function's own return value goes to *vouch_retval (may be NULL). */\n");
    for (size_t i = 0; i < edl->trusted_count; i++) {
        P(em, "VOUCH_NODISCARD ");
        stub_proto(em, &edl->trusted[i], SIDE_HOST);
        P(em, ";\n");
    }
    P(em, "\n/* Ocalls: the host application implements these. */\n");
    for (size_t i = 0; i < edl->untrusted_count; i++) {
        impl_proto(em, &edl->untrusted[i]);
        P(em, ";\n");
    }
    P(em,
      "\n/* Pass these in vouch_enclave_config.ocalls / .ocall_count. */\n"
      "extern const struct vouch_enclave_ocall %s_ocall_table[];\n"
      "extern const size_t %s_ocall_count;\n",
      em->name, em->name);
    emit_cplusplus_close(em);
    emit_guard(em, "U", false);
}

static void emit_enclave_header(struct emit *em, const struct vouch_edl *edl)
{
    emit_banner(em, "Enclave side");
    emit_guard(em, "T", true);
    emit_std_includes(em, edl, "vouch/enclave_rt.h");
    P(em, "/* Ecalls: the enclave implements these. */\n");
    for (size_t i = 0; i < edl->trusted_count; i++) {
        impl_proto(em, &edl->trusted[i]);
        P(em, ";\n");
    }
    P(em, "\n/* Ocalls: call into the host. Each returns the transport's result;\n"
          " * the function's own return value goes to *vouch_retval (may be NULL). */\n");
    for (size_t i = 0; i < edl->untrusted_count; i++) {
        P(em, "VOUCH_NODISCARD ");
        stub_proto(em, &edl->untrusted[i], SIDE_ENCLAVE);
        P(em, ";\n");
    }
    emit_cplusplus_close(em);
    emit_guard(em, "T", false);
}

static void emit_source_prologue(struct emit *em, const char *what, const char *suffix,
                                 const char *extra_include)
{
    emit_banner(em, what);
    P(em, "#include \"%s_%s.h\"\n\n#include <string.h>\n#include <vouch/limits.h>\n", em->name,
      suffix);
    if (extra_include)
        P(em, "#include <%s>\n", extra_include);
    P(em, "\n");
    emit_helpers(em);
}

static void emit_host_source(struct emit *em, const struct vouch_edl *edl)
{
    emit_source_prologue(em, "Host side", "u", "vouch/mem.h");
    for (size_t i = 0; i < edl->trusted_count; i++)
        emit_caller(em, &edl->trusted[i], i, SIDE_HOST);
    for (size_t i = 0; i < edl->untrusted_count; i++)
        emit_callee(em, &edl->untrusted[i], "ocall", SIDE_HOST);
    /* A C array cannot be empty: an interface without ocalls gets one
     * placeholder entry that the count of 0 keeps the runtime from using. */
    P(em, "const struct vouch_enclave_ocall %s_ocall_table[] = {\n", em->name);
    for (size_t i = 0; i < edl->untrusted_count; i++)
        P(em, "    {vouch_edl_ocall_%s},\n", edl->untrusted[i].name);
    if (edl->untrusted_count == 0)
        P(em, "    {NULL},\n");
    P(em, "};\nconst size_t %s_ocall_count = %zuu;\n", em->name, edl->untrusted_count);
}

static void emit_enclave_source(struct emit *em, const struct vouch_edl *edl)
{
    emit_source_prologue(em, "Enclave side", "t", NULL);
    for (size_t i = 0; i < edl->untrusted_count; i++)
        emit_caller(em, &edl->untrusted[i], i, SIDE_ENCLAVE);
    for (size_t i = 0; i < edl->trusted_count; i++)
        emit_callee(em, &edl->trusted[i], "ecall", SIDE_ENCLAVE);
    /* Exported even when the .so is built with -fvisibility=hidden: the
     * loader looks these two up by name. */
    P(em, "__attribute__((visibility(\"default\")))\n"
          "const struct vouch_rt_ecall_entry vouch_rt_ecall_table[] = {\n");
    for (size_t i = 0; i < edl->trusted_count; i++)
        P(em, "    {vouch_edl_ecall_%s, %s},\n", edl->trusted[i].name,
          edl->trusted[i].switchless ? "VOUCH_CALL_SWITCHLESS" : "0");
    if (edl->trusted_count == 0)
        P(em, "    {NULL, 0},\n");
    P(em,
      "};\n__attribute__((visibility(\"default\")))\n"
      "const size_t vouch_rt_ecall_count = %zuu;\n",
      edl->trusted_count);
}

static bool is_c_ident(const char *s)
{
    size_t n = 0;

    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return n <= VOUCH_MAX_EDL_IDENT;
}

vouch_err vouch_edl_emit(const struct vouch_edl *edl, const char *name, enum vouch_edl_file which,
                         struct vouch_buf *out)
{
    struct emit em = {.b = out, .rc = VOUCH_OK, .name = name};

    if (!edl || !out || !is_c_ident(name))
        return VOUCH_ERR_INVAL;
    switch (which) {
    case VOUCH_EDL_HOST_HEADER:
        emit_host_header(&em, edl);
        break;
    case VOUCH_EDL_HOST_SOURCE:
        emit_host_source(&em, edl);
        break;
    case VOUCH_EDL_ENCLAVE_HEADER:
        emit_enclave_header(&em, edl);
        break;
    case VOUCH_EDL_ENCLAVE_SOURCE:
        emit_enclave_source(&em, edl);
        break;
    default:
        return VOUCH_ERR_INVAL;
    }
    return em.rc;
}
