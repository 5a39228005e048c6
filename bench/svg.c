/* `bench all --plot FILE.svg`: the chart, written as SVG 1.1 text (W3C
 * SVG 1.1, no script, no external reference) by the project itself. Three
 * panels: start-up distribution per kind and tool (every sample a dot,
 * the median a bar, log scale: a VM boot and a container start are orders
 * of magnitude apart), memory per idle instance (the host cost density is
 * computed from, min-max whiskers), and TCP throughput per pair. Every
 * series is a <g id="series-SECTION-NAME" class="series"> with a <title>,
 * which is what tests and people's tools find. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cloudlet/bench.h"

#define W 1040
#define H 420
#define PW 270          /* a panel's plot width */
#define PH 250          /* and height */
#define TOP 70
#define LEFT0 60        /* the first panel's plot area starts here */
#define STRIDE 340      /* from one panel's plot area to the next */
#define NOTE_COLS 40    /* a note's line in a panel, 12px text */

/* XML character data: the five predefined entities (XML 1.0, 4.6) */
static void esc(FILE *o, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&apos;", o); break;
		default: fputc(*s, o);
		}
}

/* "vm qemu-microvm" -> "vm-qemu-microvm", "vm <-> ct" -> "vm-ct": lower
 * case letters and digits, a run of anything else one '-' */
static void slug(FILE *o, const char *s)
{
	bool dash = false;
	for (; *s; s++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash)
				fputc('-', o);
			fputc(c, o);
			dash = false;
		} else {
			dash = true;
		}
	}
}

static const char *color(const char *name)
{
	static const struct { const char *name, *color; } c[] = {
		{ "vm cloudlet", "#1f77b4" }, { "vm qemu-microvm", "#9ecae1" },
		{ "ct cloudlet", "#e6550d" }, { "ct runc", "#fdae6b" }, { "ct crun", "#fdd0a2" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (!strcmp(c[i].name, name))
			return c[i].color;
	return "#31a354";
}

static void panel(FILE *o, int x0, const char *title, const char *unit)
{
	fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"h\">", x0, TOP - 30);
	esc(o, title);
	fprintf(o, "</text>\n<text x=\"%d\" y=\"%d\" class=\"u\">", x0, TOP - 14);
	esc(o, unit);
	fprintf(o, "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n"
		   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
		x0, TOP, x0, TOP + PH, x0, TOP + PH, x0 + PW, TOP + PH);
}

/* a category's label under the axis, turned so long names fit */
static void label(FILE *o, double x, const char *name)
{
	fprintf(o, "<text x=\"%.1f\" y=\"%d\" class=\"l\" transform=\"rotate(-30 %.1f %d)\">", x, TOP + PH + 14,
		x, TOP + PH + 14);
	esc(o, name);
	fprintf(o, "</text>\n");
}

/* where a series has no sample: say so above its label */
static void no_sample(FILE *o, double x)
{
	fprintf(o, "<text x=\"%.1f\" y=\"%d\" class=\"v\">no sample</text>\n", x, TOP + PH - 6);
}

static void open_series(FILE *o, const char *section, const char *name, const char *fmt, double v)
{
	fprintf(o, "<g id=\"series-%s-", section);
	slug(o, name);
	fprintf(o, "\" class=\"series\" fill=\"%s\"><title>", color(name));
	esc(o, name);
	fprintf(o, ": ");
	fprintf(o, fmt, v);
	fprintf(o, "</title>\n");
}

static double med(const struct bench_series *s, unsigned m, double *lo, double *hi)
{
	struct bench_stats st;
	bench_stats(s->v[m], s->n, &st);
	*lo = st.min;
	*hi = st.max;
	return st.median;
}

static void startup(FILE *o, const struct bench_all *r, int x0)
{
	const struct bench_series *s[5];
	size_t n = 0;
	for (size_t i = 0; i < r->nvm; i++)
		s[n++] = &r->vm[i];
	for (size_t i = 0; i < r->nct; i++)
		s[n++] = &r->ct[i];
	panel(o, x0, "start-up: launch -> ready marker", "ms, log scale; dots: runs, bar: median");
	double lo = INFINITY, hi = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < s[i]->n; k++) {
			double v = s[i]->v[BENCH_BOOT_READY][k];
			if (v > 0 && v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
	if (hi <= 0)
		return;
	double d0 = floor(log10(lo)), d1 = ceil(log10(hi));
	if (d1 <= d0)
		d1 = d0 + 1;
#define Y(v) (TOP + PH - (log10(v) - d0) / (d1 - d0) * PH)
	for (double d = d0; d <= d1; d++) {
		double y = TOP + PH - (d - d0) / (d1 - d0) * PH;
		fprintf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n"
			   "<text x=\"%d\" y=\"%.1f\" class=\"t\">%g</text>\n",
			x0, y, x0 + PW, y, x0 - 4, y + 4, pow(10, d));
	}
	double step = (double)PW / (double)(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		double x = x0 + step * ((double)i + 0.5), a, b;
		if (!s[i]->n) {
			no_sample(o, x);
			label(o, x, s[i]->name);
			continue;
		}
		double m = med(s[i], BENCH_BOOT_READY, &a, &b);
		open_series(o, "startup", s[i]->name, "median %.1f ms", m);
		for (size_t k = 0; k < s[i]->n; k++) {
			double v = s[i]->v[BENCH_BOOT_READY][k];
			if (v > 0)
				fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"sample\"/>\n",
					x + ((double)(k % 5) - 2) * 3, Y(v));
		}
		fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"2\" class=\"median\"/>\n</g>\n",
			x - step * 0.3, Y(m) - 1, step * 0.6);
		label(o, x, s[i]->name);
	}
