"""The HepsiGlobal Marketplace API face (seed 002, PLATFORMS.md §3)."""

from kalem.dialects.hepsiglobal.routes import face
from kalem.dialects.hepsiglobal.views import hook_payloads

__all__ = ["face", "hook_payloads"]
