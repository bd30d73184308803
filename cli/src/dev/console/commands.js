// A console call as command lines to paste into a terminal: `pillar call`, and curl with
// the signature header computed in the shell by `pillar sign`. Both read the secret from
// PILLAR_SECRET: it is never in the page nor in the text, and no precomputed signature is
// copied (one could be replayed). Pure, no DOM: `node --test` checks it
// (cli/browser-tests/unit/commands.test.mjs).

/** The file the curl lines write the body to, sign and send. */
export const BODY_FILE = 'call.json';

/** The caller fields `pillar call` has an option for. */
const CALLER_OPTIONS = { channel: '--channel', external_user_id: '--user-id', email: '--email' };

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `text` as one word of a POSIX shell: as is when that is safe, else single-quoted. */
export function shellQuote(text) {
  const s = String(text);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * The `pillar call` line that sends what `sent` (a history entry's body) sent to
 * `endpointUrl`, with a fresh call id: {command, omitted}, `omitted` naming the caller
 * fields `pillar call` has no option for.
 */
export function pillarCallCommand(endpointUrl, sent) {
  const body = isObject(sent) ? sent : {};
  const confirm = body.action === 'tool_confirm';
  const input = confirm ? body.confirm_payload : body.arguments;
  const words = ['pillar', 'call', shellQuote(body.tool_name ?? ''), '--url', shellQuote(endpointUrl),
    '--args', shellQuote(JSON.stringify(input === undefined ? {} : input))];
  if (confirm) words.push('--confirm');
  const omitted = [];
  for (const [key, value] of Object.entries(isObject(body.caller) ? body.caller : {})) {
    if (CALLER_OPTIONS[key]) words.push(CALLER_OPTIONS[key], shellQuote(value));
    else omitted.push(`caller.${key}`);
  }
  if (typeof body.conversation_id === 'string' && body.conversation_id) {
    words.push('--conversation-id', shellQuote(body.conversation_id));
  }
  return { command: words.join(' '), omitted };
}

/**
 * The shell lines that send `sent` again, as is (its call id too), to `endpointUrl` with
 * curl: write the body to call.json, sign its bytes with `pillar sign` (PILLAR_SECRET),
 * send the same bytes.
 */
export function curlCommand(endpointUrl, sent) {
  return [
    `printf '%s' ${shellQuote(JSON.stringify(sent))} > ${BODY_FILE}`,
    `curl -sS ${shellQuote(endpointUrl)} -H 'Content-Type: application/json' \\`,
    `  -H "X-Pillar-Signature: $(pillar sign --body-file ${BODY_FILE})" \\`,
    `  --data-binary @${BODY_FILE}`,
  ].join('\n');
}
