/*
 * A stand-in for Intel's PCS / a PCCS, for tests: serves the collateral JSON
 * files named on the command line (the real vectors, read at run time) in
 * PCS API v4's response shape.
 *
 *   vouch-test-pcs-server --listen 127.0.0.1:0 --port-file F
 *                         [--tls-cert C --tls-key K] COLLATERAL.json...
 *
 *   GET /{sgx,tdx}/certification/v4/tcb?fmspc=F   {"tcbInfo":...,"signature":"..."}
 *                                                 + TCB-Info-Issuer-Chain
 *   GET /{sgx,tdx}/certification/v4/qe/identity   {"enclaveIdentity":...,"signature":"..."}
 *                                                 + SGX-Enclave-Identity-Issuer-Chain
 *   GET /sgx/certification/v4/pckcrl?ca=C&encoding=der   DER + SGX-PCK-CRL-Issuer-Chain
 *   GET /sgx/certification/v4/rootcacrl            hex of the DER (as PCCS)
 *   GET /IntelSGXRootCA.der                        DER (as Intel's certificate site)
 *
 * Issuer chains are URL-encoded PEM, as Intel sends them; header names are
 * lowercase because HTTP/2 requires it (the server passes names through). The
 * first file
 * that provides an item wins. Control (not counted as PCS requests):
 *
 *   GET /control/mode?set=ok|fail|slow[&ms=N]   fail: every PCS path answers 500;
 *                                               slow: answers after N ms
 *   GET /control/count                           PCS requests served so far
 *   GET /control/api-key                         the last Ocp-Apim-Subscription-Key seen
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/evidence.h>
#include <vouch/http.h>
#include <vouch/mem.h>

#define MAX_FILES 16

enum mode { MODE_OK = 0, MODE_FAIL = 1, MODE_SLOW = 2 };

struct tcb_item {
    enum vouch_evidence_format tee;
    char fmspc[13]; /* lowercase hex */
    char *body;
    char *chain; /* URL-encoded */
};

struct blob {
    uint8_t *p;
    size_t n;
    char *hex;
    char *chain; /* URL-encoded, for PCK CRLs */
};

static struct tcb_item g_tcb[MAX_FILES];
static size_t g_n_tcb;
static struct {
    char *body;
    char *chain;
} g_qe[3];                   /* by enum vouch_evidence_format */
static struct blob g_pck[3]; /* by enum vouch_pck_ca */
static struct blob g_root;
static atomic_int g_mode;
static atomic_uint g_delay_ms;
static atomic_ulong g_count;
static struct vouch_http_server *g_server;
static pthread_mutex_t g_key_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_api_key[256];

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "vouch-test-pcs-server: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    exit(2);
}

/* Percent-encodes everything but RFC 3986 unreserved characters, as Intel does. */
static char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *q = o;

    if (!o)
        die("out of memory", NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *q++ = (char)c;
        } else {
            *q++ = '%';
            *q++ = hex[c >> 4];
            *q++ = hex[c & 15];
        }
    }
    *q = 0;
    return o;
}

static const char *str_field(json_t *o, const char *k, const char *file)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s)
        die(file, k);
    return s;
}

static char *envelope(const char *key, const char *body, const char *sig)
{
    size_t n = strlen(key) + strlen(body) + strlen(sig) + 32;
    char *o = malloc(n);
    if (!o)
        die("out of memory", NULL);
    snprintf(o, n, "{\"%s\":%s,\"signature\":\"%s\"}", key, body, sig);
    return o;
}

static void crl_blob(struct blob *b, const char *hex, const char *file)
{
    if (b->p)
        return;
    if (vouch_hex_decode_alloc(hex, strlen(hex), &b->p, &b->n) != VOUCH_OK)
        die(file, "a CRL is not hex");
    b->hex = strdup(hex);
}

