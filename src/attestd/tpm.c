/*
 * POST /attest/Tpm: Azure Attestation's two-round TPM protocol
 * (docs/tpm.md), with a stateless service context.
 *
 * Round 1 ("aikcert" or "ekcred") issues a 32-byte challenge inside an
 * AES-256-GCM service context {id, challenge, expiry, trust path, AK Name}
 * under a key kept in the data directory, so any replica sharing it can
 * finish round 2. For "ekcred" the challenge only travels as a credential
 * (TPM2_MakeCredential to the EK, bound to the AK Name), so knowing it
 * proves the AK lives in the TPM of that EK.
 *
 * Round 2 checks, in this order, each failure a 400 whose message starts
 * with a reason name: the context (ContextInvalid, ContextExpired,
 * ContextReplayed), the challenge (ChallengeMismatch), the JWS by the request
 * key (RequestSignatureInvalid), AK trust (UntrustedAik), AK attributes
 * (AikAttributesInvalid), the quote signature (QuoteSignatureInvalid), its
 * extraData = SHA-256(JWK thumbprint || 00 || challenge)
 * (QuoteNonceMismatch), SHA-1 banks (Sha1NotAllowed), the PCR digest
 * (PcrDigestMismatch), the event log (EventLogMismatch), that the quote
 * selects every PCR whose tpm-pcr-* claim the policy tests
 * (PcrSelectionInsufficient), then policy and the token. A consumed context
 * id is remembered until its expiry in a bounded in-memory set: a replay is
 * caught by the replica that saw the first use (the documented limit across
 * replicas).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/seal.h>
#include <vouch/tpm.h>

#include "attestd/attestd_int.h"

#define CTX_KEY_FILE   "tpm-context.key"
#define CTX_KEY_LEN    32u
#define CTX_ID_LEN     16u
#define CHALLENGE_LEN  32u
#define CTX_TTL        300 /* seconds: round 2 must follow within 5 minutes */
#define CTX_VERSION    1u
#define GCM_NONCE_LEN  12u
#define GCM_TAG_LEN    16u
#define CTX_PLAIN_MAX  (1u + CTX_ID_LEN + CHALLENGE_LEN + 8u + 1u + 1u + VOUCH_TPM_MAX_NAME)
#define CTX_BLOB_MAX   (GCM_NONCE_LEN + CTX_PLAIN_MAX + GCM_TAG_LEN)
#define KEY_ID_LEN     16u /* hex characters */
#define REPLAY_SLOTS   (2u * VOUCH_MAX_TPM_REPLAY_SET)
#define THUMBPRINT_LEN 32u
static const char ctx_aad[] = "vouch-tpm-context-v1";

enum { OUTCOME_OK = 0, OUTCOME_DENIED = 1, OUTCOME_INVALID = 2 };
enum trust_path { PATH_AIKCERT = 1, PATH_EKCRED = 2 };

struct tpm_name {
    uint8_t b[VOUCH_TPM_MAX_NAME];
    size_t len;
};

struct replay_slot {
    uint8_t id[CTX_ID_LEN];
    int64_t expiry; /* 0: empty */
};

struct attestd_tpm {
    uint8_t key[CTX_KEY_LEN];
    char key_id[KEY_ID_LEN + 1];
    struct vouch_x509 *ak_roots[VOUCH_MAX_TPM_ROOTS];
    size_t n_ak_roots;
    struct vouch_x509 *ek_roots[VOUCH_MAX_TPM_ROOTS];
    size_t n_ek_roots;
    struct tpm_name *ak_allow;
    size_t n_ak_allow;
    struct tpm_name *ek_allow;
    size_t n_ek_allow;
    pthread_mutex_t lock; /* guards the replay set */
    struct replay_slot *slots;
    size_t used;
};

/* What one round-2 request established, for the claims. */
struct ctx_plain {
    uint8_t id[CTX_ID_LEN];
    uint8_t challenge[CHALLENGE_LEN];
    int64_t expiry;
    uint8_t path;
    struct tpm_name ak_name;
};

/* ---------------- configuration ---------------- */

static vouch_err load_roots(const char *path, struct vouch_x509 **certs, size_t *n)
{
    char *text = NULL;
    size_t len = 0;
    vouch_err rc;

    if ((rc = attestd_read_file(path, false, &text, &len)) != VOUCH_OK) {
        vouch_log_error("cannot read %s", path);
        return rc;
    }
    rc = vouch_x509_parse_pem_chain((const uint8_t *)text, len, certs, VOUCH_MAX_TPM_ROOTS, n);
    if (rc != VOUCH_OK)
        vouch_log_error("%s: not a PEM certificate bundle of at most %u certificates: %s", path,
                        VOUCH_MAX_TPM_ROOTS, vouch_strerror(rc));
    vouch_free(text);
    return rc;
}

/* One hex Name per line; blank lines and '#' comments are skipped. */
static vouch_err load_names(const char *path, struct tpm_name **out, size_t *n_out)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, n = 0;
    struct tpm_name *names = NULL;
    vouch_err rc;

    if ((rc = attestd_read_file(path, false, &text, &len)) != VOUCH_OK) {
        vouch_log_error("cannot read %s", path);
        return rc;
    }
    rc = VOUCH_ERR_NOMEM;
    if (!(names = vouch_calloc(VOUCH_MAX_TPM_ALLOW_NAMES, sizeof(*names))))
        goto out;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l;
        while (*line == ' ' || *line == '\t')
            line++;
        l = strcspn(line, " \t\r#");
        if (l == 0)
            continue;
        if (n == VOUCH_MAX_TPM_ALLOW_NAMES) {
            vouch_log_error("%s: more than %u Names", path, VOUCH_MAX_TPM_ALLOW_NAMES);
            rc = VOUCH_ERR_TOO_LARGE;
            goto out;
        }
        if (vouch_hex_decode(line, l, names[n].b, sizeof(names[n].b), &names[n].len) != VOUCH_OK ||
            names[n].len < 2 + VOUCH_SHA256_LEN) {
            vouch_log_error("%s: '%.*s' is not a hex TPM Name (nameAlg || digest)", path, (int)l,
                            line);
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        n++;
    }
    *out = names;
    *n_out = n;
    names = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(names);
    vouch_free(text);
    return rc;
}

/* The context key: 32 random bytes in DATA/tpm-context.key (0600), created
 * once with link() so that replicas starting together agree on one key. */
static vouch_err load_key(struct attestd *d, struct attestd_tpm *t)
{
    char path[4200], tmp[4300];
    char *text = NULL;
    size_t len = 0;
    uint8_t key[CTX_KEY_LEN], digest[VOUCH_SHA256_LEN];
    vouch_err rc = VOUCH_ERR_IO;
    int fd = -1;
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", d->cfg.data_dir, CTX_KEY_FILE);
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
        if ((rc = vouch_random(key, sizeof(key))) != VOUCH_OK)
            goto out;
        rc = VOUCH_ERR_IO;
        unlink(tmp); /* a leftover of a crashed start with this pid */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) != 0) {
            vouch_log_error("cannot write %s: %s", tmp, strerror(errno));
            unlink(tmp);
            goto out;
        }
        close(fd);
        fd = -1;
        if (link(tmp, path) != 0 && errno != EEXIST) {
            vouch_log_error("cannot create %s: %s", path, strerror(errno));
            unlink(tmp);
            goto out;
        }
        unlink(tmp);
        vouch_log_info("created the TPM service-context key %s", path);
    }
    if ((rc = attestd_read_file(path, true, &text, &len)) != VOUCH_OK) {
        vouch_log_error("cannot read %s (must be a private regular file)", path);
        goto out;
    }
    if (len != CTX_KEY_LEN) {
        vouch_log_error("%s must hold exactly %u bytes", path, CTX_KEY_LEN);
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    memcpy(t->key, text, CTX_KEY_LEN);
    /* The key id names the key without revealing it. */
    if ((rc = vouch_sha256(t->key, CTX_KEY_LEN, digest)) != VOUCH_OK)
        goto out;
    vouch_hex_encode(digest, KEY_ID_LEN / 2, t->key_id);
    rc = VOUCH_OK;
out:
    if (fd >= 0)
        close(fd);
    if (text) {
        vouch_wipe(text, len);
        vouch_free(text);
    }
    vouch_wipe(key, sizeof(key));
    return rc;
}

