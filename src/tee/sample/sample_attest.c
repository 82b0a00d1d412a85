/*
 * vouch-sample-host attest: remote attestation of the sample enclave at
 * vouch-attestd's /attest/SimEnclave (docs/enclave-sdk.md, "Sample
 * application").
 *
 * The host picks runtime data (by default a small JSON document with a fresh
 * nonce), asks the enclave for evidence whose report data starts with the
 * SHA-256 of it, and posts both to the service, which checks the evidence
 * against its software TEE CA, checks that the hash of runtimeData is the
 * start of the report data (as Azure Attestation does), runs its policy and
 * returns a signed token. The token goes to stdout for `vouch token verify`;
 * what was bound goes to stderr.
 *
 * The host only relays here: the binding is made by the enclave's platform
 * agent, which signs the report data the enclave asked for together with the
 * identity the loader measured. A lying host can post other runtime data, but
 * then the hash no longer matches and the service refuses.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/httpc.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "sample_cmds.h"
#include "sample_u.h"

/* Longest runtime data or draft policy the command sends. */
#define SAMPLE_MAX_RUNTIME_DATA 4096u

static int attest_usage(void)
{
    fprintf(stderr, "usage: vouch-sample-host IMAGE attest --service URL [--cacert PEM] "
                    "[--policy FILE] [--data TEXT]\n");
    return 2;
}

