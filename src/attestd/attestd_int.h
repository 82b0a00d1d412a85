/*
 * vouch-attestd internals: the attestation service that speaks Azure
 * Attestation's REST API. main.c parses the command line and sets up the data
 * directory; service.c routes requests; attest.c runs evidence verification,
 * binding checks, policy and token issue; policy_api.c manages policies and
 * signer certificates; keys.c owns the token-signing keys and the JWKS;
 * store.c is the LMDB state; metrics.c counts.
 *
 * Threading: request handlers run on the HTTP worker threads. Everything in
 * struct attestd is either immutable after start-up or guarded as noted.
 */
#ifndef VOUCH_ATTESTD_INT_H
#define VOUCH_ATTESTD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <vouch/crypto.h>
#include <vouch/evidence.h>
#include <vouch/http.h>
#include <vouch/pkey.h>
#include <vouch/policy.h>
#include <vouch/token.h>

#define ATTESTD_VERSION          "vouch-attestd/0.1.0"
#define ATTESTD_STORE_MAP_SIZE   (256u * 1024u * 1024u)
#define ATTESTD_MAX_KEY_LEN      255u
#define ATTESTD_MAX_COLLATERAL   64u
#define ATTESTD_MAX_SIGNING_KEYS 8u
/* PCS fetch backoff: after n failed fetches for a platform, wait
 * min(base x 2^(n-1), max) before fetching again. */
#define ATTESTD_PCS_BACKOFF_BASE_MS 5000u
#define ATTESTD_PCS_BACKOFF_MAX_MS  600000u
/* Fetched collateral still inside its window is refetched after this long, so
 * CRL and TCB updates reach the cache; on failure the old set stays in use. */
#define ATTESTD_PCS_REFRESH_MS (24u * 3600u * 1000u)
/* Fetches run on their own threads; a request that needs one waits at most
 * this long (--pcs-wait-ms) and is then answered 503 with Retry-After. */
#define ATTESTD_PCS_WAIT_MS 5000u

/* ---- store ---- */

enum attestd_db {
    ATTESTD_DB_POLICIES = 0, /* "current/<Type>" -> policy record, "v/<Type>/<%016llu>" history */
    ATTESTD_DB_SIGNERS = 1,  /* "<sha1 hex>" -> certificate DER */
    ATTESTD_DB_KEYS = 2,     /* "<created %016llx>-<kid>" -> signing key record */
    ATTESTD_DB_META = 3,
    ATTESTD_DB__COUNT
};

struct attestd_store;
struct attestd_store_op {
    enum attestd_db db;
    const char *key;
    const void *val;
    size_t len;
    bool del;
};
typedef vouch_err (*attestd_store_each_fn)(void *arg, const char *key, const void *val, size_t len);

VOUCH_NODISCARD vouch_err attestd_store_open(const char *dir, struct attestd_store **out);
void attestd_store_close(struct attestd_store *s);
/** Copy of the value (NUL-terminated; vouch_free). NOT_FOUND if absent. */
VOUCH_NODISCARD vouch_err attestd_store_get(struct attestd_store *s, enum attestd_db db,
                                            const char *key, uint8_t **val, size_t *len);
VOUCH_NODISCARD vouch_err attestd_store_put(struct attestd_store *s, enum attestd_db db,
                                            const char *key, const void *val, size_t len);
/** Applies all @p ops in one transaction: all or nothing. */
VOUCH_NODISCARD vouch_err attestd_store_apply(struct attestd_store *s,
                                              const struct attestd_store_op *ops, size_t n);
/** Calls @p fn for each key starting with @p prefix, in key order. */
VOUCH_NODISCARD vouch_err attestd_store_each(struct attestd_store *s, enum attestd_db db,
                                             const char *prefix, attestd_store_each_fn fn,
                                             void *arg);

/* ---- attestation types ---- */

enum attestd_type {
    ATTESTD_SGX_ENCLAVE = 0,
    ATTESTD_OPEN_ENCLAVE,
    ATTESTD_TDX_VM,
    ATTESTD_SEV_SNP_VM,
    ATTESTD_TPM,
    ATTESTD_SIM_ENCLAVE,
    ATTESTD_TYPE__COUNT
};

/** "SgxEnclave", ... as in the URL. */
const char *attestd_type_name(enum attestd_type t);
/** Exact (case-sensitive) lookup of a URL type name. */
VOUCH_NODISCARD vouch_err attestd_type_parse(const char *s, size_t len, enum attestd_type *out);

/* ---- policies ---- */

