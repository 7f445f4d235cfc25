"""POST /events/alertmanager: firing opens one incident per alert, resends don't, resolved resolves it."""

from __future__ import annotations

from tests.support.events import AUTH, TOKEN, channel_texts, wait_until
from tests.support.stack import running_stack
from workflows.incident import IncidentWorkflow

ALERT = {
    "status": "firing",
    "labels": {"alertname": "CheckoutLatencyHigh", "severity": "critical", "service": "checkout"},
    "annotations": {"summary": "p99 latency above 2s for 10 minutes"},
    "startsAt": "2026-11-26T00:50:00.123Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus.local/graph?g0.expr=latency",
    "fingerprint": "c0ffee1234abcd",
}


def webhook(status: str, alerts: list[dict]) -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutLatencyHigh"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "threadwork",
        "groupLabels": {"alertname": "CheckoutLatencyHigh"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local",
        "alerts": alerts,
    }


async def _incidents(client, task_queue: str) -> list:
    return [w async for w in client.list_workflows(f'WorkflowType = "IncidentWorkflow" AND TaskQueue = "{task_queue}"')]


async def test_firing_opens_one_incident_resend_does_not_resolved_resolves(client, tmp_path):
    wid = "incident:alert:c0ffee1234abcd@20261126T005000.123000Z"
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        first = await stack.http.post("/events/alertmanager", json=webhook("firing", [ALERT]), headers=AUTH)
        assert first.status_code == 202 and first.json()["accepted"] == [wid]
        await wait_until(lambda: channel_texts(stack), "the incident card")
        resent = await stack.http.post(f"/events/alertmanager?token={TOKEN}", json=webhook("firing", [ALERT]))
        assert resent.status_code == 202

        incidents = await wait_until(
            lambda: _incidents(client, stack.settings.task_queue), "the incident in visibility"
        )
        assert [w.id for w in incidents] == [wid]
        state = await client.get_workflow_handle_for(IncidentWorkflow.run, wid).query(
            IncidentWorkflow.get_incident_state
        )
        assert state.severity == "SEV1" and state.status != "resolved"
        assert state.title == "CheckoutLatencyHigh: p99 latency above 2s for 10 minutes"
        assert state.origin.channel == "documents"  # the events channel

        resolved = {**ALERT, "status": "resolved", "endsAt": "2026-11-26T01:05:00Z"}
        done = await stack.http.post("/events/alertmanager", json=webhook("resolved", [resolved]), headers=AUTH)
        assert done.status_code == 202 and done.json()["updated"] == [wid]
        final = await client.get_workflow_handle_for(IncidentWorkflow.run, wid).result()
        assert final.status == "resolved"
        assert any("resolved" in entry.text.lower() for entry in final.timeline)

        late = await stack.http.post("/events/alertmanager", json=webhook("firing", [ALERT]), headers=AUTH)
        assert late.json()["duplicates"] == [wid]  # a late resend does not reopen it
        assert [w.id for w in await _incidents(client, stack.settings.task_queue)] == [wid]
        again = await stack.http.post("/events/alertmanager", json=webhook("resolved", [resolved]), headers=AUTH)
        assert again.status_code == 202 and again.json()["ignored"] == [wid]
        assert "no incident is open" in again.json()["reasons"][wid]
        texts = await channel_texts(stack)
        assert sum(t.startswith("Incident resolved") for t in texts) == 1, texts