vouch_err attestd_tpm_init(struct attestd *d)
{
    struct attestd_tpm *t = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    if (!(t = vouch_calloc(1, sizeof(*t))))
        return VOUCH_ERR_NOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        vouch_free(t);
        return VOUCH_ERR_INTERNAL;
    }
    d->tpm = t;
    if (!(t->slots = vouch_calloc(REPLAY_SLOTS, sizeof(*t->slots))))
        goto out;
    if ((rc = load_key(d, t)) != VOUCH_OK)
        goto out;
    if (d->cfg.tpm_ak_roots &&
        (rc = load_roots(d->cfg.tpm_ak_roots, t->ak_roots, &t->n_ak_roots)) != VOUCH_OK)
        goto out;
    if (d->cfg.tpm_ek_roots &&
        (rc = load_roots(d->cfg.tpm_ek_roots, t->ek_roots, &t->n_ek_roots)) != VOUCH_OK)
        goto out;
    if (d->cfg.tpm_ak_allow) {
        if ((rc = load_names(d->cfg.tpm_ak_allow, &t->ak_allow, &t->n_ak_allow)) != VOUCH_OK)
            goto out;
        vouch_log_warn("INSECURE: %zu pre-registered TPM AK Name(s) from %s are trusted without "
                       "a certificate or credential activation (development only)",
                       t->n_ak_allow, d->cfg.tpm_ak_allow);
    }
    if (d->cfg.tpm_ek_allow) {
        if ((rc = load_names(d->cfg.tpm_ek_allow, &t->ek_allow, &t->n_ek_allow)) != VOUCH_OK)
            goto out;
        vouch_log_warn("%zu pre-registered TPM EK Name(s) from %s are trusted for ekcred",
                       t->n_ek_allow, d->cfg.tpm_ek_allow);
    }
    if (d->cfg.tpm_allow_sha1)
        vouch_log_warn("TPM: SHA-1 PCR banks and quote signatures are accepted "
                       "(--tpm-allow-sha1)");
    rc = VOUCH_OK;
out:
    return rc;
}

void attestd_tpm_free(struct attestd *d)
{
    struct attestd_tpm *t = d ? d->tpm : NULL;

    if (!t)
        return;
    for (size_t i = 0; i < t->n_ak_roots; i++)
        vouch_x509_free(t->ak_roots[i]);
    for (size_t i = 0; i < t->n_ek_roots; i++)
        vouch_x509_free(t->ek_roots[i]);
    vouch_free(t->ak_allow);
    vouch_free(t->ek_allow);
    vouch_free(t->slots);
    pthread_mutex_destroy(&t->lock);
    vouch_wipe(t->key, sizeof(t->key));
    vouch_free(t);
    d->tpm = NULL;
}

static bool name_listed(const struct tpm_name *list, size_t n, const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].len == len && vouch_ct_eq(list[i].b, name, len))
            return true;
    return false;
}

/* ---------------- replay set ---------------- */

static size_t slot_of(const uint8_t id[CTX_ID_LEN])
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) /* ids are random: their first bytes hash well */
        h = (h << 8) | id[i];
    return (size_t)(h % REPLAY_SLOTS);
}

static void slot_put(struct replay_slot *slots, const uint8_t *id, int64_t expiry)
{
    size_t i = slot_of(id);
    while (slots[i].expiry != 0)
        i = (i + 1) % REPLAY_SLOTS;
    memcpy(slots[i].id, id, CTX_ID_LEN);
    slots[i].expiry = expiry;
}

/* Drops expired ids by rebuilding the table (linear probing has no cheap
 * delete). Called with the lock held, only when the set is full. */
static vouch_err replay_purge(struct attestd_tpm *t, int64_t now)
{
    struct replay_slot *fresh = vouch_calloc(REPLAY_SLOTS, sizeof(*fresh));
    size_t used = 0;

    if (!fresh)
        return VOUCH_ERR_NOMEM;
    for (size_t i = 0; i < REPLAY_SLOTS; i++) {
        if (t->slots[i].expiry > now) {
            slot_put(fresh, t->slots[i].id, t->slots[i].expiry);
            used++;
        }
    }
    vouch_free(t->slots);
    t->slots = fresh;
    t->used = used;
    return VOUCH_OK;
}

/* Marks a context id consumed: OK the first time, MISMATCH for a replay,
 * BUSY when the set is full of unexpired ids. */
static vouch_err replay_consume(struct attestd_tpm *t, const uint8_t *id, int64_t expiry,
                                int64_t now)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    size_t i;

    pthread_mutex_lock(&t->lock);
    for (i = slot_of(id); t->slots[i].expiry != 0; i = (i + 1) % REPLAY_SLOTS) {
        if (vouch_ct_eq(t->slots[i].id, id, CTX_ID_LEN)) {
            rc = VOUCH_ERR_MISMATCH;
            goto out;
        }
    }
    if (t->used >= VOUCH_MAX_TPM_REPLAY_SET) {
        if ((rc = replay_purge(t, now)) != VOUCH_OK)
            goto out;
        if (t->used >= VOUCH_MAX_TPM_REPLAY_SET) {
            rc = VOUCH_ERR_BUSY;
            goto out;
        }
    }
    slot_put(t->slots, id, expiry);
    t->used++;
    rc = VOUCH_OK;
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

/* ---------------- request plumbing ---------------- */

struct round {
    struct attestd *d;
    struct vouch_http_response *res;
    const char *reason; /* for the log line */
    int round;
};

static void reject(struct round *r, int status, const char *code, const char *reason,
                   const char *fmt, ...) VOUCH_PRINTF(5, 6);
static void reject(struct round *r, int status, const char *code, const char *reason,
                   const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->reason = reason;
    attestd_error(r->res, status, code, "%s: %s", reason, msg);
}

#define BAD(r, reason, ...) reject((r), 400, "InvalidParameter", (reason), __VA_ARGS__)

static vouch_err b64_any(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    vouch_err rc = vouch_base64_decode(s, len, true, out, out_len);
    if (rc == VOUCH_ERR_PARSE)
        rc = vouch_base64_decode(s, len, false, out, out_len);
    return rc;
}

/* A base64url member of @p o; @p required decides whether absence is an
 * error (then *out stays NULL). */
static bool get_b64(struct round *r, const json_t *o, const char *name, bool required,
                    uint8_t **out, size_t *len)
{
    const char *s;
    size_t sl;

    *out = NULL;
    *len = 0;
    if (!json_object_get(o, name)) {
        if (required)
            BAD(r, "RequestInvalid", "'%s' is missing", name);
        return !required;
    }
    if (vouch_json_str(o, name, &s, &sl) != VOUCH_OK || b64_any(s, sl, out, len) != VOUCH_OK) {
        BAD(r, "RequestInvalid", "'%s' must be a base64url string", name);
        return false;
    }
    return true;
}

static char *b64url(const uint8_t *p, size_t len)
{
    char *s = vouch_malloc(vouch_base64_encoded_len(len, true) + 1);
    if (s)
        vouch_base64_encode(p, len, true, s);
    return s;
}

