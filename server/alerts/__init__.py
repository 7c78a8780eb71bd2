"""Alerts: rules over the server's own events, stored, pushed to watchers, acknowledged by a
user, and delivered to channels (webhook, Slack, Discord, Telegram)."""
