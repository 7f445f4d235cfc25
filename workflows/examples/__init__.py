"""Example custom workflows, registered through workflows/custom_workflows.default.yaml."""
