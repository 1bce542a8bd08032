"""Running one cell: loops, error capture, the recorder, the checker, the watchdog, the runner."""
