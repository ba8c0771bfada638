"""The bottom layer: the model, diagnostics, identities, the content cache, atomic output
and worker processes; every stage above may use it, and it imports no stage."""
