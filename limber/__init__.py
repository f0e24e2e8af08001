"""Limber: gentle hamstring stretches for people with sciatica, guided, logged and checked."""

__version__ = "0.1.0"
