/*
 * `vouch tpm attest|extend|ak`: the TPM agent (docs/tpm.md).
 *
 * attest runs the two rounds of the attestation service's TPM protocol
 * (docs/tpm.md): round 1 asks for a challenge (in the clear for the
 * AK-certificate and pre-registered paths, or sealed to the EK and AK by
 * MakeCredential for EK activation); round 2 sends a JWS signed by a fresh
 * request key whose payload carries the event log, the AK, the PCR values
 * and a quote whose qualifyingData binds the request key to the challenge:
 * SHA-256(JWK thumbprint || 0x00 || challenge). The token that comes back
 * names the request key in cnf.
 *
 * extend replays a TCG event log into the TPM's PCRs, so a software TPM
 * holds the PCR values of the machine that wrote the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/httpc.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/token.h>
#include <vouch/tpm.h>

#include "cli/cli.h"
#include "cli/tpm_agent.h"
#include "cli/tpm_attest.h"

/* The service's TPM endpoint and protocol version (Azure's). */
#define ATTEST_PATH "/attest/Tpm?api-version=2022-08-01"
/* A challenge is 32 bytes; a credential (TPM2B_DIGEST) and a quote's
 * qualifyingData are at most 64. */
#define MAX_CHALLENGE VOUCH_MAX_TPM_NONCE

static const char *const attest_value_opts[] = {
    "--tcti",        "--service",      "--cacert",  "--log",   "--pcrs",
    "--ak-cert",     "--ak-handle",    "--rp-data", "--rp-id", "--request-key",
    "--save-round2", "--test-corrupt", NULL};
static const char *const attest_flag_opts[] = {"--ek-activation", "--ak-ecc", "--ak-under-ek",
                                               "--ek-ecc",        "--json",   NULL};
static const char *const extend_value_opts[] = {"--tcti", NULL};
static const char *const extend_flag_opts[] = {"--json", NULL};
static const char *const ak_value_opts[] = {"--tcti", "--ak-handle", NULL};
static const char *const ak_flag_opts[] = {"--ak-ecc", "--ek", "--ek-ecc", "--json", NULL};

void cli_tpm_agent_usage(FILE *f)
{
    fprintf(
        f,
        "       vouch tpm attest --tcti TCTI --service URL --log LOG [--cacert PEM]\n"
        "                        [--pcrs BANK:LIST[+BANK:LIST]] [--ek-activation | --ak-cert DER]\n"
        "                        [--ak-handle 0x81... | --ak-under-ek] [--ak-ecc] [--ek-ecc]\n"
        "                        [--request-key rsa|ec] [--rp-data B64URL] [--rp-id ID] [--json]\n"
        "       vouch tpm extend --tcti TCTI LOG [--json]\n"
        "       vouch tpm ak --tcti TCTI [--ak-handle 0x81...] [--ak-ecc] [--json]\n"
        "       vouch tpm ak --tcti TCTI --ek [--ek-ecc] [--json]\n"
        "\n"
        "attest runs the attestation service's TPM protocol against the TPM at TCTI\n"
        "(e.g. swtpm:host=127.0.0.1,port=2321 or device:/dev/tpmrm0) and prints the token\n"
        "(with --json: its claims, decoded but not verified; use 'vouch token verify').\n"
        "AK trust: --ek-activation proves the AK shares a TPM with the EK (EK at\n"
        "0x81010001, certificate from NV 0x01c00002); --ak-cert sends the AK's certificate;\n"
        "otherwise the service must have the AK Name pre-registered (development only).\n"
        "The AK is the persistent key at --ak-handle, or an endorsement-hierarchy primary\n"
        "(RSA-2048 RSASSA-SHA256, or P-256 ECDSA with --ak-ecc) that is the same on every\n"
        "run; --ak-under-ek instead creates a fresh AK under the EK (TPM2_Create, as\n"
        "tpm2_createak; needs --ek-activation). --ek-ecc uses the ECC P-256 EK (0x81010002,\n"
        "certificate from NV 0x01c0000a) instead of the RSA one.\n"
        "ak --ek prints the EK's Name (or with --json its public area and SPKI) to\n"
        "pre-register it (vouch-attestd --tpm-ek-allow).\n"
        "--pcrs defaults to sha256:0-7. The request key (cnf) is a fresh RSA-2048\n"
        "(PS256, default) or P-256 (ES256) key.\n"
        "Testing only: --save-round2 FILE writes the round-2 request body;\n"
        "--test-corrupt nonce|challenge sends a quote over a wrong challenge, or a wrong\n"
        "challenge.\n"
        "extend replays LOG's events into the TPM's PCRs (every bank both have), so a fresh\n"
        "software TPM holds the PCRs of the machine that wrote the log. For a log with a\n"
        "StartupLocality event L > 0, extend runs TPM2_Startup itself from locality L, so\n"
        "the TPM must not be started yet (swtpm: --locality allow-set-locality, no\n"
        "startup-clear flag).\n"
        "ak prints the AK's Name (hex), the value to pre-register with --tpm-ak-allow.\n");
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

/* Every "--" argument must be known, value options need a value, and there
 * must be exactly @p want_pos positional arguments. A typo must not silently
 * change what is attested. */
static bool args_ok(int argc, char **argv, const char *const *value_opts,
                    const char *const *flag_opts, int want_pos)
{
    int pos = 0;

    for (int i = 3; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (in_list(argv[i], value_opts)) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "vouch: %s needs a value\n", argv[i]);
                    return false;
                }
                i++;
            } else if (!in_list(argv[i], flag_opts)) {
                fprintf(stderr, "vouch: unknown option '%s'\n", argv[i]);
                return false;
            }
            continue;
        }
        pos++;
    }
    if (pos != want_pos) {
        fprintf(stderr, "vouch: expected %d positional argument%s\n", want_pos,
                want_pos == 1 ? "" : "s");
        return false;
    }
    return true;
}

/* ---- small helpers ---- */