/* {"data": b64url(UTF-8 JSON)} in, the decoded JSON out. */
static bool unwrap_data(struct round *r, const struct vouch_http_request *req, json_t **msg)
{
    json_t *body = NULL;
    uint8_t *inner = NULL;
    size_t inner_len = 0;
    bool ok = false;

    *msg = NULL;
    if (vouch_json_parse((const char *)req->body, req->body_len, &body, NULL, 0) != VOUCH_OK ||
        !json_is_object(body)) {
        BAD(r, "RequestInvalid", "the body must be {\"data\": base64url(JSON)}");
        goto out;
    }
    if (!get_b64(r, body, "data", true, &inner, &inner_len))
        goto out;
    if (vouch_json_parse((const char *)inner, inner_len, msg, NULL, 0) != VOUCH_OK ||
        !json_is_object(*msg) || !json_is_object(json_object_get(*msg, "payload"))) {
        json_decref(*msg);
        *msg = NULL;
        BAD(r, "RequestInvalid", "'data' must decode to a JSON object with a 'payload' object");
        goto out;
    }
    ok = true;
out:
    vouch_free(inner);
    json_decref(body);
    return ok;
}

/* Answers 200 {"data": b64url(JSON text of @p msg)}. */
static void respond_data(struct round *r, const json_t *msg)
{
    char *text = NULL, *enc = NULL, *out = NULL;
    json_t *o = NULL;

    if (vouch_json_dump(msg, 0, &text) != VOUCH_OK ||
        !(enc = b64url((const uint8_t *)text, strlen(text))) ||
        !(o = json_pack("{s:s}", "data", enc)) || vouch_json_dump(o, 0, &out) != VOUCH_OK) {
        reject(r, 500, "InternalError", "InternalError", "out of memory");
        goto done;
    }
    vouch_buf_reset(&r->res->body);
    if (vouch_buf_append_str(&r->res->body, out) != VOUCH_OK) {
        reject(r, 500, "InternalError", "InternalError", "response too large");
        goto done;
    }
    r->res->status = 200;
done:
    vouch_free(text);
    vouch_free(enc);
    vouch_free(out);
    json_decref(o);
}

/* ---------------- service context ---------------- */

static size_t ctx_encode(const struct ctx_plain *c, uint8_t *p)
{
    size_t n = 0;
    p[n++] = CTX_VERSION;
    memcpy(p + n, c->id, CTX_ID_LEN);
    n += CTX_ID_LEN;
    memcpy(p + n, c->challenge, CHALLENGE_LEN);
    n += CHALLENGE_LEN;
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t)((uint64_t)c->expiry >> (8 * i));
    p[n++] = c->path;
    p[n++] = (uint8_t)c->ak_name.len;
    memcpy(p + n, c->ak_name.b, c->ak_name.len);
    return n + c->ak_name.len;
}

static bool ctx_decode(const uint8_t *p, size_t len, struct ctx_plain *c)
{
    struct vouch_reader rd;
    uint8_t v = 0, nl = 0;
    uint64_t exp = 0;

    memset(c, 0, sizeof(*c));
    vouch_reader_init(&rd, p, len);
    if (vouch_reader_u8(&rd, &v) != VOUCH_OK || v != CTX_VERSION ||
        vouch_reader_copy(&rd, c->id, CTX_ID_LEN) != VOUCH_OK ||
        vouch_reader_copy(&rd, c->challenge, CHALLENGE_LEN) != VOUCH_OK ||
        vouch_reader_u64be(&rd, &exp) != VOUCH_OK || vouch_reader_u8(&rd, &c->path) != VOUCH_OK ||
        vouch_reader_u8(&rd, &nl) != VOUCH_OK || nl > VOUCH_TPM_MAX_NAME ||
        vouch_reader_copy(&rd, c->ak_name.b, nl) != VOUCH_OK || vouch_reader_left(&rd) != 0 ||
        (c->path != PATH_AIKCERT && c->path != PATH_EKCRED) || exp > INT64_MAX)
        return false;
    c->expiry = (int64_t)exp;
    c->ak_name.len = nl;
    return true;
}

