/** ferry's V2 client: one entry point for applications and for `ferry bench`. */
export { V2HttpClient, decodeInferReply, inferPath, modelPath, parseHttpUrl, type HttpClientOptions, type HttpReply, type InferCallOptions } from './http-client.js';
export { V2GrpcClient, decodeGrpcInferResponse, encodeGrpcInferRequest, type GrpcClientOptions, type GrpcInferOptions } from './grpc-client.js';
export { encodeRestRequest, decodeRestResponse, parseV2Json, INFERENCE_HEADER_CONTENT_LENGTH, type EncodedRestRequest, type RestEncoding } from './rest-codec.js';
export { toGrpcInferRequest, fromGrpcInferResponse, type GrpcContents, type GrpcInferRequest } from './grpc-codec.js';
export { V2ClientError, restErrorMessage, type ClientErrorKind } from './client-error.js';
export type { InferRequest, InferResult, ModelMetadata, RequestedOutput, TensorMetadata } from './types.js';
