// Unit tests of the console's commands.js: a call as `pillar call` and curl command
// lines. Plain `node --test`, no browser; the quoting is checked by a real POSIX shell.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BODY_FILE, curlCommand, pillarCallCommand, shellQuote } from '../../src/dev/console/commands.js';

const URL = 'http://127.0.0.1:8787/';
const sh = (script, cwd) => execFileSync('sh', ['-c', script], { cwd, encoding: 'utf8' });

test('shellQuote gives the shell back the exact text', () => {
  assert.equal(shellQuote('http://127.0.0.1:8787/'), 'http://127.0.0.1:8787/', 'safe words stay bare');
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  for (const text of ["it's", 'a b', '$HOME `id` $(id) "q" \\ ; | & * ?', 'line\nbreak', '', 'é ✓']) {
    assert.equal(sh(`printf '%s' ${shellQuote(text)}`), text, JSON.stringify(text));
  }
});

test('pillar call: the tool, URL, arguments, caller options and conversation; a fresh call id', () => {
  const sent = {
    action: 'tool_call', tool_name: 'lookup_customer', call_id: 'tc_0123456789abcdef',
    arguments: { email: "o'brien@acme.com" }, conversation_id: 'conv_dev',
    caller: { channel: 'slack', external_user_id: 'u_7', email: 'a@b.c', display_name: 'Ann', channel_user_id: 'U1' },
  };
  const { command, omitted } = pillarCallCommand(URL, sent);
  assert.equal(command, 'pillar call lookup_customer --url http://127.0.0.1:8787/ '
    + `--args '{"email":"o'\\''brien@acme.com"}' --channel slack --user-id u_7 --email a@b.c --conversation-id conv_dev`);
  assert.deepEqual(omitted, ['caller.display_name', 'caller.channel_user_id']);
  assert.doesNotMatch(command, /tc_0123456789abcdef|--call-id|--secret|PILLAR_SECRET=/);
  // The shell hands `pillar call` the arguments as they were sent.
  const words = sh(`set -- ${command}; shift 2; for w in "$@"; do printf '%s\\n' "$w"; done`).trimEnd().split('\n');
  assert.deepEqual(JSON.parse(words[words.indexOf('--args') + 1]), sent.arguments);
});

test('pillar call of a tool_confirm sends its confirm_payload with --confirm', () => {
  const sent = { action: 'tool_confirm', tool_name: 'delete_project', confirm_payload: { project_id: 'p_42' }, confirmed: true };
  assert.deepEqual(pillarCallCommand(URL, sent), {
    command: `pillar call delete_project --url http://127.0.0.1:8787/ --args '{"project_id":"p_42"}' --confirm`,
    omitted: [],
  });
  assert.match(pillarCallCommand(URL, { action: 'tool_call', tool_name: 'list_plans' }).command, /--args '\{\}'$/);
});

test('curl: the body in a file, signed in the shell by pillar sign, sent as the same bytes', () => {
  const sent = { action: 'tool_call', tool_name: 't', call_id: 'tc_1', arguments: { q: "it's $HOME" }, conversation_id: 'conv_dev' };
  const lines = curlCommand(URL, sent);
  assert.equal(lines, [
    `printf '%s' '${JSON.stringify(sent).replace(/'/g, "'\\''")}' > call.json`,
    "curl -sS http://127.0.0.1:8787/ -H 'Content-Type: application/json' \\",
    '  -H "X-Pillar-Signature: $(pillar sign --body-file call.json)" \\',
    '  --data-binary @call.json',
  ].join('\n'));
  assert.doesNotMatch(lines, /t=\d+,v1=|PILLAR_SECRET=/, 'no precomputed signature, no secret');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pillar-commands-'));
  try {
    sh(lines.split('\n')[0], dir);
    assert.equal(fs.readFileSync(path.join(dir, BODY_FILE), 'utf8'), JSON.stringify(sent));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
