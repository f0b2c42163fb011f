/**
 * cac parses with mri, which reads `--seed -1` as the option --seed without a value followed by
 * an unknown option `-1` ("Unknown option `-1`"). Written `--seed=-1`, the value reaches the
 * option's own check, which then says what range it takes. So before cac parses, `--opt -N` is
 * joined into `--opt=-N` for every option that takes a value; flags and positionals are left as
 * they are, and nothing after `--` is touched.
 */
import type { CAC } from 'cac';

/** What a negative number (or a rate such as -5/s) looks like on the command line. */
const NEGATIVE = /^-(?:\d|\.\d)/;

/** The --long names of the options that take a value (`<n>` or `[n]`), over every command. */
export function valueOptionsOf(cli: CAC): Set<string> {
  const options = [cli.globalCommand, ...cli.commands].flatMap((command) => command.options);
  return new Set(options.filter((option) => !option.isBoolean).flatMap((option) => option.rawName.match(/--[A-Za-z][A-Za-z0-9-]*/g) ?? []));
}

export function joinNegativeValues(argv: readonly string[], valueOptions: ReadonlySet<string>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    const next = argv[i + 1];
    if (word === '--') return [...joined, ...argv.slice(i)];
    if (valueOptions.has(word) && next !== undefined && NEGATIVE.test(next)) {
      joined.push(`${word}=${next}`);
      i++;
    } else {
      joined.push(word);
    }
  }
  return joined;
}