/* Reads a whole text file of at most @p cap - 1 bytes into a new string. */
static char *read_text(const char *path, size_t cap)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? vouch_malloc(cap) : NULL;
    size_t n = 0;
    if (buf) {
        n = fread(buf, 1, cap - 1, f);
        if (fgetc(f) != EOF || ferror(f)) {
            vouch_free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    if (f)
        fclose(f);
    return buf;
}

static char *b64url(const uint8_t *p, size_t len)
{
    char *s = vouch_malloc(vouch_base64_encoded_len(len, true) + 1);
    if (s)
        vouch_base64_encode(p, len, true, s);
    return s;
}

/* Prints the service's refusal: its error message when the body is Azure's
 * error shape, else the start of the body. */
static void print_refusal(const struct vouch_httpc_response *r)
{
    json_t *j = NULL;
    const char *msg = NULL, *code = NULL;
    size_t len;
    if (r->body && vouch_json_parse((const char *)r->body, r->body_len, &j, NULL, 0) == VOUCH_OK) {
        json_t *e = json_object_get(j, "error");
        if (vouch_json_str(e, "message", &msg, &len) != VOUCH_OK)
            msg = NULL;
        if (vouch_json_str(e, "code", &code, &len) != VOUCH_OK)
            code = NULL;
    }
    if (msg)
        fprintf(stderr, "attest: the service refused (HTTP %ld, %s): %s\n", r->status,
                code ? code : "?", msg);
    else
        fprintf(stderr, "attest: the service refused (HTTP %ld): %.300s\n", r->status,
                r->body ? (const char *)r->body : "");
    json_decref(j);
}

int sample_cmd_attest(struct vouch_enclave *e, int argc, char **argv)
{
    const char *service = NULL, *cacert = NULL, *policy_file = NULL, *data = NULL;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return attest_usage();
        if (strcmp(argv[i], "--service") == 0)
            service = argv[i + 1];
        else if (strcmp(argv[i], "--cacert") == 0)
            cacert = argv[i + 1];
        else if (strcmp(argv[i], "--policy") == 0)
            policy_file = argv[i + 1];
        else if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else
            return attest_usage();
    }
    if (!service || strlen(service) > 1024)
        return attest_usage();

    int rc = 1, r = 0;
    char rt[SAMPLE_MAX_RUNTIME_DATA], url[1200];
    char *policy = NULL, *ev_b64 = NULL, *rt_b64 = NULL, *body = NULL;
    uint8_t *ev = vouch_malloc(VOUCH_MAX_EVIDENCE_SIZE);
    uint8_t report_data[64] = {0};
    size_t ev_len = 0;
    json_t *req = NULL;
    struct vouch_httpc_response res = {0};
    struct vouch_httpc_opts o;
    if (!ev)
        goto out;

    /* Runtime data: the caller's text, or JSON with a fresh nonce (so every
     * token is for a new report). */
    if (data) {
        if (strlen(data) >= sizeof rt) {
            fprintf(stderr, "attest: --data is longer than %u bytes\n",
                    SAMPLE_MAX_RUNTIME_DATA - 1);
            goto out;
        }
        memcpy(rt, data, strlen(data) + 1);
    } else {
        uint8_t nonce[16];
        char nonce_hex[33];
        if (vouch_random(nonce, sizeof nonce) != VOUCH_OK)
            goto out;
        vouch_hex_encode(nonce, sizeof nonce, nonce_hex);
        snprintf(rt, sizeof rt, "{\"app\":\"vouch-sample\",\"nonce\":\"%s\"}", nonce_hex);
    }
    if (vouch_sha256(rt, strlen(rt), report_data) != VOUCH_OK)
        goto out;
    char rd_hex[65];
    vouch_hex_encode(report_data, 32, rd_hex);
    fprintf(stderr,
            "attest: runtimeData %s\nattest: report_data = SHA-256(runtimeData) = %s || 0*32\n", rt,
            rd_hex);

    vouch_err t = sample_evidence(e, &r, report_data, ev, VOUCH_MAX_EVIDENCE_SIZE, &ev_len);
    if (t != VOUCH_OK || r != VOUCH_OK) {
        fprintf(stderr, "attest: the enclave gave no evidence: %s\n",
                vouch_strerror(t != VOUCH_OK                        ? t
                               : r > 0 && r < (int)VOUCH_ERR__COUNT ? (vouch_err)r
                                                                    : VOUCH_ERR_INTERNAL));
        goto out;
    }
    fprintf(stderr, "attest: %zu bytes of sim evidence from the enclave\n", ev_len);

    if (policy_file && !(policy = read_text(policy_file, VOUCH_MAX_POLICY_SIZE))) {
        fprintf(stderr, "attest: cannot read the policy %s (at most %u bytes)\n", policy_file,
                VOUCH_MAX_POLICY_SIZE - 1);
        goto out;
    }
    if (!(ev_b64 = b64url(ev, ev_len)) || !(rt_b64 = b64url((const uint8_t *)rt, strlen(rt))))
        goto out;
    req = json_pack("{s:s, s:{s:s, s:s}}", "quote", ev_b64, "runtimeData", "data", rt_b64,
                    "dataType", data ? "Binary" : "JSON");
    if (!req ||
        (policy && json_object_set_new(req, "draftPolicyForAttestation", json_string(policy)) != 0))
        goto out;
    if (vouch_json_dump(req, 0, &body) != VOUCH_OK)
        goto out;

    snprintf(url, sizeof url, "%s/attest/SimEnclave?api-version=2022-08-01", service);
    vouch_httpc_opts_init(&o);
    o.ca_file = cacert;
    vouch_err h = vouch_httpc_post(url, "application/json", body, strlen(body), &o, &res);
    if (h != VOUCH_OK) {
        fprintf(stderr, "attest: cannot reach %s: %s (%s)\n", url, vouch_strerror(h),
                res.error_detail);
        goto out;
    }
    if (res.status != 200) {
        print_refusal(&res);
        goto out;
    }
    json_t *resp = NULL;
    const char *tok;
    size_t tok_len;
    if (vouch_json_parse((const char *)res.body, res.body_len, &resp, NULL, 0) != VOUCH_OK ||
        vouch_json_str(resp, "token", &tok, &tok_len) != VOUCH_OK) {
        fprintf(stderr, "attest: the service's answer has no token\n");
        json_decref(resp);
        goto out;
    }
    printf("%.*s\n", (int)tok_len, tok);
    json_decref(resp);
    rc = 0;
out:
    vouch_httpc_response_free(&res);
    json_decref(req);
    vouch_free(body);
    vouch_free(policy);
    vouch_free(ev_b64);
    vouch_free(rt_b64);
    vouch_free(ev);
    return rc;
}
