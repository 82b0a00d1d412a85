/* `vouch tpm replay|verify`: TPM event logs and quotes (vouch/tpm.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#include "cli/cli.h"
#include "cli/tpm_attest.h"
#include "cli/tpm_cred.h"

static const char *const value_opts[] = {"--quote", "--sig",   "--ak", "--pcrs",
                                         "--log",   "--nonce", NULL};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vouch tpm replay LOG [--json]\n"
            "       vouch tpm verify --quote F --sig F --ak F --pcrs F [--pcrs F ...] [--log F]\n"
            "                        (--nonce HEX | --no-nonce) [--allow-sha1] [--json]\n"
            "\n"
            "replay prints '<bank> <index> <hex>' for every PCR the log extends (with --json:\n"
            "pcrs, events with their digest checks, and the claims the log asserts, which no\n"
            "quote binds). verify checks an AK signature over a TPMS_ATTEST quote, its nonce,\n"
            "the PCR values against pcrDigest and, with --log, the replayed log against them.\n"
            "--ak takes a TPMT_PUBLIC or TPM2B_PUBLIC; --pcrs text ('<bank> <index> <hex>' or\n"
            "'<index> <hex>' lines) or JSON ({\"sha256\": {\"0\": \"<hex>\"}}).\n\n");
    cli_tpm_agent_usage(f);
}

static void print_error_json(const char *what, vouch_err rc)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "error", vouch_err_name(rc), "error_detail",
                          vouch_strerror(rc), "input", what);
    if (o)
        cli_print_json(o);
    json_decref(o);
}

static const char *bank_name(uint16_t alg)
{
    const char *n = vouch_tpm_alg_name(alg);

    return n ? n : "unknown";
}

/* Replays every bank we can compute into @p pcrs; banks we cannot are noted. */
static vouch_err replay_all(const struct vouch_tpm_log *log, struct vouch_tpm_pcrs *pcrs)
{
    vouch_err rc = VOUCH_OK;

    memset(pcrs, 0, sizeof(*pcrs));
    for (size_t i = 0; i < log->n_algs && i < VOUCH_MAX_TPM_PCR_BANKS; i++) {
        struct vouch_tpm_pcr_bank *b = &pcrs->banks[pcrs->n_banks];

        if (vouch_tpm_digest_len(log->algs[i]) == 0) {
            fprintf(stderr, "vouch: bank 0x%04x cannot be replayed (unsupported hash)\n",
                    log->algs[i]);
            continue;
        }
        if ((rc = vouch_tpm_log_replay(log, log->algs[i], b)) != VOUCH_OK) {
            fprintf(stderr, "vouch: replay of bank %s failed: %s\n", bank_name(log->algs[i]),
                    vouch_strerror(rc));
            return rc;
        }
        pcrs->n_banks++;
    }
    return rc;
}

static uint16_t strongest_bank(const struct vouch_tpm_pcrs *pcrs)
{
    static const uint16_t order[] = {VOUCH_TPM_ALG_SHA512, VOUCH_TPM_ALG_SHA384,
                                     VOUCH_TPM_ALG_SHA256, VOUCH_TPM_ALG_SHA1};

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (vouch_tpm_pcrs_bank(pcrs, order[i]))
            return order[i];
    }
    return 0;
}

static int replay_json(struct vouch_tpm_log *log, const struct vouch_tpm_pcrs *pcrs)
{
    json_t *o = json_object();
    json_t *pj = NULL;
    json_t *events = NULL;
    json_t *claims = json_object();
    json_t *banks = json_array();
    uint16_t strongest = strongest_bank(pcrs);
    int ret = VOUCH_EXIT_NO;

    if (!o || !claims || !banks || vouch_tpm_log_check_digests(log, 0) != VOUCH_OK ||
        vouch_tpm_pcrs_json(pcrs, &pj) != VOUCH_OK ||
        vouch_tpm_log_events_json(log, &events) != VOUCH_OK ||
        (strongest &&
         vouch_tpm_log_claims(log, strongest, VOUCH_TPM_ALL_PCRS, claims) != VOUCH_OK)) {
        fprintf(stderr, "vouch: cannot build the JSON output\n");
        goto out;
    }
    for (size_t i = 0; i < log->n_algs; i++)
        json_array_append_new(banks, json_string(bank_name(log->algs[i])));
    json_object_set_new(
        o, "format",
        json_string(log->format == VOUCH_TPM_LOG_CRYPTO_AGILE ? "crypto-agile" : "sha1"));
    json_object_set(o, "banks", banks);
    json_object_set_new(o, "startup_locality",
                        log->startup_locality >= 0 ? json_integer(log->startup_locality)
                                                   : json_null());
    json_object_set_new(o, "event_count", json_integer((json_int_t)log->n_events));
    json_object_set(o, "pcrs", pj);
    json_object_set(o, "events", events);
    /* A bare log is bound to no TPM: the claims say what it asserts. */
    json_object_set_new(o, "quote_bound", json_false());
    if (strongest)
        json_object_set_new(o, "claims_bank", json_string(bank_name(strongest)));
    json_object_set(o, "claims", claims);
    cli_print_json(o);
    ret = VOUCH_EXIT_OK;
out:
    json_decref(o);
    json_decref(pj);
    json_decref(events);
    json_decref(claims);
    json_decref(banks);
    return ret;
}

