/*
 * vouch_rt_atls_*: attested TLS terminated inside the enclave process
 * (include/vouch/enclave_rt_atls.h). A thin layer over atls.h and
 * atls_mem.h whose evidence comes from this enclave's platform agent, so the
 * certificate can only ever claim the identity the loader measured. Either
 * end may verify its peer (mutual attested TLS between two enclaves).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vouch/atls.h>
#include <vouch/atls_mem.h>
#include <vouch/crypto.h>
#include <vouch/enclave_rt.h>
#include <vouch/enclave_rt_atls.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

/* First uses the sandbox would kill the enclave for, done once at loader
 * start-up (before the fork, so the enclave process inherits the state):
 * glibc's gmtime_r loads the time zone file (/etc/localtime) on first use,
 * and the TLS library's initialisation reads its configuration and sizes a
 * sort by the machine's memory (sysinfo). A failure here only means the
 * first vouch_rt_atls_server_new fails instead, so it is not fatal. */
__attribute__((constructor)) static void rt_atls_preload(void)
{
    tzset();
    if (vouch_atls_preload() != VOUCH_OK)
        fputs("vouch-enclave-loader: TLS library initialisation failed\n", stderr);
}

struct vouch_rt_atls {
    struct vouch_atls_cred *cred;
    struct vouch_atls_ctx *ctx;
    struct vouch_atls_mem *conn;
    /* The peer verifier's borrowed state (must outlive ctx). */
    struct vouch_x509 *anchor;
    uint8_t measurement[32];
    uint8_t signer_id[32];
};

/* The atls.h evidence callback: the agent signs the report data (the key
 * hash) for this enclave. */
static vouch_err agent_evidence(void *ctx, const uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN],
                                uint8_t *ev, size_t cap, size_t *ev_len)
{
    (void)ctx;
    uint8_t *p = NULL;
    size_t n = 0;
    vouch_err err = vouch_rt_get_evidence(report_data, &p, &n);
    if (err != VOUCH_OK)
        return err;
    if (n > cap) {
        err = VOUCH_ERR_TOO_LARGE;
    } else {
        memcpy(ev, p, n);
        *ev_len = n;
    }
    vouch_rt_free(p);
    return err;
}

/* One connection: @p server or client, checking the peer against @p peer
 * (NULL only for a server that does not check its clients). */
static vouch_err rt_atls_new(bool server, const char *common_name, uint32_t lifetime,
                             const struct vouch_rt_atls_expect *peer, struct vouch_rt_atls **out)
{
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!common_name || lifetime == 0 || lifetime > VOUCH_ATLS_CERT_MAX_LIFETIME ||
        (!server && !peer) || (peer && (!peer->ca || peer->ca_len == 0)))
        return VOUCH_ERR_INVAL;
    struct vouch_rt_atls *s = vouch_calloc(1, sizeof *s);
    if (!s)
        return VOUCH_ERR_NOMEM;
    struct vouch_atls_cred_spec spec = {
        .common_name = common_name,
        .now = (int64_t)time(NULL),
        .lifetime = (int64_t)lifetime,
        .evidence = agent_evidence,
    };
    struct vouch_atls_verifier v = {.now = spec.now};
    vouch_err err = VOUCH_OK;
    if (peer) {
        err = vouch_x509_parse(peer->ca, peer->ca_len, &s->anchor);
        v.sim_anchors = &s->anchor;
        v.n_sim_anchors = 1;
        if (peer->measurement) {
            memcpy(s->measurement, peer->measurement, sizeof s->measurement);
            v.measurement = s->measurement;
        }
        if (peer->signer_id) {
            memcpy(s->signer_id, peer->signer_id, sizeof s->signer_id);
            v.signer_id = s->signer_id;
        }
        v.allow_debug = peer->allow_debug != 0;
    }
    if (err == VOUCH_OK)
        err = vouch_atls_cred_new(&spec, &s->cred);
    if (err == VOUCH_OK)
        err = vouch_atls_ctx_new(server, s->cred, peer ? &v : NULL, &s->ctx);
    if (err == VOUCH_OK)
        err = vouch_atls_mem_new(s->ctx, &s->conn);
    if (err != VOUCH_OK) {
        vouch_rt_atls_free(s);
        return err;
    }
    *out = s;
    return VOUCH_OK;
}

vouch_err vouch_rt_atls_server_new(const char *common_name, uint32_t lifetime,
                                   struct vouch_rt_atls **out)
{
    return rt_atls_new(true, common_name, lifetime, NULL, out);
}

vouch_err vouch_rt_atls_mutual_new(int server, const char *common_name, uint32_t lifetime,
                                   const struct vouch_rt_atls_expect *peer,
                                   struct vouch_rt_atls **out)
{
    if (!peer) {
        if (out)
            *out = NULL;
        return VOUCH_ERR_INVAL;
    }
    return rt_atls_new(server != 0, common_name, lifetime, peer, out);
}

vouch_err vouch_rt_atls_peer(const struct vouch_rt_atls *s, struct vouch_rt_identity *out)
{
    if (!s || !out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof *out);
    const struct vouch_atls_peer *p = vouch_atls_mem_peer(s->conn);
    if (!p)
        return VOUCH_ERR_NOT_FOUND;
    memcpy(out->measurement, p->id.measurement, sizeof out->measurement);
    memcpy(out->signer_id, p->id.signer_id, sizeof out->signer_id);
    out->product_id = p->id.product_id;
    out->svn = p->id.svn;
    out->debug = p->id.debug;
    return VOUCH_OK;
}

const char *vouch_rt_atls_detail(const struct vouch_rt_atls *s)
{
    return s ? vouch_atls_mem_detail(s->conn) : "";
}

vouch_err vouch_rt_atls_push(struct vouch_rt_atls *s, const void *in, size_t len)
{
    return s ? vouch_atls_mem_push(s->conn, in, len) : VOUCH_ERR_INVAL;
}

int vouch_rt_atls_established(const struct vouch_rt_atls *s)
{
    return s && vouch_atls_mem_established(s->conn);
}

vouch_err vouch_rt_atls_pull(struct vouch_rt_atls *s, void *out, size_t cap, size_t *len)
{
    return s ? vouch_atls_mem_pull(s->conn, out, cap, len) : VOUCH_ERR_INVAL;
}

vouch_err vouch_rt_atls_read(struct vouch_rt_atls *s, void *p, size_t cap, size_t *got)
{
    return s ? vouch_atls_mem_read(s->conn, p, cap, got) : VOUCH_ERR_INVAL;
}

vouch_err vouch_rt_atls_write(struct vouch_rt_atls *s, const void *p, size_t len)
{
    return s ? vouch_atls_mem_write(s->conn, p, len) : VOUCH_ERR_INVAL;
}

vouch_err vouch_rt_atls_close(struct vouch_rt_atls *s)
{
    return s ? vouch_atls_mem_close(s->conn) : VOUCH_ERR_INVAL;
}

void vouch_rt_atls_cert(const struct vouch_rt_atls *s, const uint8_t **der, size_t *len)
{
    *der = NULL;
    *len = 0;
    if (s && s->cred)
        vouch_atls_cred_cert_der(s->cred, der, len);
}

void vouch_rt_atls_free(struct vouch_rt_atls *s)
{
    if (!s)
        return;
    vouch_atls_mem_free(s->conn);
    vouch_atls_ctx_free(s->ctx);
    vouch_atls_cred_free(s->cred);
    vouch_x509_free(s->anchor);
    vouch_free(s);
}
