/**
 * The CPU cycles family (Hafnium src/ffa/spmc/cpu_cycles.c): FFA_RUN, by which the NWd scheduler
 * gives an SP execution context CPU time (docs/ffa-reference.md §2.7: w1 = target[31:16] | vCPU[15:0]).
 */
import { FFA_VERSION_1_2, ffaRun, hex } from '../../shared/ffa/index.ts';
import { checkRegisters, reply, refuse, type Answer, type CallContext } from './call-context.ts';

export function handleRun(cc: CallContext): Answer {
  // The SPMD forwards FFA_RUN from the NWd only (spmd_main.c nw_only_forward); SPs do not schedule.
  if (cc.origin.kind === 'sp') return refuse(cc, 'NOT_SUPPORTED', 'FFA_RUN is the NWd scheduler\'s');
  const decoded = ffaRun.decodeCall(cc.regs);
  // Hafnium handler.c: x8..x17 MBZ for callers at v1.2 or later.
  const violations = cc.spmc.nwdVersion >= FFA_VERSION_1_2 ? decoded.violations : [];
  const check = checkRegisters(cc.spmc, { args: decoded.args, violations });
  if (!check.ok) return refuse(cc, check.error, check.why);
  const { target, vcpu } = check.args;
  if (cc.spmc.policies.runModel === 'resume-preempted-thread') {
    // OP-TEE spmc_handle_run: thread_resume_from_rpc() returns only for an invalid thread, and no
    // thread is ever preempted in an RPC here.
    return refuse(cc, 'INVALID_PARAMETERS', `no preempted thread ${vcpu} of ${hex(target)} to resume`);
  }
  return runSpVcpu(cc, target, vcpu);
}

/** Hafnium api_ffa_run: the vCPU must exist and be waiting; with nothing to do it gives the CPU back. */
function runSpVcpu(cc: CallContext, target: number, vcpuIndex: number): Answer {
  const partition = cc.spmc.partitions.find(target);
  if (!partition) return refuse(cc, 'INVALID_PARAMETERS', `${hex(target)} is not an SP`);
  const vcpu = partition.vcpus[vcpuIndex];
  if (!vcpu) return refuse(cc, 'INVALID_PARAMETERS', `${hex(target)} has no vCPU ${vcpuIndex}`);
  if (!vcpu.isWaiting) return refuse(cc, 'BUSY', `${hex(target)} vCPU ${vcpuIndex} is running a request`);
  const receiver = cc.spmc.notifications.receiver(target);
  cc.spmc.ctx.record({ event: 'sp-run', sp: target, vcpu: vcpuIndex, notificationsPending: receiver?.anyPending() ?? false });
  return reply(ffaRun.success!.encode({}));
}
