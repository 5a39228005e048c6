/* Small file helpers shared by the libraries. */
#ifndef CLOUDLET_FILE_H
#define CLOUDLET_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"

/* Read a whole regular file of at most `max` bytes into a malloc'd buffer.
 * Errors name the path: "PATH: No such file or directory". */
int cl_file_read(const char *path, size_t max, uint8_t **buf, size_t *len,
		 struct cl_error *err);
/* pread exactly len bytes at off (retrying short reads); -EIO on early EOF. */
int cl_pread_full(int fd, void *buf, size_t len, uint64_t off);

#endif
