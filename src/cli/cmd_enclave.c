/* `vouch enclave keygen|sign|measure`: signing keys, signed enclave images and
 * their identity (include/vouch/enclave_image.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/enclave_image.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "cli/cli.h"

static const char *const value_opts[] = {"--key", "--config", "--out", NULL};

static void usage_enclave(FILE *f)
{
    fprintf(f, "usage: vouch enclave keygen --out KEY.pem\n"
               "       vouch enclave sign --key KEY.pem --config CONFIG.json --out IMAGE "
               "ENCLAVE.so [--json]\n"
               "       vouch enclave measure IMAGE [--json]\n"
               "       vouch enclave measure ENCLAVE.so --config CONFIG.json [--key KEY.pem] "
               "[--json]\n");
}

/* Reads a regular file of at most @p cap bytes (enclaves may exceed the
 * CLI's general VOUCH_MAX_FILE_SIZE). */
static vouch_err read_file_cap(const char *path, size_t cap, uint8_t **out, size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_IO;
    struct vouch_buf b;
    struct stat st;
    uint8_t chunk[64 * 1024];
    int fd;

    *out = NULL;
    *len_out = 0;
    vouch_buf_init(&b, cap);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "vouch: %s: %s\n", path, strerror(errno));
        return VOUCH_ERR_IO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "vouch: %s: not a regular file\n", path);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "vouch: %s: %s\n", path, strerror(errno));
            rc = VOUCH_ERR_IO;
            goto out;
        }
        if (n == 0)
            break;
        if ((rc = vouch_buf_append(&b, chunk, (size_t)n)) != VOUCH_OK) {
            fprintf(stderr, "vouch: %s: %s\n", path,
                    rc == VOUCH_ERR_TOO_LARGE ? "file too large" : vouch_strerror(rc));
            goto out;
        }
    }
    *out = vouch_buf_take(&b, len_out);
    rc = *out ? VOUCH_OK : VOUCH_ERR_NOMEM;
out:
    vouch_buf_free(&b);
    close(fd);
    return rc;
}

/* Writes @p p to @p path through a temporary file and a rename, so a
 * half-written image never exists under the final name. */
static vouch_err write_file_atomic(const char *path, const uint8_t *p, size_t len, mode_t mode)
{
    vouch_err rc = VOUCH_ERR_IO;
    char tmp[4096];
    size_t off = 0;
    int fd = -1, n;

    n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return VOUCH_ERR_TOO_LARGE;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "vouch: %s: %s\n", tmp, strerror(errno));
        return VOUCH_ERR_IO;
    }
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "vouch: %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        fprintf(stderr, "vouch: %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "vouch: %s: %s\n", path, strerror(errno));
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (fd >= 0)
        close(fd);
    if (rc != VOUCH_OK)
        (void)unlink(tmp);
    return rc;
}

static vouch_err load_config(const char *path, struct vouch_enclave_image_config *cfg)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char detail[256] = "";
    vouch_err rc;

    if ((rc = read_file_cap(path, VOUCH_MAX_ENCLAVE_CONFIG_JSON, &text, &len)) != VOUCH_OK)
        return rc;
    rc = vouch_enclave_image_config_parse_json(text, len, cfg, detail, sizeof(detail));
    if (rc != VOUCH_OK)
        fprintf(stderr, "vouch: %s: %s\n", path, detail[0] ? detail : vouch_strerror(rc));
    vouch_free(text);
    return rc;
}

/* Prints an identity and its config; without @p have_signer the signer id is
 * unknown (a bare .so measured without --key). */
static void print_identity(const struct vouch_enclave_identity *id,
                           const struct vouch_enclave_image_config *cfg, bool have_signer,
                           bool is_signed, bool as_json)
{
    char mhex[2 * VOUCH_ENCLAVE_MEASUREMENT_LEN + 1];
    char shex[2 * VOUCH_ENCLAVE_SIGNER_ID_LEN + 1];

    if (as_json) {
        json_t *o = NULL, *c = NULL;
        if (vouch_enclave_identity_to_json(id, &o) != VOUCH_OK ||
            vouch_enclave_image_config_to_json(cfg, &c) != VOUCH_OK) {
            json_decref(o);
            fprintf(stderr, "vouch: out of memory\n");
            return;
        }
        json_object_update(o, c);
        if (!have_signer)
            json_object_set_new(o, "signer_id", json_null());
        json_object_set_new(o, "signed", json_boolean(is_signed));
        cli_print_json(o);
        json_decref(c);
        json_decref(o);
        return;
    }
    vouch_hex_encode(id->measurement, sizeof(id->measurement), mhex);
    vouch_hex_encode(id->signer_id, sizeof(id->signer_id), shex);
    printf("measurement:      %s\n", mhex);
    printf("signer_id:        %s\n", have_signer ? shex : "(unsigned)");
    printf("product_id:       %u\n", id->product_id);
    printf("security_version: %u\n", id->svn);
    printf("debug:            %s\n", id->debug ? "true" : "false");
    printf("heap_size:        %llu\n", (unsigned long long)cfg->heap_size);
    printf("stack_size:       %llu\n", (unsigned long long)cfg->stack_size);
    printf("thread_count:     %u\n", cfg->thread_count);
    printf("signed:           %s\n", is_signed ? "yes" : "no");
}

