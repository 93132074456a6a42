/**
 * The shapes of the V2 gRPC messages as @grpc/proto-loader decodes them with the options in proto.ts
 * (keepCase, longs as strings so 64-bit integers stay exact, defaults filled in, oneofs named).
 */
export interface InferParameter {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
}

export type ParameterMap = Record<string, InferParameter>;

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: (string | number)[];
  uint_contents: number[];
  uint64_contents: (string | number)[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters: ParameterMap;
  contents: Partial<InferTensorContents> | null;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: ParameterMap;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: ParameterMap }[];
  raw_input_contents: Uint8Array[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  /** Only for an output written into shared memory: which region, and how many bytes. */
  parameters?: ParameterMap;
  contents?: Partial<InferTensorContents>;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
  raw_output_contents: Uint8Array[];
}

export interface ModelRequest {
  name: string;
  version: string;
}

/** Triton's model repository extension. */
export interface RepositoryIndexRequest {
  repository_name: string;
  ready: boolean;
}

export interface RepositoryModelIndex {
  name: string;
  version: string;
  state: string;
  reason: string;
}

export interface ModelRepositoryParameter {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  bytes_param?: Uint8Array;
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'bytes_param';
}

export interface RepositoryModelRequest {
  repository_name: string;
  model_name: string;
  parameters: Record<string, ModelRepositoryParameter>;
}
