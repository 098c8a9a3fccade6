/*
 * smallfile — read a whole small regular file into memory, capped. The one
 * implementation in the tree: config/ loads the YAML with it, sidecar/ reaches
 * it through sidecar/base/file.h (config/ may use libc only, so it lives here).
 */
#ifndef ROLLGUARD_SMALLFILE_H
#define ROLLGUARD_SMALLFILE_H

#include <stddef.h>

/*
 * Read path (opened O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK, so a FIFO cannot
 * block) to EOF, never past max bytes. Returns 0 with *ret a malloc'd
 * NUL-terminated buffer of *ret_len bytes (the caller frees it), or -errno:
 * -EISDIR for a directory, -EINVAL for anything but a regular file, -EFBIG
 * when the file is (or grows while read) over max, -ENOMEM, or open/read's.
 * *ret and *ret_len are set only on success.
 */
int smallfile_read(const char *path, size_t max, char **ret, size_t *ret_len);

#endif
