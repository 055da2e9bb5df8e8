"""Shared fixtures; tests never touch the network."""
