"""The event bus on aio-pika: topology, transactional outbox + relay, inbox-backed consumers."""
