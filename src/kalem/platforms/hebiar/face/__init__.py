"""The hebiar face: its routes, views and answers."""
