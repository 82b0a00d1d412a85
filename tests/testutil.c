#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vt_path(const char *rel)
{
    static char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", VOUCH_TESTDATA_DIR, rel);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    return path;
}

uint8_t *vt_read_path(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;

    if (!f)
        fail_msg("test data missing: %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len_out = (size_t)n;
    return buf;
}

uint8_t *vt_read(const char *rel, size_t *len_out)
{
    return vt_read_path(vt_path(rel), len_out);
}
