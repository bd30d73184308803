"""The reference SDK behind FastAPI, as its FastAPI adapter documents it.

    PILLAR_SECRET=plr_bench uvicorn fastapi_app:app --host 127.0.0.1 --port 9103
"""
from fastapi import FastAPI, Request
from pillar.adapters._fastapi import handle_fastapi_request

from tool import pillar

app = FastAPI()


@app.post("/")
async def webhook(request: Request):
    return await handle_fastapi_request(pillar, request)
