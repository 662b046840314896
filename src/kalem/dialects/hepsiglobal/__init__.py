"""The HepsiGlobal Marketplace API face (seed 002, PLATFORMS.md §3)."""

from kalem.dialects.hepsiglobal.routes import face
from kalem.dialects.hepsiglobal.views import HOOK_SCHEMAS, hook_payloads

__all__ = ["HOOK_SCHEMAS", "face", "hook_payloads"]