static enum vouch_pck_ca ca_of_chain(const char *pem, const char *file)
{
    struct vouch_x509 *certs[8] = {0};
    size_t n = 0;
    char cn[128] = "";
    enum vouch_pck_ca ca = VOUCH_PCK_CA_UNKNOWN;

    if (vouch_x509_parse_pem_chain((const uint8_t *)pem, strlen(pem), certs, 8, &n) != VOUCH_OK ||
        n == 0 || vouch_x509_subject_cn(certs[0], cn, sizeof(cn)) != VOUCH_OK)
        die(file, "pck_crl_issuer_chain");
    if (strcmp(cn, "Intel SGX PCK Processor CA") == 0)
        ca = VOUCH_PCK_CA_PROCESSOR;
    else if (strcmp(cn, "Intel SGX PCK Platform CA") == 0)
        ca = VOUCH_PCK_CA_PLATFORM;
    for (size_t i = 0; i < n; i++)
        vouch_x509_free(certs[i]);
    if (ca == VOUCH_PCK_CA_UNKNOWN)
        die(file, "unknown PCK CA");
    return ca;
}

static void load(const char *file)
{
    json_error_t jerr;
    json_t *o = json_load_file(file, 0, &jerr);
    struct vouch_collateral *c = NULL;
    struct vouch_dcap_platform plat;
    char *text;
    enum vouch_pck_ca ca;

    if (!o)
        die(file, jerr.text);
    /* The platform comes from the collateral itself, as a PCS would index it. */
    text = json_dumps(o, JSON_COMPACT);
    if (!text || vouch_collateral_parse((const uint8_t *)text, strlen(text), &c) != VOUCH_OK ||
        vouch_collateral_platform(c, &plat) != VOUCH_OK)
        die(file, "does not parse as collateral");
    free(text);
    vouch_collateral_free(c);
    if (g_n_tcb >= MAX_FILES)
        die("too many files", NULL);
    g_tcb[g_n_tcb].tee = plat.tee;
    vouch_hex_encode(plat.fmspc, sizeof(plat.fmspc), g_tcb[g_n_tcb].fmspc);
    g_tcb[g_n_tcb].body = envelope("tcbInfo", str_field(o, "tcb_info", file),
                                   str_field(o, "tcb_info_signature", file));
    g_tcb[g_n_tcb].chain = url_encode(str_field(o, "tcb_info_issuer_chain", file));
    g_n_tcb++;
    if (!g_qe[plat.tee].body) {
        g_qe[plat.tee].body = envelope("enclaveIdentity", str_field(o, "qe_identity", file),
                                       str_field(o, "qe_identity_signature", file));
        g_qe[plat.tee].chain = url_encode(str_field(o, "qe_identity_issuer_chain", file));
    }
    ca = ca_of_chain(str_field(o, "pck_crl_issuer_chain", file), file);
    if (!g_pck[ca].p) {
        crl_blob(&g_pck[ca], str_field(o, "pck_crl", file), file);
        g_pck[ca].chain = url_encode(str_field(o, "pck_crl_issuer_chain", file));
    }
    crl_blob(&g_root, str_field(o, "root_ca_crl", file), file);
    json_decref(o);
}

static void reply(struct vouch_http_response *res, int status, const char *ctype, const void *p,
                  size_t n)
{
    res->status = status;
    res->content_type = ctype;
    vouch_buf_reset(&res->body);
    if (vouch_buf_append(&res->body, p, n) != VOUCH_OK)
        res->status = 500;
}

static void send_text(struct vouch_http_response *res, int status, const char *text)
{
    reply(res, status, "text/plain", text, strlen(text));
}

static bool header(struct vouch_http_response *res, const char *name, const char *value)
{
    if (vouch_http_response_header(res, name, value) != VOUCH_OK) {
        send_text(res, 500, "header");
        return false;
    }
    return true;
}

