/*
 * Signed enclave images: strict ELF parsing, the measurement, and the image
 * format (see include/vouch/enclave_image.h for the layout and the order of
 * the measured fields; this file is its implementation and must not drift
 * from it).
 *
 * Everything in an image is attacker-controlled until the signature has been
 * checked, and the signature itself covers the measurement we compute, so the
 * ELF is parsed (with the bounds-checked reader) before any signature check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/enclave_image.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

/* Domain-separation tags, hashed with their terminating NUL. */
static const char MEASURE_TAG[] = "VOUCH-ENCLAVE-MEASUREMENT-V1";
static const char SIGN_TAG[] = "VOUCH-ENCLAVE-SIGNATURE-V1";

/* ELF64 constants (the ELF specification and the x86-64 psABI). */
#define ELF_EHDR_LEN  64u
#define ELF_PHDR_LEN  56u
#define ELFCLASS64    2u
#define ELFDATA2LSB   1u
#define EV_CURRENT    1u
#define ELFOSABI_SYSV 0u
#define ELFOSABI_GNU  3u
#define ET_DYN        3u
#define EM_X86_64     62u
#define PT_LOAD       1u
#define PT_GNU_STACK  0x6474e551u
#define PF_X          0x1u
#define PF_W          0x2u
#define PF_R          0x4u
#define EI_NIDENT     16u
#define EI_PAD        9u

/* Signature block: algorithm, SPKI length, SPKI, signature length, signature. */
#define SIG_BLOCK_FIXED 12u

struct load_seg {
    uint64_t offset;
    uint64_t vaddr;
    uint64_t filesz;
    uint64_t memsz;
    uint32_t flags;
};

struct elf_layout {
    uint64_t phoff;
    uint16_t phnum;
    size_t n_load;
    struct load_seg load[VOUCH_MAX_ENCLAVE_LOAD_SEGMENTS];
};

struct vouch_enclave_image {
    struct vouch_enclave_identity id;
    struct vouch_enclave_image_config cfg;
    uint8_t *so; /* measured bytes only; the rest zeroed */
    size_t so_len;
    uint8_t *spki;
    size_t spki_len;
};

static void set_detail(char *d, size_t cap, const char *fmt, ...) VOUCH_PRINTF(3, 4);
static void set_detail(char *d, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* ---------------- configuration ---------------- */

void vouch_enclave_image_config_default(struct vouch_enclave_image_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof(*c));
    c->heap_size = VOUCH_ENCLAVE_DEFAULT_HEAP_SIZE;
    c->stack_size = VOUCH_ENCLAVE_DEFAULT_STACK_SIZE;
    c->thread_count = VOUCH_ENCLAVE_DEFAULT_THREAD_COUNT;
}

static vouch_err config_check(const struct vouch_enclave_image_config *c, char *detail,
                              size_t detail_cap)
{
    if (!c)
        return VOUCH_ERR_INVAL;
    if (c->heap_size < VOUCH_MIN_ENCLAVE_HEAP_SIZE || c->heap_size > VOUCH_MAX_ENCLAVE_HEAP_SIZE ||
        c->heap_size % VOUCH_ENCLAVE_PAGE_SIZE != 0) {
        set_detail(detail, detail_cap, "heap_size %llu is not a multiple of %u in [%llu, %llu]",
                   (unsigned long long)c->heap_size, VOUCH_ENCLAVE_PAGE_SIZE,
                   (unsigned long long)VOUCH_MIN_ENCLAVE_HEAP_SIZE,
                   (unsigned long long)VOUCH_MAX_ENCLAVE_HEAP_SIZE);
        return VOUCH_ERR_INVAL;
    }
    if (c->stack_size < VOUCH_MIN_ENCLAVE_STACK_SIZE ||
        c->stack_size > VOUCH_MAX_ENCLAVE_STACK_SIZE ||
        c->stack_size % VOUCH_ENCLAVE_PAGE_SIZE != 0) {
        set_detail(detail, detail_cap, "stack_size %llu is not a multiple of %u in [%llu, %llu]",
                   (unsigned long long)c->stack_size, VOUCH_ENCLAVE_PAGE_SIZE,
                   (unsigned long long)VOUCH_MIN_ENCLAVE_STACK_SIZE,
                   (unsigned long long)VOUCH_MAX_ENCLAVE_STACK_SIZE);
        return VOUCH_ERR_INVAL;
    }
    if (c->thread_count < 1 || c->thread_count > VOUCH_MAX_ENCLAVE_THREADS) {
        set_detail(detail, detail_cap, "thread_count %u is not in [1, %u]", c->thread_count,
                   VOUCH_MAX_ENCLAVE_THREADS);
        return VOUCH_ERR_INVAL;
    }
    return VOUCH_OK;
}

vouch_err vouch_enclave_image_config_check(const struct vouch_enclave_image_config *c)
{
    return config_check(c, NULL, 0);
}

