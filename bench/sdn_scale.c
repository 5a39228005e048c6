/* `bench sdn-scale`: how the overlay's control loop scales (issue #10).
 * A cloud of the bench's own (bench/cloud.c): simulated hosts, one real
 * agent process each, and per_host real attachments per host (a veth whose
 * guest end lives in a network namespace of the bench's own, attached with
 * net_attach through the controller as the CNI plugin does: the host's
 * agent builds the VPC, the port is plugged into its bridge, and every
 * other host of the VPC gets its route, FDB and neighbour entries). Then, at a
 * growing number of hosts, desired-state changes, each timed by a poller
 * thread that reads the store every POLL_MS: from the change's write being
 * visible (the store's revision reaching it) to each affected host's agent
 * reporting that revision applied (/cloudlet/applied/HOST, what `vpc show`
 * reads). A host is affected when the change alters the items it must hold
 * (sdn_desired before vs after): nothing is assumed about which. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cloudlet/bench.h"
#include "cloudlet/net.h"
#include "cloudlet/sdn.h"

#define POLL_MS 2
#define AGENT_INTERVAL_MS 1000   /* `host agent`'s default --interval */
#define SETTLE_MS 120000
#define HOST_LOG 32          /* applied-revision changes kept per host per change */
#define STORE_LOG 2048       /* store-revision changes kept per change */
#define MAX_HOSTS 200
#define MAX_VPCS 100
#define SUBNET_MAX_GUESTS 4000   /* a /20 per VPC */

static const struct bench_metric metrics[] = {
	[BENCH_SDN_CONVERGE] = { "converge_ms", "write -> all affected applied, ms", "%.0f (%.0f-%.0f)" },
	[BENCH_SDN_FIRST] = { "first_ms", "write -> first affected applied, ms", "%.0f (%.0f-%.0f)" },
	[BENCH_SDN_WRITE] = { "write_ms", "call -> write visible, ms", "%.1f (%.1f-%.1f)" },
	[BENCH_SDN_AFFECTED] = { "affected_hosts", "hosts affected", "%.0f (%.0f-%.0f)" },
};
const struct bench_kind bench_sdn_scale_kind = { "sdn-scale", "hosts: change", metrics, BENCH_SDN_METRICS };
static const char *const kind_names[BENCH_SDN_KINDS] = { "attach", "detach", "sg rule" };

unsigned bench_sdn_steps(unsigned hosts, unsigned out[BENCH_SDN_STEPS])
{
	const unsigned cand[BENCH_SDN_STEPS] = { hosts / 4, hosts / 2, hosts };
	unsigned n = 0;
	for (unsigned i = 0; i < BENCH_SDN_STEPS; i++) {
		unsigned h = cand[i] < 2 ? 2 : cand[i];
		if (h > hosts)
			h = hosts;
		if (!n || h > out[n - 1])
			out[n++] = h;
	}
	return n;
}

unsigned bench_sdn_vpc_of(unsigned h, unsigned k, unsigned vpcs)
{
	return vpcs ? (h + k % 2) % vpcs : 0;
}

void bench_sdn_expect(const struct sdn_state *s, const char *host, struct bench_sdn_host_row *row)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", host);
	row->fdb = row->neigh = row->routes = -1;
	for (size_t i = 0; i < s->nvpcs; i++) {
		const struct vpc *v = &s->vpcs[i].v;
		unsigned here = 0, elsewhere = 0, hosts = 0;
		for (size_t k = 0; k < v->natts; k++) {
			const char *h = v->atts[k].host;
			if (!sdn_host_find(s, h))
				continue;   /* a removed host's guests are gone everywhere */
			if (!strcmp(h, host)) {
				here++;
				continue;
			}
			elsewhere++;
			bool first = true;   /* the first guest of its host in this VPC */
			for (size_t j = 0; j < k && first; j++)
				first = strcmp(v->atts[j].host, h) != 0;
			hosts += first;
		}
		row->local += here;
		row->cloud += elsewhere;
		if (here) {
			row->vpcs++;
			row->expect += elsewhere;
			row->expect_hosts += hosts;
		}
	}
}

