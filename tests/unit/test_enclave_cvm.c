/*
 * The confidential-VM enclave backend end to end: a real enclave
 * (tests/enclave/test_enclave.c, signed here) started by libvouch with
 * backend CVM against an ordinary directory that imitates configfs-tsm.
 *
 * The test plays the kernel without racing the agent: the agent keeps one
 * entry ready for the next report (made before vouch_enclave_create returns,
 * and again before each REPORT answer), so the test fills that entry in
 * before the ecall, as a kernel would on mkdir, with an outblob whose report
 * data is what the agent must write: a real SNP report (or TDX quote) from
 * the testdata with its report data replaced by the binding hash computed here
 * from the documented formula (include/vouch/cvm.h). Afterwards it checks the
 * inblob the agent wrote, and the evidence the enclave received: the hardware
 * report byte for byte, the auxblob, and the binding. The replaced report data
 * breaks the AMD signature, which shows that the verifier checks it; a
 * hardware report with a valid signature over our binding needs real
 * hardware.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/cvm.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/enclave_rt.h>
#include <vouch/evidence.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "../enclave/test_enclave.h"
#include "testutil.h"

#ifndef VOUCH_TEST_ENCLAVE_SO
#error "VOUCH_TEST_ENCLAVE_SO is set by cmake/tee.cmake"
#endif

#define SNP_VECTOR "evidence/snp/milan_v2_gosev_report.bin"
#define SNP_VCEK   "evidence/snp/milan_v2_gosev_vcek.der"
#define TDX_VECTOR "evidence/tdx/v4_phala_quote.bin"
/* SEV-SNP ATTESTATION_REPORT: REPORT_DATA at 0x50, MEASUREMENT at 0x90.
 * TDX quote v4: 48-byte header, then the TD report with REPORTDATA at 520,
 * MRTD at 136. */
#define SNP_REPORT_DATA_OFF 0x50u
#define SNP_MEASUREMENT_OFF 0x90u
#define TDX_REPORT_DATA_OFF (48u + 520u)
#define TDX_MRTD_OFF        (48u + 136u)

static char tmpdir[] = "/tmp/vouch-enclave-cvm-XXXXXX";
static char image_path[PATH_MAX];
static char tsm_root[PATH_MAX];

static const uint8_t aux_table[] = "SNP certificate table stand-in";

/* ---- the kernel's part ---- */

static void put_file(const char *dir, const char *name, const void *p, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    if (len)
        assert_int_equal(write(fd, p, len), (ssize_t)len);
    close(fd);
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int empty = 1;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* Removes every used entry under @p root (the kernel drops the attributes
 * on rmdir; a plain directory cannot, so the agent's rmdir of a filled entry
 * fails) and returns the number of spare (empty) entries left; the path of
 * the last one goes to @p spare. */
static int kernel_reap(const char *root, char *spare, size_t cap)
{
    DIR *d = opendir(root);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        assert_true(strncmp(de->d_name, "vouch-", 6) == 0);
        snprintf(path, sizeof path, "%s/%s", root, de->d_name);
        if (dir_is_empty(path)) {
            snprintf(spare, cap, "%s", path);
            n++;
            continue;
        }
        DIR *e = opendir(path);
        struct dirent *f;
        assert_non_null(e);
        while ((f = readdir(e)) != NULL) {
            char fp[PATH_MAX + 256];
            if (strcmp(f->d_name, ".") == 0 || strcmp(f->d_name, "..") == 0)
                continue;
            snprintf(fp, sizeof fp, "%s/%s", path, f->d_name);
            assert_int_equal(unlink(fp), 0);
        }
        closedir(e);
        assert_int_equal(rmdir(path), 0);
    }
    closedir(d);
    return n;
}

/* Fills the agent's spare entry as a kernel with @p provider would. */
static void kernel_fill(char *entry, size_t cap, const char *provider, const uint8_t *outblob,
                        size_t outblob_len, const uint8_t *aux, size_t aux_len,
                        const char *generation)
{
    assert_int_equal(kernel_reap(tsm_root, entry, cap), 1);
    put_file(entry, "provider", provider, strlen(provider));
    put_file(entry, "inblob", NULL, 0);
    put_file(entry, "outblob", outblob, outblob_len);
    put_file(entry, "auxblob", aux, aux_len);
    put_file(entry, "generation", generation, strlen(generation));
}

/* ---- helpers ---- */

