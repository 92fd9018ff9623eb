"""The package version, in one place (read by the build and by every module that prints it)."""

__version__ = "0.1.0"
