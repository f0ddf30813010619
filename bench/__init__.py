"""PressFlow's benchmark suite: ``python -m bench`` (``make bench``) prints one table and writes the JSON."""
