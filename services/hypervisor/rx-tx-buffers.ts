/**
 * A guest's RX/TX buffers, after Xen's ffa_rxtx.c (docs/ffa-reference.md §5.4): FFA_RXTX_MAP,
 * FFA_RXTX_UNMAP and FFA_RX_RELEASE from the guest, and the acquire and release Xen does around
 * its own writes into the guest's RX buffer (ffa_rx_acquire, ffa_rx_release).
 *
 * When the firmware has FFA_RX_ACQUIRE ("the spec says that if not there is not need to
 * acquire/release/map rxtx buffers from the SPMC"), Xen also maps the guest's buffers at the SPMC
 * (FFA_RXTX_MAP_64(0, 0, 0) with the endpoint RX/TX descriptor in Xen's own TX buffer), acquires
 * the guest's RX buffer there before it writes it (FFA_RX_ACQUIRE(vm)), forwards the guest's
 * release (FFA_RX_RELEASE(vm)) and unmaps (FFA_RXTX_UNMAP(vm << 16)). Xen's own `rx_is_free`
 * says only whether Xen may write the buffer: a message the SPMC wrote there on its own
 * (an SP's FFA_MSG_SEND2) leaves it true, so the guest's FFA_RX_RELEASE of that message is
 * refused by Xen (DENIED) and never reaches the SPMC (ffa_rx_release: `ctx->rx_is_free`).
 */
import {
  FFA_FIDS,
  FFA_PAGE_SIZE,
  ffaRxtxMap32,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaRxAcquire,
  ffaRxRelease,
  errorName,
  txWrite,
  w,
  type FfaErrorName,
} from '../../shared/ffa/index.ts';
import { codeName, returnCode, type FirmwareLink, type FirmwareResult } from './firmware.ts';
import { forwardThen, refuse, succeed, type GuestCall, type HypervisorState, type Outcome } from './guest-call.ts';
import type { Vm } from './vm-table.ts';

/** FFA_MAX_RXTX_PAGE_COUNT: a guest's buffers are one 4 KiB page each. */
export const MAX_RXTX_PAGE_COUNT = 1;

/** Whether Xen keeps the SPMC in step with a guest's buffers (ffa_fw_supports_fid(FFA_RX_ACQUIRE)). */
function atSpmc(hv: HypervisorState): boolean {
  return hv.firmware.supports('FFA_RX_ACQUIRE');
}

/**
 * The error of an SMC's answer (Xen ffa_get_ret_code), which Xen hands the guest as it is; null on
 * success. The SPMC here answers only codes the ABI names (a failed SMC maps to one too, firmware.ts).
 */
export function errorOf(result: FirmwareResult): FfaErrorName | null {
  const code = returnCode(result);
  return code === 0 ? null : (errorName(code) ?? 'ABORTED');
}

// ---------------------------------------------------------------- FFA_RXTX_MAP

/**
 * ffa_handle_rxtx_map: the page count (1), the alignment, "Already mapped" (DENIED); then, with
 * RX_ACQUIRE at the firmware, the same buffers mapped at the SPMC for the guest, whose error the
 * guest gets.
 */
export function handleRxtxMap(gc: GuestCall): Outcome {
  const width = w(gc.regs, 0) === FFA_FIDS.FFA_RXTX_MAP_64 ? 64 : 32;
  // "Calls using the 32-bit calling convention must ignore the upper 32 bits": the 32-bit codec reads w1/w2.
  const { tx, rx, pageCount } = (width === 64 ? ffaRxtxMap64 : ffaRxtxMap32).decodeCall(gc.regs).args;
  if (pageCount > MAX_RXTX_PAGE_COUNT || pageCount === 0) return refuse('INVALID_PARAMETERS', `${pageCount} pages requested (limit ${MAX_RXTX_PAGE_COUNT})`);
  const pageMask = BigInt(FFA_PAGE_SIZE - 1);
  if ((tx & pageMask) !== 0n || (rx & pageMask) !== 0n) return refuse('INVALID_PARAMETERS', 'the TX and RX addresses must be 4 KiB aligned');
  if (gc.vm.buffers !== null) return refuse('DENIED', 'RX/TX buffers are already mapped');
  const mapped = (): Outcome => {
    gc.vm.buffers = { pageCount, rxFree: true };
    return succeed(atSpmc(gc.hv) ? 'RX/TX buffers mapped, here and at the SPMC' : 'RX/TX buffers mapped');
  };
  if (!atSpmc(gc.hv)) return mapped();
  // Xen's own TX buffer holds the descriptor: rx and tx regions of one page each, for this VM.
  const descriptor = txWrite(0, { kind: 'rxtx-descriptor', endpoint: gc.vm.id, rx, tx, pageCount: MAX_RXTX_PAGE_COUNT });
  return forwardThen(ffaRxtxMap64.encodeCall({ tx: 0n, rx: 0n, pageCount: 0 }), (result) => {
    const error = errorOf(result);
    return error === null ? mapped() : refuse(error, `the SPMC refused to map the guest's buffers: ${error}`);
  }, descriptor);
}

