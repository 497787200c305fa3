"""Rasa NLU graph components: thin adapters from Rasa's pipeline to the `posta` core."""
