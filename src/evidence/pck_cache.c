/*
 * A small process-wide cache of parsed PCK leaf certificates whose signature
 * by a given PCK CA has been verified. OpenSSL 3.0 spends more time decoding
 * a certificate (~110 µs) than verifying a P-256 signature, and a verifier
 * sees the same platforms again and again, so this is the collateral cache's
 * natural companion. The key is SHA-256 of the certificate's exact encoding,
 * and the entry remembers WHICH CA key verified it (that CA's fingerprint):
 * a hit proves nothing beyond "these exact bytes were signed by that CA".
 * Validity at the evaluation time, the CRL lookup, the names and everything
 * else are still checked on every verification.
 */
#include <pthread.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "evidence/dcap_int.h"

struct slot {
    bool used;
    uint8_t key[VOUCH_SHA256_LEN];
    uint8_t ca_fp[VOUCH_SHA256_LEN];
    struct vouch_x509 *leaf;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[VOUCH_PCK_LEAF_CACHE_SLOTS];
static size_t next_victim;

struct vouch_x509 *vouch__pck_cache_get(const uint8_t key[VOUCH_SHA256_LEN],
                                        const uint8_t ca_fp[VOUCH_SHA256_LEN])
{
    struct vouch_x509 *hit = NULL;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < VOUCH_PCK_LEAF_CACHE_SLOTS; i++) {
        if (slots[i].used && memcmp(slots[i].key, key, VOUCH_SHA256_LEN) == 0 &&
            memcmp(slots[i].ca_fp, ca_fp, VOUCH_SHA256_LEN) == 0) {
            hit = vouch_x509_ref(slots[i].leaf);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

void vouch__pck_cache_put(const uint8_t key[VOUCH_SHA256_LEN],
                          const uint8_t ca_fp[VOUCH_SHA256_LEN], struct vouch_x509 *leaf)
{
    struct slot *s;
    struct vouch_x509 *old = NULL;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < VOUCH_PCK_LEAF_CACHE_SLOTS; i++) {
        if (slots[i].used && memcmp(slots[i].key, key, VOUCH_SHA256_LEN) == 0 &&
            memcmp(slots[i].ca_fp, ca_fp, VOUCH_SHA256_LEN) == 0) {
            pthread_mutex_unlock(&lock);
            return;
        }
    }
    s = &slots[next_victim];
    next_victim = (next_victim + 1) % VOUCH_PCK_LEAF_CACHE_SLOTS;
    old = s->used ? s->leaf : NULL;
    s->used = true;
    memcpy(s->key, key, VOUCH_SHA256_LEN);
    memcpy(s->ca_fp, ca_fp, VOUCH_SHA256_LEN);
    s->leaf = vouch_x509_ref(leaf);
    pthread_mutex_unlock(&lock);
    vouch_x509_free(old);
}
