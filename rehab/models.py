"""Models for rehab: see the issue tracker; this app is built in its own issue."""
