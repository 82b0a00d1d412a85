/*
 * Certificate issuance for locally rooted identities: the software TEE's CA
 * and platform certificates (sim.h) and attested TLS certificates (atls.h).
 * Unlike vouch_pkey_self_signed_cert (pkey.h), a certificate may be issued by
 * another key and certificate, for any public key, and may carry one extra
 * non-critical extension (the attestation evidence of atls.h).
 *
 * Time is an input: validity is given by the caller.
 */
#ifndef VOUCH_CERTGEN_H
#define VOUCH_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/pkey.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_cert_issue_spec {
    const char *subject_cn; /* 1..64 characters */
    int64_t not_before;     /* Unix seconds */
    int64_t not_after;      /* Unix seconds, > not_before */
    bool ca;                /* basicConstraints CA:TRUE, keyCertSign */
    bool tls_server;        /* extendedKeyUsage serverAuth */
    bool tls_client;        /* extendedKeyUsage clientAuth */
    /* Optional extra non-critical extension: dotted OID and the bytes that go
     * inside its extnValue OCTET STRING. */
    const char *ext_oid;
    const uint8_t *ext_value;
    size_t ext_len;
};

/**
 * Issues an X.509 v3 certificate for @p subject signed by @p issuer_key
 * (ECDSA or RSA with SHA-256) with a random 128-bit serial, subject key
 * identifier and, from @p issuer (NULL for a self-signed certificate, where
 * @p issuer_key must be the subject's key), the issuer name and authority key
 * identifier. Returns the DER (free with vouch_free).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_cert_issue(const struct vouch_pubkey *subject,
                                                     const struct vouch_pkey *issuer_key,
                                                     const struct vouch_x509 *issuer,
                                                     const struct vouch_cert_issue_spec *spec,
                                                     uint8_t **der_out, size_t *der_len_out);

/* vouch_pubkey_spki_der (the DER SubjectPublicKeyInfo of a key) is in crypto.h. */
/** SHA-256 over the DER SubjectPublicKeyInfo of @p c's subject key. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_x509_spki_sha256(const struct vouch_x509 *c,
                                                           uint8_t out[VOUCH_SHA256_LEN]);

#ifdef __cplusplus
}
#endif
#endif
