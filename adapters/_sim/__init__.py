"""Shared parts of the simulators (`gateway simulate ...`): fault injection (`faults`), the
applied-deliveries store (`store`), the verify/apply-once/receipt logic (`receiver`) and
serving (`http`). Each destination kind's simulator lives beside its adapter."""
