/**
 * Steady load for the tests that change models under it: `connections` clients, each sending one inference request
 * after another over its own keep-alive connection, counting every answer by status and by the version that gave it.
 */
import { Agent, request } from 'node:http';

export interface LoadSummary {
  readonly requests: number;
  /** Answers by HTTP status, and 'error' for a request that got no answer. */
  readonly statuses: Record<string, number>;
  /** model_version of each 200, counted. */
  readonly versions: Record<string, number>;
  /** The first few failures, to say what went wrong. */
  readonly failures: string[];
  /** The version of the last successful answer. */
  readonly lastVersion: string | undefined;
}

export class LoadLoop {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly agent = new Agent({ keepAlive: true });
  private requests = 0;
  private readonly statuses: Record<string, number> = {};
  private readonly versions: Record<string, number> = {};
  private readonly failures: string[] = [];
  private lastVersion: string | undefined;

  constructor(url: string, body: unknown, connections: number) {
    const payload = JSON.stringify(body);
    const target = new URL(url);
    for (let i = 0; i < connections; i++) {
      this.loops.push((async () => {
        while (!this.stopped) await this.once(target, payload);
      })());
    }
  }

  /** Versions answered so far. */
  seen(version: string): boolean {
    return (this.versions[version] ?? 0) > 0;
  }

  get latest(): string | undefined {
    return this.lastVersion;
  }

  async stop(): Promise<LoadSummary> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.agent.destroy();
    return { requests: this.requests, statuses: { ...this.statuses }, versions: { ...this.versions }, failures: [...this.failures], lastVersion: this.lastVersion };
  }

  private once(target: URL, payload: string): Promise<void> {
    return new Promise((resolve) => {
      const req = request(target, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          this.count(String(res.statusCode));
          if (res.statusCode === 200) {
            const version = (JSON.parse(text) as { model_version: string }).model_version;
            this.versions[version] = (this.versions[version] ?? 0) + 1;
            this.lastVersion = version;
          } else if (this.failures.length < 5) this.failures.push(`${res.statusCode}: ${text}`);
          resolve();
        });
      });
      req.on('error', (e) => {
        this.count('error');
        if (this.failures.length < 5) this.failures.push(`no answer: ${e.message}`);
        resolve();
      });
      req.end(payload);
    });
  }

  private count(status: string): void {
    this.requests++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }
}
