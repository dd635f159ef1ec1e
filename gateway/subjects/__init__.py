"""Subjects: the one loader of a subject's snapshot (`snapshot.load_snapshots`)."""

from gateway.subjects.snapshot import Snapshot, entry_facts, load_snapshot, load_snapshots, to_record

__all__ = ["Snapshot", "entry_facts", "load_snapshot", "load_snapshots", "to_record"]
