/**
 * The app's one call to the prediction service. ferry's client sends the V2 request; what the app adds is what any
 * caller of a service over the network needs: a timeout, a retry when the call did not get through (a prediction
 * changes nothing, so sending it twice is safe), and an answer of its own when the service cannot give one.
 */
import { V2ClientError, V2HttpClient } from 'ferry/client';

/** The model's 30 inputs, in order (scikit-learn's load_breast_cancer feature names). */
export const FEATURES = [
  'mean radius', 'mean texture', 'mean perimeter', 'mean area', 'mean smoothness', 'mean compactness', 'mean concavity',
  'mean concave points', 'mean symmetry', 'mean fractal dimension', 'radius error', 'texture error', 'perimeter error',
  'area error', 'smoothness error', 'compactness error', 'concavity error', 'concave points error', 'symmetry error',
  'fractal dimension error', 'worst radius', 'worst texture', 'worst perimeter', 'worst area', 'worst smoothness',
  'worst compactness', 'worst concavity', 'worst concave points', 'worst symmetry', 'worst fractal dimension',
];
/** A benign example, the page's starting values. */
export const SAMPLE = [
  13.54, 14.36, 87.46, 566.3, 0.09779, 0.08129, 0.06664, 0.04781, 0.1885, 0.05766, 0.2699, 0.7886, 2.058, 23.56,
  0.008462, 0.0146, 0.02387, 0.01315, 0.0198, 0.0023, 15.11, 19.26, 99.7, 711.2, 0.144, 0.1773, 0.239, 0.1288, 0.2977,
  0.07259,
];
const MODEL = process.env.FERRY_MODEL ?? 'breast_cancer';
const TIMEOUT_MS = Number(process.env.FERRY_TIMEOUT_MS ?? 2000);
const RETRY_DELAY_MS = 200;

const clients = new Map();
const clientFor = (url) => clients.get(url) ?? clients.set(url, new V2HttpClient(url, { timeoutMs: TIMEOUT_MS })).get(url);

/** { available: true, label, probability } from ferry, or { available: false, message } when it cannot answer. */
export async function predict(ferryUrl, features) {
  const request = { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, features.length], data: Float32Array.from(features) }] };
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await clientFor(ferryUrl).infer(MODEL, request);
      const label = Number(result.outputs.find((t) => t.name === 'output_label').data[0]);
      const probabilities = result.outputs.find((t) => t.name === 'output_probability').data;
      return { available: true, label: label === 1 ? 'benign' : 'malignant', probability: probabilities[label] };
    } catch (e) {
      // Retry what may not have reached ferry or found it restarting; a 4xx is the request's fault and would fail again.
      const transient = e instanceof V2ClientError && (e.kind === 'network' || e.unavailable);
      if (transient && attempt < 2) {
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
        continue;
      }
      return { available: false, message: `The prediction service is unavailable right now (${e.message}); please try again in a moment.` };
    }
  }
}
