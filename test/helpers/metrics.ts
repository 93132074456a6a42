/** Reads one sample from a server's Prometheus text, e.g. sample(text, 'ferry_requests_total', {model: 'mlp', outcome: 'success'}). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[2]);
  }
  return undefined;
}

export async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Polls /metrics until `test` holds (the model has started a run, say); fails after `ms`. */
export async function waitForMetric(url: string, test: (text: string) => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (test(await scrape(url))) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('metric condition not reached');
}
