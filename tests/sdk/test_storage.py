"""Storage backends from ``STORAGE``: confined to their root, errors that name the field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openfactory.errors import ConfigurationError
from openfactory.storage import (
    LocalBackend,
    NFSBackend,
    StoragePathError,
    storage_from_config,
    storage_from_env,
)


def local(tmp_path: Path) -> LocalBackend:
    backend = storage_from_config(
        {"type": "local", "local_path": "/srv/data", "mount_point": str(tmp_path / "mnt")}
    )
    assert isinstance(backend, LocalBackend)
    return backend


def test_unset_storage_is_none() -> None:
    assert storage_from_env({}) is None
    assert storage_from_env({"STORAGE": "  "}) is None


def test_local_backend_reads_and_writes_under_its_mount_point(tmp_path: Path) -> None:
    backend = local(tmp_path)
    backend.write_text("a/b.txt", "hello")
    backend.write_bytes("c.bin", b"\x00\x01")
    assert (tmp_path / "mnt" / "a" / "b.txt").read_text() == "hello"
    assert backend.read_text("a/b.txt") == "hello"
    assert backend.read_bytes("c.bin") == b"\x00\x01"
    assert backend.listdir() == ["a", "c.bin"]
    assert backend.exists("a/b.txt") and not backend.exists("nope")
    backend.delete("a/b.txt")
    backend.delete("a")
    assert backend.listdir() == ["c.bin"]
    assert backend.mount_spec() == {
        "type": "bind",
        "source": "/srv/data",
        "target": str(tmp_path / "mnt"),
    }
    with pytest.raises(StoragePathError, match="root"):
        backend.delete(".")


def test_nfs_backend_and_mount_spec(tmp_path: Path) -> None:
    env = {
        "STORAGE": json.dumps(
            {
                "type": "nfs",
                "server": "10.0.0.5",
                "remote_path": "/exports/ofa",
                "mount_point": str(tmp_path / "nfs"),
                "mount_options": ["rw", "nfsvers=4"],
            }
        )
    }
    backend = storage_from_env(env)
    assert isinstance(backend, NFSBackend)
    assert backend.mount_spec()["driver_opts"] == {
        "type": "nfs",
        "o": "addr=10.0.0.5,rw,nfsvers=4",
        "device": ":/exports/ofa",
    }
    backend.write_text("x", "1")
    assert (tmp_path / "nfs" / "x").read_text() == "1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"local_path": "/a"}', "field 'type' must be 'local' or 'nfs', got None"),
        ('{"type": "s3"}', "got 's3'"),
        (
            '{"type": "local", "local_path": "/a"}',
            "field 'mount_point' is required for type 'local'",
        ),
        ('{"type": "nfs", "server": "s", "mount_point": "/m"}', "field 'remote_path' is required"),
        ('{"type": "local", "local_path": 5, "mount_point": "/m"}', "field 'local_path'"),
        (
            '{"type": "local", "local_path": "/a", "mount_point": "/m", "x": 1}',
            "field 'x' is not allowed",
        ),
    ],
)
def test_bad_storage_values_name_the_field(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match="STORAGE") as error:
        storage_from_env({"STORAGE": value})
    assert message in str(error.value)


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside", "a/../../outside", "a\0b"])
def test_paths_cannot_leave_the_root(tmp_path: Path, path: str) -> None:
    with pytest.raises(StoragePathError):
        local(tmp_path).path(path)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    backend = local(tmp_path)
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", backend.root / "link")
    with pytest.raises(StoragePathError, match="leaves"):
        backend.read_text("link")


@given(
    path=st.lists(
        st.sampled_from(["a", "b", ".", "..", "/", "\\", "\0", "é", "~"]), max_size=12
    ).map("".join)
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
def test_any_path_resolves_inside_the_root_or_is_refused(tmp_path: Path, path: str) -> None:
    backend = local(tmp_path)
    try:
        resolved = backend.path(path)
    except StoragePathError:
        return
    assert resolved.is_relative_to(backend.root)
