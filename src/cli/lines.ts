// Lines of a byte stream, checked: each line is decoded as strict UTF-8 (a
// line that is not valid UTF-8 is reported, never read with U+FFFD
// replacements), CRLF endings and a leading BOM are dropped, and a line
// longer than `maxBytes` is skipped and reported instead of buffered without
// bound.
import type { Readable } from 'node:stream';

export const MAX_LINE_BYTES = 256 * 1024 * 1024;

export type Line = { lineNo: number; text: string } | { lineNo: number; error: string };

export async function* readLines(input: Readable, maxBytes = MAX_LINE_BYTES): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let lineNo = 0;
  const finish = (): Line => {
    lineNo++;
    if (tooLong) return { lineNo, error: `line ${lineNo} is longer than ${maxBytes} bytes` };
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    try {
      return { lineNo, text: decoder.decode(bytes) };
    } catch {
      return { lineNo, error: `line ${lineNo} is not valid UTF-8` };
    }
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
      take(buf.subarray(0, nl));
      yield finish();
      parts = [];
      size = 0;
      tooLong = false;
      buf = buf.subarray(nl + 1);
    }
    take(buf);
  }
  if (size > 0 || tooLong) yield finish();

  function take(piece: Buffer): void {
    if (piece.length === 0 || tooLong) return;
    if (size + piece.length > maxBytes) {
      tooLong = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  }
}
