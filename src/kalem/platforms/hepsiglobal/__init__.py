"""The HepsiGlobal Marketplace API face, after the HepsiGlobal Marketplace API documentation."""
