/*
 * Signed enclave images (src/tee/image.c): the measurement is what the header
 * documents, is stable and changes with every measured byte and config field;
 * unsigned, tampered, truncated and malformed images and ELF files are
 * refused; a real .so built by cc signs, opens, and its canonical bytes
 * (unmeasured bytes zeroed) still load with dlopen.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/enclave_image.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "testutil.h"

/* ---- a synthetic ELF: three PT_LOAD segments and a PT_GNU_STACK ---- */

#define SO_LEN 0x3000u
#define PHOFF  64u
#define PHNUM  4u

static void p16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void p32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void p64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void phdr(uint8_t *so, unsigned i, uint32_t type, uint32_t flags, uint64_t off,
                 uint64_t vaddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
    uint8_t *p = so + PHOFF + 56u * i;
    p32(p, type);
    p32(p + 4, flags);
    p64(p + 8, off);
    p64(p + 16, vaddr);
    p64(p + 24, vaddr);
    p64(p + 32, filesz);
    p64(p + 40, memsz);
    p64(p + 48, align);
}

/* Measured ranges of the synthetic .so: [0, 0x1000) (ELF header and
 * program headers are inside), [0x1000, 0x1800), [0x2000, 0x2100). */
static uint8_t *make_so(void)
{
    uint8_t *so = calloc(1, SO_LEN);
    assert_non_null(so);
    for (size_t i = 0; i < SO_LEN; i++)
        so[i] = (uint8_t)(i * 7 + 3);
    memset(so, 0, PHOFF + 56u * PHNUM);
    memcpy(so,
           "\x7f"
           "ELF",
           4);
    so[4] = 2;        /* ELFCLASS64 */
    so[5] = 1;        /* little-endian */
    so[6] = 1;        /* EV_CURRENT */
    p16(so + 16, 3);  /* ET_DYN */
    p16(so + 18, 62); /* EM_X86_64 */
    p32(so + 20, 1);
    p64(so + 24, 0x1000); /* entry */
    p64(so + 32, PHOFF);
    p16(so + 52, 64);
    p16(so + 54, 56);
    p16(so + 56, PHNUM);
    phdr(so, 0, 1, 4, 0, 0, 0x1000, 0x1000, 0x1000);
    phdr(so, 1, 1, 5, 0x1000, 0x1000, 0x800, 0x800, 0x1000);
    phdr(so, 2, 1, 6, 0x2000, 0x3000, 0x100, 0x2000, 0x1000);
    phdr(so, 3, 0x6474e551u, 6, 0, 0, 0, 0, 16);
    return so;
}

static bool measured(size_t off)
{
    return off < 0x1800 || (off >= 0x2000 && off < 0x2100);
}

static struct vouch_enclave_image_config cfg_std(void)
{
    struct vouch_enclave_image_config c;
    vouch_enclave_image_config_default(&c);
    c.product_id = 7;
    c.svn = 3;
    c.debug = true;
    return c;
}

static struct vouch_pkey *key;
static struct vouch_pkey *key2;

static int setup(void **state)
{
    (void)state;
    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key) != VOUCH_OK ||
        vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key2) != VOUCH_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vouch_pkey_free(key);
    vouch_pkey_free(key2);
    return 0;
}

static void measure_ok(const uint8_t *so, size_t len, const struct vouch_enclave_image_config *c,
                       uint8_t out[32])
{
    assert_int_equal(vouch_enclave_measure(so, len, c, out), VOUCH_OK);
}

/* The measurement recomputed from the documented formula, independently of
 * image.c, with the synthetic layout known to the test. */
