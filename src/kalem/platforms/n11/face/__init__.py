"""The n11 face: its routes, views and answers."""
