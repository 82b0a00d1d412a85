/*
 * `vouch policy eval|hash|default` (PRODUCT.md §3): try an Azure Attestation
 * policy against a claim set offline, print MAA's x-ms-policy-hash of a
 * policy file, or print the built-in policy of an attestation type.
 *
 * eval exits 0 on permit, 1 on deny or when the policy does not parse (the
 * JSON answer then is {"error","line","column"}), 2 for usage errors and
 * unreadable or malformed claims files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/policy.h>

#include "cli/cli.h"

static const char *const value_opts[] = {"--claims", NULL};

static void print_claims_text(const char *title, const struct vouch_claims *c)
{
    size_t n = vouch_claims_count(c);

    printf("%s:%s\n", title, n ? "" : " none");
    for (size_t i = 0; i < n; i++) {
        const struct vouch_claim *cl = vouch_claims_at(c, i);
        switch (cl->value_type) {
        case VOUCH_CLAIM_STRING:
            printf("  %s = \"%s\"\n", cl->type, cl->string);
            break;
        case VOUCH_CLAIM_INTEGER:
            printf("  %s = %lld\n", cl->type, (long long)cl->integer);
            break;
        case VOUCH_CLAIM_BOOLEAN:
            printf("  %s = %s\n", cl->type, cl->boolean ? "true" : "false");
            break;
        }
    }
}

static void print_error_json(const char *msg, unsigned line, unsigned column)
{
    json_t *o = line ? json_pack("{s:s,s:I,s:I}", "error", msg, "line", (json_int_t)line, "column",
                                 (json_int_t)column)
                     : json_pack("{s:s}", "error", msg);
    /* jansson refuses text that is not UTF-8 (a file name, say): say it plainly. */
    if (o)
        cli_print_json(o);
    else
        fprintf(stderr, "vouch: %s\n", msg);
    json_decref(o);
}

/* Reads and converts the claims file; prints its own errors. */
static vouch_err load_claims(const char *path, bool as_json, struct vouch_claims **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *j = NULL;
    char err[256];
    char msg[512];
    vouch_err rc;

    *out = NULL;
    if ((rc = cli_read_file(path, &buf, &len)) != VOUCH_OK)
        return rc;
    rc = vouch_json_parse((const char *)buf, len, &j, err, sizeof(err));
    if (rc == VOUCH_OK)
        rc = vouch_claims_from_json(j, out, err, sizeof(err));
    if (rc != VOUCH_OK) {
        snprintf(msg, sizeof(msg), "%s: %s", path, err[0] ? err : vouch_strerror(rc));
        if (as_json)
            print_error_json(msg, 0, 0);
        else
            fprintf(stderr, "vouch: %s\n", msg);
    }
    json_decref(j);
    vouch_free(buf);
    return rc;
}

static int print_result(const struct vouch_policy_result *res, vouch_err rc, bool as_json)
{
    json_t *o = NULL, *issued = NULL, *props = NULL;
    int ret =
        res->decision == VOUCH_POLICY_PERMIT && rc == VOUCH_OK ? VOUCH_EXIT_OK : VOUCH_EXIT_NO;

    if (!as_json) {
        printf("decision: %s\n", ret == VOUCH_EXIT_OK ? "permit" : "deny");
        printf("reason: %s\n", res->explanation);
        if (rc != VOUCH_OK)
            printf("error: %s\n", vouch_err_name(rc));
        print_claims_text("claims", res->issued);
        print_claims_text("properties", res->properties);
        return ret;
    }
    if (vouch_claims_to_json(res->issued, &issued) != VOUCH_OK ||
        vouch_claims_to_json(res->properties, &props) != VOUCH_OK) {
        fprintf(stderr, "vouch: out of memory\n");
        ret = VOUCH_EXIT_NO;
        goto out;
    }
    o = json_pack("{s:s,s:O,s:O,s:s}", "decision", ret == VOUCH_EXIT_OK ? "permit" : "deny",
                  "claims", issued, "properties", props, "reason", res->explanation);
    if (o && rc != VOUCH_OK)
        json_object_set_new(o, "error", json_string(vouch_err_name(rc)));
    if (!o) {
        fprintf(stderr, "vouch: out of memory\n");
        ret = VOUCH_EXIT_NO;
        goto out;
    }
    cli_print_json(o);
out:
    json_decref(o);
    json_decref(issued);
    json_decref(props);
    return ret;
}