static void documented_measurement(const uint8_t *so, const struct vouch_enclave_image_config *c,
                                   uint8_t out[32])
{
    static const struct {
        uint64_t off, vaddr, filesz, memsz;
        uint32_t flags;
    } segs[3] = {{0, 0, 0x1000, 0x1000, 4},
                 {0x1000, 0x1000, 0x800, 0x800, 5},
                 {0x2000, 0x3000, 0x100, 0x2000, 6}};
    struct vouch_hash_ctx *h = NULL;
    uint8_t block[32] = {0}, n[4], seg[28];

    p16(block, c->product_id);
    p16(block + 2, c->svn);
    p32(block + 4, c->debug ? 1u : 0u);
    p64(block + 8, c->heap_size);
    p64(block + 16, c->stack_size);
    p32(block + 24, c->thread_count);
    p32(n, 3);
    assert_int_equal(vouch_hash_init(VOUCH_HASH_SHA256, &h), VOUCH_OK);
    assert_int_equal(vouch_hash_update(h, "VOUCH-ENCLAVE-MEASUREMENT-V1", 29), VOUCH_OK);
    assert_int_equal(vouch_hash_update(h, block, 32), VOUCH_OK);
    assert_int_equal(vouch_hash_update(h, so, 64), VOUCH_OK);
    assert_int_equal(vouch_hash_update(h, so + PHOFF, 56u * PHNUM), VOUCH_OK);
    assert_int_equal(vouch_hash_update(h, n, 4), VOUCH_OK);
    for (int i = 0; i < 3; i++) {
        p64(seg, segs[i].vaddr);
        p64(seg + 8, segs[i].memsz);
        p32(seg + 16, segs[i].flags);
        p64(seg + 20, segs[i].filesz);
        assert_int_equal(vouch_hash_update(h, seg, 28), VOUCH_OK);
        assert_int_equal(vouch_hash_update(h, so + segs[i].off, segs[i].filesz), VOUCH_OK);
    }
    assert_int_equal(vouch_hash_final(h, out), VOUCH_OK);
}

static void test_measurement_documented_and_stable(void **state)
{
    (void)state;
    uint8_t *so = make_so();
    struct vouch_enclave_image_config c = cfg_std();
    uint8_t a[32], b[32], doc[32];

    measure_ok(so, SO_LEN, &c, a);
    measure_ok(so, SO_LEN, &c, b);
    assert_memory_equal(a, b, 32);
    documented_measurement(so, &c, doc);
    assert_memory_equal(a, doc, 32);
    free(so);
}

static void test_measurement_changes_with_code(void **state)
{
    (void)state;
    uint8_t *so = make_so();
    struct vouch_enclave_image_config c = cfg_std();
    uint8_t base[32], m[32];
    size_t changed = 0, same = 0;

    measure_ok(so, SO_LEN, &c, base);
    /* Every byte of every PT_LOAD segment's file range (bytes the ELF parser
     * must refuse once changed, such as e_machine, count as changes too). */
    for (size_t i = 0; i < SO_LEN; i++) {
        vouch_err rc;
        so[i] ^= 0x01;
        rc = vouch_enclave_measure(so, SO_LEN, &c, m);
        if (measured(i)) {
            assert_true(rc != VOUCH_OK || memcmp(m, base, 32) != 0);
            changed++;
        } else {
            /* Gap bytes are not loaded: documented as unmeasured. */
            assert_int_equal(rc, VOUCH_OK);
            assert_memory_equal(m, base, 32);
            same++;
        }
        so[i] ^= 0x01;
    }
    assert_int_equal(changed, 0x1900);
    assert_int_equal(same, SO_LEN - 0x1900);
    free(so);
}

static void test_measurement_changes_with_config(void **state)
{
    (void)state;
    uint8_t *so = make_so();
    struct vouch_enclave_image_config c = cfg_std(), d;
    uint8_t base[32], m[32];

    measure_ok(so, SO_LEN, &c, base);
    d = c;
    d.product_id++;
    measure_ok(so, SO_LEN, &d, m);
    assert_memory_not_equal(m, base, 32);
    d = c;
    d.svn++;
    measure_ok(so, SO_LEN, &d, m);
    assert_memory_not_equal(m, base, 32);
    d = c;
    d.debug = false;
    measure_ok(so, SO_LEN, &d, m);
    assert_memory_not_equal(m, base, 32);
    d = c;
    d.heap_size += 4096;
    measure_ok(so, SO_LEN, &d, m);
    assert_memory_not_equal(m, base, 32);
    d = c;
    d.stack_size += 4096;
    measure_ok(so, SO_LEN, &d, m);
    assert_memory_not_equal(m, base, 32);
    d = c;
    d.thread_count++;
    measure_ok(so, SO_LEN, &d, m);
    assert_memory_not_equal(m, base, 32);
    free(so);
}

