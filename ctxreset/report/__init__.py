"""From results files to a verdict and a report: merge, verdict, report, diff, flakes."""
