"""Scheduled audits: the newest exports in a drop folder with the audit period of a rolling window,
and `therapy-audit serve`, the flow on a cron schedule with Prefect serve."""