async def test_each_alert_of_a_group_gets_its_own_incident(client, tmp_path):
    # Workflow ids outlive a test on the shared dev server: this test uses its own alerts.
    first = {**ALERT, "fingerprint": "a1a1a1a1", "startsAt": "2026-11-26T02:00:00Z"}
    other = {**first, "labels": {**ALERT["labels"], "service": "search"}, "fingerprint": "beef5678"}
    no_fingerprint = {
        **first,
        "labels": {"alertname": "DiskFull", "severity": "warning"},
        "annotations": {},
        "fingerprint": "",
    }
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        resp = await stack.http.post(
            "/events/alertmanager", json=webhook("firing", [first, other, no_fingerprint]), headers=AUTH
        )
        accepted = resp.json()["accepted"]
        assert len(accepted) == 3 and len(set(accepted)) == 3
        disk = await client.get_workflow_handle_for(IncidentWorkflow.run, accepted[2]).query(
            IncidentWorkflow.get_incident_state
        )
        assert disk.severity == "SEV3" and disk.title == "DiskFull"
        unsupported = await stack.http.post(
            "/events/alertmanager", json={**webhook("firing", [ALERT]), "version": "3"}, headers=AUTH
        )
        assert unsupported.status_code == 400 and "version" in unsupported.json()["error"]
        no_status = {k: v for k, v in ALERT.items() if k != "status"}
        neither = await stack.http.post("/events/alertmanager", json=webhook("", [no_status]), headers=AUTH)
        assert neither.status_code == 400
        assert "alerts.0.status: is required (the group has no firing/resolved status" in neither.json()["error"]


async def test_group_status_is_the_fallback_for_alerts_without_their_own(client, tmp_path):
    firing = {
        **{k: v for k, v in ALERT.items() if k != "status"},
        "fingerprint": "9r0up",
        "startsAt": "2026-11-26T03:00:00Z",
    }
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        opened = await stack.http.post("/events/alertmanager", json=webhook("firing", [firing]), headers=AUTH)
        wid = "incident:alert:9r0up@20261126T030000.000000Z"
        assert opened.status_code == 202 and opened.json()["accepted"] == [wid]
        await wait_until(lambda: channel_texts(stack), "the incident card")
        resolved = await stack.http.post("/events/alertmanager", json=webhook("resolved", [firing]), headers=AUTH)
        assert resolved.json()["updated"] == [wid]
        assert (await client.get_workflow_handle_for(IncidentWorkflow.run, wid).result()).status == "resolved"


def legacy(state: str) -> dict:
    """Grafana legacy alerting's webhook body (the shape of grafana/grafana's old-alerting docs)."""
    return {
        "dashboardId": 1,
        "evalMatches": [{"value": 1, "metric": "Count", "tags": {}}],
        "message": "Checkout errors above 5%",
        "orgId": 3,
        "panelId": 2,
        "ruleId": 4242,
        "ruleName": "Checkout errors",
        "ruleUrl": "http://grafana.local/d/x",
        "state": state,
        "tags": {"severity": "critical"},
        "title": f"[{state}] Checkout errors",
    }


async def test_grafana_legacy_alert_opens_ok_resolves_and_a_later_alert_opens_again(client, tmp_path):
    wid = "incident:grafana:3/4242"
    handle = client.get_workflow_handle_for(IncidentWorkflow.run, wid)
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        first = await stack.http.post("/events/alertmanager", json=legacy("alerting"), headers=AUTH)
        assert first.status_code == 202 and first.json()["accepted"] == [wid]
        reminder = await stack.http.post("/events/alertmanager", json=legacy("alerting"), headers=AUTH)
        assert reminder.json()["accepted"] == [wid]  # the same incident, still open
        state = await wait_until(lambda: _state(handle), "the incident")
        assert (state.title, state.severity) == ("Checkout errors: Checkout errors above 5%", "SEV1")
        first_run = (await handle.describe()).run_id

        ok = await stack.http.post("/events/alertmanager", json=legacy("ok"), headers=AUTH)
        assert ok.json()["updated"] == [wid]
        assert (await handle.result()).status == "resolved"
        pending = await stack.http.post("/events/alertmanager", json=legacy("no_data"), headers=AUTH)
        assert pending.json()["ignored"] == [wid] and "'no_data'" in pending.json()["reasons"][wid]

        again = await stack.http.post("/events/alertmanager", json=legacy("alerting"), headers=AUTH)
        assert again.json()["accepted"] == [wid]
        assert (await client.get_workflow_handle(wid).describe()).run_id != first_run


async def _state(handle):
    try:
        return await handle.query(IncidentWorkflow.get_incident_state)
    except Exception:  # not queryable before its first task
        return None
