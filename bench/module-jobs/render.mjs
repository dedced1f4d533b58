// A job with a real dependency tree: a markdown renderer (ESM) and a schema validator (CommonJS, many files).
import { marked } from 'marked';
import Ajv from 'ajv';

const validate = new Ajv().compile({ type: 'object', properties: { md: { type: 'string' } }, required: ['md'] });
export default (task) => {
  if (!validate(task)) throw new Error('bad task');
  return marked.parse(task.md);
};
