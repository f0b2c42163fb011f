/**
 * Opening a link with retries: a peer that is not listening yet (a process still starting), or
 * one busy with other links' hellos (close 1013), is tried again with a growing, jittered pause
 * until the deadline; a refused hello, a missing key and a server that cannot prove itself are final.
 */
import { WsRuntimeError } from './errors.ts';
import { type GreetOptions, greetServer } from './handshake.ts';

const FIRST_PAUSE_MS = 50;
const LONGEST_PAUSE_MS = 1_000;

export async function dial(url: string, options: GreetOptions, deadlineMs: number): Promise<void> {
  const giveUpAt = performance.now() + deadlineMs;
  let pauseMs = FIRST_PAUSE_MS;
  for (;;) {
    try {
      await greetServer(url, options);
      return;
    } catch (error) {
      const retryable = error instanceof WsRuntimeError && (error.code === 'CONNECT_FAILED' || error.code === 'PEER_BUSY');
      if (!retryable || performance.now() + pauseMs > giveUpAt) throw error;
      // A busy peer said why (its bound on pending handshakes): that refusal is worth a line.
      if (error.code === 'PEER_BUSY') options.log.info({ url, pauseMs, reason: error.message }, 'peer busy with other handshakes; retrying');
      else options.log.debug({ url, pauseMs }, 'peer not reachable yet; retrying');
      // Jitter: many dialers refused at once must not all come back at once.
      await new Promise((resolve) => setTimeout(resolve, pauseMs * (0.5 + Math.random())));
      pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS);
    }
  }
}
