"""What each fix costs: the measurement, its statistics, and the figures the report shows."""
