/*
 * vouch-edger8r: compiles an EDL interface file (include/vouch/edl.h) into
 * the host stubs <name>_u.h/_u.c and the enclave stubs <name>_t.h/_t.c.
 *
 *     vouch-edger8r [--trusted-dir DIR] [--untrusted-dir DIR] [--name NAME]
 *                   [--trusted | --untrusted] FILE.edl
 *
 * NAME defaults to the file name without ".edl" and must be a C identifier
 * (it names the files, the include guards and <name>_ocall_table). Errors are
 * printed as "FILE:LINE:COLUMN: error: ..." so editors can jump to them. Each
 * output file is written to a temporary name and renamed into place, so a
 * failed run never leaves a half-written stub for the build to pick up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/edl.h>
#include <vouch/mem.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: vouch-edger8r [--trusted-dir DIR] [--untrusted-dir DIR] [--name NAME]\n"
               "                     [--trusted | --untrusted] FILE.edl\n");
}

/* Reads at most VOUCH_MAX_EDL_SIZE bytes of @p path; a longer file fails. */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct vouch_buf b;
    char chunk[4096];
    size_t n;
    int rc = -1;

    vouch_buf_init(&b, VOUCH_MAX_EDL_SIZE);
    if (!f) {
        fprintf(stderr, "vouch-edger8r: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (vouch_buf_append(&b, chunk, n) != VOUCH_OK) {
            fprintf(stderr, "vouch-edger8r: %s: larger than %u bytes\n", path, VOUCH_MAX_EDL_SIZE);
            goto out;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "vouch-edger8r: %s: read error\n", path);
        goto out;
    }
    *out = (char *)vouch_buf_take(&b, len);
    if (!*out) {
        *out = vouch_strdup("");
        *len = 0;
        if (!*out)
            goto out;
    }
    rc = 0;
out:
    vouch_buf_free(&b);
    fclose(f);
    return rc;
}

static int write_file(const char *dir, const char *name, const char *suffix,
                      const struct vouch_edl *edl, enum vouch_edl_file which)
{
    struct vouch_buf b;
    char path[4096], tmp[4200];
    FILE *f = NULL;
    int rc = -1;
    vouch_err err;

    vouch_buf_init(&b, VOUCH_MAX_EDL_OUTPUT);
    err = vouch_edl_emit(edl, name, which, &b);
    if (err != VOUCH_OK) {
        fprintf(stderr, "vouch-edger8r: generating %s%s: %s\n", name, suffix, vouch_strerror(err));
        goto out;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix) >= sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
        fprintf(stderr, "vouch-edger8r: output path too long\n");
        goto out;
    }
    f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "vouch-edger8r: %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    if ((b.len > 0 && fwrite(b.data, 1, b.len, f) != b.len) || fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "vouch-edger8r: %s: write failed\n", tmp);
        unlink(tmp);
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "vouch-edger8r: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    vouch_buf_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    const char *tdir = ".", *udir = ".", *name_arg = NULL, *path = NULL;
    bool want_t = true, want_u = true;
    char name[VOUCH_MAX_EDL_IDENT + 1];
    char *text = NULL;
    size_t len = 0;
    struct vouch_edl *edl = NULL;
    struct vouch_edl_error perr;
    vouch_err err;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trusted-dir") == 0 && i + 1 < argc) {
            tdir = argv[++i];
        } else if (strcmp(argv[i], "--untrusted-dir") == 0 && i + 1 < argc) {
            udir = argv[++i];
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name_arg = argv[++i];
        } else if (strcmp(argv[i], "--trusted") == 0) {
            want_u = false;
        } else if (strcmp(argv[i], "--untrusted") == 0) {
            want_t = false;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path || (!want_t && !want_u)) {
        usage(stderr);
        return 2;
    }
    if (name_arg) {
        if (strlen(name_arg) > VOUCH_MAX_EDL_IDENT) {
            fprintf(stderr, "vouch-edger8r: --name is too long\n");
            return 2;
        }
        memcpy(name, name_arg, strlen(name_arg) + 1); /* length checked above */
    } else {
        const char *base = strrchr(path, '/');
        size_t n;

        base = base ? base + 1 : path;
        n = strlen(base);
        if (n > 4 && strcmp(base + n - 4, ".edl") == 0)
            n -= 4;
        if (n > VOUCH_MAX_EDL_IDENT) {
            fprintf(stderr, "vouch-edger8r: file name too long for a stub name: use --name\n");
            return 2;
        }
        memcpy(name, base, n);
        name[n] = '\0';
    }
    if (!name[0] || (name[0] >= '0' && name[0] <= '9') ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
            strlen(name)) {
        fprintf(stderr, "vouch-edger8r: '%s' is not a C identifier: use --name\n", name);
        return 2;
    }
    if (read_file(path, &text, &len) != 0)
        goto out;
    err = vouch_edl_parse(text, len, &edl, &perr);
    if (err != VOUCH_OK) {
        if (perr.line)
            fprintf(stderr, "%s:%u:%u: error: %s\n", path, perr.line, perr.column, perr.message);
        else
            fprintf(stderr, "%s: error: %s (%s)\n", path, perr.message, vouch_strerror(err));
        goto out;
    }
    if (want_u && (write_file(udir, name, "_u.h", edl, VOUCH_EDL_HOST_HEADER) != 0 ||
                   write_file(udir, name, "_u.c", edl, VOUCH_EDL_HOST_SOURCE) != 0))
        goto out;
    if (want_t && (write_file(tdir, name, "_t.h", edl, VOUCH_EDL_ENCLAVE_HEADER) != 0 ||
                   write_file(tdir, name, "_t.c", edl, VOUCH_EDL_ENCLAVE_SOURCE) != 0))
        goto out;
    rc = 0;
out:
    vouch_edl_free(edl);
    vouch_free(text);
    return rc;
}
