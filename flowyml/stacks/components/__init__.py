"""Stack components: resources, Docker settings, executors, stores, orchestrators, registries."""

from flowyml.stacks.components.artifact_stores import (
    ArtifactStore,
    AzureBlobStore,
    GCSArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
)
from flowyml.stacks.components.docker import DockerConfig
from flowyml.stacks.components.executors import (
    DockerExecutor,
    Executor,
    KubernetesExecutor,
    LocalExecutor,
    RemoteExecutor,
    VertexAIExecutor,
)
from flowyml.stacks.components.metadata_stores import (
    CloudSQLMetadataStore,
    MetadataStore,
    MySQLMetadataStore,
    PostgreSQLMetadataStore,
    SQLiteMetadataStore,
)
from flowyml.stacks.components.orchestrators import (
    AirflowOrchestrator,
    KubeflowOrchestrator,
    NoOrchestrator,
    Orchestrator,
    VertexAIOrchestrator,
)
from flowyml.stacks.components.registries import (
    ContainerRegistry,
    DockerHubRegistry,
    ECRContainerRegistry,
    GCRContainerRegistry,
)
from flowyml.stacks.components.resources import ResourceConfig

__all__ = [
    "AirflowOrchestrator",
    "ArtifactStore",
    "AzureBlobStore",
    "CloudSQLMetadataStore",
    "ContainerRegistry",
    "DockerConfig",
    "DockerExecutor",
    "DockerHubRegistry",
    "ECRContainerRegistry",
    "Executor",
    "GCRContainerRegistry",
    "GCSArtifactStore",
    "KubeflowOrchestrator",
    "KubernetesExecutor",
    "LocalArtifactStore",
    "LocalExecutor",
    "MetadataStore",
    "MySQLMetadataStore",
    "NoOrchestrator",
    "Orchestrator",
    "PostgreSQLMetadataStore",
    "RemoteExecutor",
    "ResourceConfig",
    "S3ArtifactStore",
    "SQLiteMetadataStore",
    "VertexAIExecutor",
    "VertexAIOrchestrator",
]
