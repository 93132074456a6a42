/** The load generator behind `ferry bench`. */
export { runBench } from './run-bench.js';
export { BenchError } from './bench-error.js';
export { formatReport, type BenchReport, type LevelReport } from './report.js';
export { resolveOptions, ENCODINGS, DEFAULT_URL, type BenchOptions, type BenchEncoding, type BenchProtocol } from './options.js';
export { parsePrometheusText, findHistogram, histogramDelta, histogramMean, histogramQuantile, type Histogram, type Sample } from './prometheus.js';
