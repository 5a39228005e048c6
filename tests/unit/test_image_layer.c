/* crun/image: layer extraction (layer.md): paths never leave the layer,
 * nothing is written through a symlink, hardlinks stay inside, whiteouts
 * become overlayfs whiteouts, attributes are kept. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../../crun/image.h"
#include "../fixtures/image/ti.h"

static struct ti_img im;
static struct image img;
static struct cl_error err;

static void fini(void)
{
	image_free(&img);
	ti_fini(&im);
}

TestSuite(image_layer, .fini = fini);

#define OPEN(ents) ti_open_layer(&im, ents, TI_N(ents), &img, &err)

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (mknod of whiteouts, trusted.* xattrs, chown)");
}

/* PATH under the (only) layer dir */
static const char *lp(const char *path)
{
	static char p[1024];
	snprintf(p, sizeof(p), "%s/%s", img.layers[0], path);
	return p;
}

/* the open failed naming WHY, and the store holds no layer and no temp dir */
static void rejected(int r, const char *why)
{
	int tmp;
	cr_assert_lt(r, 0, "unpacked; wanted '%s'", why);
	cr_assert(strstr(err.msg, why), "want '%s' in: %s", why, err.msg);
	cr_assert(strstr(err.msg, im.layer_hex[0]), "the layer is named: %s", err.msg);
	cr_assert_eq(ti_store_count(&im, &tmp), 0);
	cr_assert_eq(tmp, 0, "temp dir left behind");
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* nothing named NAME anywhere in the test's temp tree (a walk) */
static int found_anywhere(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char p[2048];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strcmp(de->d_name, name))
			n++;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			n += found_anywhere(p, name);
	}
	closedir(d);
	return n;
}

Test(image_layer, dotdot_rejected)
{
	static const struct ti_ent e1[] = { TI_F("../escape", "x", 0) };
	rejected(OPEN(e1), "entry '../escape': '..' in the path");
	ti_fini(&im);
	static const struct ti_ent e2[] = { TI_D("a", 0), TI_F("a/../../../../escape", "x", 0) };
	rejected(OPEN(e2), "'..' in the path");
	cr_assert_eq(found_anywhere(im.root, "escape"), 0);
}

Test(image_layer, absolute_names_are_relative_to_the_layer)
{
	static const struct ti_ent e[] = { TI_F("/abs/file", "x", 0), TI_F("./dot/./file", "y", 0) };
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	cr_assert(exists(lp("abs/file")));
	cr_assert(exists(lp("dot/file")));
	cr_assert(!exists("/abs/file"));
}

Test(image_layer, no_write_through_symlink)
{
	char outside[256], target[300];
	ti_init(&im);
	snprintf(outside, sizeof(outside), "%s/outside", im.root);
	cr_assert_eq(mkdir(outside, 0755), 0);
	/* absolute symlink to a dir outside, then a file through it */
	struct ti_ent e[] = { { .type = 'l', .path = "a", .data = outside }, TI_F("a/passwd", "pwned", 0) };
	ti_add_layer(&im, e, TI_N(e), 1);
	ti_write(&im);
	rejected(image_open(im.store, im.dir, &img, &err), "entry 'a/passwd': 'a' is a symlink: not followed");
	snprintf(target, sizeof(target), "%s/passwd", outside);
	cr_assert(!exists(target), "wrote through the symlink");
}

Test(image_layer, no_write_through_etc_symlink)
{
	static const struct ti_ent e[] = {
		TI_L("etc", "/etc"), TI_F("etc/cloudlet-image-test-pwned", "x", 0),
	};
	rejected(OPEN(e), "'etc' is a symlink");
	cr_assert(!exists("/etc/cloudlet-image-test-pwned"));
	ti_fini(&im);
	static const struct ti_ent rel[] = {
		TI_D("d", 0), TI_L("d/up", "../../../../../../.."), TI_F("d/up/tmp/cloudlet-image-test-pwned", "x", 0),
	};
	rejected(OPEN(rel), "'d/up' is a symlink");
	cr_assert(!exists("/tmp/cloudlet-image-test-pwned"));
}

