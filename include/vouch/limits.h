/*
 * Every size limit in Vouch, in one place. Untrusted input is checked against
 * these before any allocation or copy; a value over a limit is rejected with
 * VOUCH_ERR_TOO_LARGE. Each limit states why it has the value it has.
 */
#ifndef VOUCH_LIMITS_H
#define VOUCH_LIMITS_H

/* Largest evidence blob we accept (quote, report). Real DCAP quotes are ~5 KiB
 * and configfs-tsm caps outblob at 32 KiB; 64 KiB leaves room for padding. */
#define VOUCH_MAX_EVIDENCE_SIZE (64u * 1024u)

/* DCAP certification data (PEM PCK chain). Real chains are ~3.7 KiB. */
#define VOUCH_MAX_CERT_DATA_SIZE (32u * 1024u)

/* QE authentication data. Intel's QE emits 32 bytes; the field is u16. */
#define VOUCH_MAX_QE_AUTH_DATA_SIZE 1024u

/* Certificates in one chain (leaf, intermediates, root). Intel uses 3. */
#define VOUCH_MAX_CHAIN_DEPTH 8u

/* One DER certificate or CRL. Intel's PCK Platform CA CRL is ~3 KiB today;
 * a CRL can grow with revocations, so leave generous room. */
#define VOUCH_MAX_CERT_SIZE (16u * 1024u)
#define VOUCH_MAX_CRL_SIZE  (1024u * 1024u)

/* Collateral JSON file (all objects together). Real files are 14–24 KiB plus
 * hex CRLs. */
#define VOUCH_MAX_COLLATERAL_SIZE (4u * 1024u * 1024u)

/* Signed TCB Info / QE Identity body. Real bodies are 0.5–5 KiB. */
#define VOUCH_MAX_TCB_INFO_SIZE (256u * 1024u)

/* TCB levels in one TCB Info or identity; real ones have < 40. */
#define VOUCH_MAX_TCB_LEVELS 256u

/* TDX module identities in one TCB Info. */
#define VOUCH_MAX_TDX_MODULE_IDENTITIES 32u

/* Advisory IDs kept per result (union of platform, QE and module). */
#define VOUCH_MAX_ADVISORIES   64u
#define VOUCH_MAX_ADVISORY_LEN 32u

/* Nesting depth for DER we decode by hand (PCK extension) and for JSON. */
#define VOUCH_MAX_DER_DEPTH  8u
#define VOUCH_MAX_JSON_DEPTH 32u

/* Any JSON document we parse (bodies, collateral). */
#define VOUCH_MAX_JSON_SIZE (4u * 1024u * 1024u)

/* Files the CLI reads in one go. */
#define VOUCH_MAX_FILE_SIZE (16u * 1024u * 1024u)

/* A log line; longer lines are truncated, never overflowed. */
#define VOUCH_MAX_LOG_LINE 2048u

/* Error detail kept in a verification result. */
#define VOUCH_MAX_ERROR_DETAIL 256u

/* Policy language (src/policy). A policy is text an administrator uploads;
 * MAA's published policies are < 2 KiB, so 64 KiB is generous. The counts
 * bound the parse tree and make evaluation cost predictable. */
#define VOUCH_MAX_POLICY_SIZE       (64u * 1024u)
#define VOUCH_MAX_POLICY_RULES      512u  /* all sections together */
#define VOUCH_MAX_POLICY_CONDITIONS 16u   /* conditions joined by && in one rule */
#define VOUCH_MAX_POLICY_TESTS      16u   /* property tests inside one [...] */
#define VOUCH_MAX_POLICY_EXPR_DEPTH 8u    /* nesting of function calls */
#define VOUCH_MAX_POLICY_STRING     4096u /* one string literal, after unescaping */

/* Claims seen by the policy engine. A DCAP quote yields ~30 claims and a TPM
 * event log a few hundred; every set (incoming, working, issued, properties)
 * is capped at VOUCH_MAX_CLAIMS. Values may carry JSON text (x-ms-runtime). */
#define VOUCH_MAX_CLAIMS          1024u
#define VOUCH_MAX_CLAIM_TYPE_LEN  256u
#define VOUCH_MAX_CLAIM_VALUE_LEN (64u * 1024u)

