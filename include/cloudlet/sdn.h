/* net/sdn/: VPCs across hosts. The control plane (a store holding the
 * desired state: hosts, VPCs with their VNI, subnets, security groups and
 * attachments, each attachment placed on a host) is separate from the data
 * plane (per-host agents that make the host's kernel match it: a namespace
 * per VPC, a bridge per subnet answering ARP for the subnet's remote
 * guests, one routed VXLAN device per VPC on the underlay, a /32 route per
 * remote guest through it, a static FDB and neighbour entry per remote
 * host of the VPC, the nftables security groups).
 *
 * Three layers, top to bottom:
 *   desired.c   state + host -> the items that host must have   (pure)
 *   reconcile.c desired items + actual items -> ops               (pure)
 *   agent.c     observe the kernel -> actual items; apply ops     (netlink, nft)
 * and the store (store.c: one interface; store_sqlite.c embedded,
 * store_etcd.c etcd's v3 JSON API over libcurl, store_http.c the
 * controller process, server.c, serving either over HTTP) under all of it. */
#ifndef CLOUDLET_SDN_H
#define CLOUDLET_SDN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"
#include "cloudlet/net.h"

/* ---- items and ops (reconcile.c, pure) ---- */

/* What the data plane of a host is made of, in the order things are built
 * (a bridge needs its namespace, a port its bridge, an FDB entry its VXLAN
 * device) and, reversed, torn down. */
enum sdn_kind {
	SDN_NETNS,      /* key: namespace name; value: "" */
	SDN_BRIDGE,     /* key: bridge; value: "GW/PREFIX mac MAC mtu N proxy-arp" */
	SDN_VXLAN,      /* key: device; value: "vni N local IP mac MAC mtu N" */
	SDN_PORT,       /* key: a guest's port; value: its bridge */
	SDN_QOS,        /* key: a guest's port; value: "tbf rate NNNmbit" (to the guest) */
	SDN_FDB,        /* key: "VXLAN MAC" (a remote router MAC); value: that host's underlay IP */
	SDN_NEIGH,      /* key: "VXLAN IP" (a remote host's underlay IP); value: its router MAC */
	SDN_ROUTE,      /* key: "IP/32" (a remote guest); value: "via UNDERLAY-IP dev VXLAN" */
	SDN_NFT,        /* key: "ruleset"; value: the whole nftables script */
	SDN_KIND_MAX,
};
const char *sdn_kind_name(enum sdn_kind k);

#define SDN_KEY_MAX 64
struct sdn_item {
	enum sdn_kind kind;
	char ns[NET_NAME_LEN + 32];     /* the namespace it lives in */
	char key[SDN_KEY_MAX];
	char *value;                    /* malloc'd */
};
struct sdn_items {
	struct sdn_item *v;
	size_t n;
};
int sdn_items_add(struct sdn_items *s, enum sdn_kind kind, const char *ns, const char *key,
		  const char *value);
void sdn_items_free(struct sdn_items *s);
/* Sort by (kind, ns, key) so that lookups and diffs are linear. */
void sdn_items_sort(struct sdn_items *s);

enum sdn_op_type {
	SDN_OP_ADD,     /* make it (item: the desired one) */
	SDN_OP_CHANGE,  /* it exists with another value (item: the desired one) */
	SDN_OP_DEL,     /* remove it (item: the actual one) */
};
struct sdn_op {
	enum sdn_op_type type;
	const struct sdn_item *item;    /* points into desired or actual */
	const char *old;                /* CHANGE: the actual value */
};
/* The ops that turn `actual` into `desired` (both sorted), in an order that
 * can be applied one by one: deletes first, deepest kind first (entries
 * before devices before namespaces), then adds and changes, outermost kind
 * first. An item whose namespace is deleted is not deleted on its own (it
 * goes with the namespace). Equal sets: no ops. *ops malloc'd. */
int sdn_reconcile(const struct sdn_items *desired, const struct sdn_items *actual,
		  struct sdn_op **ops, size_t *n);
/* What applying ops to `actual` yields (the model of a perfect kernel),
 * for tests and for the agent's dry run. Makes a new sorted set. */
