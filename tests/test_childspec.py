"""ChildSpec records: what the registry makes of its entries, what a session reads from its input."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bots.config import Settings
from tests.toy_child import TOY_SPEC, ToyWorkflow
from workflows.activities.triggering import TriggerActivities
from workflows.builtin_children import all_children
from workflows.children import ChildCatalog
from workflows.contracts import ChildEntry, FileRef, SessionConfig
from workflows.registry import load_registry


def test_a_session_without_children_in_its_input_knows_the_builtins_as_before():
    catalog = ChildCatalog(SessionConfig(child_args={"IncidentWorkflow": {"responders": ["U1"]}}))
    incident = catalog.spec_for("IncidentWorkflow")
    assert incident is not None and incident.hooks and catalog.kind("IncidentWorkflow") == "incident"
    assert catalog.kind("DocumentProcessingWorkflow") == "document"
    assert catalog.args("IncidentWorkflow") == {"responders": ["U1"]}
    assert catalog.spec_for("deploy-approval") is None
    assert catalog.kind("SomethingNewWorkflow") == "somethingnewworkflow"


def test_the_session_config_carries_every_child_with_its_operator_options():
    config = Settings(_env_file=None, incident_responders="U1 U2").session_config()
    catalog = ChildCatalog(config)
    types = [e.workflow_type for e in config.children]
    assert types == ["IncidentWorkflow", "DocumentProcessingWorkflow", "DeployApprovalWorkflow"]
    assert catalog.args("IncidentWorkflow")["responders"] == ["U1", "U2"]
    deploy = catalog.spec_for("deploy-approval")
    assert deploy is not None and deploy.workflow_type == "DeployApprovalWorkflow" and deploy.kind == "deploy-approval"


def test_registry_entries_become_child_specs(tmp_path: Path):
    path = tmp_path / "custom.yaml"
    path.write_text(
        "workflows:\n"
        "  - {name: toy, entry_point: 'tests.toy_child:TOY_SPEC', triggers: ['\\btoy time\\b']}\n"
        "  - {name: plain, entry_point: 'tests.toy_child:ToyWorkflow'}\n"
    )
    spec, plain = load_registry(path).children()
    assert spec.workflow is ToyWorkflow and spec.kind == "toy" and spec.session_hooks is TOY_SPEC.session_hooks
    assert [r.patterns for r in spec.triggers] == [[r"\bplay with the toy\b"], [r"\btoy time\b"]]
    assert plain.kind == "plain" and plain.aliases == ("plain",) and plain.session_hooks is None
    entry = spec.entry(Settings(_env_file=None))
    assert entry == ChildEntry(
        workflow_type="ToyChildWorkflow",
        kind="toy",
        display_name="the toy",
        aliases=["toy"],
        args={"level": 7},
        hooks="tests.toy_child:ToyHooks",
    )


def test_bad_operator_options_fail_when_the_config_is_built():
    from dataclasses import replace

    broken = replace(TOY_SPEC, configure=lambda settings: {"level": "high"})
    with pytest.raises(ValidationError):
        broken.entry(Settings(_env_file=None))


async def test_start_args_come_from_the_started_childs_spec():
    acts = TriggerActivities(None, [*all_children(), TOY_SPEC])
    doc = await acts.match_trigger_now("summarize https://example.com/r.txt", [FileRef(name="a.txt", url="u")])
    assert doc is not None and [d["name"] for d in doc.args["documents"]] == ["a.txt", "r.txt"]
    toy = await acts.match_trigger_now("let's play with the toy", [])
    assert toy is not None and toy.workflow_type == "ToyChildWorkflow"
    assert toy.args == {"text": "let's play with the toy"}