/* The 32-byte config block: the same bytes are measured, signed and stored. */
static void config_encode(const struct vouch_enclave_image_config *c,
                          uint8_t out[VOUCH_ENCLAVE_CONFIG_BLOCK_LEN])
{
    memset(out, 0, VOUCH_ENCLAVE_CONFIG_BLOCK_LEN);
    put_u16(out + 0, c->product_id);
    put_u16(out + 2, c->svn);
    put_u32(out + 4, c->debug ? VOUCH_ENCLAVE_CONFIG_FLAG_DEBUG : 0u);
    put_u64(out + 8, c->heap_size);
    put_u64(out + 16, c->stack_size);
    put_u32(out + 24, c->thread_count);
    /* out + 28: reserved, zero */
}

static vouch_err config_decode(struct vouch_reader *r, struct vouch_enclave_image_config *c,
                               char *detail, size_t detail_cap)
{
    uint32_t flags = 0, reserved = 0;
    vouch_err rc;

    memset(c, 0, sizeof(*c));
    if ((rc = vouch_reader_u16le(r, &c->product_id)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(r, &c->svn)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &flags)) != VOUCH_OK ||
        (rc = vouch_reader_u64le(r, &c->heap_size)) != VOUCH_OK ||
        (rc = vouch_reader_u64le(r, &c->stack_size)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &c->thread_count)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &reserved)) != VOUCH_OK) {
        set_detail(detail, detail_cap, "image truncated in the config block");
        return VOUCH_ERR_TRUNCATED;
    }
    if ((flags & ~VOUCH_ENCLAVE_CONFIG_FLAG_DEBUG) != 0 || reserved != 0) {
        set_detail(detail, detail_cap,
                   "config block has unknown flags or a nonzero reserved field");
        return VOUCH_ERR_PARSE;
    }
    c->debug = (flags & VOUCH_ENCLAVE_CONFIG_FLAG_DEBUG) != 0;
    return config_check(c, detail, detail_cap);
}

static vouch_err json_u64_member(const json_t *o, const char *key, int64_t min, int64_t max,
                                 uint64_t *out, char *detail, size_t detail_cap)
{
    int64_t v = 0;

    if (!json_object_get(o, key))
        return VOUCH_OK; /* optional: the default stays */
    if (!json_is_integer(json_object_get(o, key)) ||
        vouch_json_int(o, key, min, max, &v) != VOUCH_OK) {
        set_detail(detail, detail_cap, "\"%s\" must be an integer in [%lld, %lld]", key,
                   (long long)min, (long long)max);
        return VOUCH_ERR_INVAL;
    }
    *out = (uint64_t)v;
    return VOUCH_OK;
}

