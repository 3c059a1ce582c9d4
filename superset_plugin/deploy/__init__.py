"""A compiled bundle on a live Superset: the REST client, what is there now
(live), what a deploy would do (plan), doing it (apply), and the spec model
published to the North Star page."""

from superset_plugin.deploy.apply import DeployRefused, ImportUnconfirmed, Result, deploy, plan_deploy
from superset_plugin.deploy.client import SupersetClient, SupersetError
from superset_plugin.deploy.plan import Options, Plan, Step, make_plan

__all__ = [
    "DeployRefused",
    "ImportUnconfirmed",
    "Options",
    "Plan",
    "Result",
    "Step",
    "SupersetClient",
    "SupersetError",
    "deploy",
    "make_plan",
    "plan_deploy",
]