static int cmd_eval(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, value_opts);
    const char *claims_path = cli_opt(argc, argv, 3, "--claims", 1);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    unsigned flags = cli_opt(argc, argv, 3, "--lenient", 0) ? VOUCH_POLICY_LENIENT : 0;
    struct vouch_policy *pol = NULL;
    struct vouch_policy_error perr;
    struct vouch_policy_result res = {0};
    struct vouch_claims *claims = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    if (!path || !claims_path) {
        fprintf(stderr, "usage: vouch policy eval POLICY_FILE --claims CLAIMS.json [--json] "
                        "[--lenient]\n");
        return VOUCH_EXIT_USAGE;
    }
    if (cli_read_file(path, &text, &len) != VOUCH_OK)
        goto out;
    rc = vouch_policy_parse((const char *)text, len, flags, &pol, &perr);
    if (rc != VOUCH_OK) {
        if (as_json)
            print_error_json(perr.message, perr.line, perr.column);
        else
            fprintf(stderr, "vouch: %s:%u:%u: %s\n", path, perr.line, perr.column, perr.message);
        ret = VOUCH_EXIT_NO;
        goto out;
    }
    if (load_claims(claims_path, as_json, &claims) != VOUCH_OK)
        goto out;
    rc = vouch_policy_eval(pol, claims, &res);
    ret = print_result(&res, rc, as_json);
out:
    vouch_policy_result_free(&res);
    vouch_claims_free(claims);
    vouch_policy_free(pol);
    vouch_free(text);
    return ret;
}

static int cmd_hash(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, NULL);
    char hash[VOUCH_POLICY_HASH_LEN + 1];
    uint8_t *text = NULL;
    size_t len = 0;
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    if (!path) {
        fprintf(stderr, "usage: vouch policy hash POLICY_FILE\n");
        return VOUCH_EXIT_USAGE;
    }
    if (cli_read_file(path, &text, &len) != VOUCH_OK)
        goto out;
    if ((rc = vouch_policy_hash((const char *)text, len, hash)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s: %s\n", path, vouch_strerror(rc));
        ret = VOUCH_EXIT_NO;
        goto out;
    }
    printf("%s\n", hash);
    ret = VOUCH_EXIT_OK;
out:
    vouch_free(text);
    return ret;
}

static int cmd_default(int argc, char **argv)
{
    const char *type = cli_positional(argc, argv, 3, NULL);
    const char *text = NULL;
    vouch_err rc;

    if (!type) {
        fprintf(stderr, "usage: vouch policy default TYPE   (SgxEnclave, OpenEnclave, TdxVm, "
                        "SevSnpVm, Tpm, SimEnclave)\n");
        return VOUCH_EXIT_USAGE;
    }
    rc = vouch_policy_default(type, &text);
    if (rc == VOUCH_ERR_NOT_FOUND) {
        fprintf(stderr, "vouch: %s has no default policy; one must be set\n", type);
        return VOUCH_EXIT_NO;
    }
    if (rc != VOUCH_OK) {
        fprintf(stderr, "vouch: unknown attestation type '%s'\n", type);
        return VOUCH_EXIT_USAGE;
    }
    /* Exactly the stored bytes, so `vouch policy hash` on the output matches. */
    fputs(text, stdout);
    return VOUCH_EXIT_OK;
}

int cli_policy(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "eval") == 0)
        return cmd_eval(argc, argv);
    if (argc >= 3 && strcmp(argv[2], "hash") == 0)
        return cmd_hash(argc, argv);
    if (argc >= 3 && strcmp(argv[2], "default") == 0)
        return cmd_default(argc, argv);
    fprintf(stderr, "usage: vouch policy eval POLICY_FILE --claims CLAIMS.json [--json] "
                    "[--lenient]\n"
                    "       vouch policy hash POLICY_FILE\n"
                    "       vouch policy default TYPE\n");
    return VOUCH_EXIT_USAGE;
}
