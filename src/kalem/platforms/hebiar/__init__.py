"""The Hebiar / CommerceLab OMS face, after Hebiar OMS's API documentation."""
