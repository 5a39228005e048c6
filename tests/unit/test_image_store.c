/* crun/image: the layer store (unpack once, atomically, under a lock) and
 * the project's own image, build/images/oci. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CRUN_IMAGE_INTERNAL
#include "../../crun/image.h"
#include "../fixtures/image/ti.h"

static struct ti_img im;
static struct image img, img2;
static struct cl_error err;

static void fini(void)
{
	image_free(&img);
	image_free(&img2);
	ti_fini(&im);
}

TestSuite(image_store, .fini = fini);

static const struct ti_ent base[] = {
	TI_D("bin", 0), TI_F("bin/busybox", "bb", 0755), TI_L("bin/sh", "busybox"), TI_F("init", "#!/bin/sh\n", 0755),
};
static const struct ti_ent top[] = { TI_D("etc", 0), TI_F("etc/hostname", "cloudlet\n", 0) };

Test(image_store, second_open_is_a_cache_hit)
{
	struct stat a, b;
	char p[512];
	cr_assert_eq(ti_open_layer(&im, base, TI_N(base), &img, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(img.layers[0], &a), 0);
	sleep(1);   /* an unpack would now give a different mtime */
	cr_assert_eq(image_open(im.store, im.dir, &img2, &err), 0, "%s", err.msg);
	cr_assert_str_eq(img.layers[0], img2.layers[0]);
	cr_assert_eq(stat(img2.layers[0], &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "unpacked again");
	cr_assert_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	cr_assert_eq(a.st_ctim.tv_nsec, b.st_ctim.tv_nsec);
	int tmp;
	cr_assert_eq(ti_store_count(&im, &tmp), 1);
	cr_assert_eq(tmp, 0);
	/* the store is private: set-uid files in layers are not for host users */
	snprintf(p, sizeof(p), "%s/layers", im.store);
	cr_assert_eq(stat(p, &a), 0);
	cr_assert_eq(a.st_mode & 0777, 0700);
	/* a cache hit does not even read the layer blob */
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", im.dir, im.layer_hex[0]);
	cr_assert_eq(unlink(p), 0);
	image_free(&img2);
	cr_assert_eq(image_open(im.store, im.dir, &img2, &err), 0, "%s", err.msg);
}

Test(image_store, layers_bottom_first_and_shared)
{
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	ti_add_layer(&im, top, TI_N(top), 1);
	ti_write(&im);
	cr_assert_eq(image_open(im.store, im.dir, &img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.nlayers, 2);
	cr_assert(strstr(img.layers[0], im.diff_hex[0]));
	cr_assert(strstr(img.layers[1], im.diff_hex[1]));
	cr_assert_null(img.layers[2]);
	/* a second image (another tag, other config) sharing the base layer */
	struct stat a, b;
	cr_assert_eq(stat(img.layers[0], &a), 0);
	json_object_object_add(json_object_object_get(im.config, "config"), "Cmd", NULL);
	snprintf(im.tag, sizeof(im.tag), "v2");
	ti_write(&im);
	char ref[256];
	snprintf(ref, sizeof(ref), "%s:v2", im.dir);
	cr_assert_eq(image_open(im.store, ref, &img2, &err), 0, "%s", err.msg);
	cr_assert_null(img2.config.cmd);
	cr_assert_str_eq(img.layers[0], img2.layers[0]);
	cr_assert_eq(stat(img2.layers[0], &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_str_neq(img.config_digest, img2.config_digest);
}

Test(image_store, concurrent_opens_unpack_once)
{
	enum { N = 6 };
	pid_t pids[N];
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	ti_add_layer(&im, top, TI_N(top), 0);
	ti_write(&im);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			struct image mine;
			struct cl_error e = { 0 };
			int r = image_open(im.store, im.dir, &mine, &e);
			if (r < 0)
				fprintf(stderr, "child %d: %s\n", i, e.msg);
			image_free(&mine);
			_exit(r < 0);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed", i);
	}
	int tmp;
	cr_assert_eq(ti_store_count(&im, &tmp), 2);
	cr_assert_eq(tmp, 0);
}

Test(image_store, stale_temp_dirs_removed)
{
	char p[512];
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	ti_write(&im);
	/* what a SIGKILLed unpacker leaves: a temp dir with a read-only subdir */
	snprintf(p, sizeof(p), "%s/layers/sha256/.tmp-%s-dead00", im.store, im.diff_hex[0]);
	char mk[2600];
	snprintf(mk, sizeof(mk), "mkdir -p %s/ro/sub && touch %s/ro/sub/f && chmod 0555 %s/ro %s/ro/sub", p, p, p, p);
	cr_assert_eq(system(mk), 0);
	cr_assert_eq(image_open(im.store, im.dir, &img, &err), 0, "%s", err.msg);
	int tmp;
	cr_assert_eq(ti_store_count(&im, &tmp), 1);
	cr_assert_eq(tmp, 0, "stale temp dir kept");
}

Test(image_store, failure_leaves_nothing_and_no_lock)
{
	char p[512];
	static const struct ti_ent bad[] = { TI_F("ok", "fine", 0), TI_F("../escape", "x", 0) };
	cr_assert_lt(ti_open_layer(&im, bad, TI_N(bad), &img, &err), 0);
	int tmp;
	cr_assert_eq(ti_store_count(&im, &tmp), 0);
	cr_assert_eq(tmp, 0);
	snprintf(p, sizeof(p), "%s/layers/.lock", im.store);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0, "lock still held");
	close(fd);
}

Test(image_store, bad_store)
{
	char p[512];
	ti_init(&im);
	ti_add_layer(&im, base, TI_N(base), 1);
	ti_write(&im);
	snprintf(p, sizeof(p), "%s/file", im.root);
	ti_write_file(im.root, "file", "x", 1);
	cr_assert_lt(image_open(p, im.dir, &img, &err), 0);
	cr_assert(strstr(err.msg, "store"), "%s", err.msg);
	cr_assert(strstr(err.msg, "Not a directory"), "%s", err.msg);
}

/* The project's image, from images/rootfs/mkoci.sh. */
Test(image_store, real_image)
{
	struct stat st;
	char p[512];
	if (stat("build/images/oci/index.json", &st) < 0)
		cr_skip_test("no build/images/oci (make images)");
	ti_init(&im);
	cr_assert_eq(image_open(im.store, "build/images/oci:latest", &img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.nlayers, 1);
	cr_assert_str_eq(img.config.entrypoint[0], "/init");
	cr_assert_null(img.config.entrypoint[1]);
	cr_assert_str_eq(img.config.cmd[0], "exit");
	cr_assert_str_eq(img.config.env[0], "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	cr_assert_str_eq(img.config.working_dir, "/");
	snprintf(p, sizeof(p), "%s/bin/busybox", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0, "%s", p);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0755);
	if (geteuid() == 0)
		cr_assert_eq(st.st_uid, 0);
	snprintf(p, sizeof(p), "%s/init", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0, "%s", p);
	cr_assert(st.st_mode & 0100);
	snprintf(p, sizeof(p), "%s/bin/sh", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	snprintf(p, sizeof(p), "%s/tmp", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 01777);
	snprintf(p, sizeof(p), "%s/root", img.layers[0]);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(lstat(img.layers[0], &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755, "layer root");
	/* the path form without a tag, and the cache */
	cr_assert_eq(image_open(im.store, "build/images/oci", &img2, &err), 0, "%s", err.msg);
	cr_assert_str_eq(img.layers[0], img2.layers[0]);
	cr_assert_str_eq(img.manifest_digest, img2.manifest_digest);
}
