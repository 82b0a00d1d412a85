/*
 * Enclave constructors run during dlopen, before the final sandbox: stage 1
 * of the loader's seccomp filter (src/tee/loader/sandbox.c) must already
 * confine them. A constructor that creates a socket gets the enclave killed
 * and vouch_enclave_create fails; a constructor that stays inside the rules
 * loads and has run. The loaded enclave also checks that freed heap blocks
 * are wiped. Both enclaves are tests/enclave/test_enclave_ctor.c,
 * signed here with a fresh key and the same configuration.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "testutil.h"

#if !defined(VOUCH_TEST_CTOR_OK_SO) || !defined(VOUCH_TEST_CTOR_HOSTILE_SO)
#error "VOUCH_TEST_CTOR_*_SO are set by cmake/tee.cmake"
#endif

static char tmpdir[] = "/tmp/vouch-enclave-ctor-XXXXXX";
static char platform_dir[PATH_MAX];

/* Signs the .so at @p so_path into @p image_path; 0 on success. */
static int sign_image(const char *so_path, const char *image_path)
{
    size_t so_len = 0;
    uint8_t *so = vt_read_path(so_path, &so_len);
    if (!so)
        return -1;
    struct vouch_pkey *key = NULL;
    int rc = -1;
    uint8_t *img = NULL;
    size_t img_len = 0;
    struct vouch_enclave_image_config cfg;
    vouch_enclave_image_config_default(&cfg);
    cfg.thread_count = 2;
    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key) != VOUCH_OK ||
        vouch_enclave_image_sign(so, so_len, &cfg, key, &img, &img_len) != VOUCH_OK)
        goto out;
    FILE *f = fopen(image_path, "wb");
    if (!f)
        goto out;
    size_t n = fwrite(img, 1, img_len, f);
    if (fclose(f) == 0 && n == img_len)
        rc = 0;
out:
    vouch_free(img);
    vouch_pkey_free(key);
    free(so);
    return rc;
}

static vouch_err create(const char *so_path, const char *name, struct vouch_enclave **e)
{
    char image[PATH_MAX];
    snprintf(image, sizeof image, "%s/%s.enclave", tmpdir, name);
    assert_int_equal(sign_image(so_path, image), 0);
    struct vouch_enclave_config cfg = {.platform_dir = platform_dir,
                                       .loader_path = VOUCH_TEST_LOADER,
                                       .mode = VOUCH_ENCLAVE_MODE_PER_CALL};
    return vouch_enclave_create(image, &cfg, e);
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(platform_dir, sizeof platform_dir, "%s/platform", tmpdir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_ctor_harmless_loads(void **state)
{
    (void)state;
    struct vouch_enclave *e = NULL;
    assert_int_equal(create(VOUCH_TEST_CTOR_OK_SO, "ok", &e), VOUCH_OK);
    assert_non_null(e);
    uint32_t ran = 0;
    size_t got = 0;
    assert_int_equal(vouch_enclave_ecall(e, 0, 0, NULL, 0, &ran, sizeof ran, &got), VOUCH_OK);
    assert_int_equal(got, sizeof ran);
    assert_int_equal(ran, 1);
    /* Freed heap blocks are wiped (heap.c), small and large. */
    static const uint64_t sizes[] = {16, 1000, 300000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t r = 99;
        assert_int_equal(
            vouch_enclave_ecall(e, 1, 0, &sizes[i], sizeof sizes[i], &r, sizeof r, &got), VOUCH_OK);
        assert_int_equal(r, 0);
    }
    vouch_enclave_terminate(e);
}

static void test_ctor_socket_killed(void **state)
{
    (void)state;
    struct vouch_enclave *e = NULL;
    vouch_err err = create(VOUCH_TEST_CTOR_HOSTILE_SO, "hostile", &e);
    assert_int_not_equal(err, VOUCH_OK);
    assert_null(e);
    /* The same loader and platform still serve a well-behaved enclave. */
    assert_int_equal(create(VOUCH_TEST_CTOR_OK_SO, "ok2", &e), VOUCH_OK);
    vouch_enclave_terminate(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctor_harmless_loads),
        cmocka_unit_test(test_ctor_socket_killed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