int sdn_items_apply(const struct sdn_items *actual, const struct sdn_op *ops, size_t n,
		    struct sdn_items *out);

/* ---- the desired state (model.c: JSON; desired.c: pure) ---- */

#define SDN_HOST_NAME_MAX 24    /* goes into namespace names; see sdn_host_check */
#define SDN_SCHEMA 2            /* the store's layout version (2: a VNI per VPC) */
#define SDN_VNI_FIRST 4096
#define SDN_VNI_LAST 16777215   /* 24 bits (RFC 7348 section 5) */
#define SDN_UNDERLAY_MTU 1500
#define SDN_VXLAN_OVERHEAD 50   /* outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 */
#define SDN_GUEST_MTU (SDN_UNDERLAY_MTU - SDN_VXLAN_OVERHEAD)

struct sdn_host {
	char name[NET_NAME_LEN + 1];
	uint32_t underlay;          /* its address on the underlay */
	bool machine;               /* a machine of its own (`host add --address`): its
	                               agent's network namespace is the host's; else a
	                               simulated host (namespace clsh-CLUSTER-NAME) */
};
struct sdn_vpc {
	struct vpc v;               /* subnets, SGs, attachments (att.host: where) */
	uint32_t vni;               /* its VXLAN network (claimed in /cloudlet/vnis) */
	uint32_t *last;             /* per subnet: the address leased last (IPAM round robin) */
	int64_t mod_rev;            /* the store revision of its last change */
};
struct sdn_state {
	struct sdn_host *hosts;
	size_t nhosts;
	struct sdn_vpc *vpcs;
	size_t nvpcs;
	int64_t rev;                /* the store revision read */
};
void sdn_state_free(struct sdn_state *s);
const struct sdn_host *sdn_host_find(const struct sdn_state *s, const char *name);

/* Host names: net_name_check and at most SDN_HOST_NAME_MAX characters,
 * which keeps "clsv-CLUSTER-HOST-VPCHASH" a short, readable namespace name. */
int sdn_host_check(const char *name, struct cl_error *err);
/* The lowest VNI in [first, last] not in used[0..n): -ENOSPC when none. */
int sdn_vni_pick(const uint32_t *used, size_t n, uint32_t first, uint32_t last, uint32_t *out);

/* The cloud's VNI claims (key /cloudlet/vnis, {"4096": "vpc-name", ...}),
 * changed only by compare-and-swap, so two VPCs created at once never get
 * one VNI: whoever writes second re-reads and picks again. */
struct sdn_vni_claim {
	uint32_t vni;
	char vpc[NET_NAME_LEN + 1];
};
struct sdn_vnis {
	struct sdn_vni_claim *v;
	size_t n;
};
int sdn_vnis_from_json(const char *json, struct sdn_vnis *out, struct cl_error *err);
char *sdn_vnis_to_json(const struct sdn_vnis *m);
void sdn_vnis_free(struct sdn_vnis *m);
/* Claim the lowest free VNI of [first, last] for vpc (a new claim each
 * time: a claim is released only by whoever made it); -ENOSPC when every
 * one is claimed. */
int sdn_vnis_claim(struct sdn_vnis *m, const char *vpc, uint32_t first, uint32_t last, uint32_t *out);
/* Drop the claim (vni, vpc): 1, or 0 when there was none. */
int sdn_vnis_release(struct sdn_vnis *m, uint32_t vni, const char *vpc);
const struct sdn_vni_claim *sdn_vnis_find(const struct sdn_vnis *m, uint32_t vni);

/* Names: the namespace of a host, of VPC `vpc` on host `host`, the VPC's
 * VXLAN device; `cluster` is 8 hex digits naming the store, so two stores
 * (two test runs) never share a name. */
void sdn_host_netns(const char *cluster, const char *host, char out[NET_NAME_LEN + 32]);
void sdn_vpc_netns(const char *cluster, const char *host, const char *vpc,
		   char out[NET_NAME_LEN + 32]);
