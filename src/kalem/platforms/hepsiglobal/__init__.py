"""The HepsiGlobal Marketplace API face (seed 002, PLATFORMS.md §3)."""
