// Unit tests of the console's editors.js: what the form's inputs start with and how
// their text becomes the call's arguments. Plain `node --test`, no browser, no DOM: an
// input is a plain object {value, checked, badInput}.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { describeForm, describeItem } from '../../src/dev/console/schema.js';
import {
  ABSENT, callerFrom, callerOf, checkboxChecked, formResult, gatherArray, gatherObject,
  itemName, numberInput, parseArguments, present, readInput, selectChoices, textInput,
} from '../../src/dev/console/editors.js';

/** The node of field `x` (optional unless `required`) with `schema`. */
function node(schema, required = false) {
  return describeForm({ type: 'object', properties: { x: schema }, required: required ? ['x'] : [] }).children[0];
}

/**
 * Reads a whole form description as form.js does, from the inputs' values by path
 * (`values[path]`: an input's value or checked, a number input's {value, badInput};
 * an array's value: its item count).
 * Untouched inputs hold what editors.js starts them with.
 */
function fill(form, values, errors = []) {
  const read = (n) => {
    switch (n.kind) {
      case 'object': return gatherObject(n, n.children.map(read));
      case 'array': {
        const count = values[n.path] ?? n.initialItems;
        const items = Array.from({ length: count }, (_, i) => describeItem(n, i, itemName(n.name, i)));
        return gatherArray(n, items.map(read));
      }
      case 'checkbox': return readInput(n, { checked: values[n.path] ?? checkboxChecked(n) }, errors);
      case 'select': return readInput(n, { value: values[n.path] ?? selectChoices(n).selected }, errors);
      case 'string': return readInput(n, { value: values[n.path] ?? textInput(n).value }, errors);
      case 'number':
      case 'integer': {
        const typed = values[n.path] ?? numberInput(n).value;
        return readInput(n, typeof typed === 'object' ? typed : { value: typed }, errors);
      }
      default: return readInput(n, { value: values[n.path] ?? '' }, errors);
    }
  };
  return formResult(read(form), errors);
}

test('string inputs: the type and placeholder from the format, the default', () => {
  assert.deepEqual(textInput(node({ type: 'string' })), { type: 'text', placeholder: undefined, value: '' });
  assert.equal(textInput(node({ type: 'string', format: 'email' })).type, 'email');
  assert.equal(textInput(node({ type: 'string', format: 'uri' })).type, 'url');
  assert.equal(textInput(node({ type: 'string', format: 'date' })).type, 'date');
  assert.deepEqual(textInput(node({ type: 'string', format: 'date-time' })),
    { type: 'text', placeholder: '2025-01-31T09:30:00Z', value: '' });
  assert.equal(textInput(node({ type: 'string', format: 'uuid' })).placeholder, '00000000-0000-0000-0000-000000000000');
  // A default fills a required field; an optional one shows it and is left out.
  assert.deepEqual(textInput(node({ type: 'string', default: 'EUR' }, true)), { type: 'text', placeholder: undefined, value: 'EUR' });
  assert.deepEqual(textInput(node({ type: 'string', default: 'EUR' })), { type: 'text', placeholder: 'EUR', value: '' });
});

test('number inputs: bounds (exclusive ones as the next integer), step, default', () => {
  assert.deepEqual(numberInput(node({ type: 'integer' })),
    { inputmode: 'numeric', min: undefined, max: undefined, step: '1', value: '', placeholder: undefined });
  assert.deepEqual(numberInput(node({ type: 'number', minimum: 0, maximum: 1.5 })),
    { inputmode: 'decimal', min: '0', max: '1.5', step: 'any', value: '', placeholder: undefined });
  const exclusive = numberInput(node({ type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 10 }));
  assert.deepEqual([exclusive.min, exclusive.max], ['1', '9']);
  const fractional = numberInput(node({ type: 'integer', exclusiveMinimum: 0.5, exclusiveMaximum: 9.5 }));
  assert.deepEqual([fractional.min, fractional.max], ['1', '9']);
  const number = numberInput(node({ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }));
  assert.deepEqual([number.min, number.max], ['0', '1']);
  assert.equal(numberInput(node({ type: 'number', multipleOf: 0.01 })).step, '0.01');
  assert.equal(numberInput(node({ type: 'integer', default: 5 }, true)).value, '5');
  assert.deepEqual([numberInput(node({ type: 'integer', default: 5 })).value, numberInput(node({ type: 'integer', default: 5 })).placeholder], ['', '5']);
});

