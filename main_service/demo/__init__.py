"""Demo and load data: ``flask --app main_service seed-demo [--invoices N]`` (SPEC §4) and ``make bench``'s seeding.

A tool, not domain: :mod:`.company` builds the demo company through
``shared.services``; :mod:`.bulk` is the one bulk writer of invoices.
"""

from main_service.demo.bulk import BulkResult, add_clients, bulk_invoices
from main_service.demo.company import seed_demo

__all__ = ["BulkResult", "add_clients", "bulk_invoices", "seed_demo"]
