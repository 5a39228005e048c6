/* A microVM's NICs on VPC subnets (`--net VPC/SUBNET`): net_attach makes
 * the tap in the VPC's namespace and leases the address; the guest learns
 * it from the kernel command line (ip=, CONFIG_IP_PNP), so the workload
 * starts with eth0 configured, as a container's veth is. The VMM is the
 * attachment's holder: if it dies, the next change to the VPC frees it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudlet/net.h"
#include "vm.h"

int vm_nets_attach(struct vm_files *vm, struct cl_error *err)
{
	const struct vmm_config *cfg = vm->cfg;
	const char *base = cfg->cmdline ? cfg->cmdline : VMM_DEFAULT_CMDLINE;
	char id[NET_NAME_LEN + 1], arg[96];
	bool ip_given = false;
	int r;

	if (cfg->nnets)
		memcpy(vm->nets, cfg->nets, cfg->nnets * sizeof(*cfg->nets));
	for (unsigned i = 0; i < VMM_MAX_NETS; i++)
		vm->atts[i].tap_fd = -1;
	if (!(vm->cmdline = strdup(base)))
		return cl_err(err, ENOMEM, "out of memory");
	if (cfg->name)
		snprintf(id, sizeof(id), "%s", cfg->name);
	else
		snprintf(id, sizeof(id), "vm-%d", (int)getpid());
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if (!cfg->nets[i].vpc)
			continue;
		char eth[8];
		snprintf(eth, sizeof(eth), "eth%u", i & 7);
		struct net_attach_req rq = {
			.root = cfg->root, .ref = cfg->nets[i].vpc, .kind = "vm", .id = id,
			.sgs = cfg->sgs, .nsgs = cfg->nsgs, .guest_ns = -1, .host = cfg->host,
			.rate_mbit = cfg->rate_mbit,
		};
		if ((r = net_attach(&rq, &vm->atts[i], err)) < 0)
			return r;
		vm->nets[i].has_fd = true;
		vm->nets[i].fd = vm->atts[i].tap_fd;
		vm->nets[i].tap = vm->atts[i].ifname;
		memcpy(vm->nets[i].mac, vm->atts[i].mac, 6);
		if (vm->atts[i].mtu && vm->atts[i].mtu < NET_MTU)
			vm->nets[i].mtu = vm->atts[i].mtu;
		/* the kernel configures one interface from ip= */
		if (ip_given)
			continue;
		ip_given = true;
		net_kernel_ip_arg(&vm->atts[i], eth, arg, sizeof(arg));
		char *c = malloc(strlen(vm->cmdline) + strlen(arg) + 3);
		if (!c)
			return cl_err(err, ENOMEM, "out of memory");
		/* before "--": what follows it is init's, not the kernel's
		 * (Documentation/admin-guide/kernel-parameters.rst) */
		char *dash = !strncmp(vm->cmdline, "-- ", 3) ? vm->cmdline : strstr(vm->cmdline, " -- ");
		if (dash)
			sprintf(c, "%.*s %s%s", (int)(dash - vm->cmdline), vm->cmdline, arg,
				dash == vm->cmdline ? " -- " : "");
		else
			sprintf(c, "%s %s", vm->cmdline, arg);
		if (dash)
			strcat(c, dash == vm->cmdline ? dash + 3 : dash);
		free(vm->cmdline);
		vm->cmdline = c;
	}
	return 0;
}

void vm_nets_detach(struct vm_files *vm)
{
	if (!vm->cmdline)
		return;   /* vm_nets_attach never ran */
	for (unsigned i = 0; i < VMM_MAX_NETS; i++)
		net_detach(vm->cfg->root, &vm->atts[i], NULL);
	free(vm->cmdline);
	vm->cmdline = NULL;
}
