"""aenn: the Keras API for autoencoders, on a deterministic C core."""
__version__ = "0.1.0"