/* One stored policy, immutable once published; readers hold a reference. */
struct attestd_policy {
    atomic_uint refs;
    uint64_t version;
    bool is_default;
    char *text; /* owned policy text */
    size_t text_len;
    struct vouch_policy *parsed;
    char hash[VOUCH_POLICY_HASH_LEN + 1]; /* x-ms-policy-hash */
    char *jws;                            /* the policy as MAA returns it in x-ms-policy (owned) */
    json_t *signer;                       /* JWK of the signer, or NULL when unsigned */
};

void attestd_policy_unref(struct attestd_policy *p);

/* ---- service ---- */

struct attestd_config {
    const char *listen;
    const char *data_dir;
    const char *issuer; /* public base URL, no trailing slash */
    const char *collateral_dir;
    const char *admin_token_file;
    const char *admin_client_ca; /* PEM CA: verified client certificates are admins */
    bool insecure_http;
    bool has_eval_time;
    int64_t eval_time;
    unsigned threads;
    enum vouch_sig_alg token_alg;
    int64_t token_lifetime;
    bool allow_draft_policy;      /* draftPolicyForAttestation (unsigned tokens) */
    bool require_signed_policies; /* Isolated mode */
    /* Intel PCS/PCCS collateral fetching (pcs.c); off without pcs_url. */
    const char *pcs_url;          /* base URL, no trailing slash */
    const char *pcs_ca_file;      /* CA bundle for an https PCCS with its own CA */
    const char *pcs_api_key_file; /* Ocp-Apim-Subscription-Key (secret file) */
    const char *pcs_root_crl_url; /* NULL: derived from pcs_url */
    unsigned pcs_backoff_base_ms; /* 0: ATTESTD_PCS_BACKOFF_BASE_MS */
    unsigned pcs_timeout_ms;      /* per request; 0: the HTTP client's default */
    unsigned pcs_wait_ms;         /* longest wait for a fetch; 0: ATTESTD_PCS_WAIT_MS */
    /* TPM attestation (tpm.c). */
    const char *tpm_ak_roots; /* PEM anchors for AK certificates */
    const char *tpm_ek_roots; /* PEM anchors for EK certificates */
    const char *tpm_ak_allow; /* pre-registered AK Names (hex per line; insecure) */
    const char *tpm_ek_allow; /* pre-registered EK Names for ekcred without EK roots */
    bool tpm_allow_sha1;      /* accept SHA-1 PCR banks and signatures */
    /* SimEnclave: the trusted Vouch software TEE CA (PEM or DER); sim
     * evidence is refused without it. */
    const char *sim_ca_file;
};

struct attestd_collateral {
    enum vouch_evidence_format tee; /* SGX or TDX */
    uint8_t fmspc[6];
    struct vouch_collateral *coll;
    char source[256];
};

struct attestd_signing_key {
    struct vouch_pkey *key;
    struct vouch_pubkey *pub;
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    uint8_t *cert_der;
    size_t cert_len;
    int64_t created;
};

#define ATTESTD_LAT_BUCKETS 12u

struct attestd_metrics {
    atomic_ulong requests[6]; /* by status class: 1xx..5xx, other */
    atomic_ulong attest_ok[ATTESTD_TYPE__COUNT];
    atomic_ulong attest_denied[ATTESTD_TYPE__COUNT];
    atomic_ulong attest_invalid[ATTESTD_TYPE__COUNT];
    atomic_ulong lat_bucket[ATTESTD_LAT_BUCKETS + 1]; /* attest latency, cumulative at render */
    atomic_ulong lat_sum_us;
    atomic_ulong lat_count;
};

struct attestd {
    struct attestd_config cfg;
    struct attestd_store *store;
    char *admin_token; /* secret: compared with vouch_ct_eq, wiped at exit */
    size_t admin_token_len;

    /* policies: current per type, swapped under policy_lock */
    pthread_mutex_t policy_lock;
    struct attestd_policy *policy[ATTESTD_TYPE__COUNT];

    /* signing keys: [0] is the one in use; all are published. Immutable after start. */
    struct attestd_signing_key keys[ATTESTD_MAX_SIGNING_KEYS];
    size_t n_keys;
    char *jwks_text;   /* the /certs document */
    char *openid_text; /* the openid-configuration document */

    struct attestd_collateral collateral[ATTESTD_MAX_COLLATERAL];
    size_t n_collateral;
    struct attestd_pcs *pcs; /* fetched collateral (pcs.c); NULL without --pcs-url */
    struct attestd_tpm *tpm; /* TPM trust anchors, context key, replay set (tpm.c) */
    uint8_t *sim_ca;         /* --sim-ca contents; NULL: SimEnclave is refused */
    size_t sim_ca_len;

    struct attestd_metrics metrics;
};

