/**
 * The management port's REST routes: Triton's model repository extension. Every route but liveness needs the bearer
 * token when one is configured; every load and unload is logged with who asked and what changed.
 *   GET|POST /v2/repository/index                  {"ready": true} lists READY rows only
 *   POST     /v2/repository/models/NAME/load       {"parameters": {"config": "<JSON model config>"}}
 *   POST     /v2/repository/models/NAME/unload
 *   POST     /v2/repository/models/NAME/promote    {"variant": "v4"}: the traffic split's only variant from now on
 *   GET      /v2/health/live
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError } from '../../errors.js';
import type { ModelManagement } from '../../core/model-control.js';
import type { Logger } from '../../observe/logger.js';
import { allow, decodeSegment, pathOf, readJsonObject, sendFailure } from '../v2-rest/http-route.js';
import { logSettings } from '../../observe/triton-settings.js';
import { changeLogSettings } from './log-change.js';
import { JSON_TYPE, send, sendBody } from '../v2-rest/reply.js';
import type { BearerToken } from './bearer-token.js';
import { checkUnloadParameters, loadParameters } from './load-parameters.js';
import { logAction, type Caller } from './action-log.js';

const MODEL_ACTION = /^\/v2\/repository\/models\/([^/]+)\/(load|unload|promote)\/?$/;
/** A load's config is small; anything bigger is not a config. */
const BODY_LIMIT = 1024 * 1024;

export class ManagementRest {
  constructor(
    private readonly management: ModelManagement,
    private readonly token: BearerToken,
    private readonly log: Logger,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((e: unknown) => sendFailure(req, res, e, this.log));
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    const method = req.method ?? 'GET';
    if (path === '/v2/health/live') {
      allow(method, 'GET');
      return send(res, 200);
    }
    this.token.check(req.headers.authorization);
    const who: Caller = { via: 'REST', from: req.socket.remoteAddress ?? 'unknown' };
    if (path === '/v2/repository/index') {
      allow(method, 'GET', 'POST');
      const ready = method === 'POST' ? (await readJsonObject(req, BODY_LIMIT)).ready === true : false;
      return sendBody(req, res, JSON_TYPE, JSON.stringify(await this.management.index(ready)));
    }
    if (path === '/v2/logging') {
      allow(method, 'GET', 'POST');
      const settings = method === 'POST' ? changeLogSettings(this.log, await readJsonObject(req, BODY_LIMIT), who) : logSettings(this.log);
      return sendBody(req, res, JSON_TYPE, JSON.stringify(settings));
    }
    const m = MODEL_ACTION.exec(path);
    if (!m) throw new FerryError('NOT_FOUND', `no route for ${method} ${path} on the management port`);
    allow(method, 'POST');
    const name = decodeSegment(m[1] as string);
    const body = await readJsonObject(req, BODY_LIMIT);
    if (m[2] === 'load') {
      const { config } = loadParameters(body.parameters);
      const outcome = await logAction(this.log, 'load', name, who, config !== undefined, () => this.management.load(name, config));
      return sendBody(req, res, JSON_TYPE, JSON.stringify(outcome));
    }
    if (m[2] === 'promote') {
      const extra = Object.keys(body).filter((k) => k !== 'variant');
      if (extra.length || typeof body.variant !== 'string') throw new FerryError('INVALID_ARGUMENT', `a promote body is {"variant": "<name>"}${extra.length ? ` (unexpected ${extra.map((k) => `'${k}'`).join(', ')})` : ''}`);
      const variant = body.variant;
      const outcome = await logAction(this.log, 'promote', name, who, false, () => this.management.promote(name, variant));
      return sendBody(req, res, JSON_TYPE, JSON.stringify(outcome));
    }
    checkUnloadParameters(body.parameters);
    const outcome = await logAction(this.log, 'unload', name, who, false, () => this.management.unload(name));
    return sendBody(req, res, JSON_TYPE, JSON.stringify(outcome));
  }
}
