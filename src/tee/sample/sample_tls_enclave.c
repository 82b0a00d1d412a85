/*
 * The sample enclave's attested TLS server (docs/enclave-sdk.md, "Sample
 * application"): the TLS end is inside the enclave, the host only relays the
 * records (sample_tls.c). One connection at a time.
 *
 * The application protocol inside TLS is one request and one reply, each a
 * big-endian u16 length and that many bytes: the enclave answers a greeting
 * naming the start of its own measurement, so the client sees the text came
 * from the enclave it verified.
 *
 * In mutual mode (sample_tls_start_mutual, two sample enclaves relayed by one
 * host) each end verifies the other's attested certificate in the enclave;
 * the client enclave sends the greeting and keeps the reply (sample_tls_peer).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <vouch/enclave_rt.h>
#include <vouch/enclave_rt_atls.h>

#include "sample_t.h"

/* Certificate lifetime: the sample's connections last seconds. */
#define SAMPLE_TLS_LIFETIME 3600u
#define SAMPLE_TLS_MAX_MSG  1024u

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vouch_rt_atls *tls;
static uint8_t req[2 + SAMPLE_TLS_MAX_MSG];
static size_t req_len;
static int answered;
static int is_client; /* mutual mode, client end */
static int sent;      /* the client's greeting is written */

int sample_tls_start(const char *common_name)
{
    pthread_mutex_lock(&tls_lock);
    vouch_err err = VOUCH_ERR_BUSY;
    if (!tls) {
        req_len = 0;
        answered = 0;
        is_client = 0;
        err = vouch_rt_atls_server_new(common_name, SAMPLE_TLS_LIFETIME, &tls);
    }
    pthread_mutex_unlock(&tls_lock);
    return err;
}

int sample_tls_start_mutual(int server, const char *common_name, const uint8_t *ca, size_t ca_len,
                            const uint8_t *mrenclave)
{
    /* allow_debug 0: a peer signed as a debug enclave is refused. */
    struct vouch_rt_atls_expect peer = {.ca = ca, .ca_len = ca_len, .measurement = mrenclave};
    pthread_mutex_lock(&tls_lock);
    vouch_err err = VOUCH_ERR_BUSY;
    if (!tls) {
        req_len = 0;
        answered = 0;
        sent = 0;
        is_client = !server;
        err = vouch_rt_atls_mutual_new(server, common_name, SAMPLE_TLS_LIFETIME, &peer, &tls);
    }
    pthread_mutex_unlock(&tls_lock);
    return err;
}

/* Reads one length-prefixed message into req; BUSY until all of it is in. */
static vouch_err read_message(void)
{
    for (;;) {
        size_t want = req_len < 2 ? 2 : 2 + ((size_t)req[0] << 8 | req[1]);
        if (want > sizeof req)
            return VOUCH_ERR_TOO_LARGE;
        if (req_len == want && req_len >= 2)
            return VOUCH_OK;
        size_t got = 0;
        vouch_err err = vouch_rt_atls_read(tls, req + req_len, want - req_len, &got);
        if (err != VOUCH_OK)
            return err;
        req_len += got;
    }
}

/* The client end: greet once established, then collect the reply. */
static vouch_err converse(void)
{
    if (!vouch_rt_atls_established(tls) || answered)
        return VOUCH_OK;
    if (!sent) {
        struct vouch_rt_identity id;
        char msg[2 + 128];
        vouch_rt_get_identity(&id);
        int n =
            snprintf(msg + 2, sizeof msg - 2, "client enclave %02x%02x%02x%02x...",
                     id.measurement[0], id.measurement[1], id.measurement[2], id.measurement[3]);
        if (n < 0 || (size_t)n >= sizeof msg - 2)
            return VOUCH_ERR_TOO_LARGE;
        msg[0] = (char)((unsigned)n >> 8);
        msg[1] = (char)(n & 0xff);
        vouch_err err = vouch_rt_atls_write(tls, msg, 2 + (size_t)n);
        if (err != VOUCH_OK)
            return err;
        sent = 1;
    }
    vouch_err err = read_message();
    if (err == VOUCH_ERR_BUSY)
        return VOUCH_OK; /* the reply comes with a later relayed chunk */
    if (err == VOUCH_OK)
        answered = 1;
    return err;
}

