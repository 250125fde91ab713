"""Outgoing webhooks (SPEC §15).

- ``events``: :func:`~shared.webhooks.events.emit_event`, called by the use
  cases inside their transaction, writes the event and one delivery per
  endpoint that wants it (the outbox: they commit or roll back with the change);
- ``targets``: which URLs may be called (the SSRF guard, at save and at send);
- ``delivery``: the worker's claim, signed POST and record, beside the e-mail queue.

The endpoints' use cases (create, rotate, retry, test event) are in
``shared.services.webhooks``.
"""
