/*
 * Client certificates on server TLS connections (see vouch/tls.h).
 *
 * The TLS library's user (libh2o) creates and drives the SSL objects and does
 * not hand them out, so a connection is named by its transport object: the
 * pointer such a transport stores as the data of the BIO it gives OpenSSL
 * (libh2o stores its h2o_socket_t there and reads it back the same way in its
 * own callbacks). When a handshake completes, the SSL object is filed under
 * that pointer; the entry goes when OpenSSL frees the SSL object, which the
 * transport does before it frees itself, so a transport object reallocated at
 * the same address never finds a stale entry. Anything unexpected (no entry)
 * reads as "no verified certificate": the lookup fails closed.
 */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>
#include <vouch/tls.h>

#include "crypto/crypto_int.h"

#define PEER_BUCKETS 1024u

struct peer {
    struct peer *next;
    SSL *ssl;
    const void *transport;
    bool checked; /* the fields below are filled on the first lookup */
    bool verified;
    char subject[VOUCH_TLS_MAX_SUBJECT + 1];
    char fingerprint[2 * VOUCH_SHA256_LEN + 1];
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ex_index = -1;
/* Live tracked connections by transport pointer. Each worker thread touches
 * only its own connections, but the buckets are shared, hence the lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct peer *buckets[PEER_BUCKETS];

static size_t bucket_of(const void *t)
{
    uintptr_t v = (uintptr_t)t;
    return (size_t)((v >> 4) ^ (v >> 14)) % PEER_BUCKETS;
}

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct peer *p = ptr, **pp;

    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (!p)
        return;
    pthread_mutex_lock(&lock);
    for (pp = &buckets[bucket_of(p->transport)]; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    vouch_free(p);
}

static void register_index(void)
{
    ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_free);
}

bool vouch_tls_peer_tracking_init(void)
{
    pthread_once(&once, register_index);
    return ex_index >= 0;
}

void vouch_tls_peer_on_info(const SSL *ssl_const, int where, int ret)
{
    SSL *ssl = (SSL *)ssl_const; /* OpenSSL's callback type is const; ex_data needs the object */
    BIO *bio;
    struct peer *p;
    size_t b;

    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_DONE) || ex_index < 0 || SSL_get_ex_data(ssl, ex_index))
        return;
    if (!(bio = SSL_get_rbio(ssl)) || !BIO_get_data(bio))
        return;
    if (!(p = vouch_calloc(1, sizeof(*p))))
        return;
    p->ssl = ssl;
    p->transport = BIO_get_data(bio);
    if (SSL_set_ex_data(ssl, ex_index, p) != 1) {
        vouch_free(p);
        return;
    }
    b = bucket_of(p->transport);
    pthread_mutex_lock(&lock);
    p->next = buckets[b];
    buckets[b] = p;
    pthread_mutex_unlock(&lock);
}

/* Fills the cached fields of @p p from its handshake (lock held). */
static void peer_check(struct peer *p)
{
    X509 *c = SSL_get0_peer_certificate(p->ssl);
    uint8_t md[VOUCH_SHA256_LEN];
    unsigned md_len = 0;
    BIO *b;

    p->checked = true;
    if (!c)
        return;
    /* The verify callback lets every handshake finish; the verdict on the
     * chain is read here. */
    p->verified = SSL_get_verify_result(p->ssl) == X509_V_OK;
    if (X509_digest(c, EVP_sha256(), md, &md_len) == 1 && md_len == sizeof(md))
        vouch_hex_encode(md, sizeof(md), p->fingerprint);
    if ((b = BIO_new(BIO_s_mem())) != NULL) {
        if (X509_NAME_print_ex(b, X509_get_subject_name(c), 0, XN_FLAG_RFC2253) >= 0) {
            int n = BIO_read(b, p->subject, (int)VOUCH_TLS_MAX_SUBJECT);
            p->subject[n > 0 ? n : 0] = 0;
        }
        BIO_free(b);
    }
}

bool vouch_tls_peer_get(const void *transport, struct vouch_tls_peer *out)
{
    struct peer *p;

    memset(out, 0, sizeof(*out));
    if (!transport)
        return false;
    pthread_mutex_lock(&lock);
    for (p = buckets[bucket_of(transport)]; p; p = p->next)
        if (p->transport == transport)
            break;
    if (p) {
        if (!p->checked)
            peer_check(p);
        out->has_cert = p->fingerprint[0] != 0;
        out->verified = p->verified && out->has_cert;
        memcpy(out->subject, p->subject, sizeof(out->subject));
        memcpy(out->fingerprint, p->fingerprint, sizeof(out->fingerprint));
    }
    pthread_mutex_unlock(&lock);
    return p != NULL;
}
