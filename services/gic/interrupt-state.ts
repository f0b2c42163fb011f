/**
 * The life of one interrupt at one target (a physical CPU's banked copy, an SPI, or a vCPU's list
 * register), edge-triggered, as GICv3 defines it (Arm IHI 0069, §4.1.2 "Interrupt lifecycle"),
 * and the choice of what a CPU interface signals next (§4.8 "Interrupt prioritization").
 *
 * These are pure transitions: each returns what happened as a value, and the caller records it
 * and tells the subscribers.
 */

/** GICv3 interrupt states (IHI 0069 §4.1.2). */
export enum InterruptState {
  /** Neither pending nor active. */
  Inactive = 'inactive',
  /**
   * Asserted and waiting to be acknowledged. A pending interrupt is *delivered* (signalled to the
   * target's subscribers) once it is enabled and its priority beats the running priority.
   */
  Pending = 'pending',
  /** Acknowledged (the ICC_IAR1_EL1 read), its handler running, not yet ended. */
  Active = 'active',
  /** Active and asserted again: an edge while active is kept, and becomes pending at EOI. */
  ActivePending = 'active+pending',
}

/** One interrupt's state at one target. */
export interface InterruptSlot {
  readonly intid: number;
  state: InterruptState;
  /**
   * While Pending: the components it was delivered to and that may acknowledge it; empty when it
   * has not been delivered yet (held). Always empty in other states.
   */
  deliveredTo: string[];
  /** The physical CPU it was delivered on or is active on (SPIs move with routing); null when neither. */
  cpu: number | null;
  /** While Active or ActivePending: the component that acknowledged it, the one that ends it. */
  owner: string | null;
  /** The component that raised it last. */
  raisedBy: string;
  /** Raises merged into the current pending edge (a lost-wakeup question hangs on these). */
  merges: number;
  /**
   * A raise reached the GIC while the interrupt was delivered but its acknowledge had not. In
   * GICv3 the ICC_IAR1_EL1 read is synchronous: an edge either precedes it (and merges) or
   * follows it (and the interrupt becomes active+pending, IHI 0069 §4.1.2). Here the acknowledge
   * is a message on the target's own link, and a raise caused after it (the handler's GET, then
   * a new SET, SRI, INFO_GET and injection) can overtake it on another link; the GIC cannot tell
   * the two apart. So it keeps the edge: the acknowledge makes the interrupt active+pending, and
   * it is delivered again at EOI. At worst one extra delivery (a GET or INFO_GET that finds
   * nothing), never a lost one. (A raise from the component it was delivered to is not kept: a
   * link keeps its order, so that raise was sent before the acknowledge.)
   */
  raisedWhileDelivered: boolean;
}

export function inactiveSlot(intid: number): InterruptSlot {
  return { intid, state: InterruptState.Inactive, deliveredTo: [], cpu: null, owner: null, raisedBy: '', merges: 0, raisedWhileDelivered: false };
}

/** What a raise did. */
export type RaiseResult =
  /** Inactive → Pending: a new edge. */
  | 'pending'
  /** Active → ActivePending: a new edge, delivered again after EOI. */
  | 'active+pending'
  /** Pending or ActivePending already: the edge merges into the one waiting (nothing new is delivered). */
  | 'merged';

export function raiseSlot(slot: InterruptSlot, from: string): RaiseResult {
  slot.raisedBy = from;
  switch (slot.state) {
    case InterruptState.Inactive:
      slot.state = InterruptState.Pending;
      slot.merges = 0;
      return 'pending';
    case InterruptState.Active:
      slot.state = InterruptState.ActivePending;
      slot.merges = 0;
      return 'active+pending';
    case InterruptState.Pending:
      // A raise from the one it was delivered to was sent before that one's acknowledge (a link
      // keeps its order): it truly came first, and merges.
      if (slot.deliveredTo.some((recipient) => recipient !== from)) slot.raisedWhileDelivered = true;
      slot.merges++;
      return 'merged';
    case InterruptState.ActivePending:
      slot.merges++;
      return 'merged';
  }
}

/** For a gic-merge record: `kept` when the edge was kept for after the acknowledge (raisedWhileDelivered). */
export function keptOf(slot: InterruptSlot | undefined): { kept?: true } {
  return slot?.raisedWhileDelivered ? { kept: true } : {};
}

export type AckResult = { ok: true } | { ok: false; reason: 'not-delivered' };

/**
 * Pending and delivered to `from` → Active, owned by `from` (ICC_IAR1_EL1 returns only a
 * signalled interrupt), or ActivePending when a raise arrived meanwhile (raisedWhileDelivered).
 */
export function acknowledgeSlot(slot: InterruptSlot, from: string): AckResult {
  if (slot.state !== InterruptState.Pending || !slot.deliveredTo.includes(from)) return { ok: false, reason: 'not-delivered' };
  slot.state = slot.raisedWhileDelivered ? InterruptState.ActivePending : InterruptState.Active;
  slot.raisedWhileDelivered = false;
  slot.deliveredTo = [];
  slot.owner = from;
  return { ok: true };
}

