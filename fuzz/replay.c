/*
 * Corpus replay driver: feeds every file under the given paths (files or
 * directories, one level deep) to LLVMFuzzerTestOneInput, so the corpora run
 * as regression tests under any compiler. An empty or missing corpus fails:
 * a replay that replays nothing proves nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    int rc = -1;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf)
        goto out;
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
        goto out;
    /* Copy to an exact-size allocation so ASan catches any over-read. */
    {
        uint8_t *exact = malloc(n > 0 ? (size_t)n : 1);
        if (!exact)
            goto out;
        memcpy(exact, buf, (size_t)n);
        LLVMFuzzerTestOneInput(exact, (size_t)n);
        free(exact);
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long count = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: missing\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            if (!d)
                return 1;
            while ((e = readdir(d)) != NULL) {
                char path[4096];
                if (e->d_name[0] == '.')
                    continue;
                if ((size_t)snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name) >=
                    sizeof(path))
                    continue;
                if (run_file(path) != 0) {
                    fprintf(stderr, "replay: cannot read %s\n", path);
                    closedir(d);
                    return 1;
                }
                count++;
            }
            closedir(d);
        } else {
            if (run_file(argv[i]) != 0)
                return 1;
            count++;
        }
    }
    printf("replayed %lu inputs\n", count);
    return count > 0 ? 0 : 1;
}
