/* Commands that stop cleanly on Ctrl-C or SIGTERM (the agent, the
 * benchmarks) poll one flag: the signal's number once one came. */
#include <signal.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = sig;
}

volatile sig_atomic_t *cli_trap_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return &interrupted;
}
