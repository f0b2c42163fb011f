/**
 * Validation of a decoded frame before anything uses it (docs/design.md §4: every frame is
 * validated; a malformed one is answered with a protocol error and never crashes the service).
 * Each field is checked for type and range, the key set must be exactly the kind's, and the
 * answer is a value: a typed frame, or the protocol error code and a reason that names the field.
 */
import { bufferWriteProblem } from '../ffa/buffer-content.ts';
import { ROLES } from '../protocol/roles.ts';
import { listOfEvery } from '../protocol/union-list.ts';
import {
  CONDUITS,
  INTERRUPT_GROUPS,
  INTERRUPT_OPS,
  type ProtocolErrorCode,
  REGISTER_COUNT,
} from '../protocol/messages.ts';
import { CREDENTIAL_KINDS, type FrameKind, type WireFrame } from './frames.ts';
import { FRAME_KEYS } from './structures.ts';

export type FrameError = { ok: false; code: ProtocolErrorCode; reason: string; ref: number };
export type FrameResult = { ok: true; frame: WireFrame } | FrameError;

/** Every ProtocolErrorCode (messages.ts declares only the type); the check below keeps them in step. */
export const PROTOCOL_ERROR_CODES = listOfEvery<ProtocolErrorCode>()([
  'MALFORMED_FRAME',
  'UNKNOWN_KIND',
  'INVALID_FIELD',
  'NOT_ALLOWED',
  'UNKNOWN_DESTINATION',
  'QUEUE_FULL',
  'TOO_MANY_IN_FLIGHT',
  'HELLO_REQUIRED',
  'HELLO_REFUSED',
]);

/** Bounds on the fields (strings in UTF-16 code units). */
export const FIELD_LIMITS = {
  /** Endpoint IDs are 16 bits (FF-A partition IDs). */
  endpointMax: 0xffff,
  /** vCPU and CPU indices: FF-A vCPU fields are 16 bits. */
  indexMax: 0xffff,
  /** GICv3 INTIDs are at most 24 bits (LPIs). */
  intidMax: 0xff_ffff,
  nameLength: 128,
  /**
   * Nonces, proofs and issued keys are 32 bytes as unpadded base64url (43 characters,
   * shared/runtime/ws/credentials.ts); the bounds leave room for a longer encoding, no more.
   */
  secretTextMin: 16,
  secretTextMax: 64,
  reasonLength: 1024,
  argsLength: 64,
  /** Control data: nesting depth, total nodes, each string's length, and each key's. */
  dataDepth: 16,
  dataNodes: 4096,
  dataStringLength: 4096,
  dataKeyLength: 256,
} as const;

const U64_MAX = (1n << 64n) - 1n;

/** Says what is wrong with a field's value, or undefined when it is fine. */
type FieldCheck = (value: unknown) => string | undefined;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `a string of ${value.length}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return `${typeof value} ${String(value).slice(0, 24)}`;
  }
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return typeof value;
}

function integerIn(min: number, max: number): FieldCheck {
  return (value) =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `${describe(value)}, want an integer in ${min}..${max}`;
}

const safeId: FieldCheck = integerIn(0, Number.MAX_SAFE_INTEGER);
const callRef: FieldCheck = integerIn(-1, Number.MAX_SAFE_INTEGER);

function oneOf(allowed: readonly string[]): FieldCheck {
  return (value) =>
    typeof value === 'string' && allowed.includes(value) ? undefined : `${describe(value)}, want one of ${allowed.join('|')}`;
}

function text(maxLength: number, minLength = 0): FieldCheck {
  return (value) =>
    typeof value === 'string' && value.length >= minLength && value.length <= maxLength
      ? undefined
      : `${describe(value)}, want a string of ${minLength}..${maxLength}`;
}

/** x0..x17 as bigints in 0..2^64-1 (a register that arrived as a JS number is wrong: it lost bits or type). */
const registerFile: FieldCheck = (value) => {
  if (!Array.isArray(value) || value.length !== REGISTER_COUNT) {
    return `${describe(value)}, want ${REGISTER_COUNT} registers`;
  }
  const bad = value.findIndex((r) => typeof r !== 'bigint' || r < 0n || r > U64_MAX);
  return bad === -1 ? undefined : `x${bad} is ${describe(value[bad])}, want a bigint in 0..2^64-1`;
};

const numberList: FieldCheck = (value) => {
  if (!Array.isArray(value) || value.length > FIELD_LIMITS.argsLength) {
    return `${describe(value)}, want an array of at most ${FIELD_LIMITS.argsLength} numbers`;
  }
  const bad = value.findIndex((n) => typeof n !== 'number' || !Number.isFinite(n));
  return bad === -1 ? undefined : `[${bad}] is ${describe(value[bad])}, want a finite number`;
};

/** Null, or a buffer's content bounded as shared/ffa/buffer-content.ts says (at most a page of descriptors). */
const bufferMemory: FieldCheck = (value) => bufferWriteProblem(value);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Control data is plain data only: null, booleans, finite numbers, bigints, bounded strings,
 * arrays and plain objects, bounded in depth and size. Dates, Maps, Sets, typed arrays and the
 * other msgpackr extensions are refused.
 */
const plainData: FieldCheck = (value) => {
  let nodes = 0;
  const visit = (node: unknown, depth: number, path: string): string | undefined => {
    if (++nodes > FIELD_LIMITS.dataNodes) return `more than ${FIELD_LIMITS.dataNodes} values`;
    if (depth > FIELD_LIMITS.dataDepth) return `${path} nests deeper than ${FIELD_LIMITS.dataDepth}`;
    if (node === null || typeof node === 'boolean' || typeof node === 'bigint') return undefined;
    if (typeof node === 'number') return Number.isFinite(node) ? undefined : `${path} is ${describe(node)}`;
    if (typeof node === 'string') {
      return node.length <= FIELD_LIMITS.dataStringLength ? undefined : `${path} is ${describe(node)}, too long`;
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const problem = visit(node[i], depth + 1, `${path}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    if (!isPlainObject(node)) return `${path} is ${describe(node)}, want plain data`;
    for (const [key, child] of Object.entries(node)) {
      if (key.length > FIELD_LIMITS.dataKeyLength) return `${path} has a key of ${key.length} characters, more than ${FIELD_LIMITS.dataKeyLength}`;
      const problem = visit(child, depth + 1, `${path}.${key.slice(0, 32)}`);
      if (problem) return problem;
    }
    return undefined;
  };
  return visit(value, 0, 'data');
};

