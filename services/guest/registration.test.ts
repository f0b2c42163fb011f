/**
 * Guests that register (docker compose --scale guest=N) with the Xen-like hypervisor in
 * registration mode (no VMs in its config), the TF-A-like SPMD, the OP-TEE-like SPMC and the GIC
 * (no rights for the guests in its config):
 * - two linux-6.10 guests with no vmId register, get distinct IDs, their VMs are made on the
 *   normal path (BITMAP_CREATE at the SPMC for each), each probes, binds OP-TEE's notification and
 *   gets it (the hypervisor assigned its virtual interrupts at the GIC; it never subscribed itself);
 * - one guest's link drops (its process died; sim plays the ws runtime's part, link-cut.ts): its
 *   VM is destroyed on the normal path (GIC told, BITMAP_DESTROY, VM_DESTROYED), and the other
 *   guest still gets notifications; another peer's link dropping is only recorded;
 * - refusals: registration off at the hypervisor (the guest records why and stays unbooted), and
 *   a register-result from anyone but the guest's firmware component;
 * - config: registration and vmId (or bare metal) together are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../shared/ffa/index.ts';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { GuestConfigError, validateGuestConfig } from './config.ts';
import { runWorldWithLinkCuts } from './test-support/link-cut.ts';
import {
  ACTOR,
  awaitBottomHalf,
  awaitProbe,
  GIC,
  guestWorldSpec,
  HYPERVISOR,
  mark,
  opteeSend,
  records,
  runGuestWorld,
  SPMC,
  spmcAnswers,
  virtualDeliveries,
  wait,
  type GuestSpec,
  type GuestWorld,
} from './test-support/world.ts';
import type { ActorStep } from './test-support/scenario-actor.ts';

const URL1 = 'ws://vm1:7000';
/** vm1 says which machine it runs on (FFA_HOST_LABEL); vm2 says none. */
const HOST1 = 'node-a';

function registering(name: string, advertiseUrl?: string, hostLabel?: string): GuestSpec {
  return { name, variant: 'linux-6.10', vcpus: 2, opteeClient: true, register: true, ...(advertiseUrl === undefined ? {} : { advertiseUrl }), ...(hostLabel === undefined ? {} : { hostLabel }) };
}

function world(actor: ActorStep[], registration = true): GuestWorld {
  return { hypervisor: 'xen', spmcProfile: 'optee', registration, guests: [registering('vm1', URL1, HOST1), registering('vm2')], actor };
}

/** OP-TEE notifies both VM IDs: whichever guest got which, each gets one. */
const BOTH_NOTIFIED: ActorStep[] = [awaitProbe('vm1'), awaitProbe('vm2'), opteeSend(1, 0), opteeSend(2, 1), awaitBottomHalf('vm1'), awaitBottomHalf('vm2')];

const statusQuery: ActorStep = { do: 'control', label: 'status', to: HYPERVISOR, op: 'hypervisor-status', data: null, awaitOp: 'hypervisor-status-result' };

/** The ID the hypervisor gave each guest. */
function idsOf(entries: readonly HistoryEntry[]): Record<string, number> {
  return Object.fromEntries(records(entries, HYPERVISOR, 'guest-registered').map((r) => [String(r['component']), Number(r['id'])]));
}

function assertRegisteredAndNotified(entries: readonly HistoryEntry[]): Record<string, number> {
  const ids = idsOf(entries);
  assert.deepEqual(Object.values(ids).sort(), [1, 2], 'distinct IDs');
  assert.deepEqual(spmcAnswers(entries, FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE), ['SUCCESS', 'SUCCESS'], 'BITMAP_CREATE for each VM at the SPMC');
  for (const name of ['vm1', 'vm2']) {
    const id = ids[name];
    assert.equal(typeof id, 'number', `${name} registered`);
    assert.deepEqual(records(entries, name, 'guest-registering'), [
      { event: 'guest-registering', vcpus: 2, url: name === 'vm1' ? URL1 : null, driver: 'linux-6.10', ...(name === 'vm1' ? { host: HOST1 } : {}) },
    ]);
    assert.equal(records(entries, HYPERVISOR, 'guest-registered').find((r) => r['component'] === name)?.['host'], name === 'vm1' ? HOST1 : null, 'the hypervisor keeps the host label');
    assert.deepEqual(records(entries, name, 'guest-registered'), [{ event: 'guest-registered', id }]);
    assert.equal(records(entries, name, 'probe-call').find((c) => c['abi'] === 'FFA_ID_GET')?.['value'], id, 'FFA_ID_GET says the ID registration gave');
    assert.deepEqual(records(entries, name, 'vm-id-mismatch'), []);
    assert.deepEqual(records(entries, name, 'optee-notify-request'), [{ event: 'optee-notify-request', id: 0, result: '0' }], 'bound');
    assert.deepEqual(records(entries, GIC, 'gic-subscribe').filter((r) => r['from'] === name), [], 'the guest never subscribed itself');
    assert.deepEqual(records(entries, GIC, 'gic-vm-assigned').filter((r) => r['vm'] === id).map((r) => r['to']), [name]);
    assert.deepEqual(virtualDeliveries(entries, id as number, 8).map((d) => d['to']).slice(0, 1), [name]);
    assert.equal(records(entries, name, 'optee-bottom-half').length >= 1, true, `${name} got OP-TEE's notification`);
  }
  return ids;
}

