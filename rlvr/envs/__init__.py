"""Task families. No env imports an agent or a runner; everything they share is in ``rlvr.core``."""
