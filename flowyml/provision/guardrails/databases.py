"""Guardrails for managed databases: deletion protection, backups, encryption, exposure.

Protection and backups are errors on a production stack (a dropped or unrecoverable metadata
database loses every recorded run and its lineage) and information elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

from flowyml.core.plan import ResourceChange
from flowyml.provision.guardrails.model import Hit, PlanView, Rule, Severity, after

CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
RDS = "aws:rds/instance:Instance"
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})


def _label(change: ResourceChange) -> str:
    inputs = after(change)
    return str(inputs.get("name") or inputs.get("identifier") or change.name)


def _unprotected(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if change.type == CLOUD_SQL:
        missing = []
        # The provider's own flag defaults to true; only an explicit false turns it off.
        if inputs.get("deletionProtection") is False:
            missing.append("deletionProtection is false (Pulumi may delete it)")
        if (inputs.get("settings") or {}).get("deletionProtectionEnabled") is not True:
            missing.append(
                "settings.deletionProtectionEnabled is not set (the API, console "
                "and gcloud may delete it)"
            )
        if missing:
            yield Hit(f"Cloud SQL instance {_label(change)}: {'; '.join(missing)}")
    elif inputs.get("deletionProtection") is not True:
        yield Hit(f"RDS instance {_label(change)} has no deletion protection")


def _no_backups(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if change.type == CLOUD_SQL:
        backups = (inputs.get("settings") or {}).get("backupConfiguration") or {}
        if backups.get("enabled") is not True:
            yield Hit(f"Cloud SQL instance {_label(change)} takes no automated backups")
        return
    if inputs.get("backupRetentionPeriod") == 0:
        yield Hit(f"RDS instance {_label(change)} keeps no automated backups (retention 0 days)")
    if inputs.get("skipFinalSnapshot") is True:
        yield Hit(
            f"RDS instance {_label(change)} takes no final snapshot when deleted",
            fix="set skipFinalSnapshot: false and a finalSnapshotIdentifier",
        )


def _unencrypted(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    if after(change).get("storageEncrypted") is not True:
        yield Hit(f"RDS instance {_label(change)} stores its data unencrypted (storageEncrypted)")


def _exposed(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if change.type == RDS:
        if inputs.get("publiclyAccessible") is True:
            yield Hit(f"RDS instance {_label(change)} is publicly accessible")
        return
    ip = (inputs.get("settings") or {}).get("ipConfiguration") or {}
    networks = ip.get("authorizedNetworks") or []
    open_to = sorted({str(n.get("value")) for n in networks if n.get("value") in OPEN_CIDRS})
    if ip.get("ipv4Enabled") is not False and open_to:
        yield Hit(
            f"Cloud SQL instance {_label(change)} accepts connections from {', '.join(open_to)}"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "database-deletion-protection",
        Severity.INFO,
        frozenset({CLOUD_SQL, RDS}),
        "a database that can be deleted by one command (on a production stack: an error)",
        "set `database: {deletion_protection: true}` on the stack",
        _unprotected,
        production_severity=Severity.ERROR,
    ),
    Rule(
        "database-backups",
        Severity.INFO,
        frozenset({CLOUD_SQL, RDS}),
        "a database with no automated backups (on a production stack: an error)",
        "turn automated backups on (Cloud SQL backupConfiguration.enabled, RDS "
        "backupRetentionPeriod of 7 days or more)",
        _no_backups,
        production_severity=Severity.ERROR,
    ),
    Rule(
        "database-unencrypted",
        Severity.WARNING,
        frozenset({RDS}),
        "an RDS instance whose storage is not encrypted",
        "set storageEncrypted: true (it forces a new instance: migrate the data first)",
        _unencrypted,
        production_severity=Severity.ERROR,
    ),
    Rule(
        "database-public",
        Severity.ERROR,
        frozenset({CLOUD_SQL, RDS}),
        "a database reachable from the whole internet",
        "connect through the Cloud SQL connector / a private subnet; drop 0.0.0.0/0 from the "
        "authorized networks and set publiclyAccessible: false",
        _exposed,
    ),
)