#undef Y
}

/* a round step for about n intervals up to top: 1, 2 or 5 times a power of ten */
static double nice_step(double top, int n)
{
	double raw = top / n, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* bars with min-max whiskers, from zero */
static void bars(FILE *o, int x0, const char *section, const struct bench_series *const *s, const unsigned *metric,
		 size_t n, const char *unit_fmt)
{
	double top = 0, lo, hi;
	for (size_t i = 0; i < n; i++)
		if (s[i]->n) {
			med(s[i], metric[i], &lo, &hi);
			if (hi > top)
				top = hi;
		}
	if (top <= 0)
		return;
	double tick = nice_step(top, 4), axis = ceil(top * 1.05 / tick) * tick;
	double scale = PH / axis, step = (double)PW / (double)n;
	for (double v = 0; v <= axis + tick / 2; v += tick) {
		double y = TOP + PH - v * scale;
		fprintf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n"
			   "<text x=\"%d\" y=\"%.1f\" class=\"t\">%g</text>\n",
			x0, y, x0 + PW, y, x0 - 4, y + 4, v);
	}
	for (size_t i = 0; i < n; i++) {
		double x = x0 + step * ((double)i + 0.5);
		if (!s[i]->n)
			no_sample(o, x);
		if (s[i]->n) {
			double m = med(s[i], metric[i], &lo, &hi);
			open_series(o, section, s[i]->name, unit_fmt, m);
			fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\"/>\n"
				   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"whisker\"/>\n"
				   "<text x=\"%.1f\" y=\"%.1f\" class=\"v\">",
				x - step * 0.3, TOP + PH - m * scale, step * 0.6, m * scale,
				x, TOP + PH - hi * scale, x, TOP + PH - lo * scale, x, TOP + PH - hi * scale - 4);
			fprintf(o, unit_fmt, m);
			fprintf(o, "</text>\n</g>\n");
		}
		label(o, x, s[i]->name);
	}
}

int bench_all_svg(FILE *o, const struct bench_all *r)
{
	fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
		   "<title>cloudlet bench all: microVM vs container</title>\n"
		   "<style>.h{font-size:14px;font-weight:bold}.u,.l,.t,.v{font-size:10px}.t{text-anchor:end}"
		   ".l{text-anchor:end}.v{text-anchor:middle}.axis{stroke:#333}.grid{stroke:#ddd}"
		   ".median{fill:#000}.sample{fill-opacity:0.8;stroke:#333;stroke-width:0.5}"
		   ".whisker{stroke:#333}.note{font-size:12px;fill:#555}</style>\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n", W, H, W, H);
	int x1 = LEFT0, x2 = LEFT0 + STRIDE, x3 = LEFT0 + 2 * STRIDE;
	startup(o, r, x1);

	panel(o, x2, "memory per idle instance", "MiB the host pays: cgroup + launcher PSS");
	const struct bench_series *mem[] = { &r->idle[BENCH_VM], &r->idle[BENCH_CT] };
	const unsigned mm[] = { BENCH_IDLE_COST, BENCH_IDLE_COST };
	bars(o, x2, "memory", mem, mm, 2, "%.1f MiB");

	panel(o, x3, "TCP throughput between instances", "Mbit/s a->b, median; whiskers: min-max");
	if (r->net.measured) {
		const struct bench_series *p[BENCH_NET_PAIRS];
		unsigned pm[BENCH_NET_PAIRS];
		for (size_t i = 0; i < r->net.npairs; i++) {
			p[i] = &r->net.pair[i];
			pm[i] = BENCH_NET_TX;
		}
		bars(o, x3, "network", p, pm, r->net.npairs, "%.0f");
	} else {
		/* the note on lines of at most NOTE_COLS characters, cut at spaces */
		const char *note = r->net.note[0] ? r->net.note : "not measured";
		fprintf(o, "<text id=\"network-pending\" x=\"%d\" y=\"%d\" class=\"note\">", x3 + 10, TOP + PH / 2);
		for (int line = 0; *note; line++) {
			size_t len = strlen(note), cut = len;
			if (len > NOTE_COLS) {
				cut = NOTE_COLS;
				while (cut > 0 && note[cut] != ' ')
					cut--;
				if (!cut)
					cut = NOTE_COLS;
			}
			char part[NOTE_COLS + 1];
			snprintf(part, sizeof(part), "%.*s", (int)cut, note);
			fprintf(o, "<tspan x=\"%d\" dy=\"%d\">", x3 + 10, line ? 16 : 0);
			esc(o, part);
			fprintf(o, "</tspan>");
			note += cut;
			while (*note == ' ')
				note++;
		}
		fprintf(o, "</text>\n");
	}

	fprintf(o, "<text x=\"10\" y=\"%d\" class=\"note\">", H - 24);
	fprintf(o, "%u run(s) each; ", r->runs);
	esc(o, r->env.cpu);
	fprintf(o, "; ");
	esc(o, r->env.kernel);
	fprintf(o, "</text>\n<text x=\"10\" y=\"%d\" class=\"note\">", H - 8);
	if (!strcmp(r->env.kvm_host, "emulated"))
		fprintf(o, "KVM emulated (QEMU TCG host): absolute times are emulation-distorted, read the ratios");
	else
		fprintf(o, "KVM: %s", !strcmp(r->env.kvm_host, "native") ? "native" : "unknown");
	fprintf(o, "</text>\n</svg>\n");
	return ferror(o) ? -EIO : 0;
}
