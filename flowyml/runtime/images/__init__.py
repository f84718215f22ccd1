"""Images for steps that leave the driver: planned from DockerConfig, built, tagged, pushed.

``plan_image`` works out offline which image a stack's Docker settings call for and its
content-hash tag; ``ensure_image`` finds that tag on the engine or in the registry, or builds
and pushes it. The docker SDK and cloud SDKs are imported only when used.
"""

from __future__ import annotations

from flowyml.runtime.images.build import ImageRef, ensure_image
from flowyml.runtime.images.errors import ImageError
from flowyml.runtime.images.plan import DEFAULT_BASE_IMAGE, ImagePlan, image_name, plan_image

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "ImageError",
    "ImagePlan",
    "ImageRef",
    "ensure_image",
    "image_name",
    "plan_image",
]