test('choices: leave out or choose one, the default or the only value chosen first', () => {
  const optional = selectChoices(node({ enum: ['free', 'pro'] }));
  assert.deepEqual(optional, {
    choices: [{ value: '', text: '(leave out)' }, { value: '"free"', text: 'free' }, { value: '"pro"', text: 'pro' }],
    selected: '',
  });
  assert.equal(selectChoices(node({ enum: ['free', 'pro'], default: 'free' })).choices[0].text, '(leave out: default free)');
  const required = selectChoices(node({ enum: ['free', 'pro'], default: 'pro' }, true));
  assert.deepEqual([required.choices[0].text, required.selected], ['(choose one)', '"pro"']);
  assert.equal(selectChoices(node({ const: 2 }, true)).selected, '2');
  assert.equal(selectChoices(node({ enum: [1, 2] }, true)).selected, '');
  // Descriptions beside the value; null and booleans as JSON.
  const described = selectChoices(node({ oneOf: [{ const: 'a', description: 'First' }, { const: null }] }));
  assert.deepEqual(described.choices.slice(1), [{ value: '"a"', text: 'a — First' }, { value: 'null', text: 'null' }]);
  assert.deepEqual(selectChoices(node({ type: ['boolean', 'null'] })).choices.map((c) => c.value), ['', 'true', 'false', 'null']);
  assert.equal(checkboxChecked(node({ type: 'boolean', default: true }, true)), true);
  assert.equal(checkboxChecked(node({ type: 'boolean' }, true)), false);
});

test('reading one input: empty leaves the value out, text becomes its JSON value', () => {
  const errors = [];
  const string = node({ type: 'string' });
  assert.deepEqual(readInput(string, { value: '' }, errors), ABSENT);
  assert.deepEqual(readInput(string, { value: ' 42 ' }, errors), present(' 42 '));
  const integer = node({ type: 'integer' });
  assert.deepEqual(readInput(integer, { value: '42' }, errors), present(42));
  assert.deepEqual(readInput(node({ type: 'number' }), { value: '-0.5' }, errors), present(-0.5));
  assert.deepEqual(readInput(integer, { value: '' }, errors), ABSENT);
  const select = node({ enum: ['a', 1, null] });
  assert.deepEqual(readInput(select, { value: '' }, errors), ABSENT);
  assert.deepEqual(readInput(select, { value: '1' }, errors), present(1));
  assert.deepEqual(readInput(select, { value: 'null' }, errors), present(null));
  assert.deepEqual(readInput(node({ type: 'boolean' }, true), { checked: false }, errors), present(false));
  const json = node({ type: 'object', additionalProperties: true });
  assert.deepEqual(readInput(json, { value: '  ' }, errors), ABSENT);
  assert.deepEqual(readInput(json, { value: '{"a": [1]}' }, errors), present({ a: [1] }));
  assert.deepEqual(errors, []);
});

test('text that cannot be read is an error naming the field', () => {
  const errors = [];
  assert.deepEqual(readInput(node({ type: 'integer' }), { value: '', badInput: true }, errors), ABSENT);
  assert.deepEqual(readInput(node({ type: 'object', additionalProperties: true }), { value: '{oops' }, errors), ABSENT);
  assert.equal(errors.length, 2);
  assert.equal(errors[0], 'x: the text typed is not a number.');
  assert.match(errors[1], /^x: not JSON \(.+\)\.$/);
  // The root's raw JSON is named `arguments`.
  const root = describeForm({ type: 'object', additionalProperties: true });
  const more = [];
  readInput(root, { value: '[' }, more);
  assert.match(more[0], /^arguments: not JSON/);
});

