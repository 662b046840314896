"""The Zonos face (seed 004, PLATFORMS.md §5): GraphQL `orderItemUpdate` and friends at `/graphql`."""

from kalem.dialects.zonos.hooks import renderer as hook_renderer
from kalem.dialects.zonos.routes import face
from kalem.dialects.zonos.views import HOOK_SCHEMAS, hook_payloads

__all__ = ["HOOK_SCHEMAS", "face", "hook_payloads", "hook_renderer"]
