/* The image manifest (manifest.md) and the image config (config.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

static int get_int(json_object *o, const char *key, int64_t *v)
{
	json_object *x;
	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
		return -1;
	*v = json_object_get_int64(x);
	return 0;
}

/* KEY absent or null: NULL; a string: its copy ("" counts as absent);
 * anything else an error. */
static int get_str(json_object *o, const char *key, char **out, struct cl_error *err)
{
	json_object *x;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &x) || !x)
		return 0;
	if (!json_object_is_type(x, json_type_string))
		return cl_err(err, EINVAL, "%s: not a string", key);
	if (!*json_object_get_string(x))
		return 0;
	if (!(*out = strdup(json_object_get_string(x))))
		return cl_err(err, ENOMEM, "%s: out of memory", key);
	return 0;
}

/* layer.md: tar and tar+gzip, and their deprecated nondistributable twins
 * ("implementations are expected to support preexisting images" with
 * them); zstd and docker types are refused rather than guessed at */
int img_layer_gzip(const char *mt)
{
	if (!strcmp(mt, IMAGE_MT_LAYER) || !strcmp(mt, IMAGE_MT_LAYER_ND))
		return 0;
	if (!strcmp(mt, IMAGE_MT_LAYER_GZ) || !strcmp(mt, IMAGE_MT_LAYER_ND "+gzip"))
		return 1;
	return -1;
}

static int parse_manifest(json_object *m, struct img_manifest *out, struct cl_error *err)
{
	json_object *v, *layers;
	int64_t sv;
	int r;
	if (get_int(m, "schemaVersion", &sv) < 0 || sv != 2)
		return cl_err(err, EINVAL, "schemaVersion is not 2");
	/* manifest.md: mediaType SHOULD be present; if it is, it is ours */
	if (json_object_object_get_ex(m, "mediaType", &v) &&
	    (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), IMAGE_MT_MANIFEST)))
		return cl_err(err, EINVAL, "mediaType %.80s, want " IMAGE_MT_MANIFEST,
			      json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!json_object_object_get_ex(m, "config", &v))
		return cl_err(err, EINVAL, "no config descriptor");
	if ((r = img_desc_parse(v, "config", &out->cfg, err)) < 0)
		return r;
	if (strcmp(out->cfg.media_type, IMAGE_MT_CONFIG) != 0)
		return cl_err(err, ENOTSUP, "config: media type %s is not supported (want " IMAGE_MT_CONFIG ")",
			      out->cfg.media_type);
	if (!json_object_object_get_ex(m, "layers", &layers) || !json_object_is_type(layers, json_type_array))
		return cl_err(err, EINVAL, "no layers array");
	out->nlayers = json_object_array_length(layers);
	if (out->nlayers == 0)
		return cl_err(err, EINVAL, "no layers: nothing to make a root file system of");
	out->layers = calloc(out->nlayers, sizeof(*out->layers));
	out->diff_ids = calloc(out->nlayers, sizeof(*out->diff_ids));
	if (!out->layers || !out->diff_ids)
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < out->nlayers; i++) {
		char what[32];
		snprintf(what, sizeof(what), "layers[%zu]", i);
		if ((r = img_desc_parse(json_object_array_get_idx(layers, i), what, &out->layers[i], err)) < 0)
			return r;
		if (img_layer_gzip(out->layers[i].media_type) < 0)
			return cl_err(err, ENOTSUP, "layer sha256:%s: media type %s is not supported (want "
				      IMAGE_MT_LAYER " or " IMAGE_MT_LAYER_GZ ")",
				      out->layers[i].hex, out->layers[i].media_type);
	}
	return 0;
}

/* config.md "Properties": architecture, os, rootfs REQUIRED; config OPTIONAL. */
static int parse_config(json_object *c, struct img_manifest *m, struct image_config *cfg,
			struct cl_error *err)
{
	json_object *v, *rootfs, *ids, *cc;
	int r;
	if (!json_object_object_get_ex(c, "os", &v) || !json_object_is_type(v, json_type_string))
		return cl_err(err, EINVAL, "no os");
	if (strcmp(json_object_get_string(v), "linux") != 0)
		return cl_err(err, ENOEXEC, "os is %.40s, not linux", json_object_get_string(v));
	if (!json_object_object_get_ex(c, "architecture", &v) || !json_object_is_type(v, json_type_string))
		return cl_err(err, EINVAL, "no architecture");
	const char *host = img_host_arch();
	if (host && strcmp(json_object_get_string(v), host) != 0)
		return cl_err(err, ENOEXEC, "image is for %.40s, this machine is %s",
			      json_object_get_string(v), host);
	if (!json_object_object_get_ex(c, "rootfs", &rootfs) || !json_object_is_type(rootfs, json_type_object))
		return cl_err(err, EINVAL, "no rootfs object");
	if (!json_object_object_get_ex(rootfs, "type", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "layers") != 0)
		return cl_err(err, EINVAL, "rootfs.type is not \"layers\"");
	if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) || !json_object_is_type(ids, json_type_array))
		return cl_err(err, EINVAL, "no rootfs.diff_ids array");
	if (json_object_array_length(ids) != m->nlayers)
		return cl_err(err, EINVAL, "rootfs.diff_ids has %zu entries, the manifest %zu layers",
			      json_object_array_length(ids), m->nlayers);
	for (size_t i = 0; i < m->nlayers; i++) {
		json_object *d = json_object_array_get_idx(ids, i);
		if (!json_object_is_type(d, json_type_string))
			return cl_err(err, EINVAL, "rootfs.diff_ids[%zu]: not a string", i);
		if ((r = digest_parse(json_object_get_string(d), m->diff_ids[i], err)) < 0)
			return cl_err_wrap(err, "rootfs.diff_ids[%zu]", i);
	}
	if (!json_object_object_get_ex(c, "config", &cc) || !cc)
		return 0;
	if (!json_object_is_type(cc, json_type_object))
		return cl_err(err, EINVAL, "config: not an object");
	if ((r = img_json_strv(cc, "Entrypoint", &cfg->entrypoint, err)) < 0 ||
	    (r = img_json_strv(cc, "Cmd", &cfg->cmd, err)) < 0 ||
	    (r = img_json_strv(cc, "Env", &cfg->env, err)) < 0 ||
	    (r = get_str(cc, "WorkingDir", &cfg->working_dir, err)) < 0 ||
	    (r = get_str(cc, "User", &cfg->user, err)) < 0)
		return cl_err_wrap(err, "config");
	return 0;
}

int img_manifest_load(const char *dir, const struct img_desc *md, struct img_manifest *m,
		      struct image_config *cfg, struct cl_error *err)
{
	int r;
	memset(m, 0, sizeof(*m));
	if ((r = img_blob_json(dir, md, &m->manifest, err)) < 0)
		return cl_err_wrap(err, "manifest");
	if ((r = parse_manifest(m->manifest, m, err)) < 0)
		return cl_err_wrap(err, "manifest sha256:%s", md->hex);
	if ((r = img_blob_json(dir, &m->cfg, &m->config, err)) < 0)
		return cl_err_wrap(err, "config");
	if ((r = parse_config(m->config, m, cfg, err)) < 0)
		return cl_err_wrap(err, "config sha256:%s", m->cfg.hex);
	return 0;
}

void img_manifest_free(struct img_manifest *m)
{
	json_object_put(m->manifest);
	json_object_put(m->config);
	free(m->layers);
	free(m->diff_ids);
	memset(m, 0, sizeof(*m));
}
