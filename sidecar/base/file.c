/*
 * file — sidecar/'s name for config/smallfile, the tree's one capped reader.
 */
#include "sidecar/base/file.h"

#include "config/smallfile.h"

int file_read_small(const char *path, size_t max, char **ret, size_t *ret_len)
{
    return smallfile_read(path, max, ret, ret_len);
}