/* Evaluation budget. Bindings make a condition cost |claims| x |values bound|,
 * so a hostile policy could be quadratic; each comparison (plus one step per
 * 256 bytes compared) and each function call costs a step. A real policy uses
 * a few thousand. Strings made by functions share one memory cap. */
#define VOUCH_MAX_POLICY_STEPS       1000000u
#define VOUCH_MAX_POLICY_EVAL_MEMORY (8u * 1024u * 1024u)

/* Attestation tokens (src/token). A real MAA SGX token is ~5 KiB; TPM tokens
 * carry an x5c chain in the header and policy tokens embed a whole policy, so
 * the compact form is capped at 256 KiB and the decoded header at 64 KiB. */
#define VOUCH_MAX_TOKEN_SIZE      (256u * 1024u)
#define VOUCH_MAX_JWS_HEADER_SIZE (64u * 1024u)
/* A JWKS document. MAA's /certs is ~27 KiB with four keys (each with an x5c
 * certificate of up to ~5.5 KiB); 1 MiB and 64 keys leave room for rollover. */
#define VOUCH_MAX_JWKS_SIZE (1024u * 1024u)
#define VOUCH_MAX_JWKS_KEYS 64u
/* Certificates in one x5c array; MAA's longest chain has three. */
#define VOUCH_MAX_X5C_CERTS 8u
/* A kid; MAA's are 27 or 44 characters, an RFC 7638 thumbprint is 43. */
#define VOUCH_MAX_KID_LEN 256u
/* RSA moduli accepted for JWT signatures: below 2048 bits is refused as weak
 * (MAA still lists an RSA-1024 key, which is therefore unusable); above 8192
 * bits only costs verification time. */
#define VOUCH_MIN_RSA_BITS 2048u
#define VOUCH_MAX_RSA_BITS 8192u
/* A private key file (PEM). RSA-8192 PKCS#8 PEM is ~6.3 KiB. */
#define VOUCH_MAX_KEY_FILE_SIZE (64u * 1024u)
/* Subject alternative names in a certificate we create. */
#define VOUCH_MAX_CERT_SANS 32u

/* Parsed, chained AMD VCEKs kept per process (SEV-SNP). A verifier sees few
 * platforms; each slot holds one certificate (~3 KiB with OpenSSL's copy). */
#define VOUCH_SNP_VCEK_CACHE_SLOTS 32u

/* HTTP request body: an attest request carries a ~5 KiB quote (base64 ~7 KiB)
 * plus runtime data and optionally a draft policy; 1 MiB is ample. */
#define VOUCH_MAX_HTTP_BODY (1024u * 1024u)

/* HTTP response body built by a handler (tokens are a few KiB). */
#define VOUCH_MAX_HTTP_RESPONSE (4u * 1024u * 1024u)

/* Query string parameter values we decode. */
#define VOUCH_MAX_QUERY_VALUE 256u

/* Concurrent connections per worker; further accepts wait in the backlog. */
#define VOUCH_MAX_HTTP_CONNECTIONS 4096u

/* EC public keys built from raw X||Y kept per process (crypto/sig.c): a DCAP
 * quote's attestation key is the same for every quote of a platform, and
 * OpenSSL 3.0 spends ~20 us building one (a fresh EC group each time). */
#define VOUCH_EC_PUBKEY_CACHE_SLOTS 64u

/* Parsed, signature-checked PCK leaf certificates kept per process (DCAP).
 * Keyed by the exact certificate bytes and the verifying CA; one per platform. */
#define VOUCH_PCK_LEAF_CACHE_SLOTS 64u

/* HTTP client (src/http/client.c): the largest response body we read. The
 * biggest thing fetched is a PCK CRL (VOUCH_MAX_CRL_SIZE) or a JWKS
 * (VOUCH_MAX_JWKS_SIZE); TCB Info bodies are < 10 KiB. */
#define VOUCH_MAX_HTTPC_RESPONSE (4u * 1024u * 1024u)
/* One kept response header value (an issuer chain: two URL-encoded PEM
 * certificates are ~2.5 KiB). */
#define VOUCH_MAX_HTTPC_HEADER (64u * 1024u)
/* An OpenID discovery document; MAA's is ~1 KiB. */
#define VOUCH_MAX_OPENID_CONFIG_SIZE (64u * 1024u)
/* The attestation service's base URL given to the TPM agent (`vouch tpm
 * attest --service`), before the endpoint path is appended. */
