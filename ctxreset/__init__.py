"""ctxreset: reproductions, candidate fixes and a property checker for contextvars Tokens reset
in a foreign Context. The layers, low to high, and which may import which: ARCHITECTURE.md."""
