/* Small-file helpers for the service: whole-file reads with a size cap (and a
 * permission check for secrets), and atomic rename-into-place writes. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

/* Reads a small file whole; refuses group/world-accessible secrets. */
vouch_err attestd_read_file(const char *path, bool secret, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    ssize_t n;
    int fd;
    vouch_err rc = VOUCH_ERR_IO;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | (secret ? O_NOFOLLOW : 0));
    if (fd < 0)
        return VOUCH_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > VOUCH_MAX_COLLATERAL_SIZE)
        goto out;
    if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr, "vouch-attestd: %s must not be accessible to group or others\n", path);
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    rc = VOUCH_ERR_NOMEM;
    if (!(buf = vouch_malloc((size_t)st.st_size + 1)))
        goto out;
    rc = VOUCH_ERR_IO;
    n = read(fd, buf, (size_t)st.st_size);
    if (n != (ssize_t)st.st_size)
        goto out;
    buf[n] = 0;
    *out = buf;
    *len = (size_t)n;
    buf = NULL;
    rc = VOUCH_OK;
out:
    if (buf) {
        vouch_wipe(buf, (size_t)st.st_size + 1);
        vouch_free(buf);
    }
    close(fd);
    return rc;
}

vouch_err attestd_write_file_atomic(const char *path, const void *p, size_t len, mode_t mode)
{
    char tmp[4200];
    int fd;
    vouch_err rc = VOUCH_ERR_IO;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return VOUCH_ERR_INVAL;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return VOUCH_ERR_IO;
    if (write(fd, p, len) == (ssize_t)len && fsync(fd) == 0)
        rc = VOUCH_OK;
    close(fd);
    if (rc == VOUCH_OK && rename(tmp, path) != 0)
        rc = VOUCH_ERR_IO;
    if (rc != VOUCH_OK)
        unlink(tmp);
    return rc;
}
