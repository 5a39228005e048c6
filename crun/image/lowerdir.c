/* The overlayfs lowerdir= value for an image's layers (kernel
 * Documentation/filesystems/overlayfs.rst, "Multiple lower layers"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CRUN_IMAGE_INTERNAL
#include "../image.h"

int image_lowerdir(const struct image *img, char **out, struct cl_error *err)
{
	size_t len = 1;
	*out = NULL;
	if (!img || !img->nlayers)
		return cl_err(err, EINVAL, "image has no layers");
	for (size_t i = 0; i < img->nlayers; i++) {
		if (strchr(img->layers[i], ','))
			return cl_err(err, EINVAL, "layer %s: a ',' cannot be passed in mount options",
				      img->layers[i]);
		len += 2 * strlen(img->layers[i]) + 1;
	}
	char *s = malloc(len), *p = s;
	if (!s)
		return cl_err(err, ENOMEM, "out of memory");
	/* top first; overlayfs refuses a directory given twice (ELOOP), and
	 * only the topmost copy of a repeated layer matters: every path of a
	 * lower copy is shadowed by the same path of the upper one */
	for (size_t i = img->nlayers; i-- > 0;) {
		int seen = 0;
		for (size_t j = i + 1; j < img->nlayers && !seen; j++)
			seen = !strcmp(img->layers[i], img->layers[j]);
		if (seen)
			continue;
		if (p != s)
			*p++ = ':';
		for (const char *c = img->layers[i]; *c; c++) {
			if (*c == ':' || *c == '\\')   /* the kernel splits on unescaped ':' */
				*p++ = '\\';
			*p++ = *c;
		}
	}
	*p = '\0';
	*out = s;
	return 0;
}