for (const runtime of RUNTIMES) {
  describe(`registering guests (${runtime})`, () => {
    it('two guests register, get distinct IDs, probe, bind and get their notifications; the status says where to dial them', async () => {
      const entries = await runGuestWorld(world([...BOTH_NOTIFIED, statusQuery]), runtime);
      const ids = assertRegisteredAndNotified(entries);
      const status = records(entries, ACTOR, 'actor-control').find((r) => r['label'] === 'status')?.['data'] as { vms: Record<string, unknown>[] };
      assert.deepEqual(
        status.vms.map((vm) => [vm['name'], vm['id'], vm['url'], vm['driver']]).sort((a, b) => Number(a[1]) - Number(b[1])),
        [
          ['vm1', ids['vm1'], URL1, 'linux-6.10'],
          ['vm2', ids['vm2'], null, 'linux-6.10'],
        ].sort((a, b) => Number(a[1]) - Number(b[1])),
      );
    });

    it('a register-result from anyone but the firmware component is refused; the real one still counts', async () => {
      const forged: ActorStep = { do: 'control', label: 'forged', to: 'vm1', op: 'register-result', data: { ok: true, reason: null, name: 'vm1', id: 9 }, awaitOp: 'register-result-result' };
      const entries = await runGuestWorld(world([forged, ...BOTH_NOTIFIED]), runtime);
      assert.deepEqual(
        records(entries, 'vm1', 'control-refused').map((r) => [r['from'], r['op']]),
        [[ACTOR, 'register-result']],
      );
      assert.equal((records(entries, ACTOR, 'actor-control').find((r) => r['label'] === 'forged')?.['data'] as Record<string, unknown>)['ok'], false);
      assertRegisteredAndNotified(entries);
    });

    it('registration off at the hypervisor: each guest records why, and never boots', async () => {
      // A refusal is only recorded (guests announce nothing of it), so the actor cannot await it:
      // under ws the wait is long enough for the round trip on a loaded machine (100 ms once was not).
      const entries = await runGuestWorld(world([wait(runtime === 'ws' ? 2_000_000_000 : 100_000_000)], false), runtime);
      const reason = 'registration is off (config.registration false)';
      for (const name of ['vm1', 'vm2']) {
        assert.deepEqual(records(entries, name, 'registration-refused'), [{ event: 'registration-refused', reason }]);
        assert.deepEqual(records(entries, name, 'probe-call'), []);
      }
      assert.deepEqual(records(entries, HYPERVISOR, 'control-refused').map((r) => [r['from'], r['op'], r['reason']]).sort(), [
        ['vm1', 'register', reason],
        ['vm2', 'register', reason],
      ]);
      assert.deepEqual(records(entries, HYPERVISOR, 'vm-created'), []);
    });
  });
}

/** Bound on a link-cut world's virtual time. */
const CUT_RUN_NS = 60_000_000_000;

