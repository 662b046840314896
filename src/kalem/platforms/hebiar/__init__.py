"""The Hebiar / CommerceLab OMS face (seed 000, PLATFORMS.md §1)."""
