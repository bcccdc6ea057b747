"""Framework-free domain rules: grids, suggestions and their traces (standard library only)."""
