/**
 * Building FFA_NOTIFICATION_INFO_GET's lists (docs/ffa-reference.md §2.6, §3.5), a port of Hafnium src/vm.c
 * vm_notifications_info_get / vm_insert_notification_info_list. Per receiver, in reporting order:
 * framework, then from-SP, then from-VM state, each global first and then per vCPU. The insertion
 * state machine adds the endpoint ID once for global notifications, appends vCPU IDs for per-vCPU
 * ones, and starts a new list after 3 vCPU IDs. With the `none` destructiveness policy every
 * pending bit is reportable, which is OP-TEE's add_nvb_to_state for its single global bitmap.
 */
import { infoGetMaxIds, type InfoGetWidth, type NotificationInfoList } from '../../shared/ffa/index.ts';
import type { BitState, NotificationState, Receiver } from './notification-state.ts';
import type { PolicyValues } from './policies.ts';

/** Hafnium enum notifications_info_get_state. */
type InsertState = 'init' | 'inserting' | 'starting-new' | 'full';

interface ListBuilder {
  readonly lists: { id: number; vcpus: number[] }[];
  ids: number;
  readonly maxIds: number;
  state: InsertState;
}

const VCPUS_PER_LIST = 3;

/** Hafnium vm_insert_notification_info_list; false when there was no room. */
function insert(builder: ListBuilder, id: number, vcpu: number | null): boolean {
  if (builder.state === 'full' || builder.ids === builder.maxIds) {
    builder.state = 'full';
    return false;
  }
  if (builder.state === 'init' || builder.state === 'starting-new') {
    if (vcpu !== null && builder.maxIds - builder.ids < 2) {
      builder.state = 'full';
      return false;
    }
    builder.lists.push({ id, vcpus: vcpu === null ? [] : [vcpu] });
    builder.ids += vcpu === null ? 1 : 2;
    builder.state = 'inserting';
    return true;
  }
  if (vcpu === null) return true; // the endpoint is already listed for its global notifications
  const current = builder.lists[builder.lists.length - 1];
  if (!current) throw new Error('bug: inserting a vCPU ID with no list started');
  current.vcpus.push(vcpu);
  builder.ids += 1;
  if (current.vcpus.length === VCPUS_PER_LIST) builder.state = 'starting-new';
  return true;
}

/** Hafnium vm_notifications_state_info_get: report one state's bits if any are reportable. */
function reportState(builder: ListBuilder, receiver: Receiver, state: BitState, vcpu: number | null, destructive: boolean): void {
  const reportable = destructive ? state.pending & ~state.retrieved : state.pending;
  if (reportable === 0n) return;
  if (!insert(builder, receiver.id, vcpu)) return;
  if (destructive) state.retrieved |= reportable;
}

/** One receiver; true when the list filled up before all of its reportable bits fitted. */
function reportReceiver(builder: ListBuilder, receiver: Receiver, destructive: boolean): boolean {
  builder.state = 'init';
  for (const notificationClass of receiver.classes()) {
    for (const [state, vcpu] of notificationClass.states()) reportState(builder, receiver, state, vcpu, destructive);
  }
  return isFull(builder);
}

/** Read through a function: TypeScript keeps the narrowing from the reset above across the calls. */
function isFull(builder: ListBuilder): boolean {
  return builder.state === 'full';
}

export interface InfoGetReport {
  readonly lists: readonly NotificationInfoList[];
  readonly morePending: boolean;
}

/** The report for one INFO_GET call, updating the retrieved bits when INFO_GET is destructive. */
export function collectNotificationInfo(notifications: NotificationState, policies: PolicyValues, width: InfoGetWidth): InfoGetReport {
  const destructive = policies.infoGetDestructiveness === 'per-bit-retrieved';
  const builder: ListBuilder = { lists: [], ids: 0, maxIds: infoGetMaxIds(width), state: 'init' };
  let listFull = false;
  for (const receiver of notifications.inReportingOrder()) {
    listFull = reportReceiver(builder, receiver, destructive);
    if (listFull) break;
  }
  return { lists: builder.lists, morePending: morePending(notifications, policies, listFull) };
}

function morePending(notifications: NotificationState, policies: PolicyValues, listFull: boolean): boolean {
  if (policies.infoGetMorePending === 'list-full-and-another-pending') return listFull;
  const { pending, retrieved } = notifications.counts();
  return pending > retrieved;
}
