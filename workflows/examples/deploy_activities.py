"""The deploy-approval example's one side effect: tell the waiting pipeline the decision."""

from __future__ import annotations

import httpx
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError


class DeployDecision(BaseModel):
    callback_url: str
    deploy_id: str
    service: str
    version: str
    environment: str
    outcome: str
    decided_by: str = ""


@activity.defn
async def notify_pipeline(decision: DeployDecision) -> int:
    """POST the decision to the pipeline's callback URL; 4xx is final, 5xx and network errors retry."""
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            resp = await http.post(decision.callback_url, json=decision.model_dump(exclude={"callback_url"}))
    except httpx.HTTPError as err:
        raise RuntimeError(f"the pipeline callback failed: {str(err) or type(err).__name__}") from err
    if resp.status_code >= 500:
        raise RuntimeError(f"the pipeline callback answered HTTP {resp.status_code}")
    if resp.status_code >= 400:
        raise ApplicationError(f"the pipeline refused the callback: HTTP {resp.status_code}", non_retryable=True)
    return resp.status_code


ACTIVITIES = [notify_pipeline]
