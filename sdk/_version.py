"""Version and licensing facts published as the app's ``Library.*`` attributes."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "openfactory-app-sdk"
OPENFACTORY_MANUFACTURER = "OpenFactoryIO"
OPENFACTORY_LICENSE = "BSD-3-Clause license"

try:
    __version__: str = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
