/*
 * Intel collateral from a PCS or PCCS (API v4), fetched when a quote arrives
 * for a platform that no loaded collateral covers, and cached in memory.
 *
 * Four GETs make one collateral set: TCB Info for the FMSPC, the QE identity,
 * the PCK CRL of the quote's PCK CA, and the root CA CRL. Nothing fetched is
 * trusted: the responses are assembled into the QuoteCollateralV3 shape and
 * go through vouch_collateral_parse like a file would, and the verifier then
 * checks every signature and chain against the pinned Intel root.
 *
 * Cache: one slot per (TEE, FMSPC, PCK CA). Requests hold a reference on the
 * entry they verify with, so replacing or evicting it never frees collateral
 * in use. One thread fetches per slot; others wait for it. After a failed
 * fetch the slot backs off (min(base x 2^(n-1), 10 min)); requests in the
 * meantime fail at once instead of stacking up behind a dead PCS. Fetches run
 * on the HTTP worker thread that needs them, bounded by the client timeout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vouch/encoding.h>
#include <vouch/httpc.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "attestd/attestd_int.h"

#define INTEL_PCS_HOST     "api.trustedservices.intel.com"
#define INTEL_ROOT_CRL_URL "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define API_KEY_HEADER     "Ocp-Apim-Subscription-Key: "
#define URL_MAX            2048u
#define LAST_ERROR_LEN     (VOUCH_MAX_ERROR_DETAIL + 64u)
/* A CRL may arrive as hex text, twice the size of its DER. */
#define MAX_CRL_RESPONSE    (2u * VOUCH_MAX_CRL_SIZE + 64u)
#define MAX_SIGNED_RESPONSE (VOUCH_MAX_TCB_INFO_SIZE + 1024u)

struct attestd_pcs_entry {
    atomic_uint refs;
    struct vouch_collateral *coll;
    int64_t not_before; /* validity window of the whole set */
    int64_t not_after;
    int64_t fetched_ms; /* monotonic */
};

struct slot {
    bool used;
    enum vouch_evidence_format tee;
    uint8_t fmspc[6];
    enum vouch_pck_ca ca;
    struct attestd_pcs_entry *entry; /* the slot's own reference, or NULL */
    bool fetching;
    unsigned waiters;    /* threads waiting for this slot's fetch: not evictable */
    unsigned failures;   /* consecutive failed fetches */
    int64_t retry_at_ms; /* monotonic; no fetch before this after a failure */
    int64_t used_ms;     /* monotonic; for eviction */
    char last_error[LAST_ERROR_LEN];
};

