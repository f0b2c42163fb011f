/**
 * Which key a link is proven with (docs/threat-model.md), from the credentials one component
 * holds (credentials.ts). A server picks the key a hello's claim must be proven with, or refuses
 * the claim; a client finds the key the server asked for. Both are pure lookups but for one
 * piece of state: a guest not named in advance keeps the key its enrollment issued.
 */
import type { Role } from '../../protocol/roles.ts';
import type { CredentialKind } from '../../wire/frames.ts';
import { type Credentials, isKeyText, issuedGuestKey, type KeyText } from './credentials.ts';

/** The key a claimed identity must prove; `issue`: the key an enrollment hands the guest once proven. */
export type KeyChoice = { ok: true; credential: CredentialKind; key: KeyText; issue: KeyText | null } | { ok: false; why: string };

export type ClientKey = { ok: true; key: KeyText } | { ok: false; why: string };

export class Keyring {
  private issued: KeyText | null = null;

  constructor(private readonly credentials: Credentials) {}

  /** The key this guest's enrollment issued it, once it has one. */
  get issuedKey(): KeyText | null {
    return this.issued;
  }

  /** Whether this component enrolls, and so takes the key a welcome issues. */
  get adoptsIssued(): boolean {
    return this.credentials.enrolling !== undefined;
  }

  adoptIssued(key: KeyText): void {
    if (!this.credentials.enrolling) throw new Error('bug: a key was issued to a component that does not enroll');
    if (!isKeyText(key)) throw new Error('bug: an issued key is not a key');
    this.issued = key;
  }

  /**
   * Server side: the key a peer claiming `identity` under `role` must prove to `self`, or why no
   * key admits that claim. A listed peer proves its link key; a name not listed is open to role
   * guest only, never a platform name: enrollment while the name is not bound here (at the
   * binding server), else the guest's own issued key.
   */
  keyForHello(self: string, identity: string, role: Role, isBound: (name: string) => boolean): KeyChoice {
    if (identity === self) return { ok: false, why: `${identity} is this component's own name` };
    const listed = this.credentials.accept[identity];
    if (listed) {
      if (listed.role !== undefined && listed.role !== role) return { ok: false, why: `${identity} links as ${listed.role}, not ${role}` };
      return { ok: true, credential: 'link', key: listed.key, issue: null };
    }
    const trusted = this.credentials.enrolling?.accept[identity];
    if (trusted !== undefined) {
      if (trusted !== role) return { ok: false, why: `${identity} links as ${trusted}, not ${role}` };
      if (this.issued === null) return { ok: false, why: `this guest has not enrolled yet: it holds no key for ${identity}` };
      return { ok: true, credential: 'link', key: this.issued, issue: null };
    }
    const guests = this.credentials.guests;
    if (!guests) return { ok: false, why: `${identity} is not a peer of ${self}` };
    if (role !== 'guest') return { ok: false, why: `${identity} is not a peer of ${self}, and only role guest links under a name not listed (${role} was claimed)` };
    if (guests.reserved.includes(identity)) return { ok: false, why: `${identity} is a platform component's name: no guest may take it` };
    const own = issuedGuestKey(guests.issuer, identity);
    if (guests.enrollment !== undefined && !isBound(identity)) return { ok: true, credential: 'enroll', key: guests.enrollment, issue: own };
    return { ok: true, credential: 'link', key: own, issue: null };
  }

  /** Client side: the key to prove to `server` with the credential it asked for, or why this component has none. */
  keyForServer(server: string, credential: CredentialKind): ClientKey {
    const { dial, enrolling, guests } = this.credentials;
    if (credential === 'enroll') {
      return enrolling ? { ok: true, key: enrolling.enrollment } : { ok: false, why: `${server} asks for the guest enrollment credential, which this component does not hold` };
    }
    const key = dial[server] ?? (enrolling ? this.issued : null) ?? (guests && !guests.reserved.includes(server) ? issuedGuestKey(guests.issuer, server) : null);
    if (key !== null) return { ok: true, key };
    if (enrolling) return { ok: false, why: `${server} asks for this guest's own key, which only an enrollment issues: its name is bound already (by another peer, or by this one before a restart)` };
    return { ok: false, why: `no key for a link to ${server}` };
  }
}
