"""Operating the database: backup and restore."""
