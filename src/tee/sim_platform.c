/*
 * The software TEE's per-installation platform material (include/vouch/sim.h):
 * creation on first use, loading, and signing reports.
 *
 * Creation builds the complete set in a private temporary directory next to
 * the target and renames the directory into place, so two loaders starting at
 * once on a fresh installation cannot interleave files: the loser of the
 * rename discards its set and loads the winner's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/certgen.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/sim.h>

#define CA_FILE       "ca.pem"
#define CA_KEY_FILE   "ca-key.pem"
#define LEAF_FILE     "platform.pem"
#define LEAF_KEY_FILE "platform-key.pem"
#define SECRET_FILE   "seal.secret"
#define CA_CN         "Vouch software TEE CA"
#define LEAF_CN       "Vouch software TEE platform"
/* Backdating absorbs clock differences between the creating and the
 * verifying host; lifetimes are long because the material is per-install. */
#define BACKDATE      60
#define CA_LIFETIME   (10LL * 365 * 24 * 3600)
#define LEAF_LIFETIME (365LL * 24 * 3600)

struct vouch_sim_platform {
    struct vouch_pkey *key;
    struct vouch_x509 *leaf;
    struct vouch_x509 *ca;
    uint8_t seal_secret[VOUCH_SIM_SEAL_SECRET_LEN];
};

static const char *const files[] = {CA_FILE, CA_KEY_FILE, LEAF_FILE, LEAF_KEY_FILE, SECRET_FILE};

static vouch_err path_join(struct vouch_buf *b, const char *dir, const char *name)
{
    vouch_buf_reset(b);
    return vouch_buf_printf(b, "%s/%s", dir, name);
}

static vouch_err write_all(int fd, const uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VOUCH_ERR_IO;
        done += (size_t)n;
    }
    return VOUCH_OK;
}

/* fsyncs the directory holding @p path, so that a rename into it survives a
 * crash: a seal secret lost after data was sealed with it would make that
 * data unreadable for good. */
static vouch_err sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = !slash          ? vouch_strdup(".")
                : slash == path ? vouch_strdup("/")
                                : vouch_strndup(path, (size_t)(slash - path));
    vouch_err rc = VOUCH_ERR_IO;
    int fd;

    if (!dir)
        return VOUCH_ERR_NOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) == 0)
            rc = VOUCH_OK;
        close(fd);
    }
    vouch_free(dir);
    return rc;
}

/* Writes @p len bytes to "<path>.tmp" (0600, exclusive), renames it over
 * @p path and syncs the directory: a reader sees the whole file or none. */
