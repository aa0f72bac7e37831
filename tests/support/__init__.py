"""Helpers for testing against real backing services."""