vouch_err vouch_enclave_image_config_parse_json(const uint8_t *text, size_t len,
                                                struct vouch_enclave_image_config *out,
                                                char *detail, size_t detail_cap)
{
    static const char *const known[] = {"product_id", "security_version", "debug",
                                        "heap_size",  "stack_size",       "thread_count"};
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_enclave_image_config c;
    json_t *o = NULL;
    const char *key;
    json_t *val;
    uint64_t v;
    char jerr[160];

    if (!text || !out)
        return VOUCH_ERR_INVAL;
    vouch_enclave_image_config_default(&c);
    if (len > VOUCH_MAX_ENCLAVE_CONFIG_JSON) {
        set_detail(detail, detail_cap, "config is larger than %u bytes",
                   VOUCH_MAX_ENCLAVE_CONFIG_JSON);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((rc = vouch_json_parse((const char *)text, len, &o, jerr, sizeof(jerr))) != VOUCH_OK) {
        set_detail(detail, detail_cap, "config is not valid JSON: %s", jerr);
        goto out;
    }
    if (!json_is_object(o)) {
        set_detail(detail, detail_cap, "config must be a JSON object");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    json_object_foreach(o, key, val)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok) {
            /* A misspelt member ("heapsize") must not silently give the
             * default: the developer would sign something else than meant. */
            set_detail(detail, detail_cap, "unknown config member \"%s\"", key);
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
    }
    if (!json_object_get(o, "product_id") || !json_object_get(o, "security_version")) {
        set_detail(detail, detail_cap, "\"product_id\" and \"security_version\" are required");
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    v = 0;
    if ((rc = json_u64_member(o, "product_id", 0, UINT16_MAX, &v, detail, detail_cap)) != VOUCH_OK)
        goto out;
    c.product_id = (uint16_t)v;
    v = 0;
    if ((rc = json_u64_member(o, "security_version", 0, UINT16_MAX, &v, detail, detail_cap)) !=
        VOUCH_OK)
        goto out;
    c.svn = (uint16_t)v;
    val = json_object_get(o, "debug");
    if (val) {
        if (!json_is_boolean(val)) {
            set_detail(detail, detail_cap, "\"debug\" must be true or false");
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
        c.debug = json_is_true(val);
    }
    if ((rc = json_u64_member(o, "heap_size", 0, (int64_t)VOUCH_MAX_ENCLAVE_HEAP_SIZE, &c.heap_size,
                              detail, detail_cap)) != VOUCH_OK ||
        (rc = json_u64_member(o, "stack_size", 0, (int64_t)VOUCH_MAX_ENCLAVE_STACK_SIZE,
                              &c.stack_size, detail, detail_cap)) != VOUCH_OK)
        goto out;
    v = c.thread_count;
    if ((rc = json_u64_member(o, "thread_count", 0, VOUCH_MAX_ENCLAVE_THREADS, &v, detail,
                              detail_cap)) != VOUCH_OK)
        goto out;
    c.thread_count = (uint32_t)v;
    if ((rc = config_check(&c, detail, detail_cap)) != VOUCH_OK)
        goto out;
    *out = c;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}

vouch_err vouch_enclave_image_config_to_json(const struct vouch_enclave_image_config *c,
                                             json_t **out)
{
    vouch_err rc = VOUCH_ERR_NOMEM;
    json_t *o = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!c)
        return VOUCH_ERR_INVAL;
    o = json_object();
    if (!o || json_object_set_new(o, "product_id", json_integer(c->product_id)) != 0 ||
        json_object_set_new(o, "security_version", json_integer(c->svn)) != 0 ||
        json_object_set_new(o, "debug", json_boolean(c->debug)) != 0 ||
        json_object_set_new(o, "heap_size", json_integer((json_int_t)c->heap_size)) != 0 ||
        json_object_set_new(o, "stack_size", json_integer((json_int_t)c->stack_size)) != 0 ||
        json_object_set_new(o, "thread_count", json_integer(c->thread_count)) != 0)
        goto out;
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}

vouch_err vouch_enclave_identity_to_json(const struct vouch_enclave_identity *id, json_t **out)
{
    vouch_err rc = VOUCH_ERR_NOMEM;
    json_t *o = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!id)
        return VOUCH_ERR_INVAL;
    o = json_object();
    if (!o)
        goto out;
    if ((rc = vouch_json_set_hex(o, "measurement", id->measurement, sizeof(id->measurement))) !=
            VOUCH_OK ||
        (rc = vouch_json_set_hex(o, "signer_id", id->signer_id, sizeof(id->signer_id))) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (json_object_set_new(o, "product_id", json_integer(id->product_id)) != 0 ||
        json_object_set_new(o, "security_version", json_integer(id->svn)) != 0 ||
        json_object_set_new(o, "debug", json_boolean(id->debug)) != 0)
        goto out;
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}

/* ---------------- ELF ---------------- */

static vouch_err elf_parse(const uint8_t *so, size_t len, struct elf_layout *out, char *detail,
                           size_t detail_cap)
{
    struct vouch_reader r, ph;
    const uint8_t *ident = NULL;
    uint16_t e_type = 0, e_machine = 0, e_ehsize = 0, e_phentsize = 0, e_phnum = 0;
    uint32_t e_version = 0;
    uint64_t e_phoff = 0, prev_end = 0;
    bool have_stack = false;
    vouch_err rc;

    memset(out, 0, sizeof(*out));
    if (len > VOUCH_MAX_ENCLAVE_SO_SIZE) {
        set_detail(detail, detail_cap, "enclave .so is larger than %u bytes",
                   VOUCH_MAX_ENCLAVE_SO_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    vouch_reader_init(&r, so, len);
    if (vouch_reader_view(&r, EI_NIDENT, &ident) != VOUCH_OK) {
        set_detail(detail, detail_cap, "enclave .so is shorter than an ELF header");
        return VOUCH_ERR_TRUNCATED;
    }
    if (memcmp(ident,
               "\x7f"
               "ELF",
               4) != 0) {
        set_detail(detail, detail_cap, "enclave .so is not an ELF file");
        return VOUCH_ERR_PARSE;
    }
    if (ident[4] != ELFCLASS64 || ident[5] != ELFDATA2LSB) {
        set_detail(detail, detail_cap, "enclave .so is not 64-bit little-endian ELF");
        return VOUCH_ERR_UNSUPPORTED;
    }
    if (ident[6] != EV_CURRENT || (ident[7] != ELFOSABI_SYSV && ident[7] != ELFOSABI_GNU) ||
        ident[8] != 0 || !vouch_ct_is_zero(ident + EI_PAD, EI_NIDENT - EI_PAD)) {
        /* glibc refuses nonzero e_ident padding too; accepting it would
         * let two readers disagree about the file. */
        set_detail(detail, detail_cap, "ELF identification has an unknown version, ABI or padding");
        return VOUCH_ERR_PARSE;
    }
    if (vouch_reader_u16le(&r, &e_type) != VOUCH_OK ||
        vouch_reader_u16le(&r, &e_machine) != VOUCH_OK ||
        vouch_reader_u32le(&r, &e_version) != VOUCH_OK || vouch_reader_skip(&r, 8) != VOUCH_OK ||
        vouch_reader_u64le(&r, &e_phoff) != VOUCH_OK || vouch_reader_skip(&r, 12) != VOUCH_OK ||
        vouch_reader_u16le(&r, &e_ehsize) != VOUCH_OK ||
        vouch_reader_u16le(&r, &e_phentsize) != VOUCH_OK ||
        vouch_reader_u16le(&r, &e_phnum) != VOUCH_OK || vouch_reader_skip(&r, 6) != VOUCH_OK) {
        set_detail(detail, detail_cap, "enclave .so is shorter than an ELF header");
        return VOUCH_ERR_TRUNCATED;
    }
    if (e_type != ET_DYN) {
        set_detail(detail, detail_cap, "ELF type %u is not a shared object (ET_DYN)", e_type);
        return VOUCH_ERR_UNSUPPORTED;
    }
    if (e_machine != EM_X86_64) {
        set_detail(detail, detail_cap, "ELF machine %u is not x86-64", e_machine);
        return VOUCH_ERR_UNSUPPORTED;
    }
    if (e_version != EV_CURRENT || e_ehsize != ELF_EHDR_LEN || e_phentsize != ELF_PHDR_LEN) {
        set_detail(detail, detail_cap, "ELF header has a bad version or header sizes");
        return VOUCH_ERR_PARSE;
    }
    if (e_phnum == 0) {
        set_detail(detail, detail_cap, "ELF has no program headers");
        return VOUCH_ERR_PARSE;
    }
    if (e_phnum > VOUCH_MAX_ENCLAVE_PHDRS) {
        set_detail(detail, detail_cap, "ELF has %u program headers (limit %u)", e_phnum,
                   VOUCH_MAX_ENCLAVE_PHDRS);
        return VOUCH_ERR_TOO_LARGE;
    }
    /* e_phnum <= 64, so the table size cannot overflow; the offset can be
     * anything, so compare against what is left rather than adding. */
    if (e_phoff > len || (uint64_t)e_phnum * ELF_PHDR_LEN > len - e_phoff) {
        set_detail(detail, detail_cap, "ELF program header table lies outside the file");
        return VOUCH_ERR_TRUNCATED;
    }
    out->phoff = e_phoff;
    out->phnum = e_phnum;
    vouch_reader_init(&ph, so + e_phoff, (size_t)e_phnum * ELF_PHDR_LEN);
    for (uint16_t i = 0; i < e_phnum; i++) {
        uint32_t type = 0, flags = 0;
        uint64_t off = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0, align = 0;
        struct load_seg *s;

        if ((rc = vouch_reader_u32le(&ph, &type)) != VOUCH_OK ||
            (rc = vouch_reader_u32le(&ph, &flags)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&ph, &off)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&ph, &vaddr)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&ph, &paddr)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&ph, &filesz)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&ph, &memsz)) != VOUCH_OK ||
            (rc = vouch_reader_u64le(&ph, &align)) != VOUCH_OK)
            return VOUCH_ERR_INTERNAL; /* the table was bounds-checked above */
        if (type == PT_GNU_STACK) {
            /* glibc makes every thread stack executable for a PF_X stack
             * header, and for none at all (x86-64's default): unmeasured
             * code could then run from a stack, past the W^X rule below and
             * the sandbox's ban on executable mappings. */
            if (have_stack || (flags & PF_X)) {
                set_detail(detail, detail_cap,
                           "PT_GNU_STACK is repeated or asks for an executable stack");
                return VOUCH_ERR_PARSE;
            }
            have_stack = true;
            continue;
        }
        if (type != PT_LOAD)
            continue;
        if (out->n_load == VOUCH_MAX_ENCLAVE_LOAD_SEGMENTS) {
            set_detail(detail, detail_cap, "ELF has more than %u PT_LOAD segments",
                       VOUCH_MAX_ENCLAVE_LOAD_SEGMENTS);
            return VOUCH_ERR_TOO_LARGE;
        }
        if (off > len || filesz > len - off) {
            set_detail(detail, detail_cap, "PT_LOAD segment %u lies outside the file", i);
            return VOUCH_ERR_TRUNCATED;
        }
        if (memsz == 0 || filesz > memsz || memsz > VOUCH_MAX_ENCLAVE_MEMORY ||
            vaddr > UINT64_MAX - memsz) {
            set_detail(detail, detail_cap, "PT_LOAD segment %u has bad sizes", i);
            return VOUCH_ERR_PARSE;
        }
        /* What glibc's loader requires: page-multiple power-of-two
         * alignment and file offset congruent to the address. */
        if (!is_pow2(align) || align < VOUCH_ENCLAVE_PAGE_SIZE || (vaddr - off) % align != 0) {
            set_detail(detail, detail_cap, "PT_LOAD segment %u is misaligned", i);
            return VOUCH_ERR_PARSE;
        }
        if ((flags & ~(PF_R | PF_W | PF_X)) != 0) {
            set_detail(detail, detail_cap, "PT_LOAD segment %u has unknown flags 0x%x", i, flags);
            return VOUCH_ERR_PARSE;
        }
        if ((flags & PF_W) && (flags & PF_X)) {
            set_detail(detail, detail_cap, "PT_LOAD segment %u is writable and executable", i);
            return VOUCH_ERR_PARSE;
        }
        if (out->n_load > 0 && vaddr < prev_end) {
            set_detail(detail, detail_cap, "PT_LOAD segment %u overlaps or is out of order", i);
            return VOUCH_ERR_PARSE;
        }
        if (out->n_load > 0 && vaddr + memsz - out->load[0].vaddr > VOUCH_MAX_ENCLAVE_MEMORY) {
            set_detail(detail, detail_cap, "PT_LOAD segments span more than %u bytes",
                       VOUCH_MAX_ENCLAVE_MEMORY);
            return VOUCH_ERR_TOO_LARGE;
        }
        prev_end = vaddr + memsz;
        s = &out->load[out->n_load++];
        s->offset = off;
        s->vaddr = vaddr;
        s->filesz = filesz;
        s->memsz = memsz;
        s->flags = flags;
    }
    if (out->n_load == 0) {
        set_detail(detail, detail_cap, "ELF has no PT_LOAD segment");
        return VOUCH_ERR_PARSE;
    }
    if (!have_stack) {
        set_detail(detail, detail_cap,
                   "ELF has no PT_GNU_STACK header (the stack would be executable)");
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

static vouch_err measure_layout(const uint8_t *so, const struct elf_layout *l,
                                const uint8_t config_block[VOUCH_ENCLAVE_CONFIG_BLOCK_LEN],
                                uint8_t out[VOUCH_ENCLAVE_MEASUREMENT_LEN])
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_hash_ctx *h = NULL;
    uint8_t n[4], seg[28];

    if ((rc = vouch_hash_init(VOUCH_HASH_SHA256, &h)) != VOUCH_OK)
        goto out;
    put_u32(n, (uint32_t)l->n_load);
    if ((rc = vouch_hash_update(h, MEASURE_TAG, sizeof(MEASURE_TAG))) != VOUCH_OK ||
        (rc = vouch_hash_update(h, config_block, VOUCH_ENCLAVE_CONFIG_BLOCK_LEN)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, so, ELF_EHDR_LEN)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, so + l->phoff, (size_t)l->phnum * ELF_PHDR_LEN)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, n, sizeof(n))) != VOUCH_OK)
        goto out;
    for (size_t i = 0; i < l->n_load; i++) {
        const struct load_seg *s = &l->load[i];
        put_u64(seg + 0, s->vaddr);
        put_u64(seg + 8, s->memsz);
        put_u32(seg + 16, s->flags);
        put_u64(seg + 20, s->filesz);
        if ((rc = vouch_hash_update(h, seg, sizeof(seg))) != VOUCH_OK ||
            (rc = vouch_hash_update(h, so + s->offset, (size_t)s->filesz)) != VOUCH_OK)
            goto out;
    }
    rc = vouch_hash_final(h, out);
    h = NULL; /* final frees the context in every case */
