/**
 * The V2 REST front on node:http. node:http rather than Fastify: on the per-request path Fastify measured 15-25%
 * slower here (../shared/DESIGN.md), and the V2 surface is a handful of fixed routes a regular expression serves.
 * Each route only converts between HTTP and the data plane.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { InferenceRequest } from '../../dataplane/types.js';
import type { Logger } from '../../observe/logger.js';
import { readBody } from './body.js';
import { INFERENCE_HEADER_CONTENT_LENGTH, jsonHeaderLength, rawBinaryRequest } from './binary-request.js';
import { binaryInferResponse, binaryOutputs } from './binary-response.js';
import { decompress, requestCoding } from './compression.js';
import { inferResponseJson, parseInferRequest } from './infer-json.js';
import { JSON_TYPE, send, sendBody, sendError } from './reply.js';
import { allow, decodeSegment, pathOf, readJsonObject, sendFailure } from './http-route.js';
import { managementOnlyMessage } from '../management-notice.js';
import type { SageMakerFront } from '../sagemaker/sagemaker-front.js';
import { V1Front } from '../v1-rest/v1-front.js';
import { sharedMemoryRoute } from './shared-memory-rest.js';
import { applyTraceSettings, logSettings, traceSettings } from '../../observe/triton-settings.js';

export interface RestFrontOptions {
  readonly maxBodyBytes: number;
  /** The Prometheus text served at GET /metrics. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Where model load and unload are served ('host:port'), named in the 403 this port answers them. */
  readonly managementAddress?: () => string | undefined;
  /** SageMaker's /ping and /invocations, when the server runs under its container contract (--sagemaker). */
  readonly sagemaker?: SageMakerFront;
}

/** Which traffic split variant answered (the V2 body says the model and version). */
const VARIANT_HEADER = 'X-Ferry-Variant';
/** The id feedback names, for an answer an experiment recorded (also the body's `id`). */
const REQUEST_ID_HEADER = 'X-Request-Id';

/** Control requests (index, load) are small JSON objects. */
const CONTROL_BODY_BYTES = 1024 * 1024;

/** /v2/models/NAME[/versions/V][/ready|/infer|/stats|/config]; /v2/models/stats is every model's statistics (Triton's). */
const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/stats|\/config)?\/?$/;
/** /v2/models/NAME/feedback|experiment|drift: an experiment's outcomes in, its results out, features' drift (ferry's own). */
const EXPERIMENT_ROUTE = /^\/v2\/models\/([^/]+)\/(feedback|experiment|drift)\/?$/;
/** /v2/models/NAME/trace/setting: Triton's trace extension for one model. */
const MODEL_TRACE_ROUTE = /^\/v2\/models\/([^/]+)\/trace\/setting\/?$/;
/** Feedback bodies: up to 10,000 outcomes. */
const FEEDBACK_BODY_BYTES = 16 * 1024 * 1024;
/** Triton's /v2/repository/models/NAME/load|unload, and promote: the management port's, refused here. */
const REPOSITORY_CHANGE_ROUTE = /^\/v2\/repository\/models\/[^/]+\/(?:load|unload|promote)\/?$/;

export class RestFront {
  /** Set during a graceful stop: every response then asks the client to close its connection. */
  closing = false;
  /** TensorFlow Serving's and KServe V1's records API, under /v1/. */
  private readonly v1: V1Front;

