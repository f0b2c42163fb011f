/**
 * invoke_ffa_fn (drivers/firmware/arm_ffa/smccc.c): the driver's SMC or HVC, issued by one vCPU
 * to the firmware component (the hypervisor under Xen, the SPMD on bare metal), and the errno
 * mapping every driver.c wrapper applies to what comes back (ffa_to_linux_errno).
 *
 * A call that never returns (a link cut, a crashed callee) has no Linux equivalent: an SMC always
 * returns. It is reported as its own outcome, recorded, and mapped to -EIO so the driver's error
 * paths run; it is never mistaken for an FF-A error.
 */
import { decodeResult, hex, txWrite, w, type BufferContent, type BufferWrite, type RegisterFile } from '../../shared/ffa/index.ts';
import type { CallFailure, ComponentContext } from '../../shared/runtime/component.ts';
import type { Conduit as ConduitName } from '../../shared/protocol/messages.ts';
import type { VcpuSet } from './vcpus.ts';

/** A call's result: the registers and what it wrote into an RX buffer (null: nothing), or why it never returned. */
export type CallResult = { readonly kind: 'returned'; readonly regs: RegisterFile; readonly memory: BufferWrite | null } | { readonly kind: 'failed'; readonly reason: CallFailure };

/** include/uapi/asm-generic/errno*.h: the values the driver returns. */
export const ERRNO = {
  EINTR: 4,
  EIO: 5,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  EAGAIN: 11,
  ENODATA: 61,
  EOPNOTSUPP: 95,
  ECANCELED: 125,
  ENXIO: 6,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** driver.c ffa_linux_errmap, indexed by -(FF-A error code). */
const FFA_LINUX_ERRMAP: readonly number[] = [
  0,
  -ERRNO.EOPNOTSUPP, // NOT_SUPPORTED
  -ERRNO.EINVAL, // INVALID_PARAMETERS
  -ERRNO.ENOMEM, // NO_MEMORY
  -ERRNO.EBUSY, // BUSY
  -ERRNO.EINTR, // INTERRUPTED
  -ERRNO.EACCES, // DENIED
  -ERRNO.EAGAIN, // RETRY
  -ERRNO.ECANCELED, // ABORTED
  -ERRNO.ENODATA, // NO_DATA
  -ERRNO.EAGAIN, // NOT_READY
];

/** driver.c ffa_to_linux_errno: an unknown code is -EINVAL. */
export function ffaToLinuxErrno(code: number): number {
  return FFA_LINUX_ERRMAP[-code] ?? -ERRNO.EINVAL;
}

const errnoNames = new Map<number, string>(Object.entries(ERRNO).map(([name, value]) => [-value, `-${name}`]));

/** -13 → "-EACCES", 0 → "0". */
export function errnoName(errno: number): string {
  return errno === 0 ? '0' : (errnoNames.get(errno) ?? String(errno));
}

/** The usual driver.c wrapper: FFA_ERROR → errno, a call that never returned → -EIO, anything else 0. */
export function errnoOf(result: CallResult): number {
  if (result.kind === 'failed') return -ERRNO.EIO;
  const decoded = decodeResult(result.regs);
  return decoded.kind === 'error' ? ffaToLinuxErrno(decoded.code) : 0;
}

/** For records: "SUCCESS", an FF-A error's name, the w0 of anything else, or why there was no return. */
export function describeResult(result: CallResult): string {
  if (result.kind === 'failed') return `CALL_FAILED:${result.reason}`;
  const decoded = decodeResult(result.regs);
  switch (decoded.kind) {
    case 'success':
      return 'SUCCESS';
    case 'error':
      return decoded.name ?? `ERROR(${decoded.code})`;
    case 'other':
      return hex(w(result.regs, 0));
  }
}

/** The FF-A error code of a return, or null when it is not FFA_ERROR. */
export function ffaErrorCode(result: CallResult): number | null {
  if (result.kind === 'failed') return null;
  const decoded = decodeResult(result.regs);
  return decoded.kind === 'error' ? decoded.code : null;
}

export class FirmwareConduit {
  /** False once the guest rebooted or was destroyed: late returns are dropped. */
  private alive = true;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly firmware: string,
    private readonly conduit: ConduitName,
    private readonly vcpus: VcpuSet,
    /** The caller's FF-A ID as the call carries it (the firmware decides by link; a bare kernel is 0). */
    private readonly endpoint: () => number,
  ) {}

  retire(): void {
    this.alive = false;
  }

  /**
   * invoke_ffa_fn on vCPU `vcpu`: the call carries the vCPU and the physical CPU it runs on, and
   * `tx`, what the driver put in its TX buffer for the callee to read (FFA_MSG_SEND2's message).
   */
  invoke(vcpu: number, regs: RegisterFile, done: (result: CallResult) => void, tx: BufferContent | null = null): void {
    const endpoint = this.endpoint();
    const request = { conduit: this.conduit, endpoint, vcpu, cpu: this.vcpus.pcpuOf(vcpu), regs, memory: tx === null ? null : txWrite(endpoint, tx) };
    this.ctx.call(this.firmware, request, (outcome) => {
      if (!this.alive) return;
      if (outcome.ok) return done({ kind: 'returned', regs: outcome.regs, memory: outcome.memory });
      this.ctx.record({ event: 'call-failed', vcpu, fid: hex(w(regs, 0)), reason: outcome.reason });
      done({ kind: 'failed', reason: outcome.reason });
    });
  }
}
