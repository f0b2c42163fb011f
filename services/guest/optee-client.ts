/**
 * OP-TEE's FF-A client driver (drivers/tee/optee/ffa_abi.c, docs/ffa-reference.md §4.5), probed on the
 * partition with OP-TEE's UUID once ffa_init is done:
 * 1. optee_ffa_api_is_compatible: mode_32bit_set, OPTEE_FFA_GET_API_VERSION (major 1 required),
 *    OPTEE_FFA_GET_OS_VERSION (printed);
 * 2. optee_ffa_exchange_caps: OPTEE_FFA_EXCHANGE_CAPABILITIES (w3 = 2); data0 must be 0;
 * 3. with OPTEE_FFA_SEC_CAP_ASYNC_NOTIF, optee_ffa_async_notif_init: notify_request(id) for
 *    id = 0, 1, … while it answers -EACCES ("already bound, try the next one"), then
 *    enable_async_notif: OPTEE_FFA_ENABLE_ASYNC_NOTIF (w3 = 5, w4 = id); a failure relinquishes
 *    the ID. A failure here is logged and the driver carries on without async notifications.
 * notif_callback(id): the bottom-half ID queues notif_work (optee_do_bottom_half), any other ID
 * wakes its waiter (optee_notif_send). The bottom half is recorded (`optee-bottom-half`); its
 * yielding call (OPTEE_FFA_YIELDING_CALL_DO_BOTTOM_HALF) is not made: the SPMC models no TEE
 * threads. optee_enumerate_devices is not made for the same reason.
 *
 * Every direct request is ffa_msg_send_direct_req in 32-bit mode: FFA_MSG_SEND_DIRECT_REQ_32,
 * w1 = self << 16 | OP-TEE, resumed with FFA_RUN while the answer is FFA_INTERRUPT or FFA_YIELD
 * (ffa_msg_send_wait_for_completion, bounded here).
 */
import { FFA_FIDS, hex, msgSendDirectReq32, OPTEE_UUID, registers, w, x, type PartitionInfo } from '../../shared/ffa/index.ts';
import { ERRNO, errnoName, errnoOf, type CallResult } from './conduit.ts';
import type { DriverState } from './driver-state.ts';
import { notifyRelinquish, notifyRequest } from './notifier-api.ts';
import { WorkStruct } from './vcpus.ts';

/** drivers/tee/optee/optee_ffa.h. */
const OPTEE_FFA = {
  GET_API_VERSION: 0,
  GET_OS_VERSION: 1,
  EXCHANGE_CAPABILITIES: 2,
  ENABLE_ASYNC_NOTIF: 5,
  VERSION_MAJOR: 1,
  VERSION_MINOR: 0,
  SEC_CAP_ASYNC_NOTIF: 1 << 1,
  MAX_ASYNC_NOTIF_VALUE: 64,
} as const;

const PR_FMT = 'optee: ';

type DirectData = [bigint, bigint, bigint, bigint, bigint];
type DirectDone = (errno: number, data: DirectData) => void;

const ZERO_DATA: DirectData = [0n, 0n, 0n, 0n, 0n];

/** The OP-TEE driver's state (struct optee_ffa). */
export class OpteeClient {
  /** optee->ffa.bottom_half_value; null stands for U32_MAX (none). */
  bottomHalfValue: number | null = null;
  private readonly notifWork: WorkStruct;

  constructor(
    private readonly d: DriverState,
    readonly device: PartitionInfo,
  ) {
    this.notifWork = new WorkStruct('optee_notification', d.vcpus, (vcpu, done) => {
      d.announce({ event: 'optee-bottom-half', id: this.bottomHalfValue, vcpu });
      done();
    });
  }

  /** notif_callback: the bottom half on its ID (queue_work on this CPU), optee_notif_send otherwise. */
  readonly notifCallback = (id: number, cpu: number): void => {
    if (id === this.bottomHalfValue) {
      if (!this.notifWork.queueOn(cpu)) this.d.ctx.record({ event: 'work-already-pending', work: 'optee_notification', vcpu: cpu });
      return;
    }
    this.d.ctx.record({ event: 'optee-notif-wake', id, vcpu: cpu });
  };
}