  constructor(
    private readonly dataplane: DataPlane,
    private readonly options: RestFrontOptions,
    private readonly log: Logger,
  ) {
    this.v1 = new V1Front(dataplane, options.maxBodyBytes);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.closing) res.setHeader('Connection', 'close');
    let answered: void | Promise<void>;
    try {
      answered = this.route(req, res);
    } catch (e) {
      this.fail(req, res, e);
      return;
    }
    answered?.catch((e: unknown) => this.fail(req, res, e));
  };

  /**
   * Routes a request and answers it: at once, or by the promise it returns. Not itself async: an async function
   * that returns another's promise costs each request two more promise jobs.
   */
  private route(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    const path = pathOf(req.url);
    const method = req.method ?? 'GET';
    const dp = this.dataplane;

    const m = MODEL_ROUTE.exec(path);
    if (m) {
      const name = decodeSegment(m[1] as string);
      const version = m[2] === undefined ? undefined : decodeSegment(m[2]);
      const action = m[3];
      if (action === '/infer') {
        allow(method, 'POST');
        return this.infer(req, res, name, version);
      }
      allow(method, 'GET');
      if (action === '/ready') {
        dp.modelReady(name, version);
        return send(res, 200);
      }
      if (action === '/stats') return sendBody(req, res, JSON_TYPE, JSON.stringify(dp.modelStatistics(name, version)));
      // Triton's REST answer is the ModelConfig itself (its gRPC answer wraps it in `config`).
      if (action === '/config') return sendBody(req, res, JSON_TYPE, JSON.stringify(dp.modelConfig(name, version).config));
      if (name === 'stats' && version === undefined) return sendBody(req, res, JSON_TYPE, JSON.stringify(dp.modelStatistics()));
      return sendBody(req, res, JSON_TYPE, JSON.stringify(dp.modelMetadata(name, version)));
    }
    const x = EXPERIMENT_ROUTE.exec(path);
    if (x) {
      const name = decodeSegment(x[1] as string);
      if (x[2] === 'drift') {
        allow(method, 'GET');
        return sendBody(req, res, JSON_TYPE, JSON.stringify(dp.featureDrift(name)));
      }
      if (x[2] === 'experiment') {
        allow(method, 'GET');
        return sendJson(req, res, dp.experiment(name));
      }
      allow(method, 'POST');
      dp.checkExperiment(name); // an unknown model or one with no experiment is said before the body is read
      return sendJson(req, res, readJsonObject(req, FEEDBACK_BODY_BYTES).then((body) => dp.feedback(name, body)));
    }
    switch (path) {
      case '/v2/health/live':
        allow(method, 'GET');
        return send(res, 200);
      case '/v2/health/ready': {
        allow(method, 'GET');
        const reason = dp.notReadyReason(); // computed once: it lists the models that are not ready
        return reason === undefined ? send(res, 200) : sendError(res, 503, reason);
      }
      case '/v2':
      case '/v2/':
        allow(method, 'GET');
        return sendBody(req, res, JSON_TYPE, JSON.stringify(dp.serverMetadata()));
      case '/metrics': {
        allow(method, 'GET');
        if (!this.options.metrics) throw new FerryError('NOT_FOUND', 'metrics are off');
        return this.options.metrics().then(({ contentType, body }) => sendBody(req, res, contentType, body));
      }
      case '/v2/repository/index': {
        allow(method, 'POST', 'GET');
        // Triton's repository index: every model and version with its state and, when unavailable, why.
        const ready = method === 'POST' ? readJsonObject(req, CONTROL_BODY_BYTES).then((b) => b.ready === true) : Promise.resolve(false);
        return sendJson(req, res, ready.then((r) => dp.repositoryIndex(r)));
      }
      case '/v2/logging': {
        allow(method, 'GET', 'POST');
        // Reading here; a change is the management port's (it changes the server).
        if (method === 'POST') throw new FerryError('PERMISSION_DENIED', managementOnlyMessage(this.options.managementAddress?.()));
        return sendBody(req, res, JSON_TYPE, JSON.stringify(logSettings(this.log)));
      }
      case '/v2/trace/setting':
        return this.traceSetting(req, res, method, undefined);
      default: {
        // Past the V2 routes, so a V2 request never pays for the test.
        if (path.startsWith('/v1/')) return this.v1.route(req, res, path, method);
        const trace = MODEL_TRACE_ROUTE.exec(path);
        if (trace) return this.traceSetting(req, res, method, decodeSegment(trace[1] as string));
        const shm = sharedMemoryRoute(dp, req, res, path, method);
        if (shm !== false) return shm;
        const sagemaker = this.options.sagemaker?.route(req, res, path, method);
        if (sagemaker !== false && this.options.sagemaker) return sagemaker;
        if (REPOSITORY_CHANGE_ROUTE.test(path)) throw new FerryError('PERMISSION_DENIED', managementOnlyMessage(this.options.managementAddress?.()));
        throw new FerryError('NOT_FOUND', `no route for ${method} ${path}`);
      }
    }
  }

  /**
   * POST .../infer. A plain JSON request (no Content-Encoding, no Inference-Header-Content-Length, no binary output
   * asked for) takes the path it always did: one JSON.parse of the body and one JSON text back.
   */
  private async infer(req: IncomingMessage, res: ServerResponse, name: string, version: string | undefined): Promise<void> {
    let request: InferenceRequest;
    try {
      request = await this.readInferRequest(req, name, version);
    } catch (e) {
      throw this.dataplane.unknownModelOr(e, name, version);
    }
    if (request.sharedMemory === true) this.dataplane.sharedMemory.checkPeer(req.socket.remoteAddress);
    const binary = binaryOutputs(request);
    const timeout = timeoutHeader(req);
    const response = await this.dataplane.infer(timeout === undefined ? request : { ...request, deadline: performance.now() + timeout });
    if (response.variant !== undefined) res.setHeader(VARIANT_HEADER, response.variant);
    if (response.recorded) res.setHeader(REQUEST_ID_HEADER, response.id as string);
    if (!binary) return sendBody(req, res, JSON_TYPE, inferResponseJson(response));
    const { json, raw } = binaryInferResponse(response, binary);
    const rawBytes = raw.reduce((n, r) => n + r.byteLength, 0);
    // As Triton: the JSON header and octet-stream only when raw bytes follow it (binary outputs of 0 bytes leave a
    // plain JSON answer). Inference-Header-Content-Length is the length of the uncompressed JSON, also when the
    // whole body is then compressed.
    if (rawBytes === 0) return sendBody(req, res, JSON_TYPE, json);
    const header = Buffer.from(json);
    return sendBody(req, res, 'application/octet-stream', [header, ...raw], { 'Inference-Header-Content-Length': header.length });
  }

  /**
   * Reads and parses the request. Its own function so that the body is not held while the request runs: an input
   * that is a copy leaves the body to be freed young (transferable.ts says why that matters).
   */
  private async readInferRequest(req: IncomingMessage, name: string, version: string | undefined): Promise<InferenceRequest> {
    const limit = this.options.maxBodyBytes;
    const coding = requestCoding(headerText(req, 'content-encoding')); // before reading: an unknown coding is 415 at once
    const jsonHeader = headerText(req, INFERENCE_HEADER_CONTENT_LENGTH);
    let body = await readBody(req, limit, coding ? undefined : rawDataOffset(jsonHeader));
    if (coding) body = await decompress(body, coding, limit);
    const jsonLength = jsonHeaderLength(jsonHeader, body.length);
    return jsonLength === 0
      ? rawBinaryRequest(body, this.dataplane.modelMetadata(name, version), name, version, req.headers)
      : parseInferRequest(body, name, version, jsonLength, req.headers);
  }

  /** Triton's trace extension, server-wide or for a model: tracing is off and stays off (observe/triton-settings.ts). */
  private traceSetting(req: IncomingMessage, res: ServerResponse, method: string, model: string | undefined): Promise<void> {
    allow(method, 'GET', 'POST');
    if (model !== undefined) this.dataplane.registry.model(model); // an unknown model is 404
    const settings = method === 'POST' ? readJsonObject(req, CONTROL_BODY_BYTES).then(applyTraceSettings) : Promise.resolve(traceSettings());
    return sendJson(req, res, settings);
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    sendFailure(req, res, e, this.log);
  }
}

