"""Connecting to Temporal: one Runtime per process (with Prometheus metrics), pydantic data."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from bots.ports import free_port
from workflows.data_converter import data_converter

_runtime: Runtime | None = None
_metrics_address: str | None = None


def runtime(metrics_port: int | None = None, metrics_host: str = "127.0.0.1") -> Runtime:
    """The process's Temporal Runtime; its SDK metrics are served on ``metrics_address()``."""
    global _runtime, _metrics_address
    if _runtime is None:
        _metrics_address = f"{metrics_host}:{metrics_port or free_port()}"
        _runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=_metrics_address)))
    return _runtime


def metrics_address() -> str | None:
    return _metrics_address


async def connect(target: str, namespace: str = "default", *, lazy: bool = False) -> Client:
    return await Client.connect(
        target,
        namespace=namespace,
        data_converter=data_converter,
        runtime=runtime(),
        lazy=lazy,
    )