/* b64url(JSON {"ProtectionKeyName": key id, "ProtectedContext": b64url(nonce || ct || tag)}) */
static vouch_err ctx_seal(const struct attestd_tpm *t, const struct ctx_plain *c, char **out)
{
    uint8_t plain[CTX_PLAIN_MAX], blob[CTX_BLOB_MAX];
    size_t n = ctx_encode(c, plain);
    char *prot = NULL, *text = NULL;
    json_t *o = NULL;
    vouch_err rc;

    *out = NULL;
    if ((rc = vouch_random(blob, GCM_NONCE_LEN)) != VOUCH_OK ||
        (rc = vouch_aes256gcm_encrypt(t->key, blob, ctx_aad, sizeof(ctx_aad) - 1, t->key_id,
                                      KEY_ID_LEN, plain, n, blob + GCM_NONCE_LEN,
                                      blob + GCM_NONCE_LEN + n)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (!(prot = b64url(blob, GCM_NONCE_LEN + n + GCM_TAG_LEN)) ||
        !(o = json_pack("{s:s,s:s}", "ProtectionKeyName", t->key_id, "ProtectedContext", prot)) ||
        vouch_json_dump(o, 0, &text) != VOUCH_OK || !(*out = b64url((uint8_t *)text, strlen(text))))
        goto out;
    rc = VOUCH_OK;
out:
    vouch_wipe(plain, sizeof(plain));
    vouch_free(prot);
    vouch_free(text);
    json_decref(o);
    return rc;
}

/* Opens a service context; writes the rejection itself. */
static bool ctx_open(struct round *r, const char *sc, size_t sc_len, struct ctx_plain *c)
{
    const struct attestd_tpm *t = r->d->tpm;
    uint8_t *outer = NULL, *blob = NULL, plain[CTX_PLAIN_MAX];
    size_t outer_len = 0, blob_len = 0, n;
    json_t *o = NULL;
    const char *kid, *prot;
    size_t kid_len, prot_len;
    bool ok = false;

    if (b64_any(sc, sc_len, &outer, &outer_len) != VOUCH_OK ||
        vouch_json_parse((const char *)outer, outer_len, &o, NULL, 0) != VOUCH_OK ||
        vouch_json_str(o, "ProtectionKeyName", &kid, &kid_len) != VOUCH_OK ||
        vouch_json_str(o, "ProtectedContext", &prot, &prot_len) != VOUCH_OK ||
        b64_any(prot, prot_len, &blob, &blob_len) != VOUCH_OK) {
        BAD(r, "ContextInvalid", "service_context is not one this service issued");
        goto out;
    }
    if (kid_len != KEY_ID_LEN || memcmp(kid, t->key_id, KEY_ID_LEN) != 0) {
        BAD(r, "ContextInvalid", "service_context was protected with another key ('%.*s')",
            (int)(kid_len > 32 ? 32 : kid_len), kid);
        goto out;
    }
    if (blob_len < GCM_NONCE_LEN + GCM_TAG_LEN + 1 || blob_len > CTX_BLOB_MAX) {
        BAD(r, "ContextInvalid", "service_context has the wrong size");
        goto out;
    }
    n = blob_len - GCM_NONCE_LEN - GCM_TAG_LEN;
    if (vouch_aes256gcm_decrypt(t->key, blob, ctx_aad, sizeof(ctx_aad) - 1, t->key_id, KEY_ID_LEN,
                                blob + GCM_NONCE_LEN, n, blob + GCM_NONCE_LEN + n,
                                plain) != VOUCH_OK ||
        !ctx_decode(plain, n, c)) {
        BAD(r, "ContextInvalid", "service_context does not decrypt: tampered or not ours");
        goto out;
    }
    ok = true;
out:
    vouch_wipe(plain, sizeof(plain));
    vouch_free(outer);
    vouch_free(blob);
    json_decref(o);
    return ok;
}

/* ---------------- round 1 ---------------- */

/* ekcred: EK trust, AK checks, MakeCredential of the challenge. Adds
 * credential_blob and encrypted_secret to @p answer. */
static bool round1_ekcred(struct round *r, const json_t *payload, struct ctx_plain *c,
                          json_t *answer)
{
    struct attestd *d = r->d;
    uint8_t *ek_bytes = NULL, *ek_cert = NULL, *ak_bytes = NULL;
    size_t ek_len = 0, cert_len = 0, ak_len = 0;
    struct vouch_tpm_public ek, ak;
    struct vouch_tpm_ak *akobj = NULL;
    struct vouch_pubkey *cert_key = NULL, *ek_key = NULL;
    struct vouch_tpm_credential cred;
    char why[256], *blob = NULL, *secret = NULL;
    bool ok = false;
    vouch_err rc;

    memset(&cred, 0, sizeof(cred));
    if (!get_b64(r, payload, "ek_pub", true, &ek_bytes, &ek_len) ||
        !get_b64(r, payload, "ek_cert", false, &ek_cert, &cert_len) ||
        !get_b64(r, payload, "ak_pub", true, &ak_bytes, &ak_len))
        goto out;
    if ((rc = vouch_tpm_public_parse(ek_bytes, ek_len, &ek)) != VOUCH_OK) {
        BAD(r, "EkInvalid", "ek_pub is not a TPM2B_PUBLIC of an RSA or ECC key: %s",
            vouch_strerror(rc));
        goto out;
    }
    /* EK trust: a certificate chain to --tpm-ek-roots, else a registered EK. */
    if (d->tpm->n_ek_roots) {
        if (!ek_cert) {
            BAD(r, "UntrustedEk", "ek_cert is required: this service checks EK certificates");
            goto out;
        }
        if ((rc = vouch_tpm_cert_verify(ek_cert, cert_len, d->tpm->ek_roots, d->tpm->n_ek_roots,
                                        NULL, 0, attestd_now(d), &cert_key, why, sizeof(why))) !=
            VOUCH_OK) {
            BAD(r, "UntrustedEk", "the EK certificate is not trusted: %s", why);
            goto out;
        }
        if ((rc = vouch_tpm_public_key(&ek, &ek_key)) != VOUCH_OK ||
            !vouch_pkey_pub_eq(cert_key, ek_key)) {
            BAD(r, "UntrustedEk", "the EK certificate is for another key than ek_pub");
            goto out;
        }
    } else if (!name_listed(d->tpm->ek_allow, d->tpm->n_ek_allow, ek.name, ek.name_len)) {
        BAD(r, "UntrustedEk", "no EK roots are configured and this EK is not registered");
        goto out;
    }
    if ((rc = vouch_tpm_public_parse(ak_bytes, ak_len, &ak)) != VOUCH_OK) {
        BAD(r, "AikInvalid", "ak_pub is not a TPM2B_PUBLIC of an RSA or ECC key: %s",
            vouch_strerror(rc));
        goto out;
    }
    if (vouch_tpm_ak_check(&ak, why, sizeof(why)) != VOUCH_OK ||
        (rc = vouch_tpm_ak_parse(ak_bytes, ak_len, &akobj)) != VOUCH_OK) {
        BAD(r, "AikAttributesInvalid", "%s", why[0] ? why : "the AK key is not usable");
        goto out;
    }
    rc = vouch_tpm_make_credential(&ek, ak.name, ak.name_len, c->challenge, CHALLENGE_LEN, &cred);
    if (rc != VOUCH_OK) {
        BAD(r, "EkInvalid",
            "cannot make a credential for this EK (%s): it must be a restricted "
            "decryption key with AES-CFB, as the TCG EK templates",
            vouch_strerror(rc));
        goto out;
    }
    memcpy(c->ak_name.b, ak.name, ak.name_len);
    c->ak_name.len = ak.name_len;
    if (!(blob = b64url(cred.id_object, cred.id_object_len)) ||
        !(secret = b64url(cred.enc_secret, cred.enc_secret_len)) ||
        json_object_set_new(answer, "credential_blob", json_string(blob)) ||
        json_object_set_new(answer, "encrypted_secret", json_string(secret))) {
        reject(r, 500, "InternalError", "InternalError", "out of memory");
        goto out;
    }
    ok = true;
out:
    vouch_wipe(&cred, sizeof(cred));
    vouch_free(blob);
    vouch_free(secret);
    vouch_pubkey_free(cert_key);
    vouch_pubkey_free(ek_key);
    vouch_tpm_ak_free(akobj);
    vouch_free(ek_bytes);
    vouch_free(ek_cert);
    vouch_free(ak_bytes);
    return ok;
}

static void round1(struct round *r, const json_t *payload)
{
    struct ctx_plain c;
    const char *type;
    size_t tlen;
    json_t *answer = NULL, *msg = NULL;
    char *sc = NULL, *chal = NULL;

    r->round = 1;
    memset(&c, 0, sizeof(c));
    if (vouch_json_str(payload, "type", &type, &tlen) != VOUCH_OK) {
        BAD(r, "RequestInvalid", "payload.type must be \"aikcert\" or \"ekcred\"");
        goto out;
    }
    if (vouch_random(c.id, CTX_ID_LEN) != VOUCH_OK ||
        vouch_random(c.challenge, CHALLENGE_LEN) != VOUCH_OK || !(answer = json_object())) {
        reject(r, 500, "InternalError", "InternalError", "cannot create a challenge");
        goto out;
    }
    c.expiry = attestd_now(r->d) + CTX_TTL;
    if (tlen == 7 && memcmp(type, "aikcert", 7) == 0) {
        c.path = PATH_AIKCERT;
        if (!(chal = b64url(c.challenge, CHALLENGE_LEN)) ||
            json_object_set_new(answer, "challenge", json_string(chal))) {
            reject(r, 500, "InternalError", "InternalError", "out of memory");
            goto out;
        }
    } else if (tlen == 6 && memcmp(type, "ekcred", 6) == 0) {
        c.path = PATH_EKCRED;
        if (!round1_ekcred(r, payload, &c, answer))
            goto out;
    } else {
        BAD(r, "RequestInvalid", "payload.type must be \"aikcert\" or \"ekcred\"");
        goto out;
    }
    if (ctx_seal(r->d->tpm, &c, &sc) != VOUCH_OK ||
        json_object_set_new(answer, "service_context", json_string(sc)) ||
        !(msg = json_pack("{s:O}", "payload", answer))) {
        reject(r, 500, "InternalError", "InternalError", "cannot seal the service context");
        goto out;
    }
    respond_data(r, msg);
out:
    vouch_wipe(&c, sizeof(c));
    vouch_free(sc);
    vouch_free(chal);
    json_decref(answer);
    json_decref(msg);
}

/* ---------------- round 2 ---------------- */

struct jws {
    json_t *header;
    json_t *payload;
    const char *signing_input; /* borrowed from the request */
    size_t signing_input_len;
    uint8_t *sig;
    size_t sig_len;
};

static void jws_free(struct jws *j)
{
    json_decref(j->header);
    json_decref(j->payload);
    vouch_free(j->sig);
    memset(j, 0, sizeof(*j));
}

static bool jws_split(struct round *r, const char *s, size_t len, struct jws *j)
{
    const char *dot1 = memchr(s, '.', len), *dot2;
    uint8_t *h = NULL, *p = NULL;
    size_t hl = 0, pl = 0;
    bool ok = false;

    memset(j, 0, sizeof(*j));
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - s)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - s)) ||
        vouch_base64_decode(s, (size_t)(dot1 - s), true, &h, &hl) != VOUCH_OK ||
        vouch_base64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), true, &p, &pl) != VOUCH_OK ||
        vouch_base64_decode(dot2 + 1, len - (size_t)(dot2 + 1 - s), true, &j->sig, &j->sig_len) !=
            VOUCH_OK ||
        vouch_json_parse((const char *)h, hl, &j->header, NULL, 0) != VOUCH_OK ||
        !json_is_object(j->header) ||
        vouch_json_parse((const char *)p, pl, &j->payload, NULL, 0) != VOUCH_OK ||
        !json_is_object(j->payload)) {
        BAD(r, "RequestInvalid",
            "payload.request must be a compact JWS with JSON header and "
            "payload");
        goto out;
    }
    j->signing_input = s;
    j->signing_input_len = (size_t)(dot2 - s);
    ok = true;
