"""Billing's writes, by topic: entitlements, usage, pricing, subscriptions, emails, reconcile."""
