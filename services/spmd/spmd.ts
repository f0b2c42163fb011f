/**
 * The SPMD (EL3, TF-A-like; docs/ffa-reference.md §6, docs/design.md §2): the SMC relay between the normal
 * world (a hypervisor or a bare-metal host) and the SPMC. It answers a few ABIs itself, forwards
 * the rest with TF-A's register copy rules, and keeps nothing but the SPMC's life-cycle state, the
 * version each normal-world caller asked for, and its pending forwards.
 *
 * Which world a call comes from is decided by the link it arrived on (`config.secureSide`), never
 * by a field of the frame (TF-A is_caller_secure: the security state the SMC was taken from).
 */
import type { CallFailure, CallOutcome, Component, ComponentContext, ComponentFactory } from '../../shared/runtime/component.ts';
import type { CallMessage, Message } from '../../shared/protocol/messages.ts';
import {
  abiNameOf,
  FFA_FIDS,
  ffaError,
  type FfaErrorName,
  formatVersion,
  isRegisterFile,
  isValidVersion,
  registers,
  SPMD_ID,
  versionNotSupported,
  w,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { DEFAULT_NORMAL_WORLD_VERSION, type SpmdConfig, type ValidSpmdConfig, validateSpmdConfig } from './config.ts';
import type { Decision, Origin, SmcCall, SpmcState } from './decision.ts';
import { dispatch } from './dispatcher.ts';
import { answerInCallerRegisters, switchState } from './forwarding.ts';
import { frameworkVersionRequest, versionFromFrameworkResponse } from './setup-and-discovery.ts';

export type { SpmdConfig } from './config.ts';

const ENDPOINT_MAX = 0xffff;
const INDEX_MAX = 0xffff;

/** How an infrastructure failure of a forward is answered (a model convention: TF-A has none). */
const FAILED_FORWARD_ERRORS: Record<CallFailure, FfaErrorName> = {
  busy: 'BUSY',
  unreachable: 'NOT_SUPPORTED',
  timeout: 'ABORTED',
};

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** Why a call cannot be used as an SMC, or null. Under ws the wire validator refuses most of these first. */
function whyMalformed(call: CallMessage): { code: FfaErrorName; why: string } | null {
  if (call.conduit !== 'smc') return { code: 'NOT_SUPPORTED', why: `the SPMD is reached only by SMC, not ${String(call.conduit)}` };
  if (!isRegisterFile(call.regs)) return { code: 'INVALID_PARAMETERS', why: 'registers are not x0..x17 as unsigned 64-bit values' };
  const inRange = (value: unknown, max: number) => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
  if (!inRange(call.endpoint, ENDPOINT_MAX) || !inRange(call.vcpu, INDEX_MAX) || !inRange(call.cpu, INDEX_MAX)) {
    return { code: 'INVALID_PARAMETERS', why: 'endpoint, vCPU or CPU out of range' };
  }
  return null;
}

class Spmd implements Component {
  private spmcState: SpmcState;
  /** The last FFA_VERSION each normal-world caller asked for, by component (bounded by the world's links). */
  private readonly normalWorldVersions = new Map<string, number>();
  private pendingForwards = 0;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ValidSpmdConfig,
  ) {
    this.spmcState = config.spmcReadiness === 'at-start' ? 'on' : 'on-pending';
  }

  onStart(): void {
    const { config } = this;
    this.ctx.record({
      event: 'spmd-start',
      spmc: config.spmc,
      secureSide: [...config.secureSide],
      spmcId: config.spmcId,
      spmcVersion: formatVersion(config.spmcVersion),
      spmdVersion: formatVersion(config.spmdVersion),
      normalWorld: config.normalWorld,
      spmcState: this.spmcState,
      maxPendingForwards: config.maxPendingForwards,
    });
  }

  onMessage(from: string, message: Message): void {
    if (message.kind !== 'call') {
      this.ctx.log.warn({ from, kind: message.kind }, 'spmd ignores non-call messages');
      this.ctx.record({ event: 'spmd-ignored', from, kind: message.kind });
      return;
    }
    this.onCall(from, message);
  }

  private onCall(from: string, call: CallMessage): void {
    const origin: Origin = this.config.secureSide.has(from) ? 'swd' : 'nwd';
    const malformed = whyMalformed(call);
    if (malformed !== null) {
      this.ctx.record({ event: 'spmd-malformed', from, origin, why: malformed.why });
      this.ctx.reply(from, call, answerInCallerRegisters(ffaError(malformed.code), isRegisterFile(call.regs) ? call.regs : null));
      return;
    }
    this.noteRequestedVersion(from, origin, call.regs);
    const smc: SmcCall = {
      fid: w(call.regs, 0),
      regs: call.regs,
      origin,
      callerVersion: this.versionOf(origin, from),
      spmcState: this.spmcState,
      config: this.config,
    };
    this.carryOut(dispatch(smc), from, call, smc);
  }

  private carryOut(decision: Decision, from: string, call: CallMessage, smc: SmcCall): void {
    switch (decision.kind) {
      case 'answer':
        this.answer(from, call, smc, decision.regs, decision.why);
        return;
      case 'forward':
        this.forward(from, call, smc, decision.to);
        return;
      case 'ask-spmc-version':
        this.askSpmcVersion(from, call, decision.requested);
        return;
      case 'spmc-boot':
        this.spmcState = decision.state;
        this.ctx.record({ event: 'spmd-spmc-state', from, state: decision.state, why: decision.why });
        this.ctx.reply(from, call, answerInCallerRegisters(decision.regs, call.regs));
        return;
    }
  }

  private answer(from: string, call: CallMessage, smc: SmcCall, regs: RegisterFile, why: string): void {
    this.ctx.record({ event: 'spmd-answer', abi: abiNameOf(smc.fid), fid: hex32(smc.fid), from, origin: smc.origin, w0: hex32(w(regs, 0)), why });
    this.ctx.reply(from, call, answerInCallerRegisters(regs, call.regs));
  }

  /** TF-A spmd_smc_forward: switch state into the other world, and back with its answer. */
  private forward(from: string, call: CallMessage, smc: SmcCall, target: 'spmc' | 'normal-world'): void {
    if (this.pendingForwards >= this.config.maxPendingForwards) {
      this.answer(from, call, smc, ffaError('BUSY'), `${this.pendingForwards} forwards already pending`);
      return;
    }
    const abi = abiNameOf(smc.fid);
    const to = target === 'spmc' ? this.config.spmc : this.normalWorld();
    const destinationVersion = target === 'spmc' ? this.config.spmcVersion : this.versionOf('nwd', to);
    const outbound = switchState(call.regs, { fid: smc.fid, sourceVersion: smc.callerVersion, destinationVersion }, null);
    this.ctx.record({
      event: 'spmd-forward',
      abi,
      fid: hex32(smc.fid),
      from,
      origin: smc.origin,
      to,
      carried: outbound.carried,
      versions: `${formatVersion(smc.callerVersion)}>${formatVersion(destinationVersion)}`,
    });
    this.pendingForwards++;
    // Buffer memory is not the SPMD's: the buffers are shared between the worlds, so what the
    // caller left in its TX buffer, and what the callee wrote to an RX buffer, pass as they are.
    const request = { conduit: 'smc' as const, endpoint: call.endpoint, vcpu: call.vcpu, cpu: call.cpu, regs: outbound.regs, memory: call.memory };
    this.ctx.call(to, request, (outcome) => {
      this.pendingForwards--;
      if (!outcome.ok || !isRegisterFile(outcome.regs)) {
        this.failForward(from, call, smc, to, outcome);
        return;
      }
      const back = switchState(outcome.regs, { fid: w(outcome.regs, 0), sourceVersion: destinationVersion, destinationVersion: smc.callerVersion }, call.regs);
      this.ctx.record({ event: 'spmd-return', abi, from: to, to: from, w0: hex32(w(outcome.regs, 0)), carried: back.carried });
      this.ctx.reply(from, call, back.regs, outcome.memory);
    });
  }

  /** The other world never answered, or answered with something that is not a register file. */
  private failForward(from: string, call: CallMessage, smc: SmcCall, to: string, outcome: CallOutcome): void {
    const reason = outcome.ok ? 'malformed-answer' : outcome.reason;
    const code = outcome.ok ? 'ABORTED' : FAILED_FORWARD_ERRORS[outcome.reason];
    this.ctx.record({ event: 'spmd-forward-failed', abi: abiNameOf(smc.fid), from: to, to: from, reason });
    this.ctx.reply(from, call, answerInCallerRegisters(ffaError(code), call.regs));
  }

  /**
   * TF-A spmd_smc_handler FFA_VERSION from the normal world: SPMD_FWK_MSG_FFA_VERSION_REQ to the
   * SPMC, whose answer's w3 goes back in w0; any other answer is NOT_SUPPORTED.
   */
  private askSpmcVersion(from: string, call: CallMessage, requested: number): void {
    if (this.pendingForwards >= this.config.maxPendingForwards) {
      this.ctx.record({ event: 'spmd-version-exchange', from, requested: hex32(requested), answered: null, why: 'too many pending forwards' });
      this.ctx.reply(from, call, answerInCallerRegisters(versionNotSupported(), call.regs));
      return;
    }
    this.pendingForwards++;
    const request = { conduit: 'smc' as const, endpoint: SPMD_ID, vcpu: call.vcpu, cpu: call.cpu, regs: frameworkVersionRequest(this.config.spmcId, requested) };
    this.ctx.call(this.config.spmc, request, (outcome) => {
      this.pendingForwards--;
      const version = outcome.ok && isRegisterFile(outcome.regs) ? versionFromFrameworkResponse(outcome.regs) : null;
      const why = version !== null ? 'framework response' : outcome.ok ? 'not a framework VERSION response' : outcome.reason;
      this.ctx.record({ event: 'spmd-version-exchange', from, requested: hex32(requested), answered: version === null ? null : hex32(version), why });
      this.ctx.reply(from, call, answerInCallerRegisters(version === null ? versionNotSupported() : registers(version), call.regs));
    });
  }

  /** The version a normal-world caller negotiates is the last one it asked for (see versionOf). */
  private noteRequestedVersion(from: string, origin: Origin, regs: RegisterFile): void {
    if (origin !== 'nwd' || w(regs, 0) !== FFA_FIDS.FFA_VERSION) return;
    const requested = w(regs, 1);
    if (isValidVersion(requested)) this.normalWorldVersions.set(from, requested);
  }

  /**
   * The FF-A version a side's registers are copied under: the SPMC manifest's for the secure world;
   * for a normal-world component, the last FFA_VERSION it asked, or 1.2 (what Linux and Xen ask,
   * docs/ffa-reference.md §1.4) before it has asked.
   */
  private versionOf(origin: Origin, component: string): number {
    if (origin === 'swd') return this.config.spmcVersion;
    return this.normalWorldVersions.get(component) ?? DEFAULT_NORMAL_WORLD_VERSION;
  }

  private normalWorld(): string {
    if (this.config.normalWorld === null) throw new Error('spmd: forward to the normal world decided with no normalWorld configured');
    return this.config.normalWorld;
  }
}

export const create: ComponentFactory<SpmdConfig> = (ctx: ComponentContext, config: SpmdConfig): Component => new Spmd(ctx, validateSpmdConfig(config));
