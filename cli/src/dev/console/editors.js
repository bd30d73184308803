// The logic of the form's editors, without the DOM: what each input starts with (value,
// placeholder, bounds, choices), how its text becomes JSON (and the sentence when it
// cannot), how objects and arrays gather their fields, the raw JSON editor's text, the
// caller panel. `form.js` and `main.js` hold the inputs; this reads plain values, so
// `node --test` checks it without a browser (cli/browser-tests/unit/).
//
// A read is {present: false} for a value to leave out, or {present: true, value}; a
// reader pushes a sentence onto `errors` when its input cannot be turned into JSON.

import { has, valueText } from './schema.js';

export const ABSENT = Object.freeze({ present: false });
export const present = (value) => ({ present: true, value });

const INPUT_TYPES = { email: 'email', uri: 'url', url: 'url', date: 'date', time: 'time' };
const PLACEHOLDERS = { 'date-time': '2025-01-31T09:30:00Z', uuid: '00000000-0000-0000-0000-000000000000' };

/**
 * A string node's <input>: its `type` (from the format), `placeholder` and first `value`.
 * A default is the first value of a required field, the placeholder of an optional one
 * (an optional field left empty is left out, and the server applies its default).
 */
export function textInput(node) {
  const s = node.schema;
  const input = { type: INPUT_TYPES[s.format] || 'text', placeholder: PLACEHOLDERS[s.format], value: '' };
  if (typeof s.default === 'string') {
    if (node.required) input.value = s.default;
    else input.placeholder = s.default;
  }
  return input;
}

/**
 * A number or integer node's <input type="number">: `min`, `max` and `step` (strings or
 * undefined), `inputmode`, first `value` and `placeholder`. An exclusive bound is the
 * next allowed value for integers; for numbers the hint says it.
 */
export function numberInput(node) {
  const s = node.schema;
  const integer = node.kind === 'integer';
  const lower = typeof s.minimum === 'number' ? s.minimum
    : typeof s.exclusiveMinimum === 'number' ? (integer ? Math.floor(s.exclusiveMinimum) + 1 : s.exclusiveMinimum) : undefined;
  const upper = typeof s.maximum === 'number' ? s.maximum
    : typeof s.exclusiveMaximum === 'number' ? (integer ? Math.ceil(s.exclusiveMaximum) - 1 : s.exclusiveMaximum) : undefined;
  const input = {
    inputmode: integer ? 'numeric' : 'decimal',
    min: lower === undefined ? undefined : String(lower),
    max: upper === undefined ? undefined : String(upper),
    step: typeof s.multipleOf === 'number' ? String(s.multipleOf) : integer ? '1' : 'any',
    value: '',
    placeholder: undefined,
  };
  if (typeof s.default === 'number') {
    if (node.required) input.value = String(s.default);
    else input.placeholder = String(s.default);
  }
  return input;
}

/** Whether a checkbox node starts checked: its default is `true`. */
export const checkboxChecked = (node) => node.schema.default === true;

/**
 * A select node's <option>s, {value, text} (values are JSON text; '' leaves the field
 * out), and the one `selected` first: the default of a required field, or its only value.
 */
export function selectChoices(node) {
  const s = node.schema;
  const leaveOut = has(s, 'default') ? `(leave out: default ${valueText(s.default)})` : '(leave out)';
  const choices = [{ value: '', text: node.required ? '(choose one)' : leaveOut }];
  for (const option of node.options) {
    const text = option.description ? `${valueText(option.value)} — ${option.description}` : valueText(option.value);
    choices.push({ value: JSON.stringify(option.value), text });
  }
  let selected = '';
  if (node.required && has(s, 'default')) selected = JSON.stringify(s.default);
  else if (node.required && node.options.length === 1) selected = JSON.stringify(node.options[0].value);
  return { choices, selected };
}

/**
 * The value of a one-input node from its input's state `{value, checked, badInput}`
 * (`badInput`: the browser holds text that is not a number).
 */
export function readInput(node, input, errors) {
  switch (node.kind) {
    case 'string':
      return input.value === '' ? ABSENT : present(input.value);
    case 'number':
    case 'integer':
      if (input.value !== '') return present(Number(input.value));
      if (input.badInput) errors.push(`${node.path}: the text typed is not a number.`);
      return ABSENT;
    case 'checkbox':
      return present(Boolean(input.checked));
    case 'select':
      return input.value === '' ? ABSENT : present(JSON.parse(input.value));
    case 'none':
      return present({});
    default:
      return readJson(node, input.value, errors);
  }
}

/** Raw JSON text: blank leaves the value out; text that is not JSON is an error. */
function readJson(node, text, errors) {
  if (text.trim() === '') return ABSENT;
  try {
    return present(JSON.parse(text));
  } catch (error) {
    errors.push(`${node.path || node.name}: not JSON (${error.message}).`);
    return ABSENT;
  }
}

/**
 * An object node's value from its children's reads (in `node.children`'s order): the
 * present ones; an empty object is left out unless the object is required or the root.
 */
export function gatherObject(node, reads) {
  const value = {};
  node.children.forEach((child, i) => {
    if (reads[i].present) value[child.name] = reads[i].value;
  });
  return Object.keys(value).length || node.root || node.required ? present(value) : ABSENT;
}

/** An array node's value from its items' reads: the present ones, in order. */
export function gatherArray(node, reads) {
  const values = reads.filter((r) => r.present).map((r) => r.value);
  return values.length || node.required ? present(values) : ABSENT;
}

/** The name of item `index` (from 0) of an array named `name`. */
export const itemName = (name, index) => `${name} item ${index + 1}`;

/** The arguments the form gives: {value} (`{}` when it gives nothing) or {errors}. */
export function formResult(read, errors) {
  return errors.length ? { errors } : { value: read.present ? read.value : {} };
}

/** The JSON editor's text as the arguments, sent as written: {value} or {errors}. */
export function parseArguments(text) {
  if (text.trim() === '') return { errors: ['The JSON editor is empty: write the arguments as a JSON object, such as {}.'] };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { errors: [`The arguments are not JSON: ${error.message}. Fix them, or turn off "Edit as JSON" to use the form.`] };
  }
}

/** The caller fields besides `channel`, with the ids of the caller panel's inputs. */
export const CALLER_FIELDS = [
  ['external_user_id', 'caller-external-user-id'],
  ['email', 'caller-email'],
  ['display_name', 'caller-display-name'],
  ['channel_user_id', 'caller-channel-user-id'],
];

/** The caller from the panel's values {channel, external_user_id, ...}: trimmed, empty ones left out. */
export function callerFrom(values) {
  const caller = { channel: values.channel || 'web' };
  for (const [key] of CALLER_FIELDS) {
    const value = typeof values[key] === 'string' ? values[key].trim() : '';
    if (value) caller[key] = value;
  }
  return caller;
}

/**
 * The caller of an earlier call (the `caller` of the body it sent), for its confirmation
 * as Pillar Cloud keeps it; `fallback` when that body had none.
 */
export function callerOf(sent, fallback) {
  if (sent === null || typeof sent !== 'object' || Array.isArray(sent)) return fallback;
  const caller = { channel: typeof sent.channel === 'string' && sent.channel ? sent.channel : 'web' };
  for (const [key] of CALLER_FIELDS) {
    if (typeof sent[key] === 'string' && sent[key]) caller[key] = sent[key];
  }
  return caller;
}