out:
    vouch_free(h);
    vouch_free(p);
    return ok;
}

/* The JWS must be signed by request_key.jwk with RS256, PS256 or ES256. */
static bool jws_verify(struct round *r, const struct jws *j, const struct vouch_pubkey *key)
{
    const char *alg_s, *typ;
    size_t al, tl;
    enum vouch_sig_alg alg;
    vouch_err rc;

    if (vouch_json_str(j->header, "alg", &alg_s, &al) != VOUCH_OK ||
        vouch_sig_alg_from_name(alg_s, &alg) != VOUCH_OK) {
        BAD(r, "RequestSignatureInvalid", "the JWS alg must be RS256, PS256 or ES256");
        return false;
    }
    if (vouch_json_str(j->header, "typ", &typ, &tl) != VOUCH_OK || tl != 8 ||
        memcmp(typ, "attReqV2", 8) != 0) {
        BAD(r, "RequestInvalid", "the JWS typ must be \"attReqV2\"");
        return false;
    }
    if (vouch_sig_alg_key_kind(alg) != vouch_pkey_pub_kind(key)) {
        BAD(r, "RequestSignatureInvalid", "alg %s does not fit the request key", alg_s);
        return false;
    }
    if (alg == VOUCH_SIG_ES256)
        rc = vouch_ecdsa_verify_raw(key, VOUCH_HASH_SHA256, j->signing_input, j->signing_input_len,
                                    j->sig, j->sig_len);
    else
        rc = vouch_rsa_verify(key, VOUCH_HASH_SHA256,
                              alg == VOUCH_SIG_PS256 ? VOUCH_RSA_PSS : VOUCH_RSA_PKCS1,
                              j->signing_input, j->signing_input_len, j->sig, j->sig_len);
    if (rc != VOUCH_OK) {
        BAD(r, "RequestSignatureInvalid", "the JWS is not signed by request_key.jwk");
        return false;
    }
    return true;
}

/* quote extraData = SHA-256(RFC 7638 thumbprint of the request key || 00 || challenge) */
static vouch_err expected_nonce(const struct vouch_pubkey *key, const uint8_t *challenge,
                                uint8_t out[VOUCH_SHA256_LEN])
{
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    uint8_t *thumb = NULL, buf[THUMBPRINT_LEN + 1 + CHALLENGE_LEN];
    size_t tl = 0;
    vouch_err rc;

    if ((rc = vouch_token_kid(key, kid)) != VOUCH_OK ||
        (rc = vouch_base64_decode(kid, strlen(kid), true, &thumb, &tl)) != VOUCH_OK)
        return rc;
    if (tl != THUMBPRINT_LEN) {
        vouch_free(thumb);
        return VOUCH_ERR_INTERNAL;
    }
    memcpy(buf, thumb, THUMBPRINT_LEN);
    buf[THUMBPRINT_LEN] = 0;
    memcpy(buf + THUMBPRINT_LEN + 1, challenge, CHALLENGE_LEN);
    vouch_free(thumb);
    return vouch_sha256(buf, sizeof(buf), out);
}

/* pcrs: [{"algorithm": <TPM_ALG_ID>, "values": [{"index", "digest"}]}] */
static bool read_pcrs(struct round *r, const json_t *arr, struct vouch_tpm_pcrs *pcrs)
{
    size_t i, k;
    json_t *bank, *v;

    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > VOUCH_MAX_TPM_PCR_BANKS) {
        BAD(r, "RequestInvalid", "'pcrs' must be a non-empty array of banks");
        return false;
    }
    json_array_foreach(arr, i, bank)
    {
        int64_t alg;
        json_t *values = json_object_get(bank, "values");
        if (vouch_json_int(bank, "algorithm", 0, 0xffff, &alg) != VOUCH_OK ||
            !vouch_tpm_digest_len((uint16_t)alg) || !json_is_array(values) ||
            json_array_size(values) > VOUCH_TPM_NUM_PCRS) {
            BAD(r, "RequestInvalid", "pcrs[%zu] must be {algorithm: a hash id, values: [...]}", i);
            return false;
        }
        json_array_foreach(values, k, v)
        {
            int64_t index;
            uint8_t *dg = NULL;
            size_t dl = 0;
            bool good =
                vouch_json_int(v, "index", 0, VOUCH_TPM_NUM_PCRS - 1, &index) == VOUCH_OK &&
                get_b64(r, v, "digest", true, &dg, &dl) &&
                vouch_tpm_pcrs_set(pcrs, (uint16_t)alg, (unsigned)index, dg, dl) == VOUCH_OK;
            vouch_free(dg);
            if (!good) {
                BAD(r, "RequestInvalid",
                    "pcrs[%zu].values[%zu] must be {index: 0-23, digest: base64url of the bank's "
                    "digest size}",
                    i, k);
                return false;
            }
        }
    }
    return true;
}

/* The reason name for a vouch_tpm_verify failure, from its stage. */
static const char *verify_reason(vouch_err rc, const char *detail)
{
    if (strstr(detail, "event log"))
        return rc == VOUCH_ERR_MISMATCH || rc == VOUCH_ERR_VERIFY ? "EventLogMismatch"
                                                                  : "EventLogInvalid";
    if (strstr(detail, "pcrDigest") || strstr(detail, "PCR values"))
        return "PcrDigestMismatch";
    if (strstr(detail, "no value was given"))
        return "PcrValuesMissing";
    if (strstr(detail, "extraData"))
        return "QuoteNonceMismatch";
    if (rc == VOUCH_ERR_SIGNATURE || strstr(detail, "signature"))
        return "QuoteSignatureInvalid";
    return "QuoteInvalid";
}

/* Boot claims of the verifier that MAA also names, copied when derived. */
static const char *const boot_claims[] = {
    "secureBootEnabled",
    "secureBootPK",
    "secureBootKEK",
    "secureBootDb",
    "secureBootDbx",
    "bootDebuggingDisabled",
    "kernelDebuggingDisabled",
    "testSigningDisabled",
    "codeIntegrityEnabled",
    "notSafeMode",
    "notWinPE",
    "kernelCmdline",
    "bootApplications",
    "exitBootServices",
    "startupLocality",
};

struct r2 {
    struct jws jws;
    struct ctx_plain ctx;
    uint8_t *challenge, *aik_public, *aik_cert, *quote, *sig, *log;
    size_t challenge_len, aik_public_len, aik_cert_len, quote_len, sig_len, log_len;
    struct vouch_pubkey *req_key, *cert_key, *pub_key, *jwk_ak;
    struct vouch_tpm_ak *ak;
    struct vouch_tpm_public akpub;
    struct vouch_tpm_pcrs pcrs;
    struct vouch_tpm_verify_result vr;
    json_t *ev, *tok, *policy_obj, *cnf;
    struct vouch_claims *in;
    struct vouch_policy_result pr;
    struct attestd_policy *pol;
    char *token;
};

static void r2_free(struct r2 *s)
{
    jws_free(&s->jws);
    vouch_wipe(&s->ctx, sizeof(s->ctx));
    vouch_free(s->challenge);
    vouch_free(s->aik_public);
    vouch_free(s->aik_cert);
    vouch_free(s->quote);
    vouch_free(s->sig);
    vouch_free(s->log);
    vouch_pubkey_free(s->req_key);
    vouch_pubkey_free(s->cert_key);
    vouch_pubkey_free(s->pub_key);
    vouch_pubkey_free(s->jwk_ak);
    vouch_tpm_ak_free(s->ak);
    vouch_tpm_verify_result_free(&s->vr);
    json_decref(s->ev);
    json_decref(s->tok);
    json_decref(s->policy_obj);
    json_decref(s->cnf);
    vouch_claims_free(s->in);
    vouch_policy_result_free(&s->pr);
    attestd_policy_unref(s->pol);
    vouch_free(s->token);
}

