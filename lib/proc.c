/* See include/cloudlet/proc.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/proc.h"

unsigned long long cl_pid_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* proc(5): after "PID (COMM) " state is field 3, starttime field 22;
	 * COMM may hold spaces and parentheses, so start from the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	if (p[1] == ' ' && p[2] == 'Z')
		return 0;   /* a zombie has ended */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

bool cl_pid_alive(pid_t pid, unsigned long long start)
{
	return pid > 0 && start && cl_pid_start(pid) == start;
}