static int write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(p, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(image_path, sizeof image_path, "%s/test.enclave", tmpdir);
    snprintf(tsm_root, sizeof tsm_root, "%s/tsm", tmpdir);
    if (mkdir(tsm_root, 0700) != 0)
        return -1;
    size_t so_len = 0;
    uint8_t *so = vt_read_path(VOUCH_TEST_ENCLAVE_SO, &so_len);
    if (!so)
        return -1;
    struct vouch_pkey *key = NULL;
    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &key) != VOUCH_OK) {
        free(so);
        return -1;
    }
    struct vouch_enclave_image_config cfg;
    vouch_enclave_image_config_default(&cfg);
    cfg.product_id = 0x1234;
    cfg.svn = 5;
    cfg.debug = true;
    cfg.heap_size = 1024u * 1024u;
    cfg.thread_count = 2;
    uint8_t *img = NULL;
    size_t img_len = 0;
    vouch_err err = vouch_enclave_image_sign(so, so_len, &cfg, key, &img, &img_len);
    vouch_pkey_free(key);
    free(so);
    if (err != VOUCH_OK)
        return -1;
    int rc = write_file(image_path, img, img_len);
    vouch_free(img);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct vouch_enclave *start_at(const char *root, vouch_err want)
{
    struct vouch_enclave_config cfg = {
        .loader_path = VOUCH_TEST_LOADER, .backend = VOUCH_ENCLAVE_BACKEND_CVM, .tsm_root = root};
    struct vouch_enclave *e = NULL;
    assert_int_equal(vouch_enclave_create(image_path, &cfg, &e), want);
    return e;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 29u + i * 13u);
}

/* The documented binding, computed here byte by byte (not with
 * vouch_cvm_bind, which is checked against it). */
static void expected_bind(const struct vouch_enclave_identity *id, const uint8_t rd[64],
                          uint8_t out[64])
{
    uint8_t in[20 + 32 + 32 + 2 + 2 + 1 + 64], *q = in;
    memcpy(q, "vouch-cvm-enclave-v1", 20);
    q += 20;
    memcpy(q, id->measurement, 32);
    q += 32;
    memcpy(q, id->signer_id, 32);
    q += 32;
    *q++ = (uint8_t)(id->product_id & 0xff);
    *q++ = (uint8_t)(id->product_id >> 8);
    *q++ = (uint8_t)(id->svn & 0xff);
    *q++ = (uint8_t)(id->svn >> 8);
    *q++ = id->debug ? 1u : 0u;
    memcpy(q, rd, 64);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA512, in, sizeof in, out), VOUCH_OK);

    struct vouch_sim_identity sid;
    memcpy(sid.measurement, id->measurement, 32);
    memcpy(sid.signer_id, id->signer_id, 32);
    sid.product_id = id->product_id;
    sid.svn = id->svn;
    sid.debug = id->debug;
    uint8_t lib[64];
    assert_int_equal(vouch_cvm_bind(&sid, rd, lib), VOUCH_OK);
    assert_memory_equal(lib, out, 64);
}

static vouch_err get_evidence(struct vouch_enclave *e, const uint8_t rd[64], uint8_t *ev,
                              size_t *ev_len)
{
    return vouch_enclave_ecall(e, TE_EVIDENCE, 0, rd, 64, ev, VOUCH_MAX_EVIDENCE_SIZE, ev_len);
}

