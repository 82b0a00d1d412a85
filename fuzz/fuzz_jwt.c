/*
 * Fuzz target: JWT verification on arbitrary bytes against a fixed JWKS (one
 * EC P-256 and one RSA-2048 key; the seeds valid_*.jwt were signed by their
 * private halves, which were then discarded). Inputs that look like JSON are
 * also parsed as a JWKS, which covers the JWK and x5c readers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vouch/token.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"ec\",\"use\":\"sig\",\"crv\":\"P-256\",\"x\":\"bMCb"
    "0UCKie-jbY70L8aJJDIy89jxlcgaj-crfunq4pU\",\"y\":\"ElzJMGyaJp1UnbvAiGb189kuMMgcF0o-siHwoV"
    "kdZtc\"},{\"kty\":\"RSA\",\"kid\":\"rsa\",\"use\":\"sig\",\"n\":\"4W8mpZYayjb0_5K7x1cE5t"
    "B3rsGSqMrlkwBd7n8XlFj4tm90BvjWodrrLG_-6GhIoV3SDuqIun_wL8wdGhDDujS1Esd2OMpYwoj__jWt-AOtNs"
    "BrHZTCJGVS6-7RK1Ch7_TuDWfolPAhSbBSNkns678pdnmqcJjHGwpAm3WHHU8dJz3xDzRLzRdieYs6NnTSS1SCyM"
    "tnkd467Imh1ay-mD2524CJxbPXKsT1WGQTz6elkMEKOOCq6COjehXT-9VAWCj1bzPAw0-UC42vAnxSYCnQJBsQOd"
    "3htmezdKYy_489WafdjllJm0XalzVPsOHsWalNpE8_EEmxYIWj7zRunQ\",\"e\":\"AQAB\"}]}";

/* 2025-07-01T00:00:00Z, when the seed tokens are valid. */
#define FUZZ_NOW 1751328000

static struct vouch_jwks *jwks;

/* Invariants of every verdict: success comes with claims and no reason,
 * rejection always with a reason. */
static void check(vouch_err rc, const struct vouch_token_result *res)
{
    if (rc == VOUCH_OK && (!res->claims || !res->header || res->reason[0]))
        __builtin_trap();
    if (rc != VOUCH_OK && (!res->reason[0] || res->kid[0] || res->is_unsigned))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_token_result res;
    struct vouch_token_opts opts;

    if (!jwks && vouch_jwks_parse(fixed_jwks, strlen(fixed_jwks), &jwks, NULL, 0) != VOUCH_OK)
        __builtin_trap();
    vouch_token_opts_init(&opts, FUZZ_NOW);
    opts.issuer = "https://attest.example.com";
    check(vouch_token_verify((const char *)data, size, jwks, &opts, &res), &res);
    vouch_token_result_free(&res);
    /* The unsigned path and the no-issuer path. */
    opts.allow_unsigned = true;
    opts.issuer = NULL;
    check(vouch_token_verify((const char *)data, size, jwks, &opts, &res), &res);
    vouch_token_result_free(&res);
    if (size > 0 && data[0] == '{') {
        struct vouch_jwks *other = NULL;
        char err[256];
        if (vouch_jwks_parse((const char *)data, size, &other, err, sizeof(err)) == VOUCH_OK)
            vouch_jwks_free(other);
    }
    return 0;
}
