/* Helpers for the image tests (test_image_*.c): OCI layouts crafted in
 * temp dirs, tars written with libarchive's writer, JSON with json-c.
 * No Test() here; tests/fixtures/image/ti.h declares these. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../../crun/image.h"

#include "../fixtures/image/ti.h"

void ti_sha256(const void *buf, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned n = 0;
	cr_assert(EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL));
	img_hex(md, n, hex);
}

void ti_write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

void ti_blob(const char *dir, const void *buf, size_t len, char hex[65])
{
	char name[128];
	ti_sha256(buf, len, hex);
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	ti_write_file(dir, name, buf, len);
}

json_object *ti_desc(const char *mt, const char *hex, size_t size)
{
	json_object *d = json_object_new_object();
	char dg[80];
	snprintf(dg, sizeof(dg), "sha256:%s", hex);
	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(dg));
	json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
	return d;
}

static json_object *strv(const char *a, const char *b)
{
	json_object *v = json_object_new_array();
	json_object_array_add(v, json_object_new_string(a));
	if (b)
		json_object_array_add(v, json_object_new_string(b));
	return v;
}

/* A layout in a new temp dir: oci-layout, a default config and manifest
 * (no layers yet), tag "latest". ti_write puts the JSON on disk. */
void ti_init(struct ti_img *im)
{
	char p[PATH_MAX];
	memset(im, 0, sizeof(*im));
	snprintf(im->root, sizeof(im->root), "/tmp/cloudlet-image-test-XXXXXX");
	cr_assert_not_null(mkdtemp(im->root));
	snprintf(im->dir, sizeof(im->dir), "%s/oci", im->root);
	snprintf(im->store, sizeof(im->store), "%s/store", im->root);
	snprintf(p, sizeof(p), "%s/blobs/sha256", im->dir);
	cr_assert_eq(mkdir(im->dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/blobs", im->dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	strcat(p, "/sha256");
	cr_assert_eq(mkdir(p, 0755), 0);
	ti_write_file(im->dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	snprintf(im->tag, sizeof(im->tag), "latest");

	im->config = json_object_new_object();
	json_object *c = json_object_new_object(), *rootfs = json_object_new_object();
	json_object_object_add(im->config, "architecture", json_object_new_string(img_host_arch()));
	json_object_object_add(im->config, "os", json_object_new_string("linux"));
	json_object_object_add(c, "Entrypoint", strv("/init", NULL));
	json_object_object_add(c, "Cmd", strv("exit", NULL));
	json_object_object_add(c, "Env", strv("PATH=/bin", "A=b c"));
	json_object_object_add(c, "WorkingDir", json_object_new_string("/tmp"));
	json_object_object_add(im->config, "config", c);
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	json_object_object_add(rootfs, "diff_ids", json_object_new_array());
	json_object_object_add(im->config, "rootfs", rootfs);

	im->manifest = json_object_new_object();
	json_object_object_add(im->manifest, "schemaVersion", json_object_new_int(2));
	json_object_object_add(im->manifest, "mediaType", json_object_new_string(IMAGE_MT_MANIFEST));
	json_object_object_add(im->manifest, "layers", json_object_new_array());
}

void ti_fini(struct ti_img *im)
{
	json_object_put(im->config);
	json_object_put(im->manifest);
	if (im->root[0])
		img_rm_rf_at(AT_FDCWD, im->root);
	memset(im, 0, sizeof(*im));
}

struct membuf {
	unsigned char *p;
	size_t len, cap;
};

static la_ssize_t mem_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	(void)a;
	struct membuf *m = ud;
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return (la_ssize_t)n;
}

static struct archive *writer(struct membuf *m, int gzip, int raw)
{
	struct archive *a = archive_write_new();
	cr_assert_eq(raw ? archive_write_set_format_raw(a) : archive_write_set_format_pax_restricted(a),
		     ARCHIVE_OK);
	if (gzip)
		cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	cr_assert_eq(archive_write_open2(a, m, NULL, mem_write, NULL, NULL), ARCHIVE_OK);
	return a;
}

/* A tar of ENTS (see struct ti_ent). */
void ti_tar(const struct ti_ent *ents, size_t n, unsigned char **buf, size_t *len)
{
	struct membuf m = { 0 };
	struct archive *a = writer(&m, 0, 0);
	for (size_t i = 0; i < n; i++) {
		const struct ti_ent *e = &ents[i];
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e->path);
		archive_entry_set_uid(ae, e->uid);
		archive_entry_set_gid(ae, e->gid);
		archive_entry_set_mtime(ae, e->mtime ? e->mtime : 1000000000, 0);
		mode_t mode = e->mode;
		switch (e->type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, e->data ? (la_int64_t)strlen(e->data) : 0);
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			mode = mode ? mode : 0755;
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e->data);
			mode = 0777;
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e->data);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		case 'p':
			archive_entry_set_filetype(ae, AE_IFIFO);
			break;
		}
		archive_entry_set_perm(ae, mode ? mode : 0644);
		if (e->xattr)
			archive_entry_xattr_add_entry(ae, e->xattr, e->xattr_val, strlen(e->xattr_val));
		cr_assert_geq(archive_write_header(a, ae), ARCHIVE_WARN, "%s", archive_error_string(a));
		if (e->type == 'f' && e->data)
			archive_write_data(a, e->data, strlen(e->data));
		archive_entry_free(ae);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*buf = m.p;
	*len = m.len;
}

