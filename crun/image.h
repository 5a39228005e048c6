/* OCI image layouts (image-spec v1: image-layout.md, manifest.md, config.md,
 * layer.md) turned into read-only layer directories for an overlay mount.
 *
 * image_open("STORE", "build/images/oci:latest", &img, &err) resolves the tag,
 * verifies each blob it reads against its descriptor's digest and size, and
 * unpacks every layer once into the content store
 *
 *     STORE/layers/sha256/<diff_id hex>/     one dir per uncompressed layer
 *     STORE/layers/.lock                     flock: one unpacker at a time
 *     STORE/layers/sha256/.tmp-<hex>-XXXXXX  in-progress unpack (renamed when
 *                                            verified; stale ones removed)
 *
 * Layer dirs are shared by every container made from them: mount them
 * read-only, never write into them. STORE/layers is mode 0700 (a layer may
 * hold set-uid files that host users must not reach).
 *
 * Layer dirs are in overlayfs format, as containerd/podman prepare them:
 * a whiteout `.wh.NAME` is a 0/0 character device NAME, an opaque directory
 * (`.wh..wh..opq`) carries the xattrs trusted.overlay.opaque=y and (for
 * overlay mounts with userxattr, in a user namespace) user.overlay.opaque=y;
 * no `.wh.*` entry remains. So the runtime mounts
 *
 *     overlay  lowerdir=layers[nlayers-1]:...:layers[0],upperdir=..,workdir=..
 *
 * i.e. TOP FIRST (overlayfs lists the uppermost lower layer first), the
 * reverse of img.layers, which is bottom first like the manifest;
 * image_lowerdir() builds that string (and drops repeated layers, which
 * overlayfs refuses).
 *
 * Extraction (image/walk.c, image/extract.c): entry names are relative to
 * the layer root (a leading '/' is dropped); a ".." component fails the
 * layer; nothing is created through a symlink (parents are opened one at a
 * time with O_NOFOLLOW: a symlink on the way fails the layer, one in the
 * final place is replaced); hardlinks only to what the layer already holds;
 * character/block devices and sockets are skipped, always (a layer dir is a
 * host directory; the runtime makes /dev); owners restored only when euid
 * is 0; modes (set-id too) and times always; xattrs: user.* and
 * security.capability only (never trusted.* or user.overlay.*, which would
 * steer overlayfs).
 * A layer already in the store is not read again (its blob may be gone).
 *
 * Unpacking needs root (CAP_MKNOD, CAP_SYS_ADMIN for trusted.* xattrs,
 * CAP_CHOWN): a layer with whiteouts fails clearly without it. */
#ifndef CRUN_IMAGE_H
#define CRUN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"

struct image_config {            /* the image config's "config" object (config.md) */
	char **entrypoint, **cmd, **env;   /* NULL-terminated arrays, NULL if absent */
	char *working_dir, *user;           /* NULL if absent or empty */
};

struct image {
	char *manifest_digest, *config_digest;   /* "sha256:<64 hex>" */
	char **layers;      /* absolute paths of unpacked layer dirs, bottom first, NULL-terminated */
	size_t nlayers;
	struct image_config config;
};

/* REF is "PATH" or "PATH:TAG"; the tag defaults to "latest".
 * A ':' splits off a tag only if REF itself is not an existing directory and
 * the text after the last ':' is a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]*,
 * at most 128, no '/'): so "dir:with:colons" works when that dir exists,
 * and "/a:b/c" is a path. Fills *img (zeroed first; image_free it even on
 * failure is safe). Errors name the layout and, below it, the blob. */
int image_open(const char *store, const char *ref, struct image *img, struct cl_error *err);
void image_free(struct image *img);

/* The overlayfs "lowerdir=" value for IMG: its layers TOP FIRST, a layer
 * that repeats kept only at its topmost place (overlayfs refuses one dir
 * twice), ':' and '\\' escaped; a ',' in a path is refused. malloc'd. */
int image_lowerdir(const struct image *img, char **out, struct cl_error *err);

/* Split REF as above into malloc'd *path and *tag. Looks at the file system
 * only to ask whether REF is a directory. */
int image_ref_parse(const char *ref, char **path, char **tag, struct cl_error *err);
/* "sha256:" and 64 lowercase hex digits, nothing else (descriptor.md,
 * "Registered algorithms"); hex gets the 64 digits and a NUL. */
int digest_parse(const char *digest, char hex[65], struct cl_error *err);

