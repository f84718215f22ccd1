"""Static facts checked without credentials: machine type shapes and region names.

Data only (no logic beyond building the tables). Shapes are vCPUs, memory in GiB and built-in
GPUs, from the providers' public machine type pages. A type missing here is not an error unless
its family is listed (then the size is unknown, which usually means a typo).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "AWS_REGIONS",
    "GCP_REGIONS",
    "MACHINE_FAMILIES",
    "MACHINE_TYPES",
    "MachineShape",
    "family_of",
]


@dataclass(frozen=True)
class MachineShape:
    """What a machine type offers.

    Attributes:
        provider: ``"gcp"`` or ``"aws"``.
        vcpus: Virtual CPUs.
        memory_gib: Memory in GiB.
        gpus: GPUs built into the type (0 when GPUs attach separately, as on GCP N1).
    """

    provider: str
    vcpus: int
    memory_gib: Decimal
    gpus: int = 0


def _family(
    provider: str, prefix: str, sizes: dict[str, tuple[int, str, int]]
) -> dict[str, MachineShape]:
    return {
        f"{prefix}{size}": MachineShape(provider, cpu, Decimal(mem), gpus)
        for size, (cpu, mem, gpus) in sizes.items()
    }


def _ratio(provider: str, prefix: str, counts: tuple[int, ...], gib_per_cpu: str):
    return {f"{prefix}{n}": MachineShape(provider, n, Decimal(gib_per_cpu) * n) for n in counts}


_N1 = (1, 2, 4, 8, 16, 32, 64, 96)
_N2 = (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)

MACHINE_TYPES: dict[str, MachineShape] = {
    # GCP
    **_ratio("gcp", "n1-standard-", _N1, "3.75"),
    **_ratio("gcp", "n1-highmem-", _N1[1:], "6.5"),
    **_ratio("gcp", "n1-highcpu-", _N1[1:], "0.9"),
    **_family("gcp", "n1-megamem-", {"96": (96, "1433.6", 0)}),
    **_family(
        "gcp",
        "n1-ultramem-",
        {"40": (40, "961", 0), "80": (80, "1922", 0), "160": (160, "3844", 0)},
    ),
    **_ratio("gcp", "e2-standard-", (2, 4, 8, 16, 32), "4"),
    **_ratio("gcp", "e2-highmem-", (2, 4, 8, 16), "8"),
    **_ratio("gcp", "e2-highcpu-", (2, 4, 8, 16, 32), "1"),
    **_family("gcp", "e2-", {"micro": (2, "1", 0), "small": (2, "2", 0), "medium": (2, "4", 0)}),
    **_ratio("gcp", "n2-standard-", _N2, "4"),
    **_ratio("gcp", "n2-highmem-", _N2, "8"),
    **_ratio("gcp", "n2-highcpu-", _N2[:-1], "1"),
    **_family(
        "gcp",
        "a2-highgpu-",
        {"1g": (12, "85", 1), "2g": (24, "170", 2), "4g": (48, "340", 4), "8g": (96, "680", 8)},
    ),
    **_family("gcp", "a2-megagpu-", {"16g": (96, "1360", 16)}),
    # AWS
    **_family(
        "aws",
        "t3.",
        {
            "nano": (2, "0.5", 0),
            "micro": (2, "1", 0),
            "small": (2, "2", 0),
            "medium": (2, "4", 0),
            "large": (2, "8", 0),
            "xlarge": (4, "16", 0),
            "2xlarge": (8, "32", 0),
        },
    ),
    **_family(
        "aws",
        "m5.",
        {
            "large": (2, "8", 0),
            "xlarge": (4, "16", 0),
            "2xlarge": (8, "32", 0),
            "4xlarge": (16, "64", 0),
            "8xlarge": (32, "128", 0),
            "12xlarge": (48, "192", 0),
            "16xlarge": (64, "256", 0),
            "24xlarge": (96, "384", 0),
        },
    ),
    **_family(
        "aws",
        "c5.",
        {
            "large": (2, "4", 0),
            "xlarge": (4, "8", 0),
            "2xlarge": (8, "16", 0),
            "4xlarge": (16, "32", 0),
            "9xlarge": (36, "72", 0),
            "12xlarge": (48, "96", 0),
            "18xlarge": (72, "144", 0),
            "24xlarge": (96, "192", 0),
        },
    ),
    **_family(
        "aws",
        "r5.",
        {
            "large": (2, "16", 0),
            "xlarge": (4, "32", 0),
            "2xlarge": (8, "64", 0),
            "4xlarge": (16, "128", 0),
            "8xlarge": (32, "256", 0),
            "12xlarge": (48, "384", 0),
            "16xlarge": (64, "512", 0),
            "24xlarge": (96, "768", 0),
        },
    ),
    **_family(
        "aws",
        "g4dn.",
        {
            "xlarge": (4, "16", 1),
            "2xlarge": (8, "32", 1),
            "4xlarge": (16, "64", 1),
            "8xlarge": (32, "128", 1),
            "12xlarge": (48, "192", 4),
            "16xlarge": (64, "256", 1),
            "metal": (96, "384", 8),
        },
    ),
    **_family(
        "aws",
        "p3.",
        {"2xlarge": (8, "61", 1), "8xlarge": (32, "244", 4), "16xlarge": (64, "488", 8)},
    ),
}

# Families whose every size is listed above: an unlisted size in one of them is a typo.
MACHINE_FAMILIES: frozenset[str] = frozenset(
    {
        "n1-standard",
        "n1-highmem",
        "n1-highcpu",
        "n1-megamem",
        "n1-ultramem",
        "e2-standard",
        "e2-highmem",
        "e2-highcpu",
        "n2-standard",
        "n2-highmem",
        "n2-highcpu",
        "a2-highgpu",
        "a2-megagpu",
        "t3",
        "m5",
        "c5",
        "r5",
        "g4dn",
        "p3",
    }
)


def family_of(machine_type: str) -> str:
    """``"n1-standard-4"`` -> ``"n1-standard"``; ``"m5.xlarge"`` -> ``"m5"``."""
    if "." in machine_type:
        return machine_type.split(".", 1)[0]
    return machine_type.rsplit("-", 1)[0]


GCP_REGIONS: frozenset[str] = frozenset(
    {
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    }
)

AWS_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-west-1",
        "us-west-2",
    }
)
