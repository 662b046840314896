"""The n11 REST face (seed 001, PLATFORMS.md §2): shipment packages, split by quantity, approve."""
