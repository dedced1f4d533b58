// DOMException (WebIDL), with the legacy code constants. Instances are real
// Errors (V8's serializer then clones them as Errors) and carry `name` and
// `message` as OWN data properties: a clone of one keeps its message.
const { defineProperty, defineProperties, freeze } = Object;

const codes = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4,
  InvalidCharacterError: 5, NoModificationAllowedError: 7, NotFoundError: 8,
  NotSupportedError: 9, InUseAttributeError: 10, InvalidStateError: 11, SyntaxError: 12,
  InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
  TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
  URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24,
  DataCloneError: 25,
};
const legacy = [
  ['INDEX_SIZE_ERR', 1], ['DOMSTRING_SIZE_ERR', 2], ['HIERARCHY_REQUEST_ERR', 3],
  ['WRONG_DOCUMENT_ERR', 4], ['INVALID_CHARACTER_ERR', 5], ['NO_DATA_ALLOWED_ERR', 6],
  ['NO_MODIFICATION_ALLOWED_ERR', 7], ['NOT_FOUND_ERR', 8], ['NOT_SUPPORTED_ERR', 9],
  ['INUSE_ATTRIBUTE_ERR', 10], ['INVALID_STATE_ERR', 11], ['SYNTAX_ERR', 12],
  ['INVALID_MODIFICATION_ERR', 13], ['NAMESPACE_ERR', 14], ['INVALID_ACCESS_ERR', 15],
  ['VALIDATION_ERR', 16], ['TYPE_MISMATCH_ERR', 17], ['SECURITY_ERR', 18], ['NETWORK_ERR', 19],
  ['ABORT_ERR', 20], ['URL_MISMATCH_ERR', 21], ['QUOTA_EXCEEDED_ERR', 22], ['TIMEOUT_ERR', 23],
  ['INVALID_NODE_TYPE_ERR', 24], ['DATA_CLONE_ERR', 25],
];

const internals = new WeakMap();

function own(object, key, value) {
  defineProperty(object, key, { value, writable: true, enumerable: false, configurable: true });
}

class DOMException extends Error {
  constructor(message = undefined, options = undefined) {
    message = message === undefined ? '' : `${message}`;
    let name = 'Error';
    let cause;
    let hasCause = false;
    if (options !== null && typeof options === 'object') {
      if ('cause' in options) {
        hasCause = true;
        cause = options.cause;
      }
      if (options.name !== undefined) name = `${options.name}`;
    } else if (options !== undefined) {
      name = `${options}`;
    }
    super(message);
    internals.set(this, { name, message });
    own(this, 'name', name);
    if (hasCause) own(this, 'cause', cause);
  }

  get name() {
    const data = internals.get(this);
    if (data === undefined) throw new TypeError('Illegal invocation');
    return data.name;
  }

  get message() {
    const data = internals.get(this);
    if (data === undefined) throw new TypeError('Illegal invocation');
    return data.message;
  }

  get code() {
    const data = internals.get(this);
    if (data === undefined) throw new TypeError('Illegal invocation');
    return codes[data.name] ?? 0;
  }
}

for (const [key, value] of legacy) {
  const descriptor = { value, enumerable: true, writable: false, configurable: false };
  defineProperty(DOMException, key, descriptor);
  defineProperty(DOMException.prototype, key, descriptor);
}
defineProperties(DOMException.prototype, {
  [Symbol.toStringTag]: { value: 'DOMException', configurable: true },
  name: { enumerable: true }, message: { enumerable: true }, code: { enumerable: true },
});
freeze(codes);

return { DOMException };
