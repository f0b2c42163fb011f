/**
 * The SPMD's configuration: plain data as a world file gives it (`SpmdConfig`), and the checked
 * form the SPMD runs on (`ValidSpmdConfig`). TF-A takes the same facts from the SPMC manifest
 * (spmd_main.c spmd_spmc_init: `spmc_id`, the SPMC's major/minor version) and from its own build
 * (FFA_VERSION_MAJOR/MINOR); it refuses to start the SPMC on a bad manifest, and so does
 * `validateSpmdConfig`, with an error that names the field.
 */
import { z } from 'zod';
import { componentName, versionString } from '../../shared/config/blocks.ts';
import { integerIn, must, oneOf, strictObject } from '../../shared/config/zod-kit.ts';
import { parseConfig } from '../../shared/config/parse-config.ts';
import { FFA_VERSION_1_2, formatVersion, isEndpointId, isSecureId, SPMC_ID, versionMajor, versionMinor } from '../../shared/ffa/index.ts';

/** When the SPMC counts as up (TF-A spmd_private.h SPMC_STATE_ON). */
export type SpmcReadiness =
  /** Up from the start: the world begins after TF-A's boot-time synchronous entry into the SPMC. */
  | 'at-start'
  /** Up once a secure-side component calls FFA_MSG_WAIT (TF-A spmd_smc_handler FFA_MSG_WAIT at SPMC_STATE_ON_PENDING). */
  | 'on-first-msg-wait';

export const SPMC_READINESS = ['at-start', 'on-first-msg-wait'] as const satisfies readonly SpmcReadiness[];

export interface ValidSpmdConfig {
  readonly spmc: string;
  readonly secureSide: ReadonlySet<string>;
  readonly spmcId: number;
  /** Encoded versions ((major << 16) | minor). */
  readonly spmcVersion: number;
  readonly spmdVersion: number;
  readonly normalWorld: string | null;
  readonly spmcReadiness: SpmcReadiness;
  readonly maxPendingForwards: number;
}

export const SPMD_CONFIG_DEFAULTS = {
  spmc: 'spmc',
  spmcId: SPMC_ID,
  spmcVersion: '1.2',
  spmdVersion: '1.3',
  normalWorld: null,
  spmcReadiness: 'at-start',
  maxPendingForwards: 256,
} as const;

/** The normal world's version until it calls FFA_VERSION: 1.2, what Linux and Xen ask (docs/ffa-reference.md §1.4). */
export const DEFAULT_NORMAL_WORLD_VERSION = FFA_VERSION_1_2;

export const MAX_PENDING_FORWARDS_LIMIT = 65_536;

/** TF-A spmd_spmc_init refuses a manifest whose spmc_id is not a secure ID ("Invalid ID … for SPMC"). */
const spmcIdSchema = z
  .number(must('a 16-bit ID with bit 15 set (TF-A spmd_spmc_init "Invalid ID for SPMC")'))
  .refine((id) => isEndpointId(id) && isSecureId(id), must('a 16-bit ID with bit 15 set (TF-A spmd_spmc_init "Invalid ID for SPMC")'));

/** What a world file gives. Every field is optional; defaults are in `SPMD_CONFIG_DEFAULTS`. */
const spmdConfigSchema = strictObject({
  /** The component normal-world calls are forwarded to. */
  spmc: componentName().default(SPMD_CONFIG_DEFAULTS.spmc),
  /** Components whose calls are secure-world origin (the link decides, never the frame). Must include `spmc`; default: `spmc` alone. */
  secureSide: z.array(componentName(), must('an array of component names')).optional(),
  /** The SPMC manifest's `spmc_id`: 16 bits with bit 15 set. */
  spmcId: spmcIdSchema.default(SPMD_CONFIG_DEFAULTS.spmcId),
  /** The SPMC manifest's FF-A version, "MAJOR.MINOR". */
  spmcVersion: versionString().prefault(SPMD_CONFIG_DEFAULTS.spmcVersion),
  /** The SPMD's own version (TF-A compiles 1.3, docs/ffa-reference.md §1.4). */
  spmdVersion: versionString().prefault(SPMD_CONFIG_DEFAULTS.spmdVersion),
  /**
   * Where a secure-origin call that TF-A forwards to the normal world goes (the hypervisor, or the
   * bare-metal host). Null: there is no such component, and those calls are answered NOT_SUPPORTED.
   */
  normalWorld: componentName().nullable().default(null),
  spmcReadiness: oneOf(SPMC_READINESS).default(SPMD_CONFIG_DEFAULTS.spmcReadiness),
  /** Bound on forwarded calls awaiting their answer; more are answered BUSY. */
  maxPendingForwards: integerIn(1, MAX_PENDING_FORWARDS_LIMIT).default(SPMD_CONFIG_DEFAULTS.maxPendingForwards),
}).superRefine((config, ctx) => {
  const secureSide = config.secureSide ?? [config.spmc];
  if (!secureSide.includes(config.spmc)) {
    ctx.addIssue({ code: 'custom', path: ['secureSide'], message: `must include the SPMC "${config.spmc}": its calls are secure-world origin` });
  }
  // TF-A spmd_spmc_init: the manifest's major must equal the SPMD's and its minor must not be newer.
  const { spmcVersion, spmdVersion } = config;
  if (versionMajor(spmcVersion) !== versionMajor(spmdVersion) || versionMinor(spmcVersion) > versionMinor(spmdVersion)) {
    ctx.addIssue({
      code: 'custom',
      path: ['spmcVersion'],
      message: `${formatVersion(spmcVersion)} is not supported by an SPMD at ${formatVersion(spmdVersion)} (TF-A spmd_spmc_init "Unsupported FFA version")`,
    });
  }
  if (config.normalWorld !== null && secureSide.includes(config.normalWorld)) {
    ctx.addIssue({ code: 'custom', path: ['normalWorld'], message: `"${config.normalWorld}" is listed in secureSide` });
  }
});

/** What a world file gives. Every field is optional; defaults are in `SPMD_CONFIG_DEFAULTS`. */
export type SpmdConfig = z.input<typeof spmdConfigSchema>;

/** A config the SPMD cannot run with. Thrown at create: a bad world file is a bug in the world. */
export class SpmdConfigError extends Error {
  readonly code = 'SPMD_CONFIG_INVALID';
  override readonly name = 'SpmdConfigError';
}

/** Checks a config and fills in the defaults; throws SpmdConfigError naming the first bad field. */
export function validateSpmdConfig(input: unknown): ValidSpmdConfig {
  const config = parseConfig(spmdConfigSchema, input ?? {}, {
    component: 'spmd',
    separator: ' ',
    root: '',
    errorFactory: ({ message }) => new SpmdConfigError(message),
  });
  return { ...config, secureSide: new Set(config.secureSide ?? [config.spmc]) };
}