export type EoiResult = { ok: true; next: InterruptState } | { ok: false; reason: 'not-active' | 'not-owner' };

/**
 * End of interrupt (ICC_EOIR1_EL1 with EOImode 0: priority drop and deactivation together):
 * Active → Inactive, ActivePending → Pending (to be delivered again).
 */
export function endSlot(slot: InterruptSlot, from: string): EoiResult {
  if (slot.state !== InterruptState.Active && slot.state !== InterruptState.ActivePending) return { ok: false, reason: 'not-active' };
  if (slot.owner !== from) return { ok: false, reason: 'not-owner' };
  slot.state = slot.state === InterruptState.Active ? InterruptState.Inactive : InterruptState.Pending;
  slot.owner = null;
  slot.cpu = null;
  return { ok: true, next: slot.state };
}

/** A delivered-but-unacknowledged interrupt goes back to held (disabled, its target went away). */
export function withdrawSlot(slot: InterruptSlot): boolean {
  if (slot.state !== InterruptState.Pending || slot.deliveredTo.length === 0) return false;
  slot.deliveredTo = [];
  slot.cpu = null;
  slot.raisedWhileDelivered = false; // held again: the edge is the one waiting
  return true;
}

/** Drops one subscriber from a delivery; true when nobody is left who may acknowledge it. */
export function forgetRecipient(slot: InterruptSlot, name: string): boolean {
  if (slot.state !== InterruptState.Pending || !slot.deliveredTo.includes(name)) return false;
  slot.deliveredTo = slot.deliveredTo.filter((recipient) => recipient !== name);
  if (slot.deliveredTo.length > 0) return false;
  slot.cpu = null;
  slot.raisedWhileDelivered = false;
  return true;
}

export function isActive(slot: InterruptSlot): boolean {
  return slot.state === InterruptState.Active || slot.state === InterruptState.ActivePending;
}

export function isDelivered(slot: InterruptSlot): boolean {
  return slot.state === InterruptState.Pending && slot.deliveredTo.length > 0;
}

export function isHeld(slot: InterruptSlot): boolean {
  return slot.state === InterruptState.Pending && slot.deliveredTo.length === 0;
}

/** No interrupt active: every priority (0..255) beats it. GICv3's idle priority is 0xFF; one past it keeps 0xFF deliverable. */
export const IDLE_PRIORITY = 0x100;

/** One interrupt as a CPU interface sees it: its slot and its current configuration there. */
export interface TargetView {
  readonly slot: InterruptSlot;
  readonly priority: number;
  readonly enabled: boolean;
  /** Someone may receive it here (a subscriber of its group at this target). */
  readonly hasAudience: boolean;
}

/** The running priority: the highest (lowest value) priority among active interrupts (IHI 0069 §4.8.3). */
export function runningPriority(views: readonly TargetView[]): number {
  let running = IDLE_PRIORITY;
  for (const view of views) if (isActive(view.slot) && view.priority < running) running = view.priority;
  return running;
}

/**
 * What to deliver now at one target, in order: held, enabled interrupts that someone may receive,
 * whose priority beats the running priority (so a higher-priority one is delivered while a lower
 * one is active: preemption), at most one delivered-and-unacknowledged per priority level,
 * highest priority first, lowest INTID first among equals (a deterministic stand-in for the
 * implementation-defined choice).
 */
export function selectDeliveries(views: readonly TargetView[]): TargetView[] {
  const running = runningPriority(views);
  const outstanding = new Set(views.filter((view) => isDelivered(view.slot)).map((view) => view.priority));
  const candidates = views
    .filter((view) => isHeld(view.slot) && view.enabled && view.hasAudience && view.priority < running)
    .sort((a, b) => a.priority - b.priority || a.slot.intid - b.slot.intid);
  const selected: TargetView[] = [];
  for (const view of candidates) {
    if (outstanding.has(view.priority)) continue;
    outstanding.add(view.priority);
    selected.push(view);
  }
  return selected;
}

/** Why a held interrupt was not delivered (for the history's gic-hold). */
export type HoldReason = 'disabled' | 'no-subscriber' | 'priority' | 'vcpu-offline' | 'list-registers-full';

export function holdReasonOf(view: TargetView): HoldReason {
  if (!view.enabled) return 'disabled';
  if (!view.hasAudience) return 'no-subscriber';
  return 'priority';
}

/** Structural invariants of a slot; a violation is a bug in the broker. */
export function assertSlotInvariants(slot: InterruptSlot, where: string): void {
  const fail = (why: string): never => {
    throw new Error(`gic invariant broken at ${where} INTID ${slot.intid}: ${why}`);
  };
  if (slot.deliveredTo.length > 0 && slot.state !== InterruptState.Pending) fail(`delivered while ${slot.state}`);
  if (isActive(slot) !== (slot.owner !== null)) fail(`owner ${String(slot.owner)} while ${slot.state}`);
  if (slot.state === InterruptState.Inactive && slot.cpu !== null) fail('inactive but placed on a CPU');
}
