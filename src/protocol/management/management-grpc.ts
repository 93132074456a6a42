/**
 * The management port's gRPC methods: Triton's RepositoryIndex, RepositoryModelLoad and RepositoryModelUnload on
 * the V2 service (the port's other V2 methods answer UNIMPLEMENTED: inference is the public ports'). The bearer
 * token, when configured, is checked before any call is routed (Http2GrpcServer's authorize hook).
 */
import { isFerryError } from '../../errors.js';
import type { ModelManagement } from '../../core/model-control.js';
import type { Logger } from '../../observe/logger.js';
import { GRPC_STATUS } from '../v2-grpc/status.js';
import { v2Service } from '../v2-grpc/proto.js';
import type { RepositoryIndexRequest, RepositoryModelRequest } from '../v2-grpc/messages.js';
import { indexToGrpc, parametersFromGrpc } from '../v2-grpc/repository-messages.js';
import { unary } from '../v2-grpc/unary.js';
import { Http2GrpcServer, type ServiceDefinition } from '../grpc-http2/server.js';
import type { ServerCall } from '../grpc-http2/server-call.js';
import { logAction, type Caller } from './action-log.js';
import type { BearerToken } from './bearer-token.js';
import { checkUnloadParameters, loadParameters } from './load-parameters.js';
import { logSettingsFromGrpc, logSettingsToGrpc, type LogSettingsMessage } from '../v2-grpc/settings-messages.js';
import { changeLogSettings } from './log-change.js';

export function managementGrpcServer(management: ModelManagement, token: BearerToken, log: Logger): Http2GrpcServer {
  const server = new Http2GrpcServer({
    maxMessageBytes: 1024 * 1024,
    authorize: (headers) => {
      try {
        token.check(headers.authorization);
        return undefined;
      } catch (e) {
        return isFerryError(e) ? { code: GRPC_STATUS[e.code], message: e.message } : undefined;
      }
    },
  });
  const v2 = v2Service();
  const who = (call: ServerCall): Caller => ({ via: 'gRPC', from: call.getPeer() });
  server.addService(v2.definition as unknown as ServiceDefinition, {
    RepositoryIndex: unary(log, async (req: RepositoryIndexRequest) => indexToGrpc(await management.index(req.ready))),
    RepositoryModelLoad: unary(log, async (req: RepositoryModelRequest, call) => {
      const { config } = loadParameters(parametersFromGrpc(req.parameters));
      await logAction(log, 'load', req.model_name, who(call), config !== undefined, () => management.load(req.model_name, config));
      return {};
    }),
    RepositoryModelUnload: unary(log, async (req: RepositoryModelRequest, call) => {
      checkUnloadParameters(parametersFromGrpc(req.parameters));
      await logAction(log, 'unload', req.model_name, who(call), false, () => management.unload(req.model_name));
      return {};
    }),
    LogSettings: unary(log, (req: LogSettingsMessage, call) => logSettingsToGrpc(changeLogSettings(log, logSettingsFromGrpc(req), who(call)))),
  }, v2.prepare);
  return server;
}
