"""Bulk reads and writes of programs, members, the event log, the ledger, badges,
leaderboards, rewards, referrals, the facet index,
reference requests, the webhook outbox and API keys: one repository per aggregate.

Every method runs on the caller's connection, inside the caller's transaction; statements
are batched per chunk of events (executemany / multi-row VALUES), never one per event.
Each aggregate has its own module (programs, members, the event log, the ledger, ...), with
the bulk plumbing they share in _base; a UnitOfWork (store.unit_of_work) gives them all on
one connection.
"""
