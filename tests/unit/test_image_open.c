/* crun/image: layouts, manifests, configs, blobs (image-layout.md,
 * manifest.md, config.md, descriptor.md), on layouts crafted per test. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../../crun/image.h"
#include "../fixtures/image/ti.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct ti_img im;
static struct image img;
static struct cl_error err;

static void fini(void)
{
	image_free(&img);
	ti_fini(&im);
}

TestSuite(image_open, .fini = fini);

static const struct ti_ent base[] = {
	TI_D("bin", 0),
	TI_F("bin/busybox", "#!busybox", 0755),
	TI_L("bin/sh", "busybox"),
	TI_F("init", "#!/bin/sh\nexit 0\n", 0755),
};

/* a good one-layer image, written, not opened */
static void good(void)
{
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	ti_write(&im);
}

static int open_ref(const char *suffix)
{
	char ref[256];
	snprintf(ref, sizeof(ref), "%s%s", im.dir, suffix);
	image_free(&img);
	cl_err_clear(&err);
	return image_open(im.store, ref, &img, &err);
}

/* the error names the layout and mentions WHAT */
static void fails(const char *what)
{
	cr_assert_lt(open_ref(""), 0, "opened; wanted '%s'", what);
	cr_assert(strstr(err.msg, what), "want '%s' in: %s", what, err.msg);
	cr_assert(!strncmp(err.msg, "image ", 6), "%s", err.msg);
	cr_assert_null(img.layers);
	cr_assert_null(img.manifest_digest);
	int tmp;
	cr_assert_eq(ti_store_count(&im, &tmp), 0, "a layer dir was left");
	cr_assert_eq(tmp, 0, "a temp dir was left");
}

Test(image_open, good)
{
	char p[512];
	struct stat st;
	good();
	cr_assert_eq(open_ref(""), 0, "%s", err.msg);
	cr_assert_str_eq(img.config.entrypoint[0], "/init");
	cr_assert_null(img.config.entrypoint[1]);
	cr_assert_str_eq(img.config.cmd[0], "exit");
	cr_assert_null(img.config.cmd[1]);
	cr_assert_str_eq(img.config.env[0], "PATH=/bin");
	cr_assert_str_eq(img.config.env[1], "A=b c");
	cr_assert_null(img.config.env[2]);
	cr_assert_str_eq(img.config.working_dir, "/tmp");
	cr_assert_null(img.config.user);
	snprintf(p, sizeof(p), "sha256:%s", im.manifest_hex);
	cr_assert_str_eq(img.manifest_digest, p);
	snprintf(p, sizeof(p), "sha256:%s", im.config_hex);
	cr_assert_str_eq(img.config_digest, p);
	cr_assert_eq(img.nlayers, 1);
	cr_assert_null(img.layers[1]);
	cr_assert_eq(img.layers[0][0], '/', "%s", img.layers[0]);
	cr_assert(strstr(img.layers[0], im.diff_hex[0]), "keyed by diff_id: %s", img.layers[0]);
	snprintf(p, sizeof(p), "%s/bin/busybox", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0, "%s", p);
	cr_assert_eq(st.st_mode & 07777, 0755);
	cr_assert_eq(st.st_size, 9);
	snprintf(p, sizeof(p), "%s/bin/sh", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	/* the tag, explicitly */
	cr_assert_eq(open_ref(":latest"), 0, "%s", err.msg);
}

Test(image_open, plain_tar_layer_and_no_config_object)
{
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 0);
	json_object_object_del(im.config, "config");   /* config.md: OPTIONAL */
	ti_write(&im);
	cr_assert_eq(open_ref(""), 0, "%s", err.msg);
	cr_assert_null(img.config.entrypoint);
	cr_assert_null(img.config.cmd);
	cr_assert_null(img.config.env);
	cr_assert_null(img.config.working_dir);
}

Test(image_open, null_and_user_fields)
{
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	json_object *c = json_object_object_get(im.config, "config");
	json_object_object_add(c, "Cmd", NULL);
	json_object_object_add(c, "User", json_object_new_string("1000:1000"));
	ti_write(&im);
	cr_assert_eq(open_ref(""), 0, "%s", err.msg);
	cr_assert_null(img.config.cmd);
	cr_assert_str_eq(img.config.user, "1000:1000");
}

Test(image_open, unknown_tag)
{
	good();
	cr_assert_eq(open_ref(":v2"), -ENOENT);
	char want[400];
	snprintf(want, sizeof(want), "image %s: no manifest tagged v2 (have: latest)", im.dir);
	cr_assert_str_eq(err.msg, want);
}

