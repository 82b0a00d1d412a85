/*
 * /attest/Tpm: Azure Attestation's multi-round TPM protocol. Placeholder until
 * the TPM flow lands; answers with MAA's error shape.
 */
#include "attestd/attestd_int.h"

void attestd_attest_tpm(struct attestd *d, const struct vouch_http_request *req,
                        struct vouch_http_response *res)
{
    (void)d;
    (void)req;
    attestd_error(res, 400, "InvalidParameter", "attestation type Tpm is not available yet");
}
