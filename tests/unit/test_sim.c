/* Software TEE evidence: platform material on disk, report signing, strict
 * parsing, verification against the trusted local CA, and the evidence API. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/evidence.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/sim.h>

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static char dir1[64], dir2[64];
static char plat1[96], plat2[96];
static struct vouch_sim_platform *p1, *p2;
static struct vouch_x509 *ca1, *ca2;

static const struct vouch_sim_identity ident = {
    .measurement = {0x11, 0x22, 0x33, [31] = 0x44},
    .signer_id = {0xaa, 0xbb, [31] = 0xcc},
    .product_id = 7,
    .svn = 3,
    .debug = false,
};

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char buf[512];

    if (!d) {
        (void)unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
        rm_tree(buf);
    }
    closedir(d);
    (void)rmdir(path);
}

static struct vouch_x509 *ca_of(const struct vouch_sim_platform *p)
{
    const uint8_t *der;
    size_t len;
    struct vouch_x509 *c = NULL;
    vouch_sim_platform_ca_der(p, &der, &len);
    if (vouch_x509_parse_der(der, len, &c) != VOUCH_OK)
        return NULL;
    return c;
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir1, "/tmp/vouch-sim-XXXXXX");
    strcpy(dir2, "/tmp/vouch-sim-XXXXXX");
    if (!mkdtemp(dir1) || !mkdtemp(dir2))
        return -1;
    /* The platform directory is created below a parent that exists. */
    snprintf(plat1, sizeof(plat1), "%s/a/platform", dir1);
    snprintf(plat2, sizeof(plat2), "%s/platform", dir2);
    if (vouch_sim_platform_open(plat1, T0, &p1) != VOUCH_OK ||
        vouch_sim_platform_open(plat2, T0, &p2) != VOUCH_OK)
        return -1;
    ca1 = ca_of(p1);
    ca2 = ca_of(p2);
    return ca1 && ca2 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vouch_sim_platform_free(p1);
    vouch_sim_platform_free(p2);
    vouch_x509_free(ca1);
    vouch_x509_free(ca2);
    rm_tree(dir1);
    rm_tree(dir2);
    return 0;
}

static uint8_t *sign(const struct vouch_sim_platform *p, int64_t when, size_t *len)
{
    uint8_t rd[64];
    uint8_t *ev = NULL;
    for (size_t i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)i;
    assert_int_equal(vouch_sim_report_sign(p, &ident, rd, when, &ev, len), VOUCH_OK);
    return ev;
}

static vouch_err verify(const uint8_t *ev, size_t len, struct vouch_x509 *anchor, int64_t now,
                        struct vouch_sim_report *rep)
{
    struct vouch_x509 *anchors[1] = {anchor};
    char why[160];
    return vouch_sim_evidence_verify(ev, len, anchors, 1, now, rep, why, sizeof(why));
}

