"""The assistant resource: configuration of an AI assistant that phones patients."""