/* base64url (no padding) of @p len bytes as a new JSON string. */
static json_t *b64url_json(const uint8_t *p, size_t len)
{
    size_t n = vouch_base64_encoded_len(len, true);
    char *s = vouch_malloc(n + 1);
    json_t *j;

    if (!s)
        return NULL;
    vouch_base64_encode(p, len, true, s);
    j = json_stringn(s, n);
    vouch_free(s);
    return j;
}

/* Decodes the base64url string member @p key of @p o into at most @p max
 * bytes (a new buffer). */
static vouch_err b64url_member(const json_t *o, const char *key, size_t max, uint8_t **out,
                               size_t *len)
{
    const char *s;
    size_t sl;
    vouch_err rc;

    *out = NULL;
    *len = 0;
    if ((rc = vouch_json_str(o, key, &s, &sl)) != VOUCH_OK)
        return rc;
    if ((rc = vouch_base64_decode(s, sl, true, out, len)) != VOUCH_OK)
        return rc;
    if (*len > max) {
        vouch_wipe(*out, *len);
        vouch_free(*out);
        *out = NULL;
        *len = 0;
        return VOUCH_ERR_TOO_LARGE;
    }
    return VOUCH_OK;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || !end || end == s || *end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Parses "sha256:0,1,2-7+sha1:0-7" (tpm2-tools' syntax, with ranges) into
 * banks in the order given. */
static bool parse_pcr_spec(const char *spec, struct vouch_tpm_pcr_select *sel, size_t *n)
{
    const char *p = spec;

    *n = 0;
    while (*p) {
        const char *colon = strchr(p, ':');
        const char *end = strchr(p, '+');
        uint16_t alg;
        uint32_t mask = 0;

        if (!end)
            end = p + strlen(p);
        if (!colon || colon > end || *n >= VOUCH_MAX_TPM_PCR_BANKS)
            return false;
        if (!(alg = vouch_tpm_hash_from_name(p, (size_t)(colon - p))))
            return false;
        for (size_t i = 0; i < *n; i++) {
            if (sel[i].alg == alg)
                return false;
        }
        p = colon + 1;
        while (p < end) {
            char *e = NULL;
            unsigned long lo, hi;

            lo = strtoul(p, &e, 10);
            if (e == p || lo >= VOUCH_TPM_NUM_PCRS)
                return false;
            hi = lo;
            p = e;
            if (*p == '-') {
                hi = strtoul(p + 1, &e, 10);
                if (e == p + 1 || hi >= VOUCH_TPM_NUM_PCRS || hi < lo)
                    return false;
                p = e;
            }
            for (unsigned long i = lo; i <= hi; i++)
                mask |= 1u << i;
            if (p < end && *p != ',')
                return false;
            if (p < end)
                p++;
        }
        if (!mask)
            return false;
        sel[*n].alg = alg;
        sel[*n].mask = mask;
        (*n)++;
        p = *end ? end + 1 : end;
        if (*p == 0 && *end == '+')
            return false;
    }
    return *n > 0;
}

/* Writes @p len bytes to a new file @p path with mode 0600. */
static bool write_private_file(const char *path, const char *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t off = 0;
    bool ok = true;

    if (fd < 0) {
        fprintf(stderr, "vouch: %s: %s\n", path, strerror(errno));
        return false;
    }
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = false;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "vouch: %s: write failed\n", path);
    return ok;
}

/* ---- the HTTP rounds ---- */

struct session {
    char url[VOUCH_MAX_AGENT_URL + sizeof(ATTEST_PATH)];
    struct vouch_httpc_opts http;
    const char *save_round2; /* testing: where to write the round-2 body */
};

/* Prints the service's refusal: MAA's {"error":{"code","message"}} when it
 * has that shape, else the raw status. */
static void print_refusal(int round, const struct vouch_httpc_response *r)
{
    json_t *doc = NULL;
    const json_t *e;
    const char *code = NULL, *msg = NULL;
    size_t cl = 0, ml = 0;

    if (r->body &&
        vouch_json_parse((const char *)r->body, r->body_len, &doc, NULL, 0) == VOUCH_OK &&
        (e = json_object_get(doc, "error")) && vouch_json_str(e, "code", &code, &cl) == VOUCH_OK &&
        vouch_json_str(e, "message", &msg, &ml) == VOUCH_OK) {
        fprintf(stderr, "vouch: the service refused round %d: %ld %.*s: %.*s\n", round, r->status,
                (int)(cl > 200 ? 200 : cl), code, (int)(ml > 1000 ? 1000 : ml), msg);
    } else {
        fprintf(stderr, "vouch: the service refused round %d: HTTP %ld\n", round, r->status);
    }
    json_decref(doc);
}

/* POSTs {"data": b64url(@p msg)} and returns the decoded JSON of the
 * answer's "data". */
static vouch_err round_trip(const struct session *s, int round, const json_t *msg, json_t **out)
{
    struct vouch_httpc_response r;
    char *text = NULL;
    char *body = NULL;
    json_t *wrap = NULL;
    json_t *data = NULL;
    json_t *doc = NULL;
    uint8_t *dec = NULL;
    size_t dec_len = 0;
    char jerr[160];
    vouch_err rc;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    rc = VOUCH_ERR_NOMEM;
    if (vouch_json_dump(msg, JSON_COMPACT, &text) != VOUCH_OK ||
        !(data = b64url_json((const uint8_t *)text, strlen(text))) ||
        !(wrap = json_pack("{s:O}", "data", data)) ||
        vouch_json_dump(wrap, JSON_COMPACT, &body) != VOUCH_OK)
        goto out;
    if (round == 2 && s->save_round2 && !write_private_file(s->save_round2, body, strlen(body))) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    rc = vouch_httpc_post(s->url, "application/json", body, strlen(body), &s->http, &r);
    if (rc != VOUCH_OK) {
        fprintf(stderr, "vouch: round %d: %s\n", round, r.error_detail);
        goto out;
    }
    if (r.status != 200) {
        print_refusal(round, &r);
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    rc = VOUCH_ERR_PARSE;
    if (!r.body ||
        vouch_json_parse((const char *)r.body, r.body_len, &doc, jerr, sizeof(jerr)) != VOUCH_OK ||
        b64url_member(doc, "data", VOUCH_MAX_JSON_SIZE, &dec, &dec_len) != VOUCH_OK) {
        fprintf(stderr, "vouch: round %d: the answer is not {\"data\": base64url}\n", round);
        goto out;
    }
    json_decref(doc);
    doc = NULL;
    if (vouch_json_parse((const char *)dec, dec_len, &doc, jerr, sizeof(jerr)) != VOUCH_OK ||
        !json_is_object(doc)) {
        fprintf(stderr, "vouch: round %d: the answer's data is not a JSON object\n", round);
        goto out;
    }
    *out = doc;
    doc = NULL;
    rc = VOUCH_OK;
out:
    vouch_httpc_response_free(&r);
    vouch_free(text);
    vouch_free(body);
    vouch_free(dec);
    json_decref(wrap);
    json_decref(data);
    json_decref(doc);
    return rc;
}

/* ---- keys ---- */

/* The AK's public key, from its TPM2B_PUBLIC. */
static vouch_err ak_key(const struct tpm_agent_blob *ak_pub, struct vouch_pubkey **out)
{
    struct vouch_tpm_public *p = vouch_calloc(1, sizeof(*p));
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    if (!p)
        return rc;
    if ((rc = vouch_tpm_public_parse(ak_pub->b, ak_pub->len, p)) == VOUCH_OK)
        rc = vouch_tpm_public_key(p, out);
    vouch_free(p);
    return rc;
}

/* The AK's public key as a JWK (aik_pub). */
static vouch_err ak_jwk(const struct tpm_agent_blob *ak_pub, json_t **out)
{
    struct vouch_pubkey *k = NULL;
    vouch_err rc;

    *out = NULL;
    if ((rc = ak_key(ak_pub, &k)) == VOUCH_OK)
        rc = vouch_pkey_pub_to_jwk(k, out);
    vouch_pubkey_free(k);
    return rc;
}

/* The AK's DER SubjectPublicKeyInfo (what an AK certificate carries and
 * aikPubHash hashes). */
static vouch_err ak_spki(const struct tpm_agent_blob *ak_pub, uint8_t **der, size_t *len)
{
    struct vouch_pubkey *k = NULL;
    vouch_err rc;

    *der = NULL;
    *len = 0;
    if ((rc = ak_key(ak_pub, &k)) == VOUCH_OK)
        rc = vouch_pubkey_spki_der(k, der, len);
    vouch_pubkey_free(k);
    return rc;
}

/* qualifyingData = SHA-256(RFC 7638 thumbprint of the request key's JWK ||
 * 0x00 || challenge): the quote then vouches for this key and this
 * challenge together. */
static vouch_err qualifying_data(const struct vouch_pubkey *req_pub, const uint8_t *challenge,
                                 size_t challenge_len, uint8_t out[VOUCH_SHA256_LEN])
{
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    uint8_t *thumb = NULL;
    size_t thumb_len = 0;
    struct vouch_hash_ctx *h = NULL;
    const uint8_t zero = 0;
    vouch_err rc;

    if ((rc = vouch_token_kid(req_pub, kid)) != VOUCH_OK ||
        (rc = vouch_base64_decode(kid, strlen(kid), true, &thumb, &thumb_len)) != VOUCH_OK)
        goto out;
    if (thumb_len != VOUCH_SHA256_LEN) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    if ((rc = vouch_hash_init(VOUCH_HASH_SHA256, &h)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, thumb, thumb_len)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, &zero, 1)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, challenge, challenge_len)) != VOUCH_OK)
        goto out;
    rc = vouch_hash_final(h, out);
    h = NULL;
