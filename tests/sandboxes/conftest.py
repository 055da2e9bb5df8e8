"""Session fixtures of the sandbox tests: a Docker daemon and the docker backend's image.

Nothing here imports the ``docker`` SDK until a docker test asks for it, so the local-backend tests
run where it is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import docker


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A running Docker daemon, started for the session where none runs (skip/fail where it cannot)."""
    pytest.importorskip("docker", reason="the docker SDK is not installed (pip install 'rlvr-gym[docker]')")
    from tests.sandboxes import docker_support

    yield from docker_support.daemon()


@pytest.fixture(scope="session")
def sandbox_image(docker_client: docker.DockerClient) -> str:
    """The default sandbox image, built once and then found in Docker's image store."""
    from tests.sandboxes import docker_support

    return docker_support.sandbox_image(docker_client)
