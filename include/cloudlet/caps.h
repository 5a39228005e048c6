/* Capabilities (capabilities(7)), shared by the container runtime (crun/)
 * and the jailed VMM (vmm/jail/): the bounding and ambient sets, and the
 * process sets. */
#ifndef CLOUDLET_CAPS_H
#define CLOUDLET_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "cloudlet/error.h"

/* Pure: a bit per capability number (0..63) in caps[]. */
uint64_t cl_caps_mask(const int *caps, size_t n);
/* Every capability the kernel knows outside `keep` leaves the bounding set;
 * the ambient set is cleared. Needs CAP_SETPCAP (before giving up root). */
int cl_caps_bound(uint64_t keep, struct cl_error *err);
/* The effective, permitted and inheritable sets become exactly caps[]
 * (n = 0: empty). */
int cl_caps_set(const int *caps, size_t n, struct cl_error *err);

#endif
