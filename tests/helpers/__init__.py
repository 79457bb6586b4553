"""Test helpers, in one place, imported one way: `from tests.helpers.X import ...`."""
