"""The rule families: one module each, discovered by checks/registry.py. A module whose name starts
with `_` is a helper, not a family. Each rule is a pure function from the matched lines
(checks/base.AuditData) to the rows of checks/declare.RULE_OUTPUT_SCHEMA."""