int sample_tls_peer(uint8_t *mrenclave, char *text, size_t cap)
{
    pthread_mutex_lock(&tls_lock);
    struct vouch_rt_identity id;
    vouch_err err = tls ? vouch_rt_atls_peer(tls, &id) : VOUCH_ERR_INVAL;
    memset(mrenclave, 0, 32);
    if (cap)
        text[0] = '\0';
    if (err == VOUCH_OK) {
        memcpy(mrenclave, id.measurement, 32);
        if (is_client && answered && cap)
            snprintf(text, cap, "%.*s", (int)(req_len - 2), (const char *)req + 2);
    } else if (tls && cap) {
        snprintf(text, cap, "%s", vouch_rt_atls_detail(tls));
    }
    pthread_mutex_unlock(&tls_lock);
    return err;
}

/* Once the whole request is in, writes the reply into the TLS stream. */
static vouch_err serve(void)
{
    while (!answered && vouch_rt_atls_established(tls)) {
        size_t want = req_len < 2 ? 2 : 2 + ((size_t)req[0] << 8 | req[1]);
        if (want > sizeof req)
            return VOUCH_ERR_TOO_LARGE;
        if (req_len == want && req_len >= 2) {
            struct vouch_rt_identity id;
            vouch_rt_get_identity(&id);
            char reply[2 + 256 + SAMPLE_TLS_MAX_MSG];
            int n = snprintf(reply + 2, sizeof reply - 2,
                             "enclave %02x%02x%02x%02x... (product %u, svn %u) got \"%.*s\" "
                             "over attested TLS",
                             id.measurement[0], id.measurement[1], id.measurement[2],
                             id.measurement[3], (unsigned)id.product_id, (unsigned)id.svn,
                             (int)(req_len - 2), (const char *)req + 2);
            if (n < 0 || (size_t)n >= sizeof reply - 2)
                return VOUCH_ERR_TOO_LARGE;
            reply[0] = (char)((unsigned)n >> 8);
            reply[1] = (char)(n & 0xff);
            answered = 1;
            vouch_err err = vouch_rt_atls_write(tls, reply, 2 + (size_t)n);
            if (err == VOUCH_OK)
                err = vouch_rt_atls_close(tls);
            return err;
        }
        size_t got = 0;
        vouch_err err = vouch_rt_atls_read(tls, req + req_len, want - req_len, &got);
        if (err == VOUCH_ERR_BUSY)
            return VOUCH_OK; /* the rest comes with the next relayed chunk */
        if (err != VOUCH_OK)
            return err;
        req_len += got;
    }
    return VOUCH_OK;
}

int sample_tls_io(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
    pthread_mutex_lock(&tls_lock);
    vouch_err err = VOUCH_ERR_INVAL;
    *out_len = 0;
    if (tls) {
        err = vouch_rt_atls_push(tls, in, in_len);
        vouch_err served = err != VOUCH_OK ? err : is_client ? converse() : serve();
        /* Whatever the outcome, hand out what is queued (a handshake alert
         * tells the client why). */
        size_t n = 0;
        do {
            if (vouch_rt_atls_pull(tls, out + *out_len, cap - *out_len, &n) != VOUCH_OK)
                break;
            *out_len += n;
        } while (n > 0 && *out_len < cap);
        /* A full @p out may leave records queued: the host calls again with
         * no input to take them. */
        err = served;
    }
    pthread_mutex_unlock(&tls_lock);
    return err;
}

void sample_tls_stop(void)
{
    pthread_mutex_lock(&tls_lock);
    vouch_rt_atls_free(tls);
    tls = NULL;
    pthread_mutex_unlock(&tls_lock);
}
