"""The hepsiglobal face: its routes, views and answers."""
