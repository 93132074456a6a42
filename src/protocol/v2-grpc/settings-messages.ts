/** Triton's TraceSetting and LogSettings messages <-> ferry's settings (observe/triton-settings.ts). */
import type { LogSettings } from '../../observe/triton-settings.js';

type LogValue = { bool_param?: boolean; uint32_param?: number; string_param?: string; parameter_choice?: string };

export interface LogSettingsMessage {
  settings: Record<string, LogValue>;
}

export interface TraceSettingMessage {
  settings: Record<string, { value: string[] }>;
  model_name?: string;
}

/** The request's settings as plain values (the oneof's chosen field). */
export function logSettingsFromGrpc(req: LogSettingsMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(req.settings ?? {})) {
    const choice = v.parameter_choice as keyof LogValue | undefined;
    out[key] = choice ? v[choice] : (v.bool_param ?? v.uint32_param ?? v.string_param);
  }
  return out;
}

export function logSettingsToGrpc(settings: LogSettings): LogSettingsMessage {
  const out: Record<string, LogValue> = {};
  for (const [key, v] of Object.entries(settings)) {
    out[key] = typeof v === 'boolean' ? { bool_param: v } : typeof v === 'number' ? { uint32_param: v } : { string_param: v };
  }
  return { settings: out };
}

export function traceSettingsFromGrpc(req: TraceSettingMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(req.settings ?? {})) out[key] = v.value ?? [];
  return out;
}

export function traceSettingsToGrpc(settings: Record<string, string[]>): TraceSettingMessage {
  return { settings: Object.fromEntries(Object.entries(settings).map(([k, value]) => [k, { value }])) };
}
