/**
 * GICv3 INTID ranges (Arm IHI 0069, §2.2 "INTIDs"): SGIs 0-15 and PPIs 16-31 are private to
 * each PE (banked in its redistributor), SPIs 32-1019 are shared and routed by the distributor,
 * 1020-1023 are special (spurious). LPIs are not modelled.
 */

export const SGI_FIRST = 0;
export const SGI_LAST = 15;
export const PPI_FIRST = 16;
export const PPI_LAST = 31;
export const SPI_FIRST = 32;
/** The last SPI INTID GICv3 allows (1020-1023 are special INTIDs). */
export const SPI_LAST_ARCHITECTURAL = 1019;
/** SGIs and PPIs: the INTIDs banked per physical CPU. */
export const BANKED_COUNT = PPI_LAST + 1;

/** Which kind of INTID this is, given how many SPIs the world has. */
export type IntidClass = 'sgi' | 'ppi' | 'spi';

export function classifyIntid(intid: number, spis: number): IntidClass | undefined {
  if (!Number.isInteger(intid) || intid < SGI_FIRST) return undefined;
  if (intid <= SGI_LAST) return 'sgi';
  if (intid <= PPI_LAST) return 'ppi';
  if (intid < SPI_FIRST + spis) return 'spi';
  return undefined;
}

export function isBanked(intid: number): boolean {
  return intid >= SGI_FIRST && intid <= PPI_LAST;
}
