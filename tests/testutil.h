/*
 * Shared helpers for the cmocka unit tests: loading the real vectors from the
 * testdata directory (a missing file fails the test, never skips it).
 */
#ifndef VOUCH_TESTUTIL_H
#define VOUCH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka must come after the headers above */
#include <cmocka.h>

/** Reads VOUCH_TESTDATA_DIR/@p rel into a malloc'd buffer (NUL-terminated);
 *  fails the running test if the file cannot be read. Free with free(). */
uint8_t *vt_read(const char *rel, size_t *len_out);
/** Same for an absolute or cwd-relative path. */
uint8_t *vt_read_path(const char *path, size_t *len_out);
/** Builds VOUCH_TESTDATA_DIR/@p rel into a static buffer. */
const char *vt_path(const char *rel);

#endif