out:
    vouch_hash_ctx_free(h);
    return rc;
}

/* Copies @p so keeping only the measured ranges, so the bytes a loader maps
 * are a function of the measurement alone (a page holding a segment's tail
 * also maps whatever follows it in the file). */
static vouch_err canonical_so(const uint8_t *so, size_t len, const struct elf_layout *l,
                              uint8_t **out)
{
    uint8_t *c = vouch_calloc(1, len);

    *out = NULL;
    if (!c)
        return VOUCH_ERR_NOMEM;
    memcpy(c, so, ELF_EHDR_LEN);
    memcpy(c + l->phoff, so + l->phoff, (size_t)l->phnum * ELF_PHDR_LEN);
    for (size_t i = 0; i < l->n_load; i++)
        memcpy(c + l->load[i].offset, so + l->load[i].offset, (size_t)l->load[i].filesz);
    *out = c;
    return VOUCH_OK;
}

vouch_err vouch_enclave_measure(const uint8_t *so, size_t so_len,
                                const struct vouch_enclave_image_config *cfg,
                                uint8_t out[VOUCH_ENCLAVE_MEASUREMENT_LEN])
{
    struct elf_layout l;
    uint8_t block[VOUCH_ENCLAVE_CONFIG_BLOCK_LEN];
    vouch_err rc;

    if (!so || !cfg || !out)
        return VOUCH_ERR_INVAL;
    if ((rc = config_check(cfg, NULL, 0)) != VOUCH_OK)
        return rc;
    if ((rc = elf_parse(so, so_len, &l, NULL, 0)) != VOUCH_OK)
        return rc;
    config_encode(cfg, block);
    return measure_layout(so, &l, block, out);
}