describe('registering guests: a link drops (sim)', () => {
  it('the dead guest\'s VM is destroyed on the normal path; the other guest still gets notifications', async () => {
    const actor: ActorStep[] = [
      ...BOTH_NOTIFIED,
      mark('vm1 dies'),
      wait(200_000_000),
      opteeSend(1, 0),
      opteeSend(2, 1),
      awaitBottomHalf('vm2'),
      mark('the actor\'s link drops'),
      wait(10_000_000),
      opteeSend(1, 2),
      opteeSend(2, 2),
      awaitBottomHalf('vm2'),
    ];
    const cuts = [
      { mark: 'vm1 dies', component: 'vm1', crash: true, peers: [HYPERVISOR, GIC] },
      // A controller's link: recorded, nothing destroyed, the world carries on.
      { mark: 'the actor\'s link drops', component: ACTOR, crash: false, peers: [HYPERVISOR] },
    ];
    const { ended, entries } = await runWorldWithLinkCuts(guestWorldSpec(world(actor)), ACTOR, cuts, CUT_RUN_NS);
    assert.equal(ended, 'done');
    assert.deepEqual(records(entries, ACTOR, 'actor-timeout'), []);
    const ids = assertRegisteredAndNotified(entries);
    const dead = ids['vm1'] as number;
    const alive = ids['vm2'] as number;

    assert.deepEqual(records(entries, HYPERVISOR, 'guest-link-lost'), [{ event: 'guest-link-lost', component: 'vm1', id: dead }]);
    assert.deepEqual(records(entries, HYPERVISOR, 'vm-destroyed'), [{ event: 'vm-destroyed', name: 'vm1', id: dead }]);
    assert.deepEqual(records(entries, HYPERVISOR, 'link-lost'), [{ event: 'link-lost', peer: ACTOR }]);
    assert.deepEqual(records(entries, GIC, 'gic-vm-unassigned').map((r) => [r['vm'], r['to']]), [[dead, 'vm1']]);
    assert.equal(spmcAnswers(entries, FFA_FIDS.FFA_NOTIFICATION_BITMAP_DESTROY).length, 1, 'BITMAP_DESTROY at the SPMC');
    assert.deepEqual(records(entries, SPMC, 'vm-destroyed').map((r) => r['vm']), [dead], 'VM_DESTROYED to OP-TEE');
    // After the cut: nothing more for the dead VM; the survivor gets every one.
    const sends = records(entries, SPMC, 'optee-notif-send');
    assert.deepEqual(sends.filter((r) => r['vm'] === dead).map((r) => r['outcome']), ['sent', 'no-bitmap', 'no-bitmap']);
    assert.deepEqual(sends.filter((r) => r['vm'] === alive).map((r) => r['outcome']), ['sent', 'sent', 'sent']);
    assert.equal(records(entries, 'vm1', 'optee-bottom-half').length, 1);
    assert.equal(records(entries, 'vm2', 'optee-bottom-half').length, 3);
    assert.deepEqual(records(entries, HYPERVISOR, 'vm-created').map((r) => r['name']).sort(), ['vm1', 'vm2'], 'no re-registration');
  });

  it('registration off: a guest\'s link dropping is only recorded; its configured VM stays', async () => {
    const configured: GuestWorld = {
      hypervisor: 'xen',
      spmcProfile: 'optee',
      guests: [{ name: 'vm1', vmId: 1, variant: 'linux-6.10', vcpus: 2, opteeClient: true }],
      actor: [awaitProbe('vm1'), mark('vm1 dies'), wait(100_000_000)],
    };
    const cuts = [{ mark: 'vm1 dies', component: 'vm1', crash: true, peers: [HYPERVISOR, GIC] }];
    const { ended, entries } = await runWorldWithLinkCuts(guestWorldSpec(configured), ACTOR, cuts, CUT_RUN_NS);
    assert.equal(ended, 'done');
    assert.deepEqual(records(entries, HYPERVISOR, 'link-lost'), [{ event: 'link-lost', peer: 'vm1' }]);
    assert.deepEqual(records(entries, HYPERVISOR, 'guest-link-lost'), []);
    assert.deepEqual(records(entries, HYPERVISOR, 'vm-destroyed'), []);
  });
});

describe('registering guest config', () => {
  const base = { variant: 'linux-6.10', vcpus: 1, firmware: HYPERVISOR, conduit: 'hvc' };

  it('defaults: no registration, no URL; a registering guest prints both at start', () => {
    const plain = validateGuestConfig(base, 'vm1');
    assert.equal(plain.registration, false);
    assert.equal(plain.advertiseUrl, null);
    const registered = validateGuestConfig({ ...base, registration: true, advertiseUrl: URL1, vmId: null }, 'vm1');
    assert.deepEqual([registered.registration, registered.advertiseUrl, registered.vmId, registered.boot], [true, URL1, null, 'on-vcpu-online']);
  });

  it('refuses registration with a vmId, a name, bare metal, or a URL without registration', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...base, registration: true, vmId: 3 }, /vmId: must be absent with registration/],
      [{ ...base, registration: true, name: 'other' }, /name: must be absent with registration/],
      [{ ...base, registration: true, conduit: 'smc', firmware: 'spmd' }, /conduit: must be 'hvc' with registration/],
      [{ ...base, registration: true, boot: 'at-start' }, /boot: must be 'on-vcpu-online' with registration/],
      [{ ...base, advertiseUrl: URL1 }, /advertiseUrl: applies with registration only/],
      [{ ...base, registration: true, advertiseUrl: 'x'.repeat(201) }, /advertiseUrl/],
      [{ ...base, hostLabel: HOST1 }, /hostLabel: applies with registration only/],
      [{ ...base, registration: true, hostLabel: 'h'.repeat(64) }, /hostLabel/],
      [{ ...base, registration: 'yes' }, /registration/],
    ];
    for (const [config, why] of bad) {
      assert.throws(() => validateGuestConfig(config, 'vm1'), (error: unknown) => error instanceof GuestConfigError && why.test(error.message), JSON.stringify(config));
    }
  });
});
