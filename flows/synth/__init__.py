"""The synthetic practice generator (`therapy-audit generate`): a tool for tests, demos and the
benchmark, not part of the audit. Clean visits on a clock, then violations injected and labelled
with the finding each must produce."""
