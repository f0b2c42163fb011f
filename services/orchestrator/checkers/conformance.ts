/**
 * conformance (docs/design.md §8): each call's answer matches the callee's rules for that call,
 * the reference's error matrices as the shared/ffa codecs encode them (docs/ffa-reference.md §2, each rule's
 * "checked by").
 *
 * For every call delivered to the SPMC, the hypervisor (profile xen, its guests' hvc calls) and the
 * SPMD, answered by that callee:
 * - the call is decoded with its ABI's codec; each reserved-bit violation the callee's
 *   implementation checks (enforce(), policy: the SPMC's reservedBitChecks as its spmc-config
 *   record says, else model.spmcProfile; 'xen'; 'tf-a') names an error, and the answer must be
 *   FFA_ERROR with one of them. Several violations may name different errors; implementations
 *   test them in different orders (OP-TEE checks w5..w7 before BIND's flags), so any one of them
 *   is accepted. NOT_SUPPORTED is accepted too: the function is not offered to this caller at
 *   all (OP-TEE's "Unhandled FFA function ID", notification ABIs and FFA_RUN refused to SPs), a
 *   decision every implementation makes before it reads the registers. FFA_VERSION's refusal is
 *   NOT_SUPPORTED in w0 itself (docs/ffa-reference.md §1.4);
 * - every answer is well formed: FFA_ERROR with a code FF-A defines (§1.3), or the ABI's success
 *   function ID with fields that decode, or FFA_VERSION's version or NOT_SUPPORTED; a partition
 *   message may also come back as FFA_INTERRUPT or FFA_YIELD (§2.7). A caller the callee does not
 *   take as an FF-A endpoint at all (its `call-refused` record, e.g. a component that is no VM's
 *   guest at the hypervisor) gets SMCCC's SMC_UNK, as a Xen domain without an FF-A context does.
 */
import type { AnyAbiCodec } from '../../../shared/ffa/abi-codec.ts';
import { codecForFid } from '../../../shared/ffa/abi-table.ts';
import { enforce, type EnforcementPolicy } from '../../../shared/ffa/call-checks.ts';
import { decodeResult, type FfaErrorName } from '../../../shared/ffa/errors.ts';
import { abiNameOf, FFA_FIDS, isFfaFid } from '../../../shared/ffa/function-ids.ts';
import { w, type RegisterFile } from '../../../shared/ffa/registers.ts';
import { VERSION_NOT_SUPPORTED } from '../../../shared/ffa/version.ts';
import type { WorldModel } from '../scenario/types.ts';
import type { CallRecord } from './calls.ts';
import { abiOf, evidenceOf, failureListOf, KeyedFailures, outcomeOf, resultOf, type CheckOutcome } from './evidence.ts';
import type { HistoryFacts } from './facts.ts';
import { hex } from '../../../shared/ffa/format.ts';

/** SMCCC's SMC_UNK (-1): what an unknown function ID, or a caller with no FF-A instance, gets. */
const SMC_UNK = 0xffff_ffff;

/** Answers that hand the CPU over rather than finish the call (docs/ffa-reference.md §2.7, Xen §5.4). */
const HANDOFFS: Readonly<Partial<Record<string, readonly number[]>>> = {
  FFA_MSG_SEND_DIRECT_REQ_32: [FFA_FIDS.FFA_INTERRUPT, FFA_FIDS.FFA_YIELD],
  FFA_MSG_SEND_DIRECT_REQ_64: [FFA_FIDS.FFA_INTERRUPT, FFA_FIDS.FFA_YIELD],
  FFA_RUN: [FFA_FIDS.FFA_INTERRUPT, FFA_FIDS.FFA_YIELD, FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32, FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64],
};

interface Callee {
  readonly component: string;
  readonly policy: EnforcementPolicy;
  /** Only calls on this conduit (the hypervisor's guests: hvc). */
  readonly conduit: string | null;
  /** The hypervisor answers a guest's INFO_GET_32 with FFA_SUCCESS_64 (its policy infoGet32Answer). */
  readonly infoGet32AsSuccess64: boolean;
}

/** The SPMC's reservedBitChecks from its first spmc-config record (facts.ts), else its profile's. */
function spmcPolicy(facts: HistoryFacts, model: WorldModel): EnforcementPolicy {
  const recorded = facts.spmcPolicies?.['reservedBitChecks'];
  return typeof recorded === 'string' ? (recorded as EnforcementPolicy) : model.spmcProfile;
}

