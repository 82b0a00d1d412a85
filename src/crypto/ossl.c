/*
 * The OpenSSL error boundary. Every public crypto call clears the thread's
 * error queue first and drains it afterwards, so a failure in one caller can
 * never be misread by the next, and OpenSSL's detail reaches the debug log
 * instead of being lost.
 */
#include "crypto/crypto_int.h"

#include <openssl/err.h>
#include <vouch/log.h>

void vouch__ossl_begin(void)
{
    /* ERR_clear_error walks every slot of the queue (about 0.4 us); peeking
     * first keeps hot paths such as PCR replay from paying that each call. */
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

void vouch__ossl_drain(const char *what)
{
    const char *file = NULL;
    const char *data = NULL;
    int line = 0;
    int flags = 0;
    unsigned long e;
    char msg[256];

    while ((e = ERR_get_error_all(&file, &line, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(e, msg, sizeof(msg));
        vouch_log_debug("%s: openssl: %s (%s:%d)%s%s", what, msg, file ? file : "?", line,
                        (flags & ERR_TXT_STRING) && data ? ": " : "",
                        (flags & ERR_TXT_STRING) && data ? data : "");
    }
}

vouch_err vouch__ossl_fail(const char *what)
{
    vouch__ossl_drain(what);
    return VOUCH_ERR_CRYPTO;
}
