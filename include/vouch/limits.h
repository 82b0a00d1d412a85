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

#endif
