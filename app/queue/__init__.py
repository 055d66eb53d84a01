"""The moderation queue's storage: the database layer (`store`) and API keys (`keys`)."""
