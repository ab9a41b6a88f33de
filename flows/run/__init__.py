"""One audit run: the settings and the run context (profiles and reference tables loaded once),
which mode runs it (modes), the stage functions both modes call (stages), the direct runner, the
Prefect flow, the rules stage and the run record (run.json)."""
