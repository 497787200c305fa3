"""WhatsApp Cloud API, without Rasa or Sanic: parsing webhooks, building and sending messages,
the 24-hour window, the inbox and the outbox."""
