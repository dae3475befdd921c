"""Reference section 7 (storage): ``STORAGE`` in both shapes, the backend configs under
``openfactory.schemas.filelayer`` and the ``FileBackend`` API under ``openfactory.filelayer``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

import openfactory.filelayer
from openfactory.apps import OpenFactoryApp
from openfactory.errors import ConfigurationError
from openfactory.filelayer.backend import FileBackend
from openfactory.filelayer.local_backend import LocalBackend
from openfactory.filelayer.nfs_backend import NFSBackend
from openfactory.kafka import KSQLDBClient
from openfactory.schemas.filelayer.base_backend import BaseBackendConfig
from openfactory.schemas.filelayer.local_backend import LocalBackendConfig
from openfactory.schemas.filelayer.nfs_backend import NFSBackendConfig
from openfactory.schemas.filelayer.storage import StorageBackendSchema
from openfactory.schemas.filelayer.types import StorageBackend

NEVER_CREATED = "/ofa-refused-storage-mount-point"


class Keeper(OpenFactoryApp):
    def main_loop(self) -> None:
        pass


def build_app(monkeypatch: pytest.MonkeyPatch, storage: Any) -> Keeper:
    if storage is not None:
        monkeypatch.setenv("STORAGE", storage if isinstance(storage, str) else json.dumps(storage))
    return Keeper(KSQLDBClient("http://localhost:1"), test_mode=True)


def local(mount_point: Path, local_path: str = "/nfs/not-on-this-machine") -> dict[str, str]:
    return {"type": "local", "local_path": local_path, "mount_point": str(mount_point)}


def nfs(mount_point: Path, **extra: object) -> dict[str, object]:
    return {
        "type": "nfs",
        "server": "nfs.factory.lan",
        "remote_path": "/exports/ofa/data",
        "mount_point": str(mount_point),
        **extra,
    }


# --- STORAGE and self.storage -------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_empty_storage_is_none(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    assert build_app(monkeypatch, value).storage is None


def test_one_backend_0_5_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = build_app(monkeypatch, local(tmp_path / "mnt"))
    assert isinstance(app.storage, LocalBackend) and isinstance(app.storage, FileBackend)
    # root is the mount point the container sees, not the host's local_path (section 11, item 2)
    assert app.storage.root == (tmp_path / "mnt").resolve()
    with app.storage.open("reports/today.txt", "w") as file:
        file.write("ok")
    assert (tmp_path / "mnt" / "reports" / "today.txt").read_text() == "ok"


def test_named_backends_0_6_6(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    storage = {"data": local(tmp_path / "data"), "models": nfs(tmp_path / "models")}
    app = build_app(monkeypatch, storage)
    assert isinstance(app.storage, dict) and list(app.storage) == ["data", "models"]
    assert isinstance(app.storage["data"], LocalBackend)
    models = app.storage.get("models")
    assert isinstance(models, NFSBackend) and models.root == (tmp_path / "models").resolve()
    assert app.storage.get("config") is None
    with app.storage["data"].open("a.bin", "wb") as file:
        file.write(b"\x01")
    assert (tmp_path / "data" / "a.bin").read_bytes() == b"\x01"


def test_a_backend_named_type_is_a_named_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = build_app(monkeypatch, {"type": local(tmp_path / "t")})
    assert isinstance(app.storage, dict) and isinstance(app.storage["type"], LocalBackend)


def test_an_empty_object_is_no_named_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_app(monkeypatch, "{}").storage == {}


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("{not json", r"^STORAGE: not valid JSON"),
        ('{"type": "s3", "mount_point": "/m"}', r"^STORAGE: field 'type' is 's3'; allowed"),
        ({"type": "local", "local_path": "/a"}, r"^STORAGE: field 'mount_point' is required"),
        (
            {"data": {"type": "s3"}},
            r"^STORAGE: backend 'data': field 'type' is 's3'; allowed: 'local', 'nfs'",
        ),
        (
            {"data": {"type": "local", "local_path": "rel", "mount_point": "/m"}},
            r"^STORAGE: backend 'data': field 'local_path' .*absolute",
        ),
        ({"data": "local"}, r"^STORAGE: field 'type' is required; .* for named backends, map"),
        (
            {"data": local(Path(NEVER_CREATED)), "extra": "x"},
            r"^STORAGE: backend 'extra' must be a JSON object",
        ),
    ],
)
def test_bad_storage_fails_the_app_construction(
    monkeypatch: pytest.MonkeyPatch, storage: Any, expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=expected) as error:
        build_app(monkeypatch, storage)
    assert isinstance(error.value, ValueError)
    assert not Path(NEVER_CREATED).exists()  # nothing is created for a refused STORAGE


def test_local_path_is_not_checked_in_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    app = build_app(monkeypatch, local(tmp_path / "m", local_path="/does/not/exist/here"))
    assert isinstance(app.storage, LocalBackend)
    assert not Path("/does/not/exist/here").exists()


# --- configs (openfactory.schemas.filelayer) ---------------------------------------------


def test_local_backend_config(tmp_path: Path) -> None:
    config = LocalBackendConfig(
        type="local", local_path=" /nfs/data/ ", mount_point=" /mnt/a/./b ", description="d"
    )
    assert isinstance(config, BaseBackendConfig)
    assert (config.local_path, config.mount_point, config.description) == (
        "/nfs/data",
        "/mnt/a/b",
        "d",
    )
    assert LocalBackendConfig(type="local", local_path="/x", mount_point="/y").description is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mount_point", "relative/path"),
        ("mount_point", "/mnt/../etc"),
        ("mount_point", "/mnt/with space"),
        ("mount_point", "/" + "a" * 255),
        ("local_path", "relative"),
        ("unknown", "x"),
    ],
)
def test_local_backend_config_refusals(field: str, value: str) -> None:
    data = {"type": "local", "local_path": "/h", "mount_point": "/m", field: value}
    with pytest.raises(ValidationError) as error:
        LocalBackendConfig(**data)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("server", ["nfs.factory.lan", "10.0.0.5", "[fd00::5]", "fd00::5", "nas"])
def test_nfs_servers_accepted(server: str) -> None:
    config = NFSBackendConfig(type="nfs", server=server, remote_path="/r", mount_point="/m")
    assert config.server == server and config.mount_options is None


@pytest.mark.parametrize("server", ["a b", "-bad", "x/y", "[not-ipv6]", ""])
def test_nfs_servers_refused(server: str) -> None:
    with pytest.raises(ValidationError, match="server"):
        NFSBackendConfig(type="nfs", server=server, remote_path="/r", mount_point="/m")


def test_nfs_mount_options_are_stripped_and_empties_dropped() -> None:
    config = NFSBackendConfig(
        type="nfs", server="s", remote_path="/r", mount_point="/m", mount_options=[" rw ", "", " "]
    )
    assert config.mount_options == ["rw"]


def test_storage_backend_schema_and_union(tmp_path: Path) -> None:
    schema = StorageBackendSchema(storage=local(tmp_path / "m"))
    assert isinstance(schema.storage, LocalBackendConfig)
    backend = schema.storage.create_backend_instance()
    assert isinstance(backend, LocalBackend) and backend.config == schema.storage
    nfs_backend = StorageBackendSchema(storage=nfs(tmp_path / "n")).storage
    assert isinstance(nfs_backend.create_backend_instance(), NFSBackend)
    union: TypeAdapter[LocalBackendConfig | NFSBackendConfig] = TypeAdapter(StorageBackend)
    assert isinstance(union.validate_python(nfs(tmp_path / "n")), NFSBackendConfig)
    with pytest.raises(ValidationError):
        StorageBackendSchema(storage={"type": "s3", "mount_point": "/m"})  # type: ignore[arg-type]


# --- FileBackend (openfactory.filelayer) -------------------------------------------------


def test_the_filelayer_package_exports_nothing() -> None:
    assert openfactory.filelayer.__all__ == []


def test_file_backend_is_abstract_with_a_config() -> None:
    with pytest.raises(NotImplementedError):
        FileBackend.from_config({"type": "local"})

    class Elsewhere(FileBackend):
        """An upstream-style backend: keeps its files somewhere else."""

        def __init__(self, config: dict[str, str]) -> None:
            super().__init__(config)

        def get_mount_spec(self) -> None:
            return None

    backend = Elsewhere({"bucket": "b"})
    assert backend.config == {"bucket": "b"} and backend.get_mount_spec() is None
    assert backend.compatible_with_swarm() is True
    with pytest.raises(NotImplementedError, match="without a root directory"):
        backend.exists("x")


def test_local_backend_api(tmp_path: Path) -> None:
    storage = LocalBackend.from_config(local(tmp_path / "mnt", local_path="/nfs/data"))
    assert isinstance(storage, LocalBackend)
    assert storage.get_mount_spec() == {
        "Type": "bind",
        "Source": "/nfs/data",
        "Target": str(tmp_path / "mnt"),
        "ReadOnly": False,
    }
    assert storage.compatible_with_swarm() is False
    for mode in ("w", "a", "x"):
        with storage.open(f"{mode}/deep/file.txt", mode) as file:
            file.write(mode)
    with storage.open("w/deep/file.txt") as file:
        assert file.read() == "w"
    with storage.open("w/deep/file.txt", "rb") as file:
        assert file.read() == b"w"
    assert storage.exists("w/deep/file.txt") and storage.exists("w/deep")
    assert not storage.exists("nope")
    assert storage.listdir(".") == ["a", "w", "x"]
    storage.delete("x/deep/file.txt")
    assert storage.listdir("x/deep") == []
    with pytest.raises(FileNotFoundError):
        storage.delete("x/deep/file.txt")
    with pytest.raises(FileNotFoundError):
        storage.listdir("missing")
    with pytest.raises(FileNotFoundError):
        storage.listdir("w/deep/file.txt")


def test_absolute_paths_inside_the_root_are_accepted(tmp_path: Path) -> None:
    storage = LocalBackend.from_config(local(tmp_path / "mnt"))
    with storage.open(str(storage.root / "a.txt"), "w") as file:
        file.write("in")
    assert storage.exists(str(storage.root / "a.txt")) and storage.exists("a.txt")
    assert storage.listdir(str(storage.root)) == ["a.txt"]
    storage.delete(str(storage.root / "a.txt"))
    assert storage.listdir() == []


@pytest.mark.parametrize("path", ["/etc/passwd", "{parent}/secret.txt"])
def test_absolute_paths_outside_the_root_are_refused(tmp_path: Path, path: str) -> None:
    storage = LocalBackend.from_config(local(tmp_path / "mnt"))
    outside = path.format(parent=tmp_path)
    with pytest.raises(ValueError, match=f"^Path {outside} is outside backend root {storage.root}"):
        storage.open(outside, "w")
    assert not (tmp_path / "secret.txt").exists()


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../escape.txt", "/{root}/../escape.txt"])
def test_no_path_leaves_the_root(tmp_path: Path, path: str) -> None:
    storage = LocalBackend.from_config(local(tmp_path / "mnt"))
    with pytest.raises(ValueError, match=str(storage.root)):
        storage.open(path.format(root=str(storage.root).lstrip("/")), "w")
    assert not (tmp_path / "escape.txt").exists()


def test_nfs_backend_without_options(tmp_path: Path) -> None:
    storage = NFSBackend.from_config(nfs(tmp_path / "n"))
    assert storage.root == (tmp_path / "n").resolve()
    assert storage.compatible_with_swarm() is True
    assert storage.make_volume_name() == "nfs_nfs_factory_lan_exports_ofa_data"
    assert storage.get_mount_spec() == {
        "Type": "volume",
        "Source": "nfs_nfs_factory_lan_exports_ofa_data",
        "Target": str(tmp_path / "n"),
        "VolumeOptions": {
            "DriverConfig": {
                "Name": "local",
                "Options": {
                    "type": "nfs",
                    "o": "addr=nfs.factory.lan,nfsvers=4",
                    "device": ":/exports/ofa/data",
                },
            }
        },
    }


@pytest.mark.parametrize(
    ("options", "o"),
    [
        (["rw", "soft"], "addr=10.1.2.3,rw,soft,nfsvers=4"),
        (["soft", "nfsvers=3", "rw"], "addr=10.1.2.3,soft,nfsvers=3,rw"),
    ],
)
def test_nfs_backend_with_options(tmp_path: Path, options: list[str], o: str) -> None:
    storage = NFSBackend(nfs(tmp_path / "n", server="10.1.2.3", mount_options=options))
    digest = hashlib.sha1(",".join(sorted(options)).encode()).hexdigest()[:8]
    name = f"nfs_10_1_2_3_exports_ofa_data_{digest}"
    assert storage.make_volume_name() == name
    spec = storage.get_mount_spec()
    assert spec["Source"] == name
    assert spec["VolumeOptions"]["DriverConfig"]["Options"]["o"] == o