/* AK trust for the context's path; sets the trust label. */
static bool ak_trust(struct round *r, struct r2 *s, const char **trust)
{
    struct attestd_tpm *t = r->d->tpm;
    char why[256];

    if (s->ctx.path == PATH_EKCRED) {
        if (s->akpub.name_len != s->ctx.ak_name.len ||
            !vouch_ct_eq(s->akpub.name, s->ctx.ak_name.b, s->akpub.name_len)) {
            BAD(r, "UntrustedAik", "aik_public is not the AK the credential was made for");
            return false;
        }
        *trust = "ek-activation";
        return true;
    }
    if (s->aik_cert) {
        if (!t->n_ak_roots) {
            BAD(r, "UntrustedAik", "aik_cert was sent but no AK roots are configured");
            return false;
        }
        if (vouch_tpm_cert_verify(s->aik_cert, s->aik_cert_len, t->ak_roots, t->n_ak_roots, NULL, 0,
                                  attestd_now(r->d), &s->cert_key, why, sizeof(why)) != VOUCH_OK) {
            BAD(r, "UntrustedAik", "the AK certificate is not trusted: %s", why);
            return false;
        }
        if (vouch_tpm_public_key(&s->akpub, &s->pub_key) != VOUCH_OK ||
            !vouch_pkey_pub_eq(s->cert_key, s->pub_key)) {
            BAD(r, "UntrustedAik", "the AK certificate is for another key than aik_public");
            return false;
        }
        *trust = "certificate";
        return true;
    }
    if (name_listed(t->ak_allow, t->n_ak_allow, s->akpub.name, s->akpub.name_len)) {
        *trust = "preregistered-insecure";
        return true;
    }
    BAD(r, "UntrustedAik", "the AK has no trusted certificate and is not registered");
    return false;
}

/* One string claim per quoted PCR, "tpm-pcr-<bank>-<index>" with the
 * lowercase hex value, so that a policy can compare single PCRs (the
 * x-ms-tpm-pcrs object reaches it only as one JSON text). They are policy
 * input only: the token has the values in x-ms-tpm-pcrs, and an issue rule
 * can copy single ones. Only values pcrDigest covers are offered. */
static vouch_err add_pcr_claims(const struct vouch_tpm_pcrs *pcrs, struct vouch_claims *in)
{
    char type[48], hex[2 * VOUCH_TPM_MAX_DIGEST + 1];
    vouch_err rc = VOUCH_OK;

    for (size_t b = 0; b < pcrs->n_banks && rc == VOUCH_OK; b++) {
        const struct vouch_tpm_pcr_bank *bank = &pcrs->banks[b];
        const char *name = vouch_tpm_alg_name(bank->alg);
        size_t dlen = vouch_tpm_digest_len(bank->alg);

        if (!name || dlen == 0 || dlen > VOUCH_TPM_MAX_DIGEST)
            return VOUCH_ERR_INTERNAL;
        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS && rc == VOUCH_OK; i++) {
            if (!(bank->mask & (1u << i)))
                continue;
            snprintf(type, sizeof(type), "tpm-pcr-%s-%u", name, i);
            vouch_hex_encode(bank->values[i], dlen, hex);
            rc = vouch_claims_add_string(in, VOUCH_ISSUER_ATTESTATION_SERVICE, type, hex, 2 * dlen);
        }
    }
    return rc;
}

/* The quoted PCRs must cover every tpm-pcr-* claim the policy names: a rule
 * over a PCR the agent did not quote would otherwise just not fire, and a
 * deny rule such as [type=="tpm-pcr-sha256-7", value!="..."] => deny() would
 * be passed by leaving PCR7 out of the selection. */
#define PCR_CLAIM_PREFIX "tpm-pcr-"
struct pcr_refs {
    const struct vouch_tpm_pcrs *pcrs;
    char missing[64]; /* the first claim the quote cannot supply */
};

static bool pcr_claim_quoted(const struct vouch_tpm_pcrs *pcrs, const char *t, size_t len)
{
    const size_t pl = sizeof(PCR_CLAIM_PREFIX) - 1;
    size_t dash, bank_len;
    unsigned index = 0;

    if (len <= pl + 2)
        return false;
    for (dash = len - 1; dash > pl && t[dash] != '-'; dash--)
        ;
    if (dash == pl || dash + 1 == len || dash + 3 < len)
        return false; /* no bank, no index, or more than two digits */
    for (size_t i = dash + 1; i < len; i++) {
        if (t[i] < '0' || t[i] > '9' || (i == dash + 1 && t[i] == '0' && len - dash > 2))
            return false; /* the claims have no leading zeros */
        index = index * 10u + (unsigned)(t[i] - '0');
    }
    if (index >= VOUCH_TPM_NUM_PCRS)
        return false;
    bank_len = dash - pl;
    for (size_t b = 0; b < pcrs->n_banks; b++) {
        const char *name = vouch_tpm_alg_name(pcrs->banks[b].alg);
        if (name && strlen(name) == bank_len && memcmp(name, t + pl, bank_len) == 0)
            return (pcrs->banks[b].mask & (1u << index)) != 0;
    }
    return false;
}

static vouch_err pcr_ref(void *ctx, const char *type, size_t len)
{
    struct pcr_refs *refs = ctx;
    const size_t pl = sizeof(PCR_CLAIM_PREFIX) - 1;

    if (len < pl || memcmp(type, PCR_CLAIM_PREFIX, pl) != 0 ||
        pcr_claim_quoted(refs->pcrs, type, len))
        return VOUCH_OK;
    snprintf(refs->missing, sizeof(refs->missing), "%.*s",
             (int)(len < sizeof(refs->missing) ? len : sizeof(refs->missing) - 1), type);
    return VOUCH_ERR_NOT_FOUND;
}

/* Custom claims become policy input (issuer CustomClaim); they reach the
 * token only through the policy's issue rules. */
static bool add_custom_claims(struct round *r, const json_t *att, struct vouch_claims *in)
{
    json_t *arr = json_object_get(att, "custom_claims"), *c;
    size_t i;

    if (!arr)
        return true;
    if (!json_is_array(arr) || json_array_size(arr) > VOUCH_MAX_TPM_CUSTOM_CLAIMS) {
        BAD(r, "RequestInvalid", "custom_claims must be an array of at most %u claims",
            VOUCH_MAX_TPM_CUSTOM_CLAIMS);
        return false;
    }
    json_array_foreach(arr, i, c)
    {
        const char *name, *value;
        size_t nl, vl;
        json_t *vt = json_object_get(c, "value_type");
        if (vouch_json_str(c, "name", &name, &nl) != VOUCH_OK || nl == 0 ||
            vouch_json_str(c, "value", &value, &vl) != VOUCH_OK ||
            (vt && !(json_is_string(vt) && strcmp(json_string_value(vt), "string") == 0))) {
            BAD(r, "RequestInvalid",
                "custom_claims[%zu] must be {name, value, value_type \"string\"}", i);
            return false;
        }
        if (vouch_claims_add_json(in, VOUCH_ISSUER_CUSTOM_CLAIM, name,
                                  json_object_get(c, "value")) != VOUCH_OK) {
            BAD(r, "RequestInvalid", "custom_claims[%zu] is not acceptable", i);
            return false;
        }
    }
    return true;
}

