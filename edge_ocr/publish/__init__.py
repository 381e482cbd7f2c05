"""MQTT store-and-forward: outbox payloads, the publisher, topics, Home Assistant discovery."""
