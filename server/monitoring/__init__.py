"""Monitoring: metrics, and how the server watches itself."""
