/*
 * file — small-file reads for sidecar/ (the config on reload, the
 * service-account token). One implementation: config/smallfile.
 */
#ifndef ROLLGUARD_FILE_H
#define ROLLGUARD_FILE_H

#include <stddef.h>

/*
 * Read the regular file at path, at most max bytes, opened
 * O_RDONLY|O_CLOEXEC|O_NONBLOCK. Returns 0 with *ret a malloc'd
 * NUL-terminated buffer of *ret_len bytes (the caller frees it), or -errno:
 * -EISDIR for a directory, -EINVAL for a non-regular file, -EFBIG over max.
 */
int file_read_small(const char *path, size_t max, char **ret, size_t *ret_len);

#endif
