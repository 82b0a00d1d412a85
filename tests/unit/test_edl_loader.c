/*
 * Generated EDL stubs end to end through the real software runtime: the
 * enclave half of tests/unit/edl/edl_test.edl is built with
 * vouch_add_enclave, signed here with a fresh key and started by
 * vouch-enclave-loader; the host half calls it in all three channel modes,
 * with ocalls back into this process. Hand-built malicious buffers sent with
 * the raw vouch_enclave_ecall are refused by the enclave-side stubs and the
 * enclave keeps serving; the enclave heap budget turns into VOUCH_ERR_NOMEM.
 * (test_edl.c covers the same stubs in-process, without the loader.)
 */
#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "edl_test_u.h"

#ifndef EDL_LOADER_ENCLAVE_SO
#error "EDL_LOADER_ENCLAVE_SO is set by cmake/edger8r.cmake"
#endif

#define HEAP_SIZE VOUCH_MIN_ENCLAVE_HEAP_SIZE
#define THREADS   2u

static char tmpdir[] = "/tmp/vouch-edl-loader-XXXXXX";
static char image_path[PATH_MAX];
static char platform_dir[PATH_MAX];

/* ---- the host's ocall implementations ---- */

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

/* ---- setup ---- */

static int group_setup(void **state)
{
    struct vouch_enclave_image_config cfg;
    struct vouch_pkey *key = NULL;
    uint8_t *so = NULL, *img = NULL;
    size_t so_len = 0, img_len = 0;
    FILE *f = NULL;
    int rc = -1;

    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(image_path, sizeof(image_path), "%s/edl.enclave", tmpdir);
    snprintf(platform_dir, sizeof(platform_dir), "%s/platform", tmpdir);
    so = vt_read_path(EDL_LOADER_ENCLAVE_SO, &so_len);
    vouch_enclave_image_config_default(&cfg);
    cfg.heap_size = HEAP_SIZE;
    cfg.thread_count = THREADS;
    if (!so || vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key) != VOUCH_OK ||
        vouch_enclave_image_sign(so, so_len, &cfg, key, &img, &img_len) != VOUCH_OK)
        goto out;
    f = fopen(image_path, "wb");
    if (!f || fwrite(img, 1, img_len, f) != img_len)
        goto out;
    rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = -1;
    vouch_pkey_free(key);
    vouch_free(img);
    free(so);
    return rc;
}

