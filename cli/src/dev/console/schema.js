// A tool's input schema as a form description: pure data in, pure data out. No DOM here
// (`form.js` renders the description; `editors.js` reads its inputs back into JSON), so
// that `node --test` checks it without a browser (cli/browser-tests/unit/).
//
// A field description ("node") is plain data:
//   {kind, name, path, required, nullable, schema, hint, ...}
// where `kind` is one of
//   'string', 'number', 'integer'    one input;
//   'checkbox'                       a required, non-null boolean;
//   'select'                         fixed values: `options` [{value, description?}];
//   'object'                         `children` (nodes), `root` (the arguments themselves);
//   'array'                          items made on demand by `describeItem`, `initialItems`;
//   'json'                           raw JSON for what the form cannot model, `showSchema`;
//   'none'                           (the root only) a tool that takes no arguments.
// `schema` is the field's resolved schema without `null` (for its defaults, format and
// bounds), `hint` the sentence shown under it (description and constraints).

/** How deep generated forms nest; deeper values are edited as raw JSON. */
export const MAX_DEPTH = 12;

export const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
export const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
export const pretty = (value) => JSON.stringify(value, null, 2);
/** A value as text: strings as they are, anything else as JSON. */
export const valueText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

/** A schema as an object: `true` (anything) is `{}`, `false` (nothing) is `{not: {}}`. */
export const asSchema = (s) => (isObject(s) ? s : s === false ? { not: {} } : {});