static void test_config_limits(void **state)
{
    (void)state;
    uint8_t *so = make_so();
    struct vouch_enclave_image_config c = cfg_std(), d;
    uint8_t m[32];

    assert_int_equal(vouch_enclave_image_config_check(&c), VOUCH_OK);
    d = c;
    d.heap_size = 4096 * 3 + 1;
    assert_int_equal(vouch_enclave_image_config_check(&d), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_enclave_measure(so, SO_LEN, &d, m), VOUCH_ERR_INVAL);
    d = c;
    d.heap_size = VOUCH_MAX_ENCLAVE_HEAP_SIZE + 4096;
    assert_int_equal(vouch_enclave_image_config_check(&d), VOUCH_ERR_INVAL);
    d = c;
    d.stack_size = 4096;
    assert_int_equal(vouch_enclave_image_config_check(&d), VOUCH_ERR_INVAL);
    d = c;
    d.thread_count = 0;
    assert_int_equal(vouch_enclave_image_config_check(&d), VOUCH_ERR_INVAL);
    d = c;
    d.thread_count = VOUCH_MAX_ENCLAVE_THREADS + 1;
    assert_int_equal(vouch_enclave_image_config_check(&d), VOUCH_ERR_INVAL);
    free(so);
}

static void test_config_json(void **state)
{
    (void)state;
    struct vouch_enclave_image_config c;
    char detail[256];
    json_t *j = NULL;
    static const char good[] = "{\"product_id\":1,\"security_version\":2,\"debug\":true,"
                               "\"heap_size\":1048576,\"stack_size\":65536,\"thread_count\":4}";

    assert_int_equal(vouch_enclave_image_config_parse_json((const uint8_t *)good, strlen(good), &c,
                                                           detail, sizeof(detail)),
                     VOUCH_OK);
    assert_int_equal(c.product_id, 1);
    assert_int_equal(c.svn, 2);
    assert_true(c.debug);
    assert_int_equal(c.heap_size, 1048576);
    assert_int_equal(c.stack_size, 65536);
    assert_int_equal(c.thread_count, 4);
    assert_int_equal(vouch_enclave_image_config_to_json(&c, &j), VOUCH_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "heap_size")), 1048576);
    assert_int_equal(json_integer_value(json_object_get(j, "security_version")), 2);
    json_decref(j);

    static const char minimal[] = "{\"product_id\":9,\"security_version\":0}";
    assert_int_equal(vouch_enclave_image_config_parse_json(
                         (const uint8_t *)minimal, strlen(minimal), &c, detail, sizeof(detail)),
                     VOUCH_OK);
    assert_false(c.debug);
    assert_int_equal(c.heap_size, VOUCH_ENCLAVE_DEFAULT_HEAP_SIZE);
    assert_int_equal(c.thread_count, VOUCH_ENCLAVE_DEFAULT_THREAD_COUNT);

    static const char *const bad[] = {
        "{\"product_id\":1}",
        "{\"security_version\":1}",
        "{\"product_id\":1,\"security_version\":1,\"heapsize\":4096}",
        "{\"product_id\":65536,\"security_version\":1}",
        "{\"product_id\":-1,\"security_version\":1}",
        "{\"product_id\":1,\"security_version\":1,\"debug\":1}",
        "{\"product_id\":\"1\",\"security_version\":1}",
        "{\"product_id\":1,\"security_version\":1,\"heap_size\":1000}",
        "{\"product_id\":1,\"security_version\":1,\"thread_count\":0}",
        "{\"product_id\":1,\"security_version\":1,\"stack_size\":1.5}",
        "{\"product_id\":1,\"product_id\":2,\"security_version\":1}",
        "[1,2]",
        "{",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        detail[0] = 0;
        assert_int_not_equal(vouch_enclave_image_config_parse_json((const uint8_t *)bad[i],
                                                                   strlen(bad[i]), &c, detail,
                                                                   sizeof(detail)),
                             VOUCH_OK);
        assert_true(detail[0] != 0);
    }
}

