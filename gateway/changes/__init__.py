"""The change feed (变更队列): the one durable path from a change to everything that follows.

Intake, list transitions, withdrawals, a profile switch and the daily sweep insert a
subject-change row in the same transaction as the change (`feed.enqueue`); the consumer
(`consumer.Consumer`) claims rows, decides each subject once from its snapshot, writes the
decisions, list proposals, the stored standing and the publication items, and deletes the
row, all in one transaction. No in-process callbacks: a change that committed is in the feed.
"""