static int round2(struct round *r, const json_t *payload)
{
    struct attestd *d = r->d;
    struct r2 s;
    const char *req, *trust = NULL, *sc;
    size_t req_len, sc_len;
    const json_t *att, *jwk, *cur, *logs, *aik_jwk;
    uint8_t nonce[VOUCH_SHA256_LEN];
    struct vouch_tpm_attest attest;
    struct vouch_tpm_evidence ev;
    struct vouch_tpm_verify_opts vo;
    char why[256];
    int outcome = OUTCOME_INVALID, bad = 0;
    int64_t now = attestd_now(d);
    vouch_err rc;

    r->round = 2;
    memset(&s, 0, sizeof(s));
    if (vouch_json_str(payload, "request", &req, &req_len) != VOUCH_OK) {
        BAD(r, "RequestInvalid", "payload.request must be a JWS string");
        goto out;
    }
    if (!jws_split(r, req, req_len, &s.jws))
        goto out;
    att = json_object_get(s.jws.payload, "att_data");
    if (!json_is_object(att)) {
        BAD(r, "RequestInvalid", "the JWS payload must hold an att_data object");
        goto out;
    }
    {
        const char *att_type;
        size_t atl;
        if (vouch_json_str(s.jws.payload, "att_type", &att_type, &atl) != VOUCH_OK || atl != 5 ||
            memcmp(att_type, "basic", 5) != 0) {
            BAD(r, "RequestInvalid", "att_type must be \"basic\"");
            goto out;
        }
    }

    /* 1. The context: ours, unexpired, unused. */
    if (vouch_json_str(att, "service_context", &sc, &sc_len) != VOUCH_OK) {
        BAD(r, "ContextInvalid", "att_data.service_context is missing");
        goto out;
    }
    if (!ctx_open(r, sc, sc_len, &s.ctx))
        goto out;
    if (now >= s.ctx.expiry) {
        BAD(r, "ContextExpired", "the service context expired %lld s ago; start again",
            (long long)(now - s.ctx.expiry));
        goto out;
    }
    rc = replay_consume(d->tpm, s.ctx.id, s.ctx.expiry, now);
    if (rc == VOUCH_ERR_MISMATCH) {
        BAD(r, "ContextReplayed", "this service context was already used");
        goto out;
    }
    if (rc != VOUCH_OK) {
        reject(r, 503, "ServiceUnavailable", "Busy", "too many attestations in flight");
        goto out;
    }

    /* 2. The challenge. */
    if (!get_b64(r, att, "challenge", true, &s.challenge, &s.challenge_len))
        goto out;
    if (s.challenge_len != CHALLENGE_LEN ||
        !vouch_ct_eq(s.challenge, s.ctx.challenge, CHALLENGE_LEN)) {
        BAD(r, "ChallengeMismatch", "att_data.challenge is not the challenge of this context");
        goto out;
    }

    /* 3. The JWS, by the request key. */
    jwk = json_object_get(json_object_get(att, "request_key"), "jwk");
    if (!json_is_object(jwk) || vouch_pkey_pub_from_jwk(jwk, &s.req_key) != VOUCH_OK) {
        BAD(r, "RequestInvalid", "att_data.request_key.jwk must be a public RSA or P-256 JWK");
        goto out;
    }
    {
        const json_t *info = json_object_get(json_object_get(att, "request_key"), "info");
        const json_t *tq = json_object_get(info, "tpm_quote");
        const char *ha;
        size_t hal;
        if (!json_is_object(tq) || vouch_json_str(tq, "hash_alg", &ha, &hal) != VOUCH_OK ||
            hal != 7 || memcmp(ha, "sha-256", 7) != 0) {
            BAD(r, "RequestInvalid", "request_key.info.tpm_quote.hash_alg must be \"sha-256\"");
            goto out;
        }
    }
    if (!jws_verify(r, &s.jws, s.req_key))
        goto out;

    /* 4. AK trust. */
    cur = json_object_get(json_object_get(att, "tpm_att_data"), "current_attestation");
    if (!json_is_object(cur)) {
        BAD(r, "RequestInvalid", "att_data.tpm_att_data.current_attestation is missing");
        goto out;
    }
    if (!get_b64(r, cur, "aik_public", true, &s.aik_public, &s.aik_public_len) ||
        !get_b64(r, cur, "aik_cert", false, &s.aik_cert, &s.aik_cert_len) ||
        !get_b64(r, cur, "quote", true, &s.quote, &s.quote_len) ||
        !get_b64(r, cur, "signature", true, &s.sig, &s.sig_len))
        goto out;
    if ((rc = vouch_tpm_public_parse(s.aik_public, s.aik_public_len, &s.akpub)) != VOUCH_OK) {
        BAD(r, "AikInvalid", "aik_public is not a TPM2B_PUBLIC of an RSA or ECC key: %s",
            vouch_strerror(rc));
        goto out;
    }
    if (!ak_trust(r, &s, &trust))
        goto out;

    /* 5. AK attributes (and a key we can verify with). */
    if (vouch_tpm_ak_check(&s.akpub, why, sizeof(why)) != VOUCH_OK) {
        BAD(r, "AikAttributesInvalid", "%s", why);
        goto out;
    }
    if ((rc = vouch_tpm_ak_parse(s.aik_public, s.aik_public_len, &s.ak)) != VOUCH_OK) {
        BAD(r, "AikAttributesInvalid", "the AK key is not usable: %s", vouch_strerror(rc));
        goto out;
    }
    aik_jwk = json_object_get(cur, "aik_pub");
    if (aik_jwk && (vouch_pkey_pub_from_jwk(aik_jwk, &s.jwk_ak) != VOUCH_OK ||
                    !vouch_pkey_pub_eq(s.jwk_ak, vouch_tpm_ak_key(s.ak)))) {
        BAD(r, "AikInvalid", "aik_pub is not the key of aik_public");
        goto out;
    }

    /* 6. The quote signature over the bytes received. */
    rc = vouch_tpm_verify_signature(s.ak, s.quote, s.quote_len, s.sig, s.sig_len,
                                    d->cfg.tpm_allow_sha1);
    if (rc != VOUCH_OK) {
        BAD(r, rc == VOUCH_ERR_SIGNATURE ? "QuoteSignatureInvalid" : "QuoteSignatureNotAllowed",
            "the quote signature %s",
            rc == VOUCH_ERR_SIGNATURE ? "does not verify with the AK"
                                      : "uses a scheme or hash this service does not accept");
        goto out;
    }

    /* 7. extraData binds the request key and the challenge. */
    if ((rc = vouch_tpm_attest_parse(s.quote, s.quote_len, &attest)) != VOUCH_OK) {
        BAD(r, "QuoteInvalid", "the quote is not a TPMS_ATTEST of a quote: %s", vouch_strerror(rc));
        goto out;
    }
    if (expected_nonce(s.req_key, s.ctx.challenge, nonce) != VOUCH_OK) {
        reject(r, 500, "InternalError", "InternalError", "cannot compute the key binding");
        goto out;
    }
    if (attest.extra_data_len != sizeof(nonce) ||
        !vouch_ct_eq(attest.extra_data, nonce, sizeof(nonce))) {
        BAD(r, "QuoteNonceMismatch",
            "the quote's extraData is not SHA-256(thumbprint(request_key) || 00 || challenge)");
        goto out;
    }

    /* 8. SHA-1 banks. */
    for (size_t i = 0; i < attest.n_banks; i++) {
        if (attest.banks[i].alg == VOUCH_TPM_ALG_SHA1 && attest.banks[i].mask &&
            !d->cfg.tpm_allow_sha1) {
            BAD(r, "Sha1NotAllowed",
                "the quote selects a SHA-1 PCR bank (--tpm-allow-sha1 is "
                "off)");
            goto out;
        }
    }

    /* 9. PCR digest and event log, with the verifier. */
    if (!read_pcrs(r, json_object_get(cur, "pcrs"), &s.pcrs))
        goto out;
    logs = json_object_get(cur, "logs");
    if (logs) {
        const json_t *l0 = json_array_get(logs, 0);
        const char *lt;
        size_t ltl;
        if (!json_is_array(logs) || json_array_size(logs) != 1 ||
            vouch_json_str(l0, "type", &lt, &ltl) != VOUCH_OK || ltl != 3 ||
            memcmp(lt, "TCG", 3) != 0) {
            BAD(r, "RequestInvalid", "logs must hold one {\"type\":\"TCG\",\"log\"} entry");
            goto out;
        }
        if (!get_b64(r, l0, "log", true, &s.log, &s.log_len))
            goto out;
    }
    memset(&ev, 0, sizeof(ev));
    ev.quote = s.quote;
    ev.quote_len = s.quote_len;
    ev.sig = s.sig;
    ev.sig_len = s.sig_len;
    ev.pcrs = &s.pcrs;
    ev.log = s.log;
    ev.log_len = s.log_len;
    memset(&vo, 0, sizeof(vo));
    vo.nonce = nonce;
    vo.nonce_len = sizeof(nonce);
    vo.allow_sha1 = d->cfg.tpm_allow_sha1;
    if ((rc = vouch_tpm_verify(s.ak, &ev, &vo, &s.vr)) != VOUCH_OK) {
        BAD(r, verify_reason(rc, s.vr.error_detail), "%s", s.vr.error_detail);
        goto out;
    }

    /* 10. Claims. */
    if (!(s.pol = attestd_policy_get(d, ATTESTD_TPM))) {
        reject(r, 400, "PolicyEvaluationError", "NoPolicy",
               "TPM attestation requires that there be a policy present");
        goto out;
    }
    if (!(s.ev = json_object()))
        goto oom;
    {
        uint8_t *spki = NULL, h[VOUCH_SHA256_LEN];
        size_t spki_len = 0;
        char hb64[64];
        if (vouch_pubkey_spki_der(vouch_tpm_ak_key(s.ak), &spki, &spki_len) != VOUCH_OK)
            goto oom;
        rc = vouch_sha256(spki, spki_len, h);
        vouch_free(spki);
        if (rc != VOUCH_OK)
            goto oom;
        vouch_base64_encode(h, sizeof(h), false, hb64);
        bad |= json_object_set_new(s.ev, "x-ms-attestation-type", json_string("tpm"));
        bad |= json_object_set_new(s.ev, "aikValidated",
                                   json_boolean(strcmp(trust, "preregistered-insecure") != 0));
        bad |= json_object_set_new(s.ev, "aikPubHash", json_string(hb64));
        bad |= json_object_set_new(s.ev, "tpmVersion", json_integer(2));
        bad |= json_object_set_new(s.ev, "x-ms-tpm-ak-trust", json_string(trust));
    }
    for (size_t i = 0; i < sizeof(boot_claims) / sizeof(boot_claims[0]); i++) {
        json_t *v = json_object_get(s.vr.claims, boot_claims[i]);
        if (v)
            bad |= json_object_set(s.ev, boot_claims[i], v);
    }
    if (json_object_get(s.vr.claims, "pcrs"))
        bad |= json_object_set(s.ev, "x-ms-tpm-pcrs", json_object_get(s.vr.claims, "pcrs"));
    if (bad)
        goto oom;
    if (vouch_claims_new(&s.in) != VOUCH_OK ||
        vouch_claims_add_json_object(s.in, VOUCH_ISSUER_ATTESTATION_SERVICE, s.ev) != VOUCH_OK ||
        add_pcr_claims(&s.vr.pcrs, s.in) != VOUCH_OK)
        goto oom;
    if (!add_custom_claims(r, att, s.in))
        goto out;
    {
        struct pcr_refs refs = {.pcrs = &s.vr.pcrs, .missing = ""};
        rc = vouch_policy_claim_types(s.pol->parsed, pcr_ref, &refs);
        if (rc == VOUCH_ERR_NOT_FOUND) {
            BAD(r, "PcrSelectionInsufficient",
                "the policy tests %s, but the quote does not select that PCR", refs.missing);
            goto out;
        }
        if (rc != VOUCH_OK)
            goto oom;
    }

    /* 11. Policy. */
    rc = vouch_policy_eval(s.pol->parsed, s.in, &s.pr);
    if (rc != VOUCH_OK || s.pr.decision != VOUCH_POLICY_PERMIT) {
        outcome = OUTCOME_DENIED;
        reject(r, 400, "PolicyEvaluationError", "PolicyDenied",
               "A Deny claim was issued, authorization failed: %s", s.pr.explanation);
        goto out;
    }

    /* 12. The token. */
    if (!(s.tok = json_deep_copy(s.ev)) ||
        vouch_claims_to_json(s.pr.issued, &s.policy_obj) != VOUCH_OK ||
        vouch_pkey_pub_to_jwk(s.req_key, &s.cnf) != VOUCH_OK)
        goto oom;
    {
        const char *k;
        json_t *v;
        json_object_foreach(s.policy_obj, k, v)
        {
            bad |= json_object_set(s.tok, k, v);
        }
    }
    bad |= json_object_set(s.tok, "x-ms-policy", s.policy_obj);
    bad |= json_object_set_new(s.tok, "x-ms-policy-hash", json_string(s.pol->hash));
    if (s.pol->signer)
        bad |= json_object_set(s.tok, "x-ms-policy-signer", s.pol->signer);
    bad |= json_object_set_new(s.tok, "cnf", json_pack("{s:O}", "jwk", s.cnf));
    {
        const char *rp;
        size_t rpl;
        if (vouch_json_str(att, "rp_data", &rp, &rpl) == VOUCH_OK)
            bad |= json_object_set_new(s.tok, "rp_data", json_stringn(rp, rpl));
    }
    if (bad || attestd_issue_token(d, s.tok, &s.token) != VOUCH_OK)
        goto oom;
    {
        json_t *msg = json_pack("{s:s}", "report", s.token);
        if (!msg)
            goto oom;
        respond_data(r, msg);
        json_decref(msg);
    }
    if (r->res->status == 200) {
        outcome = OUTCOME_OK;
        r->reason = trust;
    }
    goto out;
oom:
    reject(r, 500, "InternalError", "InternalError", "out of memory");
out:
    vouch_wipe(nonce, sizeof(nonce));
    r2_free(&s);
    return outcome;
}