/** Sends the JSON of a value once it is there. */
async function sendJson(req: IncomingMessage, res: ServerResponse, value: Promise<unknown>): Promise<void> {
  return sendBody(req, res, JSON_TYPE, JSON.stringify(await value));
}

/**
 * X-Request-Timeout-Ms: how long the client will wait, in milliseconds. A request still queued after that is
 * dropped with 504 rather than run for nobody (the `timeout` parameter, in microseconds, does the same in the body).
 */
function timeoutHeader(req: IncomingMessage): number | undefined {
  const text = headerText(req, 'x-request-timeout-ms');
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (text.trim() === '' || !Number.isFinite(ms) || ms < 0) {
    throw new FerryError('INVALID_ARGUMENT', `X-Request-Timeout-Ms must be a non-negative number of milliseconds, got '${text}'`);
  }
  return ms;
}

/** A request header as one string (Node joins a repeated custom header with ", "). */
function headerText(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Where raw tensor data starts in a body as sent (not compressed), so that readBody can place it aligned; undefined
 * when the header is absent or malformed (the request is refused for that once its body is read).
 */
function rawDataOffset(jsonHeader: string | undefined): number | undefined {
  try {
    return jsonHeaderLength(jsonHeader, Number.MAX_SAFE_INTEGER);
  } catch {
    return undefined;
  }
}
