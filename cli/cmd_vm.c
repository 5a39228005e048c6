/* `cloudlet vm`: microVMs (vmm/). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloudlet/crun.h"
#include "cloudlet/net.h"
#include "cloudlet/vmm.h"

/* --disk, --net, --mac into the config; the strings live in bufs[] */
static int vm_devices_parse(const struct cli_args *a, struct vmm_config *c, struct vmm_disk *disks,
			    struct vmm_net *nets, char **bufs, struct cl_error *err)
{
	const struct cli_val *dv = cli_opt(a, "disk"), *nv = cli_opt(a, "net"),
			     *mv = cli_opt(a, "mac");
	size_t nb = 0;
	int r;
	if (dv->nlist > VMM_MAX_DISKS)
		return cl_err(err, EINVAL, "--disk: at most %d disks", VMM_MAX_DISKS);
	if (nv->nlist > VMM_MAX_NETS)
		return cl_err(err, EINVAL, "--net: at most %d networks", VMM_MAX_NETS);
	if (mv->nlist > nv->nlist)
		return cl_err(err, EINVAL, "--mac: %zu MACs for %zu --net", mv->nlist, nv->nlist);
	for (size_t i = 0; i < dv->nlist; i++)
		if ((r = vmm_disk_parse(dv->list[i], &disks[i], &bufs[nb++], err)) < 0)
			return r;
	for (size_t i = 0; i < nv->nlist; i++) {
		if ((r = vmm_net_parse(nv->list[i], &nets[i], &bufs[nb++], err)) < 0)
			return r;
		/* the i-th --mac is the i-th --net's; without one the VMM derives it from the tap's name */
		if (i < mv->nlist && (r = net_mac_parse(mv->list[i], nets[i].mac, err)) < 0)
			return cl_err_wrap(err, "--mac");
	}
	c->disks = disks;
	c->ndisks = (unsigned)dv->nlist;
	c->nets = nets;
	c->nnets = (unsigned)nv->nlist;
	return 0;
}

static int vm_run(const struct cli_args *a, struct cl_error *err)
{
	uint64_t cpus = cli_num(a, "cpus", 1);
	struct vmm_config c = {
		.kernel = cli_str(a, "kernel", NULL),
		.initrd = cli_str(a, "initrd", NULL),
		.cmdline = cli_str(a, "cmdline", NULL),
		.mem_size = cli_num(a, "mem", VMM_DEFAULT_MEM),
		.ncpus = cpus > UINT_MAX ? UINT_MAX : (unsigned)cpus,
		.timeout_ms = cli_num(a, "timeout", 0),
		.console_in = 0,
		.console_out = 1,
		.rng = !cli_flag(a, "no-rng"),
		.root = a->root ? a->root : crun_default_root(),
		.name = cli_str(a, "name", NULL),
		.sgs = cli_opt(a, "sg")->list,
		.nsgs = (unsigned)cli_opt(a, "sg")->nlist,
		.host = cli_str(a, "host", NULL),
		.rate_mbit = (uint32_t)cli_num(a, "rate", 0),
	};
	struct vmm_disk disks[VMM_MAX_DISKS];
	struct vmm_net nets[VMM_MAX_NETS];
	char *bufs[VMM_MAX_DISKS + VMM_MAX_NETS] = { 0 };
	struct vmm_jail jail;
	struct vmm_result res;
	int r = vm_devices_parse(a, &c, disks, nets, bufs, err);
	if (r == 0 && c.name)
		r = net_name_check("--name", c.name, err);
	if (r == 0 && c.nsgs && !c.nnets)
		r = cl_err(err, EINVAL, "--sg without --net VPC/SUBNET");
	if (r == 0)
		r = vm_sandbox_opts(a, &c, &jail, err);
	if (r == 0)
		r = vmm_launch(&c, &jail, &res, err);
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		free(bufs[i]);
	if (r < 0)
		return cl_err_wrap(err, "vm run");
	if (cli_flag(a, "stats"))
		fprintf(stderr, "cloudlet: vm run: kvm-exits=%llu devices=%u vmm-exits io=%llu mmio=%llu other=%llu, "
			"first KVM_RUN after %.1f ms\n", (unsigned long long)res.kvm_exits, res.ndevices,
			(unsigned long long)res.exits_io, (unsigned long long)res.exits_mmio,
			(unsigned long long)res.exits_other, (double)res.boot_ns / 1e6);
	if (cli_flag(a, "stats")) {
		/* the exit reasons, as KVM counts them */
		fprintf(stderr, "cloudlet: vm run: kvm:");
		for (unsigned i = 0; i < res.nkvm_stats; i++)
			if (res.kvm_stats[i].value && strstr(res.kvm_stats[i].name, "exits"))
				fprintf(stderr, " %s=%llu", res.kvm_stats[i].name,
					(unsigned long long)res.kvm_stats[i].value);
		fprintf(stderr, "\n");
	}
	vm_sandbox_report(stderr, &res);
	if (res.status != VMM_EXIT_OK)
		fprintf(stderr, "cloudlet: vm run: %s (exit %d)\n", res.reason, res.status);
	return res.status;
}

