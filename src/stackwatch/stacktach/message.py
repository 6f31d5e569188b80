"""What the AMQP consumer hands to the notification pipeline, and the sink contract.

Pure: stdlib only. The consumer (pika) turns each delivery into an `AmqpMessage` and calls a
`NotificationSink` with a batch; the sink returns only after the batch is durably stored (then the
consumer acknowledges, ack-multiple up to the batch's last delivery tag) and raises to refuse it (no
acknowledgement: the broker redelivers). Bad bodies are not refusals: the sink keeps them raw in a
dead-letter table and returns normally, so the queue never blocks. The sink is called on a thread of the
consumer's own (one batch at a time), while the consumer thread goes on receiving the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class AmqpMessage:
    body: bytes
    message_id: str | None     # AMQP property message_id, else None (the decoder looks inside the body)
    exchange: str
    routing_key: str
    received_at: float         # epoch seconds
    deployment: str            # the config's deployment (region or cell) it was consumed from
    redelivered: bool = False


NotificationSink = Callable[[list[AmqpMessage]], None]
