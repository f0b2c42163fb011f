/**
 * Guests run concurrently on their vCPUs: on the bare-metal host, OP-TEE sets its notification
 * from three CPUs in a row, so the SRI handler's work (one work_struct, queued where the SRI was
 * taken, or merged while pending, or queued again where it runs) races the SETs that follow.
 * The sim runtime explores those interleavings by seed (a SET between the handler's INFO_GET and
 * its GET, an SRI merged into pending work, work queued again where it runs, a bottom half merged
 * with the next); whatever the interleaving, no
 * notification is lost: every SET is followed by a GET that returns its bit (design §8 "no lost
 * notification"). Under ws the same property holds for real concurrency.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../shared/ffa/index.ts';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import { RUNTIMES, type RuntimeName } from '../../shared/runtime/run-world.ts';
import { awaitBottomHalf, awaitProbe, HOST, opteeSend, records, recordsWithSeq, runGuestWorld, SPMC, wait } from './test-support/world.ts';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
/**
 * About one SRI handler's run under sim: the second and third SETs land while the first INFO_GET/GET
 * is under way (between them, or after the GET), so the interleavings differ in what they race.
 */
const SEND_SPACING_NS = 60_000;

async function race(seed: number, runtime: RuntimeName): Promise<HistoryEntry[]> {
  return runGuestWorld(
    {
      hypervisor: 'none',
      spmcProfile: 'optee',
      seed,
      guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, opteeClient: true, policies: { workJitterNs: 20_000 } }],
      actor: [awaitProbe(HOST), opteeSend(0, 0), wait(SEND_SPACING_NS), opteeSend(0, 1), wait(SEND_SPACING_NS), opteeSend(0, 2), awaitBottomHalf(HOST), wait(200_000_000)],
    },
    runtime,
  );
}

/**
 * Every SET (OP-TEE's send) is followed, at the SPMC, by a GET whose return carries bit 0 (the
 * bottom-half ID). Judged on the SPMC's own events: under ws the history interleaves components
 * as their reports arrive, so only one component's order is causal.
 */
function assertNothingLost(entries: readonly HistoryEntry[], seed: number): void {
  const sends = recordsWithSeq(entries, SPMC, 'optee-notif-send');
  assert.deepEqual(sends.map((s) => s.data['outcome']), ['sent', 'sent', 'sent']);
  const returned = getReturnsWithBit0(entries);
  for (const send of sends) {
    assert.ok(returned.some((seq) => seq > send.seq), `seed ${seed}: the send at ${send.seq} is never returned by a GET`);
  }
  assert.ok(records(entries, HOST, 'optee-bottom-half').length >= 1);
}

/** The SPMC's returns of FFA_NOTIFICATION_GET with bit 0 of the SP bitmap set, by history position. */
function getReturnsWithBit0(entries: readonly HistoryEntry[]): number[] {
  const getCalls = new Set<number>();
  const seqs: number[] = [];
  for (const entry of entries) {
    const event = entry.event;
    if (event.type === 'deliver' && event.to === SPMC && event.message.kind === 'call' && event.message.regs[0] === BigInt(FFA_FIDS.FFA_NOTIFICATION_GET)) {
      getCalls.add(event.message.id);
    }
    if (event.type === 'send' && event.from === SPMC && event.message.kind === 'return' && getCalls.has(event.message.id)) {
      if (((event.message.regs[2] ?? 0n) & 1n) !== 0n) seqs.push(entry.seq);
    }
  }
  return seqs;
}

/** What the host did, in order: which vCPU took each SRI, merged work, INFO_GETs and GETs. */
function interleaving(entries: readonly HistoryEntry[]): string {
  const kinds = new Set(['irq-handled', 'work-already-pending', 'info-get', 'notification-get']);
  return entries
    .flatMap((entry) => {
      const event = entry.event;
      if (event.type !== 'record' || event.component !== HOST || !kinds.has(String(event.data['event']))) return [];
      return [`${String(event.data['event'])}@${String(event.data['vcpu'])}`];
    })
    .join(' ');
}

for (const runtime of RUNTIMES) {
  describe(`SRI handlers racing SETs on other CPUs (${runtime})`, () => {
    it('no notification is lost, whatever the interleaving', async () => {
      const seeds = runtime === 'sim' ? SEEDS : [SEEDS[0] ?? 1];
      const seen = new Set<string>();
      for (const seed of seeds) {
        const entries = await race(seed, runtime);
        assertNothingLost(entries, seed);
        seen.add(interleaving(entries));
      }
      if (runtime === 'sim') assert.ok(seen.size > 1, `the seeds explored one interleaving only: ${[...seen].join(' | ')}`);
    });
  });
}
