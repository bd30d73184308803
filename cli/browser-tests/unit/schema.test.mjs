// Unit tests of the console's schema.js: a tool's input schema as a form description.
// Plain `node --test`, no browser, no DOM: schema.js is pure data in, pure data out.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  MAX_DEPTH, describe, describeField, describeForm, describeItem, enumOptions, kindOf,
  lookupRef, resolve, takesNoArguments, withoutNull,
} from '../../src/dev/console/schema.js';

/** The root object's fields of `properties` (and `extra` keywords), by name. */
function fields(properties, extra = {}) {
  const form = describeForm({ type: 'object', properties, ...extra });
  assert.equal(form.kind, 'object');
  assert.equal(form.root, true);
  return Object.fromEntries(form.children.map((child) => [child.name, child]));
}

/** The description of one schema as an optional field `x`. */
const one = (schema, required = false) => fields({ x: schema }, required ? { required: ['x'] } : {}).x;

test('scalar types get their own editors, named and placed by path', () => {
  const f = fields({
    name: { type: 'string' },
    seats: { type: 'integer' },
    price: { type: 'number' },
    active: { type: 'boolean' },
  }, { required: ['name', 'active'] });
  assert.deepEqual(Object.values(f).map((n) => [n.name, n.kind, n.path, n.required, n.nullable]), [
    ['name', 'string', 'name', true, false],
    ['seats', 'integer', 'seats', false, false],
    ['price', 'number', 'price', false, false],
    ['active', 'checkbox', 'active', true, false],
  ]);
  assert.equal(f.seats.hint, '(an integer)');
  assert.equal(f.price.hint, '(a number)');
  assert.equal(f.name.hint, '');
});

test('an optional boolean is a choice, so that it can be left out', () => {
  const node = one({ type: 'boolean', description: 'Notify the customer.' });
  assert.equal(node.kind, 'select');
  assert.deepEqual(node.options, [{ value: true }, { value: false }]);
  assert.equal(node.hint, 'Notify the customer.');
});

test('enums, consts and oneOf/anyOf of consts are choices with their descriptions', () => {
  assert.deepEqual(one({ type: 'string', enum: ['free', 'pro'] }).options, [{ value: 'free' }, { value: 'pro' }]);
  assert.deepEqual(one({ const: 'v1', description: 'The only version' }).options,
    [{ value: 'v1', description: 'The only version' }]);
  const node = one({
    oneOf: [
      { const: 'free', description: 'No card needed' },
      { const: 'pro', title: 'Pro plan' },
      { enum: ['team', 'enterprise'], description: 'Sales' },
    ],
  });
  assert.equal(node.kind, 'select');
  assert.deepEqual(node.options, [
    { value: 'free', description: 'No card needed' },
    { value: 'pro', description: 'Pro plan' },
    { value: 'team', description: 'Sales' },
    { value: 'enterprise', description: 'Sales' },
  ]);
  // One variant that is not a value: not an enum (a union, edited as JSON).
  assert.equal(one({ anyOf: [{ const: 'a' }, { type: 'integer' }] }).kind, 'json');
  assert.equal(enumOptions({ anyOf: [] }, { root: {}, refs: [], depth: 0 }), null);
});

test('nested objects are groups whose fields have dotted paths and their own required', () => {
  const f = fields({
    customer: {
      type: 'object',
      description: 'Who pays.',
      properties: { email: { type: 'string', format: 'email' }, address: { properties: { city: { type: 'string' } }, required: ['city'] } },
      required: ['email'],
    },
  }, { required: ['customer'] });
  const customer = f.customer;
  assert.equal(customer.kind, 'object');
  assert.equal(customer.root, false);
  assert.equal(customer.required, true);
  assert.equal(customer.hint, 'Who pays.');
  const [email, address] = customer.children;
  assert.deepEqual([email.path, email.required, email.kind, email.hint], ['customer.email', true, 'string', '(format email)']);
  assert.deepEqual([address.path, address.required, address.kind], ['customer.address', false, 'object']);
  assert.deepEqual(address.children.map((c) => [c.path, c.required]), [['customer.address.city', true]]);
});

test('arrays make their items on demand, named and placed by index', () => {
  const tags = one({ type: 'array', items: { type: 'string', minLength: 1 }, minItems: 2, uniqueItems: true }, true);
  assert.equal(tags.kind, 'array');
  assert.equal(tags.initialItems, 2);
  assert.equal(tags.hint, '(at least 2 items, unique items)');
  const item = describeItem(tags, 1, 'x item 2');
  assert.deepEqual([item.kind, item.name, item.path, item.required, item.hint],
    ['string', 'x item 2', 'x[1]', true, '(at least 1 characters)']);
  // An array of objects: each item's fields sit under its index.
  const lines = one({ items: { type: 'object', properties: { sku: { type: 'string' } } } });
  assert.equal(lines.kind, 'array');
  assert.equal(lines.initialItems, 0);
  assert.equal(describeItem(lines, 0, 'x item 1').children[0].path, 'x[0].sku');
  // At most 10 items are made up front, `items: true` is an array of anything.
  assert.equal(one({ type: 'array', items: {}, minItems: 50 }).initialItems, 10);
  assert.equal(one({ type: 'array', items: true }).kind, 'array');
  assert.equal(describeItem(one({ type: 'array', items: true }), 0, 'any').kind, 'json');
  // Without `items`, or with a list of them (a tuple): raw JSON.
  assert.equal(one({ type: 'array' }).kind, 'json');
  assert.equal(one({ type: 'array', items: [{ type: 'string' }] }).kind, 'json');
});