/* ---------------- signing ---------------- */

/* tag || header || config block || measurement: what the signature covers. */
#define SIGNED_MSG_LEN                                                              \
    (sizeof(SIGN_TAG) + VOUCH_ENCLAVE_HEADER_LEN + VOUCH_ENCLAVE_CONFIG_BLOCK_LEN + \
     VOUCH_ENCLAVE_MEASUREMENT_LEN)

static void signed_msg(const uint8_t *header, const uint8_t *config_block,
                       const uint8_t *measurement, uint8_t msg[SIGNED_MSG_LEN])
{
    size_t o = 0;

    memcpy(msg + o, SIGN_TAG, sizeof(SIGN_TAG));
    o += sizeof(SIGN_TAG);
    memcpy(msg + o, header, VOUCH_ENCLAVE_HEADER_LEN);
    o += VOUCH_ENCLAVE_HEADER_LEN;
    memcpy(msg + o, config_block, VOUCH_ENCLAVE_CONFIG_BLOCK_LEN);
    o += VOUCH_ENCLAVE_CONFIG_BLOCK_LEN;
    memcpy(msg + o, measurement, VOUCH_ENCLAVE_MEASUREMENT_LEN);
}

static void header_encode(uint64_t so_len, uint32_t sig_block_len,
                          uint8_t out[VOUCH_ENCLAVE_HEADER_LEN])
{
    memcpy(out, VOUCH_ENCLAVE_IMAGE_MAGIC, VOUCH_ENCLAVE_IMAGE_MAGIC_LEN);
    put_u32(out + 8, VOUCH_ENCLAVE_IMAGE_VERSION);
    put_u32(out + 12, VOUCH_ENCLAVE_CONFIG_BLOCK_LEN);
    put_u64(out + 16, so_len);
    put_u32(out + 24, sig_block_len);
    put_u32(out + 28, 0);
}