static void control(const struct vouch_http_request *req, struct vouch_http_response *res)
{
    char v[32];

    if (strcmp(req->path, "/control/api-key") == 0) {
        char k[sizeof(g_api_key)];
        pthread_mutex_lock(&g_key_lock);
        memcpy(k, g_api_key, sizeof(k));
        pthread_mutex_unlock(&g_key_lock);
        send_text(res, 200, k);
        return;
    }
    if (strcmp(req->path, "/control/count") == 0) {
        snprintf(v, sizeof(v), "%lu", atomic_load(&g_count));
        send_text(res, 200, v);
        return;
    }
    if (strcmp(req->path, "/control/mode") != 0 ||
        vouch_http_query_param(req, "set", v, sizeof(v)) != VOUCH_OK) {
        send_text(res, 404, "unknown control");
        return;
    }
    if (strcmp(v, "ok") == 0) {
        atomic_store(&g_mode, MODE_OK);
    } else if (strcmp(v, "fail") == 0) {
        atomic_store(&g_mode, MODE_FAIL);
    } else if (strcmp(v, "slow") == 0) {
        char ms[16];
        if (vouch_http_query_param(req, "ms", ms, sizeof(ms)) != VOUCH_OK) {
            send_text(res, 400, "slow needs ms");
            return;
        }
        atomic_store(&g_delay_ms, (unsigned)strtoul(ms, NULL, 10));
        atomic_store(&g_mode, MODE_SLOW);
    } else {
        send_text(res, 400, "mode: ok, fail or slow");
        return;
    }
    send_text(res, 200, v);
}