static void assert_alive(struct vouch_enclave *e)
{
    size_t n = 1;
    assert_int_equal(vouch_enclave_ecall(e, TE_EMPTY, 0, NULL, 0, NULL, 0, &n), VOUCH_OK);
    assert_int_equal(n, 0);
    assert_false(vouch_enclave_is_dead(e));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- tests ---- */

static void test_snp_evidence(void **state)
{
    (void)state;
    struct vouch_enclave *e = start_at(tsm_root, VOUCH_OK);
    struct vouch_enclave_identity id;
    vouch_enclave_get_identity(e, &id);
    assert_int_equal(id.product_id, 0x1234);
    assert_int_equal(id.svn, 5);
    assert_true(id.debug);

    uint8_t rd[64], bind[64];
    fill(rd, sizeof rd, 1);
    expected_bind(&id, rd, bind);
    size_t snp_len = 0;
    uint8_t *snp = vt_read(SNP_VECTOR, &snp_len);
    memcpy(snp + SNP_REPORT_DATA_OFF, bind, 64);
    char entry[PATH_MAX];
    kernel_fill(entry, sizeof entry, "sev_guest\n", snp, snp_len, aux_table, sizeof aux_table,
                "1\n");

    uint8_t *ev = malloc(VOUCH_MAX_EVIDENCE_SIZE);
    assert_non_null(ev);
    size_t ev_len = 0;
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_OK);

    /* What reached the kernel: exactly the binding hash. */
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/inblob", entry);
    size_t in_len = 0;
    uint8_t *in = vt_read_path(path, &in_len);
    assert_int_equal(in_len, 64);
    assert_memory_equal(in, bind, 64);
    free(in);

    /* The envelope, read at the documented offsets. */
    assert_int_equal(ev_len, VOUCH_CVM_HEADER_LEN + snp_len + sizeof aux_table);
    assert_memory_equal(ev, "VOUCHCVM", 8);
    assert_int_equal(ev[10] | ev[11] << 8, VOUCH_TEE_BACKEND_SNP);
    assert_int_equal(le32(ev + 12), 1); /* debug image */
    assert_memory_equal(ev + 16, id.measurement, 32);
    assert_memory_equal(ev + 48, id.signer_id, 32);
    assert_memory_equal(ev + 88, rd, 64);
    assert_int_equal(le32(ev + 152), snp_len);
    assert_int_equal(le32(ev + 156), sizeof aux_table);
    /* The hardware report and auxblob exactly as the kernel handed them out. */
    assert_memory_equal(ev + VOUCH_CVM_HEADER_LEN, snp, snp_len);
    assert_memory_equal(ev + VOUCH_CVM_HEADER_LEN + snp_len, aux_table, sizeof aux_table);

    /* The verifier's side: parse checks the binding. */
    struct vouch_cvm_evidence cv;
    assert_true(vouch_cvm_evidence_detect(ev, ev_len));
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_OK);
    assert_int_equal(cv.backend, VOUCH_TEE_BACKEND_SNP);
    assert_memory_equal(cv.id.measurement, id.measurement, 32);
    assert_memory_equal(cv.id.signer_id, id.signer_id, 32);
    assert_int_equal(cv.id.product_id, 0x1234);
    assert_int_equal(cv.id.svn, 5);
    assert_true(cv.id.debug);
    assert_memory_equal(cv.report_data, rd, 64);
    assert_int_equal(cv.hw_len, snp_len);
    assert_memory_equal(cv.hw, snp, snp_len);
    assert_int_equal(cv.aux_len, sizeof aux_table);
    assert_memory_equal(cv.hw_measurement, snp + SNP_MEASUREMENT_OFF, 48);
    assert_true(cv.hw_debug); /* the vector's guest policy allows debugging */

    /* Full verification checks AMD's signature, which the replaced report
     * data broke. */
    size_t vcek_len = 0;
    uint8_t *vcek = vt_read(SNP_VCEK, &vcek_len);
    struct vouch_verify_opts o = {.now = 1700000000, .vcek = vcek, .vcek_len = vcek_len};
    struct vouch_verify_result res;
    assert_int_equal(vouch_cvm_evidence_verify(ev, ev_len, &o, &res, &cv), VOUCH_ERR_SIGNATURE);
    assert_false(res.verified);
    assert_int_equal(res.format, VOUCH_EVIDENCE_SNP);
    vouch_verify_result_free(&res);

    /* Any change to the identity or report data breaks the binding. */
    static const size_t offs[] = {16, 47, 48, 80, 82, 88, 151};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        ev[offs[i]] ^= 0x01;
        assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_ERR_MISMATCH);
        assert_int_equal(vouch_cvm_evidence_verify(ev, ev_len, &o, &res, &cv), VOUCH_ERR_MISMATCH);
        assert_false(res.verified);
        vouch_verify_result_free(&res);
        ev[offs[i]] ^= 0x01;
    }
    /* The debug flag is bound as well (flags 0 instead of 1). */
    ev[12] = 0;
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_ERR_MISMATCH);
    ev[12] = 1;
    /* Malformed envelopes. */
    assert_int_not_equal(vouch_cvm_evidence_parse(ev, ev_len - 1, &cv), VOUCH_OK);
    assert_int_equal(vouch_cvm_evidence_parse(ev, VOUCH_CVM_HEADER_LEN - 1, &cv),
                     VOUCH_ERR_TRUNCATED);
    ev[8] = 2;
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_ERR_UNSUPPORTED);
    ev[8] = 1;
    ev[12] = 3; /* unknown flag */
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_ERR_PARSE);
    ev[12] = 1;
    ev[10] = VOUCH_TEE_BACKEND_TDX; /* says TDX, carries SNP */
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_ERR_MISMATCH);
    ev[10] = VOUCH_TEE_BACKEND_SNP;
    ev[85] = 1; /* reserved */
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_ERR_PARSE);
    ev[85] = 0;
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_OK);

    /* A second report in the same enclave uses a new entry. */
    fill(rd, sizeof rd, 2);
    expected_bind(&id, rd, bind);
    memcpy(snp + SNP_REPORT_DATA_OFF, bind, 64);
    char entry2[PATH_MAX];
    kernel_fill(entry2, sizeof entry2, "sev_guest", snp, snp_len, NULL, 0, "1");
    assert_string_not_equal(entry, entry2);
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_OK);
    assert_int_equal(ev_len, VOUCH_CVM_HEADER_LEN + snp_len); /* empty auxblob: none */
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_OK);
    assert_null(cv.aux);
    assert_memory_equal(cv.report_data, rd, 64);

    /* The enclave's own report data alone is not what the agent writes: an
     * outblob over it (a report the binding does not name) is refused. */
    memcpy(snp + SNP_REPORT_DATA_OFF, rd, 64);
    kernel_fill(entry2, sizeof entry2, "sev_guest", snp, snp_len, NULL, 0, "1");
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_MISMATCH);
    assert_alive(e);

    vouch_enclave_terminate(e);
    free(vcek);
    free(snp);
    free(ev);
}