vouch_err vouch_enclave_signer_id(const struct vouch_pkey *key,
                                  uint8_t out[VOUCH_ENCLAVE_SIGNER_ID_LEN])
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *pub = NULL;
    uint8_t *spki = NULL;
    size_t spki_len = 0;

    if (!key || !out)
        return VOUCH_ERR_INVAL;
    if ((rc = vouch_pkey_public(key, &pub)) != VOUCH_OK ||
        (rc = vouch_pubkey_spki_der(pub, &spki, &spki_len)) != VOUCH_OK)
        goto out;
    rc = vouch_sha256(spki, spki_len, out);
out:
    vouch_free(spki);
    vouch_pubkey_free(pub);
    return rc;
}

vouch_err vouch_enclave_image_sign(const uint8_t *so, size_t so_len,
                                   const struct vouch_enclave_image_config *cfg,
                                   const struct vouch_pkey *key, uint8_t **image_out,
                                   size_t *image_len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *pub = NULL;
    struct vouch_enclave_image *check = NULL;
    struct elf_layout l;
    uint8_t *spki = NULL, *img = NULL;
    size_t spki_len = 0, sig_len = 0, sig_block_len, total, o;
    uint8_t header[VOUCH_ENCLAVE_HEADER_LEN], block[VOUCH_ENCLAVE_CONFIG_BLOCK_LEN];
    uint8_t measurement[VOUCH_ENCLAVE_MEASUREMENT_LEN], msg[SIGNED_MSG_LEN];
    uint8_t sig[VOUCH_ENCLAVE_SIG_ECDSA_P256_LEN];

    if (!image_out || !image_len_out)
        return VOUCH_ERR_INVAL;
    *image_out = NULL;
    *image_len_out = 0;
    if (!so || !cfg || !key)
        return VOUCH_ERR_INVAL;
    if (vouch_pkey_kind(key) != VOUCH_KEY_EC_P256)
        return VOUCH_ERR_INVAL;
    if ((rc = config_check(cfg, NULL, 0)) != VOUCH_OK ||
        (rc = elf_parse(so, so_len, &l, NULL, 0)) != VOUCH_OK)
        goto out;
    config_encode(cfg, block);
    if ((rc = measure_layout(so, &l, block, measurement)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_pkey_public(key, &pub)) != VOUCH_OK ||
        (rc = vouch_pubkey_spki_der(pub, &spki, &spki_len)) != VOUCH_OK)
        goto out;
    if (spki_len > VOUCH_MAX_ENCLAVE_SPKI_SIZE) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    sig_block_len = SIG_BLOCK_FIXED + spki_len + VOUCH_ENCLAVE_SIG_ECDSA_P256_LEN;
    header_encode(so_len, (uint32_t)sig_block_len, header);
    signed_msg(header, block, measurement, msg);
    if ((rc = vouch_pkey_sign(key, VOUCH_SIG_ES256, msg, sizeof(msg), sig, sizeof(sig),
                              &sig_len)) != VOUCH_OK)
        goto out;
    if (sig_len != VOUCH_ENCLAVE_SIG_ECDSA_P256_LEN) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    total = VOUCH_ENCLAVE_HEADER_LEN + VOUCH_ENCLAVE_CONFIG_BLOCK_LEN + so_len + sig_block_len;
    img = vouch_malloc(total);
    if (!img) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    o = 0;
    memcpy(img + o, header, sizeof(header));
    o += sizeof(header);
    memcpy(img + o, block, sizeof(block));
    o += sizeof(block);
    memcpy(img + o, so, so_len);
    o += so_len;
    put_u32(img + o, VOUCH_ENCLAVE_SIG_ECDSA_P256_SHA256);
    put_u32(img + o + 4, (uint32_t)spki_len);
    o += 8;
    memcpy(img + o, spki, spki_len);
    o += spki_len;
    put_u32(img + o, (uint32_t)sig_len);
    o += 4;
    memcpy(img + o, sig, sig_len);
    /* The signer checks its own output, so a signing bug can never ship an
     * image that the loader would refuse. */
    if ((rc = vouch_enclave_image_open(img, total, &check, NULL, 0)) != VOUCH_OK)
        goto out;
    *image_out = img;
    *image_len_out = total;
    img = NULL;
    rc = VOUCH_OK;
out:
    vouch_enclave_image_free(check);
    vouch_free(img);
    vouch_free(spki);
    vouch_pubkey_free(pub);
    return rc;
}