static void handle(void *arg, const struct vouch_http_request *req, struct vouch_http_response *res)
{
    const char *path = req->path;
    enum vouch_evidence_format tee = VOUCH_EVIDENCE_UNKNOWN;
    char q[64];

    (void)arg;
    if (strncmp(path, "/control/", 9) == 0) {
        control(req, res);
        return;
    }
    atomic_fetch_add(&g_count, 1);
    {
        const char *k = NULL;
        size_t kl = 0;
        if (vouch_http_request_header(req, "Ocp-Apim-Subscription-Key", &k, &kl) == VOUCH_OK) {
            pthread_mutex_lock(&g_key_lock);
            snprintf(g_api_key, sizeof(g_api_key), "%.*s", (int)(kl < 255 ? kl : 255), k);
            pthread_mutex_unlock(&g_key_lock);
        }
    }
    if (strcmp(req->method, "GET") != 0) {
        send_text(res, 405, "GET only");
        return;
    }
    if (atomic_load(&g_mode) == MODE_FAIL) {
        if (header(res, "error-code", "InternalError") &&
            header(res, "error-message", "the test server was told to fail"))
            send_text(res, 500, "");
        return;
    }
    if (atomic_load(&g_mode) == MODE_SLOW) {
        unsigned ms = atomic_load(&g_delay_ms);
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (strncmp(path, "/sgx/", 5) == 0)
        tee = VOUCH_EVIDENCE_SGX;
    else if (strncmp(path, "/tdx/", 5) == 0)
        tee = VOUCH_EVIDENCE_TDX;
    if (tee != VOUCH_EVIDENCE_UNKNOWN && strcmp(path + 4, "/certification/v4/tcb") == 0) {
        if (vouch_http_query_param(req, "fmspc", q, sizeof(q)) != VOUCH_OK) {
            send_text(res, 400, "");
            return;
        }
        for (size_t i = 0; i < g_n_tcb; i++) {
            if (g_tcb[i].tee == tee && strcasecmp(g_tcb[i].fmspc, q) == 0) {
                if (header(res, "tcb-info-issuer-chain", g_tcb[i].chain))
                    reply(res, 200, "application/json", g_tcb[i].body, strlen(g_tcb[i].body));
                return;
            }
        }
        send_text(res, 404, "");
        return;
    }
    if (tee != VOUCH_EVIDENCE_UNKNOWN && strcmp(path + 4, "/certification/v4/qe/identity") == 0) {
        if (!g_qe[tee].body) {
            send_text(res, 404, "");
            return;
        }
        if (header(res, "sgx-enclave-identity-issuer-chain", g_qe[tee].chain))
            reply(res, 200, "application/json", g_qe[tee].body, strlen(g_qe[tee].body));
        return;
    }
    if (strcmp(path, "/sgx/certification/v4/pckcrl") == 0) {
        enum vouch_pck_ca ca = VOUCH_PCK_CA_UNKNOWN;
        char enc[16] = "";
        if (vouch_http_query_param(req, "ca", q, sizeof(q)) == VOUCH_OK)
            ca = strcmp(q, "processor") == 0  ? VOUCH_PCK_CA_PROCESSOR
                 : strcmp(q, "platform") == 0 ? VOUCH_PCK_CA_PLATFORM
                                              : VOUCH_PCK_CA_UNKNOWN;
        if (ca == VOUCH_PCK_CA_UNKNOWN || !g_pck[ca].p) {
            send_text(res, ca == VOUCH_PCK_CA_UNKNOWN ? 400 : 404, "");
            return;
        }
        if (!header(res, "sgx-pck-crl-issuer-chain", g_pck[ca].chain))
            return;
        if (vouch_http_query_param(req, "encoding", enc, sizeof(enc)) == VOUCH_OK &&
            strcmp(enc, "der") == 0)
            reply(res, 200, "application/pkix-crl", g_pck[ca].p, g_pck[ca].n);
        else
            send_text(res, 200, g_pck[ca].hex);
        return;
    }
    if (strcmp(path, "/sgx/certification/v4/rootcacrl") == 0) {
        send_text(res, 200, g_root.hex);
        return;
    }
    if (strcmp(path, "/IntelSGXRootCA.der") == 0) {
        reply(res, 200, "application/pkix-crl", g_root.p, g_root.n);
        return;
    }
    send_text(res, 404, "");
}

static void on_signal(int sig)
{
    (void)sig;
    vouch_http_server_stop(g_server);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"port-file", required_argument, NULL, 'p'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct vouch_http_server_opts so;
    const char *port_file = NULL;
    char tmp[4096];
    FILE *f;
    int c, ret;

    memset(&so, 0, sizeof(so));
    so.threads = 2;
    so.insecure_http = true;
    so.handler = handle;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            so.listen = optarg;
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'c':
            so.tls_cert = optarg;
            so.insecure_http = false;
            break;
        case 'k':
            so.tls_key = optarg;
            break;
        default:
            die("usage: --listen ADDR:PORT --port-file F [--tls-cert C --tls-key K] FILES...",
                NULL);
        }
    }
    if (!so.listen || !port_file || optind >= argc || (so.tls_cert && !so.tls_key))
        die("usage: --listen ADDR:PORT --port-file F [--tls-cert C --tls-key K] FILES...", NULL);
    for (int i = optind; i < argc; i++)
        load(argv[i]);
    if (!g_root.p)
        die("no root CA CRL", NULL);
    if (vouch_http_server_create(&so, &g_server) != VOUCH_OK)
        die("cannot listen on", so.listen);
    /* Written (atomically) only once serving is possible, so a test can wait
     * for the file. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    if (!(f = fopen(tmp, "w")) || fprintf(f, "%u\n", vouch_http_server_port(g_server)) < 0 ||
        fclose(f) != 0 || rename(tmp, port_file) != 0)
        die("cannot write", port_file);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ret = vouch_http_server_run(g_server) == VOUCH_OK ? 0 : 1;
    vouch_http_server_free(g_server);
    for (size_t i = 0; i < g_n_tcb; i++) {
        free(g_tcb[i].body);
        free(g_tcb[i].chain);
    }
    for (size_t i = 0; i < 3; i++) {
        free(g_qe[i].body);
        free(g_qe[i].chain);
        vouch_free(g_pck[i].p);
        free(g_pck[i].hex);
        free(g_pck[i].chain);
    }
    vouch_free(g_root.p);
    free(g_root.hex);
    return ret;
}
