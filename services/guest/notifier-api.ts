/**
 * struct ffa_notifier_ops (drivers/firmware/arm_ffa/driver.c, docs/ffa-reference.md §4.4), as client drivers
 * call it. `device` is the partition whose ffa_device the client holds (dev->vm_id):
 * - notify_request → FFA_NOTIFICATION_BIND(sender = device, receiver = self, per-vCPU flag), then
 *   the callback in notifier_hash; DENIED comes back as -EACCES, which the OP-TEE client reads as
 *   "taken, try the next ID"; if the callback cannot be added, UNBIND again;
 * - notify_relinquish → the callback out, then FFA_NOTIFICATION_UNBIND;
 * - notify_send → FFA_NOTIFICATION_SET(sender = self, receiver = device, per-vCPU flag | vcpu << 16);
 * - sched_recv_cb_register → the partition's schedule-receiver callback.
 * Every one is -EOPNOTSUPP while notifications are not enabled, and -EINVAL for an ID ≥ 64.
 * Each runs on a vCPU (its calls are that vCPU's); the result is an errno, as Linux returns it.
 */
import {
  BIND_FLAGS,
  FFA_FIDS,
  hex,
  SET_FLAGS,
  notificationBind,
  notificationSet,
  notificationUnbind,
  x,
} from '../../shared/ffa/index.ts';
import { ERRNO, errnoOf, type CallResult } from './conduit.ts';
import { notifyTypeOf, type DriverState, type NotifierCallback, type SchedRecvCallback } from './driver-state.ts';

/** driver.c FFA_MAX_NOTIFICATIONS. */
export const MAX_NOTIFICATIONS = 64;

type ErrnoDone = (errno: number) => void;

/** ffa_notification_bind_common / ffa_notification_set: FFA_ERROR → errno, not FFA_SUCCESS_32 → -EINVAL. */
function bindOrSetErrno(result: CallResult): number {
  const errno = errnoOf(result);
  if (errno !== 0) return errno;
  return result.kind === 'returned' && x(result.regs, 0) === BigInt(FFA_FIDS.FFA_SUCCESS_32) ? 0 : -ERRNO.EINVAL;
}

function precheck(d: DriverState, id: number): number {
  if (!d.notifications.enabled) return -ERRNO.EOPNOTSUPP; // ffa_notifications_disabled()
  if (!Number.isInteger(id) || id < 0 || id >= MAX_NOTIFICATIONS) return -ERRNO.EINVAL;
  return 0;
}

const bit = (id: number): bigint => 1n << BigInt(id);

/** ffa_notify_request on vCPU `cpu`. */
export function notifyRequest(d: DriverState, cpu: number, device: number, perVcpu: boolean, id: number, callback: NotifierCallback, done: ErrnoDone): void {
  const refused = precheck(d, id);
  if (refused !== 0) return done(refused);
  const flags = perVcpu ? BIND_FLAGS.perVcpu : 0;
  const regs = notificationBind.encodeCall({ sender: device, receiver: d.ownId, flags, bitmap: bit(id) });
  d.invoke(cpu, regs, (result) => {
    const errno = bindOrSetErrno(result);
    if (errno !== 0) return done(errno);
    const type = notifyTypeOf(device);
    if (d.notifier(id, type)) {
      // update_notifier_cb: a callback for (id, type) already exists → -EINVAL.
      d.log({ level: 'err', text: `Failed to register callback for ${id} - ${-ERRNO.EINVAL}` });
      return unbind(d, cpu, device, id, () => done(-ERRNO.EINVAL));
    }
    d.addNotifier({ id, type, device, callback });
    done(0);
  });
}

/** ffa_notify_relinquish on vCPU `cpu`. */
export function notifyRelinquish(d: DriverState, cpu: number, device: number, id: number, done: ErrnoDone): void {
  const refused = precheck(d, id);
  if (refused !== 0) return done(refused);
  const type = notifyTypeOf(device);
  if (!d.notifier(id, type)) {
    d.log({ level: 'err', text: 'Could not unregister notification callback' });
    return done(-ERRNO.EINVAL);
  }
  d.removeNotifier(id, type);
  unbind(d, cpu, device, id, done);
}

function unbind(d: DriverState, cpu: number, device: number, id: number, done: ErrnoDone): void {
  const regs = notificationUnbind.encodeCall({ sender: device, receiver: d.ownId, bitmap: bit(id) });
  d.invoke(cpu, regs, (result) => done(bindOrSetErrno(result)));
}

/** ffa_notify_send on vCPU `cpu`: PACK_TARGET_INFO(dst_id = self, src_id = device) puts self in [31:16]. */
export function notifySend(d: DriverState, cpu: number, device: number, id: number, perVcpu: boolean, vcpu: number, done: ErrnoDone): void {
  const refused = precheck(d, id);
  if (refused !== 0) return done(refused);
  const flags = perVcpu ? SET_FLAGS.perVcpu : 0;
  const regs = notificationSet.encodeCall({ sender: d.ownId, receiver: device, flags, vcpu: perVcpu ? vcpu : 0, bitmap: bit(id) });
  d.invoke(cpu, regs, (result) => done(bindOrSetErrno(result)));
}

/** ffa_sched_recv_cb_register (synchronous: no FF-A call). */
export function schedRecvCallbackRegister(d: DriverState, device: number, callback: SchedRecvCallback): number {
  if (!d.notifications.enabled) return -ERRNO.EOPNOTSUPP;
  const partition = d.partitions.get(device);
  if (!partition) {
    d.log({ level: 'err', text: `ffa_sched_recv_cb_update: Invalid partition ID ${hex(device)}` });
    return -ERRNO.EINVAL;
  }
  if (partition.schedRecv !== null) return -ERRNO.EINVAL;
  partition.schedRecv = callback;
  return 0;
}