/* ---------------- opening ---------------- */

static vouch_err check_spki(const uint8_t *spki, size_t spki_len, struct vouch_pubkey **pub_out,
                            char *detail, size_t detail_cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;

    *pub_out = NULL;
    /* vouch_pubkey_parse also takes PEM; the image carries DER only. */
    rc = spki_len == 0 || spki[0] != 0x30 ? VOUCH_ERR_PARSE
                                          : vouch_pubkey_parse(spki, spki_len, &pub);
    if (rc == VOUCH_ERR_NOMEM)
        goto out;
    if (rc != VOUCH_OK) {
        set_detail(detail, detail_cap, "signer key is not a DER SubjectPublicKeyInfo");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (!vouch_pubkey_is_ec(pub, VOUCH_CURVE_P256)) {
        set_detail(detail, detail_cap, "signer key is not an EC P-256 key");
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    /* The signer id hashes these exact bytes: a second encoding of the same
     * key must not give the same signer a second identity. */
    if ((rc = vouch_pubkey_spki_der(pub, &der, &der_len)) != VOUCH_OK)
        goto out;
    if (der_len != spki_len || memcmp(der, spki, spki_len) != 0) {
        set_detail(detail, detail_cap, "signer key is not canonically encoded");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *pub_out = pub;
    pub = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(der);
    vouch_pubkey_free(pub);
    return rc;
}

vouch_err vouch_enclave_image_open(const uint8_t *p, size_t len, struct vouch_enclave_image **out,
                                   char *detail, size_t detail_cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r, sigr;
    struct vouch_enclave_image *img = NULL;
    struct vouch_pubkey *pub = NULL;
    struct elf_layout l;
    struct vouch_enclave_image_config cfg;
    const uint8_t *magic = NULL, *header = NULL, *block = NULL, *so = NULL, *spki = NULL,
                  *sig = NULL;
    uint32_t version = 0, config_len = 0, sig_block_len = 0, flags = 0, alg = 0, spki_len = 0,
             sig_len = 0;
    uint64_t so_len = 0;
    uint8_t measurement[VOUCH_ENCLAVE_MEASUREMENT_LEN], msg[SIGNED_MSG_LEN];

    if (detail && detail_cap)
        detail[0] = 0;
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!p) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (len > VOUCH_MAX_ENCLAVE_IMAGE_SIZE) {
        set_detail(detail, detail_cap, "image is larger than %u bytes",
                   VOUCH_MAX_ENCLAVE_IMAGE_SIZE);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    vouch_reader_init(&r, p, len);
    if (vouch_reader_view(&r, VOUCH_ENCLAVE_IMAGE_MAGIC_LEN, &magic) != VOUCH_OK ||
        memcmp(magic, VOUCH_ENCLAVE_IMAGE_MAGIC, VOUCH_ENCLAVE_IMAGE_MAGIC_LEN) != 0) {
        if (len >= 4 && memcmp(p,
                               "\x7f"
                               "ELF",
                               4) == 0)
            set_detail(detail, detail_cap,
                       "unsigned enclave: this is a bare ELF file, not a signed image "
                       "(sign it with `vouch enclave sign`)");
        else
            set_detail(detail, detail_cap, "not an enclave image (bad magic)");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    header = p;
    if (vouch_reader_u32le(&r, &version) != VOUCH_OK ||
        vouch_reader_u32le(&r, &config_len) != VOUCH_OK ||
        vouch_reader_u64le(&r, &so_len) != VOUCH_OK ||
        vouch_reader_u32le(&r, &sig_block_len) != VOUCH_OK ||
        vouch_reader_u32le(&r, &flags) != VOUCH_OK) {
        set_detail(detail, detail_cap, "image truncated in the header");
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    if (version != VOUCH_ENCLAVE_IMAGE_VERSION) {
        set_detail(detail, detail_cap, "image format version %u is not supported", version);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (config_len != VOUCH_ENCLAVE_CONFIG_BLOCK_LEN || flags != 0) {
        set_detail(detail, detail_cap, "image header has a bad config length or unknown flags");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (so_len == 0 || so_len > VOUCH_MAX_ENCLAVE_SO_SIZE) {
        set_detail(detail, detail_cap, "image declares a .so of %llu bytes",
                   (unsigned long long)so_len);
        rc = so_len == 0 ? VOUCH_ERR_PARSE : VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (sig_block_len == 0) {
        set_detail(detail, detail_cap, "unsigned image: it has no signature block");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (sig_block_len >
        SIG_BLOCK_FIXED + VOUCH_MAX_ENCLAVE_SPKI_SIZE + VOUCH_MAX_ENCLAVE_SIG_SIZE) {
        set_detail(detail, detail_cap, "signature block of %u bytes is too large", sig_block_len);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    block = p + vouch_reader_offset(&r);
    if ((rc = config_decode(&r, &cfg, detail, detail_cap)) != VOUCH_OK)
        goto out;
    if (vouch_reader_view(&r, (size_t)so_len, &so) != VOUCH_OK ||
        vouch_reader_sub(&r, sig_block_len, &sigr) != VOUCH_OK) {
        set_detail(detail, detail_cap, "image is shorter than its header declares");
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    if (vouch_reader_left(&r) != 0) {
        set_detail(detail, detail_cap, "image has %zu bytes after the signature block",
                   vouch_reader_left(&r));
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (vouch_reader_u32le(&sigr, &alg) != VOUCH_OK ||
        vouch_reader_u32le(&sigr, &spki_len) != VOUCH_OK) {
        set_detail(detail, detail_cap, "signature block truncated");
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    if (alg != VOUCH_ENCLAVE_SIG_ECDSA_P256_SHA256) {
        set_detail(detail, detail_cap, "signature algorithm %u is not supported", alg);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (spki_len == 0 || spki_len > VOUCH_MAX_ENCLAVE_SPKI_SIZE ||
        vouch_reader_view(&sigr, spki_len, &spki) != VOUCH_OK ||
        vouch_reader_u32le(&sigr, &sig_len) != VOUCH_OK ||
        sig_len != VOUCH_ENCLAVE_SIG_ECDSA_P256_LEN ||
        vouch_reader_view(&sigr, sig_len, &sig) != VOUCH_OK || vouch_reader_left(&sigr) != 0) {
        set_detail(detail, detail_cap, "signature block is malformed");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((rc = elf_parse(so, (size_t)so_len, &l, detail, detail_cap)) != VOUCH_OK ||
        (rc = measure_layout(so, &l, block, measurement)) != VOUCH_OK)
        goto out;
    if ((rc = check_spki(spki, spki_len, &pub, detail, detail_cap)) != VOUCH_OK)
        goto out;
    signed_msg(header, block, measurement, msg);
    rc = vouch_ecdsa_verify_raw(pub, VOUCH_HASH_SHA256, msg, sizeof(msg), sig, sig_len);
    if (rc != VOUCH_OK) {
        set_detail(detail, detail_cap,
                   "image signature does not verify (tampered code, config, header or key)");
        if (rc != VOUCH_ERR_CRYPTO)
            rc = VOUCH_ERR_SIGNATURE;
        goto out;
    }
    img = vouch_calloc(1, sizeof(*img));
    if (!img) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    img->cfg = cfg;
    memcpy(img->id.measurement, measurement, sizeof(measurement));
    if ((rc = vouch_sha256(spki, spki_len, img->id.signer_id)) != VOUCH_OK)
        goto out;
    img->id.product_id = cfg.product_id;
    img->id.svn = cfg.svn;
    img->id.debug = cfg.debug;
    if ((rc = canonical_so(so, (size_t)so_len, &l, &img->so)) != VOUCH_OK)
        goto out;
    img->so_len = (size_t)so_len;
    img->spki = vouch_memdup(spki, spki_len);
    if (!img->spki) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    img->spki_len = spki_len;
    *out = img;
    img = NULL;
    rc = VOUCH_OK;
out:
    vouch_enclave_image_free(img);
    vouch_pubkey_free(pub);
    return rc;
}

vouch_err vouch_enclave_image_read_fd(int fd, struct vouch_enclave_image **out, char *detail,
                                      size_t detail_cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_buf b;
    uint8_t chunk[64 * 1024];

    if (detail && detail_cap)
        detail[0] = 0;
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (fd < 0)
        return VOUCH_ERR_INVAL;
    vouch_buf_init(&b, VOUCH_MAX_ENCLAVE_IMAGE_SIZE);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_detail(detail, detail_cap, "reading the image failed: %s", strerror(errno));
            rc = VOUCH_ERR_IO;
            goto out;
        }
        if (n == 0)
            break;
        if ((rc = vouch_buf_append(&b, chunk, (size_t)n)) != VOUCH_OK) {
            if (rc == VOUCH_ERR_TOO_LARGE)
                set_detail(detail, detail_cap, "image is larger than %u bytes",
                           VOUCH_MAX_ENCLAVE_IMAGE_SIZE);
            goto out;
        }
    }
    rc = vouch_enclave_image_open(b.data ? b.data : chunk, b.len, out, detail, detail_cap);
out:
    vouch_buf_free(&b);
    return rc;
}

void vouch_enclave_image_free(struct vouch_enclave_image *img)
{
    if (!img)
        return;
    vouch_free(img->so);
    vouch_free(img->spki);
    vouch_free(img);
}

const struct vouch_enclave_identity *
vouch_enclave_image_identity(const struct vouch_enclave_image *img)
{
    return img ? &img->id : NULL;
}

const struct vouch_enclave_image_config *
vouch_enclave_image_config(const struct vouch_enclave_image *img)
{
    return img ? &img->cfg : NULL;
}

void vouch_enclave_image_so(const struct vouch_enclave_image *img, const uint8_t **p, size_t *len)
{
    if (p)
        *p = img ? img->so : NULL;
    if (len)
        *len = img ? img->so_len : 0;
}

void vouch_enclave_image_signer_spki(const struct vouch_enclave_image *img, const uint8_t **p,
                                     size_t *len)
{
    if (p)
        *p = img ? img->spki : NULL;
    if (len)
        *len = img ? img->spki_len : 0;
}
