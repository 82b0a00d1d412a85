/*
 * Intel's DCAP certificate authorities, built in: the SGX Root CA and the
 * certificates it issued for the PCK Processor CA, the PCK Platform CA and
 * both issues of the TCB Signing certificate (2018 and 2025, same key).
 *
 * They are public, long-lived vendor trust material, like the AMD ASK/ARK in
 * amd_roots.c. Parsing an X.509 certificate costs OpenSSL 3.0 more than
 * verifying a P-256 signature, and every quote and collateral set carries the
 * same few CA certificates, so they are decoded once per process and checked
 * once: the root against the pinned fingerprint, each CA's signature by the
 * root. A chain whose certificate TEXT equals one of these uses the checked
 * object; any other certificate is parsed and verified as usual. Validity at
 * the evaluation time and revocation are still checked on every use.
 */
#include <pthread.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "evidence/dcap_int.h"

static const char *const intel_b64[] = {
    /* Intel SGX Root CA, valid from May 21 10:45:10 2018 GMT */
    "MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIwaDEaMBgGA1UEAwwRSW50ZWwg"
    "U0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkG"
    "A1UECAwCQ0ExCzAJBgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgGA1UEAwwR"
    "SW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFy"
    "YTELMAkGA1UECAwCQ0ExCzAJBgNVBAYTAlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPW"
    "sCzaEKi71OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOBuzCBuDAfBgNVHSME"
    "GDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJMEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50"
    "cnVzdGVkc2VydmljZXMuaW50ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV"
    "Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYIKoZIzj0EAwIDSQAwRgIhAOW/"
    "5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwgAiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=",
    /* Intel SGX PCK Processor CA, valid from May 21 10:50:10 2018 GMT */
    "MIICmDCCAj6gAwIBAgIVANDoqtp11/kuSReYPHsUZdDV8llNMAoGCCqGSM49BAMCMGgxGjAYBgNVBAMMEUludGVs"
    "IFNHWCBSb290IENBMRowGAYDVQQKDBFJbnRlbCBDb3Jwb3JhdGlvbjEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJ"
    "BgNVBAgMAkNBMQswCQYDVQQGEwJVUzAeFw0xODA1MjExMDUwMTBaFw0zMzA1MjExMDUwMTBaMHExIzAhBgNVBAMM"
    "GkludGVsIFNHWCBQQ0sgUHJvY2Vzc29yIENBMRowGAYDVQQKDBFJbnRlbCBDb3Jwb3JhdGlvbjEUMBIGA1UEBwwL"
    "U2FudGEgQ2xhcmExCzAJBgNVBAgMAkNBMQswCQYDVQQGEwJVUzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABL9q"
    "+NMp2IOgtdl1bk/uWZ5+TGQm8aCi8z78fs+fKCQ3d+uDzXnVTAT2ZhDCifyIuJwvN3wNBp9iHBSSMJMJrBOjgbsw"
    "gbgwHwYDVR0jBBgwFoAUImUM1lqdNInzg7SVUr9QGzknBqwwUgYDVR0fBEswSTBHoEWgQ4ZBaHR0cHM6Ly9jZXJ0"
    "aWZpY2F0ZXMudHJ1c3RlZHNlcnZpY2VzLmludGVsLmNvbS9JbnRlbFNHWFJvb3RDQS5kZXIwHQYDVR0OBBYEFNDo"
    "qtp11/kuSReYPHsUZdDV8llNMA4GA1UdDwEB/wQEAwIBBjASBgNVHRMBAf8ECDAGAQH/AgEAMAoGCCqGSM49BAMC"
    "A0gAMEUCIQCJgTbtVqOyZ1m3jqiAXM6QYa6r5sWS4y/G7y8uIJGxdwIgRqPvBSKzzQagBLQq5s5A70pdoiaRJ8z/"
    "0uDz4NgV91k=",
    /* Intel SGX PCK Platform CA, valid from May 21 10:50:10 2018 GMT */
    "MIICljCCAj2gAwIBAgIVAJVvXc29G+HpQEnJ1PQzzgFXC95UMAoGCCqGSM49BAMCMGgxGjAYBgNVBAMMEUludGVs"
    "IFNHWCBSb290IENBMRowGAYDVQQKDBFJbnRlbCBDb3Jwb3JhdGlvbjEUMBIGA1UEBwwLU2FudGEgQ2xhcmExCzAJ"
    "BgNVBAgMAkNBMQswCQYDVQQGEwJVUzAeFw0xODA1MjExMDUwMTBaFw0zMzA1MjExMDUwMTBaMHAxIjAgBgNVBAMM"
    "GUludGVsIFNHWCBQQ0sgUGxhdGZvcm0gQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtT"
    "YW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYTAlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENSB/"
    "7t21lXSO2Cuzpxw74eJB72EyDGgW5rXCtx2tVTLq6hKk6z+UiRZCnqR7psOvgqFeSxlmTlJleTmi2WYz3qOBuzCB"
    "uDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJMEegRaBDhkFodHRwczovL2NlcnRp"
    "ZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUlW9d"
    "zb0b4elAScnU9DPOAVcL3lQwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQAwCgYIKoZIzj0EAwID"
    "RwAwRAIgXsVki0w+i6VYGW3UF/22uaXe0YJDj1UenA+TjD1ai5cCICYb1SAmD5xkfTVpvo4UoyiSYxrDWLmUR4CI"
    "9NKyfPN+",
    /* Intel SGX TCB Signing, valid from May 21 10:50:10 2018 GMT */
    "MIICizCCAjKgAwIBAgIUfjiC1ftVKUpASY5FhAPpFJG99FUwCgYIKoZIzj0EAwIwaDEaMBgGA1UEAwwRSW50ZWwg"
    "U0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkG"
    "A1UECAwCQ0ExCzAJBgNVBAYTAlVTMB4XDTE4MDUyMTEwNTAxMFoXDTI1MDUyMTEwNTAxMFowbDEeMBwGA1UEAwwV"
    "SW50ZWwgU0dYIFRDQiBTaWduaW5nMRowGAYDVQQKDBFJbnRlbCBDb3Jwb3JhdGlvbjEUMBIGA1UEBwwLU2FudGEg"
    "Q2xhcmExCzAJBgNVBAgMAkNBMQswCQYDVQQGEwJVUzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABENFG8xzydWR"
    "fK92bmGvP+mAh91PEyV7Jh6FGJd5ndE9aBH7R3E4A7ubrlh/zN3C4xvpoouGlirMba+W2ljuypajgbUwgbIwHwYD"
    "VR0jBBgwFoAUImUM1lqdNInzg7SVUr9QGzknBqwwUgYDVR0fBEswSTBHoEWgQ4ZBaHR0cHM6Ly9jZXJ0aWZpY2F0"
    "ZXMudHJ1c3RlZHNlcnZpY2VzLmludGVsLmNvbS9JbnRlbFNHWFJvb3RDQS5kZXIwHQYDVR0OBBYEFH44gtX7VSlK"
    "QEmORYQD6RSRvfRVMA4GA1UdDwEB/wQEAwIGwDAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0cAMEQCIB9C8wOA"
    "N/ImxDtGACV246KcqjagZOR0kyctyBrsGGJVAiAjftbrNGsGU8YH211dRiYNoPPu19Zp/ze8JmhujB0oBw==",
    /* Intel SGX TCB Signing, valid from May  6 09:25:00 2025 GMT */
    "MIICjTCCAjKgAwIBAgIUfjiC1ftVKUpASY5FhAPpFJG99FUwCgYIKoZIzj0EAwIwaDEaMBgGA1UEAwwRSW50ZWwg"
    "U0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkG"
    "A1UECAwCQ0ExCzAJBgNVBAYTAlVTMB4XDTI1MDUwNjA5MjUwMFoXDTMyMDUwNjA5MjUwMFowbDEeMBwGA1UEAwwV"
    "SW50ZWwgU0dYIFRDQiBTaWduaW5nMRowGAYDVQQKDBFJbnRlbCBDb3Jwb3JhdGlvbjEUMBIGA1UEBwwLU2FudGEg"
    "Q2xhcmExCzAJBgNVBAgMAkNBMQswCQYDVQQGEwJVUzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABENFG8xzydWR"
    "fK92bmGvP+mAh91PEyV7Jh6FGJd5ndE9aBH7R3E4A7ubrlh/zN3C4xvpoouGlirMba+W2ljuypajgbUwgbIwHwYD"
    "VR0jBBgwFoAUImUM1lqdNInzg7SVUr9QGzknBqwwUgYDVR0fBEswSTBHoEWgQ4ZBaHR0cHM6Ly9jZXJ0aWZpY2F0"
    "ZXMudHJ1c3RlZHNlcnZpY2VzLmludGVsLmNvbS9JbnRlbFNHWFJvb3RDQS5kZXIwHQYDVR0OBBYEFH44gtX7VSlK"
    "QEmORYQD6RSRvfRVMA4GA1UdDwEB/wQEAwIGwDAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0kAMEYCIQDdmmRu"
    "Ao3qCO8TC1IoJMITAoOEw4dlgEBHzSz1TuMSTAIhAKVTqOkt59+co0O3m3hC+v5Fb00FjYWcgeu3EijOULo5",
};