/** The HTTP entry point (vouch_http_handler_fn). */
void attestd_handle(void *arg, const struct vouch_http_request *req,
                    struct vouch_http_response *res);

/** Writes MAA's error shape {"error":{"code","message"}} with @p status. */
void attestd_error(struct vouch_http_response *res, int status, const char *code, const char *fmt,
                   ...) VOUCH_PRINTF(4, 5);
/** Writes {"token": tok} with status 200. */
void attestd_token_response(struct vouch_http_response *res, const char *token);
/** The evaluation time: --eval-time if set, else the clock. */
int64_t attestd_now(const struct attestd *d);
/** Signs @p claims (adds iss, iat, nbf, exp, jti, x-ms-ver) with the current key. */
VOUCH_NODISCARD vouch_err attestd_issue_token(struct attestd *d, json_t *claims, char **out);

/* body.c: parses an attest request body like vouch_json_parse, but when the
 * top-level member @p field is a plain base64 string its bytes come back as
 * a span into @p p (the parsed object then holds "" for it); otherwise
 * @p span is NULL and the object holds the member as sent. */
VOUCH_NODISCARD vouch_err attestd_body_parse(const uint8_t *p, size_t len, const char *field,
                                             json_t **out, const char **span, size_t *span_len,
                                             char *err, size_t cap);

/* claims_collateral.c: x-ms-sgx-collateral (+ maa-attestationcollateral) and
 * x-ms-sgx-tcbidentifier into @p out, for SGX evidence verified with @p coll;
 * nothing for other evidence. @p quote is the DCAP quote as verified. */
VOUCH_NODISCARD vouch_err attestd_collateral_claims(const struct vouch_verify_result *vr,
                                                    const struct vouch_collateral *coll,
                                                    const uint8_t *quote, size_t quote_len,
                                                    json_t *out);

/* What an attestation adds to its request's single log line (service.c):
 * type, decision and why, as key=value text. */
#define ATTESTD_LOG_NOTE_MAX (VOUCH_MAX_LOG_LINE / 2)

/* attest.c; @p note (ATTESTD_LOG_NOTE_MAX bytes) receives the log note. */
void attestd_attest(struct attestd *d, enum attestd_type type, const struct vouch_http_request *req,
                    struct vouch_http_response *res, char *note);

/* tpm.c: /attest/Tpm, Azure's multi-round protocol with a stateless service context. */
void attestd_attest_tpm(struct attestd *d, const struct vouch_http_request *req,
                        struct vouch_http_response *res, char *note);
/** Loads the TPM trust configuration and the service-context key (created
 *  under the data directory on first start). */
VOUCH_NODISCARD vouch_err attestd_tpm_init(struct attestd *d);
void attestd_tpm_free(struct attestd *d);

/* policy_api.c */
VOUCH_NODISCARD vouch_err attestd_policies_load(struct attestd *d);
/** A new reference to the current policy for @p type, or NULL if none (Tpm). */
struct attestd_policy *attestd_policy_get(struct attestd *d, enum attestd_type type);
/** Parses @p text into a fresh unpublished policy object (refs = 1). */
VOUCH_NODISCARD vouch_err attestd_policy_build(const char *text, size_t len,
                                               struct attestd_policy **out,
                                               struct vouch_policy_error *err);
void attestd_policy_endpoint(struct attestd *d, enum attestd_type type, bool reset,
                             const struct vouch_http_request *req, struct vouch_http_response *res);
void attestd_certificates_endpoint(struct attestd *d, const char *op,
                                   const struct vouch_http_request *req,
                                   struct vouch_http_response *res);
/** True when the request carries the admin credential; otherwise writes 401. */
bool attestd_admin_ok(struct attestd *d, const struct vouch_http_request *req,
                      struct vouch_http_response *res);

/* keys.c */
VOUCH_NODISCARD vouch_err attestd_keys_load(struct attestd *d);
void attestd_keys_free(struct attestd *d);

/* collateral */
VOUCH_NODISCARD vouch_err attestd_collateral_load(struct attestd *d);
/** The loaded collateral for @p tee and @p fmspc, or NULL. */
const struct vouch_collateral *attestd_collateral_find(const struct attestd *d,
                                                       enum vouch_evidence_format tee,
                                                       const uint8_t fmspc[6]);

/* Collateral in use by one request. A fetched set holds a reference that
 * attestd_collateral_release drops, so a cache refresh cannot free it. */
