#!/usr/bin/env node
/**
 * The `ferry` command. It parses flags (each also settable by a FERRY_* environment variable) and calls the
 * server; no logic of its own.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS, parseByteSize, type LogLevel } from '../config/server-config.js';
import { messageOf } from '../errors.js';
import { SERVER_VERSION, startServer } from '../server.js';

function integer(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number, got '${text}'`);
    return n;
  };
}

function byteSize(text: string): number {
  try {
    return parseByteSize(text);
  } catch (e) {
    throw new InvalidArgumentError(messageOf(e));
  }
}

function flag(text: string): boolean {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new InvalidArgumentError(`expected true or false, got '${text}'`);
}

const program = new Command('ferry')
  .description('Serve ONNX models over the KServe V2 / Open Inference Protocol')
  .version(SERVER_VERSION);

program
  .command('serve')
  .description('serve a model repository (NAME/VERSION/model.onnx) or a single .onnx file')
  .argument('[model-repository]', 'model repository folder or .onnx file (env FERRY_MODEL_REPOSITORY)')
  .addOption(new Option('--model-name <name>', 'model name when serving a single .onnx file (default: file name)').env('FERRY_MODEL_NAME'))
  .addOption(new Option('--host <host>', 'address to listen on').env('FERRY_HOST').default('0.0.0.0'))
  .addOption(new Option('--http-port <port>', 'HTTP (V2 REST) port; 0 picks a free one').env('FERRY_HTTP_PORT').default(8080).argParser(integer('http port')))
  .addOption(new Option('--grpc-port <port>', 'gRPC port').env('FERRY_GRPC_PORT').default(8081).argParser(integer('grpc port')))
  .addOption(new Option('--max-body-size <size>', 'largest request body (e.g. 64mb); larger gets 413').env('FERRY_MAX_BODY_SIZE').default(64 * 1024 * 1024, '64mb').argParser(byteSize))
  .addOption(new Option('--strict-readiness [bool]', 'ready only when every model is ready').env('FERRY_STRICT_READINESS').default(false).argParser(flag))
  .addOption(new Option('--shutdown-timeout <ms>', 'how long a graceful stop waits for requests in flight').env('FERRY_SHUTDOWN_TIMEOUT').default(30_000).argParser(integer('shutdown timeout')))
  .addOption(new Option('--log-level <level>', 'log level').env('FERRY_LOG_LEVEL').default('info').choices(LOG_LEVELS))
  .action(async (repository: string | undefined, opts: Record<string, unknown>) => {
    const modelRepository = repository ?? process.env.FERRY_MODEL_REPOSITORY;
    if (!modelRepository) {
      return program.error('ferry serve: give a model repository folder or .onnx file (or set FERRY_MODEL_REPOSITORY)');
    }
    let server;
    try {
      server = await startServer({
        modelRepository,
        modelName: opts.modelName as string | undefined,
        host: opts.host as string,
        httpPort: opts.httpPort as number,
        grpcPort: opts.grpcPort as number,
        maxBodyBytes: opts.maxBodySize as number,
        strictReadiness: opts.strictReadiness as boolean,
        shutdownTimeoutMs: opts.shutdownTimeout as number,
        logLevel: opts.logLevel as LogLevel,
      });
    } catch (e) {
      process.stderr.write(`ferry serve: ${messageOf(e)}\n`);
      process.exit(2);
    }
    const running = server;
    let signals = 0;
    const onSignal = (signal: string): void => {
      if (++signals > 1) {
        running.log.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      running.log.info(`${signal} received`);
      running.stop().then(
        () => process.exit(0),
        (e: unknown) => {
          running.log.error(`stop failed: ${messageOf(e)}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });

await program.parseAsync(process.argv);
