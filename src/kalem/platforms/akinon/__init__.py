"""The Akinon Omnitron face (seed 003, PLATFORMS.md §4)."""
