/* Processes identified across pid reuse: a pid plus its start time
 * (/proc/PID/stat field 22, clock ticks since boot), as records keep them. */
#ifndef CLOUDLET_PROC_H
#define CLOUDLET_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* Start time of a live pid, 0 if it is gone (or a zombie). */
unsigned long long cl_pid_start(pid_t pid);
/* pid alive and still the process that had this start time */
bool cl_pid_alive(pid_t pid, unsigned long long start);

#endif
