/* One layer blob (layer.md) through libarchive into a directory. The blob's
 * own digest was checked before we get here (blob.c); this checks the
 * config's rootfs.diff_ids entry (config.md: the digest of the
 * *uncompressed* tar) on the same pass that extracts:
 *
 *   fd -> [archive "outer": gzip filter, raw format] -> sha256 (diff_id)
 *      -> [archive "inner": tar format]              -> extract.c
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

#define CHUNK (1 << 16)

struct src {                    /* the compressed (or plain) blob */
	int fd;
	unsigned char buf[CHUNK];
};

struct mid {                    /* the uncompressed tar stream, hashed as it passes */
	struct archive *outer;
	EVP_MD_CTX *md;
	unsigned char buf[CHUNK];
};

static la_ssize_t src_read(struct archive *a, void *p, const void **out)
{
	struct src *s = p;
	for (;;) {
		ssize_t n = read(s->fd, s->buf, sizeof(s->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			archive_set_error(a, errno, "read: %s", strerror(errno));
		*out = s->buf;
		return n;
	}
}

static la_ssize_t mid_read(struct archive *a, void *p, const void **out)
{
	struct mid *m = p;
	la_ssize_t n = archive_read_data(m->outer, m->buf, sizeof(m->buf));
	if (n < 0) {
		archive_set_error(a, archive_errno(m->outer) > 0 ? archive_errno(m->outer) : EIO, "%s",
				  archive_error_string(m->outer) ?: "decompression failed");
		return -1;
	}
	EVP_DigestUpdate(m->md, m->buf, (size_t)n);
	*out = m->buf;
	return n;
}

/* the outer archive: decompress, no format (raw hands out the bytes) */
static int outer_open(struct archive **outer, struct src *src, int gzip, struct cl_error *err)
{
	struct archive_entry *ae;
	struct archive *a = *outer = archive_read_new();
	if (!a)
		return cl_err(err, ENOMEM, "out of memory");
	if ((gzip && archive_read_support_filter_gzip(a) < ARCHIVE_WARN) ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open(a, src, NULL, src_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK)
		return cl_err(err, EINVAL, "%s", archive_error_string(a) ?: "empty or unreadable blob");
	/* only the filters we enabled can bid; "none" always can, so a plain
	 * tar declared tar+gzip would slip through without this check */
	if (gzip && archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)
		return cl_err(err, EINVAL, "media type says gzip, the data is not gzip");
	return 0;
}

int img_layer_unpack(int fd, int gzip, const char *diff_id_hex, int rootfd, struct cl_error *err)
{
	struct src *src = malloc(sizeof(*src));
	struct mid *mid = malloc(sizeof(*mid));
	struct img_fixups fx = { .root = geteuid() == 0 };
	struct archive *outer = NULL, *inner = NULL;
	struct archive_entry *ae;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char got[65];
	int r;
	if (!src || !mid || !(mid->md = EVP_MD_CTX_new())) {
		r = cl_err(err, ENOMEM, "out of memory");
		if (mid)
			mid->md = NULL;
		goto out;
	}
	src->fd = fd;
	EVP_DigestInit_ex(mid->md, EVP_sha256(), NULL);
	if ((r = outer_open(&outer, src, gzip, err)) < 0)
		goto out;
	mid->outer = outer;
	if (!(inner = archive_read_new()) || archive_read_support_format_tar(inner) != ARCHIVE_OK ||
	    archive_read_open(inner, mid, NULL, mid_read, NULL) != ARCHIVE_OK) {
		r = cl_err(err, EINVAL, "tar: %s", inner ? archive_error_string(inner) ?: "?" : "out of memory");
		goto out;
	}
	for (;;) {
		int a = archive_read_next_header(inner, &ae);
		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			r = cl_err(err, EINVAL, "tar: %s", archive_error_string(inner) ?: "bad header");
			goto out;
		}
		if ((r = img_extract_entry(rootfd, inner, ae, &fx, err)) < 0)
			goto out;
	}
	if ((r = img_fixups_apply(rootfd, &fx, err)) < 0)
		goto out;
	/* the diff_id covers the whole uncompressed stream, including the
	 * padding after the end-of-archive blocks that tar never reads */
	for (;;) {
		const void *p;
		la_ssize_t n = mid_read(inner, mid, &p);
		if (n < 0) {
			r = cl_err(err, EIO, "%s", archive_error_string(inner) ?: "read error");
			goto out;
		}
		if (n == 0)
			break;
	}
	EVP_DigestFinal_ex(mid->md, md, &mdlen);
	img_hex(md, mdlen, got);
	if (strcmp(got, diff_id_hex) != 0)
		r = cl_err(err, EINVAL, "uncompressed digest sha256:%s does not match rootfs.diff_ids sha256:%s",
			   got, diff_id_hex);
out:
	img_fixups_free(&fx);
	if (inner)
		archive_read_free(inner);
	if (outer)
		archive_read_free(outer);
	if (mid)
		EVP_MD_CTX_free(mid->md);
	free(mid);
	free(src);
	return r;
}
