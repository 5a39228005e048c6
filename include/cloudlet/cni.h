/* net/cni.c: the CNI (Container Network Interface, SPEC.md 1.1) side of
 * the VPC: a network configuration naming a VPC and subnet in, a result
 * or an error out, as JSON. Pure (json-c, no I/O): cli/cni.c reads the
 * environment and stdin, calls net_attach/net_detach/net_attach_check,
 * and prints what these render. */
#ifndef CLOUDLET_CNI_H
#define CLOUDLET_CNI_H

#include <stdbool.h>
#include <stdint.h>

#include "cloudlet/error.h"
#include "cloudlet/net.h"

#define CNI_VERSION "1.1.0"

/* SPEC.md "Error": well-known codes (100+ are the plugin's own) */
enum cni_code {
	CNI_ERR_VERSION = 1,           /* incompatible CNI version */
	CNI_ERR_FIELD = 2,             /* unsupported field in network configuration */
	CNI_ERR_UNKNOWN_CONTAINER = 3, /* container unknown or does not exist */
	CNI_ERR_ENV = 4,               /* invalid necessary environment variables */
	CNI_ERR_IO = 5,                /* I/O failure */
	CNI_ERR_DECODE = 6,            /* failed to decode content */
	CNI_ERR_CONFIG = 7,            /* invalid network config */
	CNI_ERR_TRY_AGAIN = 11,        /* try again later */
	CNI_ERR_UNAVAILABLE = 50,      /* STATUS: the plugin cannot service ADD */
	CNI_ERR_DEGRADED = 51,         /* ... and attached containers may have lost connectivity */
	CNI_ERR_VPC = 100,             /* the VPC refused (full subnet, no such subnet...) */
};

struct cni_conf {
	char version[16];              /* cniVersion */
	char name[NET_NAME_LEN + 1];   /* the network's name */
	char ref[2 * NET_NAME_LEN + 2];/* "VPC/SUBNET" from "vpc" and "subnet" */
	char root[256];                /* cloudlet's state directory ("" default) */
	char *dns;                     /* "dns" object as JSON text, NULL: none */
	char **valid;                  /* GC: cni.dev/valid-attachments' containerIDs */
	size_t nvalid;
	bool has_valid;                /* ... the key was there */
	bool has_prev;                 /* prevResult with an IPv4 address */
	uint32_t prev_ip;
	uint8_t prev_prefix;
};

/* The netconf on stdin. *code gets the CNI code of a failure. */
int cni_conf_parse(const char *json, struct cni_conf *c, int *code, struct cl_error *err);
void cni_conf_free(struct cni_conf *c);
/* The result of ADD: interfaces (the container's, in sandbox netns), ips,
 * routes (a default route via the subnet's gateway), dns. malloc'd. */
char *cni_result_render(const struct cni_conf *c, const struct net_attachment *a,
			const char *ifname, const char *netns);
char *cni_error_render(const char *version, int code, const char *msg, const char *details);
/* VERSION: the versions this plugin speaks */
char *cni_version_render(const char *version);
bool cni_version_supported(const char *v);
/* STATUS (SPEC 1.1): what is known of the network's VPC and subnet */
struct cni_status_facts {
	bool vpc, subnet;              /* the VPC's record and its subnet exist */
	bool netns;                    /* the VPC's network namespace is there */
	uint64_t leased, capacity;     /* the subnet's leases, its guest addresses */
};
/* 0: ADD would work. Else *code: 50 (no such VPC/subnet, or full) or 51
 * (the VPC's namespace is gone: attached containers lost their network). */
int cni_status_decide(const struct cni_conf *c, const struct cni_status_facts *f, int *code,
		      struct cl_error *err);
/* GC (SPEC 1.1): is a an attachment CNI made (no holder process) on c's
 * subnet for a container not among cni.dev/valid-attachments? */
bool cni_gc_stale(const struct cni_conf *c, const struct vpc_att *a);

/* net/cni_verbs.c, the I/O half: the facts STATUS decides on, and GC
 * (every stale attachment detached; the first failure reported after the
 * rest were tried; *removed counts the detached). */
int cni_status_facts_get(const char *root, const struct cni_conf *c, struct cni_status_facts *f,
			 struct cl_error *err);
int cni_gc(const char *root, const struct cni_conf *c, size_t *removed, struct cl_error *err);

/* the cniVersion of a JSON text ("" when none) */
void cni_peek_version(const char *json, char out[16]);

#endif
