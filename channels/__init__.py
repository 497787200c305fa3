"""Adapters that run inside the Rasa server: input channels and the tracker store."""
