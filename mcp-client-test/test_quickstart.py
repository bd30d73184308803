"""The quickstart's tools over MCP, called by a second real client: the Python `mcp`
package (PyPI, 2.x, pinned in requirements.txt).

Usage: python test_quickstart.py PATH_TO_QUICKSTART_BINARY

Over Streamable HTTP (`serve()` with `PILLAR_MCP=1`, a bearer token) and over stdio
(`quickstart --stdio`), each in the client's two modes: "auto" (which negotiates the
newest protocol version the server offers; a confirmation is asked for with an
"input required" result) and "legacy" (2025-11-25 sessions; a confirmation is asked for
with `elicitation/create`). Each run lists the tools, calls one, gets a constraint failure
as an error result, and has a confirmation declined, then accepted. Exits non-zero on the
first check that fails, saying which.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx2
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

TOKEN = "quickstart-mcp-token"


class Answers:
    """What the user answers to each confirmation the server asks for, in order."""

    def __init__(self):
        self.queue = []
        self.asked = []

    async def elicit(self, _context, params):
        self.asked.append(params.message)
        if not self.queue:
            raise AssertionError(f"the server asked for a confirmation nobody expected: {params.message!r}")
        return types.ElicitResult(action=self.queue.pop(0), content=None)


def text_of(result):
    return " ".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def check(condition, what):
    if not condition:
        raise AssertionError(what)


async def exercise(client, answers, label):
    print(f"{label}: negotiated protocol version {client.protocol_version}")
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    check({"lookup_customer", "list_plans", "upgrade_plan"} <= set(tools), f"{label}: tools listed: {sorted(tools)}")
    schema = tools["upgrade_plan"].input_schema
    check(schema["properties"]["plan"]["enum"] == ["free", "pro", "enterprise"], f"{label}: upgrade_plan's schema: {schema}")

    found = await client.call_tool("lookup_customer", {"email": "li@globex.com"})
    check(not found.is_error, f"{label}: lookup_customer failed: {text_of(found)}")
    check(found.structured_content["name"] == "Li Wei", f"{label}: lookup_customer: {found.structured_content}")
    plan = found.structured_content["plan"]
    target = "enterprise" if plan != "enterprise" else "free"

    # A constraint failure: the schema's enum, enforced, with the webhook's words.
    bad = await client.call_tool("upgrade_plan", {"email": "li@globex.com", "plan": "gold"})
    check(bad.is_error, f"{label}: a plan outside the enum was not an error: {text_of(bad)}")
    check("plan" in text_of(bad) and "gold" in text_of(bad), f"{label}: the constraint failure says: {text_of(bad)!r}")

    # A confirmation the user declines: nothing changes.
    answers.queue = ["decline"]
    declined = await client.call_tool("upgrade_plan", {"email": "li@globex.com", "plan": target})
    check(not answers.queue, f"{label}: the server did not ask to confirm")
    check(not declined.is_error, f"{label}: a declined confirmation is not an error: {text_of(declined)}")
    check("declined" in text_of(declined).lower(), f"{label}: declined answer: {text_of(declined)!r}")
    after = await client.call_tool("lookup_customer", {"email": "li@globex.com"})
    check(after.structured_content["plan"] == plan, f"{label}: the plan changed although the user declined")

    # The same, accepted: the tool runs again, confirmed.
    answers.queue = ["accept"]
    done = await client.call_tool("upgrade_plan", {"email": "li@globex.com", "plan": target})
    check(not answers.queue, f"{label}: the server did not ask to confirm")
    check(not done.is_error, f"{label}: the confirmed call failed: {text_of(done)}")
    check(done.structured_content == {"email": "li@globex.com", "from": plan, "to": target}, f"{label}: confirmed: {done.structured_content}")
    check(any("Li Wei" in asked for asked in answers.asked), f"{label}: the confirmation's text: {answers.asked}")
    print(f"{label}: ok ({len(tools)} tools; confirmation asked as {answers.asked[-1]!r})")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_http(binary, port):
    env = dict(os.environ, PILLAR_SECRET="plr_local", PILLAR_ADDR=f"127.0.0.1:{port}", PILLAR_MCP="1", PILLAR_MCP_TOKEN=TOKEN, RUST_LOG="warn")
    env.pop("PILLAR_ENDPOINT_URL", None)
    server = subprocess.Popen([binary], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the quickstart exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the quickstart did not listen within 30 s")


async def over_http(binary):
    port = free_port()
    server = start_http(binary, port)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        async with httpx2.AsyncClient() as anonymous:
            refused = await anonymous.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                           headers={"Accept": "application/json, text/event-stream"})
            check(refused.status_code == 401, f"http: a request without the token got {refused.status_code}")
        for mode in ("auto", "legacy"):
            answers = Answers()
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                async with Client(streamable_http_client(url, http_client=http), mode=mode,
                                  elicitation_callback=answers.elicit, cache=None) as client:
                    await exercise(client, answers, f"http/{mode}")
    finally:
        server.terminate()
        server.wait(timeout=30)


async def over_stdio(binary):
    for mode in ("auto", "legacy"):
        answers = Answers()
        env = {"PATH": os.environ.get("PATH", ""), "RUST_LOG": "warn"}
        params = StdioServerParameters(command=binary, args=["--stdio"], env=env)
        async with Client(params, mode=mode, elicitation_callback=answers.elicit, cache=None) as client:
            await exercise(client, answers, f"stdio/{mode}")


async def main():
    binary = sys.argv[1]
    await over_http(binary)
    await over_stdio(binary)
    print("python mcp client: all checks passed")


if __name__ == "__main__":
    asyncio.run(main())