Test(image_layer, symlink_replaced_not_followed)
{
	struct stat before, after;
	cr_assert_eq(stat("/etc/passwd", &before), 0);
	/* a symlink to /etc/passwd, then a regular file of the same name:
	 * the link is replaced, /etc/passwd untouched */
	static const struct ti_ent e[] = { TI_L("passwd", "/etc/passwd"), TI_F("passwd", "root::0:0::/:/bin/sh\n", 0) };
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	struct stat st;
	cr_assert_eq(lstat(lp("passwd"), &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(stat("/etc/passwd", &after), 0);
	cr_assert_eq(before.st_size, after.st_size);
	cr_assert_eq(before.st_mtime, after.st_mtime);
}

Test(image_layer, hardlink_outside_rejected)
{
	struct stat before, after;
	cr_assert_eq(stat("/etc/passwd", &before), 0);
	static const struct ti_ent e1[] = { TI_H("pw", "/etc/passwd") };
	rejected(OPEN(e1), "entry 'pw': hardlink to '/etc/passwd': 'etc' is not in the layer");
	ti_fini(&im);
	static const struct ti_ent e2[] = { TI_H("pw", "../../../../../../../etc/passwd") };
	rejected(OPEN(e2), "hardlink to '../../../../../../../etc/passwd': '..' in the path");
	ti_fini(&im);
	static const struct ti_ent e3[] = { TI_L("e", "/etc"), TI_H("pw", "e/passwd") };
	rejected(OPEN(e3), "hardlink to 'e/passwd': 'e' is a symlink");
	cr_assert_eq(stat("/etc/passwd", &after), 0);
	cr_assert_eq(before.st_nlink, after.st_nlink, "/etc/passwd got a link");
}

Test(image_layer, hardlink_inside)
{
	static const struct ti_ent e[] = {
		TI_D("bin", 0), TI_F("bin/busybox", "bb", 0755), TI_H("bin/sh", "bin/busybox"), TI_H("ls", "/bin/busybox"),
	};
	struct stat a, b, c;
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	cr_assert_eq(lstat(lp("bin/busybox"), &a), 0);
	cr_assert_eq(lstat(lp("bin/sh"), &b), 0);
	cr_assert_eq(lstat(lp("ls"), &c), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_ino, c.st_ino);
	cr_assert_eq(a.st_nlink, 3);
}

Test(image_layer, whiteouts_become_overlay_whiteouts)
{
	need_root();
	static const struct ti_ent e[] = {
		TI_D("d", 0),
		TI_F("d/.wh..wh..opq", "", 0),
		TI_F("d/keep", "k", 0),
		TI_F(".wh.gone", "", 0),
		TI_F("e/.wh.x", "", 0),           /* parent not listed: made */
		TI_F("same", "s", 0),
		TI_F(".wh.same", "", 0),          /* same layer: does not hide "same" */
		TI_F(".wh.redo", "", 0),
		TI_D("redo", 0),                  /* recreated: a new, opaque dir */
		TI_F("redo/new", "n", 0),
		TI_F(".wh.dir2", "", 0),
		TI_F("dir2/f", "f", 0),           /* recreated through an implicit parent */
		TI_F(".wh..wh.aufs", "", 0),      /* AUFS metadata: dropped */
		TI_D(".wh..wh.plnk", 0),
		TI_F(".wh..wh.plnk/1234.5", "", 0),
	};
	struct stat st;
	char v[8];
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	cr_assert_eq(lstat(lp("gone"), &st), 0);
	cr_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0), "gone: not a 0/0 char device");
	cr_assert_eq(lstat(lp("e/x"), &st), 0);
	cr_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	cr_assert_eq(lstat(lp("same"), &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(getxattr(lp("d"), "trusted.overlay.opaque", v, sizeof(v)), 1);
	cr_assert_eq(v[0], 'y');
	v[0] = 0;
	if (getxattr(lp("d"), "user.overlay.opaque", v, sizeof(v)) >= 0 || errno != ENOTSUP)
		cr_assert_eq(v[0], 'y', "user.overlay.opaque (for userxattr mounts)");
	cr_assert(exists(lp("d/keep")));
	cr_assert_eq(lstat(lp("redo"), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(getxattr(lp("redo"), "trusted.overlay.opaque", v, sizeof(v)), 1);
	cr_assert_eq(getxattr(lp("dir2"), "trusted.overlay.opaque", v, sizeof(v)), 1);
	cr_assert_eq(getxattr(lp("e"), "trusted.overlay.opaque", v, sizeof(v)), -1, "e is not opaque");
	cr_assert(!exists(lp(".wh..wh.plnk")));
	for (const char *wh = ".wh."; wh; wh = NULL) {
		DIR *d = opendir(img.layers[0]);
		struct dirent *de;
		while ((de = readdir(d)))
			cr_assert(strncmp(de->d_name, wh, 4), "%s left in the layer", de->d_name);
		closedir(d);
	}
	cr_assert(!exists(lp("d/.wh..wh..opq")));
	cr_assert(!exists(lp("e/.wh.x")));
}

Test(image_layer, bad_whiteouts)
{
	need_root();
	static const struct ti_ent e1[] = { TI_F(".wh.", "", 0) };
	rejected(OPEN(e1), "bad whiteout name");
	ti_fini(&im);
	static const struct ti_ent e2[] = { TI_F(".wh.a/b", "", 0) };
	rejected(OPEN(e2), "whiteout name as a directory");
}

/* Mount what we made: overlayfs must read our whiteouts and opaque dirs,
 * with lowerdir = top:...:bottom. */
Test(image_layer, overlay_mount_applies_whiteouts)
{
	need_root();
	static const struct ti_ent lower[] = {
		TI_D("a", 0), TI_F("a/1", "1", 0), TI_F("a/2", "2", 0), TI_D("b", 0), TI_F("b/x", "x", 0),
		TI_D("c", 0), TI_F("c/old", "o", 0),
	};
	static const struct ti_ent upper[] = {
		TI_F(".wh.b", "", 0), TI_D("a", 0), TI_F("a/.wh.1", "", 0), TI_D("c", 0), TI_F("c/.wh..wh..opq", "", 0),
		TI_F("c/new", "n", 0),
	};
	char mnt[256], opts[1024], p[512];
	ti_init(&im);
	ti_add_layer(&im, lower, TI_N(lower), 1);
	ti_add_layer(&im, upper, TI_N(upper), 0);
	ti_write(&im);
	cr_assert_eq(image_open(im.store, im.dir, &img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.nlayers, 2);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		cr_skip_test("no mount namespace: %s", strerror(errno));
	snprintf(mnt, sizeof(mnt), "%s/merged", im.root);
	cr_assert_eq(mkdir(mnt, 0755), 0);
	char *lowerdir;
	cr_assert_eq(image_lowerdir(&img, &lowerdir, &err), 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s:%s", img.layers[1], img.layers[0]);   /* top first */
	cr_assert_str_eq(lowerdir, p);
	snprintf(opts, sizeof(opts), "lowerdir=%s", lowerdir);
	free(lowerdir);
	if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) < 0)
		cr_skip_test("overlay mount: %s", strerror(errno));
	static const struct { const char *path; int there; } want[] = {
		{ "a/1", 0 }, { "a/2", 1 }, { "b", 0 }, { "c/old", 0 }, { "c/new", 1 }, { ".wh.b", 0 },
	};
	for (size_t i = 0; i < TI_N(want); i++) {
		snprintf(p, sizeof(p), "%s/%s", mnt, want[i].path);
		cr_expect_eq(exists(p), want[i].there, "%s", want[i].path);
	}
	cr_assert_eq(umount2(mnt, MNT_DETACH), 0);
	/* userxattr (as in a user namespace): overlay reads user.overlay.* */
	strcat(opts, ",userxattr");
	if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) < 0)
		cr_skip_test("overlay mount with userxattr (Linux 5.11+): %s", strerror(errno));
	for (size_t i = 0; i < TI_N(want); i++) {
		snprintf(p, sizeof(p), "%s/%s", mnt, want[i].path);
		cr_expect_eq(exists(p), want[i].there, "userxattr: %s", want[i].path);
	}
	umount2(mnt, MNT_DETACH);
}

Test(image_layer, devices_skipped)
{
	static const struct ti_ent e[] = {
		TI_D("dev", 0), { .type = 'c', .path = "dev/null", .mode = 0666 },
		{ .type = 'p', .path = "fifo", .mode = 0640 },
	};
	struct stat st;
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	cr_assert(!exists(lp("dev/null")), "a device node was made");
	cr_assert_eq(lstat(lp("fifo"), &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0640);
}

Test(image_layer, attributes_kept)
{
	static const struct ti_ent e[] = {
		{ .type = 'd', .path = "./", .mode = 0751, .mtime = 1500000000 },
		{ .type = 'f', .path = "su", .data = "x", .mode = 04755, .uid = 1000, .gid = 1001, .mtime = 1234567890 },
		{ .type = 'd', .path = "ro", .mode = 0555, .uid = 7, .gid = 8, .mtime = 1111111111 },
		{ .type = 'f', .path = "ro/f", .data = "f", .mode = 0400, .mtime = 1222222222 },
		{ .type = 'l', .path = "ro/l", .data = "f", .uid = 5, .gid = 6, .mtime = 1333333333 },
		{ .type = 'f', .path = "x", .data = "x", .xattr = "user.cloudlet", .xattr_val = "hello" },
		{ .type = 'f', .path = "t", .data = "t", .xattr = "trusted.overlay.redirect", .xattr_val = "/etc" },
		{ .type = 'f', .path = "u", .data = "u", .xattr = "user.overlay.redirect", .xattr_val = "/etc" },
	};
	struct stat st;
	char v[16];
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	int root = geteuid() == 0;
	cr_assert_eq(lstat(img.layers[0], &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0751, "root entry './' sets the layer root");
	cr_assert_eq(st.st_mtime, 1500000000);
	cr_assert_eq(lstat(lp("su"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 04755);
	cr_assert_eq(st.st_mtime, 1234567890);
	if (root) {
		cr_assert_eq(st.st_uid, 1000);
		cr_assert_eq(st.st_gid, 1001);
	}
	cr_assert_eq(lstat(lp("ro"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0555);
	cr_assert_eq(st.st_mtime, 1111111111, "dir mtime set after its children");
	if (root)
		cr_assert_eq(st.st_uid, 7);
	cr_assert_eq(lstat(lp("ro/f"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0400);
	cr_assert_eq(st.st_mtime, 1222222222);
	cr_assert_eq(lstat(lp("ro/l"), &st), 0);
	cr_assert_eq(st.st_mtime, 1333333333);
	if (root)
		cr_assert_eq(st.st_uid, 5);
	ssize_t n = getxattr(lp("x"), "user.cloudlet", v, sizeof(v));
	if (n >= 0 || errno != ENOTSUP) {
		cr_assert_eq(n, 5);
		cr_assert(!memcmp(v, "hello", 5));
	}
	cr_assert_eq(getxattr(lp("t"), "trusted.overlay.redirect", v, sizeof(v)), -1, "trusted.* taken from a layer");
	cr_assert_eq(getxattr(lp("u"), "user.overlay.redirect", v, sizeof(v)), -1, "user.overlay.* taken from a layer");
}

Test(image_layer, replacements)
{
	static const struct ti_ent e[] = {
		TI_F("f", "first", 0), TI_F("f", "second", 0),   /* last wins */
		TI_D("d", 0700), TI_D("d", 0750),                  /* dir over dir: attributes */
		TI_L("l", "x"), TI_D("l", 0),                      /* dir over symlink */
	};
	struct stat st;
	char buf[16] = "";
	cr_assert_eq(OPEN(e), 0, "%s", err.msg);
	FILE *f = fopen(lp("f"), "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "second");
	cr_assert_eq(lstat(lp("d"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0750);
	cr_assert_eq(lstat(lp("l"), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	ti_fini(&im);
	image_free(&img);
	static const struct ti_ent bad[] = { TI_D("d", 0), TI_F("d/x", "x", 0), TI_F("d", "file over a full dir", 0) };
	rejected(OPEN(bad), "entry 'd': replacing a directory");
}

Test(image_layer, file_as_parent_rejected)
{
	static const struct ti_ent e[] = { TI_F("f", "x", 0), TI_F("f/g", "y", 0) };
	rejected(OPEN(e), "entry 'f/g': 'f' is not a directory");
}
