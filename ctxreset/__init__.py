"""Machinery shared by the reproductions: targets, loops, error capture, the checker, cells."""
