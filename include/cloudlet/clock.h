/* The one monotonic clock the libraries measure with. */
#ifndef CLOUDLET_CLOCK_H
#define CLOUDLET_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: immune to wall-clock steps. */
uint64_t cl_now_ns(void);

#endif