char *sdn_vxlan_name(const char *vpc, char out[NET_IFNAMSIZ]);
/* MACs every host derives alike: the router MAC of `host` in `vpc` (its
 * VXLAN device's: the inner destination of what other hosts route to it)
 * and a subnet's anycast gateway MAC (the same bridge address on every
 * host, so a guest's ARP entry for its gateway holds wherever it runs). */
void sdn_router_mac(const char *vpc, const char *host, uint8_t mac[6]);
void sdn_gateway_mac(const char *vpc, const char *subnet, uint8_t mac[6]);

/* The items host `host` must have: for every VPC with an attachment there,
 * its namespace, a bridge per subnet (the anycast gateway, proxy ARP on),
 * the VPC's VXLAN device, its local guests' ports on their bridges, per
 * guest of that VPC on another host a /32 route to that host's VTEP, per
 * such host a static FDB and neighbour entry (its router MAC), and the
 * VPC's nftables ruleset. */
int sdn_desired(const struct sdn_state *s, const char *cluster, const char *host,
		struct sdn_items *out, struct cl_error *err);

/* JSON of the store's values (model.c). */
int sdn_host_from_json(const char *json, struct sdn_host *h, struct cl_error *err);
char *sdn_host_to_json(const struct sdn_host *h);
int sdn_vpc_from_json(const char *json, struct sdn_vpc *v, struct cl_error *err);
char *sdn_vpc_to_json(const struct sdn_vpc *v);
void sdn_vpc_free(struct sdn_vpc *v);

/* ---- the store (store.c, store_sqlite.c): keys with revisions ---- */

/* Like etcd's v3 model: every write bumps one store-wide revision and
 * stamps the key with it (mod_rev). URLs: "sqlite:PATH" (embedded, one
 * machine), "etcd:http://HOST:PORT", or "http://HOST:PORT" (a controller
 * process, `cloudlet controller serve`, owning one of the others). */
struct sdn_store;
struct sdn_kv {
	char *key, *value;
	int64_t mod_rev;
};
/* What a watch returns: events in revision order, each a kv whose value is
 * NULL for a delete and whose mod_rev is the event's revision. */
struct sdn_watch {
	struct sdn_kv *ev;
	size_t n;
	int64_t rev;            /* the last event's revision (0: no event) */
	int64_t compacted;      /* >0: the store's history starts there */
};
void sdn_watch_free(struct sdn_watch *w);
struct sdn_store_ops {
	/* every key under prefix, sorted; *rev: the store's revision */
	int (*get)(struct sdn_store *s, const char *prefix, struct sdn_kv **kvs, size_t *n,
		   int64_t *rev, struct cl_error *err);
	/* put (value) or delete (NULL) if the key's mod_rev is `expect`
	 * (0: absent; -1: whatever it is); -EAGAIN when it is not */
	int (*cas)(struct sdn_store *s, const char *key, const char *value, int64_t expect,
		   int64_t *rev, struct cl_error *err);
	/* the changes under prefix after revision `after`, waiting up to
	 * timeout_ms for the first (none: w->n == 0); history before `after`
	 * compacted away: w->compacted set, no events (etcd's watch) */
	int (*watch)(struct sdn_store *s, const char *prefix, int64_t after, unsigned timeout_ms,
		     struct sdn_watch *w, struct cl_error *err);
	/* drop the history before revision rev (etcd's compaction) */
	int (*compact)(struct sdn_store *s, int64_t rev, struct cl_error *err);
	void (*close)(struct sdn_store *s);
};
struct sdn_store {
	const struct sdn_store_ops *ops;
	char url[512];
	char cluster[9];    /* 8 hex digits of the URL: in namespace names */
};
#define SDN_ENV "CLOUDLET_CONTROLLER"   /* the store's URL: "a controller is configured" */
int sdn_store_open(const char *url, struct sdn_store **out, struct cl_error *err);
void sdn_store_close(struct sdn_store *s);
void sdn_kvs_free(struct sdn_kv *kvs, size_t n);
int sdn_store_sqlite_open(const char *path, struct sdn_store **out, struct cl_error *err);
int sdn_store_etcd_open(const char *endpoint, struct sdn_store **out, struct cl_error *err);
int sdn_store_http_open(const char *url, struct sdn_store **out, struct cl_error *err);