static void sign_std(uint8_t **img, size_t *len)
{
    uint8_t *so = make_so();
    struct vouch_enclave_image_config c = cfg_std();
    assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, key, img, len), VOUCH_OK);
    free(so);
}

static void test_sign_open_roundtrip(void **state)
{
    (void)state;
    uint8_t *so = make_so(), *img = NULL, *img2 = NULL;
    size_t len = 0, len2 = 0, so_len = 0, spki_len = 0;
    struct vouch_enclave_image_config c = cfg_std();
    struct vouch_enclave_image *im = NULL, *im2 = NULL;
    const struct vouch_enclave_identity *id;
    const uint8_t *so_view = NULL, *spki = NULL;
    uint8_t m[32], sid[32], h[32];
    char detail[256];
    json_t *j = NULL;

    measure_ok(so, SO_LEN, &c, m);
    assert_int_equal(vouch_enclave_signer_id(key, sid), VOUCH_OK);
    assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, key, &img, &len), VOUCH_OK);
    assert_int_equal(len, 64 + SO_LEN + 12 + 91 + 64);
    assert_memory_equal(img, "VOUCHENC", 8);
    assert_int_equal(vouch_enclave_image_open(img, len, &im, detail, sizeof(detail)), VOUCH_OK);
    id = vouch_enclave_image_identity(im);
    assert_memory_equal(id->measurement, m, 32);
    assert_memory_equal(id->signer_id, sid, 32);
    assert_int_equal(id->product_id, 7);
    assert_int_equal(id->svn, 3);
    assert_true(id->debug);
    assert_int_equal(vouch_enclave_image_config(im)->heap_size, c.heap_size);
    assert_int_equal(vouch_enclave_image_config(im)->thread_count, c.thread_count);
    vouch_enclave_image_signer_spki(im, &spki, &spki_len);
    assert_int_equal(spki_len, 91);
    assert_int_equal(vouch_sha256(spki, spki_len, h), VOUCH_OK);
    assert_memory_equal(h, sid, 32);

    /* The canonical .so: measured bytes as in the file, the rest zero. */
    vouch_enclave_image_so(im, &so_view, &so_len);
    assert_int_equal(so_len, SO_LEN);
    for (size_t i = 0; i < SO_LEN; i++)
        assert_int_equal(so_view[i], measured(i) ? so[i] : 0);

    /* Signing again (ECDSA is randomised) gives different bytes but the
     * same identity; another key gives another signer id only. */
    assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, key2, &img2, &len2), VOUCH_OK);
    assert_int_equal(vouch_enclave_image_open(img2, len2, &im2, NULL, 0), VOUCH_OK);
    assert_memory_equal(vouch_enclave_image_identity(im2)->measurement, m, 32);
    assert_memory_not_equal(vouch_enclave_image_identity(im2)->signer_id, sid, 32);

    assert_int_equal(vouch_enclave_identity_to_json(id, &j), VOUCH_OK);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "measurement"))), 64);
    assert_int_equal(json_integer_value(json_object_get(j, "product_id")), 7);
    assert_true(json_is_true(json_object_get(j, "debug")));
    json_decref(j);

    vouch_enclave_image_free(im);
    vouch_enclave_image_free(im2);
    vouch_free(img);
    vouch_free(img2);
    free(so);
}

