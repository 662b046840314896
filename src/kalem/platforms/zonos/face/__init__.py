"""The zonos face: its routes, views and answers."""
