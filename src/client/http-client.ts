/**
 * A V2 REST client on node:http with a keep-alive agent: health, metadata and inference, JSON or binary tensors.
 * Errors are V2ClientError, so "unknown model" and "server not running" can be told apart.
 */
import http from 'node:http';
import https from 'node:https';
import { V2ClientError, restErrorMessage } from './client-error.js';
import { decodeRestResponse, encodeRestRequest, INFERENCE_HEADER_CONTENT_LENGTH, type RestEncoding } from './rest-codec.js';
import type { InferRequest, InferResult, ModelMetadata } from './types.js';

export interface HttpClientOptions {
  /** Milliseconds to wait for a whole response; 0 waits forever. Default 30 s. */
  readonly timeoutMs?: number;
  /** Connections kept open to the server. Default 8. */
  readonly maxSockets?: number;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface InferCallOptions {
  readonly version?: string;
  /** Default 'json'. */
  readonly encoding?: RestEncoding;
}

export class V2HttpClient {
  /** The server's base URL without a trailing slash, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(url: string, options: HttpClientOptions = {}) {
    this.base = parseHttpUrl(url);
    this.url = this.base.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 8 };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  async serverLive(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/live')).status === 200;
  }

  async serverReady(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/ready')).status === 200;
  }

  async modelReady(model: string, version?: string): Promise<boolean> {
    return (await this.request('GET', `${modelPath(model, version)}/ready`)).status === 200;
  }

  async modelMetadata(model: string, version?: string): Promise<ModelMetadata> {
    const reply = await this.expectOk(await this.request('GET', modelPath(model, version)));
    const doc = parseJson(reply.body) as Partial<ModelMetadata>;
    if (!Array.isArray(doc.inputs) || !Array.isArray(doc.outputs)) {
      throw new V2ClientError('protocol', `the model metadata of '${model}' at ${this.url} has no inputs/outputs arrays`);
    }
    return {
      name: String(doc.name ?? model),
      versions: Array.isArray(doc.versions) ? doc.versions.map(String) : [],
      platform: String(doc.platform ?? ''),
      inputs: doc.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) })),
      outputs: doc.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) })),
    };
  }

  async infer(model: string, request: InferRequest, options: InferCallOptions = {}): Promise<InferResult> {
    const encoded = encodeRestRequest(request, options.encoding ?? 'json');
    const reply = await this.expectOk(await this.request('POST', inferPath(model, options.version), encoded.body, encoded.headers));
    return decodeInferReply(reply);
  }

  /** One HTTP exchange, body read whole. Network failures and timeouts are V2ClientError('network'). */
  request(method: string, path: string, body?: Buffer, headers: Readonly<Record<string, string>> = {}): Promise<HttpReply> {
    const url = new URL(path.replace(/^\//, ''), `${this.url}/`);
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, timeout: this.timeoutMs || undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => reject(this.networkError(e)));
      });
      req.on('timeout', () => req.destroy(new Error(`no response within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(this.networkError(e)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private expectOk(reply: HttpReply): HttpReply {
    if (reply.status === 200) return reply;
    const message = restErrorMessage(reply.body.toString('utf8'));
    throw new V2ClientError('status', `HTTP ${reply.status}: ${message}`, reply.status, message);
  }

  private networkError(e: Error): V2ClientError {
    return new V2ClientError('network', `cannot reach ${this.url}: ${e.message || (e as NodeJS.ErrnoException).code}`);
  }
}

/** Decodes a 200 inference reply, JSON or binary (by its Inference-Header-Content-Length header). */
export function decodeInferReply(reply: HttpReply): InferResult {
  const header = reply.headers[INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()];
  return decodeRestResponse(reply.body, typeof header === 'string' ? Number(header) : undefined);
}

export function modelPath(model: string, version?: string): string {
  const v = version === undefined || version === '' ? '' : `/versions/${encodeURIComponent(version)}`;
  return `/v2/models/${encodeURIComponent(model)}${v}`;
}

export function inferPath(model: string, version?: string): string {
  return `${modelPath(model, version)}/infer`;
}

/** Accepts http(s)://host[:port][/prefix]; a bare host:port is taken as http. */
export function parseHttpUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new V2ClientError('protocol', `'${text}' is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new V2ClientError('protocol', `'${text}' is not an http:// or https:// URL`);
  }
  return url;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new V2ClientError('protocol', `the server answered something that is not JSON: ${(e as Error).message}`);
  }
}
