/**
 * A scenario file's text, read with the format's bound checked while reading (a device such as
 * /dev/zero, or a file of gigabytes, is refused at 4 MiB rather than read until the process
 * dies), or a ScenarioError at the file's first position that says what to change.
 */
import { FileInputError, readTextFileBounded } from '../../../shared/runtime/files.ts';
import { ScenarioError } from './errors.ts';
import { SCENARIO_LIMITS } from './value-shapes.ts';

export function readScenarioFileText(path: string): string {
  try {
    // A file of at most fileLength bytes has at most fileLength characters: the text's own bound holds too.
    return readTextFileBounded(path, SCENARIO_LIMITS.fileLength);
  } catch (error) {
    if (!(error instanceof FileInputError)) throw error;
    const at = { file: path, line: 1, column: 1 };
    if (error.code === 'FILE_TOO_LARGE') throw new ScenarioError(at, `the file is ${error.reason}, the most a scenario file may hold: split it, or use count: and workload steps`);
    throw new ScenarioError(at, `cannot read the scenario file (${error.reason}): check the path`);
  }
}