test('objects and arrays gather what is present; empty optional ones are left out', () => {
  const root = describeForm({ type: 'object', properties: { a: { type: 'string' } } });
  assert.deepEqual(gatherObject(root, [ABSENT]), present({}), 'the root is always sent');
  const optional = node({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } });
  assert.deepEqual(gatherObject(optional, [ABSENT, ABSENT]), ABSENT);
  assert.deepEqual(gatherObject(optional, [ABSENT, present(0)]), present({ b: 0 }));
  const required = node({ type: 'object', properties: { a: { type: 'string' } } }, true);
  assert.deepEqual(gatherObject(required, [ABSENT]), present({}));
  const list = node({ type: 'array', items: { type: 'string' } });
  assert.deepEqual(gatherArray(list, []), ABSENT);
  assert.deepEqual(gatherArray(list, [present('a'), ABSENT, present('c')]), present(['a', 'c']));
  assert.deepEqual(gatherArray(node({ type: 'array', items: {} }, true), [ABSENT]), present([]));
  assert.equal(itemName('tags', 0), 'tags item 1');
});

test('a whole form: untouched, filled in, with an error', () => {
  const form = describeForm({
    type: 'object',
    properties: {
      email: { type: 'string', format: 'email' },
      plan: { $ref: '#/$defs/Plan', default: 'pro' },
      seats: { type: ['integer', 'null'], minimum: 1 },
      notify: { type: 'boolean', default: true },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
      address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
    required: ['email', 'plan', 'notify'],
    $defs: { Plan: { enum: ['free', 'pro'] } },
  });
  // The required defaults are filled in; nothing else is sent.
  assert.deepEqual(fill(form, {}), { value: { plan: 'pro', notify: true } });
  assert.deepEqual(fill(form, {
    email: 'sarah@example.com', plan: '"free"', seats: '3', notify: false,
    'tags[0]': 'vip', tags: 2, 'tags[1]': '', 'address.city': 'Lyon',
  }), {
    value: { email: 'sarah@example.com', plan: 'free', seats: 3, notify: false, tags: ['vip'], address: { city: 'Lyon' } },
  });
  assert.deepEqual(fill(form, { seats: { value: '', badInput: true }, 'tags[0]': 'kept' }),
    { errors: ['seats: the text typed is not a number.'] });
  // No arguments at all: {}.
  assert.deepEqual(fill(describeForm({ type: 'object' }), {}), { value: {} });
});

test('the JSON editor sends what is written, or says why it cannot', () => {
  assert.deepEqual(parseArguments('{"email": 42}'), { value: { email: 42 } });
  assert.deepEqual(parseArguments('[1]'), { value: [1] }, 'sent even when the schema would refuse it');
  assert.deepEqual(parseArguments('  '),
    { errors: ['The JSON editor is empty: write the arguments as a JSON object, such as {}.'] });
  const bad = parseArguments('{email}');
  assert.equal(bad.errors.length, 1);
  assert.match(bad.errors[0], /^The arguments are not JSON: .+\. Fix them, or turn off "Edit as JSON" to use the form\.$/);
  assert.deepEqual(formResult(ABSENT, []), { value: {} });
  assert.deepEqual(formResult(present([]), ['x']), { errors: ['x'] });
});

test('the caller: the panel trimmed with empty fields left out; a confirmation keeps its call\'s', () => {
  assert.deepEqual(callerFrom({ channel: '', email: '  ', external_user_id: ' u_1 ', display_name: 'Sarah' }),
    { channel: 'web', external_user_id: 'u_1', display_name: 'Sarah' });
  assert.deepEqual(callerFrom({ channel: 'slack', channel_user_id: 'U1', role: 'admin' }),
    { channel: 'slack', channel_user_id: 'U1' });
  const panel = { channel: 'email' };
  assert.deepEqual(callerOf({ channel: 'discord', email: 'a@b.c', display_name: '', extra: 1 }, panel),
    { channel: 'discord', email: 'a@b.c' });
  assert.deepEqual(callerOf({}, panel), { channel: 'web' });
  assert.equal(callerOf(undefined, panel), panel);
  assert.equal(callerOf(['web'], panel), panel);
});
