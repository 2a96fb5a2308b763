"""Assemble the engine with every flow; channels and the CLI call ``build_engine``."""
from __future__ import annotations

from flows.aftercare import aftercare_flows
from flows.engine import Deps, Engine
from flows.intake import intake_flow, withdraw_signature
from flows.menu import Menu


def build_engine(deps: Deps) -> Engine:
    flows = {flow.name: flow for flow in (intake_flow(), *aftercare_flows())}
    return Engine(deps, flows, Menu(), on_review_reopened=withdraw_signature)