/** The hypervisor's infoGet32Answer from its first config record (default: Xen's, docs/ffa-reference.md §8.13). */
function hypervisorAnswersInfoGet32With64(facts: HistoryFacts): boolean {
  return (facts.hypervisorPolicies?.['infoGet32Answer'] ?? 'success-64') === 'success-64';
}

function calleesOf(facts: HistoryFacts, model: WorldModel): Callee[] {
  const callees: Callee[] = [
    { component: model.spmc, policy: spmcPolicy(facts, model), conduit: null, infoGet32AsSuccess64: false },
    { component: model.spmd, policy: 'tf-a', conduit: null, infoGet32AsSuccess64: false },
  ];
  if (model.hypervisor !== null && model.hypervisorProfile === 'xen') {
    callees.push({ component: model.hypervisor, policy: 'xen', conduit: 'hvc', infoGet32AsSuccess64: hypervisorAnswersInfoGet32With64(facts) });
  }
  return callees;
}

/** The errors the callee's checks name for this call's violations. */
function expectedErrors(codec: AnyAbiCodec, regs: RegisterFile, policy: EnforcementPolicy): { errors: FfaErrorName[]; rules: string[] } {
  const { args, violations } = codec.decodeCall(regs);
  const errors: FfaErrorName[] = [];
  const rules: string[] = [];
  for (const violation of violations) {
    const check = enforce({ args, violations: [violation] }, policy);
    if (check.ok) continue;
    errors.push(check.error);
    rules.push(check.rule);
  }
  return { errors: [...new Set(errors)], rules };
}

/**
 * Checks a callee makes before the reserved-bit ones: Xen refuses a guest's BIND or UNBIND for a
 * receiver other than itself with INVALID_PARAMETERS before it looks at the flags (docs/ffa-reference.md §5.4,
 * ffa_handle_notification_bind: "receiver must be self", then "flags ≠ 0 → DENIED").
 */
function earlierErrors(codec: AnyAbiCodec, regs: RegisterFile, policy: EnforcementPolicy, caller: number | null): FfaErrorName[] {
  const bindOrUnbind = codec.abi === 'FFA_NOTIFICATION_BIND' || codec.abi === 'FFA_NOTIFICATION_UNBIND';
  if (policy !== 'xen' || !bindOrUnbind || caller === null) return [];
  const receiver = w(regs, 1) & 0xffff;
  return receiver === caller ? [] : ['INVALID_PARAMETERS'];
}

function refusalProblem(codec: AnyAbiCodec, regs: RegisterFile, answer: RegisterFile, policy: EnforcementPolicy, caller: number | null): string | null {
  const found = expectedErrors(codec, regs, policy);
  const errors = [...found.errors, ...earlierErrors(codec, regs, policy, caller)];
  const { rules } = found;
  if (errors.length === 0) return null;
  if (codec.abi === 'FFA_VERSION' && errors.includes('NOT_SUPPORTED') && w(answer, 0) === VERSION_NOT_SUPPORTED) return null;
  const decoded = decodeResult(answer);
  if (decoded.kind === 'error' && decoded.name !== null && (errors.includes(decoded.name) || decoded.name === 'NOT_SUPPORTED')) return null;
  return `${rules.join(', ')}: ${policy} answers FFA_ERROR(${errors.join(' or ')}), got ${resultOf(answer)}`;
}

function successProblem(codec: AnyAbiCodec, answer: RegisterFile): string | null {
  const success = codec.success;
  const w0 = w(answer, 0);
  if (success === null) return abiNameOf(w0) !== null ? null : `w0 ${hex(w0)} is no FF-A function`;
  if (success.fid === null) {
    const version = success.decode(answer);
    return version.ok || w0 === VERSION_NOT_SUPPORTED ? null : `not a version: ${version.ok ? '' : version.why}`;
  }
  if (w0 === success.fid) {
    const fields = success.decode(answer);
    return fields.ok ? null : `${abiNameOf(w0) ?? ''} fields do not decode: ${fields.why}`;
  }
  if (HANDOFFS[codec.abi]?.includes(w0)) return null;
  return `answered ${resultOf(answer)}; ${codec.abi}'s success is ${abiNameOf(success.fid) ?? success.fid}`;
}

