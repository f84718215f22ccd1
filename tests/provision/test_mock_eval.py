"""evaluate_program runs real Pulumi programs under Pulumi's own mocks (the engine cannot exist here)."""

from __future__ import annotations

import pytest

from flowyml.provision import ProgramError, build_urn, evaluate_program

pytest.importorskip("pulumi", reason="the pulumi SDK is not installed")


def _program() -> None:
    import pulumi
    import pulumi_random as random
    from pulumi_gcp import storage

    password = random.RandomPassword("db-password", length=24, special=False)
    group = pulumi.ComponentResource("flowyml:test:Group", "group")
    bucket = storage.Bucket(
        "artifacts",
        location="US",
        uniform_bucket_level_access=True,
        labels={"token": pulumi.Output.secret("s3cr3t")},
        opts=pulumi.ResourceOptions(parent=group),
    )
    pulumi.export("artifact_uri", bucket.url)
    pulumi.export("password", password.result)
    pulumi.export("configured", pulumi.Config().get("region"))
    pulumi.log.warn("just so you know")


def test_resources_urns_inputs_and_parents() -> None:
    ev = evaluate_program(_program, project="proj", stack="dev", config={"region": "eu"})
    # Registration order depends on the SDK's RPC threads, so compare as a set.
    assert {r.type for r in ev.resources} == {
        "random:index/randomPassword:RandomPassword",
        "flowyml:test:Group",
        "gcp:storage/bucket:Bucket",
    }
    bucket = ev.get("artifacts")
    group = ev.get("group")
    # Parented by a component: the component's type prefixes the URN; the root stack never does.
    assert (
        bucket.urn
        == "urn:pulumi:dev::proj::flowyml:test:Group$gcp:storage/bucket:Bucket::artifacts"
    )
    assert group.urn == "urn:pulumi:dev::proj::flowyml:test:Group::group"
    assert bucket.parent == group.urn
    assert group.parent is None
    assert group.custom is False and bucket.custom is True
    # camelCase, as the engine sees them; integral numbers stay integers.
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert ev.get("db-password").inputs["length"] == 24
    assert bucket.secret_inputs == ("labels",)
    assert bucket.masked_inputs()["labels"] == "[secret]"
    assert ev.diagnostics == ("warning: just so you know",)


def test_outputs_and_secret_flags() -> None:
    ev = evaluate_program(_program, project="proj", stack="dev", config={"region": "eu"})
    assert ev.outputs["artifact_uri"] == "gs://artifacts"
    assert ev.outputs["configured"] == "eu"
    # RandomPassword.result is an additional secret output: the engine (here: our monitor) marks it.
    assert "password" in ev.secret_outputs
    assert ev.masked_outputs()["password"] == "[secret]"
    assert "artifact_uri" not in ev.secret_outputs


def test_repeatable_in_one_process_without_leaks() -> None:
    first = evaluate_program(_program, project="proj", stack="a", config={"region": "x"})
    second = evaluate_program(_program, project="other", stack="b")
    assert len(first.resources) == len(second.resources) == 3
    assert all(r.urn.startswith("urn:pulumi:b::other::") for r in second.resources)
    # Config from the first run must not leak into the second.
    assert second.outputs.get("configured") is None


def test_program_failure_is_a_program_error() -> None:
    def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(ProgramError, match="boom"):
        evaluate_program(broken, project="p", stack="s")
    # And the runtime still works afterwards.
    assert evaluate_program(_program, project="p", stack="s").resources


def test_custom_mocks_are_used() -> None:
    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):  # type: ignore[no-untyped-def]
            return "fixed-id", {**args.inputs, "url": "gs://custom"}

        def call(self, args):  # type: ignore[no-untyped-def]
            return {}, None

    ev = evaluate_program(_program, project="p", stack="s", mocks=Mocks())
    assert ev.outputs["artifact_uri"] == "gs://custom"
    assert ev.get("artifacts").id == "fixed-id"


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        (None, "urn:pulumi:s::p::t:m:T::n"),
        ("urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "urn:pulumi:s::p::t:m:T::n"),
        ("urn:pulumi:s::p::a:b:C$d:e:F::x", "urn:pulumi:s::p::a:b:C$d:e:F$t:m:T::n"),
    ],
)
def test_build_urn(parent: str | None, expected: str) -> None:
    assert build_urn("s", "p", "t:m:T", "n", parent) == expected
