/**
 * The records API of TensorFlow Serving's REST API and KServe's V1 protocol, on the V2 front's HTTP port (the V2
 * front hands it every path under /v1/). Their clients (`requests.post(".../v1/models/churn:predict", json={
 * "instances": [...]})`, KServe's V1 SDK, TF Serving's) then work against ferry unchanged:
 *
 *   POST /v1/models/NAME[/versions/V]:predict     rows {"instances"} or columns {"inputs"} -> predictions / outputs
 *   GET  /v1/models/NAME[/versions/V]             the versions' states, and ready
 *   GET  /v1/models/NAME[/versions/V]/metadata    TF Serving's signature map
 *   GET  /v1/models                               the ready models (KServe V1)
 *
 * Like every front it only converts: predict-request.ts builds tensors from the model's metadata, the data plane
 * checks and runs them, predict-answer.ts writes the answer. Errors are `{"error": "..."}`, the V2 front's shape and
 * also TF Serving's and KServe V1's, with the status the neutral code maps to.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { InferenceRequest, Mutable } from '../../dataplane/types.js';
import { readBody } from '../v2-rest/body.js';
import { decompress, requestCoding } from '../v2-rest/compression.js';
import { allow, decodeSegment } from '../v2-rest/http-route.js';
import { parseJsonText } from '../v2-rest/infer-json.js';
import { JSON_TYPE, sendBody } from '../v2-rest/reply.js';
import { modelMetadataTf, modelStatus, readyModels } from './model-status.js';
import { outputsJson, predictionsJson } from './predict-answer.js';
import { predictRequest } from './predict-request.js';

/**
 * /v1/models/NAME[/versions/V][:verb|/metadata]. A name holds anything but '/' and ':' (the verb's separator);
 * percent-encoded, it may hold those too, as on the V2 routes.
 */
const MODEL_ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?(:[^/]*|\/metadata)?\/?$/;

/** Which traffic split variant answered, as on the V2 routes. */
const VARIANT_HEADER = 'X-Ferry-Variant';
/** The id an experiment recorded the answer under (feedback names it), as on the V2 routes. */
const REQUEST_ID_HEADER = 'X-Request-Id';

export class V1Front {
  constructor(
    private readonly dataplane: DataPlane,
    private readonly maxBodyBytes: number,
  ) {}

  /** Answers a request whose path starts with /v1/ (NOT_FOUND for one that is none of the routes). */
  route(req: IncomingMessage, res: ServerResponse, path: string, method: string): void | Promise<void> {
    if (path === '/v1/models' || path === '/v1/models/') {
      allow(method, 'GET');
      return readyModels(this.dataplane).then((list) => sendBody(req, res, JSON_TYPE, JSON.stringify(list)));
    }
    const m = MODEL_ROUTE.exec(path);
    if (!m) throw new FerryError('NOT_FOUND', `no route for ${method} ${path}`);
    const name = decodeSegment(m[1] as string);
    const version = m[2] === undefined ? undefined : decodeSegment(m[2]);
    const action = m[3];
    if (action === ':predict') {
      allow(method, 'POST');
      return this.predict(req, res, name, version);
    }
    if (action !== undefined && action !== '/metadata') {
      // TF Serving's :classify and :regress take tf.Example protos, and KServe's :explain runs an explainer.
      throw new FerryError('NOT_FOUND', `'${action}' is not served: ferry answers ${action === ':explain' ? 'no explanations' : 'only :predict'} on /v1/models/${m[1]}`);
    }
    allow(method, 'GET');
    const answer = action === '/metadata' ? modelMetadataTf(this.dataplane, name, version) : modelStatus(this.dataplane, name, version);
    return sendBody(req, res, JSON_TYPE, JSON.stringify(answer));
  }

  private async predict(req: IncomingMessage, res: ServerResponse, name: string, version: string | undefined): Promise<void> {
    // Routed before the body is read: an unknown model is 404 and one not ready 503 whatever the body holds, and the
    // inputs of the version that will answer (a traffic split's choice) are what the records are read against.
    const route = this.dataplane.route(name, version, req.headers);
    const doc = parseJsonText((await this.readBody(req)).toString('utf8'));
    const { format, inputs, rows } = predictRequest(doc, route.version.recordInputs);
    const request: Mutable<InferenceRequest> = { modelName: name, inputs, headers: req.headers };
    if (version !== undefined) request.modelVersion = version;
    const response = await this.dataplane.infer(request, route);
    if (response.variant !== undefined) res.setHeader(VARIANT_HEADER, response.variant);
    if (response.recorded) res.setHeader(REQUEST_ID_HEADER, response.id as string);
    return sendBody(req, res, JSON_TYPE, format === 'row' ? predictionsJson(response.outputs, rows) : outputsJson(response.outputs));
  }

  /** The body, decompressed when its Content-Encoding says so (as on the V2 routes), within the size limit. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const header = req.headers['content-encoding'];
    const coding = requestCoding(Array.isArray(header) ? header.join(', ') : header); // an unknown coding is 415 at once
    const body = await readBody(req, this.maxBodyBytes);
    return coding ? decompress(body, coding, this.maxBodyBytes) : body;
  }
}