static vouch_err write_file_atomic(const char *path, const uint8_t *p, size_t len)
{
    struct vouch_buf tmp;
    vouch_err rc = VOUCH_ERR_IO;
    bool created = false;
    int fd = -1;

    vouch_buf_init(&tmp, PATH_MAX);
    if ((rc = vouch_buf_printf(&tmp, "%s.tmp", path)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_IO;
    fd = open((const char *)tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    created = true;
    if (fchmod(fd, 0600) != 0 || write_all(fd, p, len) != VOUCH_OK || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename((const char *)tmp.data, path) != 0)
        goto out;
    created = false;
    rc = sync_parent(path);
out:
    if (fd >= 0)
        close(fd);
    if (created)
        (void)unlink((const char *)tmp.data);
    vouch_buf_free(&tmp);
    return rc;
}

/* Reads a whole regular file (no symlink) of at most @p max bytes. With
 * @p private_only, a file group or others may access is refused. */
static vouch_err read_file(const char *path, size_t max, bool private_only, uint8_t **out,
                           size_t *len_out)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    vouch_err rc = VOUCH_ERR_IO;
    int fd;

    *out = NULL;
    *len_out = 0;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ELOOP ? VOUCH_ERR_INVAL : VOUCH_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode) || (private_only && (st.st_mode & 077) != 0)) {
        vouch_log_error("%s: not a private regular file (mode %04o)", path,
                        (unsigned)(st.st_mode & 07777));
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > max) {
        rc = st.st_size <= 0 ? VOUCH_ERR_PARSE : VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (!(buf = vouch_malloc((size_t)st.st_size))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        got += (size_t)n;
    }
    *out = buf;
    *len_out = got;
    buf = NULL;
    rc = VOUCH_OK;
out:
    if (buf) {
        vouch_wipe(buf, (size_t)st.st_size);
        vouch_free(buf);
    }
    close(fd);
    return rc;
}

static vouch_err save_cert(const char *path, const uint8_t *der, size_t len)
{
    char *pem = NULL;
    vouch_err rc = vouch_pkey_cert_pem(der, len, &pem);
    if (rc == VOUCH_OK)
        rc = write_file_atomic(path, (const uint8_t *)pem, strlen(pem));
    vouch_free(pem);
    return rc;
}

/* Generates the full set into @p dir (which exists and is private). */
static vouch_err generate(const char *dir, int64_t now)
{
    struct vouch_pkey *ca_key = NULL, *leaf_key = NULL;
    struct vouch_pubkey *ca_pub = NULL, *leaf_pub = NULL;
    struct vouch_x509 *ca = NULL;
    uint8_t *ca_der = NULL, *leaf_der = NULL;
    size_t ca_len = 0, leaf_len = 0;
    uint8_t secret[VOUCH_SIM_SEAL_SECRET_LEN];
    struct vouch_buf path;
    vouch_err rc;
    struct vouch_cert_issue_spec ca_spec = {.subject_cn = CA_CN,
                                            .not_before = now - BACKDATE,
                                            .not_after = now - BACKDATE + CA_LIFETIME,
                                            .ca = true};
    struct vouch_cert_issue_spec leaf_spec = {.subject_cn = LEAF_CN,
                                              .not_before = now - BACKDATE,
                                              .not_after = now - BACKDATE + LEAF_LIFETIME};

    vouch_buf_init(&path, PATH_MAX);
    if ((rc = vouch_pkey_generate(VOUCH_PKEY_EC_P256, &ca_key)) != VOUCH_OK ||
        (rc = vouch_pkey_generate(VOUCH_PKEY_EC_P256, &leaf_key)) != VOUCH_OK ||
        (rc = vouch_pkey_public(ca_key, &ca_pub)) != VOUCH_OK ||
        (rc = vouch_pkey_public(leaf_key, &leaf_pub)) != VOUCH_OK ||
        (rc = vouch_cert_issue(ca_pub, ca_key, NULL, &ca_spec, &ca_der, &ca_len)) != VOUCH_OK ||
        (rc = vouch_x509_parse_der(ca_der, ca_len, &ca)) != VOUCH_OK ||
        (rc = vouch_cert_issue(leaf_pub, ca_key, ca, &leaf_spec, &leaf_der, &leaf_len)) !=
            VOUCH_OK ||
        (rc = vouch_random(secret, sizeof(secret))) != VOUCH_OK)
        goto out;
    if ((rc = path_join(&path, dir, CA_KEY_FILE)) != VOUCH_OK ||
        (rc = vouch_pkey_save(ca_key, (const char *)path.data)) != VOUCH_OK ||
        (rc = path_join(&path, dir, LEAF_KEY_FILE)) != VOUCH_OK ||
        (rc = vouch_pkey_save(leaf_key, (const char *)path.data)) != VOUCH_OK ||
        (rc = path_join(&path, dir, CA_FILE)) != VOUCH_OK ||
        (rc = save_cert((const char *)path.data, ca_der, ca_len)) != VOUCH_OK ||
        (rc = path_join(&path, dir, LEAF_FILE)) != VOUCH_OK ||
        (rc = save_cert((const char *)path.data, leaf_der, leaf_len)) != VOUCH_OK ||
        (rc = path_join(&path, dir, SECRET_FILE)) != VOUCH_OK ||
        (rc = write_file_atomic((const char *)path.data, secret, sizeof(secret))) != VOUCH_OK)
        goto out;
out:
    vouch_wipe(secret, sizeof(secret));
    vouch_pkey_free(ca_key);
    vouch_pkey_free(leaf_key);
    vouch_pubkey_free(ca_pub);
    vouch_pubkey_free(leaf_pub);
    vouch_x509_free(ca);
    vouch_free(ca_der);
    vouch_free(leaf_der);
    vouch_buf_free(&path);
    return rc;
}

static void remove_tree(const char *dir)
{
    struct vouch_buf path;
    vouch_buf_init(&path, PATH_MAX);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (path_join(&path, dir, files[i]) == VOUCH_OK)
            (void)unlink((const char *)path.data);
    vouch_buf_free(&path);
    (void)rmdir(dir);
}

/* Creates @p dir's parents (0700) when missing, as `mkdir -p`. */
static vouch_err make_parents(const char *dir)
{
    char *copy = vouch_strdup(dir);
    vouch_err rc = VOUCH_OK;

    if (!copy)
        return VOUCH_ERR_NOMEM;
    for (char *s = copy + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            rc = VOUCH_ERR_IO;
            break;
        }
        *s = '/';
    }
    vouch_free(copy);
    return rc;
}