/* Read the whole desired state (hosts, VPCs), checking the schema version
 * ("written by a newer cloudlet" is an error, never a guess). */
int sdn_state_load(struct sdn_store *s, struct sdn_state *out, struct cl_error *err);
/* The same from keys already read (pure): the agent's copy kept by watch
 * events. `url` only names the store in errors. */
int sdn_state_from_kvs(const struct sdn_kv *kvs, size_t n, const char *url, struct sdn_state *out,
		       struct cl_error *err);

/* ---- watching (watch.c, pure) ---- */

/* A watch from revision after + 1 has a gap when the store's history
 * starts later (etcd: start_revision < compact_revision cancels it). */
bool sdn_watch_gap(int64_t after, int64_t compacted);
/* Apply events to a copy of the keys (sorted by key, kept sorted): a put
 * replaces or inserts, a delete removes. Returns the newest revision among
 * events that change the desired state (anything but /cloudlet/applied/),
 * 0 when none did, or -ENOMEM. */
int64_t sdn_kvs_apply(struct sdn_kv **kvs, size_t *n, const struct sdn_kv *ev, size_t nev);
/* One message of etcd's watch stream (the gateway's {"result": {...}}),
 * as parsed JSON: events appended to w, compact_revision into
 * w->compacted; 1 when the watch was canceled (w->compacted then says why). */
struct json_object;
int sdn_etcd_watch_msg(struct json_object *msg, struct sdn_watch *w, struct cl_error *err);

/* What an agent reports at /cloudlet/applied/HOST: the desired revision
 * applied, the store revision seen, when (Unix seconds) and how often it
 * reports; an older agent's bare number is the applied revision. */
struct sdn_report {
	int64_t applied, seen, at;
	unsigned every_ms;
};
char *sdn_report_to_json(const struct sdn_report *r);
int sdn_report_from_json(const char *json, struct sdn_report *r);
/* Missed three reports (and at least 3 s): the agent is gone or stuck. */
bool sdn_report_stale(const struct sdn_report *r, int64_t now);

/* ---- the controller's status (status.c) ---- */

struct sdn_status_host {
	char name[NET_NAME_LEN + 1];
	bool reported;              /* false: its agent never reported */
	struct sdn_report rep;
};
struct sdn_status {
	char url[512];
	char cluster[9];            /* in the namespace names (sdn_host_netns) */
	long schema;                /* 0: not written yet */
	int64_t rev;                /* the store's revision */
	int64_t desired;            /* the newest change to hosts or VPCs */
	struct sdn_status_host *hosts;
	size_t nhosts;
};
int sdn_status_get(const char *url, struct sdn_status *out, struct cl_error *err);
void sdn_status_free(struct sdn_status *s);
/* Compact the store's history before rev (0: the current revision). */
int sdn_store_compact(const char *url, int64_t rev, int64_t *done, struct cl_error *err);

/* ---- the controller process (api.c, pure; server.c) ---- */

/* Its HTTP API: the store's interface above, one call per endpoint
 * (api.c's header and the README list them with their JSON). */
#define SDN_API_WATCH_MAX_MS 30000  /* a long poll's longest wait */
enum sdn_api_call { SDN_API_HEALTH, SDN_API_RANGE, SDN_API_CAS, SDN_API_WATCH, SDN_API_COMPACT };
struct sdn_api_req {
	enum sdn_api_call call;
	char *key;              /* range, watch: the prefix; cas: the key */
	char *value;            /* cas: NULL deletes */
	int64_t expect;         /* cas: the mod_rev expected (0: absent; -1: any) */
	int64_t after;          /* watch: changes after this revision */
	unsigned timeout_ms;    /* watch: at most SDN_API_WATCH_MAX_MS */
	int64_t rev;            /* compact */
};
const char *sdn_api_path(enum sdn_api_call c);
/* A request from its method, path and body: -ENOENT no such path (404),
 * -EOPNOTSUPP another method (405), -EINVAL a bad body (400). */
