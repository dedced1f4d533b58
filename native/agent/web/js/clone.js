// structuredClone(value, { transfer }) (HTML) over the agent's own
// serializer: the same rules, errors and transfers as postMessage.
const { clone } = natives;

function structuredClone(value, options = undefined) {
  if (arguments.length === 0) throw new TypeError('The "value" argument must be specified');
  let transfer;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' && typeof options !== 'function') {
      throw new TypeError('The "options" argument must be an object');
    }
    if (options.transfer !== undefined) {
      const list = options.transfer;
      if (list === null || (typeof list !== 'object' && typeof list !== 'function') || typeof list[Symbol.iterator] !== 'function') {
        throw new TypeError('The "options.transfer" property must be iterable');
      }
      transfer = [...list];
    }
  }
  return clone(value, transfer);
}

return { structuredClone };