out:
    vouch_hash_ctx_free(h);
    vouch_free(thumb);
    return rc;
}

/* A compact JWS over @p payload: header {"alg", "typ":"attReqV2"}, no kid
 * (signing proves possession of the key the payload names). */
static vouch_err sign_request(const struct vouch_pkey *key, enum vouch_sig_alg alg,
                              const json_t *payload, char **out)
{
    json_t *hdr = json_pack("{s:s,s:s}", "alg", vouch_sig_alg_name(alg), "typ", "attReqV2");
    char *htext = NULL, *ptext = NULL, *input = NULL;
    uint8_t sig[VOUCH_SIG_MAX_LEN];
    size_t sig_len = 0, hl, pl, il, sl;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    if (!hdr || vouch_json_dump(hdr, JSON_COMPACT, &htext) != VOUCH_OK ||
        vouch_json_dump(payload, JSON_COMPACT, &ptext) != VOUCH_OK)
        goto out;
    hl = vouch_base64_encoded_len(strlen(htext), true);
    pl = vouch_base64_encoded_len(strlen(ptext), true);
    sl = vouch_base64_encoded_len(sizeof(sig), true);
    il = hl + 1 + pl;
    if (!(input = vouch_malloc(il + 1 + sl + 1)))
        goto out;
    vouch_base64_encode((const uint8_t *)htext, strlen(htext), true, input);
    input[hl] = '.';
    vouch_base64_encode((const uint8_t *)ptext, strlen(ptext), true, input + hl + 1);
    if ((rc = vouch_pkey_sign(key, alg, input, il, sig, sizeof(sig), &sig_len)) != VOUCH_OK)
        goto out;
    input[il] = '.';
    vouch_base64_encode(sig, sig_len, true, input + il + 1);
    *out = input;
    input = NULL;
    rc = VOUCH_OK;
out:
    json_decref(hdr);
    vouch_free(htext);
    vouch_free(ptext);
    vouch_free(input);
    return rc;
}