test('defaults, formats and constraints are said in the hint', () => {
  assert.equal(one({ type: 'string', description: ' Their email. ', format: 'email', default: 'a@b.c' }).hint,
    'Their email. (format email, default a@b.c)');
  assert.equal(one({ type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' }).hint,
    '(at least 2 characters, at most 5 characters, pattern ^[a-z]+$)');
  assert.equal(one({ type: 'number', minimum: 0, exclusiveMaximum: 1, multipleOf: 0.25 }).hint,
    '(a number, ≥ 0, < 1, multiple of 0.25)');
  assert.equal(one({ type: 'integer', exclusiveMinimum: 0, maximum: 10, default: 3 }).hint,
    '(an integer, > 0, ≤ 10, default 3)');
  assert.equal(one({ type: 'array', items: {}, maxItems: 3, default: [] }).hint, '(at most 3 items, default [])');
  assert.equal(one({ type: 'string', format: 'date-time' }).schema.format, 'date-time');
  assert.equal(describe({ default: { a: 1 } }, true), '(default {"a":1}, may be null)');
});

test('null is taken out of type lists, enums, anyOf/oneOf and `nullable`', () => {
  const text = one({ type: ['string', 'null'], maxLength: 3 });
  assert.deepEqual([text.kind, text.nullable, text.hint], ['string', true, '(at most 3 characters, may be null)']);
  assert.deepEqual([one({ type: 'integer', nullable: true }).kind, one({ type: 'integer', nullable: true }).nullable],
    ['integer', true]);
  // An enum with null: the choices say null once.
  const plan = one({ enum: ['free', null] });
  assert.deepEqual([plan.kind, plan.nullable, plan.options], ['select', true, [{ value: 'free' }, { value: null }]]);
  // An optional boolean that may be null: true, false or null.
  assert.deepEqual(one({ type: ['boolean', 'null'] }, true).options, [{ value: true }, { value: false }, { value: null }]);
  // As schemars writes Option<Struct>: anyOf [{$ref}, {type: null}], the description kept.
  const form = describeForm({
    type: 'object',
    properties: { address: { description: 'Where to ship.', anyOf: [{ $ref: '#/$defs/Address' }, { type: 'null' }] } },
    $defs: { Address: { type: 'object', properties: { city: { type: 'string' } } } },
  });
  const [address] = form.children;
  assert.deepEqual([address.kind, address.nullable, address.hint], ['object', true, 'Where to ship. (may be null)']);
  assert.equal(address.children[0].path, 'address.city');
  // Two variants left besides null: still a union, edited as JSON.
  const union = one({ oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] });
  assert.deepEqual([union.kind, union.nullable, union.schema.oneOf.length], ['json', true, 2]);
  const { schema } = withoutNull({ anyOf: [{ const: null }, { type: 'string' }] }, { root: {}, refs: [], depth: 0 });
  assert.deepEqual(schema, { type: 'string' });
});

test('$ref (to $defs and definitions, with ~ escapes) and allOf are resolved', () => {
  const root = {
    $defs: { Plan: { type: 'string', enum: ['free', 'pro'], description: 'The plan.' }, 'a/b': { type: 'integer' } },
    definitions: { Seats: { type: 'integer', minimum: 1 } },
  };
  assert.equal(lookupRef(root, '#/$defs/a~1b').type, 'integer');
  assert.equal(lookupRef(root, '#/$defs/Missing'), undefined);
  assert.equal(lookupRef(root, 'https://example.com/schema'), undefined);
  const ctx = { root, refs: [], depth: 0 };
  const plan = resolve({ $ref: '#/$defs/Plan', description: 'Which plan.' }, ctx);
  assert.equal(plan.schema.description, 'Which plan.', "the referring schema's own keywords win");
  assert.deepEqual(plan.ctx.refs, ['#/$defs/Plan']);
  const form = describeForm({
    ...root,
    allOf: [
      { type: 'object', properties: { plan: { $ref: '#/$defs/Plan' } }, required: ['plan'] },
      { properties: { seats: { $ref: '#/definitions/Seats' } } },
    ],
  });
  const merged = Object.fromEntries(form.children.map((c) => [c.name, c]));
  assert.deepEqual(Object.keys(merged).sort(), ['plan', 'seats']);
  assert.deepEqual([merged.plan.kind, merged.plan.required, merged.plan.hint], ['select', true, 'The plan.']);
  assert.deepEqual([merged.seats.kind, merged.seats.required, merged.seats.hint], ['integer', false, '(an integer, ≥ 1)']);
  // A reference that leads nowhere is any value: raw JSON.
  assert.equal(one({ $ref: '#/$defs/Nowhere' }).kind, 'json');
});

test('a recursive type is edited as raw JSON where it comes back', () => {
  const form = describeForm({
    $ref: '#/$defs/Node',
    $defs: { Node: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } } } },
  });
  assert.equal(form.kind, 'object');
  const children = form.children[1];
  assert.equal(children.kind, 'array');
  const item = describeItem(children, 0, 'children item 1');
  assert.equal(item.kind, 'json');
  assert.equal(item.path, 'children[0]');
});