Test(image_open, missing_dir_and_not_a_layout)
{
	char p[256];
	good();
	snprintf(p, sizeof(p), "%s/nope", im.root);
	cr_assert_eq(image_open(im.store, p, &img, &err), -ENOENT);
	cr_assert(strstr(err.msg, "nope: No such file"), "%s", err.msg);
	snprintf(p, sizeof(p), "%s/oci-layout", im.dir);
	cr_assert_eq(image_open(im.store, p, &img, &err), -ENOTDIR);
	cr_assert(strstr(err.msg, "not a directory"), "%s", err.msg);
	unlink(p);
	fails("not an OCI image layout (no oci-layout)");
}

Test(image_open, layout_version)
{
	good();
	ti_write_file(im.dir, "oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}", 30);
	fails("imageLayoutVersion '2.0.0', only 1.0.0");
	ti_write_file(im.dir, "oci-layout", "{}", 2);
	fails("no imageLayoutVersion");
	ti_write_file(im.dir, "oci-layout", "{\"imageLayoutVersion\":", 21);
	fails("oci-layout: truncated JSON");
}

Test(image_open, bad_index)
{
	static const struct { const char *json, *why; } bad[] = {
		{ "{\"schemaVersion\":2,\"manifests\":[", "index.json: truncated JSON" },
		{ "", "index.json: truncated JSON" },
		{ "[]", "index.json: not a JSON object" },
		{ "{\"schemaVersion\":2,\"manifests\":[]} x", "index.json: garbage after the JSON" },
		{ "{\"schemaVersion\":2,\"manifests\":{}}", "index.json: no manifests array" },
		{ "{\"manifests\":[]}", "index.json: schemaVersion is not 2" },
		{ "{\"schemaVersion\":\"2\",\"manifests\":[]}", "schemaVersion is not 2" },
		{ "{\"schemaVersion\":2,\"mediaType\":\"x\",\"manifests\":[]}", "index.json: mediaType \"x\"" },
		{ "{\"schemaVersion\":2,\"manifests\":[]}", "no manifest tagged latest (have: no tags)" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"annotations\":{\"" IMAGE_REF_NAME "\":\"latest\"}}]}",
		  "manifest latest: descriptor has no mediaType" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" IMAGE_MT_MANIFEST "\",\"size\":1,"
		  "\"digest\":\"sha256:abc\",\"annotations\":{\"" IMAGE_REF_NAME "\":\"latest\"}}]}",
		  "index.json: manifest latest: digest 'sha256:abc': 3 hex digits" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" IMAGE_MT_MANIFEST "\",\"size\":\"1\","
		  "\"digest\":\"sha256:abc\",\"annotations\":{\"" IMAGE_REF_NAME "\":\"latest\"}}]}",
		  "no integer size" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" IMAGE_MT_MANIFEST "\",\"size\":-1,"
		  "\"digest\":\"sha256:" HEX64 "\",\"annotations\":{\"" IMAGE_REF_NAME "\":\"latest\"}}]}",
		  "size -1 out of range" },
		{ "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" IMAGE_MT_MANIFEST "\",\"size\":1,"
		  "\"digest\":\"sha256:abc\",\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"},"
		  "\"annotations\":{\"" IMAGE_REF_NAME "\":\"latest\"}}]}",
		  "no manifest tagged latest for linux/" },
	};
	good();
	for (size_t i = 0; i < TI_N(bad); i++) {
		ti_write_file(im.dir, "index.json", bad[i].json, strlen(bad[i].json));
		fails(bad[i].why);
	}
}

Test(image_open, nested_index_refused)
{
	good();
	ti_index(&im, IMAGE_MT_INDEX, im.manifest_hex, 10);
	fails("media type " IMAGE_MT_INDEX " is not supported");
}

/* a raw manifest blob, named by index.json */
static void raw_manifest(const char *json)
{
	char hex[65];
	ti_blob(im.dir, json, strlen(json), hex);
	ti_index(&im, IMAGE_MT_MANIFEST, hex, strlen(json));
}

