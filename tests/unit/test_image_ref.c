/* crun/image: the pure parsers, image_ref_parse and digest_parse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../crun/image.h"

static struct cl_error err;

static void ref_ok(const char *ref, const char *path, const char *tag)
{
	char *p, *t;
	cl_err_clear(&err);
	cr_assert_eq(image_ref_parse(ref, &p, &t, &err), 0, "%s: %s", ref, err.msg);
	cr_assert_str_eq(p, path, "%s", ref);
	cr_assert_str_eq(t, tag, "%s", ref);
	free(p);
	free(t);
}

static void ref_bad(const char *ref, const char *why)
{
	char *p = (char *)1, *t = (char *)1;
	cl_err_clear(&err);
	cr_assert_lt(image_ref_parse(ref, &p, &t, &err), 0, "accepted '%s'", ref ? ref : "(null)");
	cr_assert_null(p);
	cr_assert_null(t);
	cr_assert(strstr(err.msg, why), "'%s': %s", ref ? ref : "(null)", err.msg);
}

Test(image_ref, path_and_tag)
{
	ref_ok("build/images/oci", "build/images/oci", "latest");
	ref_ok("build/images/oci:latest", "build/images/oci", "latest");
	ref_ok("/x/oci:v1.2-rc_3", "/x/oci", "v1.2-rc_3");
	ref_ok("oci:a:b", "oci:a", "b");          /* the last ':' splits */
	ref_ok("/a:b/c", "/a:b/c", "latest");     /* '/' after ':': no tag */
	ref_ok("./oci", "./oci", "latest");
}

Test(image_ref, existing_dir_with_colon)
{
	char dir[] = "/tmp/cloudlet-ref-XXXXXX", p[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/img:v2", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	ref_ok(p, p, "latest");   /* the directory wins over the tag reading */
	char ref[80];
	snprintf(ref, sizeof(ref), "%s:v3", p);
	ref_ok(ref, p, "v3");
	rmdir(p);
	rmdir(dir);
}

Test(image_ref, bad)
{
	ref_bad(NULL, "empty");
	ref_bad("", "empty");
	ref_bad(":latest", "no path");
	ref_bad("oci:", "bad tag");
	ref_bad("oci:-x", "bad tag");
	ref_bad("oci:.x", "bad tag");
	ref_bad("oci:a b", "bad tag");
	ref_bad("oci:a$", "bad tag");
	char longtag[200] = "oci:";
	memset(longtag + 4, 'a', 129);
	ref_bad(longtag, "bad tag");
	longtag[4 + 128] = '\0';
	ref_ok(longtag, "oci", longtag + 4);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

Test(image_ref, digest_good)
{
	char hex[65];
	cr_assert_eq(digest_parse("sha256:" HEX64, hex, &err), 0, "%s", err.msg);
	cr_assert_str_eq(hex, HEX64);
}

Test(image_ref, digest_bad)
{
	static const struct { const char *d, *why; } bad[] = {
		{ NULL, "missing" },
		{ "", "prefix" },
		{ HEX64, "prefix" },
		{ "sha256:", "0 hex digits" },
		{ "sha256:" HEX64 "0", "65 hex digits" },
		{ "sha256:0123", "4 hex digits" },
		{ "sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "lowercase" },
		{ "sha256:" "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "lowercase" },
		{ "sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde ", "lowercase" },
		{ "sha512:" HEX64 HEX64, "unsupported algorithm 'sha512'" },
		{ "md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm 'md5'" },
		{ "SHA256:" HEX64, "unsupported algorithm" },
		{ "sha256+b64:" HEX64, "unsupported algorithm" },
		{ ":" HEX64, "unsupported algorithm" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char hex[65] = "untouched";
		cl_err_clear(&err);
		cr_assert_lt(digest_parse(bad[i].d, hex, &err), 0, "accepted '%s'", bad[i].d);
		cr_assert(strstr(err.msg, bad[i].why), "'%s': %s", bad[i].d, err.msg);
		cr_assert_str_eq(hex, "untouched");
	}
}

static void lowerdir_is(char **layers, size_t n, const char *want)
{
	struct image img = { .layers = layers, .nlayers = n };
	char *s = NULL;
	cl_err_clear(&err);
	cr_assert_eq(image_lowerdir(&img, &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s, want);
	free(s);
}

Test(image_lowerdir, top_first_deduped_escaped)
{
	lowerdir_is((char *[]){ "/s/a", NULL }, 1, "/s/a");
	lowerdir_is((char *[]){ "/s/a", "/s/b", "/s/c", NULL }, 3, "/s/c:/s/b:/s/a");
	/* a repeated layer counts at its topmost place only */
	lowerdir_is((char *[]){ "/s/a", "/s/b", "/s/a", NULL }, 3, "/s/a:/s/b");
	lowerdir_is((char *[]){ "/s/a", "/s/a", NULL }, 2, "/s/a");
	lowerdir_is((char *[]){ "/s:x/a", "/s\\y/b", NULL }, 2, "/s\\\\y/b:/s\\:x/a");
	struct image img = { .layers = (char *[]){ "/s,x/a", NULL }, .nlayers = 1 };
	char *s = NULL;
	cr_assert_eq(image_lowerdir(&img, &s, &err), -EINVAL);
	cr_assert(strstr(err.msg, "','"), "%s", err.msg);
	cr_assert_null(s);
	struct image none = { 0 };
	cr_assert_eq(image_lowerdir(&none, &s, &err), -EINVAL);
}