struct attestd_pcs {
    char *base; /* no trailing slash */
    char *root_crl_url;
    char *api_key_header; /* secret: wiped */
    size_t api_key_header_len;
    const char *ca_file;
    unsigned backoff_base_ms;
    unsigned timeout_ms;
    unsigned wait_ms; /* longest a request waits for a fetch (--pcs-wait-ms) */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    unsigned fetchers;   /* fetch threads running */
    bool stopping;
    struct slot slots[VOUCH_PCS_CACHE_SLOTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *ca_name(enum vouch_pck_ca ca)
{
    return ca == VOUCH_PCK_CA_PROCESSOR ? "processor" : "platform";
}

uint64_t attestd_pcs_backoff_ms(unsigned base_ms, unsigned failures)
{
    uint64_t d = base_ms ? base_ms : ATTESTD_PCS_BACKOFF_BASE_MS;

    for (unsigned i = 1; i < failures && d < ATTESTD_PCS_BACKOFF_MAX_MS; i++)
        d *= 2;
    return d < ATTESTD_PCS_BACKOFF_MAX_MS ? d : ATTESTD_PCS_BACKOFF_MAX_MS;
}

void attestd_pcs_entry_unref(struct attestd_pcs_entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    vouch_collateral_free(e->coll);
    vouch_free(e);
}

/* ---- assembling the collateral ---- */

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const uint8_t **p, size_t *n)
{
    while (*n > 0 && is_ws((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && is_ws((*p)[*n - 1]))
        (*n)--;
}

static bool all_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return n > 0 && n % 2 == 0;
}

static bool printable_ascii(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') || p[i] >= 0x7f)
            return false;
    }
    return true;
}

/* A CRL as the collateral holds it: DER (what encoding=der and Intel's root
 * CRL URL return) becomes hex; hex (PCCS's rootcacrl) and PEM pass as text. */
static vouch_err crl_text(const uint8_t *p, size_t n, const char *what, json_t *o, const char *key,
                          char *why, size_t cap)
{
    static const char pem[] = "-----BEGIN X509 CRL-----";
    char *hex = NULL;
    json_t *s = NULL;

    if (n > 0 && p[0] == 0x30) {
        if (n > VOUCH_MAX_CRL_SIZE) {
            snprintf(why, cap, "the %s is larger than %u bytes", what, VOUCH_MAX_CRL_SIZE);
            return VOUCH_ERR_TOO_LARGE;
        }
        if (!(hex = vouch_malloc(2 * n + 1)))
            return VOUCH_ERR_NOMEM;
        vouch_hex_encode(p, n, hex);
        s = json_stringn(hex, 2 * n);
        vouch_free(hex);
    } else {
        trim(&p, &n);
        if (!all_hex(p, n) && !(n >= sizeof(pem) - 1 && memcmp(p, pem, sizeof(pem) - 1) == 0 &&
                                printable_ascii(p, n))) {
            snprintf(why, cap, "the %s is neither DER, hex nor PEM", what);
            return VOUCH_ERR_PARSE;
        }
        s = json_stringn((const char *)p, n);
    }
    if (!s || json_object_set_new(o, key, s) != 0)
        return VOUCH_ERR_NOMEM;
    return VOUCH_OK;
}

/*
 * The signed object of a PCS body {"<key>":{...},"signature":"<hex>"}: the
 * exact bytes between the prefix and the last ,"signature":" (never a
 * re-serialisation: the signature is over these bytes). The envelope is also
 * parsed, so a body with other members or a second signature is refused.
 */
static vouch_err cut_signed(const uint8_t *p, size_t n, const char *key, const char *what,
                            json_t *o, const char *body_key, const char *sig_key, char *why,
                            size_t cap)
{
    static const char mid[] = ",\"signature\":\"";
    const size_t mlen = sizeof(mid) - 1;
    char prefix[40];
    size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "{\"%s\":", key);
    json_t *env = NULL, *jb = NULL, *js = NULL;
    const json_t *sig = NULL;
    const uint8_t *m = NULL, *sig_start, *end;
    vouch_err rc = VOUCH_ERR_PARSE;

    trim(&p, &n);
    if (n < plen + mlen + 2 || memcmp(p, prefix, plen) != 0) {
        snprintf(why, cap, "the %s response does not start with {\"%s\":", what, key);
        goto out;
    }
    for (size_t i = n - mlen; i >= plen; i--) {
        if (memcmp(p + i, mid, mlen) == 0) {
            m = p + i;
            break;
        }
    }
    if (!m) {
        snprintf(why, cap, "the %s response has no signature", what);
        goto out;
    }
    sig_start = m + mlen;
    end = p + n;
    /* The tail is exactly <hex>"} */
    if (end - sig_start < 2 || memcmp(end - 2, "\"}", 2) != 0) {
        snprintf(why, cap, "the %s response does not end with the signature", what);
        goto out;
    }
    if (vouch_json_parse((const char *)p, n, &env, NULL, 0) != VOUCH_OK || !json_is_object(env) ||
        json_object_size(env) != 2 || !json_is_object(json_object_get(env, key)) ||
        !json_is_string(sig = json_object_get(env, "signature")) ||
        json_string_length(sig) != (size_t)(end - 2 - sig_start) ||
        memcmp(json_string_value(sig), sig_start, json_string_length(sig)) != 0) {
        snprintf(why, cap, "the %s response is not {\"%s\":{...},\"signature\":\"...\"}", what,
                 key);
        goto out;
    }
    rc = VOUCH_ERR_NOMEM;
    jb = json_stringn((const char *)p + plen, (size_t)(m - p) - plen);
    js = json_stringn((const char *)sig_start, json_string_length(sig));
    if (!jb || !js)
        goto out;
    /* json_object_set_new takes the reference even when it fails. */
    if (json_object_set_new(o, body_key, jb) != 0) {
        jb = NULL;
        goto out;
    }
    jb = NULL;
    if (json_object_set_new(o, sig_key, js) != 0) {
        js = NULL;
        goto out;
    }
    js = NULL;
    rc = VOUCH_OK;
out:
    json_decref(jb);
    json_decref(js);
    json_decref(env);
    return rc;
}