/* Counts how many of the material files exist in @p dir. */
static vouch_err count_files(const char *dir, size_t *n)
{
    struct vouch_buf path;
    struct stat st;
    vouch_err rc = VOUCH_OK;

    *n = 0;
    vouch_buf_init(&path, PATH_MAX);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if ((rc = path_join(&path, dir, files[i])) != VOUCH_OK)
            break;
        if (lstat((const char *)path.data, &st) == 0)
            (*n)++;
        else if (errno != ENOENT) {
            rc = VOUCH_ERR_IO;
            break;
        }
    }
    vouch_buf_free(&path);
    return rc;
}

static vouch_err create_material(const char *dir, int64_t now)
{
    struct vouch_buf tmp;
    uint8_t rnd[8];
    char hex[17];
    struct stat st;
    size_t n;
    vouch_err rc;

    vouch_buf_init(&tmp, PATH_MAX);
    if (lstat(dir, &st) == 0) {
        /* An existing, empty directory (made by an installer): fill it in
         * place. Anything partial is refused, never regenerated, because the
         * old seal secret may still protect sealed data. */
        if (!S_ISDIR(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
            vouch_log_error("%s: platform directory must be a private directory of this user", dir);
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
        if ((rc = count_files(dir, &n)) != VOUCH_OK)
            goto out;
        if (n != 0) {
            vouch_log_error("%s: platform material is incomplete; refusing to replace it", dir);
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
        rc = generate(dir, now);
        goto out;
    }
    if (errno != ENOENT) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if ((rc = make_parents(dir)) != VOUCH_OK || (rc = vouch_random(rnd, sizeof(rnd))) != VOUCH_OK)
        goto out;
    vouch_hex_encode(rnd, sizeof(rnd), hex);
    if ((rc = vouch_buf_printf(&tmp, "%s.tmp-%s", dir, hex)) != VOUCH_OK)
        goto out;
    if (mkdir((const char *)tmp.data, 0700) != 0) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if ((rc = generate((const char *)tmp.data, now)) != VOUCH_OK) {
        remove_tree((const char *)tmp.data);
        goto out;
    }
    if (rename((const char *)tmp.data, dir) != 0) {
        /* Someone else created it first: use theirs. */
        rc = (errno == EEXIST || errno == ENOTEMPTY) ? VOUCH_OK : VOUCH_ERR_IO;
        remove_tree((const char *)tmp.data);
        goto out;
    }
    rc = sync_parent(dir);
out:
    vouch_buf_free(&tmp);
    return rc;
}

static vouch_err load_cert(const char *dir, const char *name, struct vouch_x509 **out)
{
    struct vouch_buf path;
    uint8_t *buf = NULL;
    size_t len = 0;
    vouch_err rc;

    vouch_buf_init(&path, PATH_MAX);
    if ((rc = path_join(&path, dir, name)) == VOUCH_OK &&
        (rc = read_file((const char *)path.data, 4 * VOUCH_MAX_CERT_SIZE, false, &buf, &len)) ==
            VOUCH_OK)
        rc = vouch_x509_parse(buf, len, out);
    vouch_free(buf);
    vouch_buf_free(&path);
    return rc;
}

static vouch_err load_material(const char *dir, int64_t now, struct vouch_sim_platform *p)
{
    struct vouch_buf path;
    struct vouch_pubkey *cert_pub = NULL, *key_pub = NULL;
    uint8_t *secret = NULL;
    size_t secret_len = 0;
    int64_t nb, na;
    vouch_err rc;

    vouch_buf_init(&path, PATH_MAX);
    if ((rc = load_cert(dir, CA_FILE, &p->ca)) != VOUCH_OK ||
        (rc = load_cert(dir, LEAF_FILE, &p->leaf)) != VOUCH_OK ||
        (rc = path_join(&path, dir, LEAF_KEY_FILE)) != VOUCH_OK ||
        (rc = vouch_pkey_load((const char *)path.data, &p->key)) != VOUCH_OK ||
        (rc = path_join(&path, dir, SECRET_FILE)) != VOUCH_OK ||
        (rc = read_file((const char *)path.data, VOUCH_SIM_SEAL_SECRET_LEN, true, &secret,
                        &secret_len)) != VOUCH_OK)
        goto out;
    if (secret_len != VOUCH_SIM_SEAL_SECRET_LEN || vouch_pkey_kind(p->key) != VOUCH_KEY_EC_P256) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    memcpy(p->seal_secret, secret, sizeof(p->seal_secret));
    /* The set must be coherent: a platform certificate from this CA for this
     * key, or the evidence would never verify. */
    if ((rc = vouch_x509_verify_signed_by(p->leaf, p->ca)) != VOUCH_OK ||
        (rc = vouch_x509_pubkey(p->leaf, &cert_pub)) != VOUCH_OK ||
        (rc = vouch_pkey_public(p->key, &key_pub)) != VOUCH_OK)
        goto out;
    if (!vouch_pkey_pub_eq(cert_pub, key_pub)) {
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    vouch_x509_validity(p->leaf, &nb, &na);
    if (now < nb || now > na) {
        vouch_log_error("%s: the platform certificate is not valid now", dir);
        rc = VOUCH_ERR_EXPIRED;
        goto out;
    }
out:
    if (secret) {
        vouch_wipe(secret, secret_len);
        vouch_free(secret);
    }
    vouch_pubkey_free(cert_pub);
    vouch_pubkey_free(key_pub);
    vouch_buf_free(&path);
    return rc;
}

vouch_err vouch_sim_platform_open(const char *dir, int64_t now, struct vouch_sim_platform **out)
{
    struct vouch_sim_platform *p = NULL;
    struct stat st;
    size_t n = 0;
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!dir || !*dir || strlen(dir) > PATH_MAX / 2)
        return VOUCH_ERR_INVAL;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT)
            return VOUCH_ERR_IO;
    } else if ((rc = count_files(dir, &n)) != VOUCH_OK) {
        return rc;
    } else if (n != 0 && n != sizeof(files) / sizeof(files[0])) {
        vouch_log_error("%s: platform material is incomplete; refusing to replace it", dir);
        return VOUCH_ERR_INVAL;
    }
    if (n == 0 && (rc = create_material(dir, now)) != VOUCH_OK)
        return rc;
    if (lstat(dir, &st) != 0)
        return VOUCH_ERR_IO;
    if (!S_ISDIR(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        vouch_log_error("%s: platform directory must be private to this user (mode 0700)", dir);
        return VOUCH_ERR_INVAL;
    }
    if (!(p = vouch_calloc(1, sizeof(*p))))
        return VOUCH_ERR_NOMEM;
    if ((rc = load_material(dir, now, p)) != VOUCH_OK) {
        vouch_sim_platform_free(p);
        return rc;
    }
    *out = p;
    return VOUCH_OK;
}

void vouch_sim_platform_free(struct vouch_sim_platform *p)
{
    if (!p)
        return;
    vouch_pkey_free(p->key);
    vouch_x509_free(p->leaf);
    vouch_x509_free(p->ca);
    vouch_wipe(p, sizeof(*p));
    vouch_free(p);
}

void vouch_sim_platform_ca_der(const struct vouch_sim_platform *p, const uint8_t **der, size_t *len)
{
    vouch_x509_der(p->ca, der, len);
}

const uint8_t *vouch_sim_platform_seal_secret(const struct vouch_sim_platform *p)
{
    return p->seal_secret;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

vouch_err vouch_sim_report_sign(const struct vouch_sim_platform *p,
                                const struct vouch_sim_identity *id,
                                const uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN], int64_t now,
                                uint8_t **ev_out, size_t *ev_len_out)
{
    uint8_t *ev = NULL;
    const uint8_t *leaf, *ca;
    size_t leaf_len, ca_len, total, sig_len = 0;
    vouch_err rc;

    if (!ev_out || !ev_len_out)
        return VOUCH_ERR_INVAL;
    *ev_out = NULL;
    *ev_len_out = 0;
    if (!p || !id || !report_data)
        return VOUCH_ERR_INVAL;
    vouch_x509_der(p->leaf, &leaf, &leaf_len);
    vouch_x509_der(p->ca, &ca, &ca_len);
    if (leaf_len > VOUCH_MAX_CERT_SIZE || ca_len > VOUCH_MAX_CERT_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    total = VOUCH_SIM_REPORT_LEN + VOUCH_SIM_SIG_LEN + 2 + leaf_len + 2 + ca_len;
    if (!(ev = vouch_calloc(1, total)))
        return VOUCH_ERR_NOMEM;
    memcpy(ev, VOUCH_SIM_MAGIC, VOUCH_SIM_MAGIC_LEN);
    put16(ev + 8, VOUCH_SIM_REPORT_VERSION);
    put16(ev + 10, VOUCH_TEE_BACKEND_SIM);
    put32(ev + 12, id->debug ? VOUCH_SIM_FLAG_DEBUG : 0);
    memcpy(ev + 16, id->measurement, 32);
    memcpy(ev + 48, id->signer_id, 32);
    put16(ev + 80, id->product_id);
    put16(ev + 82, id->svn);
    put32(ev + 84, 0);
    put64(ev + 88, (uint64_t)now);
    memcpy(ev + 96, report_data, VOUCH_SIM_REPORT_DATA_LEN);
    rc = vouch_pkey_sign(p->key, VOUCH_SIG_ES256, ev, VOUCH_SIM_REPORT_LEN,
                         ev + VOUCH_SIM_REPORT_LEN, VOUCH_SIM_SIG_LEN, &sig_len);
    if (rc != VOUCH_OK || sig_len != VOUCH_SIM_SIG_LEN) {
        vouch_free(ev);
        return rc != VOUCH_OK ? rc : VOUCH_ERR_INTERNAL;
    }
    {
        uint8_t *w = ev + VOUCH_SIM_REPORT_LEN + VOUCH_SIM_SIG_LEN;
        put16(w, (uint16_t)leaf_len);
        memcpy(w + 2, leaf, leaf_len);
        w += 2 + leaf_len;
        put16(w, (uint16_t)ca_len);
        memcpy(w + 2, ca, ca_len);
    }
    *ev_out = ev;
    *ev_len_out = total;
    return VOUCH_OK;
}