static void test_sign_refuses_bad_input(void **state)
{
    (void)state;
    uint8_t *so = make_so(), *img = NULL;
    size_t len = 0;
    struct vouch_enclave_image_config c = cfg_std();
    struct vouch_pkey *rsa = NULL;

    assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_RSA_2048, &rsa), VOUCH_OK);
    assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, rsa, &img, &len), VOUCH_ERR_INVAL);
    assert_null(img);
    c.thread_count = 0;
    assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, key, &img, &len), VOUCH_ERR_INVAL);
    c = cfg_std();
    so[18] = 40; /* ARM */
    assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, key, &img, &len),
                     VOUCH_ERR_UNSUPPORTED);
    assert_null(img);
    vouch_pkey_free(rsa);
    free(so);
}

static vouch_err open_rc(const uint8_t *img, size_t len)
{
    struct vouch_enclave_image *im = NULL;
    char detail[256] = "";
    vouch_err rc = vouch_enclave_image_open(img, len, &im, detail, sizeof(detail));
    if (rc == VOUCH_OK) {
        assert_non_null(im);
    } else {
        assert_null(im);
        assert_true(detail[0] != 0); /* every refusal says why */
    }
    vouch_enclave_image_free(im);
    return rc;
}

static void test_tamper_every_region(void **state)
{
    (void)state;
    uint8_t *img = NULL;
    size_t len = 0;
    const size_t so_off = 64, sig_off = 64 + SO_LEN;

    sign_std(&img, &len);
    assert_int_equal(open_rc(img, len), VOUCH_OK);
    /* Header and config: every byte, several bit patterns. */
    for (size_t i = 0; i < so_off; i++) {
        for (unsigned bit = 0; bit < 8; bit += 3) {
            img[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(open_rc(img, len), VOUCH_OK);
            img[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Signature block: algorithm, key length, the key, signature length, r||s. */
    for (size_t i = sig_off; i < len; i++) {
        img[i] ^= 0x40;
        assert_int_not_equal(open_rc(img, len), VOUCH_OK);
        img[i] ^= 0x40;
    }
    /* Code: a byte in each segment gives SIGNATURE exactly. */
    img[so_off + 0x500] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_ERR_SIGNATURE);
    img[so_off + 0x500] ^= 1;
    img[so_off + 0x1234] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_ERR_SIGNATURE);
    img[so_off + 0x1234] ^= 1;
    img[so_off + 0x20ff] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_ERR_SIGNATURE);
    img[so_off + 0x20ff] ^= 1;
    /* Config: debug flag off, svn changed (each a valid config). */
    img[32 + 4] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_ERR_SIGNATURE);
    img[32 + 4] ^= 1;
    img[32 + 2] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_ERR_SIGNATURE);
    img[32 + 2] ^= 1;
    /* An unmeasured byte may change: it is zeroed before loading. */
    img[so_off + 0x1900] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_OK);
    img[so_off + 0x1900] ^= 1;
    assert_int_equal(open_rc(img, len), VOUCH_OK);
    vouch_free(img);
}

static void test_key_substitution(void **state)
{
    (void)state;
    uint8_t *img = NULL, *img2 = NULL;
    size_t len = 0, len2 = 0;
    const size_t spki_off = 64 + SO_LEN + 8;

    sign_std(&img, &len);
    {
        uint8_t *so = make_so();
        struct vouch_enclave_image_config c = cfg_std();
        assert_int_equal(vouch_enclave_image_sign(so, SO_LEN, &c, key2, &img2, &len2), VOUCH_OK);
        free(so);
    }
    assert_int_equal(len, len2);
    /* Another developer's key in place of the signer's: the signature no
     * longer verifies (it would otherwise claim a different signer id). */
    memcpy(img + spki_off, img2 + spki_off, 91);
    assert_int_equal(open_rc(img, len), VOUCH_ERR_SIGNATURE);
    /* Key and signature both swapped to key2's: valid, with key2's id. */
    memcpy(img + spki_off + 91, img2 + spki_off + 91, 4 + 64);
    assert_int_equal(open_rc(img, len), VOUCH_OK);
    vouch_free(img);
    vouch_free(img2);
}

