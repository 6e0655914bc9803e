"""Marketplace pages: the catalogue and template pages, the seller studio and dashboard, reviews."""
