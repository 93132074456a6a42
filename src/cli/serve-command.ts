/** `ferry serve`: flags (each also a FERRY_* variable) -> startServer, or a cluster of them; signals -> graceful stop. */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { LOG_FORMATS, LOG_LEVELS, MODEL_CONTROL_MODES, resolveSettings, type ClientShmScope, type LogFormat, type LogLevel, type ModelControlMode } from '../config/server-config.js';
import { messageOf } from '../errors.js';
import { createLogger } from '../observe/logger.js';
import { MANAGEMENT_ADDRESS_ENV, runPrimary } from '../cluster.js';
import { answerPrimary } from '../cluster-management.js';
import { startServer, type RunningServer } from '../server.js';
import { byteSize, clientShmScope, collect, flag, integer, positiveNumber } from './options.js';
import { stopOnSignals, stopWithNpm } from './serve-signals.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a model repository (NAME/VERSION/model.onnx) or a single .onnx file')
    .argument('[model-repository]', 'model repository folder or .onnx file (env FERRY_MODEL_REPOSITORY)')
    .addOption(new Option('--model-name <name>', 'model name when serving a single .onnx file (default: file name)').env('FERRY_MODEL_NAME'))
    .addOption(new Option('--host <host>', 'address to listen on').env('FERRY_HOST').default('0.0.0.0'))
    .addOption(new Option('--http-port <port>', 'HTTP (V2 REST) port; 0 picks a free one').env('FERRY_HTTP_PORT').default(8080).argParser(integer('http port')))
    .addOption(new Option('--grpc-port <port>', 'gRPC port; 0 picks a free one').env('FERRY_GRPC_PORT').default(8081).argParser(integer('grpc port')))
    .addOption(new Option('--max-body-size <size>', 'largest request body (e.g. 64mb); larger gets 413').env('FERRY_MAX_BODY_SIZE').default(64 * 1024 * 1024, '64mb').argParser(byteSize))
    .addOption(new Option('--strict-readiness [bool]', 'ready only when every model is ready').env('FERRY_STRICT_READINESS').default(false).argParser(flag))
    .addOption(new Option('--shutdown-timeout <ms>', 'how long a graceful stop waits for requests in flight').env('FERRY_SHUTDOWN_TIMEOUT').default(30_000).argParser(integer('shutdown timeout')))
    .addOption(new Option('--processes <n>', 'server processes sharing the ports (node:cluster)').env('FERRY_PROCESSES').default(1).argParser(integer('processes')))
    .addOption(new Option('--log-level <level>', 'log level').env('FERRY_LOG_LEVEL').default('info').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'json lines, pretty lines for a person, or auto: pretty on a terminal').env('FERRY_LOG_FORMAT').default('auto').choices(LOG_FORMATS))
    .addOption(new Option('--model-control-mode <mode>', 'poll: load everything, then apply changes to the repository as they complete; explicit: load only what --load-model or the management API asks for; none: load everything once').env('FERRY_MODEL_CONTROL_MODE').default('poll').choices(MODEL_CONTROL_MODES))
    .addOption(new Option('--repository-poll-secs <s>', 'poll mode: seconds between reads of the repository').env('FERRY_REPOSITORY_POLL_SECS').default(2).argParser(positiveNumber('repository poll interval')))
    .addOption(new Option('--load-model <name>', "explicit mode: a model to load at start (repeat the flag, or '*' for all)").env('FERRY_LOAD_MODEL').argParser(collect))
    .addOption(new Option('--allow-empty-repository [bool]', 'start even when the repository holds no model (poll mode then waits for models)').env('FERRY_ALLOW_EMPTY_REPOSITORY').default(false).argParser(flag))
    .addOption(new Option('--management-port <port>', 'port for model load and unload (REST and gRPC); never served on the public ports').env('FERRY_MANAGEMENT_PORT').default(8082).argParser(integer('management port')))
    .addOption(new Option('--management-host <host>', 'address the management port listens on; anything but loopback needs a token').env('FERRY_MANAGEMENT_HOST').default('127.0.0.1'))
    .addOption(new Option('--management-token <token>', 'bearer token the management port requires (prefer the environment variable: a flag shows in ps)').env('FERRY_MANAGEMENT_TOKEN'))
    .addOption(new Option('--data-dir <dir>', 'where A/B experiments keep predictions and outcomes (survives a restart); default: in memory').env('FERRY_DATA_DIR'))
    .addOption(new Option('--prediction-retention-hours <h>', 'experiments: how long a prediction waits for its feedback').env('FERRY_PREDICTION_RETENTION_HOURS').default(168).argParser(positiveNumber('prediction retention')))
    .addOption(new Option('--sagemaker [bool]', "SageMaker's container contract on the HTTP port: GET /ping, POST /invocations (on by itself when serve has no repository: /opt/ml/model, port 8080)").env('FERRY_SAGEMAKER').default(false).argParser(flag))
    .addOption(new Option('--prediction-max-records <n>', 'experiments: predictions kept per model for feedback (the oldest go first)').env('FERRY_PREDICTION_MAX_RECORDS').default(500_000).argParser(integer('prediction max records')))
    .addOption(new Option('--allow-client-shm [scope]', "let clients register /dev/shm regions and pass tensors through them (Triton's system shared memory extension; needs --processes 1): true or local for clients on loopback, any for every peer").env('FERRY_ALLOW_CLIENT_SHM').default('off').argParser(clientShmScope))
    .action(async (repository: string | undefined, opts: Record<string, unknown>, command: Command) => {
      const given = repository ?? (process.env.FERRY_MODEL_REPOSITORY || undefined);
      // A bare `serve` is how SageMaker starts an inference container: its model is in /opt/ml/model.
      const mode = given === undefined ? sageMakerMode(command) : undefined;
      if (typeof mode === 'string') return program.error(mode);
      const sagemaker = mode;
      const modelRepository = given ?? sagemaker!.repository;
      const processes = opts.processes as number;
      if (processes < 1) return program.error('ferry serve: --processes must be at least 1');
      // A region registered with one process would be unknown to the others, which take their share of the requests.
      if (processes > 1 && opts.allowClientShm !== 'off') return program.error('ferry serve: --allow-client-shm needs --processes 1 (each server process would hold its own regions, and a request may reach any of them)');
      const settings = {
        modelRepository,
        modelName: opts.modelName as string | undefined,
        host: opts.host as string,
        httpPort: opts.httpPort as number,
        grpcPort: opts.grpcPort as number,
        maxBodyBytes: opts.maxBodySize as number,
        strictReadiness: opts.strictReadiness as boolean,
        shutdownTimeoutMs: opts.shutdownTimeout as number,
        logLevel: opts.logLevel as LogLevel,
        logFormat: opts.logFormat as LogFormat,
        modelControlMode: opts.modelControlMode as ModelControlMode,
        repositoryPollSecs: opts.repositoryPollSecs as number,
        loadModels: (opts.loadModel as string[] | undefined) ?? [],
        allowEmptyRepository: opts.allowEmptyRepository as boolean,
        managementPort: opts.managementPort as number,
        managementHost: opts.managementHost as string,
        managementToken: opts.managementToken as string | undefined,
        dataDir: opts.dataDir as string | undefined,
        predictionRetentionHours: opts.predictionRetentionHours as number,
        predictionMaxRecords: opts.predictionMaxRecords as number,
        sagemaker: sagemaker !== undefined || (opts.sagemaker as boolean),
        allowClientShm: opts.allowClientShm === true ? 'local' : (opts.allowClientShm as ClientShmScope),
        ...(sagemaker?.httpPort !== undefined ? { httpPort: sagemaker.httpPort } : {}),
        ...(sagemaker?.modelName !== undefined ? { modelName: sagemaker.modelName } : {}),
      };
      if (processes > 1 && cluster.isPrimary) {
        try {
          const checked = resolveSettings(settings); // refuse bad flags once, before any process starts
          const management = checked.managementPort === null ? undefined : { host: checked.managementHost, port: checked.managementPort, token: checked.managementToken };
          await runPrimary(processes, createLogger(checked.logLevel, checked.logFormat), management, checked.shutdownTimeoutMs);
          stopWithNpm();
        } catch (e) {
          process.stderr.write(`ferry serve: ${messageOf(e)}\n`);
          process.exit(2);
        }
        return;
      }
      let server: RunningServer;
      try {
        const elsewhere = process.env[MANAGEMENT_ADDRESS_ENV];
        server = await startServer({
          ...settings,
          managementPort: cluster.isWorker ? null : settings.managementPort,
          clusterWorker: cluster.isWorker,
          ...(cluster.isWorker && elsewhere ? { managementElsewhere: elsewhere } : {}),
        });
        if (cluster.isWorker) answerPrimary(server.management, server.loaded);
      } catch (e) {
        process.stderr.write(`ferry serve: ${messageOf(e)}\n`);
        process.exit(2);
      }
      stopOnSignals(server);
    });
}

