"""Readers that turn weights shipped in other runtimes' formats into named numpy arrays (conversion time only)."""
