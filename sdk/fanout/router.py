"""The asset router: which NATS server serves an asset (reference section 9.5).

``GET <ASSET_ROUTER_URL>/asset/<asset_uuid>`` answers
``{"asset_id": ..., "cluster_name": ..., "nats_url": "nats://host:4222"}``. ``HttpAssetRouter``
asks it over HTTP; the in-memory backend has its own router, and both read the answer with
``nats_url_from_answer``, so a bad answer fails the same way in tests and in production.
"""

from __future__ import annotations

import json
import urllib.parse
from abc import ABC, abstractmethod
from typing import Any, Final

from openfactory.errors import ConfigurationError, OFAConfigurationException, TransportError

ROUTER_ENV: Final = "ASSET_ROUTER_URL"


class AssetRouterError(TransportError, ValueError):
    """The asset router answered, but not with a NATS server for the asset: an HTTP error
    (``status_code``), or an answer without ``nats_url``. A ``ValueError`` too, as the
    platform library raises one for a missing ``nats_url``."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


def check_router_url(url: object) -> str:
    """``url`` without a trailing ``/`` if it is an ``http(s)://host[:port][/path]`` URL, else
    ``ConfigurationError`` naming ``ASSET_ROUTER_URL``."""
    if isinstance(url, str):
        parsed = urllib.parse.urlsplit(url.strip())
        if parsed.scheme in ("http", "https") and parsed.netloc:
            return url.strip().rstrip("/")
    raise ConfigurationError(
        f"asset_router_url / {ROUTER_ENV} must be an http(s) URL such as "
        f"'http://asset-router:8000', got {url!r}"
    )


def nats_url_from_answer(asset_uuid: str, router_url: str, status: int, body: bytes) -> str:
    """The ``nats_url`` of the router's answer ``(status, body)`` about ``asset_uuid``.

    Raises ``AssetRouterError`` for an HTTP error status, a body that is not a JSON object,
    or an answer without a non-empty ``nats_url``.
    """
    where = f"the asset router at {router_url!r} ({ROUTER_ENV})"
    if status >= 400:
        text = body[:200].decode("utf-8", errors="replace")
        raise AssetRouterError(
            f"{where} answered HTTP {status} for asset {asset_uuid!r}: {text}", status
        )
    try:
        answer: Any = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise AssetRouterError(
            f"{where} answered {body[:200]!r} for asset {asset_uuid!r}, not a JSON object "
            '{"asset_id", "cluster_name", "nats_url"}',
            status,
        )
    nats_url = answer.get("nats_url")
    if not isinstance(nats_url, str) or not nats_url.strip():
        raise AssetRouterError(
            f"{where} named no NATS server for asset {asset_uuid!r}: its answer {answer!r} "
            "has no 'nats_url'",
            status,
        )
    return nats_url.strip()


def router_unreachable(
    router_url: str, asset_uuid: str, reason: object
) -> OFAConfigurationException:
    """The error for a router that cannot be reached: names ``ASSET_ROUTER_URL`` and the way out."""
    return OFAConfigurationException(
        f"cannot reach the asset router at {router_url!r} ({ROUTER_ENV}) to find the NATS "
        f"server of asset {asset_uuid!r}: {reason}. Check {ROUTER_ENV} (or asset_router_url=), "
        "or unset it to read Kafka directly"
    )


class AssetRouter(ABC):
    """Names the NATS server that serves an asset."""

    #: The router's base URL (what ``ASSET_ROUTER_URL`` holds).
    url: str

    @abstractmethod
    def nats_url(self, asset_uuid: str) -> str:
        """The URL of the NATS server serving ``asset_uuid``.

        Raises ``OFAConfigurationException`` when the router cannot be reached and
        ``AssetRouterError`` when it answers without a server.
        """


class HttpAssetRouter(AssetRouter):
    """The platform's asset router, asked over HTTP with a bounded wait (``timeout`` s)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        """Raises ``ConfigurationError`` for a URL that is not ``http(s)://...``."""
        self.url = check_router_url(url)
        self.timeout = timeout

    def nats_url(self, asset_uuid: str) -> str:
        """``GET <url>/asset/<asset_uuid>``'s ``nats_url`` (see ``AssetRouter.nats_url``)."""
        # Loaded on first use: most processes importing the SDK never ask a router.
        import urllib.error
        import urllib.request

        address = f"{self.url}/asset/{urllib.parse.quote(asset_uuid, safe='')}"
        request = urllib.request.Request(address, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise router_unreachable(self.url, asset_uuid, getattr(err, "reason", err)) from err
        return nats_url_from_answer(asset_uuid, self.url, status, body)

    def __repr__(self) -> str:
        return f"HttpAssetRouter({self.url!r})"


def get_nats_cluster_url(asset_uuid: str, asset_router_url: str) -> str:
    """The platform library's helper: the NATS server of ``asset_uuid`` per the router at
    ``asset_router_url`` (errors as ``HttpAssetRouter.nats_url``)."""
    return HttpAssetRouter(asset_router_url).nats_url(asset_uuid)
