/* nftables through libnftables: the script is nft's own language, parsed
 * and sent as one netlink batch, so a ruleset is replaced atomically (a
 * failing script changes nothing). See net/internal.h. */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int nft_run(int ns, const char *script, char **out, struct cl_error *err)
{
	int saved = -1, r;
	/* the context's netlink socket is made in the current namespace */
	if (ns >= 0 && (r = netns_enter(ns, &saved, err)) < 0)
		return r;
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		netns_leave(saved);
		return cl_err(err, ENOMEM, "nftables: out of memory");
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	r = nft_run_cmd_from_buffer(ctx, script);
	if (r != 0) {
		/* nft's message is several lines (the rule, a caret): keep the first */
		const char *e = nft_ctx_get_error_buffer(ctx);
		size_t n = e ? strcspn(e, "\n") : 0;
		r = cl_err(err, EINVAL, "nftables: %.*s", (int)(n > 300 ? 300 : n), n ? e : "failed");
	} else if (out && !(*out = strdup(nft_ctx_get_output_buffer(ctx)))) {
		r = cl_err(err, ENOMEM, "out of memory");
	}
	nft_ctx_free(ctx);
	netns_leave(saved);
	return r;
}

int nft_apply(int ns, const char *script, struct cl_error *err)
{
	return nft_run(ns, script, NULL, err);
}

int nft_list(int ns, char **out, struct cl_error *err)
{
	return nft_run(ns, "list ruleset", out, err);
}
