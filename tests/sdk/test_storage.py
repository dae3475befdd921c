"""Storage backends from ``STORAGE``: confined to their root, errors that name the field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfactory.errors import ConfigurationError
from openfactory.storage import (
    FileBackend,
    LocalBackend,
    LocalStorageConfig,
    NFSBackend,
    NFSStorageConfig,
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


def nfs_config(mount_point: Path, **extra: object) -> dict[str, object]:
    return {
        "type": "nfs",
        "server": "10.0.0.5",
        "remote_path": "/exports/ofa",
        "mount_point": str(mount_point),
        **extra,
    }


# --- building backends ------------------------------------------------------------------


def test_unset_or_empty_storage_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert storage_from_env({}) is None
    assert storage_from_env({"STORAGE": "  "}) is None
    assert storage_from_env() is None  # os.environ, cleared by conftest
    monkeypatch.setenv(
        "STORAGE", json.dumps({"type": "local", "local_path": "/a", "mount_point": "/tmp"})
    )
    assert isinstance(storage_from_env(), LocalBackend)


def test_local_backend_creates_and_works_under_its_mount_point(tmp_path: Path) -> None:
    backend = local(tmp_path)
    assert backend.root == (tmp_path / "mnt").resolve() and backend.root.is_dir()
    backend.write_text("a/b.txt", "héllo")
    backend.write_bytes("c.bin", b"\x00\x01")
    assert (tmp_path / "mnt" / "a" / "b.txt").read_text(encoding="utf-8") == "héllo"
    assert backend.read_text("a/b.txt") == "héllo"
    assert backend.read_bytes(Path("c.bin")) == b"\x00\x01"
    assert backend.listdir() == ["a", "c.bin"]
    assert backend.listdir("a") == ["b.txt"]
    assert backend.exists("a/b.txt") and not backend.exists("nope")
    assert backend.get_mount_spec() == {
        "Type": "bind",
        "Source": "/srv/data",
        "Target": str(tmp_path / "mnt"),
        "ReadOnly": False,
    }
    assert "LocalBackend" in repr(backend)


def test_open_creates_parents_for_writing_and_defaults_to_utf8(tmp_path: Path) -> None:
    backend = local(tmp_path)
    with backend.open("logs/day/1.log", "a") as file:
        file.write("ü\n")
    with backend.open("logs/day/1.log") as file:
        assert file.read() == "ü\n"
    with pytest.raises(FileNotFoundError):
        backend.open("missing/file.txt")
    assert not backend.exists("missing")


def test_makedirs_and_delete(tmp_path: Path) -> None:
    backend = local(tmp_path)
    assert backend.makedirs("x/y") == backend.root / "x" / "y"
    backend.makedirs("x/y")
    with pytest.raises(FileExistsError):
        backend.makedirs("x/y", exist_ok=False)
    backend.write_text("x/y/f", "1")
    with pytest.raises(OSError):
        backend.delete("x")  # not empty
    backend.delete("x/y/f")
    backend.delete("x/y")
    backend.write_text("x/z/f", "1")
    backend.delete("x", recursive=True)
    assert backend.listdir() == []
    with pytest.raises(FileNotFoundError):
        backend.delete("x")
    for root in (".", "a/..", "./"):
        with pytest.raises(StoragePathError, match="refusing to delete the storage root"):
            backend.delete(root)


def test_deleting_a_symlink_removes_the_link_not_its_target(tmp_path: Path) -> None:
    backend = local(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    (backend.root / "out").symlink_to(outside)
    backend.write_text("real", "r")
    (backend.root / "in").symlink_to(backend.root / "real")
    backend.delete("out")
    backend.delete("in")
    assert (outside / "keep").read_text() == "k"
    assert backend.listdir() == ["real"]


def test_nfs_backend_and_mount_spec(tmp_path: Path) -> None:
    env = {"STORAGE": json.dumps(nfs_config(tmp_path / "nfs", mount_options=["rw", "nfsvers=4"]))}
    backend = storage_from_env(env)
    assert isinstance(backend, NFSBackend)
    options = {"type": "nfs", "o": "addr=10.0.0.5,rw,nfsvers=4", "device": ":/exports/ofa"}
    assert backend.driver_options() == options
    assert backend.get_mount_spec() == {
        "Type": "volume",
        "Source": backend.make_volume_name(),
        "Target": str(tmp_path / "nfs"),
        "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": options}},
    }
    backend.write_text("x", "1")
    assert (tmp_path / "nfs" / "x").read_text() == "1"


def test_nfs_defaults_and_ipv6_server(tmp_path: Path) -> None:
    backend = NFSBackend(nfs_config(tmp_path / "n", server="fd00::5"))
    assert backend.config.mount_options is None
    assert backend.driver_options()["o"] == "addr=fd00::5,nfsvers=4"


def test_backends_accept_models_and_mappings(tmp_path: Path) -> None:
    model = LocalStorageConfig(type="local", local_path="/h", mount_point=str(tmp_path / "m"))
    assert isinstance(storage_from_config(model), LocalBackend)
    assert LocalBackend({"local_path": "/h", "mount_point": str(tmp_path / "m")}).config == model
    nfs = NFSStorageConfig.model_validate(nfs_config(tmp_path / "n"))
    assert isinstance(storage_from_config(nfs), NFSBackend)
    with pytest.raises(ConfigurationError, match="field 'type' is 'nfs' but LocalBackend"):
        LocalBackend(nfs_config(tmp_path / "n"))
    with pytest.raises(TypeError, match="LocalBackendConfig or a mapping, got int"):
        LocalBackend(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FileBackend(tmp_path)  # type: ignore[abstract]


def test_unusable_mount_point_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    config = {"type": "local", "local_path": "/h", "mount_point": str(tmp_path / "file" / "m")}
    with pytest.raises(ConfigurationError, match=r"field 'mount_point' is '.*file/m'"):
        storage_from_config(config)


# --- configuration errors ---------------------------------------------------------------

LOCAL = '"type": "local", "local_path": "/a"'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "STORAGE: not valid JSON (Expecting property name"),
        ("[]", "expected a JSON object such as"),
        ('{"local_path": "/a"}', "field 'type' is required; allowed: 'local', 'nfs'"),
        ('{"type": "s3"}', "field 'type' is 's3'; allowed: 'local', 'nfs'"),
        ('{"type": 3}', "field 'type' is 3; allowed"),
        (f"{{{LOCAL}}}", "STORAGE: field 'mount_point' is required for type 'local'"),
        (
            '{"type": "nfs", "server": "s", "mount_point": "/m"}',
            "field 'remote_path' is required for type 'nfs'",
        ),
        (
            '{"type": "local", "local_path": 5, "mount_point": "/m"}',
            "field 'local_path' must be a string for type 'local', got int",
        ),
        (
            f'{{{LOCAL}, "mount_point": "m"}}',
            "field 'mount_point' for type 'local': must be an absolute path, got 'm'",
        ),
        (
            f'{{{LOCAL}, "mount_point": "/m", "x": 1}}',
            "field 'x' is not allowed for type 'local'; allowed fields:",
        ),
        (
            '{"type": "nfs", "server": "a b", "remote_path": "/r", "mount_point": "/m"}',
            "field 'server' for type 'nfs': must be a host name or IP address",
        ),
        (
            '{"type": "nfs", "server": "s", "remote_path": "/r", "mount_point": "/m", '
            '"mount_options": "rw"}',
            "field 'mount_options' must be a list of strings for type 'nfs', got str",
        ),
        (
            '{"type": "nfs", "server": "s", "remote_path": "/r", "mount_point": "/m", '
            '"mount_options": ["rw", 4]}',
            "field 'mount_options' (item 1) must be a string for type 'nfs', got int",
        ),
        (
            '{"type": "nfs", "server": "s", "remote_path": "/r", "mount_point": "/m", '
            '"mount_options": ["addr=1.2.3.4"]}',
            "'addr=1.2.3.4' is not allowed: the address comes from 'server'",
        ),
    ],
)
def test_bad_storage_values_name_the_field(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        storage_from_env({"STORAGE": value})
    text = str(error.value)
    assert text.startswith("STORAGE: ")
    assert message in text
    assert "\n" not in text and "validation error" not in text  # never a pydantic dump


def test_storage_from_config_names_its_source() -> None:
    with pytest.raises(ConfigurationError, match=r"^storage config: field 'mount_point'"):
        storage_from_config({"type": "local", "local_path": "/a"})
    with pytest.raises(ConfigurationError, match="got list"):
        storage_from_config([])  # type: ignore[arg-type]


# --- path confinement -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "^Path /etc/passwd is outside backend root "),
        ("../outside", "leaves the storage root .* through '\\.\\.'"),
        ("a/../../outside", "through '\\.\\.'"),
        ("a\0b", "contains a NUL byte"),
        ("", "is empty; use '.'"),
        ("bad\ud800name", "cannot be encoded"),
    ],
)
def test_paths_cannot_leave_the_root(tmp_path: Path, path: str, message: str) -> None:
    backend = local(tmp_path)
    with pytest.raises(StoragePathError, match=message) as error:
        backend.path(path)
    assert str(backend.root) in str(error.value)


def test_paths_that_stay_inside_are_resolved(tmp_path: Path) -> None:
    backend = local(tmp_path)
    assert backend.path(".") == backend.root
    assert backend.path("a/../b") == backend.root / "b"
    assert backend.path(Path("x") / "y") == backend.root / "x" / "y"
    with pytest.raises(TypeError, match="got int"):
        backend.path(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got bytes"):
        backend.path(b"x")  # type: ignore[arg-type]


def test_symlinks_out_of_the_root_are_refused(tmp_path: Path) -> None:
    backend = local(tmp_path)
    (tmp_path / "secret").write_text("s")
    (backend.root / "link").symlink_to(tmp_path / "secret")
    (backend.root / "dir").symlink_to(tmp_path)
    (backend.root / "loop").symlink_to("loop")
    with pytest.raises(StoragePathError, match=r"'link' leaves the storage root .* symlink"):
        backend.read_text("link")
    with pytest.raises(StoragePathError, match="symlink"):
        backend.write_text("dir/secret", "overwritten")
    with pytest.raises(StoragePathError, match=r"'loop/x' cannot be resolved .*[Ss]ymlink loop"):
        backend.path("loop/x")
    assert (tmp_path / "secret").read_text() == "s"


@pytest.fixture(scope="module")
def booby_trapped(tmp_path_factory: pytest.TempPathFactory) -> LocalBackend:
    """A backend whose root holds symlinks out of it, into it, in a loop and dangling."""
    base = tmp_path_factory.mktemp("trap")
    (base / "outside").mkdir()
    (base / "outside" / "f").write_text("x")
    backend = LocalBackend({"local_path": "/h", "mount_point": str(base / "root")})
    root = backend.root
    (root / "sub" / "deep").mkdir(parents=True)
    links = {
        "out": base / "outside",
        "out_file": base / "outside" / "f",
        "up": Path(".."),
        "sub/upup": Path("../.."),
        "in": root / "sub",
        "in_rel": Path("sub/deep"),
        "loop": Path("loop"),
        "dangling_out": Path("/nonexistent-ofa/x"),
        "dangling_in": Path("sub/missing"),
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    return backend


SEGMENTS = st.one_of(
    st.sampled_from(
        [
            *("..", ".", "", "sub", "deep", "out", "out_file", "up", "upup", "in", "in_rel"),
            *("loop", "dangling_out", "dangling_in", "~", "é", "\u202e", "\0", "\\", "a\0b"),
            "\udcff",
        ]
    ),
    st.text(max_size=8),
)
ANY_PATH = st.one_of(
    st.lists(SEGMENTS, max_size=8).map("/".join),
    st.lists(SEGMENTS, min_size=1, max_size=8).map(lambda parts: "/" + "/".join(parts)),
    st.text(),
)


@given(path=ANY_PATH)
def test_any_path_resolves_inside_the_root_or_is_refused(
    booby_trapped: LocalBackend, path: str
) -> None:
    root = booby_trapped.root
    try:
        resolved = booby_trapped.path(path)
    except StoragePathError:
        return
    assert "\0" not in path
    assert not path.startswith("/") or Path(path).is_relative_to(root)
    assert resolved.is_relative_to(root)
    assert Path(os.path.realpath(resolved)) == resolved  # no symlink left to follow out


NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1
).filter(lambda name: name not in (".", ".."))


@given(parts=st.lists(NAME, min_size=1, max_size=5))
def test_plain_relative_paths_are_never_refused(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    backend = LocalBackend(
        {"local_path": "/h", "mount_point": str(tmp_path_factory.getbasetemp() / "plain")}
    )
    assert backend.path("/".join(parts)) == backend.root.joinpath(*parts)


# --- absolute paths and named backends --------------------------------------------------


def test_absolute_paths_through_the_configured_mount_point(tmp_path: Path) -> None:
    """A mount point that is a symlink: paths under its configured spelling are inside."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    backend = LocalBackend({"local_path": "/h", "mount_point": str(tmp_path / "link")})
    assert backend.root == tmp_path / "real"
    backend.write_text(str(tmp_path / "link" / "a.txt"), "via link")
    backend.write_text(str(tmp_path / "real" / "b.txt"), "via root")
    assert backend.listdir() == ["a.txt", "b.txt"]
    assert backend.path(str(tmp_path / "link")) == backend.root
    with pytest.raises(StoragePathError, match="refusing to delete the storage root"):
        backend.delete(str(tmp_path / "link"))
    with pytest.raises(StoragePathError, match=r"leaves the storage root .* through '\.\.'"):
        backend.path(str(tmp_path / "link" / ".." / "x"))


def test_named_storage_from_env(tmp_path: Path) -> None:
    env = {
        "STORAGE": json.dumps(
            {"data": nfs_config(tmp_path / "d"), "logs": nfs_config(tmp_path / "l")}
        )
    }
    storage = storage_from_env(env)
    assert isinstance(storage, dict) and set(storage) == {"data", "logs"}
    assert all(isinstance(backend, NFSBackend) for backend in storage.values())


def test_named_backends_are_all_validated_before_any_is_built(tmp_path: Path) -> None:
    bad = {"type": "nfs", "server": "s", "mount_point": "/m"}
    env = {"STORAGE": json.dumps({"good": nfs_config(tmp_path / "good"), "bad": bad})}
    with pytest.raises(ConfigurationError, match=r"^STORAGE: backend 'bad': field 'remote_path'"):
        storage_from_env(env)
    assert not (tmp_path / "good").exists()


def test_listdir_of_a_file_is_file_not_found(tmp_path: Path) -> None:
    backend = local(tmp_path)
    backend.write_text("f", "1")
    with pytest.raises(FileNotFoundError, match="not a directory"):
        backend.listdir("f")
