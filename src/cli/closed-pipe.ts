/**
 * `pds-trace trace … | head -1` and `pds-trace audit search … | head`: once the reader has gone,
 * every write to the pipe fails with EPIPE, emitted as an 'error' event that, unhandled, ends
 * the process with a stack trace, and handled, comes back once per write. Output nobody reads is
 * dropped instead, and the command finishes its work (a trace still writes its outputs and audit)
 * and ends with its own exit code, as it would have with the reader still there.
 */
export function dropOutputOnceReaderGone(stream: NodeJS.WriteStream): void {
  stream.on('error', () => {
    // Whatever the error (EPIPE, or EIO from a closed terminal), there is nowhere left to say it.
    stream.write = ((_chunk: unknown, encodingOrDone?: unknown, done?: unknown) => {
      const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
      if (typeof callback === 'function') process.nextTick(callback as () => void);
      return true;
    }) as NodeJS.WriteStream['write'];
  });
}