static void test_unsigned_and_truncated(void **state)
{
    (void)state;
    uint8_t *img = NULL, *so = make_so(), *big;
    size_t len = 0;
    char detail[256];
    struct vouch_enclave_image *im = NULL;

    sign_std(&img, &len);
    /* A bare .so is not an image. */
    assert_int_equal(vouch_enclave_image_open(so, SO_LEN, &im, detail, sizeof(detail)),
                     VOUCH_ERR_PARSE);
    assert_non_null(strstr(detail, "unsigned"));
    /* An image whose signature block was stripped and declared empty. */
    p32(img + 24, 0);
    assert_int_equal(vouch_enclave_image_open(img, 64 + SO_LEN, &im, detail, sizeof(detail)),
                     VOUCH_ERR_PARSE);
    assert_non_null(strstr(detail, "unsigned"));
    p32(img + 24, (uint32_t)(len - 64 - SO_LEN));
    assert_int_equal(open_rc(img, len), VOUCH_OK);
    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut += (cut < 128 || cut > len - 200) ? 1 : 97)
        assert_int_not_equal(open_rc(img, cut), VOUCH_OK);
    /* A trailing byte. */
    big = malloc(len + 1);
    assert_non_null(big);
    memcpy(big, img, len);
    big[len] = 0;
    assert_int_equal(open_rc(big, len + 1), VOUCH_ERR_PARSE);
    free(big);
    assert_int_equal(vouch_enclave_image_open(NULL, 0, &im, NULL, 0), VOUCH_ERR_INVAL);
    vouch_free(img);
    free(so);
}

