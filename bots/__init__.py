"""Runnable processes (gateway, worker, dev) and their wiring."""