static const struct cli_opt vm_run_opts[] = {
	{ "kernel", 'k', CLI_STR, "PATH", "guest kernel: bzImage or ELF vmlinux (PVH)", true },
	{ "initrd", 'i', CLI_STR, "PATH", "initramfs (cpio, optionally compressed)", false },
	{ "cmdline", 'c', CLI_STR, "STR", "kernel command line (default: " VMM_DEFAULT_CMDLINE ")", false },
	{ "mem", 'm', CLI_SIZE, "SIZE", "guest memory (default 256M)", false },
	{ "cpus", 0, CLI_UINT, "N", "vCPUs (default 1)", false },
	{ "timeout", 0, CLI_DURATION, "DURATION", "stop the guest after DURATION (e.g. 60s); exit 124", false },
	{ "disk", 0, CLI_LIST, "PATH[,ro]", "virtio-blk disk on a raw file: /dev/vda, vdb... in order", false },
	{ "net", 0, CLI_LIST, "tap=NAME|VPC/SUBNET", "virtio-net on tap NAME (created, and removed at exit, if absent) or on a VPC subnet: eth0, eth1...", false },
	{ "sg", 0, CLI_LIST, "SG", "security group of the VPC NICs (default: the VPC's 'default')", false },
	{ "host", 0, CLI_STR, "HOST", "place the VPC NICs on this overlay host (cloudlet host add)", false },
	{ "rate", 0, CLI_UINT, "MBIT", "limit traffic to each VPC NIC to MBIT Mbit/s (overlay hosts; tc tbf)", false },
	{ "name", 0, CLI_STR, "NAME", "the VM's name on its VPC attachments (default: vm-PID)", false },
	{ "mac", 0, CLI_LIST, "MAC", "the guest MAC of the matching --net (default: derived from the tap name)", false },
	{ "no-rng", 0, CLI_FLAG, NULL, "no virtio-rng entropy device (present by default)", false },
	{ "stats", 0, CLI_FLAG, NULL, "print exit counts and start-up time on stderr", false },
	/* the sandbox: cli/vm_sandbox.c */
	{ "no-jail", 0, CLI_FLAG, NULL, "run the VMM unjailed (debugging; seccomp still applies)", false },
	{ "uid", 0, CLI_UINT, "UID", "the jailed VMM's uid (default 65533)", false },
	{ "gid", 0, CLI_UINT, "GID", "the jailed VMM's gid (default 65533)", false },
	{ "jail-base", 0, CLI_STR, "DIR", "where the per-VM jail directories go (default " VMM_JAIL_BASE ")", false },
	{ "seccomp", 0, CLI_STR, "kill|log|off", "what a syscall outside the allowlists does (default kill)", false },
	{ 0 },
};

static const struct cli_opt vm_profile_opts[] = {
	{ "json", 0, CLI_FLAG, NULL, "as JSON", false },
	{ 0 },
};

const struct cli_cmd cli_vm_cmds[] = {
	{ "run", "", "boot a microVM with its serial console on this terminal",
	  vm_run_opts, 0, 0, false, vm_run, NULL,
	  "The guest's serial console is this terminal (raw mode); Ctrl-a x stops the VM.\n"
	  "Devices are virtio-mmio, described in the guest's ACPI DSDT: --disk files are\n"
	  "/dev/vda, vdb... (boot one with -c '... root=/dev/vda rw'), --net taps are eth0,\n"
	  "eth1... (address them with the kernel's ip= parameter; a VPC NIC gets its\n"
	  "leased address that way, added to the command line), plus virtio-rng.\n"
	  "Exit status: 0 the guest rebooted or powered off, 10 the guest panicked,\n"
	  "11 triple fault, 12 KVM could not run the guest, 124 --timeout expired,\n"
	  "128+N stopped by signal N, 1 the VM could not start, 2 usage error.\n"
	  "Sandbox: as root the VMM runs jailed (its own mount, pid, ipc, uts, net and\n"
	  "cgroup namespaces, an empty root under --jail-base, --uid/--gid, no\n"
	  "capability, a cgroup sized for --mem); every thread runs under a seccomp\n"
	  "allowlist (vm seccomp-profile). A syscall outside it kills the VMM: exit 159\n"
	  "(128+SIGSYS), and one line names the syscall. --seccomp=log lists them instead." },
	{ "seccomp-profile", "", "print the VMM's seccomp allowlists, per thread kind, with counts",
	  vm_profile_opts, 0, 0, false, vm_seccomp_profile, NULL,
	  "Each VMM thread installs its kind's allowlist after setup, before the first\n"
	  "KVM_RUN; ioctl is allowed only with the requests listed. Anything else kills\n"
	  "the VMM (SECCOMP_RET_KILL_PROCESS) and `vm run` names the syscall." },
	{ 0 },
};
