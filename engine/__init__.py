"""PressFlow engine: SpiffWorkflow runtime, persistence, calendar and the units of work.

Nothing in this package imports Flask: the web layer calls the engine, never the other way round.
"""