/** The partition an OP-TEE driver would bind to (optee_ffa_device_id), if any. */
export function opteeDevice(d: DriverState): PartitionInfo | null {
  for (const entry of d.partitions.values()) if (!entry.isHost && entry.info.uuid === OPTEE_UUID) return entry.info;
  return null;
}

/** optee_ffa_probe on vCPU `cpu`; `done(client)` with null when the probe failed. */
export function probeOpteeClient(d: DriverState, cpu: number, done: (client: OpteeClient | null) => void): void {
  const device = opteeDevice(d);
  if (!device) {
    d.ctx.record({ event: 'optee-client', result: 'no-device' });
    return done(null);
  }
  const client = new OpteeClient(d, device);
  const fail = (why: string) => {
    d.ctx.record({ event: 'optee-client', result: 'failed', why });
    done(null);
  };
  apiIsCompatible(d, cpu, device.id, (ok) => {
    if (!ok) return fail('incompatible API');
    exchangeCapabilities(d, cpu, device.id, (secCaps) => {
      if (secCaps === null) return fail('capabilities exchange failed');
      const finish = () => {
        d.ctx.record({ event: 'optee-client', result: 'initialized', bottomHalf: client.bottomHalfValue });
        done(client);
      };
      if ((secCaps & OPTEE_FFA.SEC_CAP_ASYNC_NOTIF) === 0) return finish();
      asyncNotifInit(d, cpu, client, (errno) => {
        if (errno < 0) d.log({ level: 'err', text: `Failed to initialize async notifications: ${errno}` }, PR_FMT);
        finish();
      });
    });
  });
}

function apiIsCompatible(d: DriverState, cpu: number, device: number, done: (ok: boolean) => void): void {
  syncSendReceive(d, cpu, device, 'GET_API_VERSION', [BigInt(OPTEE_FFA.GET_API_VERSION), 0n, 0n, 0n, 0n], (errno, data) => {
    if (errno !== 0) {
      d.log({ level: 'err', text: `Unexpected error ${errno}` }, PR_FMT);
      return done(false);
    }
    if (data[0] !== BigInt(OPTEE_FFA.VERSION_MAJOR) || data[1] < BigInt(OPTEE_FFA.VERSION_MINOR)) {
      d.log({ level: 'err', text: `Incompatible OP-TEE API version ${data[0]}.${data[1]}` }, PR_FMT);
      return done(false);
    }
    syncSendReceive(d, cpu, device, 'GET_OS_VERSION', [BigInt(OPTEE_FFA.GET_OS_VERSION), 0n, 0n, 0n, 0n], (osErrno, os) => {
      if (osErrno !== 0) {
        d.log({ level: 'err', text: `Unexpected error ${osErrno}` }, PR_FMT);
        return done(false);
      }
      d.log({ level: 'info', text: `revision ${os[0]}.${os[1]}${os[2] !== 0n ? ` (${os[2].toString(16).padStart(8, '0')})` : ''}` }, PR_FMT);
      done(true);
    });
  });
}

/** optee_ffa_exchange_caps: sec_caps (data2), or null. */
function exchangeCapabilities(d: DriverState, cpu: number, device: number, done: (secCaps: number | null) => void): void {
  syncSendReceive(d, cpu, device, 'EXCHANGE_CAPABILITIES', [BigInt(OPTEE_FFA.EXCHANGE_CAPABILITIES), 0n, 0n, 0n, 0n], (errno, data) => {
    if (errno !== 0) {
      d.log({ level: 'err', text: `Unexpected error ${errno}` }, PR_FMT);
      return done(null);
    }
    if (data[0] !== 0n) {
      d.log({ level: 'err', text: `Unexpected exchange error ${data[0]}` }, PR_FMT);
      return done(null);
    }
    done(Number(data[2] & 0xffff_ffffn));
  });
}

