"""The n11 REST face, after n11's REST API documentation: shipment packages, split by quantity, approve."""
