"""The Akinon Omnitron face, after Akinon Omnitron's API reference."""
