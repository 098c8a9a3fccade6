/*
 * smallfile — capped whole-file reads (config, service-account token). Plain
 * libc; never follows more than one open, never blocks on a FIFO.
 */
#include "config/smallfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int smallfile_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        r = -EISDIR;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        goto fail;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
        r = -EFBIG;
        goto fail;
    }
    /* The size may change while we read: read to EOF, never past max. */
    cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        r = -ENOMEM;
        goto fail;
    }
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char *bigger;

            if (cap > max) {
                r = -EFBIG;
                goto fail;
            }
            cap = cap > max / 2 ? max + 1 : cap * 2;
            bigger = realloc(buf, cap);
            if (!bigger) {
                r = -ENOMEM;
                goto fail;
            }
            buf = bigger;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0'; /* the last read returned 0 with len < cap */
    *ret = buf;
    *ret_len = len;
    return 0;

fail:
    free(buf);
    close(fd);
    return r;
}
