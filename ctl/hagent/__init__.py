"""hagentctl: control plane for the hagent memory-tiering kernel module."""

__version__ = "0.1.0"
