/**
 * Slices on one track must nest (Perfetto and chrome://tracing draw a track as a stack): where a
 * component serves overlapping calls on one vCPU or CPU (possible under the ws runtime, or with
 * delayed messages), the later slice moves to an extra thread of the same track.
 */
import type { Slice } from './trace-model.ts';

/** A thread of a track: the track's own (lane 0) or one of its overlap threads. */
export interface LaneThread {
  pid: number;
  base: number;
  lane: number;
}

/** Overlap threads of a track get tids base + lane × LANE_STRIDE. */
export const LANE_STRIDE = 1000;

/**
 * Puts each slice on its track's own thread when it nests there, else on the first overlap thread
 * where it nests (a new one if none). A slice nests on a thread when every slice still open there
 * at its start also contains its end. Returns the threads used, keyed "pid/tid".
 */
export function assignLanes(slices: Slice[]): Map<string, LaneThread> {
  const used = new Map<string, LaneThread>();
  const byTrack = new Map<string, Slice[]>();
  for (const slice of slices) {
    const key = `${slice.pid}/${slice.base}`;
    const list = byTrack.get(key);
    if (list) list.push(slice);
    else byTrack.set(key, [slice]);
  }
  for (const list of byTrack.values()) {
    list.sort((a, b) => a.startNs - b.startNs || b.endNs - a.endNs || a.order - b.order);
    /** Per lane: the ends of the slices open there, innermost last. */
    const lanes: number[][] = [];
    for (const slice of list) {
      let lane = 0;
      for (; lane < lanes.length; lane++) {
        const open = lanes[lane] as number[];
        while (open.length > 0 && (open[open.length - 1] as number) <= slice.startNs) open.pop();
        if (open.length === 0 || slice.endNs <= (open[open.length - 1] as number)) break;
      }
      if (lane === lanes.length) lanes.push([]);
      (lanes[lane] as number[]).push(slice.endNs);
      slice.tid = slice.base + lane * LANE_STRIDE;
      used.set(`${slice.pid}/${slice.tid}`, { pid: slice.pid, base: slice.base, lane });
    }
  }
  return used;
}

