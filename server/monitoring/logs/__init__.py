"""The server's structured log: every ``logging`` record becomes a stored, streamed entry.

- :mod:`.entry` — what an entry is (level, category, connection, message, stack, context);
- :mod:`.scrub` — secrets never reach a record, whatever the logger;
- :mod:`.about` — how a module says which connection and category a record concerns;
- :mod:`.capture` — the logging handler: records to entries, bounded, never blocking;
- :mod:`.store` — entries in storage (batched writes, filters, pages, retention);
- :mod:`.journal` — the service: flushing, listing, streaming, client entries;
- :mod:`.console` — stdout, human-readable or one JSON object per line.
"""
