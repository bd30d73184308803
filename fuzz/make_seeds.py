#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (committed). Run from anywhere:

    python3 fuzz/make_seeds.py

It only rewrites the seeds it names; files the fuzzer adds belong in a scratch corpus
(see fuzz/README.md), never here.
"""
import hashlib
import hmac
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
SECRET = "plr_test_secret"  # pillar::testing::TEST_SECRET
NOW = 1_700_000_000  # the handle target's fixed clock

# PROTOCOL.md's three test vectors: secret, t, body, v1.
VECTORS = [
    (
        "plr_test_secret",
        1710000000,
        b'{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_1","arguments":{"email":"sarah@acme.com"}}',
        "8f52f6519cdf9bcc9e94db03b303e795ef7a046d40a3829984311967ef19508e",
    ),
    (
        "whsec_rotate_me",
        1700000000,
        b"",
        "76ad68e4d3d034f4f212c9b61c4bd0e46d62346ccff67da3065eaf3103f35e20",
    ),
    (
        "plr_\u00e9\u00e8_unicode",
        1767225600,
        b'{"action":"ping"}',
        "80e955e97241a4c71dcbd6f0c3f6dd500f3d73eea4ca266fe7c6b6005f69740e",
    ),
]


def v1(secret, t, body):
    data = str(t).encode() + b"." + body
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


for secret, t, body, want in VECTORS:
    assert v1(secret, t, body) == want, (secret, t)


def write(target, name, data):
    path = HERE / "corpus" / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


# --- signature_header: the header value itself -------------------------------------
V1_T, V1_GOOD = VECTORS[0][1], VECTORS[0][3]
BAD = v1("wrong_secret", V1_T, VECTORS[0][2])
headers = {
    "vector_1": f"t={V1_T},v1={V1_GOOD}",
    "vector_2": f"t={VECTORS[1][1]},v1={VECTORS[1][3]}",
    "vector_3": f"t={VECTORS[2][1]},v1={VECTORS[2][3]}",
    "rotation_bad_good": f"t={V1_T},v1={BAD},v1={V1_GOOD}",
    "rotation_good_bad": f"t={V1_T},v1={V1_GOOD},v1={BAD}",
    "spaces_tabs": f" t={V1_T} ,\tv1={V1_GOOD}\t",
    "uppercase_hex": f"t={V1_T},v1={V1_GOOD.upper()}",
    "v0_unknown_keys": f"t={V1_T},v0={V1_GOOD},x=y,v1={V1_GOOD}",
    "only_v0": f"t={V1_T},v0={V1_GOOD}",
    "t_plus_sign": f"t=+{V1_T},v1={V1_GOOD}",
    "t_underscores": f"t=1_710_000_000,v1={V1_GOOD}",
    "t_i64_min": f"t=-9223372036854775808,v1={V1_GOOD}",
    "t_19_digits": f"t=9999999999999999999,v1={V1_GOOD}",
    "t_leading_zeros": f"t=0{V1_T},v1={V1_GOOD}",
    "t_empty": f"t=,v1={V1_GOOD}",
    "splice": f"t={V1_T}.{{\"action\":\"tool_call\",v1={V1_GOOD}",
    "two_t": f"t={V1_T},t={V1_T},v1={V1_GOOD}",
    "v1_empty": f"t={V1_T},v1=",
    "v1_8_hex": f"t={V1_T},v1={V1_GOOD[:8]}",
    "v1_66_hex": f"t={V1_T},v1={V1_GOOD}00",
    "no_t": f"v1={V1_GOOD}",
    "item_without_eq": f"t={V1_T},v1,v1={V1_GOOD}",
    "stray_comma": f"t={V1_T},,v1={V1_GOOD}",
    "blank": " \t ",
}
for name, value in headers.items():
    write("signature_header", name, value)
write("signature_header", "non_utf8", f"t={V1_T},v1=".encode() + b"\xff\xfe" + V1_GOOD.encode())
write("signature_header", "control_char", f"t={V1_T}\x07,v1={V1_GOOD}")
# Just over the 4 KiB cap.
write("signature_header", "too_long", f"t={V1_T},v1={V1_GOOD},x=" + "a" * 4096)


# --- handle: selector byte, then body / header line + body ---------------------------
def call(tool, arguments, call_id="tc_1", action="tool_call", **extra):
    payload = {"action": action, "tool_name": tool, "call_id": call_id}
    if action == "tool_confirm":
        payload["confirm_payload"] = arguments
        payload["confirmed"] = True
    else:
        payload["arguments"] = arguments
    payload["conversation_id"] = "conv_1"
    payload.update(extra)
    return json.dumps(payload, separators=(",", ":")).encode()


PING = b'{"action":"ping"}'
ECHO = call("echo", {"email": "sarah@acme.com", "n": [1, 2.5, None, True]})

unsigned = {  # mode 0: no header
    "ping": PING,
    "unsigned_call": ECHO,
    "not_json": b"action=ping",
    "empty": b"",
}
for name, body in unsigned.items():
    write("handle", f"m0_{name}", b"\x00" + body)

fuzzed_header = {  # mode 1: header line, then body
    "valid_now": (f"t={NOW},v1={v1(SECRET, NOW, ECHO)}".encode(), ECHO),
    "vector_1": (f"t={V1_T},v1={V1_GOOD}".encode(), VECTORS[0][2]),
    "garbage": (b"t=abc,v1=xyz", ECHO),
    "obs_text": (b"t=1700000000,v1=\xe9", ECHO),
}
for name, (line, body) in fuzzed_header.items():
    write("handle", f"m1_{name}", b"\x01" + line + b"\n" + body)

signed = {  # mode 2: correctly signed now
    "echo": ECHO,
    "echo_no_arguments": b'{"action":"tool_call","tool_name":"echo","call_id":"tc_2"}',
    "echo_null_arguments": b'{"action":"tool_call","tool_name":"echo","call_id":"tc_3","arguments":null}',
    "echo_array_arguments": call("echo", [1, 2]),
    "echo_unicode": call("echo", {"name": "Zo\u00eb \u65e5\u672c \U0001F389"}),
    "echo_pretty": json.dumps(json.loads(ECHO), indent=2).encode(),
    "echo_no_call_id": b'{"action":"tool_call","tool_name":"echo","arguments":{}}',
    "confirm_echo": call("echo", {"id": 7}, action="tool_confirm"),
    "fail": call("fail", {"why": "x"}),
    "fail_quotes_secret": call("fail", {"s": SECRET}),
    "leak": call("leak", {}),
    "panics": call("panics", {}),
    "slow": call("slow", {}),
    "slack_only_web": call("slack_only", {}),
    "slack_only_slack": call("slack_only", {}, caller={"channel": "slack"}),
    "whoami_full": call(
        "whoami",
        {},
        product_id="prod_1",
        confirmed=True,
        caller={
            "channel": "email",
            "channel_user_id": "U1",
            "external_user_id": "user_1",
            "email": "a@b.c",
            "display_name": "A",
        },
    ),
    "unknown_tool": call("lookup_customer", {"email": "sarah@acme.com"}),
    "unknown_action": b'{"action":"reboot"}',
    "no_action": b'{"tool_name":"echo"}',
    "action_not_string": b'{"action":42}',
    "wrong_type_call_id": b'{"action":"tool_call","tool_name":"echo","call_id":5}',
    "wrong_type_caller": b'{"action":"tool_call","tool_name":"echo","call_id":"c","caller":{"channel":1}}',
    "duplicate_action": b'{"action":"ping","action":"tool_call","tool_name":"echo"}',
    "invalid_utf8": b'{"action":"tool_call","tool_name":"echo","call_id":"u","arguments":{"a":"\xff\xfe"}}',
    "escaped_strings": b'{"action":"tool_\\u0063all","tool_name":"ec\\u0068o","call_id":"\\n","arguments":{"k\\"":"\\ud83c\\udf89"}}',
    "array_body": b"[1,2,3]",
    "not_json": b"{",
    "empty": b"",
}
for name, body in signed.items():
    write("handle", f"m2_{name}", b"\x02" + body)

for name, skew_byte in [("at_window_edge", 100), ("just_outside", 101), ("future_outside", 0x9B)]:
    write("handle", f"m3_{name}", b"\x03" + bytes([skew_byte]) + ECHO)

for name, line in [("extra_bad_v1", b"v1=deadbeef"), ("second_t", b"t=1700000001"), ("v0", b"v0=00")]:
    write("handle", f"m4_{name}", b"\x04" + line + b"\n" + ECHO)

write("handle", "m5_sent_twice", b"\x05" + ECHO)
