/*
 * The sample enclave's attested TLS server (docs/enclave-sdk.md, "Sample
 * application"): the TLS end is inside the enclave, the host only relays the
 * records (sample_tls.c). One connection at a time.
 *
 * The application protocol inside TLS is one request and one reply, each a
 * big-endian u16 length and that many bytes: the enclave answers a greeting
 * naming the start of its own measurement, so the client sees the text came
 * from the enclave it verified.
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

int sample_tls_start(const char *common_name)
{
    pthread_mutex_lock(&tls_lock);
    vouch_err err = VOUCH_ERR_BUSY;
    if (!tls) {
        req_len = 0;
        answered = 0;
        err = vouch_rt_atls_server_new(common_name, SAMPLE_TLS_LIFETIME, &tls);
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
        vouch_err served = err == VOUCH_OK ? serve() : err;
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
