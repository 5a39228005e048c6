/* Descriptive statistics over a run's samples. */
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
	free(s);
}
