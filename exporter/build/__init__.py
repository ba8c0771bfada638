"""The pipeline: load, validate, record changes in the lock, render stale targets, write."""