Test(image_open, bad_manifest)
{
	char cfg[200], json[1024];
	good();
	snprintf(cfg, sizeof(cfg), "\"config\":{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu}",
		 IMAGE_MT_CONFIG, im.config_hex, strlen(json_object_to_json_string_ext(im.config, 0)));
	raw_manifest("{\"schemaVersion\":2,\"layers\":[");
	fails("manifest: blob sha256:");
	fails("truncated JSON");
	raw_manifest("{\"schemaVersion\":1}");
	fails("schemaVersion is not 2");
	raw_manifest("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"}");
	fails("mediaType \"application/vnd.docker.distribution.manifest.v2+json\", want " IMAGE_MT_MANIFEST);
	raw_manifest("{\"schemaVersion\":2,\"layers\":[]}");
	fails("no config descriptor");
	snprintf(json, sizeof(json), "{\"schemaVersion\":2,%s}", cfg);
	raw_manifest(json);
	fails("no layers array");
	snprintf(json, sizeof(json), "{\"schemaVersion\":2,%s,\"layers\":[]}", cfg);
	raw_manifest(json);
	fails("no layers: nothing to make a root file system of");
	snprintf(json, sizeof(json), "{\"schemaVersion\":2,%s,\"layers\":[7]}", cfg);
	raw_manifest(json);
	fails("layers[0]: descriptor is not an object");
	snprintf(json, sizeof(json), "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/json\","
		 "\"digest\":\"sha256:%s\",\"size\":1},\"layers\":[]}", im.config_hex);
	raw_manifest(json);
	fails("config: media type application/json is not supported");
}

Test(image_open, bad_layer_media_type)
{
	good();
	json_object *l = json_object_array_get_idx(json_object_object_get(im.manifest, "layers"), 0);
	json_object_object_add(l, "mediaType",
			       json_object_new_string("application/vnd.oci.image.layer.v1.tar+zstd"));
	ti_write(&im);
	char want[200];
	snprintf(want, sizeof(want), "layer sha256:%s: media type application/vnd.oci.image.layer.v1.tar+zstd"
		 " is not supported", im.layer_hex[0]);
	fails(want);
}

static void config_fails(void (*mutate)(json_object *c), const char *why)
{
	ti_fini(&im);
	good();
	mutate(im.config);
	ti_write(&im);
	fails(why);
}

static json_object *cc(json_object *c) { return json_object_object_get(c, "config"); }
static void m_ep_string(json_object *c) { json_object_object_add(cc(c), "Entrypoint", json_object_new_string("/init")); }
static void m_env_int(json_object *c) { json_object_array_add(json_object_object_get(cc(c), "Env"), json_object_new_int(3)); }
static void m_wd_array(json_object *c) { json_object_object_add(cc(c), "WorkingDir", json_object_new_array()); }
static void m_config_array(json_object *c) { json_object_object_add(c, "config", json_object_new_array()); }
static void m_no_rootfs(json_object *c) { json_object_object_del(c, "rootfs"); }
static void m_rootfs_type(json_object *c) { json_object_object_add(json_object_object_get(c, "rootfs"), "type", json_object_new_string("tar")); }
static void m_no_diff_ids(json_object *c) { json_object_object_del(json_object_object_get(c, "rootfs"), "diff_ids"); }
static void m_extra_diff_id(json_object *c)
{
	json_object_array_add(json_object_object_get(json_object_object_get(c, "rootfs"), "diff_ids"),
			      json_object_new_string("sha256:0000000000000000000000000000000000000000000000000000000000000000"));
}
static void m_bad_diff_id(json_object *c)
{
	json_object_array_put_idx(json_object_object_get(json_object_object_get(c, "rootfs"), "diff_ids"), 0,
				  json_object_new_string("sha256:XYZ"));
}
static void m_os(json_object *c) { json_object_object_add(c, "os", json_object_new_string("windows")); }
static void m_no_os(json_object *c) { json_object_object_del(c, "os"); }
static void m_arch(json_object *c) { json_object_object_add(c, "architecture", json_object_new_string("s390x")); }

Test(image_open, bad_config)
{
	config_fails(m_ep_string, "config: Entrypoint: not an array of strings");
	config_fails(m_env_int, "config: Env[2]: not a string");
	config_fails(m_wd_array, "config: WorkingDir: not a string");
	config_fails(m_config_array, "config: not an object");
	config_fails(m_no_rootfs, "no rootfs object");
	config_fails(m_rootfs_type, "rootfs.type is not \"layers\"");
	config_fails(m_no_diff_ids, "no rootfs.diff_ids array");
	config_fails(m_extra_diff_id, "rootfs.diff_ids has 2 entries, the manifest 1 layers");
	config_fails(m_bad_diff_id, "rootfs.diff_ids[0]: digest 'sha256:XYZ'");
	config_fails(m_os, "os is windows, not linux");
	config_fails(m_no_os, "no os");
	config_fails(m_arch, "image is for s390x");
	/* the config blob's name: "config sha256:<hex>: ..." */
	cr_assert(strstr(err.msg, im.config_hex), "%s", err.msg);
}

/* flip one byte of blob HEX, same size */
static void corrupt(const char *hex)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", im.dir, hex);
	FILE *f = fopen(p, "r+");
	cr_assert_not_null(f);
	int c = fgetc(f);
	fseek(f, 0, SEEK_SET);
	fputc(c ^ 1, f);
	fclose(f);
}