#define IMAGE_MT_INDEX     "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_CONFIG    "application/vnd.oci.image.config.v1+json"
#define IMAGE_MT_LAYER     "application/vnd.oci.image.layer.v1.tar"
#define IMAGE_MT_LAYER_GZ  "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMAGE_MT_LAYER_ND  "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define IMAGE_REF_NAME     "org.opencontainers.image.ref.name"
#define IMAGE_OVL_OPAQUE   "trusted.overlay.opaque"   /* "y" on opaque layer dirs, */
#define IMAGE_OVL_OPAQUE_USER "user.overlay.opaque"   /* and this too (userxattr mounts) */

#ifdef CRUN_IMAGE_INTERNAL
/* ---- shared by the files of crun/image/ only, not part of the API ---- */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <time.h>

struct archive;
struct archive_entry;

struct img_desc {                /* a descriptor (descriptor.md) */
	const char *media_type;      /* borrowed from its JSON object */
	char hex[65];                /* sha256 */
	int64_t size;
};

/* blob.c: DIR/blobs/sha256/<hex>, checked against the descriptor */
void img_hex(const unsigned char *md, unsigned len, char out[65]);
int img_desc_parse(json_object *o, const char *what, struct img_desc *d, struct cl_error *err);
int img_blob_open(const char *dir, const struct img_desc *d, struct cl_error *err);  /* fd, verified */
int img_blob_json(const char *dir, const struct img_desc *d, json_object **out, struct cl_error *err);
int img_json_parse(const char *what, const char *buf, size_t len, json_object **out,
		   struct cl_error *err);
int img_json_strv(json_object *o, const char *key, char ***out, struct cl_error *err);
void img_strv_free(char **v);

/* layout.c: oci-layout, index.json, the tag's manifest descriptor
 * (its media_type points into *index: keep it until done) */
const char *img_host_arch(void);
int img_layout_resolve(const char *dir, const char *tag, struct img_desc *manifest,
		       json_object **index, struct cl_error *err);

/* manifest.c */
int img_layer_gzip(const char *media_type);   /* 1 gzip, 0 plain tar, -1 unsupported */
struct img_manifest {
	json_object *manifest, *config;   /* owned */
	struct img_desc cfg;
	struct img_desc *layers;          /* bottom first; media types point into manifest */
	char (*diff_ids)[65];             /* from the config's rootfs.diff_ids */
	size_t nlayers;
};
int img_manifest_load(const char *dir, const struct img_desc *md, struct img_manifest *m,
		      struct image_config *cfg, struct cl_error *err);
void img_manifest_free(struct img_manifest *m);

/* walk.c: paths in the layer dir ROOTFD, never through a symlink */
struct img_fixup;
struct img_fixups {              /* directory modes/times, applied last */
	struct img_fixup *v;
	size_t n, cap;
	int root;                    /* euid 0: restore ownership */
};
int img_path_clean(const char *in, char *out, size_t len, struct cl_error *err);
/* fd of the dir holding PATH's last component (*base); PATH is cut and
 * restored in place; CREATE makes missing parents */
int img_open_parent(int rootfd, char *path, int create, const char **base, struct cl_error *err);
int img_is_whiteout(const struct stat *st);   /* 0/0 character device */
int img_set_opaque(int dirfd, const char *what, struct cl_error *err);
int img_fixup_add(struct img_fixups *fx, const char *path, mode_t mode, const struct timespec ts[2],
		  int existed);   /* EXISTED: look for an earlier entry of PATH to update */
int img_fixups_apply(int rootfd, struct img_fixups *fx, struct cl_error *err);
void img_fixups_free(struct img_fixups *fx);

/* extract.c: one tar entry into the layer dir ROOTFD */
int img_extract_entry(int rootfd, struct archive *ar, struct archive_entry *ae,
		      struct img_fixups *fx, struct cl_error *err);

/* layer.c: layer blob FD (verified) -> ROOTFD, checking the diff_id */
int img_layer_unpack(int fd, int gzip, const char *diff_id_hex, int rootfd, struct cl_error *err);

/* store.c */
int img_store_open(const char *store, char **abs_sha, struct cl_error *err);   /* fd */
int img_store_has(int shafd, const char *hex, struct cl_error *err);
int img_store_lock(int shafd, struct cl_error *err);                          /* fd */
int img_store_unpack(int shafd, const char *abs_sha, int fd, int gzip, const char *diff_hex,
		     struct cl_error *err);
int img_rm_rf_at(int dirfd, const char *name);
#endif

#endif
