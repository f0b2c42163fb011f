/**
 * The shape every ABI codec shares: named arguments <-> the call's registers, and the named
 * fields of a successful return <-> the return's registers.
 *
 * Encoders check only that each field fits its bits (RangeError otherwise), so a scenario can
 * still encode reserved bits or odd values on purpose; decoders report protocol violations
 * (call-checks.ts) and never throw.
 */
import type { DecodedCall } from './call-checks.ts';
import { ffaSuccess32 } from './errors.ts';
import { FFA_FIDS, type FfaAbiName } from './function-ids.ts';
import type { RegisterFile } from './registers.ts';

/**
 * How the scenario runner turns a YAML value into the argument (docs/scenarios.md "call"):
 * - endpoint: an endpoint name or 16-bit ID; u16/u32: a number; u64: a bigint (bitmaps, addresses)
 * - version: "1.2" or a number; feature-id: a FID, an ABI name, NPI/SRI/MEI/NOTIFICATION
 * - bind-flags/set-flags/get-flags/send2-flags: flag names (notification-flags.ts,
 *   indirect-messaging.ts) or a plain number
 * - uuid: a UUID string; boolean; payload: up to 5 register values (bigint)
 */
export type ArgKind =
  | 'endpoint'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'version'
  | 'feature-id'
  | 'bind-flags'
  | 'set-flags'
  | 'get-flags'
  | 'send2-flags'
  | 'uuid'
  | 'boolean'
  | 'payload';

export type NoArgs = Record<string, never>;
export type NoResult = Record<string, never>;

export type ResultDecoding<Result> = { readonly ok: true; readonly result: Result } | { readonly ok: false; readonly why: string };

export interface SuccessCodec<Result> {
  /**
   * w0 of a successful return: FFA_SUCCESS_32/64, DIRECT_RESP for a DIRECT_REQ, FFA_MSG_WAIT for
   * FFA_RUN. Null for FFA_VERSION, which returns the version itself in w0.
   */
  readonly fid: number | null;
  encode(result: Result): RegisterFile;
  /** Reads the fields; it does not look at w0 (classify the return with decodeResult first). */
  decode(regs: RegisterFile): ResultDecoding<Required<Result>>;
}

export interface AbiCodec<Args, Result> {
  readonly abi: FfaAbiName;
  readonly fid: number;
  /** The `args` a scenario may give, and how each is written. */
  readonly args: Readonly<Record<keyof Args & string, ArgKind>>;
  encodeCall(args: Args): RegisterFile;
  decodeCall(regs: RegisterFile): DecodedCall<Required<Args>>;
  /**
   * Null for ABIs that hand the CPU on rather than return (DIRECT_RESP, MSG_WAIT, INTERRUPT,
   * NORMAL_WORLD_RESUME): what comes back is the next message, not an answer.
   */
  readonly success: SuccessCodec<Result> | null;
}

/** A codec with its argument and result types erased, for lookup by name or FID. */
export type AnyAbiCodec = AbiCodec<Record<string, unknown>, Record<string, unknown>>;

/** The success of most setup and notification ABIs: FFA_SUCCESS_32 carrying nothing. */
export const EMPTY_SUCCESS_32: SuccessCodec<NoResult> = {
  fid: FFA_FIDS.FFA_SUCCESS_32,
  encode: () => ffaSuccess32(),
  decode: () => ({ ok: true, result: {} }),
};