void attestd_attest_tpm(struct attestd *d, const struct vouch_http_request *req,
                        struct vouch_http_response *res, char *note)
{
    struct round r = {.d = d, .res = res, .reason = NULL, .round = 0};
    struct timespec t0, t1;
    struct attestd_policy *pol = NULL;
    json_t *msg = NULL, *payload;
    int outcome = OUTCOME_INVALID;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* MAA has no TPM default policy: without one there is nothing to check. */
    if (!(pol = attestd_policy_get(d, ATTESTD_TPM))) {
        reject(&r, 400, "PolicyEvaluationError", "NoPolicy",
               "TPM attestation requires that there be a policy present");
        goto out;
    }
    if (!d->tpm) {
        reject(&r, 503, "ServiceUnavailable", "NotConfigured", "TPM attestation is not set up");
        goto out;
    }
    if (!unwrap_data(&r, req, &msg))
        goto out;
    payload = json_object_get(msg, "payload");
    if (json_object_get(payload, "request"))
        outcome = round2(&r, payload);
    else if (json_object_get(payload, "type")) {
        round1(&r, payload);
        if (res->status == 200) {
            outcome = OUTCOME_OK;
            r.reason = "challenge";
        }
    } else {
        BAD(&r, "RequestInvalid", "payload must hold 'type' (round 1) or 'request' (round 2)");
    }
out:
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Round 1 only hands out a challenge: the attestation is counted once,
     * at round 2, unless round 1 was refused. */
    if (r.round == 2 || outcome != OUTCOME_OK)
        attestd_metrics_attest(d, ATTESTD_TPM, outcome,
                               (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
                                   (t1.tv_nsec - t0.tv_nsec) / 1000);
    snprintf(note, ATTESTD_LOG_NOTE_MAX, "type=Tpm round=%d decision=%s reason='%s'", r.round,
             outcome == OUTCOME_OK       ? "permit"
             : outcome == OUTCOME_DENIED ? "deny"
                                         : "invalid",
             r.reason ? r.reason : "-");
    attestd_policy_unref(pol);
    json_decref(msg);
}