static void test_read_fd(void **state)
{
    (void)state;
    uint8_t *img = NULL;
    size_t len = 0;
    char path[] = "/tmp/vouch-enclave-image-XXXXXX";
    struct vouch_enclave_image *im = NULL;
    int fd;

    sign_std(&img, &len);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, img, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(vouch_enclave_image_read_fd(fd, &im, NULL, 0), VOUCH_OK);
    assert_int_equal(vouch_enclave_image_identity(im)->product_id, 7);
    vouch_enclave_image_free(im);
    im = NULL;
    /* A truncated file read through the fd is refused the same way. */
    assert_int_equal(ftruncate(fd, (off_t)(len - 1)), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_not_equal(vouch_enclave_image_read_fd(fd, &im, NULL, 0), VOUCH_OK);
    assert_null(im);
    close(fd);
    unlink(path);
    vouch_free(img);
}

/* ---- malformed ELF files ---- */

static vouch_err measure_rc(const uint8_t *so, size_t len)
{
    struct vouch_enclave_image_config c = cfg_std();
    uint8_t m[32];
    return vouch_enclave_measure(so, len, &c, m);
}

static void test_malformed_elf(void **state)
{
    (void)state;
    uint8_t *so = make_so();
    uint8_t *t;

    assert_int_equal(measure_rc(so, SO_LEN), VOUCH_OK);
#define MUTATE(code, expect)                             \
    do {                                                 \
        t = make_so();                                   \
        code;                                            \
        assert_int_equal(measure_rc(t, SO_LEN), expect); \
        free(t);                                         \
    } while (0)
    /* identification */
    MUTATE(t[0] = 0x7e, VOUCH_ERR_PARSE);
    MUTATE(t[4] = 1, VOUCH_ERR_UNSUPPORTED);                  /* 32-bit */
    MUTATE(t[5] = 2, VOUCH_ERR_UNSUPPORTED);                  /* big-endian */
    MUTATE(t[6] = 2, VOUCH_ERR_PARSE);                        /* version */
    MUTATE(t[7] = 9, VOUCH_ERR_PARSE);                        /* OS ABI */
    MUTATE(t[12] = 1, VOUCH_ERR_PARSE);                       /* padding */
    MUTATE(p16(t + 16, 2), VOUCH_ERR_UNSUPPORTED);            /* ET_EXEC */
    MUTATE(p16(t + 18, 183), VOUCH_ERR_UNSUPPORTED);          /* aarch64 */
    MUTATE(p32(t + 20, 2), VOUCH_ERR_PARSE);                  /* e_version */
    MUTATE(p16(t + 52, 52), VOUCH_ERR_PARSE);                 /* e_ehsize */
    MUTATE(p16(t + 54, 32), VOUCH_ERR_PARSE);                 /* e_phentsize */
    MUTATE(p16(t + 56, 0), VOUCH_ERR_PARSE);                  /* no program headers */
    MUTATE(p16(t + 56, 0xffff), VOUCH_ERR_TOO_LARGE);         /* PN_XNUM */
    MUTATE(p64(t + 32, SO_LEN - 100), VOUCH_ERR_TRUNCATED);   /* phdrs past the end */
    MUTATE(p64(t + 32, UINT64_MAX - 8), VOUCH_ERR_TRUNCATED); /* offset overflow */
    /* segments */
    MUTATE(p64(t + PHOFF + 56 + 8, SO_LEN), VOUCH_ERR_TRUNCATED);  /* offset past end */
    MUTATE(p64(t + PHOFF + 56 + 32, SO_LEN), VOUCH_ERR_TRUNCATED); /* filesz past end */
    MUTATE(p64(t + PHOFF + 56 + 8, UINT64_MAX - 0xfff), VOUCH_ERR_TRUNCATED);
    MUTATE(p64(t + PHOFF + 56 + 40, 0x700), VOUCH_ERR_PARSE); /* filesz > memsz */
    MUTATE(p64(t + PHOFF + 56 + 40, 0), VOUCH_ERR_PARSE);     /* memsz 0 */
    MUTATE(p64(t + PHOFF + 56 + 40, (uint64_t)VOUCH_MAX_ENCLAVE_MEMORY + 1), VOUCH_ERR_PARSE);
    MUTATE(p32(t + PHOFF + 56 + 4, 7), VOUCH_ERR_PARSE);           /* W+X */
    MUTATE(p32(t + PHOFF + 56 + 4, 0x80000005u), VOUCH_ERR_PARSE); /* unknown flag */
    MUTATE(p64(t + PHOFF + 56 + 48, 0x1800), VOUCH_ERR_PARSE);     /* align not 2^n */
    MUTATE(p64(t + PHOFF + 56 + 48, 16), VOUCH_ERR_PARSE);         /* align < page */
    MUTATE(p64(t + PHOFF + 56 + 16, 0x1010), VOUCH_ERR_PARSE);     /* vaddr != off mod */
    MUTATE(p64(t + PHOFF + 56 + 16, 0x0), VOUCH_ERR_PARSE);        /* overlaps seg 0 */
    MUTATE(p64(t + PHOFF + 2 * 56 + 16, 0x1000 + 0x1000 * 0x40000ull), VOUCH_ERR_TOO_LARGE);
    MUTATE((p32(t + PHOFF, 2), p32(t + PHOFF + 56, 2), p32(t + PHOFF + 112, 2)),
           VOUCH_ERR_PARSE); /* no PT_LOAD at all */
    /* The stack: glibc maps it executable for a PF_X PT_GNU_STACK and, on
     * x86-64, when the header is missing, so both are refused. */
    MUTATE(p32(t + PHOFF + 3 * 56 + 4, 7), VOUCH_ERR_PARSE);       /* RWX stack */
    MUTATE(p32(t + PHOFF + 3 * 56 + 4, 5), VOUCH_ERR_PARSE);       /* RX stack */
    MUTATE(p32(t + PHOFF + 3 * 56, 4), VOUCH_ERR_PARSE);           /* no PT_GNU_STACK (PT_NOTE) */
    MUTATE(p16(t + 56, 3), VOUCH_ERR_PARSE);                       /* no PT_GNU_STACK (dropped) */
    MUTATE(p32(t + PHOFF + 2 * 56, 0x6474e551u), VOUCH_ERR_PARSE); /* two PT_GNU_STACK */
    MUTATE(p32(t + PHOFF + 3 * 56 + 4, 4), VOUCH_OK);              /* read-only stack is fine */
#undef MUTATE
    /* Short files. */
    for (size_t cut = 0; cut < 64 + 56 * PHNUM; cut++)
        assert_int_not_equal(measure_rc(so, cut), VOUCH_OK);
    /* Too many PT_LOAD segments: 17 page-sized ones. */
    {
        size_t n = VOUCH_MAX_ENCLAVE_LOAD_SEGMENTS + 1, len = 0x1000 * (n + 1);
        uint8_t *m = calloc(1, len);
        assert_non_null(m);
        memcpy(m, so, 64);
        p16(m + 56, (uint16_t)n);
        for (unsigned i = 0; i < n; i++)
            phdr(m, i, 1, 4, 0x1000u * (i + 1), 0x1000u * (i + 1), 0x10, 0x10, 0x1000);
        assert_int_equal(measure_rc(m, len), VOUCH_ERR_TOO_LARGE);
        /* 16 PT_LOAD and the (required) non-executable PT_GNU_STACK. */
        phdr(m, (unsigned)n - 1, 0x6474e551u, 6, 0, 0, 0, 0, 16);
        assert_int_equal(measure_rc(m, len), VOUCH_OK);
        free(m);
    }
    free(so);
}

/* ---- a real .so, built by cc ---- */

static void test_real_so_dlopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/vouch-enclave-so-XXXXXX";
    char src[128], so_path[128], canon[128], cmd[512];
    uint8_t *so, *img = NULL;
    size_t so_len = 0, img_len = 0, clen = 0;
    const uint8_t *cbytes = NULL;
    struct vouch_enclave_image_config c = cfg_std();
    struct vouch_enclave_image *im = NULL;
    FILE *f;
    void *h;
    int (*answer)(void);
    int fd;

    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof(src), "%s/e.c", dir);
    snprintf(so_path, sizeof(so_path), "%s/e.so", dir);
    snprintf(canon, sizeof(canon), "%s/canon.so", dir);
    f = fopen(src, "w");
    assert_non_null(f);
    fputs("static int table[64] = {41};\n"
          "int vouch_test_answer(void) { return table[0] + 1; }\n",
          f);
    fclose(f);
    /* -g: debug sections and symbol tables (unmeasured) then exist. */
    snprintf(cmd, sizeof(cmd), "cc -shared -fPIC -g -O1 -o %s %s", so_path, src);
    assert_int_equal(system(cmd), 0);
    so = vt_read_path(so_path, &so_len);
    assert_int_equal(vouch_enclave_image_sign(so, so_len, &c, key, &img, &img_len), VOUCH_OK);
    assert_int_equal(vouch_enclave_image_open(img, img_len, &im, NULL, 0), VOUCH_OK);
    vouch_enclave_image_so(im, &cbytes, &clen);
    assert_int_equal(clen, so_len);
    /* Something was zeroed (the debug info), and the result still loads. */
    assert_memory_not_equal(cbytes, so, so_len);
    fd = open(canon, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, cbytes, clen), (ssize_t)clen);
    close(fd);
    h = dlopen(canon, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    *(void **)&answer = dlsym(h, "vouch_test_answer");
    assert_non_null(answer);
    assert_int_equal(answer(), 42);
    dlclose(h);
    vouch_enclave_image_free(im);
    vouch_free(img);
    free(so);
    unlink(src);
    unlink(so_path);
    unlink(canon);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measurement_documented_and_stable),
        cmocka_unit_test(test_measurement_changes_with_code),
        cmocka_unit_test(test_measurement_changes_with_config),
        cmocka_unit_test(test_config_limits),
        cmocka_unit_test(test_config_json),
        cmocka_unit_test(test_sign_open_roundtrip),
        cmocka_unit_test(test_sign_refuses_bad_input),
        cmocka_unit_test(test_tamper_every_region),
        cmocka_unit_test(test_key_substitution),
        cmocka_unit_test(test_unsigned_and_truncated),
        cmocka_unit_test(test_read_fd),
        cmocka_unit_test(test_malformed_elf),
        cmocka_unit_test(test_real_so_dlopen),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
