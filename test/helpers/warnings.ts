/** The process warnings that code emits. */

/**
 * Runs `run` and gives the process warnings emitted meanwhile, and in the
 * turn of the event loop after it (Node emits them on the next tick).
 */
export async function warningsOf(run: () => unknown): Promise<Error[]> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
  }
  return warnings;
}