int sdn_api_req_parse(const char *method, const char *path, const char *body, struct sdn_api_req *rq,
		      struct cl_error *err);
char *sdn_api_req_to_json(const struct sdn_api_req *rq);
void sdn_api_req_free(struct sdn_api_req *rq);
/* Replies (malloc'd JSON text), and back; each carries a revision. */
char *sdn_api_kvs_to_json(const struct sdn_kv *kvs, size_t n, int64_t rev);
int sdn_api_kvs_from_json(const char *json, struct sdn_kv **kvs, size_t *n, int64_t *rev, struct cl_error *err);
char *sdn_api_watch_to_json(const struct sdn_watch *w);
int sdn_api_watch_from_json(const char *json, struct sdn_watch *w, struct cl_error *err);
/* cas (succeeded 0/1) and compact (succeeded -1: none) */
char *sdn_api_rev_to_json(int64_t rev, int succeeded);
int sdn_api_rev_from_json(const char *json, int64_t *rev, bool *succeeded, struct cl_error *err);
struct sdn_status;
char *sdn_api_health_to_json(const struct sdn_status *s);
char *sdn_api_error_to_json(const char *msg);
int sdn_api_error_from_json(const char *json, char *msg, size_t len);
/* errno <-> HTTP status (503: the store is unreachable) */
unsigned sdn_api_status(int code);
int sdn_api_code(unsigned status);

/* `cloudlet controller serve`: open the store at url (reachable, of a
 * schema this cloudlet knows) and serve it on listen ("IPV4:PORT"). */
struct sdn_server;
int sdn_server_start(const char *url, const char *listen, struct sdn_server **out, struct cl_error *err);
void sdn_server_stop(struct sdn_server *s);

/* ---- control (control.c): what the CLI's host/vpc/sg commands write ---- */

/* A simulated host: namespace "clsh-CLUSTER-NAME" with underlay interface
 * "ul0" on the bridge of the shared underlay namespace "clsu-CLUSTER",
 * address 172.31.X.Y/16 (private, RFC 1918, inside those namespaces only). */
int sdn_host_add(const char *url, const char *name, struct cl_error *err);
/* A machine of its own, reached on the underlay at addr (it must be an
 * address of that machine; its agent runs there): nothing is plumbed. */
int sdn_host_add_machine(const char *url, const char *name, uint32_t addr, struct cl_error *err);
int sdn_host_rm(const char *url, const char *name, struct cl_error *err);
int sdn_host_list(const char *url, struct sdn_state *out, struct cl_error *err);
int sdn_vpc_create(const char *url, const char *name, const char *cidr, struct cl_error *err);
int sdn_vpc_rm(const char *url, const char *name, bool force, struct cl_error *err);
int sdn_subnet_create(const char *url, const char *ref, const char *cidr, struct cl_error *err);
int sdn_sg_create(const char *url, const char *ref, struct cl_error *err);
int sdn_sg_rule_add(const char *url, const char *ref, const struct sg_rule *rule, struct cl_error *err);
/* One VPC and the revision each host's agent has applied (-1: never). */
int sdn_vpc_get(const char *url, const char *name, struct sdn_vpc *out, struct sdn_state *st,
		int64_t **applied, struct cl_error *err);
/* net_attach / net_detach for a guest placed on a host (rq->host). */
int sdn_attach(const char *url, const struct net_attach_req *rq, struct net_attachment *a,
	       struct cl_error *err);
int sdn_detach(const char *url, struct net_attachment *a, struct cl_error *err);

/* ---- the agent (agent.c) ---- */

/* Reconcile host `host` with the store: a full read at start, then a
 * watch from the last revision seen (a full resync only after a revision
 * gap), reconciling on every change and every interval_ms (drift repair),
 * reporting at least every report_ms; until *stop. Logs one line per op,
 * per resync and per store outage through log(). With the store down the
 * data plane is left as it is. */
int sdn_agent_run(const char *url, const char *host, unsigned interval_ms, unsigned report_ms,
		  volatile int *stop, void (*log)(const char *line), struct cl_error *err);

#endif
