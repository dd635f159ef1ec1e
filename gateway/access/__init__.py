"""Access: who may ask what, what they see, and the record of it (docs/architecture.md "Trust", "Answer").

One question per module:

- `keys`: partners and credentials (API keys stored as SHA-256, client certificates),
  scopes per sector, issue / rotate / revoke, verification;
- `authn`: the connexion security functions (Bearer, X-API-Key, X-Client-Cert from a
  trusted proxy), which also authorise and rate-limit;
- `authz`: which scopes an operation needs (`x-scopes` in the spec) and agency binding;
- `ratelimit`: token buckets per partner;
- `audit`: the append-only hash chain (append, verify, prune, query);
- `recorder`: the middleware that records every authenticated request, group-committed;
- `credit`: what a sector sees of a subject's stored standing;
- `eligibility`: bidder checks and the signed report;
- `settings`: the capability's settings; `testing`: keys for tests.

`jobs` registers audit retention with the scheduler; `gateway.app` adds the audit middleware.
"""