static void test_tdx_evidence(void **state)
{
    (void)state;
    struct vouch_enclave *e = start_at(tsm_root, VOUCH_OK);
    struct vouch_enclave_identity id;
    vouch_enclave_get_identity(e, &id);
    uint8_t rd[64], bind[64];
    fill(rd, sizeof rd, 3);
    expected_bind(&id, rd, bind);
    size_t q_len = 0;
    uint8_t *q = vt_read(TDX_VECTOR, &q_len);
    memcpy(q + TDX_REPORT_DATA_OFF, bind, 64);
    char entry[PATH_MAX];
    kernel_fill(entry, sizeof entry, "tdx_guest\n", q, q_len, NULL, 0, "1\n");
    uint8_t *ev = malloc(VOUCH_MAX_EVIDENCE_SIZE);
    assert_non_null(ev);
    size_t ev_len = 0;
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_OK);
    struct vouch_cvm_evidence cv;
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_OK);
    assert_int_equal(cv.backend, VOUCH_TEE_BACKEND_TDX);
    assert_int_equal(cv.hw_len, q_len);
    assert_memory_equal(cv.hw, q, q_len);
    assert_memory_equal(cv.hw_measurement, q + TDX_MRTD_OFF, 48);
    assert_memory_equal(cv.report_data, rd, 64);
    vouch_enclave_terminate(e);
    free(q);
    free(ev);
}

/* Errors of the kernel side reach the enclave as errors; the enclave lives. */
static void test_kernel_errors(void **state)
{
    (void)state;
    struct vouch_enclave *e = start_at(tsm_root, VOUCH_OK);
    struct vouch_enclave_identity id;
    vouch_enclave_get_identity(e, &id);
    uint8_t rd[64], bind[64];
    fill(rd, sizeof rd, 4);
    expected_bind(&id, rd, bind);
    size_t snp_len = 0;
    uint8_t *snp = vt_read(SNP_VECTOR, &snp_len);
    memcpy(snp + SNP_REPORT_DATA_OFF, bind, 64);
    uint8_t *ev = malloc(VOUCH_MAX_EVIDENCE_SIZE);
    assert_non_null(ev);
    size_t ev_len = 0;
    char entry[PATH_MAX];

    /* Another writer raced the agent on its entry: generation 2, not 1. */
    kernel_fill(entry, sizeof entry, "sev_guest", snp, snp_len, NULL, 0, "2\n");
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_BUSY);
    assert_int_equal(ev_len, 0);
    assert_alive(e);

    /* A provider we do not know (e.g. Arm CCA). */
    kernel_fill(entry, sizeof entry, "arm_cca_guest", snp, snp_len, NULL, 0, "1");
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_UNSUPPORTED);
    assert_alive(e);

    /* The provider says TDX, the outblob is an SNP report. */
    kernel_fill(entry, sizeof entry, "tdx_guest", snp, snp_len, NULL, 0, "1");
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_MISMATCH);
    assert_alive(e);

    /* The kernel produced nothing. */
    kernel_fill(entry, sizeof entry, "sev_guest", NULL, 0, NULL, 0, "1");
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_IO);
    assert_alive(e);

    /* And after all that, a good report still works. */
    kernel_fill(entry, sizeof entry, "sev_guest", snp, snp_len, NULL, 0, "1");
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_OK);
    struct vouch_cvm_evidence cv;
    assert_int_equal(vouch_cvm_evidence_parse(ev, ev_len, &cv), VOUCH_OK);

    vouch_enclave_terminate(e);
    free(snp);
    free(ev);
}

