/*
 * configfs-tsm report client (see include/vouch/tsm.h for the protocol).
 *
 * Attributes are opened relative to the entry's directory fd with
 * O_NOFOLLOW, so a symbolic link planted in the entry (possible only in the
 * test stand-in, configfs has none) cannot redirect a read or a write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/tsm.h>

struct vouch_tsm_entry {
    int root_fd;
    int dir_fd;
    char name[64];
    char path[VOUCH_MAX_TSM_PATH];
    unsigned writes; /* our writes since creation: the generation we expect */
    bool used;
};

void vouch_tsm_report_free(struct vouch_tsm_report *r)
{
    if (!r)
        return;
    vouch_free(r->outblob);
    vouch_free(r->auxblob);
    memset(r, 0, sizeof(*r));
}

vouch_err vouch_tsm_entry_create(const char *root, struct vouch_tsm_entry **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tsm_entry *e = NULL;
    uint8_t rnd[8];
    char hex[2 * sizeof(rnd) + 1];
    int n;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!root)
        return VOUCH_ERR_INVAL;
    e = vouch_calloc(1, sizeof(*e));
    if (!e)
        return VOUCH_ERR_NOMEM;
    e->root_fd = -1;
    e->dir_fd = -1;
    e->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (e->root_fd < 0) {
        vouch_log_debug("configfs-tsm root %s: %s", root, strerror(errno));
        rc = errno == ENOENT ? VOUCH_ERR_UNSUPPORTED : VOUCH_ERR_IO;
        goto out;
    }
    /* A random name: several agents may share the root, and an entry that
     * already exists (EEXIST) belongs to someone else. */
    if ((rc = vouch_random(rnd, sizeof(rnd))) != VOUCH_OK)
        goto out;
    vouch_hex_encode(rnd, sizeof(rnd), hex);
    n = snprintf(e->name, sizeof(e->name), "vouch-%ld-%s", (long)getpid(), hex);
    if (n < 0 || (size_t)n >= sizeof(e->name)) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    n = snprintf(e->path, sizeof(e->path), "%s/%s", root, e->name);
    if (n < 0 || (size_t)n >= sizeof(e->path)) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (mkdirat(e->root_fd, e->name, 0700) != 0) {
        vouch_log_debug("configfs-tsm mkdir %s: %s", e->path, strerror(errno));
        rc = errno == EEXIST ? VOUCH_ERR_BUSY : VOUCH_ERR_IO;
        goto out;
    }
    e->dir_fd = openat(e->root_fd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (e->dir_fd < 0) {
        rc = VOUCH_ERR_IO;
        (void)unlinkat(e->root_fd, e->name, AT_REMOVEDIR);
        goto out;
    }
    *out = e;
    e = NULL;
    rc = VOUCH_OK;
out:
    if (e) {
        if (e->root_fd >= 0)
            close(e->root_fd);
        vouch_free(e);
    }
    return rc;
}

const char *vouch_tsm_entry_path(const struct vouch_tsm_entry *e)
{
    return e ? e->path : NULL;
}

void vouch_tsm_entry_destroy(struct vouch_tsm_entry *e)
{
    if (!e)
        return;
    if (e->dir_fd >= 0)
        close(e->dir_fd);
    if (e->root_fd >= 0) {
        /* configfs removes the attributes with the directory; a failure
         * only leaves an entry behind, never a wrong report. */
        if (unlinkat(e->root_fd, e->name, AT_REMOVEDIR) != 0)
            vouch_log_debug("configfs-tsm rmdir %s: %s", e->path, strerror(errno));
        close(e->root_fd);
    }
    vouch_free(e);
}

/* Reads attribute @p name whole (at most @p cap bytes). @p optional: a
 * missing attribute gives an empty result instead of IO. */