static vouch_err chain_text(const char *enc, const char *what, json_t *o, const char *key,
                            char *why, size_t cap)
{
    char *pem = NULL;
    size_t len = 0;
    json_t *s;
    vouch_err rc;

    if (!enc) {
        snprintf(why, cap, "the %s response has no issuer chain header", what);
        return VOUCH_ERR_PARSE;
    }
    if ((rc = vouch_httpc_percent_decode(enc, strlen(enc), &pem, &len)) != VOUCH_OK) {
        snprintf(why, cap, "the %s issuer chain header is not URL-encoded PEM", what);
        return rc;
    }
    if (!printable_ascii((const uint8_t *)pem, len)) {
        snprintf(why, cap, "the %s issuer chain header is not PEM text", what);
        vouch_free(pem);
        return VOUCH_ERR_PARSE;
    }
    s = json_stringn(pem, len);
    vouch_free(pem);
    if (!s || json_object_set_new(o, key, s) != 0)
        return VOUCH_ERR_NOMEM;
    return VOUCH_OK;
}

vouch_err attestd_pcs_collateral_json(const struct attestd_pcs_raw *raw, char **out, size_t *len,
                                      char *why, size_t cap)
{
    vouch_err rc = VOUCH_ERR_NOMEM;
    json_t *o = NULL;

    *out = NULL;
    *len = 0;
    if (!(o = json_object()))
        goto out;
    if ((rc = chain_text(raw->pck_crl_chain, "PCK CRL", o, "pck_crl_issuer_chain", why, cap)) !=
            VOUCH_OK ||
        (rc = crl_text(raw->root_crl, raw->root_crl_len, "root CA CRL", o, "root_ca_crl", why,
                       cap)) != VOUCH_OK ||
        (rc = crl_text(raw->pck_crl, raw->pck_crl_len, "PCK CRL", o, "pck_crl", why, cap)) !=
            VOUCH_OK ||
        (rc = chain_text(raw->tcb_chain, "TCB Info", o, "tcb_info_issuer_chain", why, cap)) !=
            VOUCH_OK ||
        (rc = cut_signed(raw->tcb_body, raw->tcb_len, "tcbInfo", "TCB Info", o, "tcb_info",
                         "tcb_info_signature", why, cap)) != VOUCH_OK ||
        (rc = chain_text(raw->qe_chain, "QE Identity", o, "qe_identity_issuer_chain", why, cap)) !=
            VOUCH_OK ||
        (rc = cut_signed(raw->qe_body, raw->qe_len, "enclaveIdentity", "QE Identity", o,
                         "qe_identity", "qe_identity_signature", why, cap)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_json_dump(o, 0, out)) != VOUCH_OK)
        goto out;
    *len = strlen(*out);
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}

/* ---- fetching ---- */

/* One GET that must answer 200 with, when @p chain_header is set, that
 * header. On success @p r holds the response. */
