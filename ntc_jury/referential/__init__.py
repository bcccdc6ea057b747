"""The referential as data: load a YAML RE into the database, export it back as JSON."""
