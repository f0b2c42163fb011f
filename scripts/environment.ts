/**
 * Reading a process's settings from its environment (scripts/component.ts, scripts/service.ts:
 * the way docker compose configures a container). Every problem is collected, so one start
 * names them all, and the process exits 2 with the list.
 */
import { type Credentials, parseCredentials } from '../shared/runtime/ws/credentials.ts';
import { FileInputError, readTextFileBounded } from '../shared/runtime/files.ts';
import { type LogFormat, logFormatOf } from '../shared/runtime/log-format.ts';

/** A credentials file is a few keys: anything larger is not one. */
const CREDENTIALS_BYTES_MAX = 64 * 1024;

/** How much of a value a message quotes: enough to recognise it, one line however long the value. */
const QUOTED_LENGTH = 80;

/** A value as a message quotes it: in double quotes, escaped (one line), cut with an ellipsis. */
export function quoted(raw: string): string {
  return JSON.stringify(raw.length > QUOTED_LENGTH ? `${raw.slice(0, QUOTED_LENGTH - 1)}…` : raw);
}

/** Reads the environment; each problem is collected, so one run names them all. */
export class EnvironmentReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  text(name: string, fallback?: string): string {
    const value = this.env[name] ?? fallback;
    if (value === undefined || value.length === 0) this.problems.push(`${name} is required`);
    return value ?? '';
  }

  json(name: string, fallback?: unknown): unknown {
    const raw = this.env[name];
    if (raw === undefined && fallback !== undefined) return fallback;
    try {
      return JSON.parse(this.text(name)) as unknown;
    } catch (error) {
      if (raw) this.problems.push(`${name} is not JSON: ${(error as Error).message}`);
      return fallback;
    }
  }

  integer(name: string, min: number, max: number, fallback?: number): number {
    const raw = this.env[name];
    if (raw === undefined && fallback !== undefined) return fallback;
    if (raw === undefined) return Number(this.text(name));
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) this.problems.push(`${name}=${quoted(raw)} must be an integer in ${min}..${max}`);
    return value;
  }

  /**
   * The credentials file the variable names (shared/runtime/ws/credentials.ts): read bounded,
   * parsed, each problem named. `fallback`: the path used when the variable is unset (none: it is required).
   */
  credentials(name: string, fallback: string | undefined, why: string): Credentials {
    const empty: Credentials = { accept: {}, dial: {} };
    const path = this.env[name] ?? fallback;
    if (path === undefined || path === '') {
      this.problems.push(`${name} is required: ${why}`);
      return empty;
    }
    let text: string;
    try {
      text = readTextFileBounded(path, CREDENTIALS_BYTES_MAX, { filesAndPipesOnly: true });
    } catch (error) {
      if (!(error instanceof FileInputError)) throw error;
      this.problems.push(`${name}: ${error.message}: ${why}`);
      return empty;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.problems.push(`${name}: ${path} is not JSON: ${(error as Error).message}`);
      return empty;
    }
    const parsed = parseCredentials(value);
    if (parsed.ok) return parsed.credentials;
    for (const problem of parsed.problems) this.problems.push(`${name}: ${path}: ${problem}`);
    return empty;
  }

  check(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  /** FFA_LOG_FORMAT: json or pretty (unset: pretty on a terminal, shared/runtime/log-format.ts). */
  logFormat(): LogFormat {
    try {
      return logFormatOf(this.env);
    } catch (error) {
      this.problems.push((error as Error).message);
      return 'json';
    }
  }
}
