"""Running processes: the SpiffWorkflow facade, the unit of work, deployment and script helpers."""