// ---------------------------------------------------------------- FFA_RXTX_UNMAP

/** rxtx_unmap(d, false): nothing mapped → INVALID_PARAMETERS; "RXTX_UNMAP denied, RX buffer owned by VM". */
export function handleRxtxUnmap(gc: GuestCall): Outcome {
  const { buffers } = gc.vm;
  if (buffers === null) return refuse('INVALID_PARAMETERS', 'no RX/TX buffers are mapped');
  if (!buffers.rxFree) return refuse('DENIED', 'the RX buffer is owned by the VM');
  const unmapped = (): Outcome => {
    gc.vm.buffers = null;
    return succeed('RX/TX buffers unmapped');
  };
  if (!atSpmc(gc.hv)) return unmapped();
  return forwardThen(ffaRxtxUnmap.encodeCall({ id: gc.vm.id }), (result) => {
    const error = errorOf(result);
    return error === null ? unmapped() : refuse(error, `the SPMC refused to unmap the guest's buffers: ${error}`);
  });
}

// ---------------------------------------------------------------- FFA_RX_RELEASE, and Xen's acquire

/**
 * ffa_rx_release: DENIED unless Xen wrote the buffer and the guest still has it; with RX_ACQUIRE,
 * forwarded for the VM, whose error the guest gets (and the buffer stays the guest's).
 */
export function handleRxRelease(gc: GuestCall): Outcome {
  return releaseGuestRx(gc, () => succeed('RX buffer released'), (error, why) => refuse(error, why));
}

/** ffa_rx_release's logic, with what follows it either way (the guest's answer, or Xen's error path). */
export function releaseGuestRx(gc: GuestCall, released: () => Outcome, refused: (error: FfaErrorName, why: string) => Outcome): Outcome {
  const { buffers } = gc.vm;
  if (buffers === null || buffers.rxFree) return refused('DENIED', 'no RX buffer that Xen wrote is owned by the guest');
  const release = (): Outcome => {
    buffers.rxFree = true;
    return released();
  };
  if (!atSpmc(gc.hv)) return release();
  return forwardThen(ffaRxRelease.encodeCall({ receiver: gc.vm.id }), (result) => {
    const error = errorOf(result);
    return error === null ? release() : refused(error, `the SPMC refused to release the guest's RX buffer: ${error}`);
  });
}

/**
 * ffa_rx_acquire, before Xen writes the guest's RX buffer: none mapped → DENIED; not free →
 * BUSY; with RX_ACQUIRE, taken from the SPMC first (its error is the caller's). `write` runs with
 * the buffer Xen's (rx_is_free false).
 */
export function acquireGuestRx(gc: GuestCall, write: () => Outcome): Outcome {
  const { buffers } = gc.vm;
  if (buffers === null) return refuse('DENIED', 'no RX buffer is mapped');
  if (!buffers.rxFree) return refuse('BUSY', 'the RX buffer is still the guest\'s');
  const acquired = (): Outcome => {
    buffers.rxFree = false;
    return write();
  };
  if (!atSpmc(gc.hv)) return acquired();
  return forwardThen(ffaRxAcquire.encodeCall({ receiver: gc.vm.id }), (result) => {
    const error = errorOf(result);
    return error === null ? acquired() : refuse(error, `the SPMC refused to give up the guest's RX buffer: ${error}`);
  });
}

/** Xen's own error path after acquiring: ffa_rx_release, then the error whatever the release gave. */
export function releaseAndRefuse(gc: GuestCall, error: FfaErrorName, why: string): Outcome {
  const refusal = () => refuse(error, why);
  return releaseGuestRx(gc, refusal, refusal);
}

// ---------------------------------------------------------------- teardown

/**
 * rxtx_unmap(d, true), from ffa_domain_teardown: a buffer the guest still holds is released at
 * the SPMC first, then the buffers are unmapped there (errors only logged: the domain goes
 * anyway). `done` once the SMCs are answered.
 */
export function tearDownGuestBuffers(hv: HypervisorState, link: FirmwareLink, vm: Vm, cpu: number, done: () => void): void {
  const { buffers } = vm;
  vm.buffers = null;
  if (buffers === null || !atSpmc(hv)) return done();
  const record = (abi: string, result: FirmwareResult) =>
    hv.ctx.record({ event: 'fw-call', purpose: 'vm-destroy', abi, vm: vm.id, status: codeName(returnCode(result)), ignored: true });
  const unmap = () => link.call(ffaRxtxUnmap.encodeCall({ id: vm.id }), cpu, (result) => {
    record('FFA_RXTX_UNMAP', result);
    done();
  });
  if (buffers.rxFree) return unmap();
  link.call(ffaRxRelease.encodeCall({ receiver: vm.id }), cpu, (result) => {
    record('FFA_RX_RELEASE', result);
    unmap();
  });
}