/* ---- the poller: applied revisions and the store's, with the time each
 * was first seen ---- */

struct seen {
	int64_t rev;
	double t;
};
struct poller {
	pthread_t tid;
	pthread_mutex_t mu;
	volatile bool run;
	struct cloud *c;
	struct sdn_store *st;        /* its own connection */
	int64_t *cur, store_cur;
	struct seen (*log)[HOST_LOG], slog[STORE_LOG];
	size_t *nlog, nslog;
	int64_t *applied;            /* scratch */
};

static void *poll_main(void *arg)
{
	struct poller *p = arg;
	while (p->run) {
		int64_t srev;
		if (cloud_applied(p->c, p->st, p->applied, &srev, NULL) == 0) {
			double t = bench_now_ms();
			pthread_mutex_lock(&p->mu);
			for (size_t i = 0; i < p->c->n; i++)
				if (p->applied[i] != p->cur[i]) {
					p->cur[i] = p->applied[i];
					if (p->nlog[i] < HOST_LOG)
						p->log[i][p->nlog[i]++] = (struct seen){ p->applied[i], t };
				}
			if (srev != p->store_cur) {
				p->store_cur = srev;
				if (p->nslog < STORE_LOG)
					p->slog[p->nslog++] = (struct seen){ srev, t };
			}
			pthread_mutex_unlock(&p->mu);
		}
		struct timespec ts = { 0, POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void poller_stop(struct poller *p)
{
	if (p->run) {
		p->run = false;
		pthread_join(p->tid, NULL);
		pthread_mutex_destroy(&p->mu);
	}
	sdn_store_close(p->st);
	free(p->cur);
	free(p->log);
	free(p->nlog);
	free(p->applied);
	memset(p, 0, sizeof(*p));
}

/* for c's hosts as they are now (a step) */
static int poller_start(struct poller *p, struct cloud *c, struct cl_error *err)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->cur = calloc(c->n, sizeof(*p->cur));
	p->log = calloc(c->n, sizeof(*p->log));
	p->nlog = calloc(c->n, sizeof(*p->nlog));
	p->applied = calloc(c->n, sizeof(*p->applied));
	int r = !p->cur || !p->log || !p->nlog || !p->applied ? cl_err(err, ENOMEM, "out of memory")
							      : sdn_store_open(c->url, &p->st, err);
	if (r == 0 && (r = cloud_applied(c, p->st, p->cur, &p->store_cur, err)) == 0) {
		pthread_mutex_init(&p->mu, NULL);
		p->run = true;
		if ((r = pthread_create(&p->tid, NULL, poll_main, p)) != 0) {
			p->run = false;
			pthread_mutex_destroy(&p->mu);
			r = cl_err(err, r, "pthread_create");
		}
	}
	if (r < 0)
		poller_stop(p);
	return r;
}

/* forget what was seen before a change */
static void poller_mark(struct poller *p)
{
	pthread_mutex_lock(&p->mu);
	memset(p->nlog, 0, p->c->n * sizeof(*p->nlog));
	p->nslog = 0;
	pthread_mutex_unlock(&p->mu);
}

/* when rev was first seen since the mark: host i's applied (i >= 0) or the
 * store's (i < 0); -1: not yet (under p->mu) */
static double seen_at(const struct poller *p, long i, int64_t rev)
{
	const struct seen *l = i < 0 ? p->slog : p->log[i];
	size_t n = i < 0 ? p->nslog : p->nlog[i];
	for (size_t k = 0; k < n; k++)
		if (l[k].rev >= rev)
			return l[k].t;
	return -1;
}

/* ---- the cloud's guests ---- */

static bool stopped(const struct bench_sdn_scale_opts *o)
{
	return o->stop && *o->stop;
}

struct guest {
	int ns;                      /* its network namespace (the bench's own, unnamed) */
	struct net_attachment a;
	unsigned host, vpc;
	bool on;
};

struct scale {
	const struct bench_sdn_scale_opts *o;
	struct cloud *c;
	struct poller p;
	struct guest *g;             /* hosts * per_host, in host order */
	size_t ng;
	unsigned short seed[3];      /* the pauses' (erand48): the same in every run */
};

static void vpc_name(unsigned k, char out[NET_NAME_LEN + 1])
{
	snprintf(out, NET_NAME_LEN + 1, "scale-%u", k);
}

static int guest_attach(struct scale *x, struct guest *g, const char *id, pid_t holder, struct cl_error *err)
{
	char vpc[NET_NAME_LEN + 1], ref[2 * NET_NAME_LEN + 2];
	vpc_name(g->vpc, vpc);
	snprintf(ref, sizeof(ref), "%s/a", vpc);
	struct net_attach_req rq = {
		.root = x->o->workdir, .ref = ref, .kind = "ct", .id = id, .guest_ns = g->ns,
		.guest_ifname = "eth0", .holder = holder, .host = x->c->host[g->host],
	};
	int r = net_attach(&rq, &g->a, err);
	g->on = r == 0;
	return r;
}

/* What a worker tells the bench about one attachment. */
struct att_msg {
	size_t idx;
	int rc;
	struct net_attachment a;
	char msg[CL_ERR_MSG_MAX];
};

/* Host h's guests, attached by a child of the bench (the hosts' workers run
 * side by side, each waiting for its host's agent as a launcher does). The
 * bench holds the namespaces and stays the attachments' holder. */
static void worker(struct scale *x, unsigned h, int out)
{
	char id[NET_NAME_LEN + 1];
	pid_t holder = getppid();
	/* Ctrl-C reaches the whole process group: the handler the bench set
	 * (inherited) raises the flag here too, and the worker stops */
	for (size_t i = 0; i < x->ng && !stopped(x->o); i++) {
		struct guest *g = &x->g[i];
		if (g->host != h || g->on)
			continue;
		struct att_msg m = { .idx = i };
		struct cl_error e = { 0 };
		snprintf(id, sizeof(id), "%s-g%zu", x->c->host[h], i % x->o->per_host);
		m.rc = guest_attach(x, g, id, holder, &e);
		m.a = g->a;
		snprintf(m.msg, sizeof(m.msg), "%s", e.msg);
		if (write(out, &m, sizeof(m)) != (ssize_t)sizeof(m) || m.rc < 0)
			_exit(1);
	}
	_exit(0);
}

/* attach every guest of hosts [from, to) */
static int guests_attach(struct scale *x, unsigned from, unsigned to, struct cl_error *err)
{
	pid_t pids[MAX_HOSTS];
	int fds[MAX_HOSTS], r = 0;
	unsigned n = 0;
	for (unsigned h = from; h < to; h++, n++) {
		int pfd[2];
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			r = cl_err_sys(err, errno, "pipe");
			break;
		}
		pids[n] = fork();
		if (pids[n] == 0) {
			close(pfd[0]);
			worker(x, h, pfd[1]);
		}
		close(pfd[1]);
		if (pids[n] < 0) {
			close(pfd[0]);
			r = cl_err_sys(err, errno, "fork");
			break;
		}
		fds[n] = pfd[0];
	}
	for (unsigned k = 0; k < n; k++) {
		struct att_msg m;
		ssize_t got;
		/* a signal to the bench alone interrupts the read, not the worker */
		while ((got = read(fds[k], &m, sizeof(m))) == (ssize_t)sizeof(m) || (got < 0 && errno == EINTR)) {
			if (got < 0 || m.idx >= x->ng)
				continue;
			if (m.rc < 0 && r == 0)
				r = cl_err(err, -m.rc, "host %s: %s", x->c->host[from + k], m.msg);
			if (m.rc == 0) {
				x->g[m.idx].a = m.a;
				x->g[m.idx].on = true;
			}
		}
		close(fds[k]);
		int st;
		pid_t w;
		while ((w = waitpid(pids[k], &st, 0)) < 0 && errno == EINTR)
			;
		if (w == pids[k] && (!WIFEXITED(st) || WEXITSTATUS(st)) && r == 0)
			r = cl_err(err, EIO, "host %s: its attaching worker failed", x->c->host[from + k]);
	}
	return r;
}

/* ---- one change, measured ---- */

static bool items_equal(const struct sdn_items *a, const struct sdn_items *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind != b->v[i].kind || strcmp(a->v[i].ns, b->v[i].ns) || strcmp(a->v[i].key, b->v[i].key) ||
		    strcmp(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

/* host i's items differ between s0 and s1 */
static int host_affected(const struct cloud *c, size_t i, const struct sdn_state *s0, const struct sdn_state *s1,
			 bool *out, struct cl_error *err)
{
	struct sdn_items d0, d1;
	int r = sdn_desired(s0, c->st->cluster, c->host[i], &d0, err);
	if (r < 0)
		return r;
	if ((r = sdn_desired(s1, c->st->cluster, c->host[i], &d1, err)) < 0) {
		sdn_items_free(&d0);
		return r;
	}
	*out = !items_equal(&d0, &d1);
	sdn_items_free(&d0);
	sdn_items_free(&d1);
	return 0;
}

struct change {
	int kind;                    /* BENCH_SDN_* */
	struct guest *g;             /* attach, detach */
	unsigned vpc;                /* sg rule */
	unsigned port;
};

static int change_do(struct scale *x, struct change *ch, struct cl_error *err)
{
	char vpc[NET_NAME_LEN + 1], ref[2 * NET_NAME_LEN + 2], id[NET_NAME_LEN + 1], port[16];
	struct sg_rule rule;
	int r;
	switch (ch->kind) {
	case BENCH_SDN_ATTACH:
		snprintf(id, sizeof(id), "t-%u-%u", ch->g->host, ch->port);
		return guest_attach(x, ch->g, id, 0, err);
	case BENCH_SDN_DETACH:
		r = net_detach(x->o->workdir, &ch->g->a, err);
		ch->g->on = false;
		return r;
	default:
		vpc_name(ch->vpc, vpc);
		snprintf(ref, sizeof(ref), "%s/%s", vpc, NET_SG_DEFAULT);
		snprintf(port, sizeof(port), "%u", ch->port);
		if ((r = sg_rule_parse(SG_INGRESS, "tcp", port, "10.0.0.0/8", &rule, err)) < 0)
			return r;
		return sdn_sg_rule_add(x->c->url, ref, &rule, err);
	}
}

static int measure(struct scale *x, struct change *ch, double v[BENCH_SDN_METRICS], struct cl_error *err)
{
	struct cloud *c = x->c;
	struct sdn_state s0, s1;
	bool *aff = calloc(c->n, sizeof(*aff));
	char vpc[NET_NAME_LEN + 1];
	int r;
	if (!aff)
		return cl_err(err, ENOMEM, "out of memory");
	vpc_name(ch->kind == BENCH_SDN_SG ? ch->vpc : ch->g->vpc, vpc);
	if ((r = sdn_state_load(c->st, &s0, err)) < 0) {
		free(aff);
		return r;
	}
	poller_mark(&x->p);
	double t0 = bench_now_ms();
	if ((r = change_do(x, ch, err)) < 0 || (r = sdn_state_load(c->st, &s1, err)) < 0)
		goto out0;
	int64_t rev = -1;
	for (size_t i = 0; i < s1.nvpcs; i++)
		if (!strcmp(s1.vpcs[i].v.name, vpc))
			rev = s1.vpcs[i].mod_rev;
	unsigned naff = 0;
	for (size_t i = 0; i < c->n && r == 0; i++)
		if ((r = host_affected(c, i, &s0, &s1, &aff[i], err)) == 0 && aff[i])
			naff++;
	sdn_state_free(&s1);
	if (r < 0)
		goto out0;
	if (rev < 0) {
		r = cl_err(err, ENOENT, "vpc %s: gone from the store", vpc);
		goto out0;
	}
	double end = bench_now_ms() + x->o->timeout_s * 1000.0, tw, first, last;
	for (;;) {
		long late = -1;
		pthread_mutex_lock(&x->p.mu);
		tw = seen_at(&x->p, -1, rev);
		first = last = -1;
		for (size_t i = 0; i < c->n && late < 0; i++) {
			if (!aff[i])
				continue;
			double t = seen_at(&x->p, (long)i, rev);
			if (t < 0)
				late = (long)i;
			else {
				first = first < 0 || t < first ? t : first;
				last = t > last ? t : last;
			}
		}
		pthread_mutex_unlock(&x->p.mu);
		if (late < 0 && tw >= 0)
			break;
		if (bench_now_ms() > end) {
			char tail[400] = "";
			if (late >= 0)
				cloud_agent_tail(c, (size_t)late, tail, sizeof(tail));
			r = late < 0 ? cl_err(err, ETIMEDOUT, "revision %lld never seen in the store", (long long)rev)
				     : cl_err(err, ETIMEDOUT, "host %s: revision %lld not applied in %u s (its log: %s)",
					      c->host[late], (long long)rev, x->o->timeout_s, tail[0] ? tail : "empty");
			goto out0;
		}
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	/* an agent may report before the poller saw the write: both within
	 * one poll of each other */
	v[BENCH_SDN_CONVERGE] = naff ? (last > tw ? last - tw : 0) : 0;
	v[BENCH_SDN_FIRST] = naff ? (first > tw ? first - tw : 0) : 0;
	v[BENCH_SDN_WRITE] = tw > t0 ? tw - t0 : 0;
	v[BENCH_SDN_AFFECTED] = naff;
out0:
	sdn_state_free(&s0);
	free(aff);
	return r;
}

static void say(const struct bench_sdn_scale_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct bench_sdn_scale_opts *o, const char *fmt, ...)
{
	char line[CL_ERR_MSG_MAX + 128];
	va_list ap;
	if (!o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->progress(o->ctx, line);
}

/* The changes at one step: per round, a new guest attached on a host (in
 * one of its VPCs), detached again, and a rule added to a VPC's default
 * group; hosts and VPCs in turn. Each after a pause drawn uniformly from
 * one agent interval, so that changes meet the agents' cycles at random
 * points, as a user's do. */
static void step_changes(struct scale *x, unsigned step, struct bench_sdn_scale *res)
{
	const struct bench_sdn_scale_opts *o = x->o;
	unsigned nh = (unsigned)x->c->n;
	double period_ms = o->agent_interval_ms ? o->agent_interval_ms : AGENT_INTERVAL_MS;
	for (unsigned i = 0; i < o->changes && !stopped(o); i++) {
		struct guest t = { .ns = -1, .host = (i * 7 + step) % nh };
		t.vpc = bench_sdn_vpc_of(t.host, i, o->vpcs);
		struct change chs[BENCH_SDN_KINDS] = {
			{ BENCH_SDN_ATTACH, &t, 0, i }, { BENCH_SDN_DETACH, &t, 0, i },
			{ BENCH_SDN_SG, NULL, (i + step) % o->vpcs, 20000 + step * 1000 + i },
		};
		struct cl_error e = { 0 };
		if (netns_new(&t.ns, &e) < 0) {
			bench_series_fail(&res->s[step][BENCH_SDN_ATTACH], "%s", e.msg);
			continue;
		}
		for (int k = 0; k < BENCH_SDN_KINDS && !stopped(o); k++) {
			double v[BENCH_SDN_METRICS];
			struct bench_series *s = &res->s[step][k];
			if (k == BENCH_SDN_DETACH && !t.on)
				continue;
			/* a change right after the last one's passes would meet every
			 * agent at the same point of its cycle: arrivals at random */
			long ns = (long)(erand48(x->seed) * period_ms * 1e6);
			struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
			nanosleep(&ts, NULL);
			memset(&e, 0, sizeof(e));
			if (measure(x, &chs[k], v, &e) < 0) {
				bench_series_fail(s, "%s", e.msg);
				say(o, "sdn-scale: %u hosts: %s %u: failed: %s", nh, kind_names[k], i + 1, e.msg);
				continue;
			}
			bench_series_add(s, v, BENCH_SDN_METRICS);
			say(o, "sdn-scale: %u hosts: %s %u/%u: %.0f ms to %.0f host(s) (first %.0f ms; write %.1f ms)", nh,
			    kind_names[k], i + 1, o->changes, v[BENCH_SDN_CONVERGE], v[BENCH_SDN_AFFECTED],
			    v[BENCH_SDN_FIRST], v[BENCH_SDN_WRITE]);
		}
		if (t.on)   /* interrupted between the two */
			net_detach(o->workdir, &t.a, NULL);
		close(t.ns);
	}
}

/* what each host's kernel holds (every VPC namespace of the host) at step st */
static int rows_read(struct scale *x, struct bench_sdn_scale *res, unsigned st, struct cl_error *err)
{
	struct cloud *c = x->c;
	struct sdn_state s;
	int r = sdn_state_load(c->st, &s, err);
	if (r < 0)
		return r;
	free(res->rows);
	res->nrows = 0;
	if (!(res->rows = calloc(c->n, sizeof(*res->rows)))) {
		sdn_state_free(&s);
		return cl_err(err, ENOMEM, "out of memory");
	}
	res->nrows = c->n;
	for (size_t i = 0; i < c->n && r == 0; i++) {
		struct bench_sdn_host_row *row = &res->rows[i];
		char prefix[NET_NAME_LEN + 32];
		size_t np = (size_t)snprintf(prefix, sizeof(prefix), "clsv-%s-%s-", c->st->cluster, c->host[i]);
		bench_sdn_expect(&s, c->host[i], row);
		row->fdb = row->neigh = row->routes = 0;
		DIR *d = opendir("/run/netns");
		struct dirent *de;
		while (d && r == 0 && (de = readdir(d))) {
			size_t f, nb, rt;
			if (strncmp(de->d_name, prefix, np) || strlen(de->d_name + np) != 8)
				continue;
			if ((r = net_vxlan_entries(de->d_name, &f, &nb, &rt, err)) == 0) {
				row->fdb += (long)f;
				row->neigh += (long)nb;
				row->routes += (long)rt;
			}
		}
		if (d)
			closedir(d);
		if (row->routes != row->expect || row->fdb != row->expect_hosts || row->neigh != row->expect_hosts)
			res->growth_ok = false;
		res->routes_mean[st] += (double)row->routes / (double)c->n;
		res->expect_mean[st] += (double)row->expect / (double)c->n;
		res->fdb_mean[st] += (double)row->fdb / (double)c->n;
		res->expect_hosts_mean[st] += (double)row->expect_hosts / (double)c->n;
		res->cloud_mean[st] += (double)row->cloud / (double)c->n;
	}
	sdn_state_free(&s);
	return r;
}

static int check(const struct bench_sdn_scale_opts *o, struct cl_error *err)
{
	if (o->hosts < 2 || o->hosts > MAX_HOSTS)
		return cl_err(err, EINVAL, "--hosts %u is out of range 2..%d", o->hosts, MAX_HOSTS);
	if (o->vpcs < 1 || o->vpcs > MAX_VPCS)
		return cl_err(err, EINVAL, "--vpcs %u is out of range 1..%d", o->vpcs, MAX_VPCS);
	if (o->per_host < 1 || (unsigned long)o->hosts * o->per_host > (unsigned long)o->vpcs * SUBNET_MAX_GUESTS / 2)
		return cl_err(err, EINVAL, "--per-host %u: at least 1, and --hosts x --per-host at most --vpcs x %d "
			      "(each VPC's subnet is a /20)", o->per_host, SUBNET_MAX_GUESTS / 2);
	if (o->changes < 1 || o->changes > BENCH_MAX_RUNS)
		return cl_err(err, EINVAL, "--changes %u is out of range 1..%d", o->changes, BENCH_MAX_RUNS);
	if (o->timeout_s < 1)
		return cl_err(err, EINVAL, "--timeout must be at least 1s");
	return 0;
}

static int run(struct scale *x, struct bench_sdn_scale *res, struct cl_error *err)
{
	const struct bench_sdn_scale_opts *o = x->o;
	struct cloud *c = x->c;
	char vpc[NET_NAME_LEN + 1], ref[2 * NET_NAME_LEN + 2], cidr[32], name[32];
	int r = 0;
	for (unsigned k = 0; k < o->vpcs && r == 0; k++) {
		vpc_name(k, vpc);
		snprintf(ref, sizeof(ref), "%s/a", vpc);
		snprintf(cidr, sizeof(cidr), "10.%u.0.0/16", 100 + k);
		if ((r = sdn_vpc_create(c->url, vpc, cidr, err)) == 0) {
			snprintf(cidr, sizeof(cidr), "10.%u.0.0/20", 100 + k);
			r = sdn_subnet_create(c->url, ref, cidr, err);
		}
	}
	res->growth_ok = true;
	for (unsigned st = 0; st < res->nsteps && r == 0 && !stopped(o); st++) {
		unsigned from = (unsigned)c->n, to = res->hosts[st];
		double ts = bench_now_ms();
		for (unsigned h = from; h < to && r == 0; h++) {
			snprintf(name, sizeof(name), "s%02u", h + 1);
			r = cloud_host_add(c, name, err);
		}
		if (r < 0 || (r = guests_attach(x, from, to, err)) < 0 || (r = cloud_settle(c, SETTLE_MS, err)) < 0)
			break;
		res->setup_s += (bench_now_ms() - ts) / 1000;
		res->atts[st] = 0;
		for (size_t i = 0; i < x->ng; i++)
			res->atts[st] += x->g[i].on;
		if ((r = rows_read(x, res, st, err)) < 0)
			break;
		say(o, "sdn-scale: %u hosts, %u attachments in %u VPCs: set up in %.1f s; per host %.1f routes and %.1f "
		    "FDB entries (its VPCs need %.1f and %.1f; the cloud has %.1f guests elsewhere)", to, res->atts[st],
		    o->vpcs, (bench_now_ms() - ts) / 1000, res->routes_mean[st], res->fdb_mean[st], res->expect_mean[st],
		    res->expect_hosts_mean[st], res->cloud_mean[st]);
		if ((r = poller_start(&x->p, c, err)) < 0)
			break;
		step_changes(x, st, res);
		poller_stop(&x->p);
	}
	return r;
}

int bench_sdn_scale(const struct bench_sdn_scale_opts *o, struct bench_sdn_scale *res, struct cl_error *err)
{
	static struct cloud c;   /* large: not on the stack */
	struct scale x = { .o = o, .c = &c, .seed = { 0x1234, 0x5678, 0x9abc } };
	memset(res, 0, sizeof(*res));
	int r = check(o, err);
	if (r < 0)
		return r;
	say(o, "sdn-scale: %u hosts x %u attachments in %u VPCs, %u changes of each kind at each step", o->hosts,
	    o->per_host, o->vpcs, o->changes);
	res->nsteps = bench_sdn_steps(o->hosts, res->hosts);
	for (unsigned st = 0; st < res->nsteps; st++)
		for (int k = 0; k < BENCH_SDN_KINDS; k++) {
			snprintf(res->names[st][k], sizeof(res->names[st][k]), "%u hosts: %s", res->hosts[st], kind_names[k]);
			bench_series_init(&res->s[st][k], res->names[st][k]);
		}
	x.ng = (size_t)o->hosts * o->per_host;
	if (!(x.g = calloc(x.ng, sizeof(*x.g))))
		return cl_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < x.ng; i++) {
		x.g[i].ns = -1;
		x.g[i].host = (unsigned)(i / o->per_host);
		x.g[i].vpc = bench_sdn_vpc_of(x.g[i].host, (unsigned)(i % o->per_host), o->vpcs);
	}
	for (size_t i = 0; i < x.ng && r == 0; i++)
		r = netns_new(&x.g[i].ns, err);
	if (r == 0 && (r = cloud_open(&c, o->cloudlet, o->workdir, o->agent_interval_ms, o->hosts, err)) == 0) {
		r = run(&x, res, err);
		poller_stop(&x.p);
		cloud_close(&c);
	}
	/* the guests' ends go with their namespaces, the ports with the hosts' */
	for (size_t i = 0; i < x.ng; i++)
		if (x.g[i].ns >= 0)
			close(x.g[i].ns);
	free(x.g);
	if (r == 0 && stopped(o))
		r = cl_err(err, EINTR, "interrupted (nothing of the bench is left)");
	return r;
}

void bench_sdn_scale_free(struct bench_sdn_scale *r)
{
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
}
