/* Constant-time equality: OpenSSL's CRYPTO_memcmp, whose timing depends only
 * on the length. Kept in src/crypto because only this folder may include
 * OpenSSL headers. */
#include <openssl/crypto.h>
#include <vouch/mem.h>

int vouch_ct_eq(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    return CRYPTO_memcmp(a, b, len) == 0;
}
