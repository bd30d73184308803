"""The reference SDK's own server, `pillar.serve()` (http.server, one thread).

    PILLAR_SECRET=plr_bench PORT=9104 python standalone.py
"""
import os

from tool import pillar

pillar.serve(port=int(os.environ.get("PORT", "8787")), host="127.0.0.1")
