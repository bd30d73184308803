# Sourced by bench/load.sh and bench/count_serve.sh: the signed requests they send (wrk
# sends them with bench/call.lua), and waiting for a server to listen.
#
# One line per request: `<signature>\t<body>`, the body a tool_call for `lookup_customer`
# with its own call id (`tc_<11 digits>`: the same shape and length for every one), signed
# with $SECRET and a timestamp of now.
BODY='{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_%011d","arguments":{"email":"sarah@acme.com"},"conversation_id":"conv_8f2c1a7d","caller":{"channel":"web","external_user_id":"u_42"}}'
sign_pool() { # file first count
  python3 - "$SECRET" "$BODY" "$1" "$2" "$3" <<'PY'
import hashlib, hmac, sys, time
secret, template, path, first, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t = str(int(time.time()))
key = hmac.new(secret.encode(), digestmod=hashlib.sha256)
key.update(t.encode() + b".")
with open(path, "w") as out:
    for n in range(first, first + count):
        body = template % n
        mac = key.copy()
        mac.update(body.encode())
        out.write(f"t={t},v1={mac.hexdigest()}\t{body}\n")
PY
}

wait_listening() { # port pid: up to 60 s (a server under valgrind starts slowly)
  local i
  for i in $(seq 1 1200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "server on :$1 exited" >&2; return 1; }
    sleep 0.05
  done
  echo "server on :$1 did not listen" >&2
  return 1
}
