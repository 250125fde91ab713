"""One resource per file; the route table is in ``api_service.routes``."""
