/**
 * Native memory across model reloads. glibc's malloc serves a block above its mmap threshold with mmap and gives it
 * back to the system when freed, but raises that threshold to the size of each such block freed (up to 32 MB): after
 * the first released session, onnxruntime's arena chunks come from the heap instead, and a released model's memory
 * stays with the process. Measured here (bench/reload-cycles.mjs, the image CNN loaded and unloaded 30 times): RSS
 * 1.8-2.3x after the first cycle, against 1.04-1.09x with the threshold fixed at 1 MiB. The threshold can only be set
 * before the process starts (MALLOC_MMAP_THRESHOLD_), so: bin/ferry sets it, ferry sets it for the worker processes
 * it forks, and a server started without it says so once. musl and other allocators ignore the variable.
 */
export const MMAP_THRESHOLD_ENV = 'MALLOC_MMAP_THRESHOLD_';
/** Above this, blocks are mmapped and returned on free; request bodies and small tensors stay on the heap. */
export const MMAP_THRESHOLD_BYTES = 1024 * 1024;

/** `env` with the threshold set, unless it already says otherwise. */
export function withMmapThreshold(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env[MMAP_THRESHOLD_ENV] === undefined ? { ...env, [MMAP_THRESHOLD_ENV]: String(MMAP_THRESHOLD_BYTES) } : env;
}

/** A line for the start-up log when models will be reloaded in a process started without the threshold. */
export function mmapThresholdHint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== 'linux' || env[MMAP_THRESHOLD_ENV] !== undefined) return undefined;
  return `${MMAP_THRESHOLD_ENV} is not set: with glibc, memory a reloaded model frees may stay with this process; start ferry with bin/ferry (npx ferry), or set ${MMAP_THRESHOLD_ENV}=${MMAP_THRESHOLD_BYTES} (README: Rolling out a new model version)`;
}
