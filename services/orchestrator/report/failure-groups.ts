/**
 * Failures grouped by cause. A load run or a sweep fails the same way many times over, once per
 * guest or seed: a reader needs each cause once, with how often it happened, and one example.
 * A failure's cause is its message with the particulars taken out: numbers (a bit, a VM ID, a
 * time, a seed) and hex values, so "notification 0 … for g12 … at 7.005 ms" and "notification 3
 * … for g40 … at 9.210 ms" are one cause.
 */

/** The message with its numbers as '#': "notification # (sp bitmap) for g# never returned …". */
export function failureSignature(message: string): string {
  return message.replace(/0x[0-9a-f]+/gi, '#').replace(/\d+(?:\.\d+)?/g, '#');
}

export interface FailureGroup<T> {
  signature: string;
  /** In their first-seen order; the first is the example shown. */
  members: T[];
}

/** Groups in order of size (largest first), then of first appearance. */
export function groupFailures<T>(items: readonly T[], messageOf: (item: T) => string): FailureGroup<T>[] {
  const groups = new Map<string, FailureGroup<T>>();
  for (const item of items) {
    const signature = failureSignature(messageOf(item));
    const group = groups.get(signature);
    if (group) group.members.push(item);
    else groups.set(signature, { signature, members: [item] });
  }
  return [...groups.values()].sort((a, b) => b.members.length - a.members.length);
}