/** optee_ffa_async_notif_init: the bind loop over IDs, then enable_async_notif. */
function asyncNotifInit(d: DriverState, cpu: number, client: OpteeClient, done: (errno: number) => void): void {
  const tryId = (id: number): void => {
    notifyRequest(d, cpu, client.device.id, false, id, client.notifCallback, (errno) => {
      d.ctx.record({ event: 'optee-notify-request', id, result: errnoName(errno) });
      if (errno === -ERRNO.EACCES && id + 1 < OPTEE_FFA.MAX_ASYNC_NOTIF_VALUE) return tryId(id + 1);
      if (errno !== 0) return done(errno);
      client.bottomHalfValue = id;
      enableAsyncNotif(d, cpu, client, id, done);
    });
  };
  tryId(0);
}

/** enable_async_notif: OPTEE_FFA_ENABLE_ASYNC_NOTIF; its data0 is the result (a TEE code < 0 as int). */
function enableAsyncNotif(d: DriverState, cpu: number, client: OpteeClient, id: number, done: (errno: number) => void): void {
  syncSendReceive(d, cpu, client.device.id, 'ENABLE_ASYNC_NOTIF', [BigInt(OPTEE_FFA.ENABLE_ASYNC_NOTIF), BigInt(id), 0n, 0n, 0n], (errno, data) => {
    const rc = errno !== 0 ? errno : Number(BigInt.asIntN(32, data[0]));
    if (rc >= 0) {
      d.ctx.record({ event: 'optee-async-notif', id });
      return done(rc);
    }
    notifyRelinquish(d, cpu, client.device.id, id, () => {
      client.bottomHalfValue = null;
      done(rc);
    });
  });
}

/**
 * ffa_sync_send_receive in 32-bit mode (ffa_msg_send_direct_req): the request, FFA_RUN while
 * FFA_INTERRUPT/FFA_YIELD comes back, then data0..data4 = w3..w7 of the DIRECT_RESP_32.
 */
function syncSendReceive(d: DriverState, cpu: number, device: number, service: string, data: DirectData, done: DirectDone): void {
  const regs = msgSendDirectReq32.encodeCall({ sender: d.ownId, receiver: device, flags: 0, payload: data.map((v) => v & 0xffff_ffffn) });
  d.invoke(cpu, regs, (result) => waitForCompletion(d, cpu, service, result, 0, done));
}

function waitForCompletion(d: DriverState, cpu: number, service: string, result: CallResult, resumes: number, done: DirectDone): void {
  const w0 = result.kind === 'returned' ? w(result.regs, 0) : null;
  if (result.kind === 'returned' && (w0 === FFA_FIDS.FFA_INTERRUPT || w0 === FFA_FIDS.FFA_YIELD)) {
    if (resumes >= d.config.policies.runLoopBound) {
      d.ctx.record({ event: 'optee-call', service, result: 'run-loop-bound', resumes });
      return done(-ERRNO.EIO, ZERO_DATA);
    }
    return d.invoke(cpu, registers(FFA_FIDS.FFA_RUN, w(result.regs, 1)), (next) => waitForCompletion(d, cpu, service, next, resumes + 1, done));
  }
  const errno = errnoOf(result);
  if (errno !== 0 || result.kind !== 'returned') {
    d.ctx.record({ event: 'optee-call', service, result: errnoName(errno === 0 ? -ERRNO.EIO : errno) });
    return done(errno === 0 ? -ERRNO.EIO : errno, ZERO_DATA);
  }
  if (w0 !== FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32) {
    d.ctx.record({ event: 'optee-call', service, result: `unexpected ${hex(w0 ?? 0)}` });
    return done(-ERRNO.EINVAL, ZERO_DATA);
  }
  const reply: DirectData = [x(result.regs, 3), x(result.regs, 4), x(result.regs, 5), x(result.regs, 6), x(result.regs, 7)];
  d.ctx.record({ event: 'optee-call', service, result: 'SUCCESS', data0: hex(reply[0]) });
  done(0, reply);
}