Test(image_open, digest_mismatch)
{
	char want[200];
	const char *hexes[3];
	good();
	hexes[0] = im.manifest_hex;
	hexes[1] = im.config_hex;
	hexes[2] = im.layer_hex[0];
	for (int i = 0; i < 3; i++) {
		corrupt(hexes[i]);
		snprintf(want, sizeof(want), "blob sha256:%s: digest mismatch (got sha256:", hexes[i]);
		fails(want);
		corrupt(hexes[i]);
		cr_assert_eq(open_ref(""), 0, "%s", err.msg);
		image_free(&img);
		/* the layer is cached now: start from an empty store again */
		char p[200];
		snprintf(p, sizeof(p), "%s", im.store);
		cr_assert_eq(img_rm_rf_at(AT_FDCWD, p), 0);
	}
}

Test(image_open, size_mismatch)
{
	char want[200];
	good();
	/* the descriptor in index.json says one byte more than the blob */
	ti_index(&im, IMAGE_MT_MANIFEST, im.manifest_hex,
		 strlen(json_object_to_json_string_ext(im.manifest, JSON_C_TO_STRING_PLAIN)) + 1);
	snprintf(want, sizeof(want), "blob sha256:%s: size mismatch", im.manifest_hex);
	fails(want);
	/* a layer descriptor one byte short */
	json_object *l = json_object_array_get_idx(json_object_object_get(im.manifest, "layers"), 0);
	json_object_object_add(l, "size", json_object_new_int64(json_object_get_int64(json_object_object_get(l, "size")) - 1));
	ti_write(&im);
	snprintf(want, sizeof(want), "blob sha256:%s: size mismatch", im.layer_hex[0]);
	fails(want);
}

Test(image_open, missing_blob)
{
	char p[512], want[200];
	good();
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", im.dir, im.layer_hex[0]);
	unlink(p);
	snprintf(want, sizeof(want), "blob sha256:%s: No such file or directory", im.layer_hex[0]);
	fails(want);
}

Test(image_open, diff_id_mismatch)
{
	char want[300];
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	/* a diff_id that is not the uncompressed layer's */
	json_object_array_put_idx(json_object_object_get(json_object_object_get(im.config, "rootfs"), "diff_ids"), 0,
				  json_object_new_string("sha256:1111111111111111111111111111111111111111111111111111111111111111"));
	ti_write(&im);
	snprintf(want, sizeof(want), "layer sha256:%s: uncompressed digest sha256:%s does not match rootfs.diff_ids "
		 "sha256:1111111111111111111111111111111111111111111111111111111111111111", im.layer_hex[0], im.diff_hex[0]);
	fails(want);
}

Test(image_open, gzip_type_plain_data)
{
	unsigned char *tar;
	size_t len;
	ti_init(&im);
	ti_tar(base, TI_N(base), &tar, &len);
	ti_add_layer_raw(&im, tar, len, IMAGE_MT_LAYER_GZ, tar, len);
	free(tar);
	ti_write(&im);
	fails("media type says gzip, the data is not gzip");
}

Test(image_open, not_a_tar)
{
	const char junk[] = "this is not a tar archive, not at all, not even close; just words........"
			    "...................................................................................";
	ti_init(&im);
	ti_add_layer_raw(&im, junk, sizeof(junk), IMAGE_MT_LAYER, junk, sizeof(junk));
	ti_write(&im);
	fails("tar: ");
}

Test(image_open, empty_blob_and_empty_tar)
{
	ti_init(&im);
	ti_add_layer_raw(&im, "", 0, IMAGE_MT_LAYER_GZ, "", 0);
	ti_write(&im);
	fails("layer sha256:");
	ti_fini(&im);
	/* a tar with no entries (only the end-of-archive blocks) is a layer */
	ti_init(&im);
	ti_add_layer(&im, NULL, 0, 1);
	ti_write(&im);
	cr_assert_eq(open_ref(""), 0, "%s", err.msg);
	cr_assert_eq(img.nlayers, 1);
}

Test(image_open, nondistributable_layers)
{
	unsigned char *tar, *gz;
	size_t tlen, glen;
	ti_init(&im);
	ti_tar(base, TI_N(base), &tar, &tlen);
	ti_gzip(tar, tlen, &gz, &glen);
	ti_add_layer_raw(&im, gz, glen, IMAGE_MT_LAYER_ND "+gzip", tar, tlen);
	ti_add_layer_raw(&im, tar, tlen, IMAGE_MT_LAYER_ND, tar, tlen);
	free(tar);
	free(gz);
	ti_write(&im);
	cr_assert_eq(open_ref(""), 0, "%s", err.msg);
	cr_assert_eq(img.nlayers, 2);
}
