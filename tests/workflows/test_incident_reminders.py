"""An incident reminds its commander when nobody posted an update for the update interval."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.helpers import eventually
from tests.workflows.inputs import IncidentAction, IncidentWorkflow, actor, thread_key
from tests.workflows.recording import Post
from tests.workflows.world import World, minutes


def minutes_after(start: datetime, posts: list[Post]) -> list[float]:
    return [minutes(p.at - start) for p in posts]


async def test_reminders_every_interval_without_updates_and_an_update_restarts_the_clock(world: World) -> None:
    alice = actor("alice")
    handle = await world.start_incident(thread_key(), "checkout is down", by=alice, update_interval_seconds=1800)
    card = await world.platform.wait_for(lambda: world.platform.posts_saying("Checkout is down"), "the incident card")
    started = card[0].at
    channel = world.platform.channels[0].created.key()

    def reminders() -> list[Post]:
        return world.platform.posts_saying("Reminder: no update")

    await world.skip(timedelta(minutes=65))
    await world.platform.wait_for(lambda: len(reminders()) == 2, "two reminders")
    await world.incident_click(handle, alice, IncidentAction.POST_UPDATE, "rolled back the deploy")
    await world.skip(timedelta(minutes=40))
    await world.platform.wait_for(lambda: len(reminders()) == 3, "a third reminder")
    await world.incident_click(handle, alice, IncidentAction.RESOLVE)
    state = await handle.result()

    assert state.reminders_sent == 3
    assert all(p.key == channel for p in reminders())
    assert reminders()[0].text == (
        'Reminder: no update on incident "Checkout is down" for 30m. Alice, please post an '
        "update (the Post update button, or `incident update <text>` here)."
    )
    # 30 and 60 minutes after the start, then 30 minutes after the update (posted at 65).
    assert minutes_after(started, reminders()) == [30.0, 60.0, 95.0]


async def test_an_incident_declared_in_a_session_reminds_in_its_channel_and_reports_back(world: World) -> None:
    key = thread_key()
    await world.start_session(key, child_args={"IncidentWorkflow": {"update_interval_seconds": 600}})
    await world.say(key, "we have a critical incident: checkout is down")
    [started] = (await world.state(key)).triggered_workflows
    incident = world.client.get_workflow_handle_for(IncidentWorkflow.run, started.workflow_id)

    await world.platform.wait_for(lambda: world.platform.channels, "the incident channel")
    await world.skip(timedelta(minutes=11))
    [reminder] = await world.platform.wait_for(lambda: world.platform.posts_saying("Reminder: no update"), "a reminder")
    await world.incident_click(incident, actor("alice"), IncidentAction.RESOLVE, "fixed")
    await incident.result()

    assert reminder.key == world.platform.channels[0].created.key()
    assert "for 10m." in reminder.text
    assert world.platform.texts(key)[0].startswith("I've started incident response for")
    session = await world.platform.wait_for(
        lambda: world.platform.posts_saying("Incident resolved: Checkout is down"), "the summary in the origin thread"
    )
    assert any(p.key == key for p in session)
    # The incident's child_status signal reaches the session's current run.
    await eventually(
        lambda: world.state(key),
        lambda st: [w.status for w in st.triggered_workflows] == ["resolved"],
        timeout=10,
        what="the session hearing that its incident resolved",
    )