/* No platform secret in a CVM: sealing is refused, not faked. */
static void test_seal_refused(void **state)
{
    (void)state;
    struct vouch_enclave *e = start_at(tsm_root, VOUCH_OK);
    uint8_t in[1 + 16], blob[256];
    size_t blob_len = 7;
    for (uint8_t policy = VOUCH_RT_SEAL_POLICY_UNIQUE; policy <= VOUCH_RT_SEAL_POLICY_PRODUCT;
         policy++) {
        in[0] = policy;
        fill(in + 1, 16, policy);
        assert_int_equal(
            vouch_enclave_ecall(e, TE_SEAL, 0, in, sizeof in, blob, sizeof blob, &blob_len),
            VOUCH_ERR_UNSUPPORTED);
        assert_int_equal(blob_len, 0);
    }
    assert_alive(e);
    vouch_enclave_terminate(e);
}

static void test_missing_tsm(void **state)
{
    (void)state;
    /* Not a confidential VM: refused at creation. */
    struct vouch_enclave *e = start_at("/nonexistent/vouch/tsm/report", VOUCH_ERR_UNSUPPORTED);
    assert_null(e);
    /* Bad configurations. */
    struct vouch_enclave_config cfg = {.loader_path = VOUCH_TEST_LOADER,
                                       .backend = (enum vouch_enclave_backend)7};
    assert_int_equal(vouch_enclave_create(image_path, &cfg, &e), VOUCH_ERR_INVAL);
    cfg.backend = VOUCH_ENCLAVE_BACKEND_CVM;
    cfg.tsm_root = "";
    assert_int_equal(vouch_enclave_create(image_path, &cfg, &e), VOUCH_ERR_INVAL);
    assert_null(e);

    /* configfs-tsm disappears while the enclave runs: errors at evidence
     * time, the enclave lives on. */
    char root[PATH_MAX], spare[PATH_MAX];
    snprintf(root, sizeof root, "%s/gone", tmpdir);
    assert_int_equal(mkdir(root, 0700), 0);
    e = start_at(root, VOUCH_OK);
    assert_int_equal(kernel_reap(root, spare, sizeof spare), 1);
    assert_int_equal(rmdir(spare), 0);
    assert_int_equal(rmdir(root), 0);
    uint8_t rd[64] = {0};
    uint8_t *ev = malloc(VOUCH_MAX_EVIDENCE_SIZE);
    assert_non_null(ev);
    size_t ev_len = 0;
    /* The prepared entry is gone: its attributes cannot be read. */
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_IO);
    /* And no new entry can be made. */
    assert_int_equal(get_evidence(e, rd, ev, &ev_len), VOUCH_ERR_UNSUPPORTED);
    assert_alive(e);
    vouch_enclave_terminate(e);
    free(ev);
}

/* The fuzz seeds were made by an independent implementation of the binding
 * (Python's hashlib, see the seeds' description in fuzz/fuzz_cvm.c): they
 * must parse, and the one whose report does not bind must not. */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        vouch_err want;
        enum vouch_tee_backend backend;
    } seeds[] = {{"snp_aux.bin", VOUCH_OK, VOUCH_TEE_BACKEND_SNP},
                 {"tdx.bin", VOUCH_OK, VOUCH_TEE_BACKEND_TDX},
                 {"unbound.bin", VOUCH_ERR_MISMATCH, VOUCH_TEE_BACKEND_SNP}};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/fuzz/corpus/cvm/%s", VOUCH_SOURCE_DIR, seeds[i].name);
        size_t len = 0;
        uint8_t *p = vt_read_path(path, &len);
        assert_non_null(p);
        struct vouch_cvm_evidence cv;
        assert_int_equal(vouch_cvm_evidence_parse(p, len, &cv), seeds[i].want);
        if (seeds[i].want == VOUCH_OK) {
            assert_int_equal(cv.backend, seeds[i].backend);
            for (unsigned k = 0; k < 32; k++)
                assert_int_equal(cv.id.measurement[k], k);
        }
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snp_evidence),  cmocka_unit_test(test_tdx_evidence),
        cmocka_unit_test(test_kernel_errors), cmocka_unit_test(test_seal_refused),
        cmocka_unit_test(test_missing_tsm),   cmocka_unit_test(test_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
