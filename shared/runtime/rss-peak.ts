/**
 * The process's peak resident set size, sampled now and then (process.memoryUsage.rss() reads
 * /proc/self/statm: a syscall, cheap, but not free at a million events a second).
 */
export class RssPeak {
  peakBytes = 0;

  sample(): void {
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage.rss());
  }
}