/* The decoded (unverified) claims of a compact JWT. */
static vouch_err token_claims(const char *tok, json_t **out)
{
    const char *d1 = strchr(tok, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    uint8_t *p = NULL;
    size_t pl = 0;
    vouch_err rc = VOUCH_ERR_PARSE;

    *out = NULL;
    if (!d2)
        return rc;
    if (vouch_base64_decode(d1 + 1, (size_t)(d2 - d1 - 1), true, &p, &pl) == VOUCH_OK)
        rc = vouch_json_parse((const char *)p, pl, out, NULL, 0);
    vouch_free(p);
    return rc;
}

/* ---- round 2 ---- */

struct attest_state {
    struct tpm_agent *tpm;
    struct tpm_agent_blob ak_pub, ak_name;
    struct vouch_pkey *req_key;
    struct vouch_pubkey *req_pub;
    enum vouch_sig_alg req_alg;
    struct vouch_tpm_pcr_select sel[VOUCH_MAX_TPM_PCR_BANKS];
    size_t n_sel;
    uint8_t *log;
    size_t log_len;
    uint8_t *ak_cert;
    size_t ak_cert_len;
    const char *rp_data;
    const char *rp_id;
    const char *corrupt; /* testing: "nonce" or "challenge" */
};

/* [{"algorithm": alg, "values": [{"index", "digest"}]}] in selection order. */
static json_t *pcrs_json(const struct attest_state *st, const struct vouch_tpm_pcrs *v)
{
    json_t *arr = json_array();

    for (size_t b = 0; arr && b < st->n_sel; b++) {
        const struct vouch_tpm_pcr_bank *bank = vouch_tpm_pcrs_bank(v, st->sel[b].alg);
        size_t dl = vouch_tpm_digest_len(st->sel[b].alg);
        json_t *vals = json_array();

        if (!bank || !vals ||
            json_array_append_new(arr, json_pack("{s:i,s:o}", "algorithm", (int)st->sel[b].alg,
                                                 "values", vals)) != 0) {
            json_decref(arr);
            return NULL;
        }
        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
            if (!(st->sel[b].mask & (1u << i)))
                continue;
            if (!(bank->mask & (1u << i)) ||
                json_array_append_new(vals, json_pack("{s:i,s:o}", "index", (int)i, "digest",
                                                      b64url_json(bank->values[i], dl))) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
    }
    return arr;
}

static vouch_err build_request(struct attest_state *st, const uint8_t *challenge, size_t clen,
                               const char *service_context, char **jws)
{
    uint8_t qd[VOUCH_SHA256_LEN];
    uint8_t sent[MAX_CHALLENGE];
    uint8_t quoted[MAX_CHALLENGE];
    struct tpm_agent_blob quote, sig;
    struct vouch_tpm_pcrs *values = vouch_calloc(1, sizeof(*values));
    json_t *jwk = NULL, *akjwk = NULL, *cur = NULL, *att = NULL, *payload = NULL;
    json_t *pcrs = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *jws = NULL;
    if (!values)
        return rc;
    memcpy(sent, challenge, clen);
    memcpy(quoted, challenge, clen);
    /* Negative tests: a quote over another challenge (the service must find
     * extraData wrong), or a request naming another challenge than the one
     * its context holds. */
    if (st->corrupt && strcmp(st->corrupt, "nonce") == 0)
        quoted[0] ^= 0x01;
    if (st->corrupt && strcmp(st->corrupt, "challenge") == 0)
        sent[0] ^= 0x01;
    if ((rc = qualifying_data(st->req_pub, quoted, clen, qd)) != VOUCH_OK) {
        fprintf(stderr, "vouch: cannot compute the quote's qualifying data: %s\n",
                vouch_strerror(rc));
        goto out;
    }
    if ((rc = tpm_agent_quote(st->tpm, st->sel, st->n_sel, qd, sizeof(qd), &quote, &sig, values)) !=
        VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", tpm_agent_error(st->tpm));
        goto out;
    }
    if ((rc = vouch_pkey_pub_to_jwk(st->req_pub, &jwk)) != VOUCH_OK ||
        (rc = ak_jwk(&st->ak_pub, &akjwk)) != VOUCH_OK) {
        fprintf(stderr, "vouch: cannot express a key as a JWK: %s\n", vouch_strerror(rc));
        goto out;
    }
    rc = VOUCH_ERR_NOMEM;
    if (!(pcrs = pcrs_json(st, values)))
        goto out;
    /* "o" steals pcrs, also when the pack fails. */
    cur = json_pack("{s:[{s:s,s:o}],s:O,s:o,s:o,s:o,s:o}", "logs", "type", "TCG", "log",
                    b64url_json(st->log, st->log_len), "aik_pub", akjwk, "aik_public",
                    b64url_json(st->ak_pub.b, st->ak_pub.len), "pcrs", pcrs, "quote",
                    b64url_json(quote.b, quote.len), "signature", b64url_json(sig.b, sig.len));
    if (!cur)
        goto out;
    if (st->ak_cert &&
        json_object_set_new(cur, "aik_cert", b64url_json(st->ak_cert, st->ak_cert_len)) != 0)
        goto out;
    att = json_pack("{s:o,s:s,s:{s:O,s:{s:{s:s}}},s:{s:O},s:[]}", "challenge",
                    b64url_json(sent, clen), "service_context", service_context, "request_key",
                    "jwk", jwk, "info", "tpm_quote", "hash_alg", "sha-256", "tpm_att_data",
                    "current_attestation", cur, "custom_claims");
    if (!att)
        goto out;
    if (st->rp_data && json_object_set_new(att, "rp_data", json_string(st->rp_data)) != 0)
        goto out;
    if (st->rp_id && json_object_set_new(att, "rp_id", json_string(st->rp_id)) != 0)
        goto out;
    if (!(payload = json_pack("{s:s,s:O}", "att_type", "basic", "att_data", att)))
        goto out;
    if ((rc = sign_request(st->req_key, st->req_alg, payload, jws)) != VOUCH_OK)
        fprintf(stderr, "vouch: cannot sign the request: %s\n", vouch_strerror(rc));
out:
    vouch_wipe(sent, sizeof(sent));
    vouch_wipe(quoted, sizeof(quoted));
    vouch_free(values);
    json_decref(jwk);
    json_decref(akjwk);
    json_decref(cur);
    json_decref(att);
    json_decref(payload);
    return rc;
}

/* ---- attest ---- */

int cli_tpm_attest(int argc, char **argv)
{
    const char *tcti = cli_opt(argc, argv, 3, "--tcti", 1);
    const char *service = cli_opt(argc, argv, 3, "--service", 1);
    const char *cacert = cli_opt(argc, argv, 3, "--cacert", 1);
    const char *log_path = cli_opt(argc, argv, 3, "--log", 1);
    const char *pcr_spec = cli_opt(argc, argv, 3, "--pcrs", 1);
    const char *ak_cert = cli_opt(argc, argv, 3, "--ak-cert", 1);
    const char *ak_handle = cli_opt(argc, argv, 3, "--ak-handle", 1);
    const char *req_type = cli_opt(argc, argv, 3, "--request-key", 1);
    const char *rp_data = cli_opt(argc, argv, 3, "--rp-data", 1);
    bool ekcred = cli_opt(argc, argv, 3, "--ek-activation", 0) != NULL;
    bool ak_ecc = cli_opt(argc, argv, 3, "--ak-ecc", 0) != NULL;
    bool ak_under_ek = cli_opt(argc, argv, 3, "--ak-under-ek", 0) != NULL;
    bool ek_ecc = cli_opt(argc, argv, 3, "--ek-ecc", 0) != NULL;
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct attest_state st;
    struct session s;
    struct tpm_agent_blob ek_pub;
    uint8_t *ek_cert = NULL, *rp_bytes = NULL, *blob = NULL, *secret = NULL;
    size_t ek_cert_len = 0, rp_len = 0, blob_len = 0, secret_len = 0;
    uint8_t *challenge = NULL;
    size_t clen = 0;
    uint8_t credential[MAX_CHALLENGE];
    uint32_t handle = 0;
    json_t *msg = NULL, *ans = NULL, *claims = NULL;
    const json_t *payload;
    const char *ctx = NULL, *token = NULL;
    size_t ctx_len = 0, token_len = 0, base_len;
    char *jws = NULL;
    char err[256];
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    memset(&st, 0, sizeof(st));
    memset(&s, 0, sizeof(s));
    st.rp_id = cli_opt(argc, argv, 3, "--rp-id", 1);
    st.corrupt = cli_opt(argc, argv, 3, "--test-corrupt", 1);
    s.save_round2 = cli_opt(argc, argv, 3, "--save-round2", 1);
    if (!args_ok(argc, argv, attest_value_opts, attest_flag_opts, 0) || !tcti || !service ||
        !log_path) {
        fprintf(stderr, "vouch: tpm attest needs --tcti, --service and --log\n");
        goto out;
    }
    if (ekcred && ak_cert) {
        fprintf(stderr, "vouch: --ek-activation and --ak-cert are two different AK trust paths\n");
        goto out;
    }
    /* A fresh AK under the EK has a new Name every run: no certificate or
     * registration can name it, only credential activation vouches for it. */
    if ((ak_under_ek || ek_ecc) && !ekcred) {
        fprintf(stderr, "vouch: --ak-under-ek and --ek-ecc need --ek-activation\n");
        goto out;
    }
    if (ak_under_ek && ak_handle) {
        fprintf(stderr, "vouch: --ak-under-ek creates the AK: it does not take --ak-handle\n");
        goto out;
    }
    if (st.corrupt && strcmp(st.corrupt, "nonce") != 0 && strcmp(st.corrupt, "challenge") != 0) {
        fprintf(stderr, "vouch: --test-corrupt takes nonce or challenge\n");
        goto out;
    }
    if (ak_handle && (!parse_u32(ak_handle, &handle) || handle < TPM_AGENT_PERSISTENT_FIRST ||
                      handle > TPM_AGENT_PERSISTENT_LAST)) {
        fprintf(stderr, "vouch: --ak-handle must be a persistent handle (0x81000000-0x81ffffff)\n");
        goto out;
    }
    if (!parse_pcr_spec(pcr_spec ? pcr_spec : "sha256:0-7", st.sel, &st.n_sel)) {
        fprintf(stderr, "vouch: --pcrs: expected BANK:LIST[+BANK:LIST], e.g. sha256:0-7,14\n");
        goto out;
    }
    if (!req_type || strcmp(req_type, "rsa") == 0) {
        st.req_alg = VOUCH_SIG_PS256;
    } else if (strcmp(req_type, "ec") == 0) {
        st.req_alg = VOUCH_SIG_ES256;
    } else {
        fprintf(stderr, "vouch: --request-key takes rsa or ec\n");
        goto out;
    }
    if (rp_data) {
        if (vouch_base64_decode(rp_data, strlen(rp_data), true, &rp_bytes, &rp_len) != VOUCH_OK) {
            fprintf(stderr, "vouch: --rp-data must be base64url\n");
            goto out;
        }
        st.rp_data = rp_data;
    }
    if (strlen(service) > VOUCH_MAX_AGENT_URL ||
        (strncmp(service, "https://", 8) != 0 && strncmp(service, "http://", 7) != 0)) {
        fprintf(stderr, "vouch: --service must be an http(s) URL of at most %u characters\n",
                VOUCH_MAX_AGENT_URL);
        goto out;
    }
    /* The base URL without query, fragment or trailing slashes. */
    base_len = strcspn(service, "?#");
    while (base_len > 0 && service[base_len - 1] == '/')
        base_len--;
    memcpy(s.url, service, base_len);
    memcpy(s.url + base_len, ATTEST_PATH, sizeof(ATTEST_PATH));
    vouch_httpc_opts_init(&s.http);
    s.http.ca_file = cacert;
    if (cli_read_file(log_path, &st.log, &st.log_len) != VOUCH_OK ||
        (ak_cert && cli_read_file(ak_cert, &st.ak_cert, &st.ak_cert_len) != VOUCH_OK))
        goto out;
    if (st.log_len > VOUCH_MAX_TPM_LOG_SIZE) {
        fprintf(stderr, "vouch: %s: an event log is at most %u bytes\n", log_path,
                VOUCH_MAX_TPM_LOG_SIZE);
        goto out;
    }

    ret = VOUCH_EXIT_NO;
    if ((rc = tpm_agent_open(tcti, &st.tpm, err, sizeof(err))) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", err);
        goto out;
    }
    /* The EK first: an AK under the EK needs it as its parent. */
    if (ekcred) {
        if (tpm_agent_load_ek_type(st.tpm, ek_ecc ? TPM_AGENT_EK_ECC : TPM_AGENT_EK_RSA, &ek_pub) !=
            VOUCH_OK) {
            fprintf(stderr, "vouch: %s\n", tpm_agent_error(st.tpm));
            goto out;
        }
        rc = tpm_agent_ek_cert(st.tpm, &ek_cert, &ek_cert_len);
        if (rc != VOUCH_OK && rc != VOUCH_ERR_NOT_FOUND) {
            fprintf(stderr, "vouch: %s\n", tpm_agent_error(st.tpm));
            goto out;
        }
    }
    if ((ak_under_ek ? tpm_agent_create_ak(st.tpm, ak_ecc ? TPM_AGENT_AK_ECC : TPM_AGENT_AK_RSA,
                                           &st.ak_pub, &st.ak_name)
                     : tpm_agent_load_ak(st.tpm, ak_ecc ? TPM_AGENT_AK_ECC : TPM_AGENT_AK_RSA,
                                         handle, &st.ak_pub, &st.ak_name)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", tpm_agent_error(st.tpm));
        goto out;
    }
    if ((rc = vouch_pkey_generate(st.req_alg == VOUCH_SIG_ES256 ? VOUCH_PKEY_EC_P256
                                                                : VOUCH_PKEY_RSA_2048,
                                  &st.req_key)) != VOUCH_OK ||
        (rc = vouch_pkey_public(st.req_key, &st.req_pub)) != VOUCH_OK) {
        fprintf(stderr, "vouch: cannot make the request key: %s\n", vouch_strerror(rc));
        goto out;
    }

    /* Round 1. */
    if (ekcred) {
        msg = json_pack("{s:{s:s,s:o,s:o}}", "payload", "type", "ekcred", "ek_pub",
                        b64url_json(ek_pub.b, ek_pub.len), "ak_pub",
                        b64url_json(st.ak_pub.b, st.ak_pub.len));
        if (msg && ek_cert &&
            json_object_set_new(json_object_get(msg, "payload"), "ek_cert",
                                b64url_json(ek_cert, ek_cert_len)) != 0) {
            json_decref(msg);
            msg = NULL;
        }
    } else {
        msg = json_pack("{s:{s:s}}", "payload", "type", "aikcert");
    }
    if (!msg) {
        fprintf(stderr, "vouch: out of memory\n");
        goto out;
    }
    if (round_trip(&s, 1, msg, &ans) != VOUCH_OK)
        goto out;
    if (!(payload = json_object_get(ans, "payload")) || !json_is_object(payload) ||
        vouch_json_str(payload, "service_context", &ctx, &ctx_len) != VOUCH_OK) {
        fprintf(stderr, "vouch: round 1: the answer has no payload.service_context\n");
        goto out;
    }
    if (ekcred) {
        if (b64url_member(payload, "credential_blob", TPM_AGENT_MAX_STRUCT, &blob, &blob_len) !=
                VOUCH_OK ||
            b64url_member(payload, "encrypted_secret", TPM_AGENT_MAX_STRUCT, &secret,
                          &secret_len) != VOUCH_OK) {
            fprintf(stderr, "vouch: round 1: the answer has no credential_blob and "
                            "encrypted_secret\n");
            goto out;
        }
        if (tpm_agent_activate(st.tpm, blob, blob_len, secret, secret_len, credential,
                               sizeof(credential), &clen) != VOUCH_OK) {
            fprintf(stderr, "vouch: %s\n", tpm_agent_error(st.tpm));
            goto out;
        }
        if (clen == 0) {
            fprintf(stderr, "vouch: the activated credential is empty\n");
            goto out;
        }
        if (!(challenge = vouch_malloc(clen))) {
            fprintf(stderr, "vouch: out of memory\n");
            goto out;
        }
        memcpy(challenge, credential, clen);
    } else if (b64url_member(payload, "challenge", MAX_CHALLENGE, &challenge, &clen) != VOUCH_OK ||
               clen == 0) {
        fprintf(stderr, "vouch: round 1: the answer has no usable challenge\n");
        goto out;
    }

    /* Round 2. */
    if (build_request(&st, challenge, clen, ctx, &jws) != VOUCH_OK)
        goto out;
    json_decref(msg);
    msg = json_pack("{s:{s:s}}", "payload", "request", jws);
    if (!msg) {
        fprintf(stderr, "vouch: out of memory\n");
        goto out;
    }
    json_decref(ans);
    ans = NULL;
    if (round_trip(&s, 2, msg, &ans) != VOUCH_OK)
        goto out;
    /* attestation-service.md §1.6: {"report": JWT}; a payload wrapper as in
     * the other rounds is accepted too. */
    payload = json_object_get(ans, "payload");
    if (vouch_json_str(ans, "report", &token, &token_len) != VOUCH_OK &&
        (!payload || vouch_json_str(payload, "report", &token, &token_len) != VOUCH_OK)) {
        fprintf(stderr, "vouch: round 2: the answer has no report\n");
        goto out;
    }
    if (as_json) {
        if (token_claims(token, &claims) != VOUCH_OK) {
            fprintf(stderr, "vouch: the report is not a JWT\n");
            goto out;
        }
        cli_print_json(claims);
    } else {
        printf("%.*s\n", (int)token_len, token);
    }
    ret = VOUCH_EXIT_OK;
out:
    vouch_wipe(credential, sizeof(credential));
    if (challenge) {
        vouch_wipe(challenge, clen);
        vouch_free(challenge);
    }
    tpm_agent_close(st.tpm);
    vouch_pkey_free(st.req_key);
    vouch_pubkey_free(st.req_pub);
    vouch_free(st.log);
    vouch_free(st.ak_cert);
    vouch_free(ek_cert);
    vouch_free(rp_bytes);
    vouch_free(blob);
    vouch_free(secret);
    vouch_free(jws);
    json_decref(msg);
    json_decref(ans);
    json_decref(claims);
    return ret;
}

/* ---- extend ---- */

int cli_tpm_extend(int argc, char **argv)
{
    const char *tcti = cli_opt(argc, argv, 3, "--tcti", 1);
    const char *path = cli_positional(argc, argv, 3, extend_value_opts);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct tpm_agent *tpm = NULL;
    struct vouch_tpm_log log;
    struct vouch_tpm_pcrs *now = NULL;
    struct vouch_tpm_pcr_select sel[VOUCH_MAX_TPM_PCR_BANKS];
    uint16_t tpm_banks[VOUCH_MAX_TPM_PCR_BANKS];
    uint16_t banks[VOUCH_MAX_TPM_PCR_BANKS];
    size_t n_tpm = 0, n_banks = 0, n_ext = 0;
    uint32_t touched = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[256];
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    memset(&log, 0, sizeof(log));
    if (!args_ok(argc, argv, extend_value_opts, extend_flag_opts, 1) || !tcti || !path) {
        fprintf(stderr, "vouch: usage: vouch tpm extend --tcti TCTI LOG [--json]\n");
        return VOUCH_EXIT_USAGE;
    }
    if (cli_read_file(path, &buf, &len) != VOUCH_OK)
        return VOUCH_EXIT_USAGE;
    ret = VOUCH_EXIT_NO;
    if ((rc = vouch_tpm_log_parse(buf, len, &log)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s: not a valid TCG event log: %s\n", path, vouch_strerror(rc));
        goto out;
    }
    /* A platform that started its TPM from locality L (H-CRTM, TXT, Boot
     * Guard) left PCR0 at 00..0L: start the TPM the same way. */
    if ((rc = tpm_agent_open_at(tcti, log.startup_locality > 0 ? (unsigned)log.startup_locality : 0,
                                &tpm, err, sizeof(err))) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", err);
        goto out;
    }
    if (tpm_agent_banks(tpm, tpm_banks, VOUCH_MAX_TPM_PCR_BANKS, &n_tpm) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", tpm_agent_error(tpm));
        goto out;
    }
    for (size_t i = 0; i < n_tpm; i++) {
        if (vouch_tpm_digest_len(tpm_banks[i]) && vouch_tpm_log_has_bank(&log, tpm_banks[i]))
            banks[n_banks++] = tpm_banks[i];
        else
            fprintf(stderr,
                    "vouch: warning: the TPM's %s bank is not in the log; its PCRs "
                    "will not match the log's machine\n",
                    vouch_tpm_alg_name(tpm_banks[i]) ? vouch_tpm_alg_name(tpm_banks[i])
                                                     : "unknown");
    }
    if (n_banks == 0) {
        fprintf(stderr, "vouch: the TPM and the log have no PCR bank in common\n");
        goto out;
    }
    for (size_t e = 0; e < log.n_events; e++) {
        if (log.events[e].type != VOUCH_TPM_EV_NO_ACTION)
            touched |= 1u << log.events[e].pcr;
    }
    /* Replaying on top of earlier extends would give neither machine's
     * values: every PCR the log extends must still be at its reset value. */
    if (!(now = vouch_calloc(1, sizeof(*now)))) {
        fprintf(stderr, "vouch: out of memory\n");
        goto out;
    }
    for (size_t b = 0; b < n_banks; b++) {
        sel[b].alg = banks[b];
        sel[b].mask = touched;
    }
    if (touched && tpm_agent_read_pcrs(tpm, sel, n_banks, now) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", tpm_agent_error(tpm));
        goto out;
    }
    for (size_t b = 0; b < n_banks; b++) {
        const struct vouch_tpm_pcr_bank *bank = vouch_tpm_pcrs_bank(now, banks[b]);
        size_t dl = vouch_tpm_digest_len(banks[b]);

        for (unsigned i = 0; bank && i < VOUCH_TPM_NUM_PCRS; i++) {
            bool ff = i >= 17 && i <= 22;
            bool reset = true;
            if (!(touched & (1u << i)))
                continue;
            for (size_t k = 0; k < dl; k++) {
                uint8_t want = ff ? 0xff : 0x00;
                if (i == 0 && k == dl - 1 && log.startup_locality > 0)
                    want = (uint8_t)log.startup_locality;
                reset &= bank->values[i][k] == want;
            }
            if (!reset && i == 0 && log.startup_locality > 0) {
                /* swtpm's startup-clear flag starts the TPM at locality 0
                 * and then answers our Startup with success. */
                fprintf(stderr,
                        "vouch: PCR 0 (%s) is not 00..0%d: the TPM was started before, not "
                        "from locality %d (swtpm: drop the startup-clear flag)\n",
                        vouch_tpm_alg_name(banks[b]), log.startup_locality, log.startup_locality);
                goto out;
            }
            if (!reset) {
                fprintf(stderr,
                        "vouch: PCR %u (%s) is not at its reset value; extend needs a TPM "
                        "fresh from TPM2_Startup(CLEAR)\n",
                        i, vouch_tpm_alg_name(banks[b]));
                goto out;
            }
        }
    }
    for (size_t e = 0; e < log.n_events; e++) {
        const struct vouch_tpm_event *ev = &log.events[e];
        struct tpm_agent_digest d[VOUCH_MAX_TPM_PCR_BANKS];
        size_t nd = 0;

        if (ev->type == VOUCH_TPM_EV_NO_ACTION)
            continue;
        for (size_t b = 0; b < n_banks; b++) {
            for (size_t k = 0; k < ev->n_digests; k++) {
                if (ev->digests[k].alg == banks[b]) {
                    d[nd].alg = banks[b];
                    d[nd].p = ev->digests[k].p;
                    nd++;
                    break;
                }
            }
        }
        if (nd != n_banks) {
            fprintf(stderr, "vouch: event %zu lacks a digest of a bank the log declares\n", e);
            goto out;
        }
        if (tpm_agent_extend(tpm, ev->pcr, d, nd) != VOUCH_OK) {
            fprintf(stderr, "vouch: event %zu: %s\n", e, tpm_agent_error(tpm));
            goto out;
        }
        n_ext++;
    }
    if (as_json) {
        json_t *o = json_pack("{s:i,s:[]}", "events_extended", (int)n_ext, "banks");
        json_t *pl = json_array();
        for (size_t b = 0; o && b < n_banks; b++)
            json_array_append_new(json_object_get(o, "banks"),
                                  json_string(vouch_tpm_alg_name(banks[b])));
        for (unsigned i = 0; o && pl && i < VOUCH_TPM_NUM_PCRS; i++) {
            if (touched & (1u << i))
                json_array_append_new(pl, json_integer(i));
        }
        if (!o || !pl || json_object_set_new(o, "pcrs", pl) != 0) {
            json_decref(o);
            fprintf(stderr, "vouch: out of memory\n");
            goto out;
        }
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("extended %zu events into PCRs", n_ext);
        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
            if (touched & (1u << i))
                printf(" %u", i);
        }
        printf(" (banks");
        for (size_t b = 0; b < n_banks; b++)
            printf(" %s", vouch_tpm_alg_name(banks[b]));
        printf(")\n");
    }
    ret = VOUCH_EXIT_OK;
out:
    tpm_agent_close(tpm);
    vouch_tpm_log_free(&log);
    vouch_free(now);
    vouch_free(buf);
    return ret;
}

/* ---- ak ---- */

int cli_tpm_ak(int argc, char **argv)
{
    const char *tcti = cli_opt(argc, argv, 3, "--tcti", 1);
    const char *ak_handle = cli_opt(argc, argv, 3, "--ak-handle", 1);
    bool ak_ecc = cli_opt(argc, argv, 3, "--ak-ecc", 0) != NULL;
    bool ek = cli_opt(argc, argv, 3, "--ek", 0) != NULL;
    bool ek_ecc = cli_opt(argc, argv, 3, "--ek-ecc", 0) != NULL;
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct vouch_tpm_public *ekp = NULL;
    struct tpm_agent *tpm = NULL;
    struct tpm_agent_blob pub, name;
    uint32_t handle = 0;
    char hex[2 * TPM_AGENT_MAX_STRUCT + 1];
    char err[256];
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    char *spki_b64 = NULL;
    uint8_t hash[VOUCH_SHA256_LEN];
    char hash_b64[64];
    int ret = VOUCH_EXIT_USAGE;

    if (!args_ok(argc, argv, ak_value_opts, ak_flag_opts, 0) || !tcti) {
        fprintf(stderr, "vouch: usage: vouch tpm ak --tcti TCTI [--ak-handle H] [--ak-ecc] | "
                        "--ek [--ek-ecc]\n");
        return VOUCH_EXIT_USAGE;
    }
    if ((ek && (ak_handle || ak_ecc)) || (ek_ecc && !ek)) {
        fprintf(stderr, "vouch: --ek [--ek-ecc] prints the EK; --ak-handle and --ak-ecc choose "
                        "the AK\n");
        return VOUCH_EXIT_USAGE;
    }
    if (ak_handle && (!parse_u32(ak_handle, &handle) || handle < TPM_AGENT_PERSISTENT_FIRST ||
                      handle > TPM_AGENT_PERSISTENT_LAST)) {
        fprintf(stderr, "vouch: --ak-handle must be a persistent handle (0x81000000-0x81ffffff)\n");
        return VOUCH_EXIT_USAGE;
    }
    ret = VOUCH_EXIT_NO;
    if (tpm_agent_open(tcti, &tpm, err, sizeof(err)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", err);
        goto out;
    }
    if (ek) {
        bool parsed;
        if (tpm_agent_load_ek_type(tpm, ek_ecc ? TPM_AGENT_EK_ECC : TPM_AGENT_EK_RSA, &pub) !=
            VOUCH_OK) {
            fprintf(stderr, "vouch: %s\n", tpm_agent_error(tpm));
            goto out;
        }
        /* The Name as the service computes it (nameAlg || H(TPMT_PUBLIC)). */
        if (!(ekp = vouch_calloc(1, sizeof(*ekp)))) {
            fprintf(stderr, "vouch: out of memory\n");
            goto out;
        }
        parsed = vouch_tpm_public_parse(pub.b, pub.len, ekp) == VOUCH_OK &&
                 ekp->name_len <= sizeof(name.b);
        if (!parsed) {
            fprintf(stderr, "vouch: the TPM returned an EK public area we cannot parse\n");
            goto out;
        }
        memcpy(name.b, ekp->name, ekp->name_len);
        name.len = ekp->name_len;
    } else if (tpm_agent_load_ak(tpm, ak_ecc ? TPM_AGENT_AK_ECC : TPM_AGENT_AK_RSA, handle, &pub,
                                 &name) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s\n", tpm_agent_error(tpm));
        goto out;
    }
    vouch_hex_encode(name.b, name.len, hex);
    if (as_json) {
        json_t *o = NULL;
        if (ak_spki(&pub, &spki, &spki_len) != VOUCH_OK ||
            vouch_sha256(spki, spki_len, hash) != VOUCH_OK) {
            fprintf(stderr, "vouch: cannot encode the AK's public key\n");
            goto out;
        }
        if (!(spki_b64 = vouch_malloc(vouch_base64_encoded_len(spki_len, false) + 1))) {
            fprintf(stderr, "vouch: out of memory\n");
            goto out;
        }
        vouch_base64_encode(spki, spki_len, false, spki_b64);
        vouch_base64_encode(hash, sizeof(hash), false, hash_b64);
        /* spki and aikPubHash in standard base64, as MAA's aikPubHash claim. */
        o = json_pack("{s:s,s:o,s:s}", "name", hex, "public", b64url_json(pub.b, pub.len), "spki",
                      spki_b64);
        if (o && !ek && json_object_set_new(o, "aikPubHash", json_string(hash_b64)) != 0) {
            json_decref(o);
            o = NULL;
        }
        if (!o) {
            fprintf(stderr, "vouch: out of memory\n");
            goto out;
        }
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("%s\n", hex);
    }
    ret = VOUCH_EXIT_OK;
out:
    tpm_agent_close(tpm);
    vouch_free(ekp);
    vouch_free(spki);
    vouch_free(spki_b64);
    return ret;
}
