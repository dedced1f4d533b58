// How a failed pool task becomes a BullMQ failure. BullMQ keeps only an
// error's message (failedReason) and stack, so the stable code goes in front
// of the message: "ERR_AGENT_OUT_OF_MEMORY: …". The error object handed to
// BullMQ (and to the worker's 'failed' listeners) keeps `code` and `cause`.

export class JobFailure extends Error {
  readonly code: string | undefined;

  constructor(error: unknown) {
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    super(code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message, { cause: error });
    this.name = error instanceof Error ? error.name : 'Error';
    this.code = code;
    if (error instanceof Error && error.stack !== undefined) {
      // The job's own stack (or the pool's), with our prefixed first line.
      this.stack = `${this.name}: ${this.message}\n${error.stack.split('\n').slice(1).join('\n')}`;
    }
  }
}

function codeOf(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}