static int cmd_keygen(int argc, char **argv)
{
    const char *out = cli_opt(argc, argv, 3, "--out", 1);
    struct vouch_pkey *k = NULL;
    struct stat st;
    uint8_t sid[VOUCH_ENCLAVE_SIGNER_ID_LEN];
    char hex[2 * sizeof(sid) + 1];
    int ret = VOUCH_EXIT_NO;
    vouch_err rc;

    if (!out || !*out) {
        usage_enclave(stderr);
        return VOUCH_EXIT_USAGE;
    }
    /* Never replace a signing key: that would change the signer id of
     * every future release. */
    if (lstat(out, &st) == 0) {
        fprintf(stderr, "vouch: %s exists; refusing to overwrite a key\n", out);
        return VOUCH_EXIT_USAGE;
    }
    if ((rc = vouch_pkey_generate(VOUCH_PKEY_EC_P256, &k)) != VOUCH_OK ||
        (rc = vouch_pkey_save(k, out)) != VOUCH_OK ||
        (rc = vouch_enclave_signer_id(k, sid)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s: %s\n", out, vouch_strerror(rc));
        goto out;
    }
    vouch_hex_encode(sid, sizeof(sid), hex);
    printf("signer_id: %s\n", hex);
    ret = VOUCH_EXIT_OK;
out:
    vouch_pkey_free(k);
    return ret;
}

static int cmd_sign(int argc, char **argv)
{
    const char *key_path = cli_opt(argc, argv, 3, "--key", 1);
    const char *cfg_path = cli_opt(argc, argv, 3, "--config", 1);
    const char *out = cli_opt(argc, argv, 3, "--out", 1);
    const char *so_path = cli_positional(argc, argv, 3, value_opts);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct vouch_enclave_image_config cfg;
    struct vouch_enclave_image *img = NULL;
    struct vouch_pkey *k = NULL;
    uint8_t *so = NULL, *image = NULL;
    size_t so_len = 0, image_len = 0;
    char detail[256] = "";
    int ret = VOUCH_EXIT_NO;
    vouch_err rc;

    if (!key_path || !cfg_path || !out || !so_path) {
        usage_enclave(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if ((rc = vouch_pkey_load(key_path, &k)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s: %s%s\n", key_path, vouch_strerror(rc),
                rc == VOUCH_ERR_INVAL ? " (the key file must be mode 0600 and not a link)" : "");
        ret = VOUCH_EXIT_USAGE;
        goto out;
    }
    if (vouch_pkey_kind(k) != VOUCH_KEY_EC_P256) {
        fprintf(stderr, "vouch: %s: enclave signing keys are EC P-256 (vouch enclave keygen)\n",
                key_path);
        ret = VOUCH_EXIT_USAGE;
        goto out;
    }
    if (load_config(cfg_path, &cfg) != VOUCH_OK ||
        read_file_cap(so_path, VOUCH_MAX_ENCLAVE_SO_SIZE, &so, &so_len) != VOUCH_OK) {
        ret = VOUCH_EXIT_USAGE;
        goto out;
    }
    /* Measure first on its own so that a bad .so gets a precise reason. */
    {
        uint8_t m[VOUCH_ENCLAVE_MEASUREMENT_LEN];
        if ((rc = vouch_enclave_measure(so, so_len, &cfg, m)) != VOUCH_OK) {
            fprintf(stderr, "vouch: %s: not a valid enclave .so: %s\n", so_path,
                    vouch_strerror(rc));
            goto out;
        }
    }
    if ((rc = vouch_enclave_image_sign(so, so_len, &cfg, k, &image, &image_len)) != VOUCH_OK) {
        fprintf(stderr, "vouch: signing failed: %s\n", vouch_strerror(rc));
        goto out;
    }
    if (write_file_atomic(out, image, image_len, 0644) != VOUCH_OK)
        goto out;
    if ((rc = vouch_enclave_image_open(image, image_len, &img, detail, sizeof(detail))) !=
        VOUCH_OK) {
        fprintf(stderr, "vouch: %s: %s\n", out, detail[0] ? detail : vouch_strerror(rc));
        goto out;
    }
    print_identity(vouch_enclave_image_identity(img), vouch_enclave_image_config(img), true, true,
                   as_json);
    ret = VOUCH_EXIT_OK;
out:
    vouch_enclave_image_free(img);
    vouch_free(image);
    vouch_free(so);
    vouch_pkey_free(k);
    return ret;
}

static int cmd_measure(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, value_opts);
    const char *cfg_path = cli_opt(argc, argv, 3, "--config", 1);
    const char *key_path = cli_opt(argc, argv, 3, "--key", 1);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct vouch_enclave_image *img = NULL;
    struct vouch_enclave_image_config cfg;
    struct vouch_enclave_identity id;
    struct vouch_pkey *k = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    char detail[256] = "";
    int ret = VOUCH_EXIT_NO;
    vouch_err rc;

    if (!path) {
        usage_enclave(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (read_file_cap(path, VOUCH_MAX_ENCLAVE_IMAGE_SIZE, &buf, &len) != VOUCH_OK)
        return VOUCH_EXIT_USAGE;
    if (len >= 4 && memcmp(buf,
                           "\x7f"
                           "ELF",
                           4) == 0) {
        /* A bare .so: what its measurement would be once signed. */
        if (!cfg_path) {
            fprintf(stderr,
                    "vouch: %s is a bare .so: its measurement depends on the "
                    "configuration, give --config\n",
                    path);
            ret = VOUCH_EXIT_USAGE;
            goto out;
        }
        if (load_config(cfg_path, &cfg) != VOUCH_OK) {
            ret = VOUCH_EXIT_USAGE;
            goto out;
        }
        memset(&id, 0, sizeof(id));
        if ((rc = vouch_enclave_measure(buf, len, &cfg, id.measurement)) != VOUCH_OK) {
            fprintf(stderr, "vouch: %s: not a valid enclave .so: %s\n", path, vouch_strerror(rc));
            goto out;
        }
        if (key_path) {
            if ((rc = vouch_pkey_load(key_path, &k)) != VOUCH_OK ||
                (rc = vouch_enclave_signer_id(k, id.signer_id)) != VOUCH_OK) {
                fprintf(stderr, "vouch: %s: %s\n", key_path, vouch_strerror(rc));
                ret = VOUCH_EXIT_USAGE;
                goto out;
            }
        }
        id.product_id = cfg.product_id;
        id.svn = cfg.svn;
        id.debug = cfg.debug;
        print_identity(&id, &cfg, key_path != NULL, false, as_json);
        ret = VOUCH_EXIT_OK;
        goto out;
    }
    if (cfg_path || key_path) {
        fprintf(stderr,
                "vouch: %s: --config and --key apply to a bare .so only; a signed "
                "image carries its own\n",
                path);
        ret = VOUCH_EXIT_USAGE;
        goto out;
    }
    if ((rc = vouch_enclave_image_open(buf, len, &img, detail, sizeof(detail))) != VOUCH_OK) {
        if (as_json) {
            json_t *o = json_pack("{s:s,s:s,s:s}", "error", vouch_err_name(rc), "detail",
                                  detail[0] ? detail : vouch_strerror(rc), "path", path);
            if (o)
                cli_print_json(o);
            json_decref(o);
        } else {
            fprintf(stderr, "vouch: %s: refused: %s\n", path,
                    detail[0] ? detail : vouch_strerror(rc));
        }
        goto out;
    }
    print_identity(vouch_enclave_image_identity(img), vouch_enclave_image_config(img), true, true,
                   as_json);
    ret = VOUCH_EXIT_OK;
out:
    vouch_pkey_free(k);
    vouch_enclave_image_free(img);
    vouch_free(buf);
    return ret;
}

int cli_enclave(int argc, char **argv)
{
    if (argc < 3) {
        usage_enclave(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (strcmp(argv[2], "keygen") == 0)
        return cmd_keygen(argc, argv);
    if (strcmp(argv[2], "sign") == 0)
        return cmd_sign(argc, argv);
    if (strcmp(argv[2], "measure") == 0)
        return cmd_measure(argc, argv);
    usage_enclave(stderr);
    return VOUCH_EXIT_USAGE;
}
