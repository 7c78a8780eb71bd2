"""Monitoring: structured logs, system status, health scores, start-up checks, metrics.

Domain code only: nothing here knows of gRPC (servicers live in ``server.rpc``).
"""
