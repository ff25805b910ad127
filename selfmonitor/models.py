"""Models for selfmonitor: see the issue tracker; this app is built in its own issue."""