static int cmd_replay(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, value_opts);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct vouch_tpm_log log;
    struct vouch_tpm_pcrs *pcrs = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int ret = VOUCH_EXIT_NO;
    vouch_err rc;

    memset(&log, 0, sizeof(log));
    if (!path) {
        usage(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (cli_read_file(path, &buf, &len) != VOUCH_OK)
        return VOUCH_EXIT_USAGE;
    if (!(pcrs = vouch_calloc(1, sizeof(*pcrs)))) {
        fprintf(stderr, "vouch: out of memory\n");
        goto out;
    }
    if ((rc = vouch_tpm_log_parse(buf, len, &log)) != VOUCH_OK) {
        if (as_json)
            print_error_json("log", rc);
        fprintf(stderr, "vouch: %s: not a valid TCG event log: %s\n", path, vouch_strerror(rc));
        goto out;
    }
    if (replay_all(&log, pcrs) != VOUCH_OK) {
        if (as_json)
            print_error_json("log", VOUCH_ERR_PARSE);
        goto out;
    }
    if (as_json) {
        ret = replay_json(&log, pcrs);
        goto out;
    }
    for (size_t b = 0; b < pcrs->n_banks; b++) {
        const struct vouch_tpm_pcr_bank *bank = &pcrs->banks[b];
        size_t dlen = vouch_tpm_digest_len(bank->alg);
        char hex[2 * VOUCH_TPM_MAX_DIGEST + 1];

        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
            if (!(bank->mask & (1u << i)))
                continue;
            vouch_hex_encode(bank->values[i], dlen, hex);
            printf("%s %u %s\n", bank_name(bank->alg), i, hex);
        }
    }
    ret = VOUCH_EXIT_OK;
out:
    vouch_tpm_log_free(&log);
    vouch_free(pcrs);
    vouch_free(buf);
    return ret;
}

/* Reads every --pcrs file into @p pcrs. */
static int read_pcrs(int argc, char **argv, struct vouch_tpm_pcrs *pcrs)
{
    int n = 0;

    for (int i = 3; i < argc; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        vouch_err rc;

        if (strcmp(argv[i], "--pcrs") != 0)
            continue;
        if (i + 1 >= argc)
            return -1;
        if (cli_read_file(argv[i + 1], &buf, &len) != VOUCH_OK)
            return -1;
        rc = vouch_tpm_pcrs_parse(buf, len, pcrs);
        vouch_free(buf);
        if (rc != VOUCH_OK) {
            fprintf(stderr, "vouch: %s: not a PCR values file: %s\n", argv[i + 1],
                    vouch_strerror(rc));
            return -1;
        }
        n++;
        i++;
    }
    return n;
}

static void print_verify_text(const struct vouch_tpm_verify_result *res)
{
    const char *key;
    json_t *v;

    if (!res->verified) {
        printf("NOT verified (%s): %s\n", vouch_err_name(res->error), res->error_detail);
        return;
    }
    printf("verified\n");
    json_object_foreach(res->claims, key, v)
    {
        char *s;

        if (strcmp(key, "pcrs") == 0)
            continue;
        s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        if (json_is_string(v))
            printf("  %-24s %s\n", key, json_string_value(v));
        else if (s)
            printf("  %-24s %s\n", key, s);
        free(s);
    }
}

struct verify_inputs {
    uint8_t *quote, *sig, *ak, *log, *nonce;
    size_t quote_len, sig_len, ak_len, log_len, nonce_len;
};

static void inputs_free(struct verify_inputs *in)
{
    vouch_free(in->quote);
    vouch_free(in->sig);
    vouch_free(in->ak);
    vouch_free(in->log);
    vouch_free(in->nonce);
}