static vouch_err get(const struct attestd_pcs *p, const char *url, const char *chain_header,
                     size_t max_body, struct vouch_httpc_response *r, char *why, size_t cap)
{
    struct vouch_httpc_opts o;
    const char *hdrs[2] = {p->api_key_header, NULL};
    const char *keep[3] = {"Error-Message", chain_header, NULL};
    const char *v = NULL;
    size_t vl = 0;
    vouch_err rc;

    vouch_httpc_opts_init(&o);
    o.ca_file = p->ca_file;
    o.timeout_ms = p->timeout_ms;
    o.max_body = max_body;
    o.request_headers = p->api_key_header ? hdrs : NULL;
    o.keep_headers = keep;
    if ((rc = vouch_httpc_get(url, &o, r)) != VOUCH_OK) {
        snprintf(why, cap, "%s", r->error_detail);
        return rc;
    }
    if (r->status != 200) {
        bool msg = vouch_httpc_header(r, "Error-Message", &v, &vl) == VOUCH_OK;
        snprintf(why, cap, "GET %.160s: HTTP %ld%s%.80s", url, r->status, msg ? ": " : "",
                 msg ? v : "");
        return r->status == 404 ? VOUCH_ERR_NOT_FOUND : VOUCH_ERR_IO;
    }
    if (chain_header && vouch_httpc_header(r, chain_header, &v, &vl) != VOUCH_OK) {
        snprintf(why, cap, "GET %.160s: no %s header", url, chain_header);
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

static const char *header_or_null(const struct vouch_httpc_response *r, const char *name)
{
    const char *v = NULL;
    size_t n = 0;
    return vouch_httpc_header(r, name, &v, &n) == VOUCH_OK ? v : NULL;
}

static vouch_err fetch(const struct attestd_pcs *p, const struct vouch_dcap_platform *plat,
                       int64_t now, struct attestd_pcs_entry **out, char *why, size_t cap)
{
    static const char tcb_h[] = "TCB-Info-Issuer-Chain";
    static const char qe_h[] = "SGX-Enclave-Identity-Issuer-Chain";
    static const char pck_h[] = "SGX-PCK-CRL-Issuer-Chain";
    const char *tee = plat->tee == VOUCH_EVIDENCE_TDX ? "tdx" : "sgx";
    struct vouch_httpc_response tcb = {0}, qe = {0}, pck = {0}, root = {0};
    struct attestd_pcs_raw raw;
    struct attestd_pcs_entry *e = NULL;
    struct vouch_dcap_platform cp;
    char url[URL_MAX], fm[13], *json = NULL, t0[21], t1[21], t2[21];
    size_t json_len = 0;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    *out = NULL;
    vouch_hex_encode(plat->fmspc, sizeof(plat->fmspc), fm);
    for (char *c = fm; *c; c++) {
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    }
    snprintf(url, sizeof(url), "%s/%s/certification/v4/tcb?fmspc=%s", p->base, tee, fm);
    if ((rc = get(p, url, tcb_h, MAX_SIGNED_RESPONSE, &tcb, why, cap)) != VOUCH_OK)
        goto out;
    snprintf(url, sizeof(url), "%s/%s/certification/v4/qe/identity", p->base, tee);
    if ((rc = get(p, url, qe_h, MAX_SIGNED_RESPONSE, &qe, why, cap)) != VOUCH_OK)
        goto out;
    snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", p->base,
             ca_name(plat->pck_ca));
    if ((rc = get(p, url, pck_h, MAX_CRL_RESPONSE, &pck, why, cap)) != VOUCH_OK)
        goto out;
    if ((rc = get(p, p->root_crl_url, NULL, MAX_CRL_RESPONSE, &root, why, cap)) != VOUCH_OK)
        goto out;

    memset(&raw, 0, sizeof(raw));
    raw.tcb_body = tcb.body;
    raw.tcb_len = tcb.body_len;
    raw.tcb_chain = header_or_null(&tcb, tcb_h);
    raw.qe_body = qe.body;
    raw.qe_len = qe.body_len;
    raw.qe_chain = header_or_null(&qe, qe_h);
    raw.pck_crl = pck.body;
    raw.pck_crl_len = pck.body_len;
    raw.pck_crl_chain = header_or_null(&pck, pck_h);
    raw.root_crl = root.body;
    raw.root_crl_len = root.body_len;
    if ((rc = attestd_pcs_collateral_json(&raw, &json, &json_len, why, cap)) != VOUCH_OK)
        goto out;

    rc = VOUCH_ERR_NOMEM;
    if (!(e = vouch_calloc(1, sizeof(*e))))
        goto out;
    atomic_init(&e->refs, 1);
    if ((rc = vouch_collateral_parse((const uint8_t *)json, json_len, &e->coll)) != VOUCH_OK) {
        snprintf(why, cap, "the PCS collateral for %s FMSPC %s does not parse (%s)", tee, fm,
                 vouch_strerror(rc));
        goto out;
    }
    if ((rc = vouch_collateral_platform(e->coll, &cp)) != VOUCH_OK)
        goto out;
    if (cp.tee != plat->tee || memcmp(cp.fmspc, plat->fmspc, sizeof(cp.fmspc)) != 0) {
        char got[13];
        vouch_hex_encode(cp.fmspc, sizeof(cp.fmspc), got);
        snprintf(why, cap, "the PCS answered for %s FMSPC %s when asked for %s FMSPC %s",
                 vouch_evidence_format_name(cp.tee), got, tee, fm);
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    e->not_before = cp.not_before;
    e->not_after = cp.not_after;
    vouch_time_format(now, t0);
    vouch_time_format(cp.not_before, t1);
    vouch_time_format(cp.not_after, t2);
    if (now < cp.not_before || now > cp.not_after) {
        snprintf(why, cap, "the PCS collateral for %s FMSPC %s is valid %s..%s, not at %s", tee, fm,
                 t1, t2, t0);
        rc = VOUCH_ERR_EXPIRED;
        goto out;
    }
    e->fetched_ms = mono_ms();
    vouch_log_info("PCS: fetched collateral for %s FMSPC %s (%s CA), valid %s..%s", tee, fm,
                   ca_name(plat->pck_ca), t1, t2);
    *out = e;
    e = NULL;
    rc = VOUCH_OK;
out:
    attestd_pcs_entry_unref(e);
    vouch_free(json);
    vouch_httpc_response_free(&tcb);
    vouch_httpc_response_free(&qe);
    vouch_httpc_response_free(&pck);
    vouch_httpc_response_free(&root);
    return rc;
}

/* ---- the cache ---- */

static bool usable(const struct attestd_pcs_entry *e, int64_t now)
{
    return e && now >= e->not_before && now <= e->not_after;
}

/* The slot for a key, or a free one, or the least recently used one that no
 * thread is fetching or waiting for. Called with the lock held. */
static struct slot *slot_for(struct attestd_pcs *p, const struct vouch_dcap_platform *plat)
{
    struct slot *free_slot = NULL, *lru = NULL, *s;

    for (size_t i = 0; i < VOUCH_PCS_CACHE_SLOTS; i++) {
        s = &p->slots[i];
        if (!s->used) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (s->tee == plat->tee && s->ca == plat->pck_ca &&
            memcmp(s->fmspc, plat->fmspc, sizeof(s->fmspc)) == 0)
            return s;
        if (!s->fetching && s->waiters == 0 && (!lru || s->used_ms < lru->used_ms))
            lru = s;
    }
    if (!(s = free_slot ? free_slot : lru))
        return NULL;
    /* The entry may still be in use by requests; they hold references. */
    attestd_pcs_entry_unref(s->entry);
    memset(s, 0, sizeof(*s));
    s->used = true;
    s->tee = plat->tee;
    s->ca = plat->pck_ca;
    memcpy(s->fmspc, plat->fmspc, sizeof(s->fmspc));
    return s;
}

static void fail_fast_message(const struct slot *s, int64_t mono, char *why, size_t cap)
{
    int64_t left = s->retry_at_ms - mono;
    snprintf(why, cap,
             "collateral unavailable (PCS fetch failed %u time%s, retry after %lld.%lld s): %s",
             s->failures, s->failures == 1 ? "" : "s", (long long)(left / 1000),
             (long long)(left % 1000 / 100), s->last_error);
}

/* A fetch on its own thread: the worker that needed it waits at most
 * --pcs-wait-ms for it, and a refresh of a set that is still valid does not
 * hold up anyone. */
struct fetch_job {
    struct attestd_pcs *p;
    struct slot *s; /* not evicted while s->fetching */
    struct vouch_dcap_platform plat;
    int64_t now;
};

/* Stores a finished fetch's outcome in its slot (lock held). Returns the
 * replaced entry, for the caller to release outside the lock. */
static struct attestd_pcs_entry *fetch_done(struct attestd_pcs *p, struct slot *s, vouch_err rc,
                                            struct attestd_pcs_entry *fresh, const char *err)
{
    struct attestd_pcs_entry *old = NULL;

    s->fetching = false;
    if (rc == VOUCH_OK) {
        old = s->entry;
        s->entry = fresh;
        s->failures = 0;
        s->retry_at_ms = 0;
        s->last_error[0] = 0;
    } else {
        uint64_t wait;
        if (s->failures < UINT32_MAX)
            s->failures++;
        wait = attestd_pcs_backoff_ms(p->backoff_base_ms, s->failures);
        s->retry_at_ms = mono_ms() + (int64_t)wait;
        snprintf(s->last_error, sizeof(s->last_error), "%s", err[0] ? err : vouch_strerror(rc));
        vouch_log_warn("PCS: fetch failed (%u in a row; next try in %llu ms): %s", s->failures,
                       (unsigned long long)wait, s->last_error);
    }
    pthread_cond_broadcast(&p->cond);
    return old;
}

static void *fetch_thread(void *arg)
{
    struct fetch_job *j = arg;
    struct attestd_pcs *p = j->p;
    struct attestd_pcs_entry *fresh = NULL, *old;
    char err[LAST_ERROR_LEN] = "";
    vouch_err rc = fetch(p, &j->plat, j->now, &fresh, err, sizeof(err));

    pthread_mutex_lock(&p->lock);
    old = fetch_done(p, j->s, rc, fresh, err);
    p->fetchers--;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    attestd_pcs_entry_unref(old);
    vouch_free(j);
    return NULL;
}

/* Starts a fetch thread for @p s (lock held); false when none could start. */
static bool fetch_start(struct attestd_pcs *p, struct slot *s,
                        const struct vouch_dcap_platform *plat, int64_t now)
{
    struct fetch_job *j = vouch_calloc(1, sizeof(*j));
    pthread_attr_t attr;
    pthread_t th;
    bool ok = false;

    if (!j)
        return false;
    j->p = p;
    j->s = s;
    j->plat = *plat;
    j->now = now;
    if (pthread_attr_init(&attr) != 0) {
        vouch_free(j);
        return false;
    }
    if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
        pthread_create(&th, &attr, fetch_thread, j) == 0)
        ok = true;
    pthread_attr_destroy(&attr);
    if (!ok) {
        vouch_free(j);
        return false;
    }
    s->fetching = true;
    p->fetchers++;
    return true;
}

vouch_err attestd_pcs_get(struct attestd *d, const struct vouch_dcap_platform *plat, int64_t now,
                          struct attestd_pcs_entry **entry, const struct vouch_collateral **coll,
                          char *why, size_t cap)
{
    return attestd_pcs_get_wait(d, plat, now, entry, coll, NULL, why, cap);
}

vouch_err attestd_pcs_get_wait(struct attestd *d, const struct vouch_dcap_platform *plat,
                               int64_t now, struct attestd_pcs_entry **entry,
                               const struct vouch_collateral **coll, unsigned *retry_after_s,
                               char *why, size_t cap)
{
    struct attestd_pcs *p = d->pcs;
    struct attestd_pcs_entry *fresh = NULL, *old = NULL, *e = NULL;
    struct slot *s;
    char err[LAST_ERROR_LEN];
    bool fetch_here = false, started = false;
    int64_t deadline;
    vouch_err rc = VOUCH_ERR_BUSY;

    *entry = NULL;
    *coll = NULL;
    if (retry_after_s)
        *retry_after_s = 0;
    if (!p)
        return VOUCH_ERR_NOT_FOUND;
    if (plat->pck_ca != VOUCH_PCK_CA_PROCESSOR && plat->pck_ca != VOUCH_PCK_CA_PLATFORM) {
        snprintf(why, cap,
                 "the quote's PCK certificate is not issued by an Intel SGX PCK "
                 "Processor or Platform CA");
        return VOUCH_ERR_UNSUPPORTED;
    }
    deadline = mono_ms() + (int64_t)p->wait_ms;
    pthread_mutex_lock(&p->lock);
    if (!(s = slot_for(p, plat))) {
        snprintf(why, cap, "collateral unavailable: every PCS cache slot is busy fetching");
        goto out;
    }
    s->used_ms = mono_ms();
    for (;;) {
        int64_t mono = mono_ms();
        bool ok = usable(s->entry, now);
        bool due = !ok || mono - s->entry->fetched_ms >= (int64_t)ATTESTD_PCS_REFRESH_MS;
        bool backing_off = s->failures > 0 && mono < s->retry_at_ms;

        if (due && !s->fetching && !backing_off && !started) {
            /* Fetch (or refresh) off this thread; without a thread, here. */
            started = true;
            if (!p->stopping && fetch_start(p, s, plat, now))
                continue;
            fetch_here = true;
            break;
        }
        if (ok) {
            e = s->entry; /* a refresh, if one runs, replaces it later */
        } else if (s->fetching) {
            struct timespec ts;
            if (mono >= deadline) {
                /* The fetch goes on; the client comes back for its result,
                 * which is cached (or, after a failure, answered at once). */
                snprintf(why, cap,
                         "collateral for this platform is being fetched from the PCS; retry in "
                         "1 s");
                if (retry_after_s)
                    *retry_after_s = 1;
                break;
            }
            ts.tv_sec = (time_t)(deadline / 1000);
            ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
            s->waiters++;
            (void)pthread_cond_timedwait(&p->cond, &p->lock, &ts);
            s->waiters--;
            continue;
        } else {
            fail_fast_message(s, mono, why, cap);
        }
        break;
    }
    if (fetch_here) {
        s->fetching = true;
        pthread_mutex_unlock(&p->lock);
        err[0] = 0;
        rc = fetch(p, plat, now, &fresh, err, sizeof(err));
        pthread_mutex_lock(&p->lock);
        old = fetch_done(p, s, rc, fresh, err);
        /* A failed refresh keeps serving the set that is still valid. */
        if (usable(s->entry, now))
            e = s->entry;
        else
            fail_fast_message(s, mono_ms(), why, cap);
    }
    rc = VOUCH_ERR_BUSY;
    if (e) {
        atomic_fetch_add(&e->refs, 1);
        *entry = e;
        *coll = e->coll;
        rc = VOUCH_OK;
    }
out:
    pthread_mutex_unlock(&p->lock);
    attestd_pcs_entry_unref(old);
    return rc;
}

/* ---- set-up ---- */

static bool url_ok(const char *u)
{
    size_t n = strlen(u);
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return false;
    if (n >= URL_MAX / 2 || u[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
            return false;
    }
    return true;
}

vouch_err attestd_pcs_init(struct attestd *d)
{
    const struct attestd_config *c = &d->cfg;
    struct attestd_pcs *p = NULL;
    char *key = NULL;
    size_t key_len = 0;
    vouch_err rc = VOUCH_ERR_INVAL;

    if (!c->pcs_url)
        return VOUCH_OK;
    if (!url_ok(c->pcs_url)) {
        vouch_log_error("--pcs-url must be an http(s) URL without a trailing slash");
        return VOUCH_ERR_INVAL;
    }
    if (c->pcs_root_crl_url && !url_ok(c->pcs_root_crl_url)) {
        vouch_log_error("--pcs-root-crl-url must be an http(s) URL");
        return VOUCH_ERR_INVAL;
    }
    rc = VOUCH_ERR_NOMEM;
    if (!(p = vouch_calloc(1, sizeof(*p))))
        return rc;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        vouch_free(p);
        return VOUCH_ERR_INTERNAL;
    }
    {
        pthread_condattr_t ca;
        bool ok = pthread_condattr_init(&ca) == 0;
        ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&p->cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
        if (!ok) {
            pthread_mutex_destroy(&p->lock);
            vouch_free(p);
            return VOUCH_ERR_INTERNAL;
        }
    }
    p->wait_ms = c->pcs_wait_ms ? c->pcs_wait_ms : ATTESTD_PCS_WAIT_MS;
    d->pcs = p;
    p->ca_file = c->pcs_ca_file;
    p->backoff_base_ms =
        c->pcs_backoff_base_ms ? c->pcs_backoff_base_ms : ATTESTD_PCS_BACKOFF_BASE_MS;
    p->timeout_ms = c->pcs_timeout_ms;
    if (!(p->base = vouch_strdup(c->pcs_url)))
        goto out;
    if (c->pcs_root_crl_url) {
        p->root_crl_url = vouch_strdup(c->pcs_root_crl_url);
    } else if (strstr(c->pcs_url, "://" INTEL_PCS_HOST) != NULL) {
        /* Intel's PCS does not serve the root CA CRL; Intel publishes it here. */
        p->root_crl_url = vouch_strdup(INTEL_ROOT_CRL_URL);
    } else {
        size_t n = strlen(c->pcs_url) + sizeof("/sgx/certification/v4/rootcacrl");
        if ((p->root_crl_url = vouch_malloc(n)) != NULL)
            snprintf(p->root_crl_url, n, "%s/sgx/certification/v4/rootcacrl", c->pcs_url);
    }
    if (!p->root_crl_url)
        goto out;
    if (c->pcs_api_key_file) {
        if ((rc = attestd_read_file(c->pcs_api_key_file, true, &key, &key_len)) != VOUCH_OK) {
            vouch_log_error("cannot read --pcs-api-key-file %s", c->pcs_api_key_file);
            goto out;
        }
        while (key_len > 0 && (key[key_len - 1] == '\n' || key[key_len - 1] == '\r'))
            key[--key_len] = 0;
        rc = VOUCH_ERR_INVAL;
        if (key_len == 0 || strpbrk(key, "\r\n") != NULL) {
            vouch_log_error("--pcs-api-key-file %s must hold one line", c->pcs_api_key_file);
            goto out;
        }
        rc = VOUCH_ERR_NOMEM;
        p->api_key_header_len = sizeof(API_KEY_HEADER) + key_len;
        if (!(p->api_key_header = vouch_malloc(p->api_key_header_len)))
            goto out;
        snprintf(p->api_key_header, p->api_key_header_len, API_KEY_HEADER "%s", key);
    }
    if (strncmp(c->pcs_url, "http://", 7) == 0)
        vouch_log_warn("--pcs-url is plain HTTP: collateral is signed, but anyone on the path "
                       "can withhold or replay it");
    vouch_log_info("PCS: collateral from %s (root CA CRL %s)", p->base, p->root_crl_url);
    rc = VOUCH_OK;
out:
    if (key) {
        vouch_wipe(key, key_len);
        vouch_free(key);
    }
    if (rc != VOUCH_OK)
        attestd_pcs_free(d);
    return rc;
}

void attestd_pcs_free(struct attestd *d)
{
    struct attestd_pcs *p = d->pcs;

    if (!p)
        return;
    /* Fetch threads use p: let them finish (each is bounded by the PCS
     * timeouts). */
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    while (p->fetchers > 0)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < VOUCH_PCS_CACHE_SLOTS; i++)
        attestd_pcs_entry_unref(p->slots[i].entry);
    if (p->api_key_header) {
        vouch_wipe(p->api_key_header, p->api_key_header_len);
        vouch_free(p->api_key_header);
    }
    vouch_free(p->base);
    vouch_free(p->root_crl_url);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    vouch_free(p);
    d->pcs = NULL;
}
