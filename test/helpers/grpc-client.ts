/** A real gRPC client built from the project's .proto with @grpc/grpc-js and @grpc/proto-loader, as a user would. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protoPath as healthProto } from 'grpc-health-check';

const PROTO = fileURLToPath(new URL('../../proto/grpc_predict_v2.proto', import.meta.url));
const OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const require = createRequire(import.meta.url);
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

export interface CallResult<T = any> {
  readonly error: grpc.ServiceError | null;
  readonly response: T;
}

export class V2GrpcClient {
  private readonly client: grpc.Client & Record<string, Function>;

  /** `service`: another service of the same .proto (ferry's FerryExperimentService). */
  constructor(address: string, options: grpc.ClientOptions = {}, service = 'GRPCInferenceService') {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, OPTIONS)) as any;
    this.client = new pkg.inference[service](address, grpc.credentials.createInsecure(), options);
  }

  call<T = any>(method: string, request: object, metadata = new grpc.Metadata()): Promise<CallResult<T>> {
    return new Promise((resolve) => {
      this.client[method]!.call(this.client, request, metadata, (error: grpc.ServiceError | null, response: T) => resolve({ error, response }));
    });
  }

  close(): void {
    this.client.close();
  }
}

export function healthCheck(address: string, service: string): Promise<CallResult<{ status: string }>> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, OPTIONS)) as any;
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.Check({ service }, (error: grpc.ServiceError | null, response: { status: string }) => {
      client.close();
      resolve({ error, response });
    });
  });
}

/** Lists the services through gRPC server reflection (v1), as grpcurl does. */
export function reflectionListServices(address: string): Promise<string[]> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(REFLECTION_PROTO, OPTIONS)) as any;
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on('data', (msg: any) => {
      resolve(msg.list_services_response.service.map((s: { name: string }) => s.name));
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
}

/** The strings of a raw BYTES tensor (each element: its length, 4 bytes little-endian, then its bytes). */
export function rawStrings(raw: Uint8Array): string[] {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: string[] = [];
  for (let at = 0; at < b.length; ) {
    const n = b.readUInt32LE(at);
    out.push(b.subarray(at + 4, at + 4 + n).toString('utf8'));
    at += 4 + n;
  }
  return out;
}
