"""The working-day calendar: chinesecalendar plus the override table stored in the database."""
