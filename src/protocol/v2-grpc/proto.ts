/** Loads the V2 service definition (reflection, loaded on its first call, adds the health service: lazy-services.ts). */
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const V2_PROTO = fileURLToPath(new URL('../../../proto/grpc_predict_v2.proto', import.meta.url));

/** keepCase: fields keep the .proto's names; longs as strings: 64-bit integers stay exact. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export function loadV2Definition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(V2_PROTO, LOADER_OPTIONS);
}

export const V2_SERVICE = 'inference.GRPCInferenceService';
