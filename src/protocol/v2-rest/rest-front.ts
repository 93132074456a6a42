/**
 * The V2 REST front on node:http. node:http rather than Fastify: on the per-request path Fastify measured 15-25%
 * slower here (../shared/DESIGN.md), and the V2 surface is a handful of fixed routes a regular expression serves.
 * Each route only converts between HTTP and the data plane.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError, isFerryError, messageOf } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { Logger } from '../../observe/logger.js';
import { readBody } from './body.js';
import { inferResponseJson, parseInferRequest } from './infer-json.js';
import { HTTP_STATUS } from './status.js';

export interface RestFrontOptions {
  readonly maxBodyBytes: number;
}

/** /v2/models/NAME[/versions/V][/ready|/infer] */
const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?\/?$/;

export class RestFront {
  /** Set during a graceful stop: every response then asks the client to close its connection. */
  closing = false;

  constructor(
    private readonly dataplane: DataPlane,
    private readonly options: RestFrontOptions,
    private readonly log: Logger,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.closing) res.setHeader('Connection', 'close');
    this.route(req, res).catch((e: unknown) => this.fail(req, res, e));
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const dp = this.dataplane;

    const m = MODEL_ROUTE.exec(path);
    if (m) {
      const name = decodeSegment(m[1] as string);
      const version = m[2] === undefined ? undefined : decodeSegment(m[2]);
      const action = m[3];
      if (action === '/infer') {
        allow(method, 'POST');
        const body = await readBody(req, this.options.maxBodyBytes);
        const response = await dp.infer(parseInferRequest(body, name, version));
        return send(res, 200, inferResponseJson(response));
      }
      allow(method, 'GET');
      if (action === '/ready') {
        dp.modelReady(name, version);
        return send(res, 200);
      }
      return send(res, 200, JSON.stringify(dp.modelMetadata(name, version)));
    }
    switch (path) {
      case '/v2/health/live':
        allow(method, 'GET');
        return send(res, 200);
      case '/v2/health/ready':
        allow(method, 'GET');
        return dp.ready() ? send(res, 200) : sendError(res, 503, dp.notReadyReason() ?? 'server is not ready');
      case '/v2':
      case '/v2/':
        allow(method, 'GET');
        return send(res, 200, JSON.stringify(dp.serverMetadata()));
      case '/v2/repository/index':
        allow(method, 'POST', 'GET');
        // Triton's repository index: every model and version with its state and, when unavailable, why.
        return send(res, 200, JSON.stringify(dp.repositoryIndex()));
      default:
        throw new FerryError('NOT_FOUND', `no route for ${method} ${path}`);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    let status: number;
    let message: string;
    if (isFerryError(e)) {
      status = HTTP_STATUS[e.code];
      message = e.message;
      if (e.code === 'METHOD_NOT_ALLOWED') res.setHeader('Allow', (e as MethodNotAllowed).allowed.join(', '));
    } else {
      status = 500;
      message = `internal error: ${messageOf(e)}`;
    }
    if (status >= 500) this.log.error({ method: req.method, url: req.url, status }, message);
    if (status === 413) res.setHeader('Connection', 'close'); // the rest of the body is not read
    sendError(res, status, message);
  }
}

class MethodNotAllowed extends FerryError {
  constructor(method: string, readonly allowed: string[]) {
    super('METHOD_NOT_ALLOWED', `method ${method} is not allowed here (allowed: ${allowed.join(', ')})`);
  }
}

function allow(method: string, ...allowed: string[]): void {
  if (allowed.includes(method) || (method === 'HEAD' && allowed.includes('GET'))) return;
  throw new MethodNotAllowed(method, allowed);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new FerryError('INVALID_ARGUMENT', `malformed percent-encoding in URL segment '${s}'`);
  }
}

function send(res: ServerResponse, status: number, body?: string): void {
  if (body === undefined) {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, status, JSON.stringify({ error: message }));
}
