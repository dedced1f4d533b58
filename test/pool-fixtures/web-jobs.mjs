// Job of agent-web-globals.test.ts: runtime-neutral code using web globals.
export default function parse(input) {
  const url = new URL(input.url);
  const bytes = new TextEncoder().encode(url.searchParams.get('q') ?? '');
  const signal = AbortSignal.abort();
  return { host: url.host, bytes: bytes.length, decoded: new TextDecoder().decode(bytes), base64: btoa(url.pathname), aborted: signal.aborted, uuid: crypto.randomUUID().length };
}
