// atob and btoa (HTML), native codec (native/agent/web/base64.cc).
const { DOMException } = require('domexception');
const { base64Decode, base64Encode } = natives;

function atob(data) {
  if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
  const result = base64Decode(`${data}`);
  if (result === undefined) {
    throw new DOMException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
  }
  return result;
}

function btoa(data) {
  if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
  const result = base64Encode(`${data}`);
  if (result === undefined) throw new DOMException('Invalid character', 'InvalidCharacterError');
  return result;
}

return { atob, btoa };
