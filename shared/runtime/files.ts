/**
 * Files named by the user (scenario files, histories, output folders), read and made with a
 * bound and a one-line error that names the path. Two traps these avoid:
 * - readFileSync reads to the end before any size check can run: `/dev/zero` or a huge file is
 *   read until the process dies in std::bad_alloc. Here the budget is checked while reading.
 * - mkdirSync(path, { recursive: true }) loops for ever under /proc (mkdir answers ENOENT there,
 *   the parent exists, and Node tries again). Here each missing folder is made once, in order.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type FileInputCode = 'FILE_TOO_LARGE' | 'FILE_UNREADABLE' | 'NOT_A_FILE' | 'FOLDER_UNMAKEABLE';

/** A path the user gave cannot be used: the message names it and says why. */
export class FileInputError extends Error {
  override readonly name = 'FileInputError';

  constructor(
    readonly code: FileInputCode,
    readonly path: string,
    /** What is wrong, without the path; for FILE_UNREADABLE the system's reason ("no such file"). */
    readonly reason: string,
  ) {
    super(code === 'FILE_UNREADABLE' ? `${path}: cannot read (${reason})` : `${path}: ${reason}`);
  }
}

/** Reads are made a chunk at a time, so a refusal costs at most the budget and one chunk. */
const CHUNK_BYTES = 64 * 1024;

function errnoText(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'a folder, not a file';
  return message;
}

export interface BoundedReadOptions {
  /** Refuse anything but a regular file or a pipe (a device such as /dev/zero never ends). */
  filesAndPipesOnly?: boolean;
}

/** The file's bytes, or FileInputError once more than `maxBytes` have been read. */
export function readFileBounded(path: string, maxBytes: number, options: BoundedReadOptions = {}): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new FileInputError('FILE_UNREADABLE', path, errnoText(error));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new FileInputError('NOT_A_FILE', path, 'a folder, not a file');
    if (options.filesAndPipesOnly && !stat.isFile() && !stat.isFIFO()) throw new FileInputError('NOT_A_FILE', path, 'not a regular file (a device or a socket)');
    return readUpTo(fd, path, maxBytes);
  } finally {
    closeSync(fd);
  }
}

function readUpTo(fd: number, path: string, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // One byte past the budget tells a file of exactly maxBytes from a longer one.
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
    let read: number;
    try {
      read = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      throw new FileInputError('FILE_UNREADABLE', path, errnoText(error));
    }
    if (read === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, read));
    total += read;
    if (total > maxBytes) throw new FileInputError('FILE_TOO_LARGE', path, `larger than ${bytesText(maxBytes)}`);
  }
}

function bytesText(bytes: number): string {
  return bytes >= 2 ** 20 && bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20} MiB (${bytes} bytes)` : `${bytes} bytes`;
}

/** readFileBounded, as UTF-8 text. */
export function readTextFileBounded(path: string, maxBytes: number, options: BoundedReadOptions = {}): string {
  return readFileBounded(path, maxBytes, options).toString('utf8');
}

/**
 * Make `path` and any missing parents (mkdir -p), or FileInputError naming the folder that could
 * not be made. Bounded by the path's depth: each missing folder is tried once.
 */
export function makeFolder(path: string): void {
  const missing: string[] = [];
  let at = resolve(path);
  while (!existsSync(at)) {
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (missing.length === 0 && !statSync(at).isDirectory()) throw new FileInputError('FOLDER_UNMAKEABLE', path, 'exists and is not a folder');
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code === 'EEXIST' && statSync(folder).isDirectory()) continue; // made meanwhile by someone else
      const why = code === 'ENOTDIR' ? `${dirname(folder)} is not a folder` : code === 'ENOENT' ? `this file system makes no folder ${folder}` : (error as Error).message;
      throw new FileInputError('FOLDER_UNMAKEABLE', path, `cannot make the folder: ${why}`);
    }
  }
}
