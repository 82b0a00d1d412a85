/*
 * The sample enclave (docs/enclave-sdk.md): the trusted half of sample.edl.
 * It greets, produces evidence binding report data the host chooses, and
 * seals and unseals secrets to its own identity. It uses only the runtime
 * (vouch/enclave_rt.h): the heap is vouch_rt_malloc, the outside world is an
 * ocall.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/enclave_rt.h>

#include "sample_t.h"

int sample_greet(const char *name, char *msg, size_t cap)
{
    struct vouch_rt_identity id;
    vouch_rt_get_identity(&id);
    char line[160];
    snprintf(line, sizeof line, "enclave: greeting %.64s", name);
    if (sample_host_print(line) != VOUCH_OK)
        return VOUCH_ERR_ENCLAVE;
    int n = snprintf(msg, cap, "Hello, %s, from enclave product %u svn %u", name,
                     (unsigned)id.product_id, (unsigned)id.svn);
    return n >= 0 && (size_t)n < cap ? VOUCH_OK : VOUCH_ERR_TOO_LARGE;
}

int sample_evidence(const uint8_t *report_data, uint8_t *ev, size_t cap, size_t *ev_len)
{
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

int sample_seal(unsigned policy, const uint8_t *secret, size_t len, uint8_t *blob, size_t cap,
                size_t *blob_len)
{
    uint8_t *b = NULL;
    size_t n = 0;
    vouch_err err = vouch_rt_seal(policy, secret, len, NULL, 0, &b, &n);
    if (err != VOUCH_OK)
        return err;
    if (n > cap) {
        err = VOUCH_ERR_TOO_LARGE;
    } else {
        memcpy(blob, b, n);
        *blob_len = n;
    }
    vouch_rt_free(b);
    return err;
}

int sample_unseal(const uint8_t *blob, size_t len, uint8_t *secret, size_t cap, size_t *secret_len)
{
    uint8_t *p = NULL;
    size_t n = 0;
    vouch_err err = vouch_rt_unseal(blob, len, NULL, 0, &p, &n);
    if (err != VOUCH_OK)
        return err;
    if (n > cap) {
        err = VOUCH_ERR_TOO_LARGE;
    } else {
        memcpy(secret, p, n);
        *secret_len = n;
    }
    /* The plaintext is a secret: clear the heap copy before freeing it. */
    memset(p, 0, n);
    __asm__ volatile("" : : "r"(p) : "memory");
    vouch_rt_free(p);
    return err;
}

void sample_ping(void)
{
}
