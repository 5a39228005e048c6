/* The command groups of `cloudlet`, in the order --help lists them. */
#include "cli.h"

const struct cli_group cli_groups[] = {
	{ "vm", "microVMs on KVM (vmm/)", cli_vm_cmds },
	{ "ct", "containers from OCI images (crun/)", cli_ct_cmds },
	{ "vpc", "VPC networks, subnets, security groups, NAT (net/)", cli_vpc_cmds },
	{ "host", "hosts of the VXLAN overlay (net/sdn/)", cli_host_cmds },
	{ "agent", "a host's agent: keeps its overlay data plane like the controller says", cli_agent_cmds },
	{ "controller", "the overlay's controller: its process (serve), status, compaction", cli_controller_cmds },
	{ "fn", "serverless functions on containers or microVMs (fn/)", cli_fn_cmds },
	{ "bench", "VM vs container: start-up, memory, network, isolation", cli_bench_cmds },
	{ 0 },
};