static int group_teardown(void **state)
{
    char cmd[PATH_MAX + 16];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct vouch_enclave *start(enum vouch_enclave_mode mode)
{
    struct vouch_enclave_config cfg = {.ocalls = edl_test_ocall_table,
                                       .ocall_count = edl_test_ocall_count,
                                       .platform_dir = platform_dir,
                                       .loader_path = VOUCH_TEST_LOADER,
                                       .mode = mode};
    struct vouch_enclave *e = NULL;

    assert_int_equal(vouch_enclave_create(image_path, &cfg, &e), VOUCH_OK);
    assert_non_null(e);
    return e;
}

/* ---- tests ---- */

static void roundtrip(enum vouch_enclave_mode mode)
{
    struct vouch_enclave *e = start(mode);
    int r = 0;
    uint64_t s = 0, want = 0;
    size_t n = 0;
    bool ok = false;
    uint32_t v[1000];
    uint8_t buf[100];
    int32_t four[4] = {1, 2, 3, 4};
    int64_t m[3] = {1, 2, 3}, ms = 0;
    int16_t vals[3] = {10, -2, 30};

    assert_int_equal(add(e, &r, 2, 40), VOUCH_OK);
    assert_int_equal(r, 42);
    assert_int_equal(noop(e), VOUCH_OK);
    assert_int_equal(noop_fast(e), VOUCH_OK);
    for (size_t i = 0; i < 1000; i++) {
        v[i] = (uint32_t)(i * 7919u);
        want += v[i];
    }
    assert_int_equal(sum(e, &s, v, 1000), VOUCH_OK);
    assert_int_equal(s, want);
    assert_int_equal(str_len(e, &n, "hello enclave"), VOUCH_OK);
    assert_int_equal(n, 13);
    assert_int_equal(str_len(e, &n, NULL), VOUCH_ERR_INVAL);
    assert_int_equal(fill(e, &r, buf, sizeof(buf), 0x77), VOUCH_OK);
    assert_int_equal(r, (int)sizeof(buf));
    assert_int_equal(buf[0], 0x77);
    assert_int_equal(buf[sizeof(buf) - 1], 0x77);
    assert_int_equal(inc(e, four), VOUCH_OK);
    assert_int_equal(four[0], 2);
    assert_int_equal(four[3], 5);
    assert_int_equal(scalars(e, &ok, 1.5, -2.25f, true, 'x', -8, -16, -64000000000LL, 200, 65000,
                             4000000000u, 7u, UINT64_C(18000000000000000000), -32),
                     VOUCH_OK);
    assert_true(ok);
    assert_int_equal(mutate(e, &ms, m, 3), VOUCH_OK);
    assert_int_equal(ms, 12);
    assert_int_equal(m[0], 1);
    assert_int_equal(get_one(e, &r, &r), VOUCH_OK);
    assert_int_equal(r, EDL_TEST_ONE);

    /* Ocalls (a string, a switchless one with [out], a bool with [out]). */
    g_logged[0] = '\0';
    assert_int_equal(call_host(e, &r, "from the enclave", vals, 3), VOUCH_OK);
    assert_int_equal(r, 38);
    assert_string_equal(g_logged, "from the enclave");
    vouch_enclave_terminate(e);
}

static void test_roundtrip_per_call(void **state)
{
    (void)state;
    roundtrip(VOUCH_ENCLAVE_MODE_PER_CALL);
}

static void test_roundtrip_blocking(void **state)
{
    (void)state;
    roundtrip(VOUCH_ENCLAVE_MODE_BLOCKING);
}

static void test_roundtrip_switchless(void **state)
{
    (void)state;
    roundtrip(VOUCH_ENCLAVE_MODE_SWITCHLESS);
}

/* Raw buffers a hostile host could send, each refused by the stub inside
 * the enclave, which keeps answering afterwards. The call numbers are the
 * declaration order in edl_test.edl. */
static void test_hostile_buffers(void **state)
{
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    uint8_t in[64], out[64];
    size_t out_len = 0;
    uint64_t u;
    int r = 0;

    (void)state;
    /* add (0): truncated. */
    memset(in, 0, sizeof(in));
    assert_int_equal(vouch_enclave_ecall(e, 0, 0, in, 7, out, sizeof(out), &out_len),
                     VOUCH_ERR_INVAL);
    /* sum (3): a count whose byte size wraps to the 4 bytes sent. */
    u = 4;
    memcpy(in, &u, 8);
    memset(in + 8, 1, 4);
    u = (UINT64_C(1) << 62) + 1;
    memcpy(in + 12, &u, 8);
    assert_int_equal(vouch_enclave_ecall(e, 3, 0, in, 20, out, sizeof(out), &out_len),
                     VOUCH_ERR_TOO_LARGE);
    /* sum (3): a length past the end. */
    u = 1000;
    memcpy(in, &u, 8);
    assert_int_equal(vouch_enclave_ecall(e, 3, 0, in, 20, out, sizeof(out), &out_len),
                     VOUCH_ERR_INVAL);
    /* str_len (4): no NUL, then a NUL before the end. */
    u = 5;
    memcpy(in, &u, 8);
    memcpy(in + 8, "hello", 5);
    assert_int_equal(vouch_enclave_ecall(e, 4, 0, in, 13, out, sizeof(out), &out_len),
                     VOUCH_ERR_INVAL);
    memcpy(in + 8, "he\0l\0", 5);
    assert_int_equal(vouch_enclave_ecall(e, 4, 0, in, 13, out, sizeof(out), &out_len),
                     VOUCH_ERR_INVAL);
    /* fill (5): an [out] length above the limit. */
    u = UINT64_MAX;
    memcpy(in, &u, 8);
    memcpy(in + 8, &u, 8);
    in[16] = 1;
    assert_int_equal(vouch_enclave_ecall(e, 5, 0, in, 17, out, sizeof(out), &out_len),
                     VOUCH_ERR_TOO_LARGE);
    /* scalars (7): a bool byte of 2. */
    memset(in, 0, 48);
    in[12] = 2;
    assert_int_equal(vouch_enclave_ecall(e, 7, 0, in, 48, out, sizeof(out), &out_len),
                     VOUCH_ERR_INVAL);
    /* Still alive and correct. */
    assert_int_equal(add(e, &r, 20, 22), VOUCH_OK);
    assert_int_equal(r, 42);
    assert_false(vouch_enclave_is_dead(e));
    vouch_enclave_terminate(e);
}

/* An [out] buffer larger than the enclave heap: the stub's allocation fails
 * cleanly inside the enclave and the enclave keeps serving. */
static void test_heap_budget(void **state)
{
    struct vouch_enclave *e = start(VOUCH_ENCLAVE_MODE_PER_CALL);
    size_t len = HEAP_SIZE + 4096;
    uint8_t *buf = malloc(len);
    int r = 0;

    (void)state;
    assert_non_null(buf);
    assert_true(len + 4 <= VOUCH_ENCLAVE_DEFAULT_CALL_BYTES);
    assert_int_equal(fill(e, &r, buf, len, 1), VOUCH_ERR_NOMEM);
    assert_int_equal(fill(e, &r, buf, 1000, 2), VOUCH_OK);
    assert_int_equal(r, 1000);
    assert_int_equal(buf[999], 2);
    free(buf);
    vouch_enclave_terminate(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_per_call),   cmocka_unit_test(test_roundtrip_blocking),
        cmocka_unit_test(test_roundtrip_switchless), cmocka_unit_test(test_hostile_buffers),
        cmocka_unit_test(test_heap_budget),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
