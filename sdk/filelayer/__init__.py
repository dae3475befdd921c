"""The platform library's ``openfactory.filelayer`` (exports nothing itself: import its modules)."""

__all__: list[str] = []
