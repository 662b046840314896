"""The akinon face: its routes, views and answers."""
