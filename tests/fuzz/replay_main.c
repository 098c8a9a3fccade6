/*
 * Replay driver for the fuzz targets: feeds every file under the folders
 * (or files) named on the command line to LLVMFuzzerTestOneInput once, so
 * `make check` replays each corpus and every past crash under the current
 * build's sanitizers without needing libFuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, unsigned *count)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    if (!f)
        return -errno;
    if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
        fclose(f);
        return -EIO;
    }
    /* An exact-size heap copy, so ASan sees reads past the end. */
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return -EIO;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    (*count)++;
    return 0;
}

static int replay_path(const char *path, unsigned *count)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int r = 0;

    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno; /* a target may have no regressions yet */
    if (!S_ISDIR(st.st_mode))
        return replay_file(path, count);
    d = opendir(path);
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char sub[4096];

        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        r = replay_path(sub, count);
        if (r < 0)
            break;
    }
    closedir(d);
    return r;
}

int main(int argc, char **argv)
{
    unsigned count = 0;

    for (int i = 1; i < argc; i++) {
        int r = replay_path(argv[i], &count);
        if (r < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(-r));
            return 1;
        }
    }
    printf("replay %s: %u inputs, no crash\n", argc > 1 ? argv[1] : "(none)", count);
    return 0;
}
