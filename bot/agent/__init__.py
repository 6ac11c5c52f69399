"""The agent: the streaming tool loop, the events it yields, the Messages-API conversion, context and
summaries, the tool box, the model client, the fallback responder, the circuit breaker and pricing."""
