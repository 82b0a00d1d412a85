/*
 * configfs-tsm client (src/tee/tsm.c) against an ordinary directory that
 * plays the kernel: after the client's mkdir, the test creates the attribute
 * files a kernel would (provider, inblob, outblob holding a real SNP report or
 * TDX quote from the testdata, auxblob, generation, privlevel[_floor]); after
 * the report, it removes them as the kernel does on rmdir. Checked: provider
 * detection, the exact inblob written, the generation counter (a racing
 * writer is BUSY), report data binding, format/provider agreement, the
 * identity taken from the report (compared with raw byte offsets, not with
 * the parser's output), limits and error classes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/mem.h>
#include <vouch/tsm.h>

#include "testutil.h"

#define SNP_VECTOR "evidence/snp/milan_v2_gosev_report.bin"
#define TDX_VECTOR "evidence/tdx/v4_phala_quote.bin"
/* SEV-SNP ATTESTATION_REPORT: REPORT_DATA at 0x50, MEASUREMENT at 0x90. */
#define SNP_REPORT_DATA_OFF 0x50u
#define SNP_MEASUREMENT_OFF 0x90u
/* TDX quote v4: 48-byte header, then the TD report: MRTD at body offset 136,
 * REPORTDATA at 520. */
#define TDX_MRTD_OFF        (48u + 136u)
#define TDX_REPORT_DATA_OFF (48u + 520u)

struct fake {
    char root[64];
    struct vouch_tsm_entry *e;
};

static void put_file(const char *dir, const char *name, const void *p, size_t len)
{
    char path[512];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    if (len)
        assert_int_equal(write(fd, p, len), (ssize_t)len);
    close(fd);
}

static uint8_t *get_file(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return vt_read_path(path, len);
}

/* The kernel's part of rmdir: drop the attributes so rmdir can succeed. */
static void kernel_clear(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
            continue; /* cannot happen for the names this test creates */
        unlink(path);
    }
    closedir(d);
}

static void fake_init(struct fake *f)
{
    strcpy(f->root, "/tmp/vouch-tsm-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    f->e = NULL;
    assert_int_equal(vouch_tsm_entry_create(f->root, &f->e), VOUCH_OK);
    assert_non_null(f->e);
}

/* Populates the entry as a kernel with @p provider and @p outblob would. */
static void kernel_populate(struct fake *f, const char *provider, const uint8_t *outblob,
                            size_t outblob_len, const char *generation)
{
    const char *dir = vouch_tsm_entry_path(f->e);
    put_file(dir, "provider", provider, strlen(provider));
    put_file(dir, "inblob", NULL, 0);
    put_file(dir, "outblob", outblob, outblob_len);
    put_file(dir, "auxblob", NULL, 0);
    put_file(dir, "generation", generation, strlen(generation));
}

static void fake_done(struct fake *f)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s", vouch_tsm_entry_path(f->e));
    kernel_clear(path);
    vouch_tsm_entry_destroy(f->e);
    /* The client removed its entry. */
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(rmdir(f->root), 0);
}

static void test_snp_report(void **state)
{
    (void)state;
    struct fake f;
    struct vouch_tsm_report r;
    size_t len = 0, in_len = 0;
    uint8_t *snp = vt_read(SNP_VECTOR, &len), *in;
    uint8_t inblob[64];

    fake_init(&f);
    /* Entry name: ours, under the root. */
    assert_true(strncmp(vouch_tsm_entry_path(f.e), f.root, strlen(f.root)) == 0);
    assert_non_null(strstr(vouch_tsm_entry_path(f.e), "/vouch-"));
    kernel_populate(&f, "sev_guest\n", snp, len, "1\n");
    memcpy(inblob, snp + SNP_REPORT_DATA_OFF, 64);
    assert_int_equal(vouch_tsm_entry_generate(f.e, inblob, &r), VOUCH_OK);
    assert_string_equal(r.provider, "sev_guest");
    assert_int_equal(r.id.format, VOUCH_EVIDENCE_SNP);
    assert_int_equal(r.outblob_len, len);
    assert_memory_equal(r.outblob, snp, len);
    assert_null(r.auxblob); /* empty auxblob */
    assert_int_equal(r.generation, 1);
    assert_memory_equal(r.id.measurement, snp + SNP_MEASUREMENT_OFF, 48);
    assert_memory_equal(r.id.report_data, inblob, 64);
    assert_true(r.id.debug); /* the vector's guest policy has DEBUG set */
    /* What reached the kernel: exactly the 64 bytes. */
    in = get_file(vouch_tsm_entry_path(f.e), "inblob", &in_len);
    assert_int_equal(in_len, 64);
    assert_memory_equal(in, inblob, 64);
    free(in);
    vouch_tsm_report_free(&r);
    /* An entry serves one report. */
    assert_int_equal(vouch_tsm_entry_generate(f.e, inblob, &r), VOUCH_ERR_INVAL);
    assert_null(r.outblob);
    fake_done(&f);
    free(snp);
}

