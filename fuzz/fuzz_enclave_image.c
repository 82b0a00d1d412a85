/*
 * Fuzz target: signed enclave images (vouch_enclave_image_open) and the
 * strict ELF parser behind the measurement (vouch_enclave_measure on the raw
 * input). The ELF is parsed and measured before the signature is checked, so
 * mutated images exercise the parser even though their signatures fail.
 * Every image that opens must be self-consistent: its canonical .so measures
 * to the identity's measurement under its own config.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/enclave_image.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_enclave_image *img = NULL;
    struct vouch_enclave_image_config cfg;
    uint8_t m[VOUCH_ENCLAVE_MEASUREMENT_LEN];
    const uint8_t *so = NULL;
    size_t so_len = 0;
    char detail[256];
    vouch_err rc;

    vouch_enclave_image_config_default(&cfg);
    /* The raw input as a bare .so, and (for seeds that are images) the .so
     * part at its fixed offset, so both parsers see well-formed ELF. */
    rc = vouch_enclave_measure(data, size, &cfg, m);
    if (size > 64)
        rc = vouch_enclave_measure(data + 64, size - 64, &cfg, m);
    (void)rc;

    if (vouch_enclave_image_open(data, size, &img, detail, sizeof(detail)) != VOUCH_OK)
        return 0;
    vouch_enclave_image_so(img, &so, &so_len);
    if (vouch_enclave_measure(so, so_len, vouch_enclave_image_config(img), m) != VOUCH_OK ||
        memcmp(m, vouch_enclave_image_identity(img)->measurement, sizeof(m)) != 0)
        abort();
    vouch_enclave_image_free(img);
    return 0;
}
