"""A production stack, walked through before anything is touched: declare, validate, preview the
plan with its monthly cost, check the budget, then the commands that provision and run it.

    pip install -e ".[gcp]"          # Pulumi's SDK and providers: the offline preview needs them
    python examples/production.py    # no cloud account, no credentials, no Pulumi CLI

Everything here is offline: the plan comes from the GCP Pulumi program evaluated under Pulumi's
mocks, priced with the packaged price catalog. The same steps from the command line, for the
``production`` stack this repository declares in ``stacks/production.yaml``::

    flowyml stack validate production
    flowyml stack preview production --offline --max-monthly-cost 150
    flowyml stack up production --max-monthly-cost 150      # needs the Pulumi CLI and GCP access
    flowyml run examples/training.py --stack production
    flowyml stack destroy production                          # lists the data that goes with it
"""

from __future__ import annotations

import os
import shutil
import sys
from decimal import Decimal

from flowyml.core.errors import FlowymlError
from flowyml.stacks.components import ResourceConfig
from flowyml.stacks.gcp import GCPStack

BUDGET_USD = Decimal(os.environ.get("PRODUCTION_BUDGET_USD", "150"))


def declare() -> GCPStack:
    """1. Declare: the guide's GCP stack, with a default step size and a monthly budget."""
    return GCPStack(
        name="production-walkthrough",
        project_id=os.environ.get("GCP_PROJECT_ID", "my-gcp-project"),
        region=os.environ.get("GCP_REGION", "us-central1"),
        bucket_name=os.environ.get("GCP_BUCKET", "my-artifacts"),
        resources=ResourceConfig(cpu="4", memory="16Gi"),
        budget=BUDGET_USD,
    )


def main() -> int:
    """Walk through the four steps; exit 1 when validation or the budget fails."""
    from flowyml.cost import (
        BudgetExceededError,
        RenderOptions,
        check_budget,
        price_plan,
        render_text,
    )
    from flowyml.provision.select import engine_for

    stack = declare()
    print(f"1. Declared stack {stack.name} ({stack.stack_type}, region {stack.region}).")

    problems = stack.validate(raise_on_error=False)
    print(f"\n2. Validate (no credentials needed): {len(problems)} problem(s).")
    for problem in problems:
        print(f"   - {problem}")
    if problems:
        return 1

    print("\n3. Preview: what `stack up` would create, with the monthly cost of each change.\n")
    planner = engine_for(stack, "preview", offline=True).engine
    plan = price_plan(planner.preview(stack), region=stack.region)
    width = shutil.get_terminal_size((100, 24)).columns
    print(render_text(plan, RenderOptions(color=sys.stdout.isatty(), width=width)))

    print(f"\n4. Budget: at most ${BUDGET_USD}/month (the stack's `budget`).")
    try:
        check_budget(plan, BUDGET_USD)
    except BudgetExceededError as exc:
        print(f"   Over budget, `stack up` would refuse: {exc}")
        return 1
    except FlowymlError as exc:  # resources the catalog cannot price fail the gate too
        print(f"   The gate cannot pass: {exc}")
        return 1
    print("   Within budget: `stack up` would go ahead.")

    print(
        "\nNext, with a GCP project, credentials and the Pulumi CLI:\n"
        f"   flowyml stack up production --max-monthly-cost {BUDGET_USD}\n"
        "   flowyml run examples/training.py --stack production\n"
        "   flowyml runs list --stack production\n"
        "   flowyml stack destroy production"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
