/* The image layout (image-layout.md): oci-layout, index.json, and the
 * manifest a tag names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/file.h"

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

#define LAYOUT_JSON_MAX (4u << 20)

/* The GOARCH name of the machine we run on (config.md "architecture"). */
const char *img_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return NULL;
#endif
}

static int read_json(const char *dir, const char *name, json_object **out, struct cl_error *err)
{
	char path[4096];
	uint8_t *buf;
	size_t len;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return cl_err(err, ENAMETOOLONG, "%s: path too long", name);
	int r = cl_file_read(path, LAYOUT_JSON_MAX, &buf, &len, err);
	if (r < 0) {
		/* cl_file_read names the full path; the caller names the layout */
		if (r == -ENOENT)
			return cl_err(err, ENOENT, "not an OCI image layout (no %s)", name);
		return r;
	}
	r = img_json_parse(name, (const char *)buf, len, out, err);
	free(buf);
	return r;
}

/* image-layout.md "oci-layout file": imageLayoutVersion "1.0.0". */
static int check_oci_layout(const char *dir, struct cl_error *err)
{
	json_object *o, *v;
	int r = read_json(dir, "oci-layout", &o, err);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(o, "imageLayoutVersion", &v) ||
	    !json_object_is_type(v, json_type_string))
		r = cl_err(err, EINVAL, "not an OCI image layout (oci-layout has no imageLayoutVersion)");
	else if (strcmp(json_object_get_string(v), "1.0.0") != 0)
		r = cl_err(err, ENOTSUP, "oci-layout: imageLayoutVersion '%.40s', only 1.0.0 is supported",
			   json_object_get_string(v));
	json_object_put(o);
	return r;
}

static const char *ref_name(json_object *m)
{
	json_object *ann, *n;
	if (json_object_object_get_ex(m, "annotations", &ann) &&
	    json_object_is_type(ann, json_type_object) &&
	    json_object_object_get_ex(ann, IMAGE_REF_NAME, &n) && json_object_is_type(n, json_type_string))
		return json_object_get_string(n);
	return NULL;
}

/* A manifest without a platform is taken as ours; one with a platform must
 * be linux on this architecture (image-index.md "platform"). */
static int platform_ok(json_object *m)
{
	json_object *p, *os, *arch;
	const char *host = img_host_arch();
	if (!json_object_object_get_ex(m, "platform", &p) || !json_object_is_type(p, json_type_object))
		return 1;
	if (json_object_object_get_ex(p, "os", &os) &&
	    strcmp(json_object_get_string(os) ?: "", "linux") != 0)
		return 0;
	if (host && json_object_object_get_ex(p, "architecture", &arch) &&
	    strcmp(json_object_get_string(arch) ?: "", host) != 0)
		return 0;
	return 1;
}

/* "(have: a, b)" for the unknown-tag message. */
static void tag_list(json_object *ms, char *buf, size_t len)
{
	size_t n = json_object_array_length(ms), off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && off + 1 < len; i++) {
		const char *name = ref_name(json_object_array_get_idx(ms, i));
		if (name)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", name);
	}
	if (!buf[0])
		snprintf(buf, len, "no tags");
}

int img_layout_resolve(const char *dir, const char *tag, struct img_desc *manifest,
		       json_object **index, struct cl_error *err)
{
	json_object *idx, *v, *ms, *found = NULL;
	size_t ntagged = 0;
	*index = NULL;
	int r = check_oci_layout(dir, err);
	if (r < 0)
		return r;
	r = read_json(dir, "index.json", &idx, err);
	if (r < 0)
		return r;
	/* image-index.md: schemaVersion 2 REQUIRED; mediaType SHOULD be set */
	if (!json_object_object_get_ex(idx, "schemaVersion", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != 2) {
		r = cl_err(err, EINVAL, "index.json: schemaVersion is not 2");
		goto out;
	}
	if (json_object_object_get_ex(idx, "mediaType", &v) &&
	    (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), IMAGE_MT_INDEX))) {
		r = cl_err(err, EINVAL, "index.json: mediaType %.80s, want " IMAGE_MT_INDEX,
			   json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE));
		goto out;
	}
	if (!json_object_object_get_ex(idx, "manifests", &ms) || !json_object_is_type(ms, json_type_array)) {
		r = cl_err(err, EINVAL, "index.json: no manifests array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		json_object *m = json_object_array_get_idx(ms, i);
		const char *name = ref_name(m);
		if (!name || strcmp(name, tag) != 0)
			continue;
		ntagged++;
		if (platform_ok(m)) {
			found = m;
			break;
		}
	}
	if (!found) {
		char have[512];
		tag_list(ms, have, sizeof(have));
		if (ntagged)
			r = cl_err(err, ENOENT, "no manifest tagged %s for linux/%s", tag,
				   img_host_arch() ?: "this architecture");
		else
			r = cl_err(err, ENOENT, "no manifest tagged %s (have: %s)", tag, have);
		goto out;
	}
	char what[200];
	snprintf(what, sizeof(what), "index.json: manifest %s", tag);
	r = img_desc_parse(found, what, manifest, err);
	if (r < 0)
		goto out;
	if (strcmp(manifest->media_type, IMAGE_MT_MANIFEST) != 0) {
		r = cl_err(err, ENOTSUP, "%s: media type %s is not supported (want " IMAGE_MT_MANIFEST
			   "; nested indexes are not followed)", what, manifest->media_type);
		goto out;
	}
	*index = idx;   /* manifest->media_type points into it */
	return 0;
out:
	json_object_put(idx);
	return r;
}
