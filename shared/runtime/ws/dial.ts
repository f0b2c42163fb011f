/**
 * Opening a link with retries: a peer that is not listening yet (a process still starting) is
 * tried again with a growing pause until the deadline; a refused hello is final.
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
      const retryable = error instanceof WsRuntimeError && error.code === 'CONNECT_FAILED';
      if (!retryable || performance.now() + pauseMs > giveUpAt) throw error;
      options.log.debug({ url, pauseMs }, 'peer not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS);
    }
  }
}
