"""The service itself: the loaded model, liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.api.deps import MetricsDep, ModelDep, ServicesDep
from app.api.errors import error_responses, shown
from app.api.schemas import Health, ModelInfo, Ready
from app.queue.store import DatabaseError, ping

router = APIRouter(tags=["service"])

_LIBRARIES = ("python", "sklearn", "numpy", "scipy", "pandas", "joblib")


@router.get("/v1/model", response_model=ModelInfo)
def model_info(model: ModelDep) -> dict[str, Any]:
    """The loaded model: version, labels, thresholds and evaluation metrics from its manifest."""
    manifest = model.manifest
    return {
        "version": model.version,
        "created_at": manifest.get("created_at"),
        "git_sha": manifest.get("git_sha"),
        "label_schema": manifest.get("label_schema", {}),
        "thresholds": {
            head: {"threshold": model.thresholds[head], "rule": entry.get("rule")}
            for head, entry in manifest.get("thresholds", {}).items()
        },
        "metrics": manifest.get("metrics", {}),
        "libraries": {
            name: str(manifest[f"{name}_version"])
            for name in _LIBRARIES
            if f"{name}_version" in manifest
        },
    }


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, responses=error_responses(503))
async def readyz(services: ServicesDep) -> Any:
    """Readiness: the model is loaded and the database answers."""
    try:
        await run_in_threadpool(ping, services.engine)
    except DatabaseError as exc:
        return JSONResponse(
            {"error": {"code": exc.code, "message": shown(exc), "field": None}},
            status_code=503,
        )
    return {"status": "ready", "model_version": services.model.version, "database": "ok"}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text: requests by route and status, latency, comments scored, flags."""
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
