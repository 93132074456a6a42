/** What a public port answers a model load or unload: where that is served instead, and why not here. */
export function managementOnlyMessage(managementAddress: string | undefined): string {
  const where = managementAddress ? `the management port (${managementAddress})` : 'the management port, which is off in this server';
  return `model load and unload are served only on ${where}, never on a public port`;
}
