/**
 * Amazon SageMaker's inference container contract, on the HTTP port when `--sagemaker` is on (and in the image's
 * bare `serve`): `GET /ping` answers 200 once the server is ready, and `POST /invocations` runs a prediction. The
 * model is the one the repository holds, or the one `X-Amzn-SageMaker-Target-Model` names (multi-model endpoints
 * send the artifact's path, e.g. `churn.tar.gz`: its base name without the archive suffix is the model's name).
 *
 * Bodies (sagemaker-bodies.ts converts them): JSON in the V2 form (`{"inputs": [...]}`, answered in the V2 form),
 * JSON instances (`{"instances": [...]}`, one per row of a one-input model, answered `{"predictions": [...]}`), or
 * `text/csv` rows of a one-input model (answered as CSV rows, one per input row). `Accept` may ask for the other
 * format. Everything runs through the same data plane as the V2 routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError, invalid } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import { readBody } from '../v2-rest/body.js';
import { allow } from '../v2-rest/http-route.js';
import { inferRequestFromJson, inferResponseJson, parseJsonText } from '../v2-rest/infer-json.js';
import { JSON_TYPE, send, sendBody, sendError } from '../v2-rest/reply.js';
import { csvAnswer, csvRequest, instancesRequest, predictionsAnswer, type RowsRequest } from './sagemaker-bodies.js';

export const TARGET_MODEL_HEADER = 'x-amzn-sagemaker-target-model';
const CSV_TYPE = 'text/csv';

type Format = 'json' | 'csv';

export class SageMakerFront {
  constructor(
    private readonly dataplane: DataPlane,
    private readonly maxBodyBytes: number,
  ) {}

  /** Answers the request when its path is one of SageMaker's; returns false when it is not. */
  route(req: IncomingMessage, res: ServerResponse, path: string, method: string): void | Promise<void> | false {
    if (path === '/ping') {
      allow(method, 'GET');
      const reason = this.dataplane.notReadyReason();
      return reason === undefined ? send(res, 200) : sendError(res, 503, reason);
    }
    if (path === '/invocations') {
      allow(method, 'POST');
      return this.invoke(req, res);
    }
    return false;
  }

  private async invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = this.modelName(req);
    const format = requestFormat(req.headers['content-type']);
    const answer = answerFormat(req.headers.accept, format);
    const body = await readBody(req, this.maxBodyBytes);
    const doc = format === 'json' ? parseJsonText(body.toString('utf8')) : undefined;
    if (doc !== undefined && !isInstances(doc)) {
      if (answer === 'csv') throw new FerryError('NOT_ACCEPTABLE', 'a request in the V2 form is answered in the V2 form (JSON): send Accept: application/json, or send rows (text/csv or {"instances": [...]}) for a CSV answer');
      const response = await this.dataplane.infer(inferRequestFromJson(doc, name, undefined, undefined, req.headers));
      return sendBody(req, res, JSON_TYPE, inferResponseJson(response));
    }
    const input = this.dataplane.modelMetadata(name).inputs;
    if (input.length !== 1) {
      throw invalid(`model '${name}' has ${input.length} inputs (${input.map((t) => t.name).join(', ')}): rows (text/csv or {"instances": [...]}) need a model with one input; send the V2 form ({"inputs": [...]}) instead`);
    }
    const rows: RowsRequest = doc === undefined ? csvRequest(body, input[0]!) : instancesRequest(doc, input[0]!);
    const response = await this.dataplane.infer({ modelName: name, inputs: [rows.tensor], headers: req.headers });
    return answer === 'csv'
      ? sendBody(req, res, CSV_TYPE, csvAnswer(response.outputs))
      : sendBody(req, res, JSON_TYPE, predictionsAnswer(response.outputs));
  }

  /** The model an invocation is for: the target model header's, or the only one served. */
  private modelName(req: IncomingMessage): string {
    const target = req.headers[TARGET_MODEL_HEADER];
    if (typeof target === 'string' && target !== '') return modelOfArtifact(target);
    const names = this.dataplane.registry.names();
    if (names.length === 1) return names[0]!;
    if (names.length === 0) throw new FerryError('UNAVAILABLE', 'no model is loaded yet');
    throw invalid(`this server has ${names.length} models (${names.join(', ')}): name one with the X-Amzn-SageMaker-Target-Model header`);
  }
}

/** `models/churn.tar.gz` -> `churn`: a multi-model endpoint names the artifact, ferry serves it as a model. */
export function modelOfArtifact(target: string): string {
  const base = target.split('/').filter((s) => s !== '').pop() ?? target;
  return base.replace(/\.(tar\.gz|tgz|tar)$/i, '');
}

function requestFormat(contentType: string | undefined): Format {
  const type = (contentType ?? JSON_TYPE).split(';')[0]!.trim().toLowerCase();
  if (type === CSV_TYPE) return 'csv';
  if (type === JSON_TYPE || type === '' || type.endsWith('+json')) return 'json';
  throw new FerryError('UNSUPPORTED_MEDIA_TYPE', `Content-Type '${contentType}' is not one /invocations reads: send application/json (V2 form or {"instances": [...]}) or text/csv`);
}

/** The answer's format: what Accept asks for when it names one ferry writes, else the request's own. */
function answerFormat(accept: string | undefined, request: Format): Format {
  if (!accept) return request;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.includes(request === 'csv' ? CSV_TYPE : JSON_TYPE) || types.includes('*/*')) return request;
  if (types.includes(JSON_TYPE)) return 'json';
  if (types.includes(CSV_TYPE)) return 'csv';
  throw new FerryError('NOT_ACCEPTABLE', `Accept '${accept}' names nothing /invocations writes: application/json or text/csv`);
}

/** Rows rather than a V2 request: `{"instances": [...]}`, or a bare array of them. */
function isInstances(doc: unknown): boolean {
  return Array.isArray(doc) || (typeof doc === 'object' && doc !== null && 'instances' in doc);
}