struct attestd_pcs_entry;
struct attestd_collateral_use {
    const struct vouch_collateral *coll;
    struct attestd_pcs_entry *entry; /* NULL for a set loaded with --collateral */
    unsigned retry_after_s;          /* on failure: a fetch is running, ask again after this */
};
/** The collateral for a quote's platform: a loaded set valid at now, else one
 *  fetched from the PCS (when configured). On failure @p why says why (for the
 *  client); @p out is then empty. Release @p out whatever the result. */
VOUCH_NODISCARD vouch_err attestd_collateral_acquire(struct attestd *d,
                                                     const struct vouch_dcap_platform *plat,
                                                     struct attestd_collateral_use *out, char *why,
                                                     size_t cap);
void attestd_collateral_release(struct attestd_collateral_use *u);

/* pcs.c: Intel PCS/PCCS fetcher and in-memory cache, one slot per
 * (TEE, FMSPC, PCK CA), with per-slot backoff after failures. Thread-safe. */
struct attestd_pcs;
/** Sets up d->pcs from the configuration (no-op without pcs_url). */
VOUCH_NODISCARD vouch_err attestd_pcs_init(struct attestd *d);
void attestd_pcs_free(struct attestd *d);
/** A referenced cache entry for @p plat valid at @p now, fetching it when
 *  needed. BUSY while the platform is backing off after failures. */
VOUCH_NODISCARD vouch_err attestd_pcs_get(struct attestd *d, const struct vouch_dcap_platform *plat,
                                          int64_t now, struct attestd_pcs_entry **entry,
                                          const struct vouch_collateral **coll, char *why,
                                          size_t cap);
/** Like attestd_pcs_get; when the answer is BUSY because a fetch for the
 *  platform is still running after --pcs-wait-ms, @p retry_after_s (if given)
 *  says when to ask again (0 otherwise). */
VOUCH_NODISCARD vouch_err attestd_pcs_get_wait(struct attestd *d,
                                               const struct vouch_dcap_platform *plat, int64_t now,
                                               struct attestd_pcs_entry **entry,
                                               const struct vouch_collateral **coll,
                                               unsigned *retry_after_s, char *why, size_t cap);
void attestd_pcs_entry_unref(struct attestd_pcs_entry *e);
/** Wait before the next fetch after @p failures consecutive failures. */
uint64_t attestd_pcs_backoff_ms(unsigned base_ms, unsigned failures);

/* The raw PCS/PCCS responses for one platform, as received. */
struct attestd_pcs_raw {
    const uint8_t *tcb_body; /* {"tcbInfo":{...},"signature":"..."} */
    size_t tcb_len;
    const char *tcb_chain;  /* TCB-Info-Issuer-Chain, URL-encoded PEM */
    const uint8_t *qe_body; /* {"enclaveIdentity":{...},"signature":"..."} */
    size_t qe_len;
    const char *qe_chain;   /* SGX-Enclave-Identity-Issuer-Chain */
    const uint8_t *pck_crl; /* DER, hex or PEM */
    size_t pck_crl_len;
    const char *pck_crl_chain; /* SGX-PCK-CRL-Issuer-Chain */
    const uint8_t *root_crl;   /* DER, hex or PEM */
    size_t root_crl_len;
};
/** Assembles QuoteCollateralV3 JSON (vouch_free) from PCS responses: signed
 *  bodies cut byte for byte, chains URL-decoded, CRLs as hex of DER. */
VOUCH_NODISCARD vouch_err attestd_pcs_collateral_json(const struct attestd_pcs_raw *raw, char **out,
                                                      size_t *len, char *why, size_t cap);

/* files.c */
/** Reads a whole file of at most VOUCH_MAX_COLLATERAL_SIZE bytes (NUL-terminated
 *  copy; vouch_free). With @p secret, the file must not be accessible to group
 *  or others and is opened without following symlinks. */
VOUCH_NODISCARD vouch_err attestd_read_file(const char *path, bool secret, char **out, size_t *len);
/** Writes @p len bytes to @p path through a temporary file, fsync and rename. */
VOUCH_NODISCARD vouch_err attestd_write_file_atomic(const char *path, const void *p, size_t len,
                                                    mode_t mode);
/** Checks that hash(@p data) equals the first hash-length bytes of the hex
 *  field @p field_hex: OK, MISMATCH, or PARSE when the field is too short. */
VOUCH_NODISCARD vouch_err attestd_binding_check(const uint8_t *data, size_t len,
                                                enum vouch_hash_alg alg, const char *field_hex,
                                                size_t hexlen);

/* metrics.c */
void attestd_metrics_request(struct attestd *d, int status);
void attestd_metrics_attest(struct attestd *d, enum attestd_type t, int outcome, int64_t us);
VOUCH_NODISCARD vouch_err attestd_metrics_render(struct attestd *d, struct vouch_buf *out);

#endif
