/*
 * Fuzz target: Vouch software TEE evidence. Parsing, the claims built from
 * whatever parses, and full verification against a fixed trusted CA (the one
 * that signed the seed corpus, tests/vectors/sim/ca.pem) at the seeds' time,
 * so the signature and chain paths are reached too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/sim.h>

#include "evidence/sim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/vectors/sim/ca.pem */
static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBoDCCAUegAwIBAgIQQFnaw7fKkeJWCshoW4yiSjAKBggqhkjOPQQDAjAgMR4w\n"
                             "HAYDVQQDDBVWb3VjaCBzb2Z0d2FyZSBURUUgQ0EwHhcNMjUxMjMxMjM1OTAwWhcN\n"
                             "MzUxMjI5MjM1OTAwWjAgMR4wHAYDVQQDDBVWb3VjaCBzb2Z0d2FyZSBURUUgQ0Ew\n"
                             "WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARlVLmpW7c6NhIxq5fU4qovQArrLMZs\n"
                             "vrRwECzVPWz5L0zP6Hj6Y6cSaICUYSua02luvQHLerpN+bH4gT4ao+M+o2MwYTAP\n"
                             "BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBhjAdBgNVHQ4EFgQU8aYM93Gf\n"
                             "ZM+4ELkUogL3xp++y+MwHwYDVR0jBBgwFoAU8aYM93GfZM+4ELkUogL3xp++y+Mw\n"
                             "CgYIKoZIzj0EAwIDRwAwRAIgZ4pZdtVk2v/vVG8p5QGvBu2cY/z64Od8IKv6YXlA\n"
                             "SH0CIGVGdypBHRKlb9jE6rVJBwhzZ4S2zNkW4+kvpL0rVBZX\n"
                             "-----END CERTIFICATE-----\n";

#define SEED_TIME 1767225600LL /* 2026-01-01T00:00:00Z, when the seeds were signed */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_x509 *ca;
    struct vouch_sim_report rep;
    json_t *claims = NULL;
    char *text = NULL;
    char why[160];

    if (!ca && vouch_x509_parse((const uint8_t *)ca_pem, sizeof(ca_pem) - 1, &ca) != VOUCH_OK)
        return 0;
    (void)vouch_sim_evidence_detect(data, size);
    if (vouch_sim_evidence_parse(data, size, &rep) == VOUCH_OK &&
        vouch__sim_claims(&rep, &claims) == VOUCH_OK &&
        vouch_json_dump(claims, 0, &text) == VOUCH_OK)
        vouch_free(text);
    json_decref(claims);
    (void)!vouch_sim_evidence_verify(data, size, &ca, 1, SEED_TIME, &rep, why, sizeof(why));
    return 0;
}
