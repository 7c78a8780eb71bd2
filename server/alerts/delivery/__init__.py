"""Delivery of alerts to channels: webhook, Slack, Discord, Telegram."""
