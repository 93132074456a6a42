/**
 * `ferry bench`: flags -> runBench -> a table (or --json) on stdout, progress on stderr. No logic of its own.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BenchEncoding, BenchProtocol } from '../bench/index.js';
// Only light modules here: the bench itself (its HTTP and gRPC clients) loads when `ferry bench` runs.
import { DEFAULT_URL } from '../bench/defaults.js';
import { BenchError } from '../bench/bench-error.js';

function positiveNumber(name: string, whole: boolean) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (whole && !Number.isSafeInteger(n))) {
      throw new InvalidArgumentError(`${name} must be a positive ${whole ? 'whole ' : ''}number, got '${text}'`);
    }
    return n;
  };
}

function nonNegative(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be 0 or more, got '${text}'`);
    return n;
  };
}

/** "1,8,32" -> [1, 8, 32] */
function list(name: string, whole: boolean) {
  const one = positiveNumber(name, whole);
  return (text: string): number[] => text.split(',').map((part) => one(part.trim()));
}

/** Repeatable "NAME=1,30" -> { NAME: [1, 30] } */
function shape(text: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const m = /^([^=]+)=(\d+(?:\s*,\s*\d+)*)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`expected NAME=D1,D2,... (the input's whole shape, e.g. image=1,3,224,224), got '${text}'`);
  return { ...previous, [m[1]!.trim()]: m[2] === undefined ? [] : m[2].split(',').map((d) => Number(d.trim())) };
}

const EXAMPLES = `
Examples:
  ferry bench --model mlp --concurrency 1,8,32                 # HTTP JSON, one run per level
  ferry bench --model mlp --protocol grpc --batch 16           # gRPC, 16 rows per request
  ferry bench --model mlp --rate 500 --duration 30             # fixed rate (open loop)
  ferry bench --model mlp --encoding binary --json > out.json  # binary tensors, JSON report
  ferry bench --model resnet --url http://triton:8000 --grpc-url triton:8001 --protocol grpc \\
              --shape input=4,3,224,224 --metrics-url none      # another V2 server (Triton)
`;

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('load-test a model on any V2 server (ferry, Triton, KServe): throughput and latency per level')
    .requiredOption('--model <name>', 'model to load-test')
    .option('--model-version <version>', 'model version (default: the server picks)')
    .option('--url <url>', 'server HTTP URL: metadata, HTTP inference, /metrics', DEFAULT_URL)
    .addOption(new Option('--protocol <protocol>', 'wire for inference requests').choices(['http', 'grpc']).default('http'))
    .option('--grpc-url <host:port>', 'gRPC address (default: the --url host, port 8081)')
    .addOption(new Option('--encoding <encoding>', 'http: json or binary (tensor extension); grpc: raw (raw_input_contents) or typed (contents)').choices(['json', 'binary', 'raw', 'typed']))
    .option('--concurrency <n,...>', 'requests kept in flight, one run per value (default 1); with --rate, the most in flight (default 256)', list('concurrency', true))
    .option('--rate <r,...>', 'open loop: requests per second, one run per value; a wait for the in-flight limit counts in latency', list('rate', false))
    .option('--duration <s>', 'seconds measured per level', positiveNumber('duration', false), 10)
    .option('--warmup <s>', 'seconds of load before each measurement', nonNegative('warmup'), 2)
    .option('--batch <rows>', 'rows per request: the size of a free first dimension (default 1)', positiveNumber('batch', true))
    .option('--shape <name=dims>', "an input's whole shape, for other free dimensions (repeatable)", shape)
    .option('--input <file>', 'a V2 JSON inference request body to send instead of random data')
    .option('--connections <n>', 'gRPC connections to spread calls over', positiveNumber('connections', true), 4)
    .option('--timeout <ms>', 'per-request timeout in ms (0: none)', nonNegative('timeout'), 30_000)
    .option('--metrics-url <url>', "Prometheus endpoint for batch sizes, or 'none' (default: URL/metrics)")
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: Record<string, unknown>) => {
      const metricsUrl = opts.metricsUrl as string | undefined;
      try {
        // Loaded on use: `ferry serve` should not pay for the bench's modules at start-up.
        const { formatReport, runBench } = await import('../bench/index.js');
        const report = await runBench({
          model: opts.model as string,
          modelVersion: opts.modelVersion as string | undefined,
          url: opts.url as string,
          protocol: opts.protocol as BenchProtocol,
          grpcUrl: opts.grpcUrl as string | undefined,
          encoding: opts.encoding as BenchEncoding | undefined,
          concurrency: opts.concurrency as number[] | undefined,
          rate: opts.rate as number[] | undefined,
          duration: opts.duration as number,
          warmup: opts.warmup as number,
          batch: opts.batch as number | undefined,
          shapes: opts.shape as Record<string, number[]> | undefined,
          inputFile: opts.input as string | undefined,
          connections: opts.connections as number,
          timeoutMs: Math.round(opts.timeout as number),
          ...(metricsUrl !== undefined ? { metricsUrl: metricsUrl === 'none' ? false : metricsUrl } : {}),
          progress: process.stderr,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      } catch (e) {
        if (!(e instanceof BenchError)) throw e;
        process.stderr.write(`ferry bench: ${e.message}\n`);
        process.exitCode = 2;
      }
    });
}