test(`nesting deeper than ${MAX_DEPTH} levels is raw JSON`, () => {
  let schema = { type: 'string' };
  for (let i = 0; i < MAX_DEPTH + 2; i++) schema = { type: 'object', properties: { inner: schema } };
  let node = describeForm(schema);
  let depth = 0;
  while (node.kind === 'object') {
    node = node.children[0];
    depth += 1;
  }
  assert.equal(node.kind, 'json');
  assert.equal(depth, MAX_DEPTH);
});

test('a schema the form cannot model falls back to raw JSON, with its schema shown', () => {
  for (const schema of [
    { type: 'object', additionalProperties: { type: 'integer' } }, // a map
    { type: ['string', 'integer'] }, // a union of types
    { oneOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'string' }] },
    { type: 'timestamp' }, // not a JSON Schema type
    { not: { type: 'string' } },
  ]) {
    const node = one(schema);
    assert.equal(node.kind, 'json', JSON.stringify(schema));
    assert.equal(node.showSchema, true, JSON.stringify(schema));
    assert.ok(node.hint.endsWith('Write this value as JSON.'), node.hint);
  }
  // `true` or `{}` (any value), with only a description: nothing more to show.
  const any = one({ description: 'Anything.' });
  assert.deepEqual([any.kind, any.showSchema, any.hint], ['json', false, 'Anything. Write this value as JSON.']);
  assert.equal(one(true).kind, 'json');
  assert.deepEqual(one(false).schema, { not: {} });
});

test('the root: an object form, no arguments at all, or the arguments as raw JSON', () => {
  for (const schema of [undefined, null, {}, true, { type: 'object' }, { type: 'object', properties: {} }]) {
    assert.equal(describeForm(schema).kind, 'none', JSON.stringify(schema));
  }
  assert.equal(takesNoArguments({ type: 'object', additionalProperties: true }), false);
  assert.equal(takesNoArguments({ anyOf: [{ type: 'object' }] }), false);
  const map = describeForm({ type: 'object', additionalProperties: { type: 'string' } });
  assert.deepEqual([map.kind, map.name, map.path, map.required], ['json', 'arguments', 'arguments', true]);
  assert.equal(describeForm({ type: 'array', items: {} }).kind, 'json');
  // A root that may be null is the object form still.
  const nullable = describeForm({ type: ['object', 'null'], properties: { id: { type: 'string' } }, required: ['id'] });
  assert.deepEqual([nullable.kind, nullable.nullable, nullable.children[0].path], ['object', false, 'id']);
  assert.equal(kindOf({ type: 'object', properties: { a: {} } }, { root: {}, refs: [], depth: 0 }), 'object');
});

test('describeField is pure: the same schema gives equal descriptions and is not changed', () => {
  const schema = { type: 'object', properties: { a: { anyOf: [{ $ref: '#/$defs/A' }, { type: 'null' }] } }, $defs: { A: { type: 'integer' } } };
  const before = JSON.stringify(schema);
  const ctx = { root: schema, refs: [], depth: 0 };
  assert.deepEqual(describeField(schema, { name: 'x', path: 'x', required: true }, ctx),
    describeField(schema, { name: 'x', path: 'x', required: true }, ctx));
  assert.equal(JSON.stringify(schema), before);
});

test('schema.js and editors.js use no DOM nor browser global, and import only each other', async () => {
  const fs = await import('node:fs');
  for (const [file, imports] of [['schema.js', []], ['editors.js', ['./schema.js']]]) {
    const source = fs.readFileSync(new URL(`../../src/dev/console/${file}`, import.meta.url), 'utf8');
    const code = source.split('\n').filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line)).join('\n');
    assert.doesNotMatch(code, /\b(document|window|location|sessionStorage|history|fetch|Node|HTMLElement)\b/, file);
    assert.deepEqual([...source.matchAll(/ from '([^']+)'/g)].map((m) => m[1]), imports, file);
  }
});
