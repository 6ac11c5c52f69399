"""Hand-off to a helpdesk: escalations sent on, besides the leads' channel, to where the team works.

- ``config``: the ``[handoff]`` table of ``config/bot.toml`` and the secrets it names in the environment;
- ``signing``: the HMAC-SHA256 signature of a webhook body, outgoing and inbound;
- ``payload``: what an escalation is sent as (thread link, asker, summary, masked and bounded transcript);
- ``targets``: the signed outgoing webhook and Zendesk ticket creation (Support API);
- ``outbox``: ``Helpdesk``, which keeps each escalation in the store's outbox until a target took it, retried
  with back-off, delivered by ``supportbot serve`` one instance at a time;
- ``inbound``: the signed webhook a helpdesk calls when a ticket is solved, which resolves the escalation.
"""