static void test_tdx_report(void **state)
{
    (void)state;
    struct fake f;
    struct vouch_tsm_report r;
    size_t len = 0;
    uint8_t *q = vt_read(TDX_VECTOR, &len);
    uint8_t inblob[64];
    static const uint8_t aux[] = "certificate table";

    fake_init(&f);
    kernel_populate(&f, "tdx_guest\n", q, len, "1");
    put_file(vouch_tsm_entry_path(f.e), "auxblob", aux, sizeof(aux));
    memcpy(inblob, q + TDX_REPORT_DATA_OFF, 64);
    assert_int_equal(vouch_tsm_entry_generate(f.e, inblob, &r), VOUCH_OK);
    assert_string_equal(r.provider, "tdx_guest");
    assert_int_equal(r.id.format, VOUCH_EVIDENCE_TDX);
    assert_memory_equal(r.id.measurement, q + TDX_MRTD_OFF, 48);
    assert_memory_equal(r.id.report_data, inblob, 64);
    assert_int_equal(r.auxblob_len, sizeof(aux));
    assert_memory_equal(r.auxblob, aux, sizeof(aux));
    vouch_tsm_report_free(&r);
    assert_null(r.outblob);
    fake_done(&f);
    free(q);
}

static void test_generation_race(void **state)
{
    (void)state;
    struct fake f;
    struct vouch_tsm_report r;
    size_t len = 0;
    uint8_t *snp = vt_read(SNP_VECTOR, &len);

    /* Someone else wrote the entry after us: generation 2, not 1. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", snp, len, "2\n");
    assert_int_equal(vouch_tsm_entry_generate(f.e, snp + SNP_REPORT_DATA_OFF, &r), VOUCH_ERR_BUSY);
    assert_null(r.outblob);
    fake_done(&f);

    /* A generation that is not a number. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", snp, len, "1x\n");
    assert_int_equal(vouch_tsm_entry_generate(f.e, snp + SNP_REPORT_DATA_OFF, &r), VOUCH_ERR_PARSE);
    fake_done(&f);
    free(snp);
}

static void test_privlevel_floor(void **state)
{
    (void)state;
    struct fake f;
    struct vouch_tsm_report r;
    size_t len = 0, pl_len = 0;
    uint8_t *snp = vt_read(SNP_VECTOR, &len), *pl;

    /* Under a paravisor at VMPL 2: privlevel is written first, so two writes. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", snp, len, "2\n");
    put_file(vouch_tsm_entry_path(f.e), "privlevel_floor", "2\n", 2);
    put_file(vouch_tsm_entry_path(f.e), "privlevel", NULL, 0);
    assert_int_equal(vouch_tsm_entry_generate(f.e, snp + SNP_REPORT_DATA_OFF, &r), VOUCH_OK);
    assert_int_equal(r.generation, 2);
    pl = get_file(vouch_tsm_entry_path(f.e), "privlevel", &pl_len);
    assert_int_equal(pl_len, 2);
    assert_memory_equal(pl, "2\n", 2);
    free(pl);
    vouch_tsm_report_free(&r);
    fake_done(&f);

    /* A floor outside VMPL 0-3. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", snp, len, "2\n");
    put_file(vouch_tsm_entry_path(f.e), "privlevel_floor", "4\n", 2);
    assert_int_equal(vouch_tsm_entry_generate(f.e, snp + SNP_REPORT_DATA_OFF, &r), VOUCH_ERR_PARSE);
    fake_done(&f);
    free(snp);
}

static void test_binding_and_provider(void **state)
{
    (void)state;
    struct fake f;
    struct vouch_tsm_report r;
    size_t len = 0, qlen = 0;
    uint8_t *snp = vt_read(SNP_VECTOR, &len), *q = vt_read(TDX_VECTOR, &qlen);
    uint8_t other[64];

    /* A report over different data than we wrote (stale outblob). */
    memcpy(other, snp + SNP_REPORT_DATA_OFF, 64);
    other[63] ^= 1;
    fake_init(&f);
    kernel_populate(&f, "sev_guest", snp, len, "1");
    assert_int_equal(vouch_tsm_entry_generate(f.e, other, &r), VOUCH_ERR_MISMATCH);
    fake_done(&f);

    /* The provider says TDX but the blob is an SNP report. */
    fake_init(&f);
    kernel_populate(&f, "tdx_guest", snp, len, "1");
    assert_int_equal(vouch_tsm_entry_generate(f.e, snp + SNP_REPORT_DATA_OFF, &r),
                     VOUCH_ERR_MISMATCH);
    fake_done(&f);

    /* Unknown provider (e.g. Arm CCA): not supported, nothing written. */
    fake_init(&f);
    kernel_populate(&f, "arm_cca_guest\n", q, qlen, "0");
    assert_int_equal(vouch_tsm_entry_generate(f.e, q + TDX_REPORT_DATA_OFF, &r),
                     VOUCH_ERR_UNSUPPORTED);
    {
        size_t in_len = 1;
        uint8_t *in = get_file(vouch_tsm_entry_path(f.e), "inblob", &in_len);
        assert_int_equal(in_len, 0);
        free(in);
    }
    fake_done(&f);

    /* Empty outblob: the kernel could not produce a report. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", NULL, 0, "1");
    assert_int_equal(vouch_tsm_entry_generate(f.e, other, &r), VOUCH_ERR_IO);
    fake_done(&f);

    /* Garbage outblob. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", snp, 100, "1");
    assert_int_not_equal(vouch_tsm_entry_generate(f.e, other, &r), VOUCH_OK);
    fake_done(&f);
    free(snp);
    free(q);
}

static void test_limits_and_missing(void **state)
{
    (void)state;
    struct fake f;
    struct vouch_tsm_report r;
    struct vouch_tsm_entry *e = NULL;
    uint8_t inblob[64] = {0};
    uint8_t *big = calloc(1, VOUCH_MAX_TSM_BLOB + 1);
    assert_non_null(big);

    /* outblob over the kernel's own maximum. */
    fake_init(&f);
    kernel_populate(&f, "sev_guest", big, VOUCH_MAX_TSM_BLOB + 1, "1");
    assert_int_equal(vouch_tsm_entry_generate(f.e, inblob, &r), VOUCH_ERR_TOO_LARGE);
    fake_done(&f);

    /* No provider attribute at all. */
    fake_init(&f);
    assert_int_equal(vouch_tsm_entry_generate(f.e, inblob, &r), VOUCH_ERR_IO);
    fake_done(&f);

    /* No configfs-tsm: not a confidential VM. */
    assert_int_equal(vouch_tsm_entry_create("/nonexistent/vouch/tsm/report", &e),
                     VOUCH_ERR_UNSUPPORTED);
    assert_null(e);
    assert_int_equal(vouch_tsm_get_report("/nonexistent/vouch/tsm/report", inblob, &r),
                     VOUCH_ERR_UNSUPPORTED);
    assert_null(r.outblob);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snp_report),           cmocka_unit_test(test_tdx_report),
        cmocka_unit_test(test_generation_race),      cmocka_unit_test(test_privlevel_floor),
        cmocka_unit_test(test_binding_and_provider), cmocka_unit_test(test_limits_and_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
