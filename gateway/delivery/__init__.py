"""Delivery: the destination port, the durable outbox, its worker, retry, breaker and receipts.

- `port`: what an adapter implements (`Destination`), what a push returns;
- `destinations`: the registry of configured destinations (adapters loaded by dotted path);
- `outbox`: every statement on bulletins, deliveries and attempts; `receipt_store` on
  receipts, `breaker_store` on the breakers' shared state;
- `retry` (pure), `breaker` (pure transitions), `ratelimit`;
- `worker`: the loop that claims, sends and records; `results`: what a batch of send results
  does to its deliveries (attempts, states, retries, breaker); `receipts`: verification and settling;
- `jobs`: the job it registers with the scheduler (overdue receipts).
"""
