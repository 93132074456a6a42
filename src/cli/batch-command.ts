/** `ferry batch`: flags -> a scorer and a job; progress on stderr, summary on stdout (JSON with --json). */
import { Option, type Command } from 'commander';
import { messageOf } from '../errors.js';
import type { SourceFormat } from '../batch/readers/index.js';
import type { OutputFormat } from '../batch/writers/index.js';
import { integer } from './options.js';
import { withSchedule } from './batch-every.js';

function shard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new Error(`--shard takes I/N with 0 <= I < N (e.g. 0/4), got '${text}'`);
  return { index, count };
}

export function registerBatch(program: Command): void {
  program
    .command('batch')
    .description('score a file or a PostgreSQL query with a model (in-process, or through a running V2 server) and store the results')
    .argument('<model>', 'a model name (with --models DIR), an .onnx file, or a server URL http://HOST:PORT/v2/models/NAME')
    .requiredOption('--input <source>', 'rows to score: .csv, .tsv, .jsonl, .parquet, or postgresql://USER@HOST:PORT/DB (with --query or --input-table)')
    .requiredOption('--output <target>', 'where results go: .jsonl, .csv or .parquet (written afresh); a .duckdb/.db file or postgresql://USER@HOST:PORT/DB (a table, rows upserted by id; see --table)')
    .option('--query <sql>', 'PostgreSQL input: the rows to score; give it an ORDER BY on a unique key, or resuming and --shard may skip or repeat rows')
    .option('--input-table <name>', 'PostgreSQL input: read this table whole, ordered by its primary key (or --id-column)')
    .option('--table <name>', 'table outputs: the table to upsert into, made if missing (default: predictions)')
    .addOption(new Option('--models <dir>', 'model repository, when MODEL is a name').env('FERRY_MODEL_REPOSITORY'))
    .option('--model-version <v>', 'model version (default: the latest served)')
    .option('--format <format>', 'output format, when the extension does not say (jsonl, csv, parquet, duckdb)')
    .option('--input-format <format>', 'input format, when the extension does not say (csv, jsonl, parquet)')
    .option('--delimiter <char>', 'CSV field delimiter (default , and tab for .tsv)')
    .option('--id-column <name>', 'column carried to the output as the row key (default: the row number)')
    .option('--map <input=columns>', 'columns feeding a model input, e.g. features=a,b,c (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .addOption(new Option('--batch-size <rows>', 'rows per batch').default(4096).argParser(integer('batch size')))
    .addOption(new Option('--parse-thread <where>', 'where CSV parsing runs: main (this thread), worker (its own thread), auto (a worker for large files); default: auto, main for Parquet and table outputs').choices(['main', 'worker', 'auto']))
    .option('--rejects <file>', 'rejected rows with reasons (default: OUTPUT.rejects.jsonl; for a PostgreSQL output ferry-batch-TABLE.rejects.jsonl)')
    .addOption(new Option('--max-rejects <n>', 'fail the job once more rows than this are rejected').argParser(integer('max rejects')))
    .option('--shard <i/n>', 'score only rows with row number % n == i (for n parallel workers)')
    .option('--checkpoint <file>', 'progress file for resuming (default: OUTPUT.checkpoint.json; for a PostgreSQL output ferry-batch-TABLE[.shard-I-of-N].checkpoint.json)')
    .option('--json', 'print the summary as JSON')
    .option('--every <cron>', "keep running, and run the job at each time CRON names: 5 fields (e.g. '0 2 * * *'), or 6 with seconds first")
    .option('--tz <zone>', 'the time zone of --every (an IANA name such as UTC; default: local time, TZ)')
    .action(withSchedule(async (model: string, opts: Record<string, unknown>, signal?: AbortSignal): Promise<boolean> => {
      // Loaded on use: the writers bring DuckDB (and pg, on use), which `ferry serve` should not load at start-up.
      const [{ openScorer }, { runBatchJob, TooManyRejects }, { parseMapFlags }, { formatFromPath }, { outputFormatFromPath }, { progressPrinter, summaryText }] = await Promise.all([
        import('../batch/scorer.js'), import('../batch/job.js'), import('../batch/column-mapping.js'),
        import('../batch/readers/index.js'), import('../batch/writers/index.js'), import('../batch/progress.js'),
      ]);
      let scorer;
      try {
        const output = opts.output as string;
        const outputFormat = ((opts.format as string | undefined) ?? outputFormatFromPath(output)) as OutputFormat;
        const fromPath = opts.inputFormat ? { format: opts.inputFormat as SourceFormat } : formatFromPath(opts.input as string);
        // A PostgreSQL output is no file to put the checkpoint and rejects beside: they go in the working folder, one
        // pair per shard (shards share the table, not their progress).
        const shardOf = opts.shard ? shard(opts.shard as string) : undefined;
        const sidecar = outputFormat === 'postgres'
          ? `ferry-batch-${(opts.table as string | undefined) ?? 'predictions'}${shardOf ? `.shard-${shardOf.index}-of-${shardOf.count}` : ''}`
          : output;
        scorer = await openScorer({
          model,
          ...(opts.models ? { modelsDir: opts.models as string } : {}),
          ...(opts.modelVersion ? { version: opts.modelVersion as string } : {}),
        });
        const progress = progressPrinter();
        const summary = await runBatchJob(scorer, {
          input: opts.input as string,
          inputFormat: fromPath.format,
          output,
          outputFormat,
          batchSize: opts.batchSize as number,
          ...(opts.parseThread ? { parseThread: opts.parseThread as 'main' | 'worker' | 'auto' } : {}),
          ...(opts.idColumn ? { idColumn: opts.idColumn as string } : {}),
          map: parseMapFlags(opts.map as string[]),
          ...(opts.delimiter ? { delimiter: opts.delimiter as string } : fromPath.delimiter ? { delimiter: fromPath.delimiter } : {}),
          ...(opts.query !== undefined ? { query: opts.query as string } : {}),
          ...(opts.inputTable !== undefined ? { inputTable: opts.inputTable as string } : {}),
          ...(opts.table !== undefined ? { table: opts.table as string } : {}),
          rejects: (opts.rejects as string | undefined) ?? `${sidecar}.rejects.jsonl`,
          ...(opts.maxRejects !== undefined ? { maxRejects: opts.maxRejects as number } : {}),
          ...(shardOf ? { shard: shardOf } : {}),
          checkpoint: (opts.checkpoint as string | undefined) ?? `${sidecar}.checkpoint.json`,
          commitEveryMs: 5000,
          ...(signal ? { signal, otherCheckpoint: 'restart' as const, log: (line: string) => void process.stderr.write(`ferry batch: ${line}\n`) } : {}),
        }, progress.update);
        progress.done();
        process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${summaryText(summary)}\n`);
        return true;
      } catch (e) {
        process.stderr.write(`\nferry batch: ${messageOf(e)}\n`);
        process.exitCode = e instanceof TooManyRejects ? 3 : 2;
        return false;
      } finally {
        await scorer?.close();
      }
    }));
}