/**
 * A callee that answers INFO_GET_32 as it answers INFO_GET_64, with FFA_SUCCESS_64: Xen does
 * (docs/ffa-reference.md §8.13; ffa_notif.c handles both in one path, hypervisor policy infoGet32Answer).
 */
function infoGet32Answered64(regs: RegisterFile, answer: RegisterFile): boolean {
  return w(regs, 0) === FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32 && w(answer, 0) === FFA_FIDS.FFA_SUCCESS_64;
}

export interface AnswerRules {
  /** The caller's own FF-A ID (Xen checks a BIND's receiver against it first). */
  caller?: number | null;
  /** The callee answers INFO_GET_32 with FFA_SUCCESS_64. */
  infoGet32AsSuccess64?: boolean;
}

/** What is wrong with the callee's answer, or null. */
export function answerProblem(regs: RegisterFile, answer: RegisterFile, policy: EnforcementPolicy, rules: AnswerRules = {}): string | null {
  const fid = w(regs, 0);
  const caller = rules.caller ?? null;
  if (rules.infoGet32AsSuccess64 === true && infoGet32Answered64(regs, answer)) {
    const decoded = codecForFid(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64)?.success?.decode(answer);
    return decoded?.ok === false ? `FFA_SUCCESS_64 fields do not decode: ${decoded.why}` : null;
  }
  const codec = codecForFid(fid);
  const decoded = decodeResult(answer);
  const refused = codec ? refusalProblem(codec, regs, answer, policy, caller) : null;
  if (refused) return refused;
  if (decoded.kind === 'error') return decoded.name === null ? `FFA_ERROR with code ${decoded.code}, which FF-A does not define` : null;
  if (codec) return successProblem(codec, answer);
  if (decoded.kind === 'success' || (!isFfaFid(fid) && w(answer, 0) === SMC_UNK)) return null;
  return `answered ${resultOf(answer)} to a function no codec knows`;
}

/** Judged: delivered to the callee and answered by it (on the callee's conduit, where it has one). */
function isJudged(c: CallRecord, callee: Callee): boolean {
  return c.callee === callee.component && c.delivered !== null && c.returnRegs !== null && c.message !== null && (callee.conduit === null || c.message.conduit === callee.conduit);
}

/**
 * The check as a fold: each settled chain's calls (calls.ts), each against the rules of its
 * callee; shown callee by callee, each callee's calls in history order.
 */
export class Conformance {
  private readonly callees: Callee[];
  private readonly counts: number[];
  private readonly failures: KeyedFailures[];

  constructor(
    private readonly model: WorldModel,
    facts: HistoryFacts,
  ) {
    this.callees = calleesOf(facts, model);
    this.counts = this.callees.map(() => 0);
    this.failures = this.callees.map(() => new KeyedFailures());
  }

  chainSettled(call: CallRecord): void {
    for (const child of call.children) this.chainSettled(child);
    this.callees.forEach((callee, index) => {
      if (!isJudged(call, callee)) return;
      this.counts[index] = (this.counts[index] ?? 0) + 1;
      const regs = (call.message as NonNullable<CallRecord['message']>).regs;
      const answer = call.returnRegs as RegisterFile;
      // The callee refused the caller itself (`call-refused`, between the call's delivery and its answer).
      if (w(answer, 0) === SMC_UNK && call.refusedWhileOpen) return;
      const callerId = this.model.guests.find((g) => g.component === call.caller)?.vmId ?? null;
      const problem = answerProblem(regs, answer, callee.policy, { caller: callee.policy === 'xen' ? callerId : null, infoGet32AsSuccess64: callee.infoGet32AsSuccess64 });
      if (problem === null) return;
      this.failures[index]?.add([call.order], {
        message: `${callee.component} answered ${call.caller}'s ${abiOf(regs)} (call #${call.id}): ${problem}`,
        bit: null,
        endpoints: [callee.component, call.caller],
        events: evidenceOf([call.delivered, call.returned]),
      });
    });
  }

  outcome(): CheckOutcome {
    const counts = this.callees.map((callee, index) => `${this.counts[index] ?? 0} answered by ${callee.component} (${callee.policy})`);
    const lists = this.failures.map((k) => ({ total: k.total, failures: k.values() }));
    return outcomeOf(failureListOf(...lists), 'non-conforming answer', `calls: ${counts.join(', ')}`);
  }
}
