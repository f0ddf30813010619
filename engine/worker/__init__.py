"""The background worker's passes: timers, reminders and escalations, heartbeats."""
