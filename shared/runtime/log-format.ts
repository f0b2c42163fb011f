/**
 * How components' logs are written on stderr: JSON lines (pino's own, for machines and log
 * shippers) or pino-pretty's coloured lines for a person at a terminal or reading
 * `docker compose logs`. FFA_LOG_FORMAT=pretty or json chooses; unset, logs are pretty only when
 * stderr is a terminal, and never under the test runner or CI, whose logs are read by tools.
 *
 * pino-pretty runs as a synchronous stream in the logging thread, never as a pino transport
 * (libraries.md: no transport threads in service workers), and is loaded only when used.
 */
import { createRequire } from 'node:module';
import pino, { type DestinationStream } from 'pino';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** FFA_LOG_FORMAT, else pretty on a terminal outside tests and CI. Throws for a value it does not know. */
export function logFormatOf(env: NodeJS.ProcessEnv = process.env, stderrIsTerminal = Boolean(process.stderr.isTTY)): LogFormat {
  const asked = env['FFA_LOG_FORMAT'];
  if (asked !== undefined && asked !== '') {
    const format = LOG_FORMATS.find((f) => f === asked);
    if (!format) throw new Error(`FFA_LOG_FORMAT="${asked}" must be one of ${LOG_FORMATS.join(', ')}`);
    return format;
  }
  // The test runner sets NODE_TEST_CONTEXT in the processes it runs.
  const underTest = env['NODE_TEST_CONTEXT'] !== undefined || Boolean(env['CI']);
  return stderrIsTerminal && !underTest ? 'pretty' : 'json';
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/** Where a logger writes, synchronously, on stderr (fd 2). */
export function logDestination(format: LogFormat, colorize = Boolean(process.stderr.isTTY)): DestinationStream {
  if (format === 'json') return pino.destination({ dest: 2, sync: true });
  const pretty = createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
  return pretty({ destination: 2, sync: true, colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}
