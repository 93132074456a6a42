#!/usr/bin/env node
/**
 * Writes proto/grpc_predict_v2.json, the V2 service as a protobufjs JSON descriptor, from proto/grpc_predict_v2.proto
 * (field names as written: keepCase). ferry serve builds its gRPC service from the JSON, so it neither loads the
 * .proto parser nor parses at start-up. `npm run build` runs this; test/protocol/v2-service.test.ts fails when the
 * JSON is not what this script makes from the .proto.
 *
 *   node scripts/proto-json.mjs [--print]
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const PROTO = fileURLToPath(new URL('../proto/grpc_predict_v2.proto', import.meta.url));
export const JSON_FILE = fileURLToPath(new URL('../proto/grpc_predict_v2.json', import.meta.url));

export function descriptorText() {
  const root = new protobuf.Root().loadSync(PROTO, { keepCase: true });
  root.resolveAll();
  return `${JSON.stringify(root.toJSON(), null, 1)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--print')) process.stdout.write(descriptorText());
  else writeFileSync(JSON_FILE, descriptorText());
}
