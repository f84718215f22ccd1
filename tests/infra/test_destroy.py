"""The destroy story: what a destroy does to data, and refusal before a half-done destroy."""

from __future__ import annotations

import pytest

from flowyml.infra.destroy import DestroyBlockedError, check_destroyable, destroy_story
from flowyml.stacks.k8s import KubernetesStack

from .builders import aws_stack, gcp_stack


def test_protected_production_database_refuses_destroy_up_front() -> None:
    with pytest.raises(DestroyBlockedError, match="deletion protection") as info:
        check_destroyable(gcp_stack())
    assert "deletion_protection: false" in str(info.value) and "To fix:" in str(info.value)


def test_unprotected_gcp_stack_says_the_metadata_goes_with_the_instance() -> None:
    story = check_destroyable(gcp_stack(database={"deletion_protection": False}))
    assert any("Cloud SQL instance with the metadata database" in line for line in story.deleted)
    assert any("gs://my-artifacts" in w.resource for w in story.warnings)


def test_aws_destroy_keeps_a_final_snapshot_even_without_protection() -> None:
    story = check_destroyable(aws_stack(database={"deletion_protection": False}))
    assert any("final snapshot aws-prod-metadata-final-" in line for line in story.kept)
    assert all(line.startswith(("deletes:", "keeps:", "check:")) for line in story.lines())


def test_force_destroy_bucket_is_reported_as_deleted_with_its_objects() -> None:
    story = destroy_story(
        aws_stack(bucket={"force_destroy": True}, database=None, ecr={"force_delete": True})
    )
    assert story.warnings == () and story.blockers == ()
    assert any("every object" in line for line in story.deleted)


def test_kubernetes_story_names_the_claim() -> None:
    story = destroy_story(KubernetesStack(name="k"))
    assert "volume claim" in story.deleted[0]
