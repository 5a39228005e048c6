/* `cloudlet vm`: microVMs (vmm/). */
#include "cli.h"

static const struct cli_opt vm_run_opts[] = {
	{ "kernel", 'k', CLI_STR, "PATH", "guest kernel: bzImage or ELF vmlinux (PVH)", true },
	{ "initrd", 'i', CLI_STR, "PATH", "initramfs (cpio, optionally compressed)", false },
	{ "cmdline", 'c', CLI_STR, "STR", "kernel command line (default: console=ttyS0 reboot=k panic=-1)", false },
	{ "mem", 'm', CLI_SIZE, "SIZE", "guest memory (default 256M)", false },
	{ "cpus", 0, CLI_UINT, "N", "vCPUs (default 1)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "stop the guest after DURATION (e.g. 60s); exit 124", false },
	{ 0 },
};

const struct cli_cmd cli_vm_cmds[] = {
	{ "run", "", "boot a microVM with its serial console on this terminal",
	  vm_run_opts, 0, 0, false, NULL, "#4" },
	{ 0 },
};
