/* Small file helpers shared by the libraries. */
#ifndef CLOUDLET_FILE_H
#define CLOUDLET_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudlet/error.h"

/* Read a whole regular file of at most `max` bytes into a malloc'd buffer.
 * Errors name the path: "PATH: No such file or directory". */
int cl_file_read(const char *path, size_t max, uint8_t **buf, size_t *len,
		 struct cl_error *err);
/* Read a text file to EOF (proc, sysfs and cgroup files report size 0)
 * into a malloc'd NUL-terminated string; EFBIG past max bytes. */
int cl_text_read(const char *path, size_t max, char **text, struct cl_error *err);
/* Write text to an existing file in one write(2) (proc, sysfs and cgroup
 * files take a value per write). */
int cl_text_write(const char *path, const char *text, struct cl_error *err);
/* Create or replace a file with text: PATH.tmp written, then renamed
 * (readers never see half a file). */
int cl_file_write_atomic(const char *path, const char *text, mode_t mode, struct cl_error *err);
/* mkdir -p: each missing directory with mode; 0 or -errno. */
int cl_mkdir_p(const char *path, mode_t mode);
/* rm -rf PATH that stays on PATH's filesystem (-EBUSY at a mount point
 * below it) and never follows symlinks; 0 when PATH is already gone. */
int cl_remove_tree(const char *path);
/* pread exactly len bytes at off (retrying short reads); -EIO on early EOF. */
int cl_pread_full(int fd, void *buf, size_t len, uint64_t off);

#endif
