"""The HTTP benchmark's baseline: FastAPI with one POST endpoint that answers a constant.

It does what any FastAPI JSON endpoint does (read and parse the JSON body, run a plain
`def` route in the threadpool, serialise the answer) and nothing of threadguard's own work,
so threadguard's figures divided by these show the cost of validation, auth and scoring.
Served by uvicorn exactly like the service:

    python -m uvicorn bare_app:create_app --factory --app-dir benchmarks
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI

ANSWER = {"ok": True}


def create_app() -> FastAPI:
    """The baseline app (a factory, like threadguard's, for uvicorn --factory)."""
    app = FastAPI(title="bare")

    @app.post("/v1/score")
    def score(body: Annotated[dict[str, Any], Body()]) -> dict[str, bool]:
        """Answer a constant whatever the comment."""
        return ANSWER

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
