/*
 * Fuzz target for the EDL parser and the stub generator: parse the input;
 * whatever parses is turned into all four generated files. Nothing may
 * crash, leak, recurse or run away; an error must come with a place (line
 * and column) unless it is about the whole input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/edl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_edl *edl = NULL;
    struct vouch_edl_error err;
    vouch_err rc = vouch_edl_parse((const char *)data, size, &edl, &err);

    if (rc != VOUCH_OK) {
        /* Every syntax error is located, and the message is a C string. */
        if ((rc == VOUCH_ERR_PARSE && err.line == 0) || edl ||
            memchr(err.message, '\0', sizeof(err.message)) == NULL)
            abort();
        return 0;
    }
    for (int f = VOUCH_EDL_HOST_HEADER; f <= VOUCH_EDL_ENCLAVE_SOURCE; f++) {
        struct vouch_buf b;

        vouch_buf_init(&b, VOUCH_MAX_EDL_OUTPUT);
        if (vouch_edl_emit(edl, "fuzz", (enum vouch_edl_file)f, &b) != VOUCH_OK)
            abort();
        vouch_buf_free(&b);
    }
    vouch_edl_free(edl);
    return 0;
}