/** Follows a local JSON pointer such as `#/$defs/Plan` or `#/definitions/Plan`. */
export function lookupRef(root, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  let node = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object' || !has(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/**
 * Resolves `$ref` (keeping the referring schema's own keywords, such as its description)
 * and merges `allOf`. `ctx` is {root, refs, depth}: `refs` lists the references followed
 * on the way here; meeting one again means a recursive type, edited as raw JSON.
 */
export function resolve(schema, ctx) {
  let s = asSchema(schema);
  let refs = ctx.refs;
  let recursive = false;
  while (typeof s.$ref === 'string') {
    const { $ref: ref, ...local } = s;
    if (refs.includes(ref)) { recursive = true; s = local; break; }
    refs = [...refs, ref];
    s = { ...asSchema(lookupRef(ctx.root, ref)), ...local };
  }
  const inner = { ...ctx, refs };
  if (Array.isArray(s.allOf)) s = mergeAllOf(s, inner);
  return { schema: s, ctx: inner, recursive };
}

function mergeAllOf(schema, ctx) {
  const { allOf, ...merged } = schema;
  for (const part of allOf) {
    const r = resolve(part, ctx).schema;
    for (const [key, value] of Object.entries(r)) {
      if (key === 'properties') merged.properties = { ...value, ...(merged.properties || {}) };
      else if (key === 'required') merged.required = [...(merged.required || []), ...value];
      else if (!has(merged, key)) merged[key] = value;
    }
  }
  return merged;
}

const isNullSchema = (s) => s.type === 'null'
  || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null')
  || (has(s, 'const') && s.const === null)
  || (Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === null);

/**
 * Takes `null` out of a schema: `type: ["string", "null"]`, `enum` with null, and
 * `anyOf`/`oneOf` with a `{"type": "null"}` variant (as schemars and pydantic write
 * `Option<T>`). Returns the schema without it and whether null was allowed.
 */
export function withoutNull(schema, ctx) {
  let s = schema;
  let nullable = s.nullable === true;
  if (Array.isArray(s.type) && s.type.includes('null')) {
    const types = s.type.filter((t) => t !== 'null');
    s = { ...s, type: types.length === 1 ? types[0] : types };
    nullable = true;
  }
  if (Array.isArray(s.enum) && s.enum.includes(null)) {
    s = { ...s, enum: s.enum.filter((v) => v !== null) };
    nullable = true;
  }
  for (const key of ['anyOf', 'oneOf']) {
    if (!Array.isArray(s[key])) continue;
    const variants = s[key].filter((v) => !isNullSchema(resolve(v, ctx).schema));
    if (variants.length === s[key].length) continue;
    nullable = true;
    const { [key]: _dropped, ...rest } = s;
    if (variants.length === 1) {
      const only = resolve(variants[0], ctx);
      s = { ...only.schema, ...rest };
      ctx = only.ctx;
    } else {
      s = { ...rest, [key]: variants };
    }
  }
  return { schema: s, nullable, ctx };
}

/** The allowed values of an enum-like schema (`enum`, `const`, oneOf/anyOf of consts). */
export function enumOptions(s, ctx) {
  if (Array.isArray(s.enum)) return s.enum.map((value) => ({ value }));
  if (has(s, 'const')) return [{ value: s.const, description: s.description }];
  for (const key of ['oneOf', 'anyOf']) {
    if (!Array.isArray(s[key]) || s[key].length === 0) continue;
    const options = [];
    for (const variant of s[key]) {
      const v = resolve(variant, ctx).schema;
      if (has(v, 'const')) options.push({ value: v.const, description: v.description || v.title });
      else if (Array.isArray(v.enum)) v.enum.forEach((value) => options.push({ value, description: v.description }));
      else return null;
    }
    return options;
  }
  return null;
}

/** Which editor a (resolved, null-free) schema gets. */
export function kindOf(s, ctx) {
  if (enumOptions(s, ctx)) return 'enum';
  let type = s.type;
  if (Array.isArray(type)) type = type.length === 1 ? type[0] : undefined;
  if (type === undefined && isObject(s.properties)) type = 'object';
  if (type === undefined && s.items !== undefined) type = 'array';
  if (type === 'object') return isObject(s.properties) && Object.keys(s.properties).length ? 'object' : 'json';
  if (type === 'array') return isObject(s.items) || s.items === true ? 'array' : 'json';
  if (['string', 'number', 'integer', 'boolean'].includes(type)) return type;
  return 'json';
}

/** The description and constraints of a schema, as one sentence for a hint. */
export function describe(s, nullable, kind) {
  const bits = kind ? [kind] : [];
  const add = (cond, text) => { if (cond) bits.push(text); };
  add(s.format, `format ${s.format}`);
  add(typeof s.minLength === 'number', `at least ${s.minLength} characters`);
  add(typeof s.maxLength === 'number', `at most ${s.maxLength} characters`);
  add(s.pattern, `pattern ${s.pattern}`);
  add(typeof s.minimum === 'number', `≥ ${s.minimum}`);
  add(typeof s.exclusiveMinimum === 'number', `> ${s.exclusiveMinimum}`);
  add(typeof s.maximum === 'number', `≤ ${s.maximum}`);
  add(typeof s.exclusiveMaximum === 'number', `< ${s.exclusiveMaximum}`);
  add(typeof s.multipleOf === 'number', `multiple of ${s.multipleOf}`);
  add(typeof s.minItems === 'number', `at least ${s.minItems} items`);
  add(typeof s.maxItems === 'number', `at most ${s.maxItems} items`);
  add(s.uniqueItems === true, 'unique items');
  add(has(s, 'default'), `default ${valueText(s.default)}`);
  add(nullable, 'may be null');
  const description = typeof s.description === 'string' ? s.description.trim() : '';
  const constraints = bits.length ? `(${bits.join(', ')})` : '';
  return [description, constraints].filter(Boolean).join(' ');
}

/** An object schema without properties nor extra ones, such as `{"type": "object"}`. */
export function takesNoArguments(s) {
  const noProperties = !isObject(s.properties) || Object.keys(s.properties).length === 0;
  const extra = s.additionalProperties === true || isObject(s.additionalProperties);
  const union = ['oneOf', 'anyOf', 'enum', 'const'].some((key) => has(s, key));
  return (s.type === 'object' || s.type === undefined) && noProperties && !extra && !union;
}

// ---------------------------------------------------------------------------------
// Form descriptions
// ---------------------------------------------------------------------------------

/** The form for a tool's `inputSchema`: an object node with `root: true`, or 'none', or 'json'. */
export function describeForm(inputSchema) {
  const root = asSchema(inputSchema);
  const resolved = resolve(root, { root, refs: [], depth: 0 });
  const { schema } = withoutNull(resolved.schema, resolved.ctx);
  const base = { name: 'arguments', path: '', required: true, nullable: false, schema };
  if (kindOf(schema, resolved.ctx) === 'object') {
    return objectNode(base, { ...resolved.ctx, depth: 1 }, true);
  }
  if (takesNoArguments(schema)) return { ...base, kind: 'none', hint: '' };
  return jsonNode({ ...base, path: 'arguments' });
}

/** The description of one value of a schema. `field` is {name, path, required}. */
export function describeField(rawSchema, field, ctx) {
  const resolved = resolve(rawSchema, ctx);
  const { schema, nullable, ctx: inner } = withoutNull(resolved.schema, resolved.ctx);
  const deeper = { ...inner, depth: inner.depth + 1 };
  const base = { name: field.name, path: field.path, required: field.required, nullable, schema };
  if (resolved.recursive || ctx.depth >= MAX_DEPTH) return jsonNode(base);
  const kind = kindOf(schema, deeper);
  switch (kind) {
    case 'enum': return selectNode(base, enumOptions(schema, deeper));
    case 'string': return { ...base, kind, hint: describe(schema, nullable) };
    case 'number': return { ...base, kind, hint: describe(schema, nullable, 'a number') };
    case 'integer': return { ...base, kind, hint: describe(schema, nullable, 'an integer') };
    case 'boolean':
      return field.required && !nullable
        ? { ...base, kind: 'checkbox', hint: describe(schema, false) }
        : selectNode(base, [{ value: true }, { value: false }]);
    case 'array': return {
      ...base,
      kind,
      hint: describe(schema, nullable),
      items: schema.items,
      ctx: deeper,
      initialItems: Math.min(typeof schema.minItems === 'number' ? schema.minItems : 0, 10),
    };
    case 'object': return objectNode(base, deeper, false);
    default: return jsonNode(base);
  }
}

/** The description of item `index` of an array node, named `name`. */
export function describeItem(arrayNode, index, name) {
  return describeField(arrayNode.items, { name, path: `${arrayNode.path}[${index}]`, required: true }, arrayNode.ctx);
}

/** Fixed values; `null` is one of them when the field may be null. */
function selectNode(base, options) {
  const all = base.nullable && !options.some((o) => o.value === null) ? [...options, { value: null }] : options;
  return { ...base, kind: 'select', options: all, hint: describe(base.schema, base.nullable) };
}

/** Raw JSON; `showSchema` when the schema says more than a description. */
function jsonNode(base) {
  const hint = [describe(base.schema, base.nullable), 'Write this value as JSON.'].filter(Boolean).join(' ');
  const showSchema = Object.keys(base.schema).some((key) => key !== 'description');
  return { ...base, kind: 'json', hint, showSchema };
}

function objectNode(base, ctx, root) {
  const s = base.schema;
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  const children = Object.entries(s.properties).map(([name, sub]) => describeField(sub, {
    name, required: required.has(name), path: base.path ? `${base.path}.${name}` : name,
  }, ctx));
  return { ...base, kind: 'object', root, hint: describe(s, base.nullable), children };
}