static int cmd_verify(int argc, char **argv)
{
    const char *quote = cli_opt(argc, argv, 3, "--quote", 1);
    const char *sig = cli_opt(argc, argv, 3, "--sig", 1);
    const char *ak_path = cli_opt(argc, argv, 3, "--ak", 1);
    const char *log_path = cli_opt(argc, argv, 3, "--log", 1);
    const char *nonce = cli_opt(argc, argv, 3, "--nonce", 1);
    bool no_nonce = cli_opt(argc, argv, 3, "--no-nonce", 0) != NULL;
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct vouch_tpm_verify_opts opts = {.allow_sha1 =
                                             cli_opt(argc, argv, 3, "--allow-sha1", 0) != NULL};
    struct verify_inputs in;
    struct vouch_tpm_evidence ev;
    struct vouch_tpm_verify_result *res = NULL;
    struct vouch_tpm_pcrs *pcrs = NULL;
    struct vouch_tpm_ak *ak = NULL;
    json_t *out_json = NULL;
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    memset(&in, 0, sizeof(in));
    if (!quote || !sig || !ak_path || (!nonce == !no_nonce)) {
        usage(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (!(pcrs = vouch_calloc(1, sizeof(*pcrs))) || !(res = vouch_calloc(1, sizeof(*res)))) {
        fprintf(stderr, "vouch: out of memory\n");
        goto out;
    }
    if (read_pcrs(argc, argv, pcrs) <= 0) {
        if (pcrs->n_banks == 0)
            fprintf(stderr, "vouch: at least one --pcrs file is required\n");
        goto out;
    }
    if (nonce &&
        vouch_hex_decode_alloc(nonce, strlen(nonce), &in.nonce, &in.nonce_len) != VOUCH_OK) {
        fprintf(stderr, "vouch: --nonce must be hex\n");
        goto out;
    }
    if (cli_read_file(quote, &in.quote, &in.quote_len) != VOUCH_OK ||
        cli_read_file(sig, &in.sig, &in.sig_len) != VOUCH_OK ||
        cli_read_file(ak_path, &in.ak, &in.ak_len) != VOUCH_OK ||
        (log_path && cli_read_file(log_path, &in.log, &in.log_len) != VOUCH_OK))
        goto out;
    ret = VOUCH_EXIT_NO;
    if ((rc = vouch_tpm_ak_parse(in.ak, in.ak_len, &ak)) != VOUCH_OK) {
        if (as_json)
            print_error_json("ak", rc);
        else
            printf("NOT verified (%s): %s: not a usable AK public area\n", vouch_err_name(rc),
                   ak_path);
        goto out;
    }
    ev = (struct vouch_tpm_evidence){.quote = in.quote,
                                     .quote_len = in.quote_len,
                                     .sig = in.sig,
                                     .sig_len = in.sig_len,
                                     .pcrs = pcrs,
                                     .log = in.log,
                                     .log_len = in.log_len};
    opts.nonce = in.nonce;
    opts.nonce_len = in.nonce_len;
    rc = vouch_tpm_verify(ak, &ev, &opts, res);
    if (as_json) {
        if (vouch_tpm_verify_result_json(res, &out_json) != VOUCH_OK) {
            fprintf(stderr, "vouch: cannot build the JSON output\n");
            goto out;
        }
        cli_print_json(out_json);
    } else {
        print_verify_text(res);
    }
    ret = rc == VOUCH_OK ? VOUCH_EXIT_OK : VOUCH_EXIT_NO;
out:
    json_decref(out_json);
    if (res)
        vouch_tpm_verify_result_free(res);
    vouch_free(res);
    vouch_free(pcrs);
    vouch_tpm_ak_free(ak);
    inputs_free(&in);
    return ret;
}

int cli_tpm(int argc, char **argv)
{
    if (argc < 3) {
        usage(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (strcmp(argv[2], "replay") == 0)
        return cmd_replay(argc, argv);
    if (strcmp(argv[2], "verify") == 0)
        return cmd_verify(argc, argv);
    if (strcmp(argv[2], "attest") == 0)
        return cli_tpm_attest(argc, argv);
    if (strcmp(argv[2], "extend") == 0)
        return cli_tpm_extend(argc, argv);
    if (strcmp(argv[2], "ak") == 0)
        return cli_tpm_ak(argc, argv);
    if (strcmp(argv[2], "make-credential") == 0)
        return cli_tpm_make_credential(argc, argv);
    if (strcmp(argv[2], "help") == 0 || strcmp(argv[2], "--help") == 0) {
        usage(stdout);
        return VOUCH_EXIT_OK;
    }
    fprintf(stderr, "vouch: unknown tpm command '%s'\n", argv[2]);
    usage(stderr);
    return VOUCH_EXIT_USAGE;
}