static void test_platform_files(void **state)
{
    struct stat st;
    char path[160];
    const char *names[] = {"ca.pem", "ca-key.pem", "platform.pem", "platform-key.pem",
                           "seal.secret"};
    struct vouch_sim_platform *again = NULL;
    const uint8_t *a, *b;
    size_t alen, blen;
    (void)state;

    assert_int_equal(stat(plat1, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", plat1, names[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    snprintf(path, sizeof(path), "%s/seal.secret", plat1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 32);

    /* A second open loads the same material (same CA, same seal secret). */
    assert_int_equal(vouch_sim_platform_open(plat1, T0 + 100, &again), VOUCH_OK);
    vouch_sim_platform_ca_der(p1, &a, &alen);
    vouch_sim_platform_ca_der(again, &b, &blen);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    assert_memory_equal(vouch_sim_platform_seal_secret(p1), vouch_sim_platform_seal_secret(again),
                        32);
    /* Two installations never share a seal secret or CA. */
    assert_memory_not_equal(vouch_sim_platform_seal_secret(p1), vouch_sim_platform_seal_secret(p2),
                            32);
    vouch_sim_platform_free(again);
    again = NULL;

    /* Opening after the platform certificate expired is refused. */
    assert_int_equal(vouch_sim_platform_open(plat1, T0 + 2 * 365LL * 86400, &again),
                     VOUCH_ERR_EXPIRED);
    assert_null(again);
}

static void test_platform_refusals(void **state)
{
    char d[64], path[160];
    struct vouch_sim_platform *p = NULL;
    (void)state;

    strcpy(d, "/tmp/vouch-simr-XXXXXX");
    assert_non_null(mkdtemp(d));
    /* A group-readable directory is refused. */
    snprintf(path, sizeof(path), "%s/open", d);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_int_equal(chmod(path, 0750), 0);
    assert_int_equal(vouch_sim_platform_open(path, T0, &p), VOUCH_ERR_INVAL);
    assert_null(p);
    /* An empty private directory is filled in place. */
    assert_int_equal(chmod(path, 0700), 0);
    assert_int_equal(vouch_sim_platform_open(path, T0, &p), VOUCH_OK);
    vouch_sim_platform_free(p);
    p = NULL;
    /* Partial material is refused, never silently regenerated. */
    snprintf(path, sizeof(path), "%s/open/seal.secret", d);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/open", d);
    assert_int_equal(vouch_sim_platform_open(path, T0, &p), VOUCH_ERR_INVAL);
    assert_null(p);
    /* A seal secret readable by others is refused. */
    snprintf(path, sizeof(path), "%s/open/seal.secret", d);
    {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite("0123456789abcdef0123456789abcdef", 1, 32, f), 32);
        fclose(f);
    }
    assert_int_equal(chmod(path, 0644), 0);
    snprintf(path, sizeof(path), "%s/open", d);
    assert_int_equal(vouch_sim_platform_open(path, T0, &p), VOUCH_ERR_INVAL);
    assert_null(p);
    rm_tree(d);
}

static void test_sign_verify(void **state)
{
    size_t len = 0;
    uint8_t *ev = sign(p1, T0 + 10, &len);
    struct vouch_sim_report rep, parsed;
    (void)state;

    assert_true(vouch_sim_evidence_detect(ev, len));
    assert_int_equal(verify(ev, len, ca1, T0 + 20, &rep), VOUCH_OK);
    assert_int_equal(rep.version, VOUCH_SIM_REPORT_VERSION);
    assert_int_equal(rep.backend, VOUCH_TEE_BACKEND_SIM);
    assert_memory_equal(rep.id.measurement, ident.measurement, 32);
    assert_memory_equal(rep.id.signer_id, ident.signer_id, 32);
    assert_int_equal(rep.id.product_id, 7);
    assert_int_equal(rep.id.svn, 3);
    assert_false(rep.id.debug);
    assert_int_equal(rep.timestamp, T0 + 10);
    for (size_t i = 0; i < 64; i++)
        assert_int_equal(rep.report_data[i], i);
    assert_int_equal(vouch_sim_evidence_parse(ev, len, &parsed), VOUCH_OK);
    assert_memory_equal(&parsed.id, &rep.id, sizeof(rep.id));

    /* The debug flag travels. */
    {
        struct vouch_sim_identity dbg = ident;
        uint8_t rd[64] = {0}, *ev2 = NULL;
        size_t len2 = 0;
        dbg.debug = true;
        assert_int_equal(vouch_sim_report_sign(p1, &dbg, rd, T0, &ev2, &len2), VOUCH_OK);
        assert_int_equal(verify(ev2, len2, ca1, T0, &rep), VOUCH_OK);
        assert_true(rep.id.debug);
        assert_int_equal(rep.flags, VOUCH_SIM_FLAG_DEBUG);
        vouch_free(ev2);
    }
    vouch_free(ev);
}

static void test_every_flip_rejected(void **state)
{
    size_t len = 0;
    uint8_t *ev = sign(p1, T0, &len);
    struct vouch_sim_report rep;
    (void)state;

    /* Every bit position in a byte is tried somewhere; every byte of the
     * whole evidence (report, signature, both certificates, lengths). */
    for (size_t i = 0; i < len; i++) {
        uint8_t mask = (uint8_t)(1u << (i % 8));
        ev[i] ^= mask;
        vouch_err rc = verify(ev, len, ca1, T0, &rep);
        if (rc == VOUCH_OK)
            fail_msg("flipping byte %zu was accepted", i);
        /* A failed verification reports nothing. */
        assert_int_equal(rep.timestamp, 0);
        ev[i] ^= mask;
    }
    assert_int_equal(verify(ev, len, ca1, T0, &rep), VOUCH_OK);
    vouch_free(ev);
}

static void test_truncation_and_trailing(void **state)
{
    size_t len = 0;
    uint8_t *ev = sign(p1, T0, &len);
    uint8_t *longer = NULL;
    struct vouch_sim_report rep;
    (void)state;

    for (size_t n = 0; n < len; n++) {
        vouch_err rc = verify(ev, n, ca1, T0, &rep);
        if (rc == VOUCH_OK)
            fail_msg("truncated to %zu bytes was accepted", n);
        assert_int_not_equal(vouch_sim_evidence_parse(ev, n, &rep), VOUCH_OK);
    }
    longer = vouch_calloc(1, len + 1);
    assert_non_null(longer);
    memcpy(longer, ev, len);
    assert_int_equal(verify(longer, len + 1, ca1, T0, &rep), VOUCH_ERR_PARSE);
    vouch_free(longer);
    vouch_free(ev);
}

static void test_strict_fields(void **state)
{
    size_t len = 0;
    uint8_t *ev = sign(p1, T0, &len);
    struct vouch_sim_report rep;
    (void)state;

    ev[8] = 2; /* version 2 */
    assert_int_equal(vouch_sim_evidence_parse(ev, len, &rep), VOUCH_ERR_UNSUPPORTED);
    ev[8] = 1;
    ev[10] = VOUCH_TEE_BACKEND_TDX; /* a sim report claiming TDX */
    assert_int_equal(vouch_sim_evidence_parse(ev, len, &rep), VOUCH_ERR_UNSUPPORTED);
    ev[10] = VOUCH_TEE_BACKEND_SIM;
    ev[12] = 0x2; /* unknown flag */
    assert_int_equal(vouch_sim_evidence_parse(ev, len, &rep), VOUCH_ERR_PARSE);
    ev[12] = 0;
    ev[84] = 1; /* reserved */
    assert_int_equal(vouch_sim_evidence_parse(ev, len, &rep), VOUCH_ERR_PARSE);
    ev[84] = 0;
    assert_int_equal(vouch_sim_evidence_parse(ev, len, &rep), VOUCH_OK);
    vouch_free(ev);
}

static void test_wrong_ca(void **state)
{
    size_t len = 0, len2 = 0;
    uint8_t *ev = sign(p1, T0, &len);
    uint8_t *ev2 = sign(p2, T0, &len2);
    struct vouch_sim_report rep;
    char why[160];
    (void)state;

    assert_int_equal(verify(ev, len, ca2, T0, &rep), VOUCH_ERR_CHAIN);
    assert_int_equal(vouch_sim_evidence_verify(ev, len, NULL, 0, T0, &rep, why, sizeof(why)),
                     VOUCH_ERR_CHAIN);
    /* Evidence from platform 2 with platform 1's trusted CA spliced in:
     * the CA matches the anchor, but it did not sign that leaf. */
    {
        const uint8_t *ca_der;
        size_t ca_len;
        size_t leaf_len = (size_t)ev2[224] | ((size_t)ev2[225] << 8);
        size_t off = 226 + leaf_len;
        uint8_t *forged;
        vouch_sim_platform_ca_der(p1, &ca_der, &ca_len);
        forged = vouch_calloc(1, off + 2 + ca_len);
        assert_non_null(forged);
        memcpy(forged, ev2, off);
        forged[off] = (uint8_t)ca_len;
        forged[off + 1] = (uint8_t)(ca_len >> 8);
        memcpy(forged + off + 2, ca_der, ca_len);
        assert_int_equal(verify(forged, off + 2 + ca_len, ca1, T0, &rep), VOUCH_ERR_CHAIN);
        vouch_free(forged);
    }
    /* Either anchor of several will do. */
    {
        struct vouch_x509 *both[2] = {ca2, ca1};
        assert_int_equal(vouch_sim_evidence_verify(ev, len, both, 2, T0, &rep, why, sizeof(why)),
                         VOUCH_OK);
    }
    vouch_free(ev);
    vouch_free(ev2);
}

static void test_validity(void **state)
{
    size_t len = 0;
    uint8_t *ev = sign(p1, T0, &len);
    uint8_t *late = NULL, *early = NULL;
    size_t late_len = 0, early_len = 0;
    struct vouch_sim_report rep;
    (void)state;

    /* Platform certificate expired (valid one year). */
    assert_int_equal(verify(ev, len, ca1, T0 + 2 * 365LL * 86400, &rep), VOUCH_ERR_EXPIRED);
    /* Not yet valid. */
    assert_int_equal(verify(ev, len, ca1, T0 - 3600, &rep), VOUCH_ERR_EXPIRED);
    /* A report stamped outside the certificate's life is refused even when
     * the certificate is valid at verification time. */
    late = sign(p1, T0 + 3 * 365LL * 86400, &late_len);
    assert_int_equal(verify(late, late_len, ca1, T0, &rep), VOUCH_ERR_EXPIRED);
    early = sign(p1, T0 - 86400, &early_len);
    assert_int_equal(verify(early, early_len, ca1, T0, &rep), VOUCH_ERR_EXPIRED);
    vouch_free(ev);
    vouch_free(late);
    vouch_free(early);
}

static void test_evidence_api(void **state)
{
    size_t len = 0;
    uint8_t *ev = sign(p1, T0, &len);
    enum vouch_evidence_format fmt;
    struct vouch_verify_opts o = {.now = T0};
    struct vouch_verify_result res;
    json_t *claims = NULL;
    char *pem = NULL;
    const uint8_t *der;
    size_t der_len;
    char hex[65];
    (void)state;

    assert_int_equal(vouch_evidence_detect(ev, len, &fmt), VOUCH_OK);
    assert_int_equal(fmt, VOUCH_EVIDENCE_SIM);
    assert_string_equal(vouch_evidence_format_name(fmt), "sim");

    /* No trusted CA configured: never verified. */
    assert_int_equal(vouch_evidence_verify(ev, len, &o, &res), VOUCH_ERR_CHAIN);
    assert_false(res.verified);
    vouch_verify_result_free(&res);

    /* PEM bundle. */
    vouch_sim_platform_ca_der(p1, &der, &der_len);
    assert_int_equal(vouch_pkey_cert_pem(der, der_len, &pem), VOUCH_OK);
    o.sim_ca = (const uint8_t *)pem;
    o.sim_ca_len = strlen(pem);
    assert_int_equal(vouch_evidence_verify(ev, len, &o, &res), VOUCH_OK);
    assert_true(res.verified);
    assert_int_equal(res.format, VOUCH_EVIDENCE_SIM);
    vouch_hex_encode(ident.measurement, 32, hex);
    assert_string_equal(json_string_value(json_object_get(res.claims, "mrenclave")), hex);
    vouch_hex_encode(ident.signer_id, 32, hex);
    assert_string_equal(json_string_value(json_object_get(res.claims, "mrsigner")), hex);
    assert_int_equal(json_integer_value(json_object_get(res.claims, "product_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(res.claims, "svn")), 3);
    assert_true(json_is_false(json_object_get(res.claims, "debug")));
    assert_true(json_is_false(json_object_get(res.claims, "hardware_rooted")));
    assert_string_equal(json_string_value(json_object_get(res.claims, "backend")), "sim");
    vouch_verify_result_free(&res);

    /* DER anchor; a tampered report fails through the same door. */
    o.sim_ca = der;
    o.sim_ca_len = der_len;
    ev[20] ^= 1;
    assert_int_equal(vouch_evidence_verify(ev, len, &o, &res), VOUCH_ERR_SIGNATURE);
    assert_false(res.verified);
    assert_true(res.error_detail[0] != 0);
    vouch_verify_result_free(&res);
    ev[20] ^= 1;

    assert_int_equal(vouch_evidence_inspect(ev, len, &fmt, &claims), VOUCH_OK);
    assert_int_equal(fmt, VOUCH_EVIDENCE_SIM);
    assert_int_equal(json_integer_value(json_object_get(claims, "timestamp")), T0);
    json_decref(claims);
    vouch_free(pem);
    vouch_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_platform_files),
        cmocka_unit_test(test_platform_refusals),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_every_flip_rejected),
        cmocka_unit_test(test_truncation_and_trailing),
        cmocka_unit_test(test_strict_fields),
        cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_evidence_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
