"""Checker profiles (JSON) for `protoverify audit --checker NAME`; installed as protoverify.checkers."""
