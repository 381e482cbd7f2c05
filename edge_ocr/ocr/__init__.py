"""Text detection and recognition: framework-free stages around one small runtime interface."""
