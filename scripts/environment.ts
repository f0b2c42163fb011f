/**
 * Reading a process's settings from its environment (scripts/component.ts, scripts/service.ts:
 * the way docker compose configures a container). Every problem is collected, so one start
 * names them all, and the process exits 2 with the list.
 */
import { FileInputError, readTextFileBounded } from '../shared/runtime/files.ts';
import { type LogFormat, logFormatOf } from '../shared/runtime/log-format.ts';

/** A secret is a token or a key: a file larger than this is not one. */
const SECRET_BYTES_MAX = 4096;

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
   * A secret: read from the file `<name>_FILE` names (a docker secret, mounted at
   * /run/secrets/<secret>), or given in `name` itself; one of the two, never both (as Docker's
   * official images take their `*_FILE` variables). Trailing line ends are not part of it.
   * Undefined, with the problem named, when neither is set or the file cannot be read.
   */
  secret(name: string, why: string): string | undefined {
    const path = this.env[`${name}_FILE`];
    const value = this.env[name];
    if (path !== undefined && path !== '' && value !== undefined) {
      this.problems.push(`${name} and ${name}_FILE are both set: set one (${why})`);
      return undefined;
    }
    if (path === undefined || path === '') {
      if (value === undefined || value === '') this.problems.push(`${name} is not set (nor ${name}_FILE): ${why}`);
      return value === '' ? undefined : value;
    }
    try {
      const text = readTextFileBounded(path, SECRET_BYTES_MAX, { filesAndPipesOnly: true }).replace(/[\r\n]+$/, '');
      if (text === '') this.problems.push(`${name}_FILE: ${path} is empty: ${why}`);
      return text === '' ? undefined : text;
    } catch (error) {
      if (!(error instanceof FileInputError)) throw error;
      this.problems.push(`${name}_FILE: ${error.message}: ${why}`);
      return undefined;
    }
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
