"""Webhooks: outbox, worker, subscriptions, payload dialects."""
