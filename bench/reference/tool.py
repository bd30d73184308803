"""The reference SDK (`pillar-ai-server`) with the same small tool as the Rust servers."""
import os

from pillar import Pillar

pillar = Pillar(secret=os.environ["PILLAR_SECRET"], auto_register=False)


@pillar.tool(description="Look up a customer by email.")
async def lookup_customer(email: str) -> dict:
    return {"email": email, "plan": "pro"}
