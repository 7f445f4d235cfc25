"""The tools offered to the model: pydantic argument models, their OpenAI ``tools`` entries,
and parsing of a call (an invalid call becomes an error text for the model, never an exception).

Pure and deterministic: the workflow builds and checks these itself.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from workflows.tools.models import ToolCall, ToolsConfig, WorkflowTool

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]


def _severity(value: object) -> object:
    """ "sev2", "2", "SEV 2" -> "SEV2" (models write severities many ways)."""
    if isinstance(value, (str, int)):
        text = str(value).upper().replace(" ", "")
        return text if text.startswith("SEV") else f"SEV{text}"
    return value


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartIncidentArgs(_Args):
    title: str = Field(min_length=3, max_length=200, description="a short title: what is broken")
    severity: Severity = Field("SEV3", description="SEV1 (everyone affected) .. SEV4 (minor)")
    summary: str = Field("", max_length=2000, description="what the reporter said, in one or two sentences")

    @field_validator("severity", mode="before")
    @classmethod
    def _sev(cls, value: object) -> object:
        return _severity(value)


class ProcessDocumentArgs(_Args):
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000, description="an http(s) link to the document")


class RunWorkflowArgs(_Args):
    name: str = Field(description="the registered workflow's name")
    args: dict[str, Any] = Field(default_factory=dict, description="the workflow's arguments")


class SessionStatusArgs(_Args):
    pass


class PostIncidentUpdateArgs(_Args):
    text: str = Field(
        min_length=1,
        max_length=2000,
        description="the update; a status word (investigating, identified, monitoring, resolved) changes the status",
    )


class SetSeverityArgs(_Args):
    level: Severity

    @field_validator("level", mode="before")
    @classmethod
    def _sev(cls, value: object) -> object:
        return _severity(value)


TOOL_MODELS: dict[str, type[BaseModel]] = {
    "start_incident": StartIncidentArgs,
    "process_document": ProcessDocumentArgs,
    "run_workflow": RunWorkflowArgs,
    "session_status": SessionStatusArgs,
    "post_incident_update": PostIncidentUpdateArgs,
    "set_severity": SetSeverityArgs,
}
INCIDENT_TOOLS = ("post_incident_update", "set_severity")
DESCRIPTIONS = {
    "start_incident": "Start incident response for a production problem someone reports. "
    "A human confirms before it starts.",
    "process_document": "Fetch and summarize a document from an http(s) link; returns the summary.",
    "run_workflow": "Run one of the operator's registered workflows by name with its arguments.",
    "session_status": "This conversation's message count and the workflows it started.",
    "post_incident_update": "Post a status update to this conversation's running incident.",
    "set_severity": "Change the severity of this conversation's running incident.",
}


def offered(config: ToolsConfig, in_incident: bool) -> list[str]:
    names = ["start_incident", "process_document", "session_status"]
    if config.workflows:
        names.append("run_workflow")
    if in_incident:
        names.extend(INCIDENT_TOOLS)
    return names


def _parameters(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


def args_model(tool: WorkflowTool) -> type[BaseModel]:
    """A pydantic model of a custom workflow's declared arguments (unknown keys refused)."""
    kinds: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
    fields: dict[str, Any] = {}
    for name, spec in tool.arguments.items():
        kind: Any = Literal[tuple(spec.enum)] if spec.enum else kinds[spec.type]
        default = ... if spec.required else None
        fields[name] = (kind if spec.required else kind | None, Field(default, description=spec.description))
    return create_model(f"Args_{tool.name.replace('-', '_')}", __config__=ConfigDict(extra="forbid"), **fields)


def tool_specs(config: ToolsConfig, in_incident: bool) -> list[dict[str, Any]]:
    """The OpenAI-compatible ``tools`` list for this turn."""
    specs = []
    for name in offered(config, in_incident):
        parameters = _parameters(TOOL_MODELS[name])
        description = DESCRIPTIONS[name]
        if name == "run_workflow":
            parameters["properties"]["name"]["enum"] = [w.name for w in config.workflows]
            parameters["properties"]["args"]["anyOf"] = [_parameters(args_model(w)) for w in config.workflows]
            listed = "; ".join(
                f"{w.name}: {w.description} args {json.dumps(_parameters(args_model(w))['properties'])}"
                + (" (a human confirms first)" if w.confirm else "")
                for w in config.workflows
            )
            description = f"{description} Workflows: {listed}"
        specs.append(
            {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}
        )
    return specs


def _errors(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:5]:
        where = ".".join(str(p) for p in e.get("loc", ())) or "arguments"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse_call(call: ToolCall, config: ToolsConfig, in_incident: bool) -> BaseModel | str:
    """The validated arguments of ``call``, or an error text to hand back to the model."""
    names = offered(config, in_incident)
    if call.name not in names:
        return f"error: there is no tool {call.name!r} here; the tools are: {', '.join(names)}."
    try:
        raw = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as err:
        return f"error: the arguments of {call.name} are not valid JSON ({err.msg}); nothing was done."
    try:
        args = TOOL_MODELS[call.name].model_validate(raw)
    except ValidationError as err:
        return f"error: invalid arguments for {call.name}: {_errors(err)}; nothing was done."
    if isinstance(args, RunWorkflowArgs):
        tool = next((w for w in config.workflows if w.name == args.name), None)
        if tool is None:
            known = ", ".join(w.name for w in config.workflows)
            return f"error: there is no workflow {args.name!r}; the workflows are: {known}; nothing was done."
        try:
            args_model(tool).model_validate(args.args)
        except ValidationError as err:
            return f"error: invalid arguments for workflow {args.name}: {_errors(err)}; nothing was done."
    return args
