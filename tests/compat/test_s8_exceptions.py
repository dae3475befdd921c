"""Reference section 8: the platform library's exceptions are this SDK's own hierarchy.

``OFAException`` (general misuse, missing configuration), ``OFAConfigurationException`` (asset
router unreachable), ``DockerComposeException``, all from ``openfactory.exceptions`` [both];
``KSQLDBClientException`` from ``openfactory.kafka.ksql`` (section 6) [both].
"""

from __future__ import annotations

import pytest

import openfactory
import openfactory.errors
from openfactory.errors import (
    CommandError,
    ConfigurationError,
    DeliveryError,
    KSQLDBArgumentError,
    KSQLDBError,
    OpenFactoryError,
    TransportError,
)
from openfactory.exceptions import DockerComposeException, OFAConfigurationException, OFAException
from openfactory.kafka import AssetProducer, KSQLDBClient
from openfactory.kafka.ksql import KSQLDBClientException
from openfactory.testing.memory import FakeKSQLDB


def test_the_three_names_are_exceptions_constructed_from_a_message() -> None:
    for kind in (OFAException, OFAConfigurationException, DockerComposeException):
        error = kind("something is wrong")
        assert isinstance(error, Exception)
        assert str(error) == "something is wrong"
        with pytest.raises(kind, match="something is wrong"):
            raise error


def test_ofa_exception_is_the_sdk_base_error() -> None:
    assert OFAException is OpenFactoryError
    for ours in (ConfigurationError, CommandError, TransportError, DeliveryError, KSQLDBError):
        assert issubclass(ours, OFAException)


def test_ofa_configuration_exception_is_a_configuration_error() -> None:
    assert issubclass(OFAConfigurationException, ConfigurationError)
    assert issubclass(OFAConfigurationException, OFAException)
    assert issubclass(DockerComposeException, OFAException)


def test_except_ofa_exception_catches_missing_configuration() -> None:
    # No KAFKA_BROKER and no bootstrap_servers: what upstream reports with OFAException.
    with pytest.raises(OFAException, match="KAFKA_BROKER"):
        AssetProducer(KSQLDBClient("http://127.0.0.1:1", max_retries=0))


def test_except_ofa_exception_catches_misuse() -> None:
    with pytest.raises(OFAException, match="ksqldb_url"):
        KSQLDBClient("localhost:8088")


def test_ksqldb_client_exception_is_the_ksqldb_error() -> None:
    assert KSQLDBClientException is KSQLDBError
    assert issubclass(KSQLDBArgumentError, KSQLDBClientException)
    assert issubclass(KSQLDBArgumentError, ConfigurationError)
    error = KSQLDBClientException("Stream details not found")
    assert error.message == "Stream details not found"


def test_the_fake_ksqldb_raises_ksqldb_client_exception_too() -> None:
    with pytest.raises(KSQLDBClientException):
        FakeKSQLDB().query("SELECT * FROM no_such_table;")


def test_openfactory_errors_keeps_every_name() -> None:
    for name in ("CommandError", "ConfigurationError", "DeliveryError", "KSQLDBError",
                 "OpenFactoryError", "TransportError"):  # fmt: skip
        assert getattr(openfactory.errors, name) is getattr(openfactory, name)
    for name in ("OFAException", "OFAConfigurationException", "DockerComposeException",
                 "KSQLDBClientException", "KSQLDBArgumentError"):  # fmt: skip
        assert isinstance(getattr(openfactory.errors, name), type)