#define N_INTEL (sizeof(intel_b64) / sizeof(intel_b64[0]))

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct vouch_x509 *intel[N_INTEL]; /* NULL where a certificate failed its check */

static void init(void)
{
    struct vouch_x509 *root = NULL;

    for (size_t i = 0; i < N_INTEL; i++) {
        uint8_t *der = NULL, fp[VOUCH_SHA256_LEN];
        size_t der_len = 0;
        struct vouch_x509 *x = NULL;

        if (vouch_base64_decode(intel_b64[i], strlen(intel_b64[i]), false, &der, &der_len) !=
                VOUCH_OK ||
            vouch_x509_parse_der(der, der_len, &x) != VOUCH_OK) {
            vouch_free(der);
            continue;
        }
        vouch_free(der);
        vouch_x509_fingerprint(x, fp);
        if (i == 0) {
            if (!vouch_ct_eq(fp, vouch__intel_root_fp, sizeof(fp))) {
                vouch_x509_free(x);
                continue;
            }
            root = x;
        } else if (!root || !vouch_x509_issued_by_name(x, root) ||
                   vouch_x509_verify_signed_by(x, root) != VOUCH_OK) {
            vouch_x509_free(x);
            continue;
        }
        intel[i] = x;
    }
    if (!root)
        vouch_log_warn("built-in Intel certificates unavailable; parsing every chain in full");
}

struct vouch_x509 *vouch__intel_cert_find(const char *b64, size_t len)
{
    pthread_once(&once, init);
    for (size_t i = 0; i < N_INTEL; i++) {
        /* Compared as text: the same text always decodes to the same DER. */
        if (intel[i] && strlen(intel_b64[i]) == len && memcmp(intel_b64[i], b64, len) == 0)
            return vouch_x509_ref(intel[i]);
    }
    return NULL;
}

bool vouch__intel_cert_checked(const struct vouch_x509 *x)
{
    pthread_once(&once, init);
    for (size_t i = 1; i < N_INTEL; i++) {
        if (intel[i] && intel[i] == x)
            return true;
    }
    return false;
}
