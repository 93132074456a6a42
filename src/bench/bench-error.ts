/** A bench that cannot run (bad options, unreachable server, unknown model): the CLI prints it and exits non-zero. */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}