void ti_gzip(const unsigned char *in, size_t n, unsigned char **buf, size_t *len)
{
	struct membuf m = { 0 };
	struct archive *a = writer(&m, 1, 1);
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, "layer");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_size(ae, (la_int64_t)n);
	cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK);
	cr_assert_eq(archive_write_data(a, in, n), (la_ssize_t)n);
	archive_entry_free(ae);
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*buf = m.p;
	*len = m.len;
}

/* Add a layer blob (BLOB, described with media type MT) whose diff_id is
 * the sha256 of TAR. */
void ti_add_layer_raw(struct ti_img *im, const void *blob, size_t blen, const char *mt,
		      const void *tar, size_t tlen)
{
	char hex[65], diff[80];
	ti_blob(im->dir, blob, blen, hex);
	json_object_array_add(json_object_object_get(im->manifest, "layers"), ti_desc(mt, hex, blen));
	strcpy(diff, "sha256:");
	ti_sha256(tar, tlen, diff + 7);
	json_object_array_add(json_object_object_get(json_object_object_get(im->config, "rootfs"), "diff_ids"),
			      json_object_new_string(diff));
	strcpy(im->layer_hex[im->nlayers], hex);
	strcpy(im->diff_hex[im->nlayers], diff + 7);
	im->nlayers++;
}

void ti_add_layer(struct ti_img *im, const struct ti_ent *ents, size_t n, int gzip)
{
	unsigned char *tar, *gz;
	size_t tlen, glen;
	ti_tar(ents, n, &tar, &tlen);
	if (gzip) {
		ti_gzip(tar, tlen, &gz, &glen);
		ti_add_layer_raw(im, gz, glen, IMAGE_MT_LAYER_GZ, tar, tlen);
		free(gz);
	} else {
		ti_add_layer_raw(im, tar, tlen, IMAGE_MT_LAYER, tar, tlen);
	}
	free(tar);
}

static void json_blob(const char *dir, json_object *o, char hex[65], size_t *size)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	*size = strlen(s);
	ti_blob(dir, s, *size, hex);
}

/* index.json naming manifest blob HEX/SIZE with im->tag */
void ti_index(struct ti_img *im, const char *mt, const char *hex, size_t size)
{
	json_object *idx = json_object_new_object(), *ms = json_object_new_array();
	json_object *d = ti_desc(mt, hex, size), *ann = json_object_new_object(), *pf = json_object_new_object();
	json_object_object_add(pf, "architecture", json_object_new_string(img_host_arch()));
	json_object_object_add(pf, "os", json_object_new_string("linux"));
	json_object_object_add(d, "platform", pf);
	json_object_object_add(ann, IMAGE_REF_NAME, json_object_new_string(im->tag));
	json_object_object_add(d, "annotations", ann);
	json_object_array_add(ms, d);
	json_object_object_add(idx, "schemaVersion", json_object_new_int(2));
	json_object_object_add(idx, "mediaType", json_object_new_string(IMAGE_MT_INDEX));
	json_object_object_add(idx, "manifests", ms);
	const char *s = json_object_to_json_string_ext(idx, JSON_C_TO_STRING_PRETTY);
	ti_write_file(im->dir, "index.json", s, strlen(s));
	json_object_put(idx);
}

/* config blob -> manifest.config (unless im->keep_config_desc), manifest
 * blob -> index.json */
void ti_write(struct ti_img *im)
{
	size_t size;
	if (!im->keep_config_desc) {
		json_blob(im->dir, im->config, im->config_hex, &size);
		json_object_object_add(im->manifest, "config", ti_desc(IMAGE_MT_CONFIG, im->config_hex, size));
	}
	json_blob(im->dir, im->manifest, im->manifest_hex, &size);
	ti_index(im, IMAGE_MT_MANIFEST, im->manifest_hex, size);
}

/* A one-layer image of ENTS, written; returns image_open's result. */
int ti_open_layer(struct ti_img *im, const struct ti_ent *ents, size_t n, struct image *img,
		  struct cl_error *err)
{
	ti_init(im);
	ti_add_layer(im, ents, n, 1);
	ti_write(im);
	return image_open(im->store, im->dir, img, err);
}

/* Count entries of the store's sha256 dir (layers and leftovers). */
int ti_store_count(const struct ti_img *im, int *tmp)
{
	char p[PATH_MAX];
	int n = 0;
	snprintf(p, sizeof(p), "%s/layers/sha256", im->store);
	*tmp = 0;
	DIR *d = opendir(p);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
		else if (!strncmp(de->d_name, ".tmp-", 5))
			(*tmp)++;
	closedir(d);
	return n;
}
