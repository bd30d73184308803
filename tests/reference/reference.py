"""Runs the reference SDK (pillar-ai-server) on cases the Rust tests send on stdin.

Usage: python reference.py sign|verify|handle < cases.json > answers.json
Bodies travel hex-encoded so that any bytes survive the trip.
"""
import asyncio
import json
import sys

from pillar import Pillar, ToolContext
from pillar._signature import generate_signature, verify_webhook_signature


def sign(cases):
    return [
        generate_signature(bytes.fromhex(c["body"]), c["secret"], timestamp=c["t"])
        for c in cases
    ]


def verify(cases):
    # The reference checks against the wall clock; a huge tolerance isolates the MAC.
    return [
        verify_webhook_signature(
            c["header"], bytes.fromhex(c["body"]), c["secret"], tolerance_seconds=10**12
        )
        for c in cases
    ]


def handle(cases):
    pillar = Pillar(secret=cases["secret"], auto_register=False)

    @pillar.tool(description="Echo the arguments")
    async def echo(email: str, ctx: ToolContext) -> dict:
        return {"email": email, "call_id": ctx.call_id, "confirmed": ctx.confirmed}

    @pillar.tool(description="Always fails")
    async def fail(ctx: ToolContext) -> dict:
        raise ValueError("the order database is unavailable")

    async def run():
        out = []
        for c in cases["requests"]:
            headers = {"X-Pillar-Signature": c["signature"]} if c.get("signature") else {}
            body, status = await pillar.handle(bytes.fromhex(c["body"]), headers)
            out.append({"status": status, "body": body})
        return out

    return asyncio.run(run())


if __name__ == "__main__":
    mode = sys.argv[1]
    cases = json.load(sys.stdin)
    json.dump({"sign": sign, "verify": verify, "handle": handle}[mode](cases), sys.stdout)
