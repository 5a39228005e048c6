/* image_open: reference -> layout -> manifest -> config -> layer dirs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->manifest_digest);
	free(img->config_digest);
	img_strv_free(img->layers);
	img_strv_free(img->config.entrypoint);
	img_strv_free(img->config.cmd);
	img_strv_free(img->config.env);
	free(img->config.working_dir);
	free(img->config.user);
	memset(img, 0, sizeof(*img));
}

static char *digest_str(const char *hex)
{
	char *s;
	return asprintf(&s, "sha256:%s", hex) < 0 ? NULL : s;
}

/* Make every layer dir exist. Fast path without the lock: a dir that
 * exists is complete (store.c). Otherwise lock, look again (another
 * process may have just made it), unpack what is still missing. */
static int layers_ensure(const char *store, const char *layout, const struct img_manifest *m,
			 struct image *img, struct cl_error *err)
{
	char *sha = NULL;
	int lockfd = -1, r = 0;
	int shafd = img_store_open(store, &sha, err);
	if (shafd < 0)
		return shafd;
	img->nlayers = m->nlayers;
	if (!(img->layers = calloc(m->nlayers + 1, sizeof(*img->layers)))) {
		r = cl_err(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->nlayers; i++) {
		const struct img_desc *d = &m->layers[i];
		int have = img_store_has(shafd, m->diff_ids[i], err);
		if (!have && lockfd < 0 && (lockfd = img_store_lock(shafd, err)) < 0) {
			r = lockfd;
			goto out;
		}
		if (!have)
			have = img_store_has(shafd, m->diff_ids[i], err);
		if (have < 0) {
			r = have;
			goto out;
		}
		if (!have) {
			int fd = img_blob_open(layout, d, err);
			if (fd < 0) {
				r = fd;
				goto out;
			}
			r = img_store_unpack(shafd, sha, fd, img_layer_gzip(d->media_type),
					     m->diff_ids[i], err);
			close(fd);
			if (r < 0) {
				cl_err_wrap(err, "layer sha256:%s", d->hex);
				goto out;
			}
		}
		if (asprintf(&img->layers[i], "%s/%s", sha, m->diff_ids[i]) < 0) {
			img->layers[i] = NULL;
			r = cl_err(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	if (lockfd >= 0)
		close(lockfd);   /* releases the flock */
	close(shafd);
	free(sha);
	return r;
}

int image_open(const char *store, const char *ref, struct image *img, struct cl_error *err)
{
	struct img_manifest m = { 0 };
	struct img_desc md;
	json_object *index = NULL;
	char *path = NULL, *tag = NULL;
	struct stat st;
	int r;
	memset(img, 0, sizeof(*img));
	if ((r = image_ref_parse(ref, &path, &tag, err)) < 0)
		return r;
	if (stat(path, &st) < 0) {
		r = cl_err_sys(err, errno, "image %s", path);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		r = cl_err(err, ENOTDIR, "image %s: not a directory (want an OCI image layout)", path);
		goto out;
	}
	if ((r = img_layout_resolve(path, tag, &md, &index, err)) < 0 ||
	    (r = img_manifest_load(path, &md, &m, &img->config, err)) < 0 ||
	    (r = layers_ensure(store, path, &m, img, err)) < 0)
		goto wrap;
	img->manifest_digest = digest_str(md.hex);
	img->config_digest = digest_str(m.cfg.hex);
	if (!img->manifest_digest || !img->config_digest)
		r = cl_err(err, ENOMEM, "out of memory");
wrap:
	if (r < 0)
		cl_err_wrap(err, "image %s", path);
out:
	img_manifest_free(&m);
	json_object_put(index);
	free(path);
	free(tag);
	if (r < 0)
		image_free(img);
	return r;
}
