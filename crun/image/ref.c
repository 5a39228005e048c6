/* Image references and digests: the two pure parsers of crun/image.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

#define TAG_MAX 128

/* A tag as docker and the OCI distribution spec write it:
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. No '/', so "/a:b/c" is a path. */
static int tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX || t[0] == '.' || t[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int image_ref_parse(const char *ref, char **path, char **tag, struct cl_error *err)
{
	struct stat st;
	*path = *tag = NULL;
	if (!ref || !*ref)
		return cl_err(err, EINVAL, "image reference: empty");
	/* An existing directory wins: a layout may live in "dir:with:colons". */
	const char *colon = strrchr(ref, ':');
	if (colon && stat(ref, &st) == 0 && S_ISDIR(st.st_mode))
		colon = NULL;
	if (colon && !strchr(colon + 1, '/')) {
		if (colon == ref)
			return cl_err(err, EINVAL, "image reference '%s': no path before ':'", ref);
		if (!tag_valid(colon + 1))
			return cl_err(err, EINVAL,
				      "image reference '%s': bad tag '%s' (want [A-Za-z0-9_][A-Za-z0-9_.-]*, at most %d)",
				      ref, colon + 1, TAG_MAX);
		*path = strndup(ref, (size_t)(colon - ref));
		*tag = strdup(colon + 1);
	} else {
		*path = strdup(ref);
		*tag = strdup("latest");
	}
	if (!*path || !*tag) {
		free(*path);
		free(*tag);
		*path = *tag = NULL;
		return cl_err(err, ENOMEM, "image reference '%s': out of memory", ref);
	}
	return 0;
}

/* descriptor.md, "Digests": algorithm ":" encoded. Only sha256 is
 * registered-and-required; its encoding is [a-f0-9]{64}, lowercase only. */
int digest_parse(const char *digest, char hex[65], struct cl_error *err)
{
	if (!digest)
		return cl_err(err, EINVAL, "digest: missing");
	const char *colon = strchr(digest, ':');
	if (!colon)
		return cl_err(err, EINVAL, "digest '%.80s': no 'algorithm:' prefix", digest);
	if ((size_t)(colon - digest) != 6 || strncmp(digest, "sha256", 6) != 0)
		return cl_err(err, ENOTSUP, "digest '%.80s': unsupported algorithm '%.*s' (only sha256)",
			      digest, (int)(colon - digest) > 32 ? 32 : (int)(colon - digest), digest);
	const char *h = colon + 1;
	size_t n = strlen(h);
	if (n != 64)
		return cl_err(err, EINVAL, "digest '%.80s': %zu hex digits, sha256 has 64", digest, n);
	for (size_t i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return cl_err(err, EINVAL, "digest '%.80s': not lowercase hex", digest);
	memcpy(hex, h, 65);
	return 0;
}
