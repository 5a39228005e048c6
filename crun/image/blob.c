/* Content-addressed blobs (image-layout.md "Blobs", descriptor.md): every
 * blob is read through here and checked against its descriptor's size and
 * digest before anything parses it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudlet/file.h"

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

#define JSON_BLOB_MAX (4u << 20)   /* manifests and configs are a few KiB */

void img_hex(const unsigned char *md, unsigned len, char out[65])
{
	static const char d[] = "0123456789abcdef";
	for (unsigned i = 0; i < len && i < 32; i++) {
		out[2 * i] = d[md[i] >> 4];
		out[2 * i + 1] = d[md[i] & 15];
	}
	out[64] = '\0';
}

/* descriptor.md "Properties": mediaType, digest, size are REQUIRED. */
int img_desc_parse(json_object *o, const char *what, struct img_desc *d, struct cl_error *err)
{
	json_object *mt, *dg, *sz;
	if (!json_object_is_type(o, json_type_object))
		return cl_err(err, EINVAL, "%s: descriptor is not an object", what);
	if (!json_object_object_get_ex(o, "mediaType", &mt) || !json_object_is_type(mt, json_type_string))
		return cl_err(err, EINVAL, "%s: descriptor has no mediaType string", what);
	if (!json_object_object_get_ex(o, "digest", &dg) || !json_object_is_type(dg, json_type_string))
		return cl_err(err, EINVAL, "%s: descriptor has no digest string", what);
	if (!json_object_object_get_ex(o, "size", &sz) || !json_object_is_type(sz, json_type_int))
		return cl_err(err, EINVAL, "%s: descriptor has no integer size", what);
	d->media_type = json_object_get_string(mt);
	if (digest_parse(json_object_get_string(dg), d->hex, err) < 0)
		return cl_err_wrap(err, "%s", what);
	errno = 0;
	d->size = json_object_get_int64(sz);
	if (d->size < 0 || errno)
		return cl_err(err, EINVAL, "%s: descriptor size %s out of range", what,
			      json_object_to_json_string_ext(sz, JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static int blob_path(const char *dir, const char *hex, char *buf, size_t len, struct cl_error *err)
{
	if ((size_t)snprintf(buf, len, "%s/blobs/sha256/%s", dir, hex) >= len)
		return cl_err(err, ENAMETOOLONG, "blob sha256:%s: path too long", hex);
	return 0;
}

/* Hash the whole of FD (from offset 0) and compare with D. */
static int verify_fd(int fd, const struct img_desc *d, struct cl_error *err)
{
	unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	uint64_t n = 0;
	int r = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		r = cl_err(err, ENOMEM, "blob sha256:%s: cannot start sha256", d->hex);
		goto out;
	}
	for (;;) {
		ssize_t k = pread(fd, buf, sizeof(buf), (off_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = cl_err_sys(err, errno, "blob sha256:%s: read", d->hex);
			goto out;
		}
		if (k == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)k);
		n += (uint64_t)k;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	char got[65];
	img_hex(md, mdlen, got);
	if (n != (uint64_t)d->size)
		r = cl_err(err, EINVAL, "blob sha256:%s: size mismatch (%llu bytes, descriptor says %lld)",
			   d->hex, (unsigned long long)n, (long long)d->size);
	else if (strcmp(got, d->hex) != 0)
		r = cl_err(err, EINVAL, "blob sha256:%s: digest mismatch (got sha256:%s)", d->hex, got);
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Open, check size (fstat: fail before reading a huge wrong file), check
 * digest; returns the fd at offset 0. The digest is checked before any
 * parser (JSON, gzip, tar) sees a byte of the blob. */
int img_blob_open(const char *dir, const struct img_desc *d, struct cl_error *err)
{
	char path[4096];
	struct stat st;
	int r = blob_path(dir, d->hex, path, sizeof(path), err);
	if (r < 0)
		return r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_err_sys(err, errno, "blob sha256:%s", d->hex);
	if (fstat(fd, &st) < 0) {
		r = cl_err_sys(err, errno, "blob sha256:%s", d->hex);
	} else if (!S_ISREG(st.st_mode)) {
		r = cl_err(err, EINVAL, "blob sha256:%s: not a regular file", d->hex);
	} else if (st.st_size != d->size) {
		r = cl_err(err, EINVAL, "blob sha256:%s: size mismatch (%lld bytes, descriptor says %lld)",
			   d->hex, (long long)st.st_size, (long long)d->size);
	} else {
		r = verify_fd(fd, d, err);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Parse exactly LEN bytes as one JSON value: a truncated document or
 * trailing garbage is an error, not a prefix. */
int img_json_parse(const char *what, const char *buf, size_t len, json_object **out,
		   struct cl_error *err)
{
	*out = NULL;
	if (len > INT32_MAX)
		return cl_err(err, EFBIG, "%s: too large", what);
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return cl_err(err, ENOMEM, "%s: out of memory", what);
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || e != json_tokener_success) {
		json_object_put(o);
		if (e == json_tokener_continue || e == json_tokener_success)
			return cl_err(err, EINVAL, "%s: truncated JSON", what);
		return cl_err(err, EINVAL, "%s: bad JSON at byte %zu: %s", what, end,
			      json_tokener_error_desc(e));
	}
	for (; end < len; end++)
		if (!strchr(" \t\r\n", buf[end])) {
			json_object_put(o);
			return cl_err(err, EINVAL, "%s: garbage after the JSON at byte %zu", what, end);
		}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cl_err(err, EINVAL, "%s: not a JSON object", what);
	}
	*out = o;
	return 0;
}

int img_blob_json(const char *dir, const struct img_desc *d, json_object **out,
		  struct cl_error *err)
{
	char what[80];
	*out = NULL;
	if (d->size > JSON_BLOB_MAX)
		return cl_err(err, EFBIG, "blob sha256:%s: %lld bytes, more than the %u allowed for JSON",
			      d->hex, (long long)d->size, JSON_BLOB_MAX);
	int fd = img_blob_open(dir, d, err);
	if (fd < 0)
		return fd;
	char *buf = malloc((size_t)d->size + 1);
	int r = buf ? cl_pread_full(fd, buf, (size_t)d->size, 0) : -ENOMEM;
	close(fd);
	if (r < 0) {
		free(buf);
		return cl_err_sys(err, -r, "blob sha256:%s: read", d->hex);
	}
	snprintf(what, sizeof(what), "blob sha256:%s", d->hex);
	r = img_json_parse(what, buf, (size_t)d->size, out, err);
	free(buf);
	return r;
}

void img_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* KEY absent or null: *out = NULL. Otherwise an array of strings. */
int img_json_strv(json_object *o, const char *key, char ***out, struct cl_error *err)
{
	json_object *a;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return cl_err(err, EINVAL, "%s: not an array of strings", key);
	size_t n = json_object_array_length(a);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return cl_err(err, ENOMEM, "%s: out of memory", key);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_string)) {
			img_strv_free(v);
			return cl_err(err, EINVAL, "%s[%zu]: not a string", key, i);
		}
		if (!(v[i] = strdup(json_object_get_string(s)))) {
			img_strv_free(v);
			return cl_err(err, ENOMEM, "%s: out of memory", key);
		}
	}
	*out = v;
	return 0;
}
