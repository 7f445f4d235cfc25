"""The language model's tools, executed by the session workflow (docs/ai.md).

models.py: plain data (no core imports); specs.py: argument models and the OpenAI ``tools``
list; policy.py: who may do what; confirmations.py: Approve/Cancel before consequential
calls; runner.py: what each tool does; loop.py: the bounded model <-> tools rounds of a turn.
"""
