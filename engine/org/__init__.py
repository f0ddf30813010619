"""The organisation (units, users, role grants) and who may see and do what."""
