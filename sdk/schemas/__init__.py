"""Pydantic schemas under the platform library's module paths."""