#define VOUCH_MAX_AGENT_URL 1024u

/* Intel collateral fetched from a PCS/PCCS and kept per process by
 * vouch-attestd, one slot per (TEE, FMSPC, PCK CA). A service sees a handful
 * of platform models; each parsed set is ~100 KiB. */
#define VOUCH_PCS_CACHE_SLOTS 64u

/* TPM 2.0 evidence (src/evidence/tpm_*.c). Marshalled TPMS_ATTEST,
 * TPMT_SIGNATURE and TPM2B/TPMT_PUBLIC structures are 72-316 bytes in the real
 * vectors; the largest form libtss2 can represent (an NV certify attestation)
 * is about 2.3 KiB, so 4 KiB bounds any of them. */
#define VOUCH_MAX_TPM_STRUCT_SIZE 4096u
/* PCR banks in one quote selection or one set of PCR values. PC Client TPMs
 * have at most sha1/sha256/sha384/sha512/sm3; libtss2 allows 16. */
#define VOUCH_MAX_TPM_PCR_BANKS 8u
/* Quote nonce (extraData, a TPM2B_DATA): the TPM caps it at 64 bytes. */
#define VOUCH_MAX_TPM_NONCE 64u
/* TCG boot event log. Real logs are 15-50 KiB (a few hundred events); servers
 * with many option ROMs and Windows logs run to a few hundred KiB. */
#define VOUCH_MAX_TPM_LOG_SIZE   (4u * 1024u * 1024u)
#define VOUCH_MAX_TPM_LOG_EVENTS 16384u
/* One event's data. The largest real events are dbx variables (23 KiB in
 * gdc-host); go-attestation keeps a regression test with eventSize ~3.18 GB. */
#define VOUCH_MAX_TPM_EVENT_SIZE (1024u * 1024u)
/* Algorithms in a Spec ID event table, and so digests in one event. TCG
 * defines eight hash algorithms a PC Client log may carry; real logs have 1-3. */
#define VOUCH_MAX_TPM_LOG_ALGS 8u
/* A PCR values file (text or JSON): 8 banks x 24 PCRs x ~150 characters. */
#define VOUCH_MAX_TPM_PCRS_SIZE (64u * 1024u)
/* Nesting of Windows boot configuration (SIPA) containers in one event;
 * Windows nests two levels deep. */
#define VOUCH_MAX_TPM_SIPA_DEPTH 8u
/* /attest/Tpm (src/attestd/tpm.c). Round-2 contexts consumed and not yet
 * expired (5 minutes each): 64 Ki covers ~200 attestations/s per replica;
 * beyond it round 2 answers 503 rather than forget a consumed context. */
#define VOUCH_MAX_TPM_REPLAY_SET 65536u
/* Lines of --tpm-ak-allow / --tpm-ek-allow, and certificates in a roots file. */
#define VOUCH_MAX_TPM_ALLOW_NAMES 4096u
#define VOUCH_MAX_TPM_ROOTS       256u
/* custom_claims entries in one request. */
#define VOUCH_MAX_TPM_CUSTOM_CLAIMS 32u

/* EDL interface files (src/tee/edl.c, vouch-edger8r). Real EDL files are a
 * few KiB with tens of functions of a handful of parameters each; the limits
 * leave two orders of magnitude of room. */
#define VOUCH_MAX_EDL_SIZE         (1024u * 1024u)
#define VOUCH_MAX_EDL_IDENT        128u  /* bytes in one identifier */
#define VOUCH_MAX_EDL_FUNCS        1024u /* functions per trusted/untrusted section */
#define VOUCH_MAX_EDL_PARAMS       32u   /* parameters of one function */
#define VOUCH_MAX_EDL_INCLUDES     32u   /* include "..." lines */
#define VOUCH_MAX_EDL_INCLUDE_PATH 256u  /* bytes in one include path */
/* One generated stub file: the largest interface the limits above allow
 * (2 x 1024 functions x 32 pointer parameters) needs well under this. */
#define VOUCH_MAX_EDL_OUTPUT (256u * 1024u * 1024u)
/* One marshalled ecall/ocall buffer (either direction), and so any single
 * [in]/[out] parameter. Stubs refuse larger calls before they are sent, and
 * enclave-side stubs refuse declared lengths above it before allocating. */
