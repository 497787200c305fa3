"""Rasa SDK actions: thin adapters that read the tracker and call the `posta` core."""
