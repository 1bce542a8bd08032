"""matrix.yaml: the loader, its schema and checks, and the plan of cells it gives."""
