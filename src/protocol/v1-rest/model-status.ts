/**
 * The records API's read-only model routes, as TensorFlow Serving and KServe V1 clients read them:
 * - `GET /v1/models/NAME[/versions/V]`: one object both understand, TF Serving's `model_version_status` (a state
 *   per version, with the reason a version failed) beside KServe V1's `name` and `ready`;
 * - `GET /v1/models/NAME[/versions/V]/metadata`: TF Serving's signature map, the model's inputs and outputs under
 *   the one signature ferry serves, `serving_default`, with TensorFlow's DT_* datatype names;
 * - `GET /v1/models`: KServe V1's list of the models that can answer.
 * States are read from the registry through the data plane; nothing here changes them.
 */
import { isFerryError, notFound } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { TensorMetadata } from '../../dataplane/types.js';
import { SIGNATURE_NAME } from './predict-request.js';

type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

/** ferry's states -> TF Serving's ModelVersionStatus.State (END: the version is not served, here because it failed). */
const TF_STATE: Readonly<Record<ModelState, string>> = {
  LOADING: 'LOADING',
  READY: 'AVAILABLE',
  UNLOADING: 'UNLOADING',
  UNAVAILABLE: 'END',
};

/** ferry's datatypes -> TensorFlow's DataType names, as TF Serving's metadata writes them. */
const TF_DTYPE: Readonly<Record<string, string>> = {
  BOOL: 'DT_BOOL',
  INT8: 'DT_INT8',
  INT16: 'DT_INT16',
  INT32: 'DT_INT32',
  INT64: 'DT_INT64',
  UINT8: 'DT_UINT8',
  UINT16: 'DT_UINT16',
  UINT32: 'DT_UINT32',
  UINT64: 'DT_UINT64',
  FP16: 'DT_HALF',
  FP32: 'DT_FLOAT',
  FP64: 'DT_DOUBLE',
  BYTES: 'DT_STRING',
};

const VERSION_TEXT = /^[1-9][0-9]*$/;

export interface VersionStatus {
  readonly version: string;
  readonly state: string;
  readonly status: { readonly error_code: 'OK' | 'UNKNOWN'; readonly error_message: string };
}

export interface ModelStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly model_version_status: VersionStatus[];
  /** Why the model as a whole serves nothing (a bad config), when it does not: no version says it. */
  readonly reason?: string;
}

/** The status of a model's versions, or of the one named. An unknown model or version is NOT_FOUND. */
export function modelStatus(dp: DataPlane, name: string, version: string | undefined): ModelStatus {
  const model = dp.registry.model(name); // NOT_FOUND for an unknown model, with why when it is known but not loaded
  let versions = [...model.versions.values()].sort((a, b) => a.version - b.version);
  if (version !== undefined) {
    const v = VERSION_TEXT.test(version) ? model.versions.get(Number(version)) : undefined;
    if (!v) throw versionNotFound(dp, name, version);
    versions = [v];
  }
  const status: ModelStatus = {
    name,
    ready: model.problem === undefined && versions.some((v) => v.state === 'READY'),
    model_version_status: versions.map((v) => ({
      version: v.versionText,
      state: TF_STATE[v.state],
      status: v.state === 'UNAVAILABLE'
        ? { error_code: 'UNKNOWN', error_message: v.reason ?? 'unavailable' }
        : { error_code: 'OK', error_message: '' },
    })),
  };
  return model.problem === undefined ? status : { ...status, reason: model.problem };
}

/** The registry's own NOT_FOUND for a version (it says when the version is on disk but not served), else a plain one. */
function versionNotFound(dp: DataPlane, name: string, version: string): unknown {
  try {
    dp.registry.resolve(name, version);
  } catch (e) {
    if (isFerryError(e) && e.code === 'NOT_FOUND') return e;
  }
  return notFound(`model '${name}' has no version '${version}'`);
}

/** TF Serving's GetModelMetadata answer for the version a request would use (or the one named). */
export function modelMetadataTf(dp: DataPlane, name: string, version: string | undefined): unknown {
  const metadata = dp.modelMetadata(name, version); // NOT_FOUND, or UNAVAILABLE with the reason
  return {
    model_spec: { name, signature_name: '', version: version ?? metadata.versions[metadata.versions.length - 1] ?? '' },
    metadata: {
      signature_def: {
        signature_def: {
          [SIGNATURE_NAME]: {
            inputs: tensorInfos(metadata.inputs),
            outputs: tensorInfos(metadata.outputs),
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
    },
  };
}

function tensorInfos(tensors: readonly TensorMetadata[]): Record<string, unknown> {
  const infos: Record<string, unknown> = {};
  for (const t of tensors) {
    infos[t.name] = {
      dtype: TF_DTYPE[t.datatype] ?? 'DT_INVALID',
      tensor_shape: { dim: t.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false },
      name: t.name,
    };
  }
  return infos;
}

/** KServe V1's `GET /v1/models`: the names of the models with a READY version. */
export async function readyModels(dp: DataPlane): Promise<{ models: string[] }> {
  const entries = await dp.repositoryIndex(true);
  return { models: [...new Set(entries.filter((e) => e.state === 'READY').map((e) => e.name))] };
}
