/**
 * `ffa-world run … | head`: the reader closes the pipe early. Node then reports EPIPE on stdout as
 * an unhandled 'error' event with a stack trace. A command line tool stays quiet instead (as
 * coreutils do on SIGPIPE), and here the run goes on to the end: its outputs are written and its
 * exit status is the run's own, only its further lines to stdout are dropped.
 */
const CLOSED_PIPE_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

export function ignoreClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!CLOSED_PIPE_CODES.has(error.code ?? '')) throw error;
    // Nothing reads stdout any more: drop what is written to it from now on.
    stream.write = (() => true) as typeof stream.write;
  });
}
