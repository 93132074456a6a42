/** Messages between the server and an inference worker (a worker thread or a child process). */
import type { ErrorCode } from '../../errors.js';
import type { SessionConfig } from '../../config/model-config.js';
import type { Tensor, TensorSpec } from '../../tensor/tensor.js';

export type ToWorker =
  | { readonly type: 'load'; readonly file: string; readonly session: SessionConfig | undefined; readonly parameters: Readonly<Record<string, string>> | undefined; readonly nice: number }
  | { readonly type: 'run'; readonly id: number; readonly inputs: readonly Tensor[]; readonly outputNames: readonly string[] }
  | { readonly type: 'release' };

export type FromWorker =
  | {
      readonly type: 'loaded';
      readonly platform: string;
      readonly inputs: TensorSpec[];
      readonly outputs: TensorSpec[];
      readonly labels: [string, (string | number)[]][];
      readonly notes: string[];
      readonly warnings: string[];
    }
  | { readonly type: 'load-failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Tensor[] }
  | { readonly type: 'error'; readonly id: number; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'released' };
