"""kalem's domain: pure Python, no I/O, no framework, no clock."""
