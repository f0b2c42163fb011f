/**
 * The calls a scenario makes without waiting for their answer (pass 3, meaning; docs/scenarios.md
 * "Calls made without waiting"): a call step with `async: NAME` makes one; a later
 * `{ await: call, call: NAME }` step, or an SP's FFA_MSG_SEND_DIRECT_RESP step with
 * `answers: NAME`, takes its answer. Read in the order of the steps, so a name is known only after
 * the step that makes it:
 * - each name is made once;
 * - each pending call is awaited or answered once, by a later step (a call has one answer);
 * - what the answer must be is said once: on the async step or on the step that awaits it;
 * - an answer to a direct request comes from the SP it was sent to, with the requester as receiver.
 */
import { closest } from '../../../../shared/config/zod-kit.ts';
import { abiNameOf, codecForFid, FFA_FIDS, unpackTargetInfo, w, type RegisterFile } from '../../../../shared/ffa/index.ts';
import type { ScenarioSource, ValuePath } from '../errors.ts';
import type { Endpoint, Expectation, PendingCallJudgement } from '../types.ts';
import type { CallTarget } from './calls.ts';
import { hex } from './values.ts';

/** A call made with `async: NAME`, as the reader met it. */
export interface MadeCall {
  readonly name: string;
  readonly index: number;
  readonly fid: number;
  readonly regs: RegisterFile;
  /** The async step's `expect`, or null when it gave none (the await step may). */
  readonly expect: Expectation | null;
}

/** How a later step took a pending call's answer. */
type Taken = { readonly how: 'awaited' | 'answered'; readonly index: number };

const DIRECT_REQUESTS: ReadonlySet<number> = new Set([FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64]);
const DIRECT_RESPONSES: ReadonlySet<number> = new Set([FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32, FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64]);

/** A direct request's requester and receiver (w1: sender[31:16] | receiver[15:0]). */
export interface RequestEnds {
  readonly sender: number;
  readonly receiver: number;
}

export class PendingCalls {
  private readonly made = new Map<string, MadeCall>();
  private readonly taken = new Map<string, Taken>();

  constructor(private readonly source: ScenarioSource) {}

  /** A call step with `async: NAME`. */
  make(call: MadeCall, path: ValuePath): void {
    const earlier = this.made.get(call.name);
    if (earlier) throw this.source.error(path, `steps[${earlier.index}] already makes a call named '${call.name}': give each pending call its own name`);
    this.refuseRxRead(call.fid, call.expect, [...path.slice(0, -1), 'expect']);
    this.made.set(call.name, call);
  }

  /**
   * FFA_PARTITION_INFO_GET's `partitions` and a GET's `message` are read from the caller's RX
   * buffer as its call step ends (services/orchestrator/rx-buffer.ts); a pending call's answer is
   * judged later, from its registers alone.
   */
  private refuseRxRead(fid: number, expect: Expectation | null, path: ValuePath): void {
    if (expect?.kind !== 'success-fields') return;
    if (fid === FFA_FIDS.FFA_PARTITION_INFO_GET && 'partitions' in expect.fields) {
      throw this.source.error(path, 'partitions are read from the caller\'s RX buffer when its call step ends: expect them on a call made without async, or expect { count: N } here', 'key');
    }
    if (fid === FFA_FIDS.FFA_NOTIFICATION_GET && 'message' in expect.fields) {
      throw this.source.error(path, 'the message is read from the caller\'s RX buffer when its call step ends: expect it on a call made without async, or expect the bitmaps only here', 'key');
    }
  }

  /** The ABI of the pending call NAME, against which an await step's `expect` reads; null when no step made it. */
  targetOf(name: string): CallTarget | null {
    const call = this.made.get(name);
    return call === undefined ? null : { abi: abiNameOf(call.fid), fid: call.fid, codec: codecForFid(call.fid) };
  }

  /** `{ await: call, call: NAME, expect }`: the answer and what it must be. */
  await(name: string, expect: Expectation | null, index: number, path: ValuePath): PendingCallJudgement {
    const call = this.take(name, { how: 'awaited', index }, [...path, 'call']);
    this.refuseRxRead(call.fid, expect, [...path, 'expect']);
    if (call.expect !== null && expect !== null) {
      throw this.source.error([...path, 'expect'], `steps[${call.index}] already says what the answer to '${name}' must be: give expect on one of the two steps`, 'key');
    }
    return { name, fid: call.fid, expect: expect ?? call.expect ?? { kind: 'any' } };
  }

  /**
   * `answers: NAME` on a call step: the step must be an SP's DIRECT_RESP, NAME a direct request
   * sent to that SP. Gives the request's ends (the response's default sender and receiver) and
   * the judgement of its answer.
   */
  answer(name: string, responder: Endpoint | null, fid: number, index: number, path: ValuePath): { ends: RequestEnds; judgement: PendingCallJudgement } {
    const at = [...path, 'answers'];
    if (!DIRECT_RESPONSES.has(fid)) throw this.source.error(at, 'only an SP\'s FFA_MSG_SEND_DIRECT_RESP_32 or _64 answers a pending call (a direct request)', 'key');
    if (responder !== null && responder.kind !== 'sp') throw this.source.error(at, `${responder.name} cannot answer a direct request: a partition (an SP) does, with its response`, 'key');
    const call = this.take(name, { how: 'answered', index }, at);
    if (!DIRECT_REQUESTS.has(call.fid)) throw this.source.error(at, `'${name}' (steps[${call.index}]) is not a direct request: await it with { await: call, call: ${name} }`);
    const { high: sender, low: receiver } = unpackTargetInfo(w(call.regs, 1));
    if (responder !== null && receiver !== responder.id) {
      throw this.source.error(at, `'${name}' (steps[${call.index}]) was sent to ${hex(receiver)}, not to ${responder.name}: the SP a request was sent to answers it`);
    }
    return { ends: { sender, receiver }, judgement: { name, fid: call.fid, expect: call.expect ?? { kind: 'any' } } };
  }

  private take(name: string, taking: Taken, path: ValuePath): MadeCall {
    const call = this.made.get(name);
    if (call === undefined) throw this.source.error(path, this.unknown(name));
    const earlier = this.taken.get(name);
    if (earlier) throw this.source.error(path, `steps[${earlier.index}] already ${earlier.how} '${name}': a call has one answer`);
    this.taken.set(name, taking);
    return call;
  }

  private unknown(name: string): string {
    const names = [...this.made.keys()];
    if (names.length === 0) return `no earlier step makes a call named '${name}': make it with async: ${name} on a call step before this one`;
    const guess = closest(name, names);
    return `no earlier step makes a call named '${name}': ${guess === null ? '' : `did you mean ${guess}? `}the pending calls made so far are ${names.join(', ')}`;
  }
}
