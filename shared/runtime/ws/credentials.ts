/**
 * Link credentials (docs/threat-model.md). No secret ever crosses the wire: the two ends of a
 * link share a key, and each proves it holds it with an HMAC over a transcript that carries a
 * fresh nonce from each side (handshake.ts), the server first. Every key is derived, with HKDF
 * (RFC 5869), from one world secret that only the launcher holds (the supervisor, or the
 * compose credentials maker), and each component is handed only the keys of its own links:
 *
 * - a link key per pair of named components that link (`linkKey`);
 * - for guests not named in advance (compose replicas): the enrollment credential, held by those
 *   guests and by the one server that binds their names (the hypervisor), good only for role
 *   guest under a name not bound yet; and the guest issuer key, held by the platform components
 *   guests link to and by the orchestrator, from which each guest's own key follows from its
 *   name (`issuedGuestKey`). The binding server issues that key to the guest in its welcome,
 *   sealed, and the guest proves it on every later link.
 *
 * Keys travel between processes as text: 32 bytes as unpadded base64url (43 characters).
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ROLES, type Role } from '../../protocol/roles.ts';
import type { CredentialKind } from '../../wire/frames.ts';

export const KEY_BYTES = 32;
const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;

/** A key, a nonce or a proof as text (unpadded base64url of 32 bytes). */
export type KeyText = string;

/** A fresh random key or nonce. */
export function newSecret(): KeyText {
  return randomBytes(KEY_BYTES).toString('base64url');
}

export function isKeyText(text: unknown): text is KeyText {
  return typeof text === 'string' && KEY_TEXT.test(text);
}

function keyBytes(key: KeyText): Buffer {
  if (!isKeyText(key)) throw new Error('bug: a key is not 32 bytes of unpadded base64url');
  return Buffer.from(key, 'base64url');
}

/** HKDF-SHA256 of `secret`, one key per purpose named by `info`; names are JSON-quoted so no two infos collide. */
function derive(secret: KeyText, info: string): KeyText {
  return Buffer.from(hkdfSync('sha256', keyBytes(secret), Buffer.alloc(0), `ffa-world ${info}`, KEY_BYTES)).toString('base64url');
}

/** The key two named components share for the link between them (either may open it). */
export function linkKey(worldSecret: KeyText, a: string, b: string): KeyText {
  return derive(worldSecret, `link ${JSON.stringify([a, b].sort())}`);
}

/** What guests not named in advance present, once, to bind a name. */
export function enrollmentKey(worldSecret: KeyText): KeyText {
  return derive(worldSecret, 'guest enrollment');
}

/** What the platform's guest-facing components and the orchestrator derive each guest's own key from. */
export function guestIssuerKey(worldSecret: KeyText): KeyText {
  return derive(worldSecret, 'guest issuer');
}

/** A guest's own key, issued to it when it binds its name (the hypervisor's welcome). */
export function issuedGuestKey(issuer: KeyText, name: string): KeyText {
  return derive(issuer, `guest ${JSON.stringify(name)}`);
}

// ---------------------------------------------------------------- what a component holds

/** A peer that may open a link to this component: the key it shares with it, and its role when fixed. */
export interface AcceptedKey {
  key: KeyText;
  role?: Role;
}

/** Everything one component holds to open and accept links; nothing of any other link. */
export interface Credentials {
  /** Peers that open links to this component, each with the key it shares with it. */
  accept: Record<string, AcceptedKey>;
  /** The key shared with each peer this component opens a link to. */
  dial: Record<string, KeyText>;
  /**
   * A component that guests not named in advance link to (the hypervisor, the GIC) or that
   * dials them (the orchestrator): the issuer key, and the names no guest may take. The one
   * that binds guest names (the hypervisor) also holds the enrollment credential.
   */
  guests?: { issuer: KeyText; enrollment?: KeyText; reserved: string[] };
  /**
   * A guest not named in advance: its enrollment credential, and the peers that may open links
   * to it once it holds its issued key (they hold the issuer key), with their roles.
   */
  enrolling?: { enrollment: KeyText; accept: Record<string, Role> };
}

const keyText = z.string().regex(KEY_TEXT, 'must be a key: 43 characters of base64url (32 bytes)');
const name = z.string().min(1).max(128);
const role = z.enum(ROLES as [Role, ...Role[]]);
/** Bound on the entries of one component's credentials (its links are few; a guest set is not listed). */
const ENTRIES_MAX = 256;

const credentialsSchema = z
  .object({
    accept: z.record(name, z.object({ key: keyText, role: role.optional() }).strict()).refine((r) => Object.keys(r).length <= ENTRIES_MAX, `at most ${ENTRIES_MAX} peers`),
    dial: z.record(name, keyText).refine((r) => Object.keys(r).length <= ENTRIES_MAX, `at most ${ENTRIES_MAX} peers`),
    guests: z.object({ issuer: keyText, enrollment: keyText.optional(), reserved: z.array(name).max(ENTRIES_MAX) }).strict().optional(),
    enrolling: z.object({ enrollment: keyText, accept: z.record(name, role) }).strict().optional(),
  })
  .strict();

/** Credentials read from a file or the environment, or every problem with them (one line each). */
export function parseCredentials(value: unknown): { ok: true; credentials: Credentials } | { ok: false; problems: string[] } {
  const parsed = credentialsSchema.safeParse(value);
  if (parsed.success) return { ok: true, credentials: parsed.data as Credentials };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`) };
}

// ---------------------------------------------------------------- proofs

/** Both hellos of one handshake: what each proof is computed over. */
export interface Transcript {
  protocol: number;
  credential: CredentialKind;
  client: { role: Role; identity: string; nonce: string };
  server: { role: Role; identity: string; nonce: string };
}

function transcriptText(t: Transcript): string {
  return JSON.stringify([t.protocol, t.credential, t.client.role, t.client.identity, t.client.nonce, t.server.role, t.server.identity, t.server.nonce]);
}

/** One side's proof that it holds `key`; the side is in the text, so a proof is never reflected back. */
export function proofOf(key: KeyText, side: 'server' | 'client', t: Transcript): string {
  return createHmac('sha256', keyBytes(key)).update(`ffa-world proof ${side} ${transcriptText(t)}`).digest('base64url');
}

/** Constant-time comparison, whatever the lengths (both sides are hashed first). */
export function proofsMatch(presented: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected)) && expected.length > 0;
}

/**
 * An issued key as the welcome carries it: XORed with a pad that only the holders of the
 * handshake's key can compute, fresh for each handshake (both nonces are in it).
 */
export function sealIssued(key: KeyText, t: Transcript, issued: KeyText): string {
  const pad = createHmac('sha256', keyBytes(key)).update(`ffa-world issue ${transcriptText(t)}`).digest();
  const sealed = keyBytes(issued).map((byte, index) => byte ^ (pad[index] ?? 0));
  return Buffer.from(sealed).toString('base64url');
}

/** The issued key back from the welcome (the pad is its own inverse), or null when it is not one. */
export function unsealIssued(key: KeyText, t: Transcript, sealed: string): KeyText | null {
  return isKeyText(sealed) ? sealIssued(key, t, sealed) : null;
}