const role = oneOf(ROLES);
const identity = text(FIELD_LIMITS.nameLength, 1);
const secretText = text(FIELD_LIMITS.secretTextMax, FIELD_LIMITS.secretTextMin);
/** A welcome's issued key: none (''), or one as the other handshake texts. */
const issuedText: FieldCheck = (value) => (value === '' ? undefined : secretText(value));

type FieldChecks<K extends FrameKind> = Record<Exclude<(typeof FRAME_KEYS)[K][number], 'kind'>, FieldCheck>;

const FIELD_CHECKS: { [K in FrameKind]: FieldChecks<K> } = {
  call: {
    id: safeId,
    conduit: oneOf(CONDUITS),
    endpoint: integerIn(0, FIELD_LIMITS.endpointMax),
    vcpu: integerIn(0, FIELD_LIMITS.indexMax),
    cpu: integerIn(0, FIELD_LIMITS.indexMax),
    regs: registerFile,
    memory: bufferMemory,
  },
  return: { id: safeId, regs: registerFile, memory: bufferMemory },
  irq: {
    op: oneOf(INTERRUPT_OPS),
    intid: integerIn(0, FIELD_LIMITS.intidMax),
    group: oneOf(INTERRUPT_GROUPS),
    // -1 means "none": physical interrupts have no VM or vCPU, virtual ones no CPU (messages.ts).
    cpu: integerIn(-1, FIELD_LIMITS.indexMax),
    vm: integerIn(-1, FIELD_LIMITS.endpointMax),
    vcpu: integerIn(-1, FIELD_LIMITS.indexMax),
  },
  lifecycle: { event: text(FIELD_LIMITS.nameLength, 1), subject: text(FIELD_LIMITS.nameLength), args: numberList },
  // Any op name: the receiver narrows it against CONTROL_OPS (shared/protocol/control.ts) and
  // answers one it does not take itself, as it would a peer of another build.
  control: { op: text(FIELD_LIMITS.nameLength, 1), data: plainData },
  'protocol-error': { code: oneOf(PROTOCOL_ERROR_CODES), reason: text(FIELD_LIMITS.reasonLength), ref: callRef },
  hello: { protocol: safeId, role, identity, nonce: secretText },
  challenge: { protocol: safeId, role, identity, credential: oneOf(CREDENTIAL_KINDS), nonce: secretText, proof: secretText },
  proof: { proof: secretText },
  welcome: { issued: issuedText },
};

function isFrameKind(kind: unknown): kind is FrameKind {
  return typeof kind === 'string' && Object.hasOwn(FIELD_CHECKS, kind);
}

function frameError(code: ProtocolErrorCode, reason: string, ref = -1): FrameError {
  return { ok: false, code, reason, ref };
}

/** The call a bad frame was about, if it names one, so the sender can match the error. */
function refOf(value: Record<string, unknown>): number {
  return safeId(value['id']) === undefined ? (value['id'] as number) : -1;
}

/** Check a decoded value; only a value this accepts may be used as a frame. */
export function validateFrame(value: unknown): FrameResult {
  if (!isPlainObject(value)) return frameError('MALFORMED_FRAME', `frame is ${describe(value)}, want a map`);
  const kind = value['kind'];
  if (!isFrameKind(kind)) return frameError('UNKNOWN_KIND', `kind is ${describe(kind)}`, refOf(value));
  const ref = refOf(value);
  const expected: readonly string[] = FRAME_KEYS[kind];
  const keys = Object.keys(value);
  const extra = keys.find((key) => !expected.includes(key));
  if (extra !== undefined) return frameError('INVALID_FIELD', `${kind} has unexpected key ${extra.slice(0, 32)}`, ref);
  const checks: Record<string, FieldCheck> = FIELD_CHECKS[kind];
  for (const key of expected) {
    if (key === 'kind') continue;
    if (!Object.hasOwn(value, key)) return frameError('INVALID_FIELD', `${kind}.${key} is missing`, ref);
    const problem = checks[key]?.(value[key]);
    if (problem !== undefined) return frameError('INVALID_FIELD', `${kind}.${key}: ${problem}`, ref);
  }
  return { ok: true, frame: value as unknown as WireFrame };
}
