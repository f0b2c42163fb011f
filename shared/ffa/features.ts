/**
 * FFA_FEATURES feature IDs (docs/ffa-reference.md §1.2): w1 with bit 31 clear names a feature, w1 with bit 31
 * set is a function ID. The scenario's FEATURES `id:` may be a FID, an ABI name or a feature name.
 */
import { fidOf } from './function-ids.ts';

/** Hafnium ffa.h enum ffa_feature_id; Linux/Xen/OP-TEE use 1..3 under other names. */
export const FEATURE_IDS = {
  NPI: 1, // notification pending interrupt: its INTID is returned in w2
  SRI: 2, // schedule receiver interrupt: its INTID is returned in w2
  MEI: 3, // managed exit interrupt
  NOTIFICATION: 4, // v1.3: w2 says which partitions lack per-vCPU notifications
} as const;

export type FeatureName = keyof typeof FEATURE_IDS;

/** w2 of FFA_FEATURES(NOTIFICATION) (Hafnium ffa.h, v1.3): a set bit means "not supported". */
export const NOTIFICATION_FEATURE_PROPERTIES = {
  noPerVcpuForVms: 1 << 0,
  noPerVcpuForSps: 1 << 1,
} as const;

/** w2 bits [1:0] of FFA_FEATURES(FFA_RXTX_MAP): minimum buffer size (Linux FFA_FEAT_RXTX_MIN_SZ_*). */
export const RXTX_MAP_MIN_BUFFER_SIZE = { '4K': 0, '64K': 1, '16K': 2 } as const;

/** A feature ID rather than a function ID: bit 31 clear. */
export function isFeatureId(id: number): boolean {
  return ((id >>> 0) & 0x8000_0000) === 0;
}

/** A feature name (NPI, SRI, MEI, NOTIFICATION) or an ABI name to the FFA_FEATURES w1; null if neither. */
export function featuresIdFromName(name: string): number | null {
  return Object.hasOwn(FEATURE_IDS, name) ? FEATURE_IDS[name as FeatureName] : fidOf(name);
}

/** The feature name of a feature ID, or null. */
export function featureNameOf(id: number): FeatureName | null {
  const entry = Object.entries(FEATURE_IDS).find(([, value]) => value === id);
  return entry ? (entry[0] as FeatureName) : null;
}
