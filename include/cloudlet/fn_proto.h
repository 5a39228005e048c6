/* The runtime protocol between the serving process and /bin/clfn in an
 * instance (images/rootfs/tools/clfn.c): one TCP connection, invocations
 * one after the other on it. All fields are 32-bit big-endian words.
 *
 *   runtime -> server, once on accept:  MAGIC                     (ready)
 *   server -> runtime, per invocation:  MAGIC LEN  body[LEN]       (the event)
 *   runtime -> server, per invocation:  MAGIC STATUS HANDLER_US OUT_LEN ERR_LEN
 *                                       out[OUT_LEN] err[ERR_LEN]
 *
 * STATUS is the handler's exit status (128+N when signal N ended it, 127
 * when it could not be run); out is its stdout (at most FN_PROTO_BODY_MAX),
 * err the tail of its stderr (at most FN_PROTO_ERR_MAX). Lengths beyond
 * those bounds are a protocol error, whichever side reads them.
 * Header only, so that the static in-guest tool needs no library. */
#ifndef CLOUDLET_FN_PROTO_H
#define CLOUDLET_FN_PROTO_H

#include <arpa/inet.h>
#include <stdint.h>

#define FN_PROTO_MAGIC 0x434c4631u      /* "CLF1" */
#define FN_PROTO_BODY_MAX (6u << 20)    /* = FN_BODY_MAX */
#define FN_PROTO_ERR_MAX 2048u          /* = FN_STDERR_TAIL */

enum { FN_REQ_WORDS = 2, FN_RESP_WORDS = 5 };

struct fn_proto_resp {
	uint32_t status, handler_us, out_len, err_len;
};

static inline void fn_proto_req_encode(uint32_t w[FN_REQ_WORDS], uint32_t len)
{
	w[0] = htonl(FN_PROTO_MAGIC);
	w[1] = htonl(len);
}

/* 0, or -1 for a bad magic or a body over FN_PROTO_BODY_MAX */
static inline int fn_proto_req_decode(const uint32_t w[FN_REQ_WORDS], uint32_t *len)
{
	if (ntohl(w[0]) != FN_PROTO_MAGIC || ntohl(w[1]) > FN_PROTO_BODY_MAX)
		return -1;
	*len = ntohl(w[1]);
	return 0;
}

static inline void fn_proto_resp_encode(uint32_t w[FN_RESP_WORDS], const struct fn_proto_resp *r)
{
	w[0] = htonl(FN_PROTO_MAGIC);
	w[1] = htonl(r->status);
	w[2] = htonl(r->handler_us);
	w[3] = htonl(r->out_len);
	w[4] = htonl(r->err_len);
}

static inline int fn_proto_resp_decode(const uint32_t w[FN_RESP_WORDS], struct fn_proto_resp *r)
{
	if (ntohl(w[0]) != FN_PROTO_MAGIC)
		return -1;
	r->status = ntohl(w[1]);
	r->handler_us = ntohl(w[2]);
	r->out_len = ntohl(w[3]);
	r->err_len = ntohl(w[4]);
	if (r->out_len > FN_PROTO_BODY_MAX || r->err_len > FN_PROTO_ERR_MAX || r->status > 255)
		return -1;
	return 0;
}

#endif
