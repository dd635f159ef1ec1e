"""Watchlists for banks and insurers (贷后监控): a finance or insurance partner registers the
subjects it holds exposure to and is told whenever what its sector may see of one changes.

- `view`: what a sector sees of a stored standing (the same functions as the credit answer),
  and what changed between two such views (pure);
- `repository`: the SQL of watchlists, their subjects and their change feed;
- `step`: the change-feed consumer's watch step: it runs after the policy step, in the same
  transaction, and writes one change row per (watchlist, subject, standing version) with
  insert-or-ignore, so a change is planned once and never missed across a crash;
- `dispatch`: numbers new change rows for polling and turns them into signed `watch`
  bulletins through the outbox (at once, or as a daily digest), to the watchlist's
  destination, with receipts and retries like any delivery;
- `service`: the use cases behind `/v1/watchlists` and `gateway watchlists`.
"""
