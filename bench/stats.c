/* Series of samples, one per run, and their descriptive statistics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudlet/bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void bench_stats(const double *samples, size_t n, struct bench_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	double *s = malloc(n * sizeof(*s));
	if (!s)
		return;
	memcpy(s, samples, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	out->n = n;
	out->min = s[0];
	out->max = s[n - 1];
	out->mean = sum / (double)n;
	/* the middle sample, or the mean of the two middle ones */
	out->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	/* nearest-rank percentile: rank ceil(p n), 1-based */
	size_t rank = (99 * n + 99) / 100;
	out->p99 = s[rank - 1];
	free(s);
}

void bench_series_init(struct bench_series *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
}

void bench_series_add(struct bench_series *s, const double *values, size_t nvalues)
{
	if (s->n >= BENCH_MAX_RUNS)   /* the runners cap runs at this: never reached */
		return;
	for (size_t i = 0; i < nvalues && i < BENCH_MAX_METRICS; i++)
		s->v[i][s->n] = values[i];
	s->n++;
}

void bench_series_fail(struct bench_series *s, const char *fmt, ...)
{
	s->failed++;
	if (s->error[0])
		return;
	int k = snprintf(s->error, sizeof(s->error), "%s: ", s->name);
	va_list ap;
	va_start(ap, fmt);
	if (k > 0 && (size_t)k < sizeof(s->error))
		vsnprintf(s->error + k, sizeof(s->error) - (size_t)k, fmt, ap);
	va_end(ap);
	s->error[strcspn(s->error, "\n")] = '\0';   /* one line */
}