/** Where SageMaker puts the model an endpoint serves (model.tar.gz, unpacked). */
export const SAGEMAKER_MODEL_DIR = '/opt/ml/model';

/**
 * SageMaker's mode, for a bare `serve`: the repository is /opt/ml/model (a ferry repository, or one model.onnx at its
 * top, served as model "model"), and the HTTP port SageMaker's SAGEMAKER_BIND_TO_PORT when it sets one and
 * --http-port was not given.
 */
function sageMakerMode(command: Command): { repository: string; httpPort?: number; modelName?: string } | string {
  const dir = process.env.FERRY_SAGEMAKER_MODEL_DIR ?? SAGEMAKER_MODEL_DIR;
  if (!existsSync(dir)) {
    return `ferry serve: give a model repository folder or .onnx file (or set FERRY_MODEL_REPOSITORY); with neither, serve runs SageMaker's container contract on ${dir}, which does not exist here`;
  }
  const single = join(dir, 'model.onnx');
  const bind = Number(process.env.SAGEMAKER_BIND_TO_PORT);
  const portGiven = command.getOptionValueSource('httpPort') !== 'default';
  return {
    repository: existsSync(single) ? single : dir,
    ...(existsSync(single) ? { modelName: 'model' } : {}),
    ...(!portGiven && Number.isInteger(bind) && bind > 0 ? { httpPort: bind } : {}),
  };
}
