/**
 * Starts ONE component of a world as its own OS process (the unit `docker compose` runs), on the
 * ws runtime's node (shared/runtime/ws/node.ts). Everything comes from the environment:
 *
 *   FFA_NAME      the component's name in the world            FFA_ROLE   one of ROLES
 *   FFA_MODULE    factory module, from the project root          FFA_CONFIG the component's config (JSON)
 *   FFA_SEED      the run's seed (0..2^32-1)                     FFA_LISTEN host:port to listen on (port 0: any)
 *   FFA_CREDENTIALS  path of its credentials file (JSON, shared/runtime/ws/credentials.ts): the key
 *                 of each link it opens ("dial") and of each peer that opens one to it ("accept");
 *                 the keys of its own links only, never in the environment (docs/threat-model.md)
 *   FFA_PEERS     JSON [{name, url}]: the links it opens
 *   FFA_HISTORY   path of its own JSON-lines history file, written in batches as it runs, its end
 *                 marked in FILE.meta.json beside it (shared/runtime/history-files.ts)
 *   FFA_START_NS  optional: the run's start (process.hrtime.bigint() as decimal) so times compare across processes
 *   FFA_WORLD     optional: JSON [names] of every component (fixes its random streams as under sim);
 *                 default: itself, its peers and the peers its credentials accept
 *   FFA_LOG_LEVEL optional (default info; logs go to stderr)    FFA_LINK_DEADLINE_MS optional (default 30000)
 *
 * It prints one JSON line to stdout when listening ({"event":"listening","name","url"}) and one
 * when started, starts the component once its links are up (those it opens and those it accepts),
 * and stops cleanly on SIGTERM or SIGINT (exit 0). Bad environment: a message and exit code 2.
 */
import pino, { type LevelWithSilent, type Logger } from 'pino';
import { ROLES, type Role } from '../shared/protocol/roles.ts';
import type { HistoryEvent } from '../shared/runtime/history.ts';
import { StreamedHistoryFile } from '../shared/runtime/history-files.ts';
import { monotonicClock, parseStartNs, runStartNs } from '../shared/runtime/ws/clock.ts';
import type { Credentials } from '../shared/runtime/ws/credentials.ts';
import { type PeerAddress, WsNode } from '../shared/runtime/ws/node.ts';
import { EnvironmentReader, quoted } from './environment.ts';
import { logDestination, type LogFormat } from '../shared/runtime/log-format.ts';

interface Settings {
  name: string;
  role: Role;
  module: string;
  config: unknown;
  seed: number;
  listen: { host: string; port: number };
  credentials: Credentials;
  peers: PeerAddress[];
  historyPath: string;
  startNs: bigint;
  worldNames: string[];
  logLevel: LevelWithSilent;
  logFormat: LogFormat;
  linkDeadlineMs: number;
}