static vouch_err read_attr(struct vouch_tsm_entry *e, const char *name, size_t cap, bool optional,
                           uint8_t **out, size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_buf b;
    uint8_t chunk[4096];
    int fd;

    *out = NULL;
    *len_out = 0;
    vouch_buf_init(&b, cap);
    fd = openat(e->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (optional && errno == ENOENT) {
            rc = VOUCH_OK;
            goto out;
        }
        vouch_log_debug("configfs-tsm open %s/%s: %s", e->path, name, strerror(errno));
        rc = VOUCH_ERR_IO;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* The kernel answers EBUSY when a write raced the read. */
            vouch_log_debug("configfs-tsm read %s/%s: %s", e->path, name, strerror(errno));
            rc = errno == EBUSY ? VOUCH_ERR_BUSY : VOUCH_ERR_IO;
            goto out;
        }
        if (n == 0)
            break;
        if ((rc = vouch_buf_append(&b, chunk, (size_t)n)) != VOUCH_OK)
            goto out;
    }
    *out = vouch_buf_take(&b, len_out);
    rc = *out ? VOUCH_OK : VOUCH_ERR_NOMEM;
out:
    if (fd >= 0)
        close(fd);
    vouch_buf_free(&b);
    return rc;
}

static vouch_err write_attr(struct vouch_tsm_entry *e, const char *name, const void *p, size_t len)
{
    vouch_err rc = VOUCH_ERR_IO;
    ssize_t n;
    int fd;

    /* No O_CREAT and no O_TRUNC: configfs attributes exist already and
     * take the whole value in one write. */
    fd = openat(e->dir_fd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        vouch_log_debug("configfs-tsm open %s/%s: %s", e->path, name, strerror(errno));
        return VOUCH_ERR_IO;
    }
    do {
        n = write(fd, p, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len) {
        vouch_log_debug("configfs-tsm write %s/%s failed", e->path, name);
        goto out;
    }
    e->writes++;
    rc = VOUCH_OK;
out:
    close(fd);
    return rc;
}

/* Parses a decimal attribute value ("12\n"). */
static vouch_err parse_uint(const uint8_t *p, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    while (len > 0 && p[len - 1] == '\n')
        len--;
    if (len == 0 || len > 20)
        return VOUCH_ERR_PARSE;
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return VOUCH_ERR_PARSE;
        if (v > (max - (uint64_t)(p[i] - '0')) / 10)
            return VOUCH_ERR_PARSE;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return VOUCH_OK;
}

static vouch_err read_uint_attr(struct vouch_tsm_entry *e, const char *name, bool optional,
                                bool *present, uint64_t *out)
{
    uint8_t *p = NULL;
    size_t len = 0;
    vouch_err rc;

    *present = false;
    *out = 0;
    if ((rc = read_attr(e, name, 32, optional, &p, &len)) != VOUCH_OK)
        return rc;
    if (p) {
        *present = true;
        rc = parse_uint(p, len, UINT64_MAX, out);
        if (rc != VOUCH_OK)
            vouch_log_debug("configfs-tsm %s/%s is not a number", e->path, name);
    } else if (!optional) {
        rc = VOUCH_ERR_IO;
    }
    vouch_free(p);
    return rc;
}

static vouch_err claim_hex(const json_t *claims, const char *key, uint8_t *out, size_t n)
{
    return vouch_json_hex_fixed(claims, key, out, n) == VOUCH_OK ? VOUCH_OK : VOUCH_ERR_PARSE;
}

static vouch_err fill_identity(const struct vouch_tsm_report *r, enum vouch_evidence_format want,
                               const uint8_t inblob[VOUCH_TSM_INBLOB_LEN],
                               struct vouch_tsm_identity *id)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    enum vouch_evidence_format fmt = VOUCH_EVIDENCE_UNKNOWN;
    json_t *claims = NULL, *dbg;

    if ((rc = vouch_evidence_inspect(r->outblob, r->outblob_len, &fmt, &claims)) != VOUCH_OK) {
        vouch_log_debug("configfs-tsm outblob does not parse: %s", vouch_err_name(rc));
        goto out;
    }
    if (fmt != want) {
        vouch_log_debug("configfs-tsm provider %s returned %s evidence", r->provider,
                        vouch_evidence_format_name(fmt));
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    id->format = fmt;
    if ((rc = claim_hex(claims, fmt == VOUCH_EVIDENCE_SNP ? "measurement" : "mr_td",
                        id->measurement, sizeof(id->measurement))) != VOUCH_OK ||
        (rc = claim_hex(claims, "report_data", id->report_data, sizeof(id->report_data))) !=
            VOUCH_OK)
        goto out;
    dbg = json_object_get(claims, "debug");
    if (!json_is_boolean(dbg)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    id->debug = json_is_true(dbg);
    /* A report over other data than ours is a stale or substituted outblob
     * (or a kernel bug): never hand it out as ours. */
    if (!vouch_ct_eq(id->report_data, inblob, VOUCH_TSM_INBLOB_LEN)) {
        vouch_log_debug("configfs-tsm report data differs from the inblob written");
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    rc = VOUCH_OK;
out:
    json_decref(claims);
    return rc;
}

vouch_err vouch_tsm_entry_generate(struct vouch_tsm_entry *e,
                                   const uint8_t inblob[VOUCH_TSM_INBLOB_LEN],
                                   struct vouch_tsm_report *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tsm_report r;
    enum vouch_evidence_format want;
    uint8_t *prov = NULL;
    size_t prov_len = 0;
    uint64_t floor = 0, gen = 0;
    bool present = false;
    char lvl[24];
    int n;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    if (!e || !inblob || e->used)
        return VOUCH_ERR_INVAL;
    e->used = true;

    if ((rc = read_attr(e, "provider", VOUCH_MAX_TSM_PROVIDER - 1, false, &prov, &prov_len)) !=
        VOUCH_OK)
        goto out;
    while (prov_len > 0 && prov[prov_len - 1] == '\n')
        prov_len--;
    if (prov_len == 0 || memchr(prov, 0, prov_len)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    memcpy(r.provider, prov, prov_len);
    r.provider[prov_len] = 0;
    if (strcmp(r.provider, "sev_guest") == 0) {
        want = VOUCH_EVIDENCE_SNP;
    } else if (strcmp(r.provider, "tdx_guest") == 0) {
        want = VOUCH_EVIDENCE_TDX;
    } else {
        vouch_log_debug("configfs-tsm provider %s is not supported", r.provider);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }

    if (want == VOUCH_EVIDENCE_SNP) {
        if ((rc = read_uint_attr(e, "privlevel_floor", true, &present, &floor)) != VOUCH_OK)
            goto out;
        if (present && floor > 3) {
            rc = VOUCH_ERR_PARSE; /* VMPLs are 0-3 */
            goto out;
        }
        if (present && floor > 0) {
            n = snprintf(lvl, sizeof(lvl), "%u\n", (unsigned)floor);
            if (n < 0 || (size_t)n >= sizeof(lvl) ||
                (rc = write_attr(e, "privlevel", lvl, (size_t)n)) != VOUCH_OK) {
                rc = rc == VOUCH_OK ? VOUCH_ERR_INTERNAL : rc;
                goto out;
            }
        }
    }
    if ((rc = write_attr(e, "inblob", inblob, VOUCH_TSM_INBLOB_LEN)) != VOUCH_OK)
        goto out;
    if ((rc = read_attr(e, "outblob", VOUCH_MAX_TSM_BLOB, false, &r.outblob, &r.outblob_len)) !=
            VOUCH_OK ||
        (rc = read_attr(e, "auxblob", VOUCH_MAX_TSM_BLOB, true, &r.auxblob, &r.auxblob_len)) !=
            VOUCH_OK)
        goto out;
    if (r.outblob_len == 0) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (r.auxblob && r.auxblob_len == 0)
        VOUCH_FREE(r.auxblob);
    if ((rc = read_uint_attr(e, "generation", false, &present, &gen)) != VOUCH_OK)
        goto out;
    if (gen != e->writes) {
        vouch_log_debug("configfs-tsm generation %llu, expected %u: another writer raced us",
                        (unsigned long long)gen, e->writes);
        rc = VOUCH_ERR_BUSY;
        goto out;
    }
    r.generation = gen;
    if ((rc = fill_identity(&r, want, inblob, &r.id)) != VOUCH_OK)
        goto out;
    *out = r;
    memset(&r, 0, sizeof(r));
    rc = VOUCH_OK;
out:
    vouch_free(prov);
    vouch_tsm_report_free(&r);
    return rc;
}

vouch_err vouch_tsm_get_report(const char *root, const uint8_t report_data[VOUCH_TSM_INBLOB_LEN],
                               struct vouch_tsm_report *out)
{
    struct vouch_tsm_entry *e = NULL;
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if ((rc = vouch_tsm_entry_create(root ? root : VOUCH_TSM_DEFAULT_ROOT, &e)) != VOUCH_OK)
        return rc;
    rc = vouch_tsm_entry_generate(e, report_data, out);
    vouch_tsm_entry_destroy(e);
    return rc;
}
