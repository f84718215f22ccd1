"""What ``stack destroy`` does to a stack's data, and what would stop it halfway.

``destroy_story(stack)`` reads the declaration only (no state, no cloud call) and says, per
data-bearing resource, what is deleted, what is kept, and what the provider will refuse. A
destroy either completes or is refused up front: :func:`check_destroyable` raises on any blocker,
so the CLI can refuse before the engine deletes the first resource.

What the programs arrange so a destroy completes:
- GCP: the Cloud SQL database and user are ``deletion_policy: ABANDON``: they go with the
  instance in one step (a PostgreSQL user that owns the tables cannot be dropped on its own);
- AWS: the RDS instance always leaves a final snapshot (kept and billed until you delete it);
- buckets and repositories are deleted only when empty unless ``force_destroy`` /
  ``force_delete`` is declared: with objects in them, the provider refuses that one resource
  after the others are gone, so a non-empty store is reported as a blocker to check first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowyml.infra.errors import InfraError

__all__ = ["DestroyBlockedError", "DestroyStory", "check_destroyable", "destroy_story"]


class DestroyBlockedError(InfraError):
    """The provider would refuse part of the destroy: refused before anything is deleted."""


@dataclass(frozen=True)
class Blocker:
    """Something the provider will refuse during destroy, with the fix."""

    resource: str
    reason: str
    fix: str


@dataclass(frozen=True)
class DestroyStory:
    """What a destroy of one stack does to its data.

    Attributes:
        deleted: Data deleted with the stack, one line each.
        kept: Data that survives the destroy (snapshots, stores not emptied), one line each.
        blockers: What the provider will refuse; a destroy must not start while any remain.
        warnings: Conditions that refuse only when true at destroy time (a non-empty bucket).
    """

    deleted: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    warnings: tuple[Blocker, ...] = field(default=())

    def lines(self) -> list[str]:
        """The story as lines for a terminal (deleted, kept, then what blocks)."""
        out = [f"deletes: {line}" for line in self.deleted]
        out += [f"keeps: {line}" for line in self.kept]
        out += [f"refused: {b.resource}: {b.reason}. To fix: {b.fix}" for b in self.blockers]
        out += [f"check: {w.resource}: {w.reason}. To fix: {w.fix}" for w in self.warnings]
        return out


def destroy_story(stack: Any) -> DestroyStory:
    """The destroy story of a GCP, AWS or Kubernetes stack declaration."""
    kind = str(getattr(stack, "stack_type", ""))
    if kind == "gcp":
        return _gcp(stack)
    if kind == "aws":
        return _aws(stack)
    if kind == "kubernetes":
        return DestroyStory(
            deleted=(
                f"the volume claim in namespace {stack.namespace} (artifacts and the SQLite "
                "metadata on it; whether the volume itself goes follows the storage class's "
                "reclaimPolicy)",
            ),
        )
    return DestroyStory()


def check_destroyable(stack: Any) -> DestroyStory:
    """The story, after refusing when the provider would stop the destroy halfway.

    Raises:
        DestroyBlockedError: At least one blocker; the message names each one.
    """
    story = destroy_story(stack)
    if story.blockers:
        first = story.blockers[0]
        more = f" (and {len(story.blockers) - 1} more)" if len(story.blockers) > 1 else ""
        raise DestroyBlockedError(
            f"stack {stack.name!r} cannot be destroyed: {first.resource}: {first.reason}{more}",
            hint="; ".join(b.fix for b in story.blockers),
        )
    return story


def _gcp(stack: Any) -> DestroyStory:
    deleted: list[str] = []
    kept: list[str] = []
    blockers: list[Blocker] = []
    warnings: list[Blocker] = []
    spec = stack.bucket
    if spec.force_destroy:
        deleted.append(f"bucket gs://{stack.bucket_name} with every artifact in it")
    else:
        warnings.append(
            Blocker(
                f"bucket gs://{stack.bucket_name}",
                "deleted only if empty (force_destroy is false): with artifacts in it GCS "
                "refuses, after the other resources are gone",
                f"empty it first (`gcloud storage rm -r gs://{stack.bucket_name}/**`) or "
                "declare bucket.force_destroy: true and run `flowyml stack up` before destroying",
            )
        )
    if stack.database is not None:
        if stack.database.deletion_protection:
            blockers.append(
                Blocker(
                    "Cloud SQL instance (metadata)",
                    "deletion protection is on, so Cloud SQL refuses to delete it",
                    "declare database.deletion_protection: false, run `flowyml stack up "
                    f"{stack.name}`, then destroy",
                )
            )
        deleted.append(
            "the Cloud SQL instance with the metadata database, its user and its automated "
            "backups (Cloud SQL deletes backups with the instance: export first with "
            "`gcloud sql export sql` to keep the run history)"
        )
    if getattr(stack, "registry_uri", None) is None:
        deleted.append("the Artifact Registry repository and every image in it")
    if stack.cluster is not None and getattr(stack.cluster, "deletion_protection", False):
        blockers.append(
            Blocker(
                "GKE cluster",
                "deletion protection is on",
                "turn it off, run `flowyml stack up`, then destroy",
            )
        )
    return DestroyStory(tuple(deleted), tuple(kept), tuple(blockers), tuple(warnings))


def _aws(stack: Any) -> DestroyStory:
    from flowyml.infra.common import resource_prefix

    deleted: list[str] = []
    kept: list[str] = []
    blockers: list[Blocker] = []
    warnings: list[Blocker] = []
    if stack.bucket.force_destroy:
        deleted.append(f"bucket s3://{stack.s3_bucket} with every object (and version) in it")
    else:
        warnings.append(
            Blocker(
                f"bucket s3://{stack.s3_bucket}",
                "deleted only if empty, old versions included (force_destroy is false)",
                f"empty it first (`aws s3 rm s3://{stack.s3_bucket} --recursive` and its "
                "versions) or declare bucket.force_destroy: true and run `flowyml stack up`",
            )
        )
    if stack.database is not None:
        if stack.database.deletion_protection:
            blockers.append(
                Blocker(
                    "RDS instance (metadata)",
                    "deletion protection is on, so RDS refuses to delete it",
                    "declare database.deletion_protection: false, run `flowyml stack up "
                    f"{stack.name}`, then destroy (a final snapshot is still taken)",
                )
            )
        deleted.append("the RDS instance (the metadata database) and its automated backups")
        kept.append(
            f"a final snapshot {resource_prefix(stack.name)}-metadata-final-<suffix> of the "
            "metadata database (billed as snapshot storage until you delete it; restore with "
            "`aws rds restore-db-instance-from-db-snapshot`)"
        )
    if not getattr(stack, "ecr_registry", None):
        if stack.ecr.force_delete:
            deleted.append("the ECR repository and every image in it")
        else:
            warnings.append(
                Blocker(
                    "ECR repository",
                    "deleted only if it holds no image (force_delete is false)",
                    "delete the images first or declare ecr.force_delete: true and run "
                    "`flowyml stack up`",
                )
            )
    else:
        kept.append(f"the declared registry {stack.ecr_registry} (not managed by the stack)")
    return DestroyStory(tuple(deleted), tuple(kept), tuple(blockers), tuple(warnings))
