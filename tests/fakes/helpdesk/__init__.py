"""A helpdesk's webhook receiver on 127.0.0.1: takes ``POST /hooks/escalations`` and keeps what came.

    async with FakeReceiver() as receiver:
        ... receiver.url ...; receiver.fail_next(503, times=3); receiver.deliveries

Each request is recorded (headers and raw body) in ``requests``; the ones answered 200 also in
``deliveries``. ``fail_next`` answers the next requests with an error status instead, until ``recover``.
"""

from fakes.helpdesk.receiver import FakeReceiver, Received

__all__ = ["FakeReceiver", "Received"]
