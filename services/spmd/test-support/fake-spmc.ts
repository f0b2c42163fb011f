/**
 * A stand-in SPMC for the SPMD's tests. It answers the SPMD's framework VERSION request
 * (SPMD_FWK_MSG_FFA_VERSION_REQ) with a configurable version, echoes every other call back as
 * FFA_SUCCESS_64 with x1..x17 as they arrived (and the buffer memory the call carried), and
 * records every call's registers and memory, so a test can check what crossed the SPMD bit for
 * bit, in both directions.
 *
 * To show the SPMD stays responsive while a forward is pending, it holds every call whose x1 is
 * HOLD_MARKER until a call whose x1 is RELEASE_MARKER has arrived (a latch: a release that comes
 * first lets later holds through).
 */
import type { Component, ComponentContext, ComponentFactory } from '../../../shared/runtime/component.ts';
import type { CallMessage, Message } from '../../../shared/protocol/messages.ts';
import {
  FFA_FIDS,
  ffaError,
  FRAMEWORK_MESSAGES,
  frameworkMessageFlags,
  msgSendDirectResp32,
  parseVersion,
  SPMD_ID,
  w,
  x,
  type RegisterFile,
} from '../../../shared/ffa/index.ts';

export const HOLD_MARKER = 0x484f_4c44n; // "HOLD"
export const RELEASE_MARKER = 0x5245_4c45n; // "RELE"

export interface FakeSpmcConfig {
  /** The version its framework VERSION response carries; null: it answers FFA_ERROR NOT_SUPPORTED instead. */
  version: string | null;
  spmcId: number;
  /**
   * "0x…": every echo carries this value in x8..x17 instead of what arrived (an SPMC that leaves
   * its own values there). Null: x8..x17 are echoed.
   */
  x8ToX17OnReturn: string | null;
}

export const FAKE_SPMC_DEFAULTS: FakeSpmcConfig = { version: '1.2', spmcId: 0x8000, x8ToX17OnReturn: null };

function isFrameworkVersionRequest(regs: RegisterFile): boolean {
  return w(regs, 0) === FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32 && w(regs, 2) === frameworkMessageFlags(FRAMEWORK_MESSAGES.VERSION_REQ);
}

function frameworkVersionResponse(config: FakeSpmcConfig): RegisterFile {
  const version = config.version === null ? null : parseVersion(config.version);
  if (version === null) return ffaError('NOT_SUPPORTED');
  return msgSendDirectResp32.encodeCall({
    sender: config.spmcId,
    receiver: SPMD_ID,
    flags: frameworkMessageFlags(FRAMEWORK_MESSAGES.VERSION_RESP),
    payload: [BigInt(version)],
  });
}

function echo(regs: RegisterFile, fill: bigint | null): RegisterFile {
  return [BigInt(FFA_FIDS.FFA_SUCCESS_64), ...regs.slice(1).map((value, index) => (fill !== null && index + 1 >= 8 ? fill : value))];
}

export const create: ComponentFactory<FakeSpmcConfig> = (ctx: ComponentContext, config: FakeSpmcConfig): Component => {
  const fill = config.x8ToX17OnReturn === null ? null : BigInt(config.x8ToX17OnReturn);
  const held: { from: string; call: CallMessage }[] = [];
  let released = false;

  const answer = (from: string, call: CallMessage): void => {
    if (isFrameworkVersionRequest(call.regs)) return ctx.reply(from, call, frameworkVersionResponse(config));
    ctx.reply(from, call, echo(call.regs, fill), call.memory);
  };

  return {
    onStart() {},
    onMessage(from: string, message: Message) {
      if (message.kind !== 'call') return;
      const { conduit, endpoint, vcpu, cpu, regs, memory } = message;
      ctx.record({ event: 'fake-spmc-call', from, conduit, endpoint, vcpu, cpu, regs, memory });
      if (x(regs, 1) === HOLD_MARKER && !released) {
        held.push({ from, call: message });
        ctx.record({ event: 'fake-spmc-hold', held: held.length });
        return;
      }
      if (x(regs, 1) === RELEASE_MARKER) {
        released = true;
        ctx.record({ event: 'fake-spmc-release', held: held.length });
        for (const waiting of held.splice(0)) answer(waiting.from, waiting.call);
      }
      answer(from, message);
    },
  };
};