const EXIT_BAD_ENVIRONMENT = 2;
const EXIT_FAILED = 1;
const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseListen(reader: EnvironmentReader): { host: string; port: number } {
  const raw = reader.text('FFA_LISTEN');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  reader.check(match !== null && port <= 65535, `FFA_LISTEN=${quoted(raw)} must be host:port (port 0..65535)`);
  return { host: (match?.[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

/** A ws:// or wss:// URL the WHATWG parser accepts (which also bounds its port to 0..65535). */
function isLinkUrl(url: unknown): boolean {
  if (typeof url !== 'string' || !URL.canParse(url)) return false;
  return ['ws:', 'wss:'].includes(new URL(url).protocol);
}

function parsePeers(reader: EnvironmentReader): PeerAddress[] {
  const peers = reader.json('FFA_PEERS', []);
  const valid =
    Array.isArray(peers) &&
    peers.every(
      (p: unknown) =>
        typeof p === 'object' &&
        p !== null &&
        typeof (p as PeerAddress).name === 'string' &&
        (p as PeerAddress).name.length > 0 &&
        isLinkUrl((p as PeerAddress).url),
    );
  reader.check(valid, 'FFA_PEERS must be a JSON array of {"name": string, "url": "ws://host:port" (port 0..65535)}');
  return valid ? (peers as PeerAddress[]) : [];
}

function parseWorldNames(reader: EnvironmentReader, own: string[]): string[] {
  const names = reader.json('FFA_WORLD', [...new Set(own)]);
  const valid = Array.isArray(names) && names.every((n) => typeof n === 'string' && n.length > 0) && names.includes(own[0]);
  reader.check(valid, 'FFA_WORLD must be a JSON array of component names that includes FFA_NAME');
  return valid ? (names as string[]) : own;
}

function readSettings(env: NodeJS.ProcessEnv): { settings: Settings } | { problems: string[] } {
  const reader = new EnvironmentReader(env);
  const name = reader.text('FFA_NAME');
  const role = reader.text('FFA_ROLE') as Role;
  reader.check(ROLES.includes(role), `FFA_ROLE=${quoted(role)} must be one of ${ROLES.join(', ')}`);
  const module = reader.text('FFA_MODULE');
  const config = reader.json('FFA_CONFIG');
  const seed = reader.integer('FFA_SEED', 0, 0xffff_ffff);
  const listen = parseListen(reader);
  const credentials = reader.credentials('FFA_CREDENTIALS', undefined, 'the path of a file of the keys of the links this component opens and accepts');
  const peers = parsePeers(reader);
  for (const peer of peers) reader.check(Object.hasOwn(credentials.dial, peer.name), `FFA_PEERS names ${peer.name}, for which FFA_CREDENTIALS holds no key ("dial")`);
  const historyPath = reader.text('FFA_HISTORY');
  let startNs = 0n;
  try {
    startNs = parseStartNs(env['FFA_START_NS'] ?? runStartNs());
  } catch (error) {
    reader.check(false, `FFA_START_NS: ${(error as Error).message}`);
  }
  const worldNames = parseWorldNames(reader, [name, ...peers.map((p) => p.name), ...Object.keys(credentials.accept)]);
  const logLevel = (env['FFA_LOG_LEVEL'] ?? 'info') as LevelWithSilent;
  reader.check(LOG_LEVELS.includes(logLevel), `FFA_LOG_LEVEL=${quoted(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  const linkDeadlineMs = reader.integer('FFA_LINK_DEADLINE_MS', 1, 3_600_000, 30_000);
  const logFormat = reader.logFormat();
  if (reader.problems.length > 0) return { problems: reader.problems };
  return {
    settings: { name, role, module, config, seed, listen, credentials, peers, historyPath, startNs, worldNames, logLevel, logFormat, linkDeadlineMs },
  };
}

function announce(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function run(settings: Settings, log: Logger): Promise<void> {
  const sink = new StreamedHistoryFile(settings.historyPath, settings.name, settings.startNs);
  // However the process exits, what it wrote is complete; killed outright, it says so (no end).
  process.once('exit', () => sink.close());
  let seq = 0;
  const clock = monotonicClock(settings.startNs);
  const append = (t: number, event: HistoryEvent): void => sink.append({ seq: seq++, t, event });
  // A bug in the component crashes the process loudly, with the crash in its history.
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'component crashed');
    try {
      append(clock.nowNs(), { type: 'component', component: settings.name, event: 'crash', detail: error.stack ?? error.message });
      sink.close();
    } catch {
      // the history was already closed (the crash came during shutdown); the log has it
    }
    process.exit(EXIT_FAILED);
  });
  const node = await WsNode.create({
    component: { name: settings.name, role: settings.role, module: settings.module, config: settings.config },
    seed: settings.seed,
    worldNames: settings.worldNames,
    credentials: settings.credentials,
    clock,
    history: append,
    log,
    listen: settings.listen,
  });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await node.stop(`${signal} received`);
    sink.close();
    log.info({ signal }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  announce({ event: 'listening', name: settings.name, url: node.url });
  try {
    await Promise.all([node.connect(settings.peers, settings.linkDeadlineMs), node.waitForInbound(Object.keys(settings.credentials.accept), settings.linkDeadlineMs)]);
  } catch (error) {
    log.error({ err: error }, 'links did not come up');
    await node.stop('links did not come up');
    sink.close();
    process.exit(EXIT_FAILED);
  }
  if (stopping) return;
  node.start();
  announce({ event: 'started', name: settings.name });
}

const parsed = readSettings(process.env);
if ('problems' in parsed) {
  process.stderr.write(`component: bad environment:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(EXIT_BAD_ENVIRONMENT);
}
const { settings } = parsed;
const log = pino({ level: settings.logLevel, base: { component: settings.name } }, logDestination(settings.logFormat));
await run(settings, log);
