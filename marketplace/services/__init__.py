"""Marketplace writes: templates (studio, publishing, rendering), reviews, the sellers ledger."""
