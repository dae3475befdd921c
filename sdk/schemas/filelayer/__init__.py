"""Storage backend configs under the platform library's module paths (``openfactory.storage``)."""
