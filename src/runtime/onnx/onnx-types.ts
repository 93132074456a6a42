/** ONNX Runtime tensor types <-> V2 datatypes. */
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import type { Datatype } from '../../tensor/datatypes.js';

type OrtType = OrtTensor.Type;

const ORT_TO_V2: Partial<Record<OrtType, Datatype>> = {
  bool: 'BOOL', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64',
  float16: 'FP16', float32: 'FP32', float64: 'FP64', string: 'BYTES',
};

const V2_TO_ORT: Record<Datatype, OrtType> = {
  BOOL: 'bool', INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
};

export function v2FromOrt(type: OrtType): Datatype | undefined {
  return ORT_TO_V2[type];
}

export function ortFromV2(datatype: Datatype): OrtType {
  return V2_TO_ORT[datatype];
}

/** ONNX symbolic dimensions ("N", "batch_size") and unknown sizes become -1, the V2 mark for "any size". */
export function v2Shape(shape: ReadonlyArray<number | string>): number[] {
  return shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
}
