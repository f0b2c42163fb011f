/**
 * Opening a link with retries: a peer that is not listening yet (a process still starting), one
 * busy with other links' hellos (close 1013), or one whose answer did not come in time, is tried
 * again with a growing, jittered pause until the deadline; a refused hello, a missing key and a
 * server that cannot prove itself are final.
 *
 * No answer in time is most often no connection yet, or a peer still starting: on a Docker Swarm
 * overlay network the nodes learn where each new task's address lives by gossip, so for a few
 * seconds a new task's packets across nodes can go unanswered rather than refused; and on a
 * loaded machine a world of many workers can take longer than the hello's timer to answer.
 */
import type { DialGate } from './dial-gate.ts';
import { WsRuntimeError } from './errors.ts';
import { type GreetOptions, greetServer } from './handshake.ts';

const FIRST_PAUSE_MS = 50;
const LONGEST_PAUSE_MS = 1_000;

/** `gate`: the handshakes of this worker's nodes to one peer, paced (dial-gate.ts). */
export async function dial(url: string, options: GreetOptions, deadlineMs: number, gate?: DialGate): Promise<void> {
  const giveUpAt = performance.now() + deadlineMs;
  let pauseMs = FIRST_PAUSE_MS;
  for (;;) {
    try {
      await (gate ? gate.through(url, () => greetServer(url, options)) : greetServer(url, options));
      return;
    } catch (error) {
      const retryable = error instanceof WsRuntimeError && (error.code === 'CONNECT_FAILED' || error.code === 'PEER_BUSY' || error.code === 'HELLO_TIMEOUT');
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
