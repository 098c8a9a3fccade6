"""Shared harness of the interop suite (tests/interop/run.py)."""