#define VOUCH_MAX_ENCLAVE_CALL_BYTES (64u * 1024u * 1024u)

/* Signed enclave images (src/tee/image.c). A sample enclave .so is ~20 KiB;
 * one that links a TLS library statically is a few MiB, so 64 MiB is ample
 * and bounds what the signer and the loader read into memory. */
#define VOUCH_MAX_ENCLAVE_SO_SIZE    (64u * 1024u * 1024u)
#define VOUCH_MAX_ENCLAVE_IMAGE_SIZE (VOUCH_MAX_ENCLAVE_SO_SIZE + 64u * 1024u)
/* Program headers in the .so: gcc/ld emit 9-13; PN_XNUM (0xffff) is refused. */
#define VOUCH_MAX_ENCLAVE_PHDRS 64u
/* PT_LOAD segments: ld -z separate-code emits 4. */
#define VOUCH_MAX_ENCLAVE_LOAD_SEGMENTS 16u
/* Sum of the PT_LOAD p_memsz: what loading the code reserves. */
#define VOUCH_MAX_ENCLAVE_MEMORY (1024u * 1024u * 1024u)
/* Signed configuration. The heap is one mmap reserved before the sandbox
 * closes (like SGX NumHeapPages: Open Enclave's sample uses 4 MiB); the stack
 * is per enclave thread (glibc's PTHREAD_STACK_MIN is 16 KiB); the thread
 * count is like NumTCS, and each thread is one channel slot. */
#define VOUCH_MIN_ENCLAVE_HEAP_SIZE  (64u * 1024u)
#define VOUCH_MAX_ENCLAVE_HEAP_SIZE  (16ull * 1024u * 1024u * 1024u)
#define VOUCH_MIN_ENCLAVE_STACK_SIZE (16u * 1024u)
#define VOUCH_MAX_ENCLAVE_STACK_SIZE (256u * 1024u * 1024u)
#define VOUCH_MAX_ENCLAVE_THREADS    64u
/* The signer's SubjectPublicKeyInfo in an image (P-256 SPKI is 91 bytes; room
 * for RSA-8192 should another algorithm be added) and the signature. */
#define VOUCH_MAX_ENCLAVE_SPKI_SIZE 2048u
#define VOUCH_MAX_ENCLAVE_SIG_SIZE  (VOUCH_MAX_RSA_BITS / 8u)
/* The signing configuration JSON. */
#define VOUCH_MAX_ENCLAVE_CONFIG_JSON (64u * 1024u)

/* configfs-tsm (src/tee/tsm.c). The kernel caps outblob and auxblob at
 * TSM_OUTBLOB_MAX = 32 KiB and inblob at 64 bytes; a provider name is a short
 * word ("sev_guest", "tdx_guest"). */
#define VOUCH_MAX_TSM_BLOB     (32u * 1024u)
#define VOUCH_MAX_TSM_PROVIDER 64u
#define VOUCH_MAX_TSM_PATH     4096u

/* Sealing (include/vouch/seal.h). One sealed secret; the ciphertext length
 * field is 32-bit and enclave call buffers are bounded by the same size. */
#define VOUCH_MAX_SEAL_PLAINTEXT (64u * 1024u * 1024u)
/* Caller-supplied additional authenticated data for one seal/unseal. */
#define VOUCH_MAX_SEAL_AAD (64u * 1024u)
/* A TLS client certificate's subject as logged (RFC 2253 text, truncated). */
#define VOUCH_TLS_MAX_SUBJECT 255u
/* Attested TLS (include/vouch/atls.h): the evidence extension of a peer
 * certificate; the whole certificate is bounded by VOUCH_MAX_CERT_SIZE. */
#define VOUCH_MAX_ATLS_EVIDENCE VOUCH_MAX_CERT_SIZE
/* Longest lifetime of an attested TLS certificate: short, because its key lives
 * only as long as the enclave and its evidence is as fresh as its signing. */
#define VOUCH_ATLS_CERT_MAX_LIFETIME (24 * 3600)
/* Attested TLS over memory buffers (include/vouch/atls_mem.h): peer bytes
 * pushed but not yet consumed by the TLS engine. A little above the largest
 * TLS record (16 KiB plus overhead) times a few records in flight. */
#define VOUCH_MAX_ATLS_MEM_PENDING (256u * 1024u)

#endif
